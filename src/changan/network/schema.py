"""Pydantic models of the network data file (YAML). See ``README.md`` in this package for the format.

These models check each record on its own (types, ranges, unknown fields). Checks that
need the whole file (unknown ids, duplicates, carriageway topology) are in
:mod:`changan.network.loader`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from changan.network.model import NodeKind, SiteKind, VehicleGroup

__all__ = [
    "EdgeSpec",
    "NeighbourSpec",
    "NetworkFile",
    "NodeSpec",
    "RoadSpec",
    "SiteSpec",
    "StationSpec",
]

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

_SOURCE = (
    "Citation (URL or reference) for what is known about this record; null when nothing "
    "is documented. Whatever is not covered by the source is flagged with `estimated`."
)
_ESTIMATED = "True if any value of this record is inferred rather than taken from `source`."


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class NeighbourSpec(_Spec):
    """A neighbouring prefecture."""

    name: Text = Field(description="Prefecture name in Chinese, e.g. 德州; border nodes refer to it.")
    province: Text = Field(description="Province of the prefecture, e.g. 山东, 河南, 河北.")
    expressway_crossing: bool = Field(
        description="Whether an expressway in this file crosses into this prefecture. If true, at "
        "least one border node must name it; if false, none may."
    )
    source: str | None = Field(default=None, description=_SOURCE)
    notes: str | None = Field(default=None, description="Free text for maintainers.")


class RoadSpec(_Spec):
    """An expressway."""

    id: Id = Field(description="Short road id used by nodes and edges, e.g. S1, G0321.")
    name: Text = Field(description="Chinese name shown to users, e.g. 济聊高速.")
    code: str | None = Field(description="Official route number (S1, G20, ...); null if unknown.")
    design_speed_kmh: int = Field(
        ge=60, le=120, description="Design speed in km/h; caps every segment's speed limit."
    )
    length_m: int | None = Field(
        default=None,
        gt=0,
        description="Declared length inside the network in metres. If given, the road's segments "
        "must add up to it (±1 m).",
    )
    estimated: bool = Field(description="True if the length or design speed is inferred.")
    source: str | None = Field(default=None, description=_SOURCE)
    notes: str | None = Field(default=None, description="Free text for maintainers.")


class NodeSpec(_Spec):
    """A point on the road chain, passed by both carriageways."""

    id: Id = Field(description="Unique id among nodes and sites.")
    name: Text = Field(description="Chinese name shown to users.")
    kind: NodeKind = Field(description="interchange | hub | toll_station | service_area | gantry | border.")
    roads: list[Id] = Field(min_length=1, description="Ids of the roads through this node; hubs list two.")
    km: float | None = Field(
        ge=0, description="Chainage in km along the first road in `roads`; null if unknown."
    )
    lat: float | None = Field(ge=-90, le=90, description="Latitude in degrees, WGS84; null if unknown.")
    lon: float | None = Field(ge=-180, le=180, description="Longitude in degrees, WGS84; null if unknown.")
    estimated: bool = Field(description=_ESTIMATED + " Positions interpolated between anchors count.")
    source: str | None = Field(description=_SOURCE)
    neighbour: str | None = Field(
        default=None,
        description="Border nodes only: name of the neighbouring prefecture (from `neighbours`).",
    )
    notes: str | None = Field(default=None, description="Free text for maintainers.")

    @model_validator(mode="after")
    def _lat_lon_together(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            msg = "lat and lon must both be given or both be null"
            raise ValueError(msg)
        return self


class EdgeSpec(_Spec):
    """A road segment between two adjacent nodes; the loader makes both carriageways of it."""

    from_: Id = Field(alias="from", description="Node id at one end (the start if `one_way`).")
    to: Id = Field(description="Node id at the other end.")
    road: Id = Field(description="Road id; both end nodes must list this road.")
    length_m: int = Field(gt=0, description="Segment length in metres (one carriageway).")
    lanes: int = Field(ge=1, le=8, description="Through lanes per carriageway.")
    limits_kmh: dict[VehicleGroup, int] | None = Field(
        default=None,
        description="Posted limit in km/h per vehicle group (small_passenger, other). A group left "
        "out gets min(road design speed, legal maximum for the group).",
    )
    one_way: bool = Field(default=False, description="True: only the carriageway from `from` to `to`.")
    estimated: bool = Field(description=_ESTIMATED)
    source: str | None = Field(default=None, description=_SOURCE)


class StationSpec(_Spec):
    """An enforcement service station (执法服务站)."""

    id: Id = Field(description="Unique station id.")
    name: Text = Field(description="Chinese name, e.g. 茌平执法服务站.")
    node: Id = Field(description="Id of the interchange or toll-station node it sits at.")
    jurisdiction: str = Field(
        pattern=r"^37\d{6}$",
        description="8-digit unit code: 37 Shandong 总队, 4 digits 支队, 6 digits 大队, 8 digits 中队.",
    )
    estimated: bool = Field(description=_ESTIMATED)
    source: str | None = Field(default=None, description=_SOURCE)
    notes: str | None = Field(default=None, description="Free text for maintainers.")


class SiteSpec(_Spec):
    """A camera site (卡口) on one carriageway."""

    id: Id = Field(description="Unique id among nodes and sites (gantry-id style, e.g. S000137...).")
    name: Text = Field(description="Chinese name shown to users.")
    node: Id = Field(description="Gantry node (kind gantry) or toll-station node (toll_entry/toll_exit).")
    heading: Id = Field(description="Id of the next node in the direction of travel; picks the carriageway.")
    direction_label: Text = Field(description="Direction as signposted, e.g. 往济南方向.")
    kind: SiteKind = Field(description="gantry | toll_entry | toll_exit.")
    lanes: int = Field(ge=1, le=16, description="Lanes the cameras cover.")
    estimated: bool = Field(description=_ESTIMATED + " Synthetic ids count.")


class NetworkFile(_Spec):
    """The whole data file."""

    format_version: Literal[1] = Field(description="Version of this file format; currently 1.")
    name: Text = Field(description="Name of the network shown to users.")
    prefecture: str | None = Field(default=None, description="Prefecture the network covers, e.g. 聊城.")
    description: str | None = Field(default=None, description="Free text about the file.")
    neighbours: list[NeighbourSpec] = Field(default_factory=list, description="Neighbouring prefectures.")
    roads: list[RoadSpec] = Field(min_length=1, description="Expressways.")
    nodes: list[NodeSpec] = Field(min_length=2, description="Points on the road chains.")
    edges: list[EdgeSpec] = Field(min_length=1, description="Road segments, each written once.")
    stations: list[StationSpec] = Field(default_factory=list, description="Enforcement service stations.")
    sites: list[SiteSpec] = Field(default_factory=list, description="Camera sites.")
