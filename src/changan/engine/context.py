"""What detectors read but do not own: the network as sites see it, and the shared models.

A :class:`Context` is built once per engine from the network and refreshed
reference data (registry, watchlist index, temporary limits). Detectors get it
on every call; they never do I/O themselves (ARCHITECTURE §6: detectors stay
free of I/O and of the embedded runtime, so that a partitioned engine can run
them anywhere).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from changan.network import Network, NodeKind, SiteKind, VehicleGroup


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """A camera site with what detectors need precomputed."""

    id: str
    kind: SiteKind
    node_id: str
    node_kind: NodeKind
    heading_node_id: str
    road_id: str
    lanes: int  # traffic lanes of the carriageway; the emergency lane is reported as lanes + 1
    limits_kmh: Mapping[VehicleGroup, int]  # posted limits on the segment it watches
    is_exit: bool  # a toll-exit site: the vehicle is leaving the expressway
    is_entry: bool  # a toll-entry site: the vehicle has just joined
    at_service_area: bool


@dataclass(frozen=True, slots=True)
class RegistryRecord:
    """One vehicle in the registry (机动车登记), keyed by its vehicle key."""

    vehicle_key: str
    plate_no: str
    plate_class: str
    vehicle_class: str | None = None  # GA 24.4 code, e.g. K33, H11
    use: str | None = None  # 使用性质: 非营运, 公路客运, 旅游客运, 货运, 危化品运输, 校车 …
    body_colour: str | None = None  # GA 24.8 colour code
    brand: str | None = None
    model: str | None = None
    operator: str | None = None


class Registry(Protocol):
    """The vehicle registry as the engine sees it: a lookup, behind a cache."""

    def get(self, vehicle_key: str) -> RegistryRecord | None: ...


class EmptyRegistry:
    """No registry configured: every vehicle is unknown (and unknown is never a violation)."""

    def get(self, vehicle_key: str) -> RegistryRecord | None:
        return None

    def __len__(self) -> int:
        return 0


def registry_loaded(registry: Registry) -> bool:
    """Whether absence from ``registry`` says anything: not when it holds no records at all (none
    imported yet: every local plate would look unissued). A remote lookup counts as loaded."""
    size = getattr(registry, "__len__", None)
    return size is None or size() > 0


class TemporaryLimits(Protocol):
    """Temporary speed limits (fog, road works) by site and event time."""

    def limit_at(self, site_id: str, t: float) -> int | None: ...

    def limit_between(
        self, from_node: str, to_node: str, t1: float, t2: float
    ) -> tuple[int | None, int | None]:
        """For the segment ``from_node → to_node`` traversed from ``t1`` to ``t2`` (section speed):
        the lowest temporary limit in force at some moment of [t1, t2], and the lowest in force
        throughout it."""
        ...


class NoTemporaryLimits:
    def limit_at(self, site_id: str, t: float) -> int | None:
        return None

    def limit_between(
        self, from_node: str, to_node: str, t1: float, t2: float
    ) -> tuple[int | None, int | None]:
        return None, None


class Sites:
    """Sites by id, and shortest driving distances between them (cached per origin)."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.info: dict[str, SiteInfo] = {}
        edges = {(e.from_node, e.to_node): e for e in network.edges}
        for site in network.sites.values():
            edge = edges.get((site.node_id, site.heading_node_id))
            limits = (
                edge.limits_kmh
                if edge is not None
                else {VehicleGroup.SMALL_PASSENGER: 120, VehicleGroup.OTHER: 100}
            )
            node = network.nodes[site.node_id]
            self.info[site.id] = SiteInfo(
                id=site.id,
                kind=site.kind,
                node_id=site.node_id,
                node_kind=node.kind,
                heading_node_id=site.heading_node_id,
                road_id=site.road_id,
                lanes=site.lanes,
                limits_kmh=limits,
                is_exit=site.kind is SiteKind.TOLL_EXIT,
                is_entry=site.kind is SiteKind.TOLL_ENTRY,
                at_service_area=node.kind is NodeKind.SERVICE_AREA,
            )
        self._distance: dict[str, dict[str, int]] = {}

    def get(self, site_id: str) -> SiteInfo | None:
        return self.info.get(site_id)

    def distance_m(self, a: str, b: str) -> int | None:
        """Shortest driving distance on the network from site ``a`` to site ``b`` (None: unreachable
        on the network, or an unknown site)."""
        row = self._distance.get(a)
        if row is None:
            row = self._distance[a] = self._row(a)
        return row.get(b)

    def _row(self, a: str) -> dict[str, int]:
        if a not in self.info:
            return {}
        out: dict[str, int] = {}
        for b in self.info:
            d = self.network.distance_m(a, b)
            if d is not None:
                out[b] = d
        return out


@dataclass
class Context:
    """Everything a detector may read. ``config`` holds each detector's validated settings."""

    sites: Sites
    registry: Registry = field(default_factory=EmptyRegistry)
    limits: TemporaryLimits = field(default_factory=NoTemporaryLimits)
    shared: dict[str, Any] = field(default_factory=dict)  # shared models by name (watchlist index …)

    @classmethod
    def for_network(cls, network: Network, **kwargs: Any) -> Context:
        return cls(sites=Sites(network), **kwargs)
