"""Cloned plate (套牌): one vehicle key on two vehicles at once.

Using another vehicle's plate: 12 points (163号令 Art. 8(3)); plate confiscated,
vehicle detained, 2000–5000 yuan (道交法 Art. 96 ¶3). A clone is an alert, never
an automatic violation: a reviewer compares the images.

Rules (``Finding.rule``):

* ``impossible_travel``: two sightings of the key closer in time than the
  fastest plausible drive between their sites: ``|Δt| + slack_s < fastest``.
  The fastest drive must be a *lower bound* on any real trip, and vehicles may
  leave the expressway and take ordinary roads, so the network distance alone
  is no bound. It is the larger of two bounds (:class:`Geometry`):

  1. the great-circle distance between the sites' nodes (their positions are
     estimated), never more than the network distance either way, less
     ``position_error_m``, driven at ``max_speed_kmh`` (180): a bound on any
     trip whatever roads it takes;
  2. the fastest route that keeps to the expressway at ``max_speed_kmh``, or
     leaves it at an access node (toll station, interchange, border), crosses
     to another one *as the crow flies* at ``offroad_speed_kmh`` (120: no
     ordinary road averages that, and none is straight), and rejoins it. This
     assumes the network lists every place a vehicle can leave the expressway;
     set ``offroad_speed_kmh`` to None to rely on the first bound only.

  Sites closer than ``min_distance_m`` (first bound) never fire; the bound is
  symmetric, so a pair reported in the wrong order by an off clock is judged
  the same.
* ``same_time``: the same, with both sightings within ``same_time_s``.
* ``repeat_at_site``: one camera reads the key twice, ``repeat_min_s`` (20 s)
  or more apart, both times moving (point speeds of ``repeat_min_speed_kmh``
  or more; without speeds, never), sooner than the fastest loop back to that
  site in the same direction (on to a place to turn, and back: bound 2), less
  ``repeat_slack_s`` (10 s: one camera, so no clock error to allow for). Two
  vehicles in convoy on one plate. A camera's double report of one passage
  comes within seconds.
* ``attribute_conflict``: the key's confident reads split into vehicle classes
  a camera cannot confuse (a car and a heavy truck), each seen at least
  ``attribute_min_reads`` times at ``attribute_min_sites`` places. Camera-read
  classes and colours are noisy, so only groups in ``incompatible_groups``
  count, never a neighbouring class (K2 against K3, H2 against H3). When the
  registry knows the key's class, a conflict with it is the fake-plate
  detector's ``registry_conflict`` (one act, one detection) and this rule stays
  silent. Body colour and brand take part only when enabled (their camera
  vocabularies are noisy and differ from the registry's).

It does not fire on:

* **duplicate reads**: two sightings at one node (the same site, or its other
  camera) are never a pair; and a read that has a twin (the same site, another
  device, within ``duplicate_window_s``) takes no part in a pair at all, since
  one of the two cameras' clocks is off and we cannot tell which;
* **misreads**: reads below ``min_plate_confidence`` take no part; a read whose
  plate is one look-alike character (0/D/Q, 8/B, 1/7, 2/Z, 5/S, 6/G, or the
  province character) from another registered key of the same plate class whose
  vehicle class agrees better with the read is *probably a misread*: with
  ``misread_policy = "suppress"`` (the default: precision counts, and a misread
  of a densely issued plate lands on a real vehicle's key all the time) the pair
  is dropped; with ``"possible"`` it is reported as ``<rule>_possible``, severity
  normal;
* **device clocks that are off**: with a :class:`~changan.engine.clocks.DeviceClocks`
  model in ``ctx.shared["clocks"]``, a pair must be impossible with the raw
  times *and* with the times corrected by every offset each device's clock was
  estimated to have over the last ``clock_history_s`` (an estimate a jam or a
  reset led astray must not make a clone). A device with estimates, none of
  them established, gets ``unestablished_clock_slack_s`` more slack; one the
  model knows nothing of, ``unknown_clock_slack_s``. The estimate can only
  suppress a finding, never make one (ARCHITECTURE §4), and since it changes
  as traffic arrives, anchors whose judgement rests on it ask for a
  ``recheck`` when they settle. Without a clock
  model the raw times are used as they are.

A pair one of whose reads contradicts the registry (a heavy truck on a car's
plate) is a registry conflict first: it is left to the fake-plate detector's
``registry_conflict``, which cites Art. 96 ¶3 as well (one act, one detection;
``defer_registry_conflicts``).

Each anchor gives at most one finding per rule: the most decisive pair.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from changan.engine.clocks import SHARED as CLOCKS
from changan.engine.clocks import ClockConfig, DeviceClocks
from changan.engine.context import Context, Registry, RegistryRecord
from changan.engine.detectors.base import Detector, DetectorConfig, validate_config
from changan.engine.detectors.watchlist import DEFAULT_CONFUSIONS, confusion_map
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState
from changan.network import Network, NodeKind
from changan.plates import PROVINCES

NAME = "clone"
NOT_IDENTIFYING = frozenset({"partial", "none", "unread", "invalid"})

LOOKALIKES: dict[str, str] = confusion_map(DEFAULT_CONFUSIONS)
"""OCR look-alike characters: each key may be read as one of its value's characters."""

