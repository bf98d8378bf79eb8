"""Night bans: long-distance and tourist coaches 02:00–05:00, dangerous goods in their banned hours.

Sources (``/work/shared/research/rules.md`` §5, cited in each finding's ``legal_basis``):

* **Coaches.** 聊城条例 Art. 37 ¶2: long-distance coaches (长途客车) and tourist coaches (旅游客车)
  must not operate 02:00–05:00, except those running relay transport (接驳运输) under the rules;
  fine 200 yuan (Art. 75), no points. 鲁高速条例 Art. 28 ¶2 asks the transport departments to
  promote the same stop. Coaches already on the road are guided to a service area to rest, so a
  coach seen at a service-area site is compliant.
* **Dangerous goods.** Shandong bans dangerous-goods vehicles (危险物品运输车辆) from the
  expressways at night; the current window, 00:00–06:00 since 2021-04-20, comes from a
  **secondary source** (a news page, rules.md §5.2) and is UNCONFIRMED, hence a setting.
  聊城条例 Art. 38: they must not enter in the banned hours, and those already on the road must
  leave at the nearest exit; refusing → 2000 yuan (Art. 76). Forcing through a ban → 2000 yuan
  (鲁高速条例 Art. 57 ¶2); carrying dangerous goods off the approved time → 6 points
  (163号令 Art. 10(5)).

Local time is UTC+8 all year (China has no DST): ``local = t + 8 h``; windows are
:class:`~changan.engine.detectors.fatigue.LocalWindow` (start inclusive, end exclusive). A window
is named by its *night*, the local date on which it starts, which is each detection's subject.

Both detectors read the vehicle's use (使用性质) from the registry: a vehicle the registry does not
know is never judged (absence is not a violation). Only sightings inside the window count: a
coach seen at 01:50 and again at 05:10 gave no evidence of operating in between.

Which sightings count:

* **Misreads.** A read below ``min_plate_confidence`` (90, as in the clone detector), or whose
  camera-read vehicle class is outside the registry's class group (a small car ``K3x`` read with a
  coach's plate), is taken for another vehicle's passage and takes no part.
* **Device clocks.** The window is judged on the device's time (the evidence). With the device-clock
  model in ``ctx.shared["clocks"]`` (:mod:`changan.engine.clocks`), a sighting whose device is known
  to be off counts only if its corrected time is in the window too: the estimate can take a
  sighting out of the window, never put one in. Since the estimate still moves until the anchor
  settles, such anchors ask for a ``recheck``.

Trips (dangerous goods): two consecutive sightings belong to one trip unless the first is at a toll
exit, the second at a toll entry, or there was a rest between them (the fatigue detector's rest
rule, :class:`~changan.engine.detectors.fatigue.RestRule`), or the gap exceeds the keep time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from pydantic import Field, field_validator, model_validator

from changan.engine.context import Context, RegistryRecord
from changan.engine.detectors.base import Detector, DetectorConfig, validate_config
from changan.engine.detectors.fatigue import LocalWindow, RestRule, check_clock, local_clock, local_date
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState

COACH = "night_coach"
DANGEROUS = "dangerous_goods_ban"
CLOCKS = "clocks"  # the device-clock model in Context.shared (changan.engine.clocks), if any


class _ClockEstimate(Protocol):
    established: bool

    def offset_at(self, t: float) -> float: ...


def clock_offset(ctx: Context, s: Sighting) -> float | None:
    """The established clock offset (reported − true time) of the sighting's device, if known."""
    estimate = getattr(ctx.shared.get(CLOCKS), "estimate", None)
    if estimate is None:
        return None
    est: _ClockEstimate | None = estimate(s.device_id, s.t)
    if est is None or not est.established:
        return None
    return float(est.offset_at(s.t))


