"""The directed road graph: loading, shortest routes and what lies ahead of a camera site.

Model: every node (interchange, hub, toll station, service area, gantry, border) sits on the
road chain and both carriageways pass it; each carriageway segment is a directed edge. A camera
site is a (node, heading) pair, so it belongs to one carriageway.

Two search modes, both Dijkstra over states (node, previous node):

* *Route* (``distance_m``, ``path``): the shortest drive. Turning back onto the opposite
  carriageway is allowed only at interchanges and toll stations (leave and re-enter); never at
  gantries, hubs, service areas or borders. A border node is a dead end.
* *Ahead* (``downstream``, ``stations_downstream``, ``sites_downstream``): the vehicle keeps its
  direction of travel and never turns back; at hubs it may continue onto any other road.

Both start from a site on its own carriageway (the first edge goes to the site's heading).
Results from one start are cached, so repeated calls for the same site are dictionary look-ups.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from changan.network.geojson import network_geojson
from changan.network.loader import NetworkParts, parse_network
from changan.network.model import (
    Edge,
    Neighbour,
    NetworkError,
    Node,
    NodeKind,
    Road,
    Site,
    SiteKind,
    Station,
    StationAhead,
    VehicleGroup,
)

__all__ = ["TURN_NODE_KINDS", "Network"]

TURN_NODE_KINDS = frozenset({NodeKind.INTERCHANGE, NodeKind.TOLL_STATION})
"""Node kinds where a route may turn back onto the opposite carriageway (exit and re-enter)."""

_State = tuple[str, str | None]  # (node, node we came from); None only at the start


@dataclass(frozen=True, slots=True)
class _Reach:
    """Everything reachable from one start, with distances and predecessor links."""

    order: tuple[tuple[str, int], ...]  # (node id, distance) by distance, then id; start first
    dist: Mapping[str, int]
    best: Mapping[str, _State]
    arrivals: Mapping[str, tuple[tuple[str | None, int], ...]]  # node -> (came from, distance)
    pred: Mapping[_State, _State | None]

    def path(self, node_id: str) -> tuple[str, ...]:
        out: list[str] = []
        state: _State | None = self.best[node_id]
        while state is not None:
            out.append(state[0])
            state = self.pred[state]
        return tuple(reversed(out))


class Network:
    """A directed expressway network. Build it with :meth:`load` or :meth:`load_default`."""

    def __init__(self, parts: NetworkParts) -> None:
        self.name: str = parts.name
        self.neighbours: Mapping[str, Neighbour] = MappingProxyType(parts.neighbours)
        self.roads: Mapping[str, Road] = MappingProxyType(parts.roads)
        self.nodes: Mapping[str, Node] = MappingProxyType(parts.nodes)
        self.stations: Mapping[str, Station] = MappingProxyType(parts.stations)
        self.sites: Mapping[str, Site] = MappingProxyType(parts.sites)
        self.edges: tuple[Edge, ...] = tuple(parts.edges)
        adjacency: dict[str, list[Edge]] = {node_id: [] for node_id in parts.nodes}
        best_edge: dict[tuple[str, str], Edge] = {}
        for edge in parts.edges:
            adjacency[edge.from_node].append(edge)
            key = (edge.from_node, edge.to_node)
            if key not in best_edge or edge.length_m < best_edge[key].length_m:
                best_edge[key] = edge
        self._adjacency = {k: tuple(v) for k, v in adjacency.items()}
        self._best_edge = best_edge
        stations_at: dict[str, list[Station]] = {}
        for station in parts.stations.values():
            stations_at.setdefault(station.node_id, []).append(station)
        self._stations_at = stations_at
        sites_at: dict[str, list[Site]] = {}
        for site in parts.sites.values():
            sites_at.setdefault(site.node_id, []).append(site)
        self._sites_at = sites_at
        self._cache: dict[tuple[str, str | None, bool], _Reach] = {}

    def __repr__(self) -> str:
        return f"<Network {self.name!r}: {len(self.roads)} roads, {len(self.nodes)} nodes>"

    @classmethod
    def load(cls, path: Path) -> Network:
        """Load and check a network data file; :class:`NetworkError` names any bad field."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"{path}: cannot read network file: {exc.strerror or exc}"
            raise NetworkError(msg) from exc
        return cls(parse_network(text, str(path)))

    @classmethod
    def load_default(cls) -> Network:
        """The Liaocheng network shipped with the package (loaded once, then cached)."""
        return _default_network()

    # ----------------------------------------------------------------- look-ups
    def edges_from(self, node_id: str) -> Sequence[Edge]:
        """Directed carriageway segments leaving ``node_id``."""
        try:
            return self._adjacency[node_id]
        except KeyError:
            msg = f'unknown node "{node_id}"'
            raise NetworkError(msg) from None

    def total_length_m(self) -> int:
        """Sum of road lengths: each segment counted once, not once per carriageway."""
        return sum(road.length_m for road in self.roads.values())

    def travel_time_s(self, path: Sequence[str], group: VehicleGroup) -> float:
        """Seconds to drive along ``path`` (node ids) at ``group``'s limit on every segment."""
        total = 0.0
        for a, b in itertools.pairwise(path):
            edge = self._best_edge.get((a, b))
            if edge is None:
                for node_id in (a, b):
                    self.edges_from(node_id)  # raises for an unknown node
                msg = f'no carriageway from "{a}" to "{b}"'
                raise NetworkError(msg)
            total += edge.free_flow_s(group)
        if len(path) == 1:
            self.edges_from(path[0])
        return total

    # ------------------------------------------------------------------ routes
    def distance_m(self, a: str, b: str) -> int | None:
        """Shortest driving distance from ``a`` to ``b`` (site or node ids); None if unreachable."""
        return self._route(a).dist.get(self._end(b))

    def path(self, a: str, b: str) -> list[str]:
        """Node ids of the shortest drive from ``a`` to ``b``; :class:`NetworkError` if there is none."""
        reach, end = self._route(a), self._end(b)
        if end not in reach.dist:
            msg = f'no path from "{a}" to "{b}"'
            raise NetworkError(msg)
        return list(reach.path(end))

    # ------------------------------------------------------------------- ahead
    def downstream(self, site_id: str, *, max_m: int | None = None) -> list[tuple[Node, int]]:
        """Nodes ahead of a site in its direction of travel (no turning back), nearest first."""
        site, reach = self._ahead(site_id)
        return [
            (self.nodes[node_id], d)
            for node_id, d in reach.order
            if node_id != site.node_id and (max_m is None or d <= max_m)
        ]

    def stations_downstream(
        self,
        site_id: str,
        *,
        group: VehicleGroup = VehicleGroup.SMALL_PASSENGER,
        max_m: int | None = None,
    ) -> list[StationAhead]:
        """Stations ahead of a site, nearest first, each once, with free-flow time for ``group``."""
        site, reach = self._ahead(site_id)
        found: list[StationAhead] = []
        for node_id, d in reach.order:
            if node_id == site.node_id or (max_m is not None and d > max_m):
                continue
            for station in self._stations_at.get(node_id, ()):
                path = reach.path(node_id)
                found.append(StationAhead(station, d, path, self.travel_time_s(path, group)))
        return found

    def sites_downstream(self, site_id: str, *, max_m: int | None = None) -> list[tuple[Site, int]]:
        """Camera sites the vehicle can pass ahead, nearest first.

        Gantry and toll-exit sites count when the vehicle can reach their node on their
        carriageway; toll-entry sites never do (a through vehicle does not pass an on-ramp).
        Sites at the start site's own node are left out.
        """
        site, reach = self._ahead(site_id)
        found: list[tuple[Site, int]] = []
        for node_id, _ in reach.order:
            if node_id == site.node_id:
                continue
            for other in self._sites_at.get(node_id, ()):
                if other.kind is SiteKind.TOLL_ENTRY:
                    continue
                ds = [d for came_from, d in reach.arrivals[node_id] if came_from != other.heading_node_id]
                if ds and (max_m is None or min(ds) <= max_m):
                    found.append((other, min(ds)))
        found.sort(key=lambda item: (item[1], item[0].id))
        return found

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection for the map: roads, nodes, stations and sites."""
        return network_geojson(self)

    # ---------------------------------------------------------------- internals
    def _ahead(self, site_id: str) -> tuple[Site, _Reach]:
        site = self.sites.get(site_id)
        if site is None:
            msg = f'unknown site "{site_id}"'
            raise NetworkError(msg)
        return site, self._search(site.node_id, site.heading_node_id, turns=False)

    def _route(self, start: str) -> _Reach:
        if start in self.nodes:
            return self._search(start, None, turns=True)
        site = self.sites.get(start)
        if site is None:
            msg = f'unknown node or site "{start}"'
            raise NetworkError(msg)
        return self._search(site.node_id, site.heading_node_id, turns=True)

    def _end(self, ident: str) -> str:
        if ident in self.nodes:
            return ident
        site = self.sites.get(ident)
        if site is None:
            msg = f'unknown node or site "{ident}"'
            raise NetworkError(msg)
        return site.node_id

    def _search(self, start: str, heading: str | None, *, turns: bool) -> _Reach:
        key = (start, heading, turns)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        root: _State = (start, None)
        dist: dict[_State, int] = {root: 0}
        pred: dict[_State, _State | None] = {root: None}
        settled: set[_State] = set()
        tie = itertools.count()
        heap: list[tuple[int, int, _State]] = [(0, next(tie), root)]
        while heap:
            d, _, state = heapq.heappop(heap)
            if state in settled:
                continue
            settled.add(state)
            node_id, came_from = state
            may_turn = turns and self.nodes[node_id].kind in TURN_NODE_KINDS
            for edge in self._adjacency[node_id]:
                nxt = edge.to_node
                if came_from is None and heading is not None and nxt != heading:
                    continue
                if nxt == came_from and not may_turn:
                    continue
                new_state, new_d = (nxt, node_id), d + edge.length_m
                if new_d < dist.get(new_state, new_d + 1):
                    dist[new_state], pred[new_state] = new_d, state
                    heapq.heappush(heap, (new_d, next(tie), new_state))
        best: dict[str, _State] = {}
        arrivals: dict[str, list[tuple[str | None, int]]] = {}
        for state, d in sorted(dist.items(), key=lambda item: (item[1], item[0][0], item[0][1] or "")):
            best.setdefault(state[0], state)
            arrivals.setdefault(state[0], []).append((state[1], d))
        node_dist = {node_id: dist[state] for node_id, state in best.items()}
        reach = _Reach(
            order=tuple(node_dist.items()),
            dist=node_dist,
            best=best,
            arrivals={k: tuple(v) for k, v in arrivals.items()},
            pred=pred,
        )
        self._cache[key] = reach
        return reach


@functools.cache
def _default_network() -> Network:
    resource = resources.files("changan.network").joinpath("data", "liaocheng.yaml")
    return Network(parse_network(resource.read_text(encoding="utf-8"), "changan.network:data/liaocheng.yaml"))