CLASS_GROUPS: dict[str, str] = {
    "K1": "large_bus",
    "K2": "medium_bus",
    "K3": "small_car",
    "K4": "small_car",
    "H1": "heavy_truck",
    "H2": "medium_truck",
    "H3": "light_truck",
    "H4": "light_truck",
    "H5": "light_truck",
    "Q": "tractor",
    "M": "motorcycle",
    "N": "tricycle",
}
"""GA 24.4 vehicle-class code prefix (two characters tried first, then one) → class group."""

INCOMPATIBLE_GROUPS: list[tuple[str, str]] = [
    ("small_car", "heavy_truck"),
    ("small_car", "medium_truck"),
    ("small_car", "large_bus"),
    ("small_car", "tractor"),
    ("motorcycle", "small_car"),
    ("motorcycle", "large_bus"),
    ("motorcycle", "medium_bus"),
    ("motorcycle", "heavy_truck"),
    ("motorcycle", "medium_truck"),
    ("motorcycle", "light_truck"),
    ("motorcycle", "tractor"),
]
"""Class groups a camera cannot confuse with each other (neighbouring sizes are left out)."""

COLOUR_FAMILIES: dict[str, str] = {"A": "light", "J": "dark", "E": "red", "C": "yellow", "G": "green"}
"""GA 24.8 body-colour code → family, for the opt-in colour check (grey, silver, blue … stay out)."""
INCOMPATIBLE_COLOURS: list[tuple[str, str]] = [("light", "dark")]

MISREAD_CACHE = 65_536  # look-alike verdicts kept per read (the registry is consulted once per read)

LEGAL_BASIS = ["道交法 Art. 96 ¶3", "163号令 Art. 8(3)"]
POINTS = 12
FINE_YUAN = (2000, 5000)


class PlateAttributes(DetectorConfig):
    """Settings shared by the clone and fake-plate detectors: what counts as a misread and as a
    conflict of vehicle attributes."""

    min_plate_confidence: float = Field(
        default=90.0,
        ge=0,
        le=100,
        description="reads below this confidence are treated as possible misreads and take no part",
    )
    lookalikes: dict[str, str] = Field(
        default_factory=lambda: dict(LOOKALIKES), description="look-alike characters (OCR confusions)"
    )
    province_lookalike: bool = Field(
        default=True, description="the province character counts as a look-alike of every other province"
    )
    class_groups: dict[str, str] = Field(
        default_factory=lambda: dict(CLASS_GROUPS), description="GA 24.4 code prefix → class group"
    )
    incompatible_groups: list[tuple[str, str]] = Field(
        default_factory=lambda: list(INCOMPATIBLE_GROUPS),
        description="pairs of class groups a camera cannot confuse",
    )
    check_colour: bool = Field(
        default=False, description="also compare body colours (camera colours are noisy: off by default)"
    )
    colour_families: dict[str, str] = Field(default_factory=lambda: dict(COLOUR_FAMILIES))
    incompatible_colours: list[tuple[str, str]] = Field(default_factory=lambda: list(INCOMPATIBLE_COLOURS))
    check_brand: bool = Field(
        default=False,
        description="also compare brands (camera and registry brand names differ: off by default)",
    )
    attribute_min_reads: int = Field(default=2, ge=1, description="reads each side of a conflict needs")
    attribute_min_sites: int = Field(default=2, ge=1, description="distinct places those reads come from")

    @field_validator("lookalikes")
    @classmethod
    def _one_char_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for k in value:
            if len(k) != 1:
                msg = f"look-alike keys must be single characters, not {k!r}"
                raise ValueError(msg)
        return value