def ban_night(window: LocalWindow, ctx: Context, s: Sighting) -> int | None:
    """The night whose ban window holds ``s``, by its device's time. A device whose clock is known
    to be off (the clock model) can only take a sighting out of the window, never put one in: the
    estimate avoids false findings and never makes one (ARCHITECTURE §4)."""
    night = window.night_of(s.t)
    if night is None:
        return None
    offset = clock_offset(ctx, s)
    if offset is not None and window.night_of(s.t - offset) != night:
        return None
    return night


def same_vehicle(rec: RegistryRecord, s: Sighting, min_confidence: float) -> bool:
    """The read is this registered vehicle's passage: confident enough, and the camera's vehicle
    class (if read) in the registry's class group (K1 large coach, K2 medium, H1 heavy goods …).
    A look-alike misread of another vehicle's plate usually fails one of the two."""
    c = s.plate_confidence
    if c is not None and c < min_confidence:
        return False
    seen, known = s.vehicle_class, rec.vehicle_class
    return not seen or not known or seen[:2] == known[:2]


def _min_confidence() -> Any:
    return Field(
        default=90.0,
        ge=0,
        le=100,
        description="reads below this confidence are possible misreads (another vehicle's passage) and "
        "take no part (as in the clone detector)",
    )


def _window_consistent(start: str, end: str) -> None:
    if start == end:
        msg = "ban_start and ban_end must differ"
        raise ValueError(msg)


# ============================================================================ coaches
class NightCoachConfig(DetectorConfig):
    uses: list[str] = Field(
        default_factory=lambda: ["公路客运", "旅游客运"],
        description="registry uses (使用性质) of long-distance and tourist coaches (聊城条例 Art. 37 ¶2)",
    )
    ban_start: str = Field(default="02:00", description="start of the ban, local time HH:MM (inclusive)")
    ban_end: str = Field(default="05:00", description="end of the ban, local time HH:MM (exclusive)")
    relay_operators: list[str] = Field(
        default_factory=list,
        description="operators running relay transport (接驳运输), exempt; matched on the registry's operator",
    )
    min_plate_confidence: float = _min_confidence()
    service_area_compliant: bool = Field(
        default=True, description="a coach seen at a service-area site is resting there: compliant"
    )
    fine_yuan: int = Field(default=200, ge=0, description="fine (聊城条例 Art. 75); no points")
    keep_s: float = Field(
        default=3 * 3600,
        gt=0,
        description="keep coaches this long after their last sighting (at least the ban's length, so "
        "that a night is reported once)",
    )

    _check = field_validator("ban_start", "ban_end")(check_clock)

    @model_validator(mode="after")
    def _consistent(self) -> NightCoachConfig:
        _window_consistent(self.ban_start, self.ban_end)
        return self


