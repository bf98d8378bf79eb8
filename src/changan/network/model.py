"""Domain types of the road network: kinds, vehicle groups, immutable records and the error type.

Everything here is plain data. The graph algorithms live in :mod:`changan.network.graph`, the
file format in :mod:`changan.network.schema` and the file reader in :mod:`changan.network.loader`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "LEGAL_MAX_KMH",
    "Edge",
    "Neighbour",
    "NetworkError",
    "Node",
    "NodeKind",
    "Road",
    "Site",
    "SiteKind",
    "Station",
    "StationAhead",
    "VehicleGroup",
    "vehicle_group",
]


class NetworkError(ValueError):
    """A network problem: unknown id, invalid data file, or no path between two points.

    The message names the offending id or the path of the field in the data file
    (for example ``edges[12].to: unknown node "S1-K40"``). ``problems`` holds every problem
    found when a file is rejected, one message each.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = problems or (message,)


class NodeKind(StrEnum):
    """What a node on the road chain is."""

    INTERCHANGE = "interchange"  # 互通立交 (with a toll station or ramp to ordinary roads)
    HUB = "hub"  # 枢纽互通: expressway-to-expressway junction
    TOLL_STATION = "toll_station"  # 收费站
    SERVICE_AREA = "service_area"  # 服务区 / 停车区
    GANTRY = "gantry"  # 门架 (ETC or checkpoint gantry over both carriageways)
    BORDER = "border"  # where the road leaves the network's prefecture


class SiteKind(StrEnum):
    """What a camera site (卡口) watches."""

    GANTRY = "gantry"  # mainline gantry camera, one carriageway
    TOLL_ENTRY = "toll_entry"  # on-ramp / entry plaza camera
    TOLL_EXIT = "toll_exit"  # off-ramp / exit plaza camera


class VehicleGroup(StrEnum):
    """Vehicle groups with their own highway speed limit (条例 Art. 78 ¶2)."""

    SMALL_PASSENGER = "small_passenger"  # 小型载客汽车: at most 120 km/h
    OTHER = "other"  # 其他机动车: at most 100 km/h


LEGAL_MAX_KMH: Mapping[VehicleGroup, int] = MappingProxyType(
    {VehicleGroup.SMALL_PASSENGER: 120, VehicleGroup.OTHER: 100}
)
"""Legal maximum on a highway per group (道路交通安全法实施条例 Art. 78 ¶2; 鲁高速条例 Art. 18)."""

_SMALL_PASSENGER_CODE = re.compile(r"K[34][0-9A-Z]?")
_KNOWN_CLASS_CODE = re.compile(r"[KHQZDMNTJGBX][0-9A-Z]{1,2}")


def vehicle_group(vehicle_class: str | None) -> VehicleGroup:
    """Map a GA 24.4 vehicle-class code (e.g. ``"K33"``, ``"H21"``) to its speed-limit group.

    * ``K3x`` (small coaches / cars) and ``K4x`` (mini passenger cars) are small passenger cars.
    * Every other recognised code (``K1x``/``K2x`` large and medium coaches, ``Hxx`` trucks,
      ``Qxx`` tractor units, ``Z``, ``M``, ...) is ``OTHER``.
    * ``None``, an empty string or an unrecognised code gives ``SMALL_PASSENGER``: the higher
      limit, so that a missing class never produces an overspeed the vehicle did not commit.
    """
    if vehicle_class is None:
        return VehicleGroup.SMALL_PASSENGER
    code = vehicle_class.strip().upper()
    if _SMALL_PASSENGER_CODE.fullmatch(code):
        return VehicleGroup.SMALL_PASSENGER
    if _KNOWN_CLASS_CODE.fullmatch(code):
        return VehicleGroup.OTHER
    return VehicleGroup.SMALL_PASSENGER


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A neighbouring prefecture (邻市) that border nodes can point to."""

    name: str
    province: str
    expressway_crossing: bool
    source: str | None


@dataclass(frozen=True, slots=True)
class Road:
    """An expressway; ``length_m`` is the sum of its segments inside the network."""

    id: str
    name: str
    code: str | None
    design_speed_kmh: int
    length_m: int
    estimated: bool
    source: str | None


@dataclass(frozen=True, slots=True)
class Node:
    """A point on one or more road chains, passed by both carriageways.

    ``km`` is the chainage along ``road_ids[0]``. ``neighbour`` is set on border nodes only
    and names the prefecture on the other side.
    """

    id: str
    name: str
    kind: NodeKind
    road_ids: tuple[str, ...]
    km: float | None
    lat: float | None
    lon: float | None
    estimated: bool
    source: str | None
    neighbour: str | None


@dataclass(frozen=True, slots=True)
class Edge:
    """One directed carriageway segment from ``from_node`` to ``to_node``."""

    from_node: str
    to_node: str
    road_id: str
    length_m: int
    lanes: int
    limits_kmh: Mapping[VehicleGroup, int] = field(hash=False)
    estimated: bool
    source: str | None

    def limit_kmh(self, group: VehicleGroup) -> int:
        """The speed limit on this segment for ``group``."""
        return self.limits_kmh[group]

    def free_flow_s(self, group: VehicleGroup) -> float:
        """Seconds to drive the segment at ``group``'s limit."""
        return self.length_m * 3.6 / self.limits_kmh[group]


@dataclass(frozen=True, slots=True)
class Station:
    """An enforcement service station (执法服务站) at an interchange or toll station."""

    id: str
    name: str
    node_id: str
    jurisdiction: str
    estimated: bool
    source: str | None


@dataclass(frozen=True, slots=True)
class Site:
    """A camera site on one carriageway: at ``node_id``, travelling towards ``heading_node_id``."""

    id: str
    name: str
    node_id: str
    road_id: str
    heading_node_id: str
    direction_label: str
    kind: SiteKind
    lanes: int
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class StationAhead:
    """A station ahead of a site: driving distance, node path and free-flow time at the limits."""

    station: Station
    distance_m: int
    path: tuple[str, ...]
    free_flow_s: float