class CloneConfig(PlateAttributes):
    max_speed_kmh: float = Field(
        default=180.0, gt=0, le=400, description="the fastest plausible average speed between two sites"
    )
    slack_s: float = Field(default=60.0, ge=0, description="time a pair must beat the fastest drive by")
    min_distance_m: float = Field(default=3000.0, ge=0, description="closer sites (lower bound) never fire")
    position_error_m: float = Field(
        default=1000.0,
        ge=0,
        description="node positions are estimated: a distance between two nodes may be off by this much",
    )
    offroad_speed_kmh: float | None = Field(
        default=120.0,
        gt=0,
        le=400,
        description="the fastest plausible average off the expressway (as the crow flies, between access "
        "nodes); None: any two places are linked by a straight road driven at max_speed_kmh",
    )
    duplicate_window_s: float = Field(
        default=900.0,
        ge=0,
        description="a read at a site whose other camera read the key within this is a duplicate "
        "(that camera's clock may be off by this much) and takes no part in a pair",
    )
    same_time_s: float = Field(default=5.0, ge=0, description="two sightings this close are the same time")
    repeat_min_s: float | None = Field(
        default=20.0,
        gt=0,
        description="one camera reading the key twice this long apart or more, both times moving, saw "
        "two vehicles if no loop back to the site is that quick; None: off",
    )
    repeat_min_speed_kmh: float = Field(
        default=30.0, ge=0, description="… where both reads show at least this point speed"
    )
    repeat_slack_s: float = Field(
        default=10.0,
        ge=0,
        description="time a repeat must beat the fastest loop by (one clock: no clock error to allow for)",
    )
    max_pair_gap_s: float = Field(
        default=3600.0, gt=0, description="earlier sightings further back are not paired with the anchor"
    )
    clock_history_s: float = Field(
        default=3 * 3600.0,
        ge=0,
        description="a pair must be impossible under every offset a device's clock was estimated to have "
        "over this long (a wrong estimate must not make a clone)",
    )
    unknown_clock_slack_s: float = Field(
        default=600.0,
        ge=0,
        description="extra slack for a device the clock model knows nothing of yet: as far off as a camera "
        "clock is taken to be (the simulator's go to 300 s)",
    )
    unestablished_clock_slack_s: float = Field(
        default=300.0,
        ge=0,
        description="extra slack for a device whose clock has estimates, none established yet",
    )
    defer_registry_conflicts: bool = Field(
        default=True,
        description="a pair one of whose reads contradicts the registry is left to "
        "fake_plate.registry_conflict (one act, one detection)",
    )
    clocks: ClockConfig = Field(
        default_factory=ClockConfig,
        description="the device clock model this detector asks the engine for (lateness: the engine's)",
    )
    misread_policy: Literal["suppress", "possible"] = Field(
        default="suppress",
        description="a pair explained by a probable misread: dropped, or reported as possible",
    )