class NightCoachDetector(Detector):
    """A coach operating in the ban: one detection per coach per night.

    It is anchored at the coach's first sighting inside the window that night (not at a
    service-area site), whose local date is the subject and which is the only evidence. Later
    sightings of the same night give nothing. Earlier sightings that left the trail are remembered
    in ``v.memo["night_coach"]``: the latest night with a folded in-ban sighting. A passage that
    arrives after a later sighting of its night was folded gives nothing (its night is reported).
    A coach seen on the road at 02:05 on its way to a service area is reported: the sighting shows
    it operating in the ban (the guidance to rest comes from the officers the alert informs).
    """

    name: ClassVar[str] = COACH
    version: ClassVar[int] = 1

    def __init__(self, config: NightCoachConfig | None = None) -> None:
        self.config = c = config or NightCoachConfig()
        self.window = LocalWindow(c.ban_start, c.ban_end)
        self._uses = frozenset(c.uses)
        self._relay = frozenset(c.relay_operators)
        self.keep_s = max(c.keep_s, float(self.window.length_s))

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> NightCoachDetector:
        return cls(validate_config(NightCoachConfig, COACH, raw))

    def _parked(self, ctx: Context, s: Sighting) -> bool:
        if not self.config.service_area_compliant:
            return False
        info = ctx.sites.get(s.site_id)
        return info is not None and info.at_service_area

    def _applies(self, ctx: Context, key: str) -> RegistryRecord | None:
        """The coach's record when the ban applies to it (a coach by use, not a relay operator)."""
        rec = ctx.registry.get(key)
        if rec is None or rec.use not in self._uses or rec.operator in self._relay:
            return None
        return rec

    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        if not self.config.enabled:
            return ()
        trail = v.trail
        s = trail[i]
        window = self.window
        if window.night_of(s.t) is None or self._parked(ctx, s):
            return ()  # the hot path: outside the window
        rec = self._applies(ctx, s.vehicle_key)
        if rec is None or not same_vehicle(rec, s, self.config.min_plate_confidence):
            return ()
        night = ban_night(window, ctx, s)
        if night is None:
            return ()
        memo = v.memo_for(COACH)
        if memo is not None and memo >= night:
            return ()  # a sighting of this night already left the trail: it was the first
        start = window.start_of(night)
        for j in range(i - 1, -1, -1):
            p = trail[j]
            if p.t < start:
                break
            if (
                not self._parked(ctx, p)
                and same_vehicle(rec, p, self.config.min_plate_confidence)
                and ban_night(window, ctx, p) == night
            ):
                return ()  # an earlier sighting of this night is the anchor
        c = self.config
        return (
            Finding(
                detector=COACH,
                version=self.version,
                rule="operating",
                subject=local_date(night),
                vehicle_key=s.vehicle_key,
                plate_no=s.plate_no,
                at=s,
                evidence=(s,),
                thresholds={
                    "ban_start": c.ban_start,
                    "ban_end": c.ban_end,
                    "uses": sorted(self._uses),
                    "service_area_compliant": c.service_area_compliant,
                },
                payload={
                    "title_zh": f"长途客车、旅游客车凌晨{window.label()}违规运行",
                    "night": local_date(night),
                    "local_time": local_clock(s.t),
                    "clock_offset_s": clock_offset(ctx, s),
                    "vehicle_use": rec.use,
                    "operator": rec.operator,
                    "points": 0,
                    "fine_yuan": c.fine_yuan,
                    "review_only": False,
                    "legal_basis": [
                        "聊城市道路交通安全条例 第三十七条第二款",
                        "聊城市道路交通安全条例 第七十五条",
                        "山东省高速公路交通安全条例 第二十八条第二款",
                    ],
                },
                severity="serious",
            ),
        )

    def fold(self, v: VehicleState, s: Sighting, ctx: Context) -> None:
        if not self.config.enabled or self.window.night_of(s.t) is None or self._parked(ctx, s):
            return
        night = ban_night(self.window, ctx, s)
        if night is None:
            return
        memo = v.memo_for(COACH)
        if memo is None or night > memo:
            rec = self._applies(ctx, s.vehicle_key)
            if rec is not None and same_vehicle(rec, s, self.config.min_plate_confidence):
                v.set_memo(COACH, night)

    def recheck(self, v: VehicleState, i: int, ctx: Context) -> bool:
        """Judge again when it settles: the clock model may still change its estimate."""
        s = v.trail[i]
        return (
            CLOCKS in ctx.shared
            and self.window.night_of(s.t) is not None
            and self._applies(ctx, s.vehicle_key) is not None
        )

    def keep_for(self, v: VehicleState, ctx: Context) -> float:
        """Long enough to see a night through, for a coach last seen inside the window (before it,
        no state is needed: its next sighting in the window is the night's first)."""
        if not self.config.enabled or not v.trail or self.window.night_of(v.trail[-1].t) is None:
            return 0.0
        return self.keep_s if self._applies(ctx, v.key) is not None else 0.0


