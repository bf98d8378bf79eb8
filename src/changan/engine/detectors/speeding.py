"""Speeding (超速): the camera's point speed, and the section (区间) average speed, one act one penalty.

**The limit** that applies to a vehicle is the lowest of:

* its group's legal maximum: 120 km/h for a small passenger car, 100 for every other
  motor vehicle (道路交通安全法实施条例 Art. 78 ¶2; 山东省高速公路交通安全条例 Art. 18);
  the group comes from the GA 24.4 vehicle class (:func:`changan.network.vehicle_group`):
  the camera-read class, else the registry's; with neither, the small-passenger group
  (a missing class never creates an overspeed);
* the posted limit of the segment the site watches (a sign prevails, 条例 Art. 78 ¶3);
* a temporary limit in force at the site at that event time (fog, road works; 鲁高速条例
  Art. 34), from ``ctx.limits``; it applies from its start and not before.

``limit_source`` names the most general source giving that value (``group``, then
``posted``, then ``temporary``): a sign that repeats the legal limit is not "posted".

**Section speed** (区间测速, GA/T 959-2011 §3): average speed = section length ÷ (t2 − t1),
between two *consecutive* sightings of the vehicle at the two ends of a section, from
the **raw device times** (never a statistically corrected clock). Sections are built
from the network: a mainline gantry site and the next gantry site on the same
carriageway with only gantry nodes between them, i.e. no exit, entry, hub or service
area (a vehicle can leave or stop there, and the route and limit would not be fixed,
rules.md §3). The setting ``sections`` (``[[from_site, to_site], …]``) replaces the
automatic list; a configured pair that is not a gantry-to-gantry stretch free of exits,
or shorter than ``min_section_m``, is refused (:class:`ConfigError` naming the entry).
The section limit is the lowest limit applying anywhere on the section during the
traversal (the vehicle's group, every segment's posted limit, and temporary limits
on every segment: read with ``ctx.limits.limit_between`` where the model offers it, as
:class:`changan.limits.index.LimitIndex` does, else with ``limit_at`` at the start site,
which watches the first segment). With ``section_limit = "constant"`` (default) a section whose limit
for this vehicle is not the same on every segment for the whole traversal is not used
for that passage: a vehicle keeping to 120 then 80 averages above 80 without breaking
either limit, so such a reading proves nothing (rules.md §3, the Shandong metrology
draft's "fixed route, constant limit"). ``"lowest"`` uses the lowest limit regardless.
An average above ``section_max_kmh``, or a non-positive travel time, is dropped as
unreliable evidence (a device clock that is off, not a speed): the average is still
computed from raw times, as the standard says, but such a reading is no proof. So is
an average more than ``section_point_ratio_max`` times both ends' point readings
(a heuristic: a clock fault is likelier than such driving between two cameras).
Where the shared device-clock model (``ctx.shared["clocks"]``) has established
estimates for the two devices, a section reading is kept only if it is *also* over
with the estimated offsets removed (``clock_check``): an estimate can suppress a
reading, never make one or change the reported average; such anchors ask for a
``recheck`` so that the settled judgement uses the final estimate.

**Bands, points, fines.** Overspeed x = (measured − limit) / limit; "以上" includes the
bound, "未达到" excludes it (rules.md §0). Points (道路交通安全违法行为记分管理办法,
"163号令"), highway, in force since 2022-04-01:

==============  =========================  ============================
x               key vehicle                other vehicle
==============  =========================  ============================
x < 20 %        6 (Art. 10(2))             0 (not listed)
20 % ≤ x < 50 % 12 (Art. 8(5))             6 (Art. 10(3))
x ≥ 50 %        12 (Art. 8(5))             12 (Art. 8(5))
==============  =========================  ============================

Fines on Shandong expressways (鲁高速条例 Art. 55): 10 % ≤ x ≤ 50 % → 200 yuan;
x > 50 % → 2000 yuan and the licence may be revoked (道路交通安全法 Art. 99 ¶1(4));
below 10 % no fine is set (a warning: ``fine_yuan`` is None). Both rules are applied
literally, so exactly +50 % gives 12 points and 200 yuan. Key vehicles (重点车: school
buses, medium-or-larger passenger or goods vehicles, dangerous-goods vehicles) are
decided from the registry's use and vehicle class, falling back to the camera-read
class. Nothing is found below ``floor_pct`` (default 10: 鲁高速条例 Art. 55 starts
fines at 10 %); key vehicles have their own ``key_vehicle_floor_pct`` (default 10,
UNCONFIRMED: 163号令 Art. 10(2) literally gives them 6 points below 10 % too).
Severity: serious from +20 %, critical from +50 %.

**One act, one penalty.** A point reading and a section reading of the same act (the
section starts or ends at the point-reading site and both are over) give one finding:
``rule`` is ``point``, ``section`` or ``point+section``, the evidence is every sighting
involved, and band, points and fine come from the higher overspeed. Since a detector
never reads past its anchor, the act is owned by the **later** sighting:

* a section reading is judged at its later end (the anchor) with the sighting just
  before it (the earlier end);
* a point reading at a site where a section *starts* is **deferred**: it is judged when
  the vehicle's next passage arrives, merged there with that section's reading when the
  next passage is the section's far end and the section is over, and otherwise found
  on its own. If no next passage comes within ``section_wait_s``, a timer finds it on
  its own when the watermark passes ``t + section_wait_s`` (a next passage later than
  that does not claim it, and no section reading spans more than that time);
* a point reading anywhere else is judged at its own sighting, merged with the section
  that ends there when that one is over.

A point reading at a site that both ends one section and starts the next (chained,
configured sections only) goes with the section that starts there. A finding's ``at``
is its anchor, except for a deferred point reading found on its own: ``at`` is then
the reading's sighting, and the evidence is that sighting plus the next passage that
judged it (or that sighting alone when the timer found it). Each finding id belongs to
one anchor (or the timer), so a late passage that moves the act to another anchor
retracts one id and adds another, never the same id twice. (A passage that arrives
after the watermark passed it and after the timer fired may find the act a second
time: the core settles such passages as they come.)

**Duplicates.** A sighting at the same site as the one before it, within ``duplicate_s``,
is another read of the same passage (a site's second camera, a resend): it gives
nothing of its own. Passages whose plate does not identify a vehicle (``x:`` keys) are
not judged: nobody can be fined; reads below ``min_plate_confidence`` give no reading
and end no section (a penalty must not fall on a misread plate), but still let a
deferred point reading before them be judged.

**Review only.** Police cars, fire engines, ambulances and rescue vehicles on an urgent
task are not bound by speed limits (道路交通安全法 Art. 53; not in rules.md); a camera
cannot see the task, so their findings carry ``review_only: true`` (settings
``review_only_uses``, ``review_only_plate_suffixes``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from pydantic import Field, field_validator

from changan.engine.context import Context, RegistryRecord, Sites
from changan.engine.detectors.base import ConfigError, Detector, DetectorConfig, validate_config
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState
from changan.network import (
    LEGAL_MAX_KMH,
    Edge,
    Network,
    NodeKind,
    Site,
    SiteKind,
    VehicleGroup,
    vehicle_group,
)

NAME = "speeding"
CLOCKS = "clocks"  # the shared device-clock model's name in Context.shared
UNIDENTIFIED = "x:"  # vehicle keys of reads that identify no vehicle (changan.plates.key)

SMALL = VehicleGroup.SMALL_PASSENGER
OTHER = VehicleGroup.OTHER

# --------------------------------------------------------------------------- legal texts
_LIMIT_BASIS: Mapping[str, tuple[str, ...]] = {
    "group": ("《道路交通安全法实施条例》第七十八条第二款", "《山东省高速公路交通安全条例》第十八条"),
    "posted": ("《道路交通安全法实施条例》第七十八条第三款",),
    "temporary": ("《山东省高速公路交通安全条例》第三十四条",),
}
_SECTION_BASIS = "GA/T 959-2011《机动车区间测速技术规范》第3章"
_ART_8_5 = "《道路交通安全违法行为记分管理办法》第八条第（五）项"
_ART_10_2 = "《道路交通安全违法行为记分管理办法》第十条第（二）项"
_ART_10_3 = "《道路交通安全违法行为记分管理办法》第十条第（三）项"
_ART_55 = "《山东省高速公路交通安全条例》第五十五条"
_ART_99 = "《道路交通安全法》第九十九条第一款第（四）项"
_ART_53 = "《道路交通安全法》第五十三条"

BANDS = ("under_10", "10_20", "20_50", "50_up")  # in increasing order of overspeed
_BAND_ZH = {
    "under_10": "未达百分之十",
    "10_20": "百分之十以上未达百分之二十",
    "20_50": "百分之二十以上未达百分之五十",
    "50_up": "百分之五十以上",
}
_METHOD_ZH = {"point": "定点测速", "section": "区间测速", "point+section": "定点与区间测速"}
_KEY_ZH = "校车、中型以上载客载货汽车、危险物品运输车辆"


_GROUPS: dict[str | None, VehicleGroup] = {}


def _group_of(code: str | None) -> VehicleGroup:
    """:func:`vehicle_group`, memoised (a regex per call is too slow for the hot path)."""
    group = _GROUPS.get(code)
    if group is None:
        group = vehicle_group(code)
        if len(_GROUPS) < 4096:
            _GROUPS[code] = group
    return group


_EPS = 1e-6  # far below a reading's resolution (0.1 km/h): absorbs binary rounding of decimal readings


def _at_least(measured: float, limit: int, pct: float) -> bool:
    """Overspeed ≥ ``pct`` % ("以上" includes the bound): (132 − 120) · 100 ≥ 10 · 120."""
    return (measured - limit) * 100.0 >= pct * limit - _EPS


def _more_than(measured: float, limit: int, pct: float) -> bool:
    """Overspeed > ``pct`` % ("超过" excludes the bound)."""
    return (measured - limit) * 100.0 > pct * limit + _EPS


@dataclass(frozen=True, slots=True)
class Penalty:
    """What the law attaches to one overspeed: band, points, fine, severity and the articles."""

    band: str
    points: int
    fine_yuan: int | None  # None: no fine set (a warning)
    severity: str
    licence_may_be_revoked: bool
    legal_basis: tuple[str, ...]


def assess(measured_kmh: float, limit_kmh: int, key_vehicle: bool) -> Penalty:
    """Band, points (163号令) and fine (鲁高速条例 Art. 55) for a highway overspeed, both applied literally."""
    ge10 = _at_least(measured_kmh, limit_kmh, 10)
    ge20 = _at_least(measured_kmh, limit_kmh, 20)
    ge50 = _at_least(measured_kmh, limit_kmh, 50)
    over50 = _more_than(measured_kmh, limit_kmh, 50)
    band = "50_up" if ge50 else "20_50" if ge20 else "10_20" if ge10 else "under_10"
    basis: list[str] = []
    if key_vehicle:
        points = 12 if ge20 else 6
        basis.append(_ART_8_5 if ge20 else _ART_10_2)
    elif ge50:
        points = 12
        basis.append(_ART_8_5)
    elif ge20:
        points = 6
        basis.append(_ART_10_3)
    else:
        points = 0
    fine: int | None
    if over50:
        fine = 2000
        basis += [_ART_55, _ART_99]
    elif ge10:
        fine = 200
        basis.append(_ART_55)
    else:
        fine = None
    severity = "critical" if ge50 else "serious" if ge20 else "normal"
    return Penalty(band, points, fine, severity, over50, tuple(basis))


# --------------------------------------------------------------------------- configuration
class SpeedingConfig(DetectorConfig):
    floor_pct: float = Field(
        default=10.0,
        ge=0,
        lt=100,
        description="Overspeed (%) below which nothing is found, for vehicles other than key vehicles. "
        "Shandong fines start at 10 % (鲁高速条例 Art. 55; rules.md §2.3).",
    )
    key_vehicle_floor_pct: float = Field(
        default=10.0,
        ge=0,
        lt=100,
        description="UNCONFIRMED (rules.md §2.1 note, §12 item 3): the floor for key vehicles (school bus, "
        "medium or larger passenger/goods vehicle, dangerous goods). 163号令 Art. 10(2) literally gives "
        "them 6 points for any highway overspeed below 20 %, even under 10 %; whether Shandong applies a "
        "10 % floor is not confirmed. Set 0 to apply the text literally.",
    )
    min_plate_confidence: float = Field(
        default=90.0,
        ge=0,
        le=100,
        description="Reads with a plate confidence (0–100) below this give no reading and end no section: a "
        "penalty must not fall on a misread plate. A practice value, UNCONFIRMED. Reads without a confidence "
        "are judged.",
    )
    point_at_toll_sites: bool = Field(
        default=True,
        description="Judge point speeds at toll entry/exit sites too, against the mainline limit of the "
        "segment they watch (lenient where a ramp has a lower posted limit).",
    )
    sections_enabled: bool = Field(default=True, description="Judge section (区间) average speeds.")
    sections: tuple[tuple[str, str], ...] | None = Field(
        default=None,
        description="Explicit [from_site, to_site] pairs of mainline gantry sites that replace the sections "
        "built from the network. Each must run along one carriageway through gantry nodes only (no exit, "
        "entry, hub or service area) and be at least min_section_m long.",
    )
    min_section_m: int = Field(
        default=2000,
        ge=0,
        description="UNCONFIRMED (GA/T 959 minimum section length not readable, rules.md §3): shorter "
        "sections are not used.",
    )
    section_max_kmh: float = Field(
        default=250.0,
        gt=0,
        description="Plausibility cap: a section average above this (from raw device times) is dropped as "
        "unreliable evidence (a device clock off), never corrected. UNCONFIRMED: GA/T 959 clock tolerances "
        "are not readable (rules.md §3).",
    )
    section_point_ratio_max: float | None = Field(
        default=1.5,
        gt=1,
        description="Plausibility check (a heuristic, not law): a section average more than this multiple of "
        "both ends' point readings is dropped as unreliable evidence (a device clock off is likelier than "
        "such driving between two cameras). None disables it.",
    )
    section_limit: Literal["constant", "lowest"] = Field(
        default="constant",
        description="'constant': use a section only when the vehicle's limit is the same on every segment "
        "for the whole traversal (rules.md §3: fixed route, constant limit); 'lowest': compare with the "
        "lowest limit anywhere on the section at any time of the traversal.",
    )
    clock_check: bool = Field(
        default=True,
        description="When the shared device-clock model (ctx.shared['clocks']) has established estimates, "
        "keep a section reading only if it is also over with the estimated offsets removed. The estimate "
        "only suppresses: the reported average stays the raw one (GA/T 959).",
    )
    section_wait_s: float = Field(
        default=1800.0,
        gt=0,
        description="A point reading at a section's start waits this long for the vehicle's next passage "
        "(which may merge it with the section); no section reading spans more than this.",
    )
    duplicate_s: float = Field(
        default=300.0,
        ge=0,
        description="Two sightings at one site closer than this are reads of one passage.",
    )
    key_uses: tuple[str, ...] = Field(
        default=("校车", "危化品运输", "危险货物运输", "危险品运输"),
        description="Registry uses (使用性质) that make a key vehicle (163号令: school bus, dangerous goods).",
    )
    key_class_prefixes: tuple[str, ...] = Field(
        default=("K1", "K2", "H1", "H2", "Q1", "Q2"),
        description="GA 24.4 class prefixes of medium-or-larger passenger or goods vehicles (K1x/K2x large "
        "and medium coaches, H1x/H2x heavy and medium trucks; Q1x/Q2x heavy and medium tractor units are "
        "counted as goods vehicles, an interpretation).",
    )
    review_only_uses: tuple[str, ...] = Field(
        default=("应急救援",),
        description="Registry uses whose findings are review only (道路交通安全法 Art. 53: urgent tasks).",
    )
    review_only_plate_suffixes: tuple[str, ...] = Field(
        default=("警", "应急"),
        description="Plate endings whose findings are review only (police and emergency plates).",
    )

    @field_validator("sections")
    @classmethod
    def _distinct_ends(cls, value: tuple[tuple[str, str], ...] | None) -> tuple[tuple[str, str], ...] | None:
        for a, b in value or ():
            if a == b:
                msg = f"section {a} → {b}: the two ends must be different sites"
                raise ValueError(msg)
        return value


# --------------------------------------------------------------------------- sections
@dataclass(frozen=True, slots=True)
class Section:
    """A measurement section: from a gantry site to the next one on its carriageway, exit-free."""

    from_site: str
    to_site: str
    length_m: int
    edges: tuple[Edge, ...]  # the carriageway segments, in driving order


class ClockEstimate(Protocol):
    """One device's clock estimate, as the shared clock model gives it."""

    @property
    def established(self) -> bool: ...
    def offset_at(self, t: float) -> float: ...