class Plates:
    """Look-alike neighbours and attribute groups, precomputed from a :class:`PlateAttributes`."""

    def __init__(self, cfg: PlateAttributes) -> None:
        self.cfg = cfg
        self._groups: dict[str, str | None] = {}
        self._incompatible = {frozenset(p) for p in cfg.incompatible_groups}
        self._colour_incompatible = {frozenset(p) for p in cfg.incompatible_colours}
        self._incompatible_with: dict[str, frozenset[str]] = {}
        self._class_conflicts: dict[tuple[str, str], bool] = {}
        self._min_confidence = cfg.min_plate_confidence
        self._check_other = cfg.check_colour or cfg.check_brand
        self._misreads: dict[tuple[int, str], str | None] = {}

    def confident(self, s: Sighting) -> bool:
        c = s.plate_confidence
        return c is None or c >= self._min_confidence

    def group(self, code: str | None) -> str | None:
        if not code:
            return None
        g = self._groups.get(code, "")
        if g == "":
            groups = self.cfg.class_groups
            g = groups.get(code[:2]) or groups.get(code[:1])
            self._groups[code] = g
        return g

    def incompatible_with(self, code: str | None) -> frozenset[str]:
        """The class groups a camera cannot confuse with ``code``'s group."""
        g = self.group(code)
        if g is None:
            return frozenset()
        out = self._incompatible_with.get(g)
        if out is None:
            out = self._incompatible_with[g] = frozenset(
                x for pair in self._incompatible if g in pair for x in pair if x != g
            )
        return out

    def classes_conflict(self, a: str | None, b: str | None) -> bool:
        if a is None or b is None or a == b:
            return False
        held = self._class_conflicts.get((a, b))
        if held is None:
            ga, gb = self.group(a), self.group(b)
            held = ga is not None and gb is not None and frozenset((ga, gb)) in self._incompatible
            if len(self._class_conflicts) < 4096:
                self._class_conflicts[(a, b)] = held
        return held

    def colours_conflict(self, a: str | None, b: str | None) -> bool:
        if not self.cfg.check_colour or not a or not b:
            return False
        fam = self.cfg.colour_families
        fa, fb = fam.get(a), fam.get(b)
        return fa is not None and fb is not None and frozenset((fa, fb)) in self._colour_incompatible

    def brands_conflict(self, a: str | None, b: str | None) -> bool:
        return self.cfg.check_brand and bool(a) and bool(b) and a != b

    def conflicts(self, a: Sighting, b: Sighting) -> list[str]:
        """The attributes on which two reads show two different vehicles."""
        out = []
        if self.classes_conflict(a.vehicle_class, b.vehicle_class):
            out.append("vehicle_class")
        if self.colours_conflict(a.vehicle_color, b.vehicle_color):
            out.append("body_colour")
        if self.brands_conflict(a.vehicle_brand, b.vehicle_brand):
            out.append("brand")
        return out

    def registry_conflicts(self, s: Sighting, rec: RegistryRecord) -> list[str]:
        """The attributes on which a read contradicts the registry record."""
        if not self._check_other:
            return ["vehicle_class"] if self.classes_conflict(s.vehicle_class, rec.vehicle_class) else []
        out = []
        if self.classes_conflict(s.vehicle_class, rec.vehicle_class):
            out.append("vehicle_class")
        if self.colours_conflict(s.vehicle_color, rec.body_colour):
            out.append("body_colour")
        if self.brands_conflict(s.vehicle_brand, rec.brand):
            out.append("brand")
        return out

    def lookalike_plates(self, plate: str) -> Iterator[str]:
        """Every plate one look-alike character away from ``plate``."""
        table = self.cfg.lookalikes
        for i, ch in enumerate(plate):
            if i == 0 and ch in PROVINCES:
                if self.cfg.province_lookalike:
                    for p in PROVINCES:
                        if p != ch:
                            yield p + plate[1:]
                continue
            for alt in table.get(ch, ""):
                yield plate[:i] + alt + plate[i + 1 :]

    def _score(self, seen: str | None, rec: RegistryRecord | None) -> int:
        """How well a read's vehicle class fits a registered vehicle: -1 no such vehicle, 0 a class
        the camera cannot confuse with it, 1 no information or a confusable class, 2 the same
        group, 3 the same code."""
        if rec is None:
            return -1
        reg = rec.vehicle_class
        if not seen or not reg:
            return 1
        if seen == reg:
            return 3
        gs, gr = self.group(seen), self.group(reg)
        if gs is not None and gs == gr:
            return 2
        return 0 if self.classes_conflict(seen, reg) else 1

    def better_match(self, s: Sighting, registry: Registry, own: RegistryRecord | None = None) -> str | None:
        """The key of a registered vehicle one look-alike character away whose class fits the read
        better than the read's own key does: the read is then probably a misread of it."""
        cache_key = (s.ref, s.vehicle_key)
        if cache_key in self._misreads:
            return self._misreads[cache_key]
        own_score = self._score(s.vehicle_class, own if own is not None else registry.get(s.vehicle_key))
        found: str | None = None
        if own_score < 3:
            prefix = f"{s.plate_class}:"
            for plate in self.lookalike_plates(s.plate_no):
                rec = registry.get(prefix + plate)
                if rec is None:
                    continue
                score = self._score(s.vehicle_class, rec)
                if score >= 1 and score > own_score:
                    found = rec.vehicle_key
                    break
        if len(self._misreads) >= MISREAD_CACHE:
            self._misreads.clear()
        self._misreads[cache_key] = found
        return found


_R = 6_371_008.8  # mean Earth radius, metres


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * _R * math.asin(min(1.0, math.sqrt(h)))


ACCESS_KINDS = frozenset({NodeKind.TOLL_STATION, NodeKind.INTERCHANGE, NodeKind.BORDER})
"""Nodes where a vehicle can leave or join the expressway network (and take ordinary roads)."""