# ====================================================================== dangerous goods
class DangerousGoodsBanConfig(DetectorConfig):
    uses: list[str] = Field(
        default_factory=lambda: ["危化品运输"],
        description="registry uses (使用性质) of dangerous-goods vehicles",
    )
    ban_start: str = Field(
        default="00:00",
        description="start of the ban, local time HH:MM (inclusive). UNCONFIRMED: 00:00–06:00 since "
        "2021-04-20 per a secondary source (rules.md §5.2); set it from the current notice",
    )
    ban_end: str = Field(
        default="06:00", description="end of the ban, local time HH:MM (exclusive). UNCONFIRMED, as ban_start"
    )
    min_plate_confidence: float = _min_confidence()
    exempt_operators: list[str] = Field(
        default_factory=list,
        description="operators with a permit (fuel deliveries to service areas, 聊城条例 Art. 38 ¶2)",
    )
    rest_min_s: float = Field(default=20 * 60, gt=0, description="a stop this long ends a trip")
    free_flow_kmh: float = Field(
        default=120, gt=0, description="generous speed for the travel time between two sites (rest rule)"
    )
    entered_fine_yuan: int = Field(
        default=2000, ge=0, description="entering in the ban (鲁高速条例 Art. 57 ¶2; 聊城条例 Art. 76)"
    )
    entered_points: int = Field(default=6, ge=0, description="off the approved time (163号令 Art. 10(5))")
    keep_s: float = Field(
        default=3 * 3600,
        gt=0,
        description="keep dangerous-goods vehicles this long after their last sighting",
    )

    _check = field_validator("ban_start", "ban_end")(check_clock)

    @model_validator(mode="after")
    def _consistent(self) -> DangerousGoodsBanConfig:
        _window_consistent(self.ban_start, self.ban_end)
        return self