class DeviceClocks(Protocol):
    """The shared device-clock model (``changan.engine.clocks.DeviceClocks``), read only to suppress."""

    def estimate(self, device_id: str, t: float) -> ClockEstimate | None: ...


class EdgeLimits(Protocol):
    """What a temporary-limit model offers for sections (``changan.limits.index.LimitIndex`` does)."""

    def limit_between(
        self, from_node: str, to_node: str, t1: float, t2: float
    ) -> tuple[int | None, int | None]: ...


@dataclass(frozen=True, slots=True)
class _Plan:
    point_sites: frozenset[str]
    posted: Mapping[str, Mapping[VehicleGroup, int]]
    pairs: Mapping[tuple[str, str], Section]
    starts: frozenset[str]


def _edge(network: Network, a: str, b: str) -> Edge:
    return min((e for e in network.edges_from(a) if e.to_node == b), key=lambda e: e.length_m)


def _follow(network: Network, start: Site) -> Iterator[tuple[str, str | None, tuple[Edge, ...]]]:
    """Drive on from a site along its carriageway: yields ``(node, next node, segments so far)`` at each
    node reached; ``next node`` is None where the drive stops (a node other than a gantry, or a fork)."""
    prev, cur = start.node_id, start.heading_node_id
    edges = [_edge(network, prev, cur)]
    seen = {prev}
    while True:
        ahead = [e for e in network.edges_from(cur) if e.to_node != prev]
        if network.nodes[cur].kind is not NodeKind.GANTRY or cur in seen or len(ahead) != 1:
            yield cur, None, tuple(edges)
            return
        yield cur, ahead[0].to_node, tuple(edges)
        seen.add(cur)
        edges.append(ahead[0])
        prev, cur = cur, ahead[0].to_node