class Geometry:
    """Lower bounds on the time a vehicle needs between two sites, in either direction.

    * ``distance_m``: the great-circle distance between the sites' nodes, never more than the
      network distance either way, less ``error_m`` (estimated positions): a bound on any travel.
    * ``fastest_s``: the fastest drive, the larger of two bounds: ``distance_m`` at ``v_max``; and,
      with an off-road speed, the fastest route that keeps to the expressway at ``v_max`` or
      leaves it at an access node (toll station, interchange, border), crosses to another one
      as the crow flies at ``v_off``, and rejoins it. Without an off-road speed, only the first.

    One instance per network and settings (:func:`geometry`); rows are computed on first use.
    """

    def __init__(
        self,
        network: Network,
        *,
        v_max_ms: float,
        v_off_ms: float | None,
        error_m: float,
        min_distance_m: float,
    ) -> None:
        self.network = network
        self.v_max = v_max_ms
        self.v_off = v_off_ms
        self.error = error_m
        self.min_distance = min_distance_m
        self._forward: dict[str, dict[str, float]] = {}
        self._needs: dict[str, tuple[dict[str, float], float]] = {}
        self._loops: dict[str, float] = {}
        self._loop_via: dict[str, float] = {}
        self._access = sorted(n.id for n in network.nodes.values() if n.kind in ACCESS_KINDS)

    def _gc(self, a: str, b: str) -> float | None:
        na, nb = self.network.nodes[a], self.network.nodes[b]
        if na.lat is None or na.lon is None or nb.lat is None or nb.lon is None:
            return None
        return great_circle_m(na.lat, na.lon, nb.lat, nb.lon)

    def distance_m(self, a: str, b: str) -> float | None:
        """Lower bound on the distance between two sites (None: one node, or nothing known)."""
        sites = self.network.sites
        na, nb = sites[a].node_id, sites[b].node_id
        if na == nb:
            return None
        net = self.network
        bounds = [float(d) for d in (net.distance_m(a, b), net.distance_m(b, a)) if d is not None]
        gc = self._gc(na, nb)
        if gc is not None:
            bounds.append(gc)
        return max(0.0, min(bounds) - self.error) if bounds else None

    def _forward_row(self, a: str) -> dict[str, float]:
        """The fastest route from site ``a`` to every site, on and off the expressway."""
        row = self._forward.get(a)
        if row is not None:
            return row
        net = self.network
        v_max = self.v_max
        v_off = self.v_off
        assert v_off is not None
        to_access = {x: d / v_max for x in self._access if (d := net.distance_m(a, x)) is not None}
        via: dict[str, float] = {}  # access node -> fastest arrival there, leaving at any access node
        for y in self._access:
            best = to_access.get(y, math.inf)
            for x, tx in to_access.items():
                gc = self._gc(x, y)
                t = tx + (max(0.0, gc - self.error) / v_off if gc is not None else 0.0)
                if t < best:
                    best = t
            via[y] = best
        row = {}
        for b in net.sites:
            d = net.distance_m(a, b)
            best = d / v_max if d is not None else math.inf
            for y, ty in via.items():
                if ty < best and (d := net.distance_m(y, b)) is not None:
                    best = min(best, ty + d / v_max)
            row[b] = best
        loop = math.inf
        for y, ty in via.items():
            if ty < loop and (d := net.distance_m(y, a)) is not None:
                loop = min(loop, ty + d / v_max)
        self._loop_via[a] = loop if loop < math.inf else 0.0
        self._forward[a] = row
        return row

    def loop_s(self, a: str) -> float:
        """The fastest way back to site ``a`` in its own direction: on to a place where the vehicle
        can turn (an access node), and back. 0 without an off-road speed (a vehicle could turn
        anywhere, for all we assume) and at an access node itself."""
        held = self._loops.get(a)
        if held is None:
            held = 0.0
            if self.v_off is not None and a in self.network.sites:
                self._forward_row(a)
                held = self._loop_via[a]
            self._loops[a] = held
        return held

    def needs(self, a: str) -> tuple[dict[str, float], float]:
        """Per other site at least ``min_distance_m`` away, the fastest plausible drive (s) between
        it and ``a`` either way; and the largest of them."""
        held = self._needs.get(a)
        if held is not None:
            return held
        out: dict[str, float] = {}
        if a in self.network.sites:
            forward = self._forward_row(a) if self.v_off is not None else None
            for b in self.network.sites:
                d = self.distance_m(a, b)
                if d is None or d < self.min_distance:
                    continue
                need = d / self.v_max
                if forward is not None:
                    need = max(need, min(forward[b], self._forward_row(b)[a]))
                out[b] = need
        held = self._needs[a] = (out, max(out.values(), default=0.0))
        return held


_GEOMETRIES: dict[tuple[int, float, float | None, float, float], tuple[Network, Geometry]] = {}


def geometry(network: Network, cfg: CloneConfig) -> Geometry:
    """The (cached) geometry of a network for these settings."""
    v_off = cfg.offroad_speed_kmh / 3.6 if cfg.offroad_speed_kmh is not None else None
    key = (id(network), cfg.max_speed_kmh / 3.6, v_off, cfg.position_error_m, cfg.min_distance_m)
    held = _GEOMETRIES.get(key)
    if held is None or held[0] is not network:
        held = _GEOMETRIES[key] = (
            network,
            Geometry(
                network,
                v_max_ms=key[1],
                v_off_ms=v_off,
                error_m=cfg.position_error_m,
                min_distance_m=cfg.min_distance_m,
            ),
        )
    return held[1]


def _legal() -> dict[str, Any]:
    return {
        "legal_basis": LEGAL_BASIS,
        "points": POINTS,
        "fine_yuan": list(FINE_YUAN),
        "review_only": True,
    }