class DangerousGoodsBanDetector(Detector):
    """A dangerous-goods vehicle in its banned hours: one detection per trip per night.

    It is anchored at the trip's first sighting inside the window:

    * ``entered``: the trip starts inside the window (a toll-entry sighting, or its first sighting
      after an exit, a rest or none at all): the ban is broken. Evidence: that sighting. It is a
      violation when the entry was seen at a toll-entry site; otherwise (first seen on the main
      line: it may have entered before the ban, unseen) ``review_only``.
    * ``escort``: the vehicle was already on the road when the ban started (its previous sighting,
      on the same trip, is before the window): an alert to escort it to the nearest exit
      (聊城条例 Art. 38), not a violation (``review_only``, severity serious). Evidence: that
      previous sighting and the anchor.

    Only the previous sighting is read (the last one that is not a possible misread), so no memo is
    needed: it is always in the trail for an on-time anchor. A passage older than the whole trail
    is judged as if it were the first. Refusing to leave at the nearest exit (Art. 76) is not
    detected here.
    """

    name: ClassVar[str] = DANGEROUS
    version: ClassVar[int] = 1

    def __init__(self, config: DangerousGoodsBanConfig | None = None) -> None:
        self.config = c = config or DangerousGoodsBanConfig()
        self.window = LocalWindow(c.ban_start, c.ban_end)
        self.rest = RestRule(c.rest_min_s, c.free_flow_kmh)
        self._uses = frozenset(c.uses)
        self._exempt = frozenset(c.exempt_operators)
        self.keep_s = c.keep_s

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> DangerousGoodsBanDetector:
        return cls(validate_config(DangerousGoodsBanConfig, DANGEROUS, raw))

    def _applies(self, ctx: Context, key: str) -> RegistryRecord | None:
        """The vehicle's record when the ban applies to it (dangerous goods by use, no permit)."""
        rec = ctx.registry.get(key)
        if rec is None or rec.use not in self._uses or rec.operator in self._exempt:
            return None
        return rec

    def same_trip(self, ctx: Context, a: Sighting, b: Sighting) -> bool:
        """``a`` then ``b`` are consecutive sightings of one trip."""
        if b.t - a.t > self.keep_s:
            return False  # as if evicted in between: the outcome never depends on eviction
        ia, ib = ctx.sites.get(a.site_id), ctx.sites.get(b.site_id)
        if (ia is not None and ia.is_exit) or (ib is not None and ib.is_entry):
            return False
        return not self.rest.between(ctx, a.t, a.site_id, b.t, b.site_id)

    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        if not self.config.enabled:
            return ()
        s = v.trail[i]
        if self.window.night_of(s.t) is None:
            return ()  # the hot path: outside the window
        rec = self._applies(ctx, s.vehicle_key)
        min_confidence = self.config.min_plate_confidence
        if rec is None or not same_vehicle(rec, s, min_confidence):
            return ()
        night = ban_night(self.window, ctx, s)
        if night is None:
            return ()
        # the previous passage of this vehicle (skipping possible misreads of another's)
        prev = next((p for p in reversed(v.trail[:i]) if same_vehicle(rec, p, min_confidence)), None)
        on_trip = prev is not None and self.same_trip(ctx, prev, s)
        if prev is not None and on_trip and ban_night(self.window, ctx, prev) == night:
            return ()  # the trip was already in the ban: an earlier sighting is the anchor
        c = self.config
        basis = ["聊城市道路交通安全条例 第三十八条第一款"]
        payload: dict[str, Any] = {
            "night": local_date(night),
            "local_time": local_clock(s.t),
            "clock_offset_s": clock_offset(ctx, s),
            "vehicle_use": rec.use,
            "operator": rec.operator,
            "window_source": "secondary (rules.md §5.2), UNCONFIRMED",
        }
        if prev is not None and on_trip:
            rule = "escort"
            evidence: tuple[Sighting, ...] = (prev, s)
            payload |= {
                "title_zh": "危险货物运输车辆禁行时段前已在高速公路上行驶：引导就近出口驶离",
                "seen_before_ban_at": local_clock(prev.t),
                "review_only": True,
                "points": 0,
                "legal_basis": basis,
            }
            severity = "serious"
        else:
            rule = "entered"
            evidence = (s,)
            info = ctx.sites.get(s.site_id)
            at_entry = info is not None and info.is_entry
            payload |= {
                "title_zh": "危险货物运输车辆禁行时段驶入高速公路"
                + ("" if at_entry else "（未见入口，待核查）"),
                "entry": "toll_entry" if at_entry else "first_seen",
                "review_only": not at_entry,
                "points": c.entered_points,
                "fine_yuan": c.entered_fine_yuan,
                "legal_basis": [
                    *basis,
                    "聊城市道路交通安全条例 第七十六条",
                    "山东省高速公路交通安全条例 第五十七条第二款",
                    "道路交通安全违法行为记分管理办法 第十条第（五）项",
                ],
            }
            severity = "critical" if at_entry else "serious"
        return (
            Finding(
                detector=DANGEROUS,
                version=self.version,
                rule=rule,
                subject=local_date(night),
                vehicle_key=s.vehicle_key,
                plate_no=s.plate_no,
                at=s,
                evidence=evidence,
                thresholds={
                    "ban_start": c.ban_start,
                    "ban_end": c.ban_end,
                    "uses": sorted(self._uses),
                    "rest_min_s": c.rest_min_s,
                    "free_flow_kmh": c.free_flow_kmh,
                },
                payload=payload,
                severity=severity,
            ),
        )

    def recheck(self, v: VehicleState, i: int, ctx: Context) -> bool:
        """Judge again when it settles: the clock model may still change its estimate."""
        s = v.trail[i]
        return (
            CLOCKS in ctx.shared
            and self.window.night_of(s.t) is not None
            and self._applies(ctx, s.vehicle_key) is not None
        )

    def keep_for(self, v: VehicleState, ctx: Context) -> float:
        """Long enough that a trip's previous sighting is still there at its first one in the ban:
        only for a vehicle last seen in the window or less than ``keep_s`` before it starts."""
        if not self.config.enabled or not v.trail:
            return 0.0
        t = v.trail[-1].t
        window = self.window
        if window.night_of(t) is None and window.start_of(window.latest(t) + 1) - t > self.keep_s:
            return 0.0
        return self.keep_s if self._applies(ctx, v.key) is not None else 0.0