def _auto_sections(network: Network, min_m: int) -> list[Section]:
    gantry_at = {
        (s.node_id, s.heading_node_id): s for s in network.sites.values() if s.kind is SiteKind.GANTRY
    }
    out = []
    for a in sorted(gantry_at.values(), key=lambda s: s.id):
        for node, nxt, edges in _follow(network, a):
            if nxt is None:
                break
            b = gantry_at.get((node, nxt))
            if b is not None:
                length = sum(e.length_m for e in edges)
                if length >= min_m:
                    out.append(Section(a.id, b.id, length, edges))
                break
    return out


def _configured_sections(network: Network, pairs: Sequence[tuple[str, str]], min_m: int) -> list[Section]:
    out = []
    for k, (a_id, b_id) in enumerate(pairs):
        where = f"engine.detectors.{NAME}.sections.{k}"
        ends = []
        for site_id in (a_id, b_id):
            site = network.sites.get(site_id)
            if site is None:
                msg = f"{where}: unknown site {site_id!r}"
                raise ConfigError(msg)
            if site.kind is not SiteKind.GANTRY:
                msg = f"{where}: {site_id} is a {site.kind.value} site; a section joins mainline gantry sites"
                raise ConfigError(msg)
            ends.append(site)
        a, b = ends
        found: Section | None = None
        for node, nxt, edges in _follow(network, a):
            if node == b.node_id and nxt == b.heading_node_id:
                found = Section(a.id, b.id, sum(e.length_m for e in edges), edges)
                break
            if nxt is None:
                kind = network.nodes[node].kind
                why = (
                    f"passes {node} ({kind.value}): a section never contains an exit, entry, hub or service area"
                    if kind is not NodeKind.GANTRY
                    else f"does not reach {b_id} along the carriageway of {a_id}"
                )
                msg = f"{where}: {a_id} → {b_id} {why}"
                raise ConfigError(msg)
        if found is None:  # pragma: no cover - _follow always ends with nxt None
            msg = f"{where}: {a_id} → {b_id} is not a section"
            raise ConfigError(msg)
        if found.length_m < min_m:
            msg = f"{where}: {a_id} → {b_id} is {found.length_m} m, shorter than min_section_m = {min_m}"
            raise ConfigError(msg)
        out.append(found)
    return out