class CloneDetector(Detector):
    name: ClassVar[str] = NAME
    version: ClassVar[int] = 1

    def __init__(self, config: CloneConfig | None = None) -> None:
        self.config = config or CloneConfig()
        self.plates = Plates(self.config)
        self.trail_s = self.config.max_pair_gap_s
        self._geometry: Geometry | None = None
        # the last anchor judged, and whether its judgement rested on the clock estimates
        self._flag_ref, self._flag = 0, False
        cfg = self.config
        self._enabled = cfg.enabled
        self._min_confidence = cfg.min_plate_confidence
        self._classes_only = not (cfg.check_colour or cfg.check_brand)
        self._min_reads = cfg.attribute_min_reads
        self._bad: dict[str, frozenset[str]] = {}  # class code -> groups it cannot be confused with
        self._v_max = self.config.max_speed_kmh / 3.6
        self._slack = self.config.slack_s
        self._gap = self.config.max_pair_gap_s

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> CloneDetector:
        return cls(validate_config(CloneConfig, NAME, raw))

    def shared_models(self, ctx: Context, lateness_s: float) -> Mapping[str, Any]:
        """The device clock model (``ctx.shared["clocks"]``), with the engine's lateness."""
        return {CLOCKS: DeviceClocks(ctx, self.config.clocks, lateness_s=lateness_s)}

    def _geo(self, ctx: Context) -> Geometry:
        g = self._geometry
        if g is None or g.network is not ctx.sites.network:
            g = self._geometry = geometry(ctx.sites.network, self.config)
        return g

    # ------------------------------------------------------------------ judge
    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        trail = v.trail
        s = trail[i]
        self._flag_ref, self._flag = s.ref, False
        if i == 0 or not self._enabled or s.plate_kind in NOT_IDENTIFYING:
            return ()  # (per-passage keys x:… have non-identifying kinds only)
        c = s.plate_confidence
        if c is not None and c < self._min_confidence:
            return ()
        out = self._travel(trail, i, ctx)
        if self._classes_only:
            # the fast path of the attribute rule: are there enough reads of a class group that
            # cannot be confused with the anchor's? (Most anchors stop here.)
            code = s.vehicle_class
            bad = self._bad.get(code) if code is not None else None
            if bad is None:
                if code is None:
                    return out or ()
                bad = self._bad[code] = self.plates.incompatible_with(code)
            if not bad:
                return out or ()
            group = self.plates.group
            lo = s.t - self._gap
            n = 0
            for j in range(i):
                p = trail[j]
                if p.vehicle_class != code and p.t >= lo and group(p.vehicle_class) in bad:
                    n += 1
            if n < self._min_reads:
                return out or ()
        conflict = self._attributes(trail, i, ctx)
        if conflict is not None:
            return [*(out or ()), conflict]
        return out or ()

    def recheck(self, v: VehicleState, i: int, ctx: Context) -> bool:
        if CLOCKS not in ctx.shared:
            return False
        s = v.trail[i]
        if self._flag_ref != s.ref:
            self.evaluate(v, i, ctx)
        return self._flag

    def _needs(self, ctx: Context, site_id: str) -> tuple[dict[str, float], float]:
        g = self._geometry
        if g is None or g.network is not ctx.sites.network:
            g = self._geo(ctx)
        return g.needs(site_id)

    def _travel(self, trail: list[Sighting], i: int, ctx: Context) -> list[Finding] | None:
        s = trail[i]
        needs, most = self._needs(ctx, s.site_id)
        slack = self._slack
        limit = most - slack  # no pair further back than this can be impossible
        if limit > self._gap:
            limit = self._gap
        st = s.t
        best: dict[str, tuple[float, Finding]] | None = None
        for j in range(i - 1, -1, -1):
            p = trail[j]
            dt = st - p.t
            if dt >= limit:
                break
            need = needs.get(p.site_id)
            if need is None:
                if p.site_id != s.site_id or p.device_id != s.device_id or not self._repeat(p, s, dt):
                    continue
                need = self._geo(ctx).loop_s(s.site_id)
                if dt + self.config.repeat_slack_s >= need or not self.plates.confident(p):
                    continue
            elif dt + slack >= need or not self.plates.confident(p):
                continue
            if self._twinned(trail, j, i) or self._twinned(trail, i, i):
                continue  # a duplicate read by a site's other camera, whose clock may be off
            found = self._pair(p, s, need, dt, ctx)
            if found is not None:
                margin, f = found
                if best is None:
                    best = {}
                held = best.get(f.rule)
                if held is None or margin > held[0]:
                    best[f.rule] = (margin, f)
        return None if best is None else [f for _, f in best.values()]

    def _repeat(self, p: Sighting, s: Sighting, dt: float) -> bool:
        """Whether a second read of the key by the same camera can be a second vehicle: not the same
        passage read twice (``repeat_min_s`` apart at least, both seen moving: a slow or standing
        vehicle may be read again as it creeps along, and without speeds we cannot tell)."""
        cfg = self.config
        if cfg.repeat_min_s is None or dt < cfg.repeat_min_s:
            return False
        low = cfg.repeat_min_speed_kmh
        return all(r.speed_kmh is not None and r.speed_kmh >= low for r in (p, s))

    def _twinned(self, trail: list[Sighting], k: int, i: int) -> bool:
        """Whether ``trail[k]`` has a twin up to the anchor ``i``: a read at the same site by another
        device within ``duplicate_window_s`` (the same passage read twice, one clock off)."""
        r = trail[k]
        window = self.config.duplicate_window_s
        for q in trail[: i + 1]:
            if (
                q is not r
                and q.site_id == r.site_id
                and q.device_id != r.device_id
                and abs(q.t - r.t) <= window
            ):
                return True
        return False

    def _pair(
        self, p: Sighting, s: Sighting, need: float, dt: float, ctx: Context
    ) -> tuple[float, Finding] | None:
        """An impossible pair by the raw times: is it impossible with the clocks too, and not a
        misread? Returns (how far inside the impossible, finding)."""
        cfg = self.config
        clocks = ctx.shared.get(CLOCKS)
        repeat = p.site_id == s.site_id  # one camera, one clock: its offset cancels out
        slack = cfg.repeat_slack_s if repeat else cfg.slack_s
        clock_payload: dict[str, Any] = {}
        dt_c = dt
        if isinstance(clocks, DeviceClocks) and not repeat:
            # every offset each clock may have had lately (and 0): the pair must be impossible
            # whichever of them is right
            self._flag = True
            history = cfg.clock_history_s
            rp, rs = (
                clocks.offset_range(p.device_id, p.t, history),
                clocks.offset_range(s.device_id, s.t, history),
            )
            for r in (rp, rs):
                if r is None:
                    slack += cfg.unknown_clock_slack_s  # nothing known of this clock
                elif not r[2]:
                    slack += cfg.unestablished_clock_slack_s  # estimates, none established yet
            lo_p, hi_p, _ = rp or (0.0, 0.0, False)
            lo_s, hi_s, _ = rs or (0.0, 0.0, False)
            low, high = dt + lo_p - hi_s, dt + hi_p - lo_s  # (s.t − off_s) − (p.t − off_p)
            dt_c = low if abs(low) >= abs(high) else high  # the most forgiving corrected time
            clock_payload = {
                "clock_offsets_s": [[round(lo_p, 1), round(hi_p, 1)], [round(lo_s, 1), round(hi_s, 1)]],
                "clock_estimated": [r is not None and r[2] for r in (rp, rs)],
            }
        if abs(dt_c) + slack >= need:
            return None
        if cfg.defer_registry_conflicts:
            rec = ctx.registry.get(s.vehicle_key)
            if rec is not None and any(self.plates.registry_conflicts(r, rec) for r in (p, s)):
                return None  # one of the two is not the registered vehicle: fake_plate.registry_conflict
        misread = self._misread(p, s, ctx)
        if repeat:
            rule = "repeat_at_site"
        elif dt <= cfg.same_time_s and abs(dt_c) <= cfg.same_time_s:
            rule = "same_time"
        else:
            rule = "impossible_travel"
        severity = "serious"
        if misread is not None:
            if cfg.misread_policy == "suppress":
                return None
            rule += "_possible"
            severity = "normal"
        net = ctx.sites.distance_m(p.site_id, s.site_id)
        payload: dict[str, Any] = {
            **_legal(),
            "title_zh": "疑似套牌：同一号牌短时间内出现在两地"
            if misread is None
            else "可能套牌（其中一次识别可能为误识别）",
            "sites": [p.site_id, s.site_id],
            "distance_lower_bound_m": round(d)
            if (d := self._geo(ctx).distance_m(p.site_id, s.site_id))
            else None,
            "network_distance_m": net,
            "dt_s": round(dt, 3),
            "dt_corrected_s": round(dt_c, 3),
            "fastest_drive_s": round(need, 1),
            **clock_payload,
        }
        if misread is not None:
            payload["probable_misread_of"] = misread
        finding = Finding(
            detector=NAME,
            version=self.version,
            rule=rule,
            vehicle_key=s.vehicle_key,
            plate_no=s.plate_no,
            at=s,
            evidence=(p, s),
            thresholds=self._thresholds(),
            payload=payload,
            severity=severity,
        )
        return need - abs(dt_c) - slack, finding

    def _misread(self, p: Sighting, s: Sighting, ctx: Context) -> str | None:
        for r in (p, s):
            key = self.plates.better_match(r, ctx.registry)
            if key is not None:
                return key
        return None

    def _thresholds(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "max_speed_kmh": cfg.max_speed_kmh,
            "slack_s": cfg.slack_s,
            "min_distance_m": cfg.min_distance_m,
            "position_error_m": cfg.position_error_m,
            "offroad_speed_kmh": cfg.offroad_speed_kmh,
            "same_time_s": cfg.same_time_s,
            "repeat_min_s": cfg.repeat_min_s,
            "repeat_min_speed_kmh": cfg.repeat_min_speed_kmh,
            "repeat_slack_s": cfg.repeat_slack_s,
            "max_pair_gap_s": cfg.max_pair_gap_s,
            "unknown_clock_slack_s": cfg.unknown_clock_slack_s,
            "unestablished_clock_slack_s": cfg.unestablished_clock_slack_s,
            "clock_history_s": cfg.clock_history_s,
            "min_plate_confidence": cfg.min_plate_confidence,
            "misread_policy": cfg.misread_policy,
        }

    # ------------------------------------------------------------- attributes
    def _attributes(self, trail: list[Sighting], i: int, ctx: Context) -> Finding | None:
        """Two vehicles by their attributes: reads of the anchor's kind and reads of a kind that
        cannot be confused with it, each side confirmed; only when the registry is silent."""
        cfg = self.config
        plates = self.plates
        s = trail[i]
        lo = s.t - cfg.max_pair_gap_s
        other = [
            p
            for p in trail[:i]
            if p.t >= lo
            and plates.confident(p)
            and p.plate_kind not in NOT_IDENTIFYING
            and plates.conflicts(p, s)
        ]
        if len(other) < cfg.attribute_min_reads:
            return None
        rec = ctx.registry.get(s.vehicle_key)
        attrs = set().union(*(plates.conflicts(p, s) for p in other))
        if rec is not None:
            # the registry decides which side is the registered vehicle: fake_plate.registry_conflict
            if rec.vehicle_class:
                attrs.discard("vehicle_class")
            if rec.body_colour:
                attrs.discard("body_colour")
            if rec.brand:
                attrs.discard("brand")
        if not attrs:
            return None
        registry = ctx.registry
        other = [
            p
            for p in other
            if set(plates.conflicts(p, s)) & attrs and plates.better_match(p, registry) is None
        ]
        same = [
            p
            for p in trail[:i]
            if p.t >= lo
            and plates.confident(p)
            and p.plate_kind not in NOT_IDENTIFYING
            and not plates.conflicts(p, s)
            and any(plates.conflicts(p, o) for o in other)
        ]
        if plates.better_match(s, registry) is not None:
            return None
        same.append(s)
        side_a = confirmed_reads(other, None, cfg.attribute_min_reads, cfg.attribute_min_sites, ctx)
        side_b = confirmed_reads(same, s, cfg.attribute_min_reads, cfg.attribute_min_sites, ctx)
        if side_a is None or side_b is None:
            return None
        evidence = tuple(sorted({*side_a, *side_b}, key=lambda x: (x.t, x.ref)))
        return Finding(
            detector=NAME,
            version=self.version,
            rule="attribute_conflict",
            vehicle_key=s.vehicle_key,
            plate_no=s.plate_no,
            at=s,
            evidence=evidence,
            thresholds={
                "attribute_min_reads": cfg.attribute_min_reads,
                "attribute_min_sites": cfg.attribute_min_sites,
                "incompatible_groups": [list(p) for p in cfg.incompatible_groups],
                "check_colour": cfg.check_colour,
                "check_brand": cfg.check_brand,
                "min_plate_confidence": cfg.min_plate_confidence,
            },
            payload={
                **_legal(),
                "title_zh": "疑似套牌：同一号牌出现在不同类型的车辆上",
                "attributes": sorted(attrs),
                "seen": sorted(
                    {(x.vehicle_class or "", x.vehicle_color or "", x.vehicle_brand or "") for x in evidence}
                ),
            },
            severity="serious",
        )


def node_of(s: Sighting, ctx: Context) -> str:
    info = ctx.sites.get(s.site_id)
    return info.node_id if info is not None else s.site_id


def confirmed_reads(
    reads: Sequence[Sighting], anchor: Sighting | None, min_reads: int, min_sites: int, ctx: Context
) -> tuple[Sighting, ...] | None:
    """The evidence that ``reads`` (event-time order) reach ``min_reads`` reads at ``min_sites``
    distinct places (nodes): the anchor, if given, and the earliest reads that make it; None if the
    reads do not reach that."""
    if len(reads) < min_reads:
        return None
    if len({node_of(r, ctx) for r in reads}) < min_sites:
        return None
    chosen: list[Sighting] = [anchor] if anchor is not None else []
    seen = {node_of(anchor, ctx)} if anchor is not None else set()
    for r in reads:
        if len(seen) >= min_sites:
            break
        node = node_of(r, ctx)
        if node not in seen:
            seen.add(node)
            chosen.append(r)
    for r in reads:
        if len(chosen) >= min_reads:
            break
        if all(r is not c for c in chosen):
            chosen.append(r)
    return tuple(sorted(chosen, key=lambda x: (x.t, x.ref)))
