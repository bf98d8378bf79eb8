"""Read and check a network data file, and turn it into immutable records.

Every problem is reported with the path of the field in the file, e.g.
``edges[12].to: unknown node "S1-K40"``; all problems found are collected into one
:class:`NetworkError`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import ValidationError

from changan.network.model import (
    LEGAL_MAX_KMH,
    Edge,
    Neighbour,
    NetworkError,
    Node,
    NodeKind,
    Road,
    Site,
    SiteKind,
    Station,
    VehicleGroup,
)
from changan.network.schema import NetworkFile

__all__ = ["NetworkParts", "parse_network"]

STATION_NODE_KINDS = frozenset({NodeKind.INTERCHANGE, NodeKind.TOLL_STATION})
_SITE_NODE_KIND = {
    SiteKind.GANTRY: NodeKind.GANTRY,
    SiteKind.TOLL_ENTRY: NodeKind.TOLL_STATION,
    SiteKind.TOLL_EXIT: NodeKind.TOLL_STATION,
}


@dataclass(frozen=True, slots=True)
class NetworkParts:
    """The checked contents of a data file, ready for :class:`changan.network.Network`."""

    name: str
    neighbours: dict[str, Neighbour]
    roads: dict[str, Road]
    nodes: dict[str, Node]
    edges: list[Edge]
    stations: dict[str, Station]
    sites: dict[str, Site]


try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _UniqueKeyLoader(_SafeLoader):
    """A safe YAML loader that rejects duplicate mapping keys instead of keeping the last."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            msg = f"line {line}: duplicate key {key!r}"
            raise NetworkError(msg)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _loc(parts: Sequence[int | str]) -> str:
    out = ""
    for part in parts:
        if part == "[key]":  # pydantic's marker for a bad dict key: the key itself is the path
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def parse_network(text: str, origin: str) -> NetworkParts:
    """Parse YAML ``text`` (read from ``origin``, used in messages) into checked records."""
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # a (C)SafeLoader subclass: safe
    except NetworkError as exc:
        msg = f"{origin}: {exc}"
        raise NetworkError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"{origin}: invalid YAML: {exc}"
        raise NetworkError(msg) from exc
    try:
        spec = NetworkFile.model_validate(raw)
    except ValidationError as exc:
        found = tuple(f"{_loc(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise _rejected(origin, found) from exc
    problems: list[str] = []
    parts = _build(spec, problems)
    if problems:
        raise _rejected(origin, tuple(problems))
    return parts


def _rejected(origin: str, problems: tuple[str, ...]) -> NetworkError:
    shown = "\n  ".join(problems[:20])
    more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
    return NetworkError(f"{origin}: invalid network file:\n  {shown}{more}", problems)


def _first_index(items: Sequence[str], section: str, problems: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, item_id in enumerate(items):
        if item_id in index:
            problems.append(
                f'{section}[{i}].id: duplicate id "{item_id}" (first at {section}[{index[item_id]}])'
            )
        else:
            index[item_id] = i
    return index


def _build(spec: NetworkFile, problems: list[str]) -> NetworkParts:
    neighbours = {
        n.name: Neighbour(n.name, n.province, n.expressway_crossing, n.source) for n in spec.neighbours
    }
    if len(neighbours) != len(spec.neighbours):
        problems.append("neighbours: duplicate prefecture name")
    road_ix = _first_index([r.id for r in spec.roads], "roads", problems)
    node_ix = _first_index([n.id for n in spec.nodes], "nodes", problems)
    _first_index([s.id for s in spec.stations], "stations", problems)
    _first_index([s.id for s in spec.sites], "sites", problems)
    node_spec = {n.id: n for n in spec.nodes}

    crossed: set[str] = set()
    for i, n in enumerate(spec.nodes):
        for j, road in enumerate(n.roads):
            if road not in road_ix:
                problems.append(f'nodes[{i}].roads[{j}]: unknown road "{road}"')
        if n.kind is NodeKind.BORDER:
            if n.neighbour is None:
                problems.append(f"nodes[{i}].neighbour: a border node must name the neighbouring prefecture")
            elif n.neighbour not in neighbours:
                problems.append(f'nodes[{i}].neighbour: "{n.neighbour}" is not listed in neighbours')
            else:
                crossed.add(n.neighbour)
        elif n.neighbour is not None:
            problems.append(f"nodes[{i}].neighbour: only border nodes have a neighbour")
    for i, nb in enumerate(spec.neighbours):
        if nb.expressway_crossing != (nb.name in crossed):
            state = "no border node names it" if nb.expressway_crossing else "a border node names it"
            problems.append(f"neighbours[{i}].expressway_crossing: {nb.expressway_crossing} but {state}")

    edges: list[Edge] = []
    road_len: dict[str, int] = dict.fromkeys(road_ix, 0)
    segments: dict[tuple[str, frozenset[str]], int] = {}
    for i, e in enumerate(spec.edges):
        ok = True
        for field, node_id in (("from", e.from_), ("to", e.to)):
            if node_id not in node_ix:
                problems.append(f'edges[{i}].{field}: unknown node "{node_id}"')
                ok = False
            elif e.road in road_ix and e.road not in node_spec[node_id].roads:
                problems.append(
                    f'edges[{i}].road: road "{e.road}" is not listed in roads of node "{node_id}"'
                )
        if e.road not in road_ix:
            problems.append(f'edges[{i}].road: unknown road "{e.road}"')
            ok = False
        if e.from_ == e.to:
            problems.append(f'edges[{i}].to: segment from "{e.from_}" to itself')
            ok = False
        key = (e.road, frozenset((e.from_, e.to)))
        if key in segments:
            problems.append(f"edges[{i}]: same segment as edges[{segments[key]}]")
            ok = False
        segments.setdefault(key, i)
        if not ok:
            continue
        road_spec = spec.roads[road_ix[e.road]]
        limits: dict[VehicleGroup, int] = {}
        for group in VehicleGroup:
            default = min(road_spec.design_speed_kmh, LEGAL_MAX_KMH[group])
            posted = (e.limits_kmh or {}).get(group, default)
            if not 5 <= posted <= default:
                problems.append(
                    f"edges[{i}].limits_kmh.{group}: {posted} km/h is outside 5..{default} "
                    f"(design speed {road_spec.design_speed_kmh}, legal maximum {LEGAL_MAX_KMH[group]})"
                )
            limits[group] = posted
        road_len[e.road] += e.length_m
        frozen_limits = MappingProxyType(limits)
        pairs = [(e.from_, e.to)] if e.one_way else [(e.from_, e.to), (e.to, e.from_)]
        for a, b in pairs:
            edges.append(Edge(a, b, e.road, e.length_m, e.lanes, frozen_limits, e.estimated, e.source))

    roads: dict[str, Road] = {}
    for i, r in enumerate(spec.roads):
        total = road_len.get(r.id, 0)
        if total == 0:
            problems.append(f'roads[{i}]: road "{r.id}" has no edges')
        elif r.length_m is not None and abs(total - r.length_m) > 1:
            problems.append(f"roads[{i}].length_m: declared {r.length_m} m but its edges add up to {total} m")
        roads.setdefault(r.id, Road(r.id, r.name, r.code, r.design_speed_kmh, total, r.estimated, r.source))

    nodes: dict[str, Node] = {}
    for n in spec.nodes:
        nodes.setdefault(
            n.id,
            Node(
                n.id, n.name, n.kind, tuple(n.roads), n.km, n.lat, n.lon, n.estimated, n.source, n.neighbour
            ),
        )

    stations: dict[str, Station] = {}
    codes: dict[str, int] = {}
    for i, s in enumerate(spec.stations):
        node = node_spec.get(s.node)
        if node is None:
            problems.append(f'stations[{i}].node: unknown node "{s.node}"')
        elif node.kind not in STATION_NODE_KINDS:
            problems.append(
                f'stations[{i}].node: "{s.node}" is a {node.kind}, not an interchange or toll station'
            )
        if s.jurisdiction in codes:
            problems.append(
                f'stations[{i}].jurisdiction: "{s.jurisdiction}" already used by stations[{codes[s.jurisdiction]}]'
            )
        codes.setdefault(s.jurisdiction, i)
        stations.setdefault(s.id, Station(s.id, s.name, s.node, s.jurisdiction, s.estimated, s.source))

    carriageway = {(e.from_node, e.to_node): e.road_id for e in edges}
    sites: dict[str, Site] = {}
    for i, t in enumerate(spec.sites):
        if t.id in node_ix:
            problems.append(f'sites[{i}].id: "{t.id}" is already a node id')
        node = node_spec.get(t.node)
        if node is None:
            problems.append(f'sites[{i}].node: unknown node "{t.node}"')
            continue
        if node.kind is not _SITE_NODE_KIND[t.kind]:
            problems.append(
                f'sites[{i}].node: a {t.kind} site needs a {_SITE_NODE_KIND[t.kind]} node, "{t.node}" is a {node.kind}'
            )
        road_id = carriageway.get((t.node, t.heading))
        if t.heading not in node_ix:
            problems.append(f'sites[{i}].heading: unknown node "{t.heading}"')
        elif road_id is None:
            problems.append(f'sites[{i}].heading: no carriageway from "{t.node}" to "{t.heading}"')
        if road_id is not None:
            sites.setdefault(
                t.id,
                Site(
                    t.id, t.name, t.node, road_id, t.heading, t.direction_label, t.kind, t.lanes, t.estimated
                ),
            )
    return NetworkParts(spec.name, neighbours, roads, nodes, edges, stations, sites)
