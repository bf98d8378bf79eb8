"""GeoJSON export of a network for the UI map.

Roads become LineStrings (one per unbranched chain of segments), nodes, stations and sites
become Points at their node. Records without coordinates get ``"geometry": null``. Every
feature carries ``layer`` (road | node | station | site), ``id``, ``name`` and ``estimated``;
positions in the default data are all estimated and the map should say so.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from changan.network.graph import Network
    from changan.network.model import Node

__all__ = ["network_geojson", "road_chains"]


def _point(node: Node) -> dict[str, Any] | None:
    if node.lat is None or node.lon is None:
        return None
    return {"type": "Point", "coordinates": [node.lon, node.lat]}


def _feature(geometry: dict[str, Any] | None, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def road_chains(network: Network, road_id: str) -> list[list[str]]:
    """The road's segments joined into chains of node ids (one chain for a simple road)."""
    links: dict[str, list[str]] = defaultdict(list)
    for edge in network.edges:
        if edge.road_id == road_id and edge.to_node not in links[edge.from_node]:
            links[edge.from_node].append(edge.to_node)
            links[edge.to_node].append(edge.from_node)
    pairs = {frozenset((a, b)) for a, bs in links.items() for b in bs}
    order = {node_id: i for i, node_id in enumerate(network.nodes)}
    ends = sorted((n for n, bs in links.items() if len(set(bs)) != 2), key=order.__getitem__)
    starts = ends or sorted(links, key=order.__getitem__)[:1]
    chains: list[list[str]] = []
    while pairs:
        start = next((n for n in starts if any(frozenset((n, b)) in pairs for b in links[n])), None)
        if start is None:
            start = min((n for pair in pairs for n in pair), key=order.__getitem__)
        chain = [start]
        while True:
            nxt = next((b for b in links[chain[-1]] if frozenset((chain[-1], b)) in pairs), None)
            if nxt is None:
                break
            pairs.discard(frozenset((chain[-1], nxt)))
            chain.append(nxt)
            if len(set(links[nxt])) > 2:
                break
        chains.append(chain)
    return chains


def network_geojson(network: Network) -> dict[str, Any]:
    """Build the FeatureCollection (coordinates are [lon, lat], WGS84)."""
    features: list[dict[str, Any]] = []
    properties: dict[str, Any]
    for road in network.roads.values():
        for chain in road_chains(network, road.id):
            coords = [[n.lon, n.lat] for n in (network.nodes[i] for i in chain) if n.lat is not None]
            geometry = {"type": "LineString", "coordinates": coords} if len(coords) >= 2 else None
            properties = {
                "layer": "road",
                "id": road.id,
                "name": road.name,
                "code": road.code,
                "design_speed_kmh": road.design_speed_kmh,
                "length_m": road.length_m,
                "nodes": chain,
                "estimated": road.estimated or any(network.nodes[i].estimated for i in chain),
                "source": road.source,
            }
            features.append(_feature(geometry, properties))
    for node in network.nodes.values():
        properties = {
            "layer": "node",
            "id": node.id,
            "name": node.name,
            "kind": str(node.kind),
            "roads": list(node.road_ids),
            "km": node.km,
            "neighbour": node.neighbour,
            "estimated": node.estimated,
            "source": node.source,
        }
        features.append(_feature(_point(node), properties))
    for station in network.stations.values():
        node = network.nodes[station.node_id]
        properties = {
            "layer": "station",
            "id": station.id,
            "name": station.name,
            "node": station.node_id,
            "jurisdiction": station.jurisdiction,
            "estimated": station.estimated or node.estimated,
            "source": station.source,
        }
        features.append(_feature(_point(node), properties))
    for site in network.sites.values():
        node = network.nodes[site.node_id]
        properties = {
            "layer": "site",
            "id": site.id,
            "name": site.name,
            "kind": str(site.kind),
            "node": site.node_id,
            "road": site.road_id,
            "heading": site.heading_node_id,
            "direction_label": site.direction_label,
            "lanes": site.lanes,
            "estimated": site.estimated or node.estimated,
        }
        features.append(_feature(_point(node), properties))
    return {"type": "FeatureCollection", "name": network.name, "features": features}
