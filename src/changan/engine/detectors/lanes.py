"""Lane rules on the expressway: heavy vehicles in the leftmost lane, the emergency lane, the minimum speed.

Three detectors, each a pure function of the vehicle's trail up to its anchor and the context.
Lanes are numbered from the left in the direction of travel (GA/T 1400 LaneNo).

**truck_left_lane** (:class:`TruckLeftLaneDetector`). On a carriageway of three or more lanes,
large coaches (大型客车) and medium or heavy trucks (中型、重型载货汽车) must not drive in the
leftmost lane, not even to overtake (山东省高速公路交通安全条例 Art. 18 ¶2, Art. 21): one read
in lane 1 is a violation (rule ``three_lane``), 3 points (163号令 Art. 11(3)), a warning or 200 yuan (鲁高速条例
Art. 51(12)(14)). On two lanes they may use the left lane to overtake (Art. 21), so a single read
there proves nothing; the optional rule ``two_lane`` (setting ``two_lane_consecutive_reads``, off by
default) flags N consecutive left-lane reads on two-lane carriageways as an UNCONFIRMED practice,
review only. Who counts, by GA 24.4 class (the registry's class when it has one, else the camera's):
K1x large coaches, H1x heavy and H2x medium trucks, and Q1x/Q2x heavy and medium tractor units
(GB 7258 counts a semi-trailer tractor as a goods vehicle; an interpretation, setting
``class_prefixes``). Light trucks (H3x), mini trucks (H4x), medium coaches (K2x) and an unknown
class are never flagged.

**emergency_lane** (:class:`EmergencyLaneDetector`). Driving in the emergency lane (应急车道) when
not an emergency, rule ``drive``: 6 points (163号令 Art. 10(11)); stopping in it, rule ``stop``:
9 points (Art. 9(3), illegal stopping on an expressway; rules.md §7 marks this as an
interpretation: Art. 9(3) does not name the emergency lane); both a warning or 200 yuan
(鲁高速条例 Art. 51(20); 道路交通安全法实施条例 Art. 82(4), 鲁高速条例 Art. 25). Which reported
lane is the emergency lane is a device convention: ``lanes + 1`` by default (an assumption),
setting ``emergency_lane_no``. Toll sites have no emergency lane (setting ``toll_sites``).

A breakdown is exempt, and cannot be known at the anchor: a vehicle that limps into the emergency
lane and is never seen again has broken down. So:

* a read in the emergency lane at ``stop_below_kmh`` or faster is ``drive`` at once;
* a slower read there is a *breakdown candidate* and gives nothing by itself; when the vehicle
  is seen again (any read that is not itself a candidate) within ``resume_within_s`` of it, it
  had stopped in the emergency lane without breaking down: ``stop``, anchored at that later read,
  evidence (the candidate reads, the later read). It reads only ``trail[:i+1]``;
* a candidate after which the vehicle is not seen for ``breakdown_after_s`` gives, by a timer,
  rule ``breakdown``: 疑似故障停车，请救援, severity normal, ``review_only`` (setting
  ``breakdown_alerts``). It is a call for help, not a violation: evaluations must count it apart
  from the emergency-lane violations (its own rule name).

A read without a speed in the emergency lane is not judged (drive and stop cannot be told apart).

**min_speed** (:class:`MinSpeedDetector`). A point speed below the expressway minimum of
60 km/h (道路交通安全法实施条例 Art. 78 ¶1, 鲁高速条例 Art. 18 ¶1; exactly 60 is legal), rule
``highway``: 3 points (163号令
Art. 11(15)), a warning or 200 yuan (鲁高速条例 Art. 51(11)). Not a violation where the driver
cannot go faster, so nothing is found

* in congestion: at least ``congestion_min_passages`` (3) passages of any vehicle at the site
  in the ``congestion_window_s`` (300 s) strictly before the read, with a median speed below
  ``congestion_median_below_kmh`` (70; the law defines no congestion: UNCONFIRMED practice
  values), from the shared :class:`~changan.engine.traffic.SiteTraffic` (``ctx.shared["traffic"]``,
  built by :meth:`MinSpeedDetector.traffic_model`; without it, or for a passage so late that the
  model no longer holds its window, nothing is found: congestion cannot be ruled out). Other
  vehicles' late passages change this judgement until the anchor settles, so every slow read
  that reaches the congestion test asks for a ``recheck`` and is judged again when it settles;
* while a temporary limit is in force at the site (fog, road works: ``ctx.limits``);
* in the emergency lane or on the shoulder (any lane outside ``1..lanes``: the emergency-lane
  detector judges those reads);
* at toll entry and exit sites (toll lanes: ETC ≤ 5 km/h, 鲁高速条例 Art. 18 ¶1) and service
  areas (≤ 20 km/h inside);
* for a breakdown candidate: a vehicle with a read in the emergency lane or on the shoulder
  slower than ``breakdown_below_kmh`` in the ``breakdown_lookback_s`` before (limping on).

Optional per-lane minimums (条例 Art. 78 ¶3: two lanes, left lane 100 km/h; three or more, the
leftmost 110 and the middle ones 90; a posted sign prevails, and the network holds none), setting
``lane_minimums`` (off by default), rule ``lane``; points for them are not in 163号令 (none given).

**For all three.** Reads whose plate does not identify a vehicle (``x:`` keys) or whose plate
confidence is below ``min_plate_confidence`` are not judged: a violation record must show the
plate clearly (the threshold is a practice value, UNCONFIRMED). A read at the same site as the read
before it, within ``duplicate_within_s``, is another read of one passage and gives nothing of its
own; every other passage is judged on its own (a vehicle driving in the emergency lane past five
cameras gives five ``drive`` findings: whether they are one act is for the policy table). All
findings are severity ``normal``. Police cars, fire engines, ambulances and rescue vehicles on an urgent task are not bound
by lanes or speeds (道路交通安全法 Art. 53; not in rules.md): vehicles with an ``emergency``
(应急) plate, a police plate (classes 23 and 24, plates ending in 警) or an exempt registry use
(应急救援, 警用, 消防, 救护, 工程救险) are never flagged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from changan.engine.context import Context, SiteInfo
from changan.engine.detectors.base import Detector, DetectorConfig, validate_config
from changan.engine.sighting import Finding, Sighting
from changan.engine.traffic import SHARED as TRAFFIC
from changan.engine.traffic import SiteTraffic
from changan.engine.trail import VehicleState
from changan.plates.key import UNIDENTIFIED_PREFIX

_UNSET: Any = object()  # a cache miss

TRUCK_LEFT_LANE = "truck_left_lane"
EMERGENCY_LANE = "emergency_lane"
MIN_SPEED = "min_speed"

# ------------------------------------------------------------------------------ legal texts
_LU = "《山东省高速公路交通安全条例》"
_REG = "《道路交通安全法实施条例》"
_POINTS = "《道路交通安全违法行为记分管理办法》"

_TRUCK_BASIS = (
    f"{_LU}第十八条第二款",
    f"{_LU}第二十一条",
    f"{_POINTS}第十一条第三项",
    f"{_LU}第五十一条第十二项、第十四项",
)
_DRIVE_BASIS = (
    f"{_REG}第八十二条第四项",
    f"{_LU}第二十五条",
    f"{_POINTS}第十条第十一项",
    f"{_LU}第五十一条第二十项",
)
_STOP_BASIS = (f"{_REG}第八十二条第四项", f"{_POINTS}第九条第三项", f"{_LU}第五十一条第二十项")
_BREAKDOWN_BASIS = (f"{_REG}第八十二条第四项", f"{_LU}第二十二条、第二十三条")
_MIN_BASIS = (
    f"{_REG}第七十八条第一款",
    f"{_LU}第十八条第一款",
    f"{_POINTS}第十一条第十五项",
    f"{_LU}第五十一条第十一项",
)
_LANE_MIN_BASIS = (f"{_REG}第七十八条第三款", f"{_LU}第十八条第二款", f"{_LU}第五十一条第十一项")

_PENALTY_ZH = "警告或罚款200元"


# ------------------------------------------------------------------------------ settings
class LaneReadConfig(DetectorConfig):
    """Settings the three lane detectors share: which reads are judged, and who is exempt."""

    min_plate_confidence: float = Field(
        default=90.0,
        ge=0,
        le=100,
        description="Reads with a plate confidence (0–100) below this are not judged: a violation record must "
        "show the plate clearly. A practice value, UNCONFIRMED. Reads without a confidence are judged.",
    )
    duplicate_within_s: float = Field(
        default=2.0,
        ge=0,
        description="A read at the same site as the vehicle's read before it, within this time, is another "
        "read of the same passage (a site's second camera) and gives nothing of its own.",
    )
    exempt_plate_kinds: tuple[str, ...] = Field(
        default=("emergency",),
        description="Plate kinds (changan.plates.PlateKind values) never flagged: 应急 plates (道路交通安全法 "
        "Art. 53, urgent tasks).",
    )
    exempt_plate_classes: tuple[str, ...] = Field(
        default=("23", "24"),
        description="GA 24.7 plate classes never flagged: police cars and motorcycles (Art. 53).",
    )
    exempt_plate_suffixes: tuple[str, ...] = Field(
        default=("警", "应急"),
        description="Plate endings never flagged: police and emergency plates (Art. 53).",
    )
    exempt_uses: tuple[str, ...] = Field(
        default=("应急救援", "警用", "消防", "救护", "工程救险"),
        description="Registry uses (使用性质) never flagged: emergency, police, fire, ambulance and rescue "
        "vehicles (Art. 53).",
    )


class TruckLeftLaneConfig(LaneReadConfig):
    class_prefixes: tuple[str, ...] = Field(
        default=("K1", "H1", "H2", "Q1", "Q2"),
        min_length=1,
        description="GA 24.4 class prefixes of the vehicles kept out of the leftmost lane (鲁高速条例 Art. 18 "
        "¶2): K1x large coaches, H1x heavy and H2x medium trucks; Q1x/Q2x heavy and medium tractor units "
        "are counted as goods vehicles (GB 7258; an interpretation).",
    )
    two_lane_consecutive_reads: int = Field(
        default=0,
        ge=0,
        description="0: off. N ≥ 2: N consecutive reads in the left lane of two-lane carriageways (within "
        "two_lane_within_s) are flagged as not keeping to the right lane after overtaking (鲁高速条例 Art. 21). "
        "UNCONFIRMED practice: the law allows the left lane for overtaking, so these findings are review only.",
    )
    two_lane_within_s: float = Field(
        default=3600.0,
        gt=0,
        description="The N consecutive two-lane reads must lie within this time of each other.",
    )

    @field_validator("two_lane_consecutive_reads")
    @classmethod
    def _not_one(cls, value: int) -> int:
        if value == 1:
            msg = (
                "1 would flag a single read, which overtaking allows (鲁高速条例 Art. 21); use 0 (off) or 2+"
            )
            raise ValueError(msg)
        return value

    @field_validator("class_prefixes")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not p.strip() for p in value):
            msg = "an empty prefix would match every vehicle class"
            raise ValueError(msg)
        return tuple(p.strip().upper() for p in value)


class EmergencyLaneConfig(LaneReadConfig):
    emergency_lane_no: Literal["lanes_plus_one"] | Annotated[int, Field(ge=0)] = Field(
        default="lanes_plus_one",
        description="The lane number devices report for the emergency lane: 'lanes_plus_one' (the lane right "
        "of the carriageway's last; an assumption, devices differ) or a fixed number (e.g. 0 or 9); a fixed "
        "number that is a traffic lane at a site (1..lanes) means that site reports no emergency lane.",
    )
    stop_below_kmh: float = Field(
        default=30.0,
        gt=0,
        description="A read in the emergency lane slower than this is a stop (or a breakdown), not driving.",
    )
    resume_within_s: float = Field(
        default=1800.0,
        gt=0,
        description="A vehicle seen again within this time of a slow emergency-lane read (travel to the next "
        "camera included) did not break down: it stopped there (rule stop). Practice value, UNCONFIRMED.",
    )
    breakdown_alerts: bool = Field(
        default=True,
        description="Raise rule 'breakdown' (疑似故障停车，请救援; review only, never a violation) when a "
        "vehicle is not seen again within breakdown_after_s of a slow emergency-lane read.",
    )
    breakdown_after_s: float = Field(
        default=600.0,
        gt=0,
        description="How long after a slow emergency-lane read, without another read, a breakdown is assumed.",
    )
    toll_sites: bool = Field(
        default=False,
        description="Judge toll entry and exit sites too (a toll plaza has no emergency lane: off).",
    )


class MinSpeedConfig(LaneReadConfig):
    minimum_kmh: float = Field(
        default=60.0, gt=0, description="The expressway minimum speed (道路交通安全法实施条例 Art. 78 ¶1)."
    )
    congestion_window_s: float = Field(
        default=300.0,
        gt=0,
        description="Congestion is judged from the other passages at the site in this time before the read.",
    )
    congestion_min_passages: int = Field(
        default=3,
        ge=1,
        description="Fewer passages than this in the window: too little traffic to call it congested.",
    )
    congestion_median_below_kmh: float = Field(
        default=70.0,
        gt=0,
        description="Congested when the median speed in the window is below this (no legal definition: a "
        "practice value, UNCONFIRMED).",
    )
    congestion_late_s: float = Field(
        default=600.0,
        ge=0,
        description="The traffic model (traffic_model()) keeps this much more history, so that a passage "
        "arriving up to this long after the watermark passed it is still judged; later ones are not. "
        "Costs 24 bytes per passage of this much traffic, network-wide.",
    )
    suppress_at_toll_sites: bool = Field(
        default=True, description="Judge no read at toll entry or exit sites (vehicles slow down there)."
    )
    suppress_at_service_areas: bool = Field(
        default=True,
        description="Judge no read at service-area sites (≤ 20 km/h inside, 鲁高速条例 Art. 18).",
    )
    breakdown_below_kmh: float = Field(
        default=30.0,
        gt=0,
        description="A read outside the traffic lanes (emergency lane, shoulder) slower than this marks a "
        "breakdown candidate …",
    )
    breakdown_lookback_s: float = Field(
        default=1800.0,
        ge=0,
        description="… and the vehicle is not judged for this long after it (a damaged vehicle limping on).",
    )
    lane_minimums: bool = Field(
        default=False,
        description="Also judge the per-lane minimums of 条例 Art. 78 ¶3 (rule 'lane'); off by default: posted "
        "signs prevail and the network has none, and 163号令 gives no points for them.",
    )
    two_lane_left_kmh: float = Field(default=100.0, gt=0, description="Two lanes: the left lane's minimum.")
    three_lane_left_kmh: float = Field(
        default=110.0, gt=0, description="Three or more lanes: the leftmost lane's minimum."
    )
    three_lane_middle_kmh: float = Field(
        default=90.0, gt=0, description="Three or more lanes: the middle lanes' minimum."
    )
    lane_shortfall_pct: float = Field(
        default=0.0,
        ge=0,
        lt=100,
        description="A per-lane reading counts only this far below the lane minimum, in % (rules.md cites "
        "鲁高速条例 Art. 51(11) for 'more than 20 % below' in the left lane: UNCONFIRMED).",
    )


# ------------------------------------------------------------------------------ shared helpers
class _Reads:
    """Which reads are judged at all, and who is exempt (one per detector, from its settings)."""

    __slots__ = ("classes", "confidence", "dup_s", "kinds", "suffixes", "uses")

    def __init__(self, cfg: LaneReadConfig) -> None:
        self.confidence = cfg.min_plate_confidence
        self.dup_s = cfg.duplicate_within_s
        self.kinds = frozenset(cfg.exempt_plate_kinds)
        self.classes = frozenset(cfg.exempt_plate_classes)
        self.suffixes = tuple(cfg.exempt_plate_suffixes)
        self.uses = frozenset(cfg.exempt_uses)

    def readable(self, s: Sighting) -> bool:
        c = s.plate_confidence
        return (c is None or c >= self.confidence) and not s.vehicle_key.startswith(UNIDENTIFIED_PREFIX)

    def repeat(self, trail: Sequence[Sighting], i: int) -> bool:
        """Whether ``trail[i]`` is a second read of the passage read just before it."""
        if i == 0:
            return False
        p, s = trail[i - 1], trail[i]
        return p.site_id == s.site_id and s.t - p.t <= self.dup_s and self.readable(p)

    def exempt(self, s: Sighting, ctx: Context) -> bool:
        if s.plate_kind in self.kinds or s.plate_class in self.classes:
            return True
        if self.suffixes and s.plate_no.endswith(self.suffixes):
            return True
        if self.uses:
            rec = ctx.registry.get(s.vehicle_key)
            if rec is not None and rec.use in self.uses:
                return True
        return False

    def thresholds(self) -> dict[str, Any]:
        return {"min_plate_confidence": self.confidence, "duplicate_within_s": self.dup_s}


def _finding(
    d: Detector,
    rule: str,
    at: Sighting,
    evidence: tuple[Sighting, ...],
    thresholds: Mapping[str, Any],
    **payload: Any,
) -> Finding:
    return Finding(
        detector=d.name,
        version=d.version,
        rule=rule,
        vehicle_key=at.vehicle_key,
        plate_no=at.plate_no,
        at=at,
        evidence=evidence,
        thresholds=thresholds,
        payload=payload,
        severity="normal",
    )


# ------------------------------------------------------------------------------ truck_left_lane
class TruckLeftLaneDetector(Detector):
    """Large coaches and medium or heavy trucks in the leftmost lane (鲁高速条例 Art. 18 ¶2, Art. 21)."""

    name: ClassVar[str] = TRUCK_LEFT_LANE
    version: ClassVar[int] = 1

    def __init__(self, config: TruckLeftLaneConfig | None = None) -> None:
        self.config = cfg = config or TruckLeftLaneConfig()
        self._reads = _Reads(cfg)
        self._prefixes = cfg.class_prefixes
        self._n2 = cfg.two_lane_consecutive_reads
        self._within = cfg.two_lane_within_s
        self._on = cfg.enabled
        # the consecutive two-lane reads must still be in the trail
        self.trail_s = cfg.two_lane_within_s if self._n2 else 0.0
        self._thresholds: dict[str, Any] = {
            "class_prefixes": list(cfg.class_prefixes),
            "min_lanes": 3,
            "lane_no": 1,
            **self._reads.thresholds(),
        }
        self._two_lane_thresholds = {
            **self._thresholds,
            "min_lanes": 2,
            "two_lane_consecutive_reads": self._n2,
            "two_lane_within_s": self._within,
        }

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> TruckLeftLaneDetector:
        return cls(validate_config(TruckLeftLaneConfig, TRUCK_LEFT_LANE, raw))

    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        trail = v.trail
        s = trail[i]
        if s.lane_no != 1 or not self._on:
            return ()
        site = ctx.sites.get(s.site_id)
        if site is None:
            return ()
        lanes = site.lanes
        if lanes < 2 or (lanes == 2 and not self._n2):
            return ()
        rec = ctx.registry.get(s.vehicle_key)
        if rec is not None and rec.vehicle_class:
            cls, source = rec.vehicle_class, "registry"
        elif s.vehicle_class:
            cls, source = s.vehicle_class, "camera"
        else:
            return ()  # unknown class: never a violation
        cls = cls.upper()
        reads = self._reads
        if not cls.startswith(self._prefixes) or not reads.readable(s) or reads.repeat(trail, i):
            return ()
        if reads.exempt(s, ctx):
            return ()
        if lanes >= 3:
            return (
                _finding(
                    self,
                    "three_lane",
                    s,
                    (s,),
                    self._thresholds,
                    lane_no=1,
                    lanes=lanes,
                    vehicle_class=cls,
                    vehicle_class_source=source,
                    legal_basis=list(_TRUCK_BASIS),
                    points=3,
                    fine_yuan=200,
                    penalty_zh=_PENALTY_ZH,
                    title_zh="大型客车、中重型货车驶入最左侧车道",
                ),
            )
        run = self._two_lane_run(trail, i, ctx)
        if run is None:
            return ()
        return (
            _finding(
                self,
                "two_lane",
                s,
                run,
                self._two_lane_thresholds,
                lane_no=1,
                lanes=2,
                reads=len(run),
                vehicle_class=cls,
                vehicle_class_source=source,
                legal_basis=list(_TRUCK_BASIS[1:]),
                points=3,
                fine_yuan=200,
                penalty_zh=_PENALTY_ZH,
                title_zh="大型客车、中重型货车连续占用左侧车道（疑似超车后未驶回）",
                review_only=True,
                unconfirmed=True,
            ),
        )

    def _two_lane_run(self, trail: Sequence[Sighting], i: int, ctx: Context) -> tuple[Sighting, ...] | None:
        """The N consecutive left-lane passages on two-lane carriageways ending at ``trail[i]``, when the
        run reaches N exactly here (it fires once, not again at N + 1). Reads at sites of fewer than two
        lanes (toll plazas) are skipped; a read of a passage already counted is skipped; any other read
        ends the run."""
        n = self._n2
        since = trail[i].t - self._within
        run = [trail[i]]
        dup = self._reads.dup_s
        k = i - 1
        while k >= 0 and len(run) <= n:
            p = trail[k]
            k -= 1
            if p.t < since:
                break
            site = ctx.sites.get(p.site_id)
            if site is None or site.lanes < 2:
                continue
            if site.lanes != 2 or p.lane_no != 1:
                break
            last = run[-1]
            if p.site_id == last.site_id and last.t - p.t <= dup:
                continue
            run.append(p)
        if len(run) != n:
            return None
        return tuple(reversed(run))


# ------------------------------------------------------------------------------ emergency_lane
class EmergencyLaneDetector(Detector):
    """Driving (6 points) and stopping (9 points) in the emergency lane; breakdowns exempt."""

    name: ClassVar[str] = EMERGENCY_LANE
    version: ClassVar[int] = 1

    def __init__(self, config: EmergencyLaneConfig | None = None) -> None:
        self.config = cfg = config or EmergencyLaneConfig()
        self._reads = _Reads(cfg)
        self._slow = cfg.stop_below_kmh
        self._resume = cfg.resume_within_s
        self._after = cfg.breakdown_after_s
        self._alerts = cfg.breakdown_alerts and cfg.enabled
        self._on = cfg.enabled
        self.trail_s = max(cfg.resume_within_s, cfg.breakdown_after_s if cfg.breakdown_alerts else 0.0)
        self._lane_of: dict[str, int | None] = {}  # site id → its emergency lane's number (None: none)
        base = {"emergency_lane_no": cfg.emergency_lane_no, **self._reads.thresholds()}
        self._drive_thresholds = {**base, "stop_below_kmh": self._slow}
        self._stop_thresholds = {**base, "stop_below_kmh": self._slow, "resume_within_s": self._resume}
        self._breakdown_thresholds = {**base, "stop_below_kmh": self._slow, "breakdown_after_s": self._after}

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> EmergencyLaneDetector:
        return cls(validate_config(EmergencyLaneConfig, EMERGENCY_LANE, raw))

    # ------------------------------------------------------------------ which lane
    def emergency_lane(self, site_id: str, ctx: Context) -> int | None:
        """The lane number that is the emergency lane at ``site_id`` (None: the site has none)."""
        try:
            return self._lane_of[site_id]
        except KeyError:
            pass
        site = ctx.sites.get(site_id)
        lane: int | None = None
        if site is not None and (self.config.toll_sites or not (site.is_entry or site.is_exit)):
            convention = self.config.emergency_lane_no
            if not isinstance(convention, int):
                lane = site.lanes + 1
            elif not 1 <= convention <= site.lanes:
                lane = convention
        self._lane_of[site_id] = lane
        return lane

    def _in_lane(self, s: Sighting, ctx: Context) -> bool:
        lane = s.lane_no
        if lane is None:
            return False
        el = self._lane_of.get(s.site_id, _UNSET)
        return lane == (self.emergency_lane(s.site_id, ctx) if el is _UNSET else el)

    def candidate(self, s: Sighting, ctx: Context) -> bool:
        """A breakdown candidate: a read in the emergency lane slower than ``stop_below_kmh``."""
        speed = s.speed_kmh
        return speed is not None and speed < self._slow and self._in_lane(s, ctx)

    # ------------------------------------------------------------------ judging
    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        trail = v.trail
        s = trail[i]
        lane = s.lane_no
        if lane is None or not self._on:
            return ()
        el = self._lane_of.get(s.site_id, _UNSET)
        if el is _UNSET:
            el = self.emergency_lane(s.site_id, ctx)
        out: list[Finding] = []
        if lane == el:
            speed = s.speed_kmh
            if speed is None:
                return ()  # driving or stopped: cannot tell
            if speed < self._slow:
                return ()  # a breakdown candidate: nothing yet
            if self._judged(trail, i, ctx):
                out.append(
                    _finding(
                        self,
                        "drive",
                        s,
                        (s,),
                        self._drive_thresholds,
                        lane_no=lane,
                        lanes=self._lanes(s, ctx),
                        speed_kmh=speed,
                        legal_basis=list(_DRIVE_BASIS),
                        points=6,
                        fine_yuan=200,
                        penalty_zh=_PENALTY_ZH,
                        title_zh="违法占用应急车道行驶",
                    )
                )
        if i:
            p = trail[i - 1]
            slow = p.speed_kmh
            if slow is not None and slow < self._slow and self._in_lane(p, ctx):
                stop = self._stop(trail, i, ctx)
                if stop is not None:
                    out.append(stop)
        return out

    def _judged(self, trail: Sequence[Sighting], i: int, ctx: Context) -> bool:
        reads = self._reads
        s = trail[i]
        return reads.readable(s) and not reads.repeat(trail, i) and not reads.exempt(s, ctx)

    def _lanes(self, s: Sighting, ctx: Context) -> int | None:
        site = ctx.sites.get(s.site_id)
        return site.lanes if site is not None else None

    def _run_before(self, trail: Sequence[Sighting], k: int, ctx: Context) -> list[Sighting]:
        """The breakdown candidates in a row ending at ``trail[k]`` (oldest first)."""
        run: list[Sighting] = []
        while k >= 0 and self.candidate(trail[k], ctx):
            run.append(trail[k])
            k -= 1
        run.reverse()
        return run

    def _stop(self, trail: Sequence[Sighting], i: int, ctx: Context) -> Finding | None:
        """``trail[i]`` (not a candidate) follows slow emergency-lane reads: the vehicle moved on, so it had
        stopped there without breaking down, when it did so within ``resume_within_s``."""
        s = trail[i]
        if self.candidate(s, ctx):
            return None
        last = trail[i - 1]
        gap = s.t - last.t
        if gap > self._resume:
            return None  # a stop that long: a breakdown, repaired on the spot
        if s.site_id == last.site_id and gap <= self._reads.dup_s:
            return None  # another read of the same passage, not the vehicle moving on
        if not self._reads.readable(s) or self._reads.exempt(s, ctx):
            return None
        run = self._run_before(trail, i - 1, ctx)
        slowest = min(r.speed_kmh for r in run if r.speed_kmh is not None)
        return _finding(
            self,
            "stop",
            s,
            (*run, s),
            self._stop_thresholds,
            stopped_at=last.site_id,
            stopped_lane_no=last.lane_no,
            stopped_speed_kmh=slowest,
            seen_again_after_s=round(gap, 3),
            legal_basis=list(_STOP_BASIS),
            points=9,
            fine_yuan=200,
            penalty_zh=_PENALTY_ZH,
            title_zh="违法在应急车道停车",
            interpretation="163号令第九条第三项（高速公路违法停车）未明示应急车道，按高速公路违法停车记9分：解释性适用",
        )

    # ------------------------------------------------------------------ breakdowns (timer)
    def wake_at(self, v: VehicleState, i: int, ctx: Context) -> float | None:
        if not self._alerts:
            return None
        s = v.trail[i]
        speed = s.speed_kmh
        if speed is None or speed >= self._slow or not self._in_lane(s, ctx):
            return None
        if not self._reads.readable(s) or self._reads.exempt(s, ctx):
            return None
        return s.t + self._after

    def on_timer(self, v: VehicleState, due: float, ctx: Context) -> Sequence[Finding]:
        trail = v.trail
        for k in range(len(trail) - 1, -1, -1):
            s = trail[k]
            if s.t + self._after < due:
                break
            if s.t + self._after != due or not self.candidate(s, ctx):
                continue
            if k + 1 < len(trail) and trail[k + 1].t <= due:
                return ()  # seen again by then (a second read of the same passage has its own timer)
            if v.memo_for(self.name) == s.ref:
                return ()  # already raised (the anchor was judged more than once)
            if not self._reads.readable(s) or self._reads.exempt(s, ctx):
                return ()
            v.set_memo(self.name, s.ref)
            run = self._run_before(trail, k, ctx)
            return (
                _finding(
                    self,
                    "breakdown",
                    s,
                    tuple(run),
                    self._breakdown_thresholds,
                    lane_no=s.lane_no,
                    speed_kmh=s.speed_kmh,
                    not_seen_for_s=self._after,
                    legal_basis=list(_BREAKDOWN_BASIS),
                    title_zh="疑似故障停车，请救援",
                    review_only=True,
                ),
            )
        return ()


# ------------------------------------------------------------------------------ min_speed
class MinSpeedDetector(Detector):
    """Below the expressway minimum speed (条例 Art. 78), outside congestion, fog and road works."""

    name: ClassVar[str] = MIN_SPEED
    version: ClassVar[int] = 1

    def __init__(self, config: MinSpeedConfig | None = None) -> None:
        self.config = cfg = config or MinSpeedConfig()
        self._reads = _Reads(cfg)
        self._minimum = cfg.minimum_kmh
        self._lane_mins = cfg.lane_minimums
        self._short = 1 - cfg.lane_shortfall_pct / 100
        # nothing at or above this speed can be found (the fast path)
        self._ceiling = (
            max(cfg.minimum_kmh, cfg.two_lane_left_kmh, cfg.three_lane_left_kmh, cfg.three_lane_middle_kmh)
            if cfg.lane_minimums
            else cfg.minimum_kmh
        )
        self._window = cfg.congestion_window_s
        self._min_passages = cfg.congestion_min_passages
        self._below = cfg.congestion_median_below_kmh
        self._toll = cfg.suppress_at_toll_sites
        self._sa = cfg.suppress_at_service_areas
        self._bd_kmh = cfg.breakdown_below_kmh
        self._bd_s = cfg.breakdown_lookback_s
        self.trail_s = cfg.breakdown_lookback_s
        self._thresholds: dict[str, Any] = {
            "minimum_kmh": cfg.minimum_kmh,
            "congestion_window_s": cfg.congestion_window_s,
            "congestion_min_passages": cfg.congestion_min_passages,
            "congestion_median_below_kmh": cfg.congestion_median_below_kmh,
            "breakdown_below_kmh": cfg.breakdown_below_kmh,
            "breakdown_lookback_s": cfg.breakdown_lookback_s,
            **self._reads.thresholds(),
        }
        self._lane_thresholds = {
            **self._thresholds,
            "two_lane_left_kmh": cfg.two_lane_left_kmh,
            "three_lane_left_kmh": cfg.three_lane_left_kmh,
            "three_lane_middle_kmh": cfg.three_lane_middle_kmh,
            "lane_shortfall_pct": cfg.lane_shortfall_pct,
        }

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> MinSpeedDetector:
        return cls(validate_config(MinSpeedConfig, MIN_SPEED, raw))

    def shared_models(self, ctx: Context, lateness_s: float) -> Mapping[str, Any]:
        return {"traffic": self.traffic_model(lateness_s)}

    def traffic_model(self, lateness_s: float) -> SiteTraffic:
        """A :class:`SiteTraffic` sized for this detector's window and the core's lateness; put it in
        ``ctx.shared["traffic"]`` before the core is built (the core takes its observers then)."""
        return SiteTraffic(lateness_s=lateness_s, window_s=self._window, late_s=self.config.congestion_late_s)

    def lane_minimum(self, lanes: int, lane_no: int) -> float | None:
        """The per-lane minimum of 条例 Art. 78 ¶3 (None: the lane has none)."""
        cfg = self.config
        if lanes == 2:
            return cfg.two_lane_left_kmh if lane_no == 1 else None
        if lanes >= 3:
            if lane_no == 1:
                return cfg.three_lane_left_kmh
            if lane_no < lanes:
                return cfg.three_lane_middle_kmh
        return None

    def _candidate(self, v: VehicleState, i: int, ctx: Context) -> tuple[str, float, SiteInfo] | None:
        """Everything but congestion: the rule and minimum a slow read breaks, or None."""
        trail = v.trail
        s = trail[i]
        speed = s.speed_kmh
        if speed is None or speed >= self._ceiling or not self.config.enabled:
            return None
        site = ctx.sites.get(s.site_id)
        if site is None:
            return None
        if (self._toll and (site.is_entry or site.is_exit)) or (self._sa and site.at_service_area):
            return None
        lane = s.lane_no
        if lane is not None and not 1 <= lane <= site.lanes:
            return None  # emergency lane or shoulder: the emergency-lane detector's
        if speed < self._minimum:
            rule, minimum = "highway", self._minimum
        elif lane is not None:
            lane_min = self.lane_minimum(site.lanes, lane)
            if lane_min is None or not speed < lane_min * self._short:
                return None
            rule, minimum = "lane", lane_min
        else:
            return None
        reads = self._reads
        if not reads.readable(s) or reads.repeat(trail, i):
            return None
        if ctx.limits.limit_at(s.site_id, s.t) is not None:
            return None  # fog, road works: a temporary limit is in force
        if self._limping(trail, i, ctx):
            return None
        if reads.exempt(s, ctx):
            return None
        return rule, minimum, site

    def _limping(self, trail: Sequence[Sighting], i: int, ctx: Context) -> bool:
        """A slow read outside the traffic lanes in the look-back: a breakdown candidate limping on."""
        since = trail[i].t - self._bd_s
        for k in range(i - 1, -1, -1):
            p = trail[k]
            if p.t < since:
                return False
            speed, lane = p.speed_kmh, p.lane_no
            if speed is not None and speed < self._bd_kmh and lane is not None:
                site = ctx.sites.get(p.site_id)
                if site is not None and not 1 <= lane <= site.lanes:
                    return True
        return False

    def recheck(self, v: VehicleState, i: int, ctx: Context) -> bool:
        """Every slow read the congestion model judges is judged again when it settles: other vehicles'
        late passages before it may still change the traffic it saw."""
        s = v.trail[i]
        speed = s.speed_kmh
        if speed is None or speed >= self._ceiling:
            return False
        return self._candidate(v, i, ctx) is not None

    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        speed = v.trail[i].speed_kmh
        if speed is None or speed >= self._ceiling:
            return ()
        cand = self._candidate(v, i, ctx)
        if cand is None:
            return ()
        traffic: SiteTraffic | None = ctx.shared.get(TRAFFIC)
        s = v.trail[i]
        if traffic is None or not traffic.holds(s.t, self._window):
            return ()  # congestion cannot be ruled out
        state = traffic.state(s.site_id, s.t, self._window)
        median = state.median_kmh
        if state.passages >= self._min_passages and median is not None and median < self._below:
            return ()  # congested
        rule, minimum, site = cand
        traffic_seen = {
            "passages": state.passages,
            "median_kmh": None if median is None else round(median, 1),
        }
        if rule == "highway":
            return (
                _finding(
                    self,
                    rule,
                    s,
                    (s,),
                    self._thresholds,
                    speed_kmh=speed,
                    minimum_kmh=minimum,
                    lane_no=s.lane_no,
                    lanes=site.lanes,
                    traffic=traffic_seen,
                    legal_basis=list(_MIN_BASIS),
                    points=3,
                    fine_yuan=200,
                    penalty_zh=_PENALTY_ZH,
                    title_zh="在高速公路上行驶低于规定最低时速",
                ),
            )
        return (
            _finding(
                self,
                rule,
                s,
                (s,),
                self._lane_thresholds,
                speed_kmh=speed,
                minimum_kmh=minimum,
                lane_no=s.lane_no,
                lanes=site.lanes,
                traffic=traffic_seen,
                legal_basis=list(_LANE_MIN_BASIS),
                points=None,
                fine_yuan=200,
                penalty_zh=_PENALTY_ZH,
                title_zh="低于所在车道规定的最低车速",
                unconfirmed=True,
            ),
        )