# --------------------------------------------------------------------------- the detector
@dataclass(frozen=True, slots=True)
class _Reading:
    kind: str  # point | section
    sightings: tuple[Sighting, ...]
    measured: float
    limit: int
    source: str  # group | posted | temporary
    key: bool
    section: Section | None = None

    @property
    def ratio(self) -> float:
        return (self.measured - self.limit) / self.limit


class SpeedingDetector(Detector):
    name: ClassVar[str] = NAME
    version: ClassVar[int] = 1
    trail_s = 0.0  # only the passage before the anchor (and its duplicate reads): the core keeps two

    def __init__(self, config: SpeedingConfig | None = None) -> None:
        self.config = cfg = config or SpeedingConfig()
        self.keep_s = cfg.section_wait_s  # a deferred point reading's timer must find the vehicle
        self._min_floor = min(cfg.floor_pct, cfg.key_vehicle_floor_pct)
        self._key_uses = frozenset(cfg.key_uses)
        self._key_prefixes = tuple(p.upper() for p in cfg.key_class_prefixes)
        self._review_uses = frozenset(cfg.review_only_uses)
        self._review_suffixes = tuple(cfg.review_only_plate_suffixes)
        self._thresholds: dict[str, Any] = {
            "floor_pct": cfg.floor_pct,
            "key_vehicle_floor_pct": cfg.key_vehicle_floor_pct,
            "band_edges_pct": [10, 20, 50],
            "group_limits_kmh": {g.value: v for g, v in LEGAL_MAX_KMH.items()},
            "duplicate_s": cfg.duplicate_s,
            "min_plate_confidence": cfg.min_plate_confidence,
        }
        self._section_thresholds = {
            "min_section_m": cfg.min_section_m,
            "section_max_kmh": cfg.section_max_kmh,
            "section_point_ratio_max": cfg.section_point_ratio_max,
            "section_limit": cfg.section_limit,
            "section_wait_s": cfg.section_wait_s,
        }
        self._plan_sites: Sites | None = None
        self._plan = _Plan(frozenset(), {}, {}, frozenset())

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> SpeedingDetector:
        return cls(validate_config(SpeedingConfig, NAME, raw))

    # ------------------------------------------------------------------ plan
    def sections(self, ctx: Context) -> tuple[Section, ...]:
        """The sections in use on this context's network (builds and checks them: a configured pair that
        cannot be used raises :class:`ConfigError`; call it when the engine starts)."""
        return tuple(self._prepared(ctx.sites).pairs.values())

    def _prepared(self, sites: Sites) -> _Plan:
        if sites is self._plan_sites:
            return self._plan
        cfg = self.config
        network = sites.network
        if not cfg.sections_enabled:
            found: list[Section] = []
        elif cfg.sections is None:
            found = _auto_sections(network, cfg.min_section_m)
        else:
            found = _configured_sections(network, cfg.sections, cfg.min_section_m)
        self._plan = _Plan(
            point_sites=frozenset(
                sid
                for sid, info in sites.info.items()
                if cfg.point_at_toll_sites or info.kind is SiteKind.GANTRY
            ),
            posted={sid: info.limits_kmh for sid, info in sites.info.items()},
            pairs={(s.from_site, s.to_site): s for s in found},
            starts=frozenset(s.from_site for s in found),
        )
        self._plan_sites = sites
        return self._plan

    # ------------------------------------------------------------------ hooks
    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        cfg = self.config
        trail = v.trail
        s = trail[i]
        if not cfg.enabled or s.vehicle_key.startswith(UNIDENTIFIED):
            return ()
        plan = self._plan if ctx.sites is self._plan_sites else self._prepared(ctx.sites)
        prev = trail[i - 1] if i > 0 else None
        if prev is not None and prev.site_id == s.site_id and s.t - prev.t <= cfg.duplicate_s:
            return ()  # another read of the passage before it
        own = self._point(s, ctx, plan)
        own_deferred = own is not None and s.site_id in plan.starts
        claimed: _Reading | None = None
        section: _Reading | None = None
        first = s
        if prev is not None and prev.site_id in plan.starts:
            g = i - 1  # the previous passage's first read: the one that owns its point reading
            while (
                g > 0
                and trail[g - 1].site_id == prev.site_id
                and trail[g].t - trail[g - 1].t <= cfg.duplicate_s
            ):
                g -= 1
            first = trail[g]
            if s.t - first.t <= cfg.section_wait_s:  # else the timer found its point reading
                claimed = self._point(first, ctx, plan)
                sec = plan.pairs.get((prev.site_id, s.site_id))
                if sec is not None and self._clear(prev) and self._clear(s):
                    section = self._section(sec, prev, s, ctx)
        if section is not None:
            readings = [r for r in (claimed, section, None if own_deferred else own) if r is not None]
            return (self._finding(readings, s, ctx),)
        out = []
        if claimed is not None:  # found on its own; judged by this passage, part of the evidence
            out.append(self._finding([claimed], first, ctx, judged_by=s))
        if own is not None and not own_deferred:
            out.append(self._finding([own], s, ctx))
        return out

    def wake_at(self, v: VehicleState, i: int, ctx: Context) -> float | None:
        """A deferred point reading (at a section's start) is found on its own if no passage follows."""
        s = v.trail[i]
        plan = self._plan if ctx.sites is self._plan_sites else self._prepared(ctx.sites)
        if s.site_id not in plan.starts or not self.config.enabled or s.vehicle_key.startswith(UNIDENTIFIED):
            return None
        if self._is_duplicate(v.trail, i) or self._point(s, ctx, plan) is None:
            return None
        return s.t + self.config.section_wait_s

    def on_timer(self, v: VehicleState, due: float, ctx: Context) -> Sequence[Finding]:
        cfg = self.config
        plan = self._plan if ctx.sites is self._plan_sites else self._prepared(ctx.sites)
        trail = v.trail
        out = []
        for k, s in enumerate(trail):
            if (
                s.t + cfg.section_wait_s != due
                or s.site_id not in plan.starts
                or self._is_duplicate(trail, k)
            ):
                continue
            m = k + 1
            while m < len(trail) and self._is_duplicate(trail, m):
                m += 1
            if m < len(trail) and trail[m].t - s.t <= cfg.section_wait_s:
                continue  # the next passage judged it
            r = self._point(s, ctx, plan)
            if r is not None:
                out.append(self._finding([r], s, ctx))
        return out

    def recheck(self, v: VehicleState, i: int, ctx: Context) -> bool:
        """A section reading rests on the clock model, which other vehicles' passages still change."""
        if i == 0 or not self.config.clock_check or CLOCKS not in ctx.shared:
            return False
        plan = self._plan if ctx.sites is self._plan_sites else self._prepared(ctx.sites)
        return (v.trail[i - 1].site_id, v.trail[i].site_id) in plan.pairs

    def _is_duplicate(self, trail: Sequence[Sighting], k: int) -> bool:
        return (
            k > 0
            and trail[k - 1].site_id == trail[k].site_id
            and trail[k].t - trail[k - 1].t <= self.config.duplicate_s
        )

    # ------------------------------------------------------------------ readings
    def _record(self, s: Sighting, ctx: Context) -> RegistryRecord | None:
        return ctx.registry.get(s.vehicle_key)

    def _is_key(self, rec: RegistryRecord | None, *codes: str | None) -> bool:
        if rec is not None:
            if rec.use is not None and rec.use in self._key_uses:
                return True
            if rec.vehicle_class:
                return rec.vehicle_class.strip().upper().startswith(self._key_prefixes)
        code = next((c for c in codes if c), None)
        return code is not None and code.strip().upper().startswith(self._key_prefixes)

    def _over(
        self, measured: float, limit: int, rec: RegistryRecord | None, *codes: str | None
    ) -> bool | None:
        """None when below the floor; else whether the vehicle is a key vehicle."""
        if not _more_than(measured, limit, 0) or not _at_least(measured, limit, self._min_floor):
            return None
        key = self._is_key(rec, *codes)
        floor = self.config.key_vehicle_floor_pct if key else self.config.floor_pct
        return key if _at_least(measured, limit, floor) else None

    def _clear(self, s: Sighting) -> bool:
        """Whether the plate read is clear enough to attribute a penalty to (misreads are not)."""
        c = s.plate_confidence
        return c is None or c >= self.config.min_plate_confidence

    def _point(self, s: Sighting, ctx: Context, plan: _Plan) -> _Reading | None:
        speed = s.speed_kmh
        if speed is None or s.site_id not in plan.point_sites or not self._clear(s):
            return None
        code = s.vehicle_class
        rec: RegistryRecord | None = None
        looked = False
        if code is None:
            rec, looked = self._record(s, ctx), True
            code = rec.vehicle_class if rec is not None else None
        group = _group_of(code)
        legal = LEGAL_MAX_KMH[group]
        posted = plan.posted[s.site_id][group]
        limit = legal if legal <= posted else posted
        temp = ctx.limits.limit_at(s.site_id, s.t)
        if temp is not None and temp < limit:
            limit = temp
        if not speed > limit:
            return None
        if not looked:
            rec = self._record(s, ctx)
        key = self._over(speed, limit, rec, s.vehicle_class)
        if key is None:
            return None
        source = "group" if legal == limit else "posted" if posted == limit else "temporary"
        return _Reading("point", (s,), speed, limit, source, key)

    def _section(self, sec: Section, a: Sighting, b: Sighting, ctx: Context) -> _Reading | None:
        dt = b.t - a.t  # raw device times (GA/T 959): never a corrected clock
        if dt <= 0:
            return None
        kmh = sec.length_m * 3.6 / dt
        if kmh > self.config.section_max_kmh:
            return None  # absurd: a device clock is off; no proof of anything
        ratio = self.config.section_point_ratio_max
        if ratio is not None and a.speed_kmh and b.speed_kmh and kmh > ratio * max(a.speed_kmh, b.speed_kmh):
            return None  # implausible against both point readings: a clock, not a speed
        rec = self._record(b, ctx)
        fallback = rec.vehicle_class if rec is not None else None
        # the higher (small-passenger) limit unless both reads say otherwise: never fine what the
        # vehicle may not have done
        both_other = all(_group_of(s.vehicle_class or fallback) is OTHER for s in (a, b))
        group = OTHER if both_other else SMALL
        legal = LEGAL_MAX_KMH[group]
        between = getattr(ctx.limits, "limit_between", None)
        lows: list[int] = []
        constant = True
        posted_min = math.inf
        for n, e in enumerate(sec.edges):
            posted = e.limits_kmh[group]
            posted_min = min(posted_min, posted)
            base = min(legal, posted)
            if between is not None:
                some, whole = between(e.from_node, e.to_node, a.t, b.t)
            elif n == 0:  # only limit_at: read the start site (it watches the first segment) at t1 and t2
                x1, x2 = ctx.limits.limit_at(a.site_id, a.t), ctx.limits.limit_at(a.site_id, b.t)
                some = min((x for x in (x1, x2) if x is not None), default=None)
                whole = x1 if x1 == x2 else None
            else:
                some = whole = None
            low = base if some is None else min(base, some)
            high = base if whole is None else min(base, whole)
            if low != high or (lows and low != lows[0]):
                constant = False
            lows.append(low)
        if not constant and self.config.section_limit == "constant":
            return None
        limit = min(lows)
        key = self._over(kmh, limit, rec, b.vehicle_class, a.vehicle_class)
        if key is None:
            return None
        if self.config.clock_check and not self._clocks_agree(sec, a, b, limit, rec, ctx):
            return None
        source = "group" if legal == limit else "posted" if posted_min == limit else "temporary"
        return _Reading("section", (a, b), kmh, limit, source, key, sec)

    def _clocks_agree(
        self, sec: Section, a: Sighting, b: Sighting, limit: int, rec: RegistryRecord | None, ctx: Context
    ) -> bool:
        """Whether the reading is also over with the devices' estimated offsets removed (an established
        estimate only; an unknown device counts as right). Suppresses, never makes, a reading."""
        model: DeviceClocks | None = ctx.shared.get(CLOCKS)
        if model is None:
            return True
        offsets = []
        for s in (a, b):
            est = model.estimate(s.device_id, s.t)
            offsets.append(est.offset_at(s.t) if est is not None and est.established else 0.0)
        if offsets == [0.0, 0.0]:
            return True
        dt = (b.t - offsets[1]) - (a.t - offsets[0])
        return (
            dt > 0
            and self._over(sec.length_m * 3.6 / dt, limit, rec, b.vehicle_class, a.vehicle_class) is not None
        )

    # ------------------------------------------------------------------ the finding
    def _finding(
        self, readings: Sequence[_Reading], at: Sighting, ctx: Context, judged_by: Sighting | None = None
    ) -> Finding:
        decisive = max(readings, key=lambda r: (r.ratio, r.kind == "section"))
        kinds = {r.kind for r in readings}
        rule = "point+section" if len(kinds) == 2 else decisive.kind
        penalty = assess(decisive.measured, decisive.limit, decisive.key)
        by_ref = {s.ref: s for r in readings for s in r.sightings}
        if judged_by is not None:
            by_ref[judged_by.ref] = judged_by
        evidence = tuple(sorted(by_ref.values(), key=lambda s: (s.t, s.ref)))
        basis = [*_LIMIT_BASIS[decisive.source], *penalty.legal_basis]
        section = next((r for r in readings if r.kind == "section"), None)
        thresholds = dict(self._thresholds)
        if section is not None:
            basis.insert(0, _SECTION_BASIS)
            thresholds.update(self._section_thresholds)
        payload: dict[str, Any] = {
            "measured_kmh": round(decisive.measured, 1),
            "limit_kmh": decisive.limit,
            "limit_source": decisive.source,
            "overspeed_pct": round(decisive.ratio * 100, 2),
            "band": penalty.band,
            "points": penalty.points,
            "fine_yuan": penalty.fine_yuan,
            "key_vehicle": decisive.key,
            "legal_basis": basis,
            "title_zh": (
                f"{_KEY_ZH if decisive.key else '机动车'}在高速公路上行驶超过规定时速"
                f"{_BAND_ZH[penalty.band]}（{_METHOD_ZH[rule]}）"
            ),
            "readings": [
                {
                    "kind": r.kind,
                    "site_id": r.sightings[-1].site_id,
                    "measured_kmh": round(r.measured, 1),
                    "limit_kmh": r.limit,
                    "limit_source": r.source,
                    "overspeed_pct": round(r.ratio * 100, 2),
                    **({"from_site_id": r.sightings[0].site_id} if r.kind == "section" else {}),
                }
                for r in sorted(readings, key=lambda r: (r.sightings[-1].t, r.kind))
            ],
        }
        if section is not None and section.section is not None:
            payload["section_m"] = section.section.length_m
            payload["section_s"] = round(section.sightings[1].t - section.sightings[0].t, 3)
        if penalty.licence_may_be_revoked:
            payload["licence_may_be_revoked"] = True
        rec = ctx.registry.get(at.vehicle_key)
        if (rec is not None and rec.use in self._review_uses) or at.plate_no.endswith(self._review_suffixes):
            payload["review_only"] = True
            payload["legal_basis"] = [*basis, _ART_53]
        return Finding(
            detector=NAME,
            version=self.version,
            rule=rule,
            vehicle_key=at.vehicle_key,
            plate_no=at.plate_no,
            at=at,
            evidence=evidence,
            thresholds=thresholds,
            payload=payload,
            severity=penalty.severity,
        )
