"""Fatigue driving (疲劳驾驶): driving runs inferred from the trail, and three limits on them.

Sources (``/work/shared/research/rules.md`` §4, cited in every finding's ``legal_basis``):

* 条例 Art. 62(7): no driving **more than** 4 h continuously without stopping to rest, or
  resting less than 20 min. 鲁高速条例 Art. 28 ¶1 repeats it on Shandong expressways and adds
  **at most 8 h of driving in any 24 h**; ¶2: drivers of passenger vehicles (客运机动车) **at most
  2 h continuously between 22:00 and 05:00** (聊城条例 Art. 37 ¶1 likewise for 道路旅客运输).
* Points (163号令): 9 for a medium-or-larger passenger vehicle or a dangerous-goods vehicle
  (Art. 9(7)), 3 for a goods vehicle (Art. 11(14)), 0 for others. Both items name only the
  4 h / 20 min rule, so the 8 h and night findings carry 0 points. Fine on Shandong expressways:
  a warning or 200 yuan (鲁高速条例 Art. 51(23)); Liaocheng passenger transport 200 yuan
  (聊城条例 Art. 75).

Every finding is **an alert to check, never an automatic violation** (``review_only: true``): a
camera cannot see a change of driver.

Only reads of at least ``min_plate_confidence`` (90, as in the clone detector) take part: a less
confident one may be another vehicle's passage read as this plate.

**Rest.** Between two consecutive sightings ``a`` then ``b`` of a vehicle, with ``gap = b.t - a.t``
and ``travel`` the network distance ``a → b`` (``ctx.sites.distance_m``) at the generous speed
``free_flow_kmh`` (120 km/h by default, so that slow driving is never mistaken for a stop), there
was a rest of at least ``rest_min_s`` (20 min) exactly when ``gap >= rest_min_s`` and one of:

1. *left the expressway*: ``a`` is a toll exit (``is_exit``) or ``b`` a toll entry (``is_entry``):
   the vehicle left and came back, and the whole gap counts (its route off the network is unknown,
   so nothing is subtracted);
2. *no network route*: ``distance_m`` knows no route ``a → b`` (or a site is unknown), or
   ``gap < travel``: it cannot have driven ``a → b`` on the network, so it left it (as in 1);
3. *a stop on the way*: otherwise ``gap - travel >= rest_min_s``: the time not needed to drive
   ``a → b`` is long enough for the rest. A stop at a service area (a site with
   ``at_service_area``) is the usual case; it is judged by this same rule, since the camera there
   shows where the vehicle stopped but not for how long.

A gap longer than the vehicle's keep time (``keep_for``) also starts afresh, exactly as if the
engine had evicted the vehicle in between: the outcome never depends on whether it was evicted.

**Runs and driving time.** A run is a maximal sequence of sightings with no rest between
consecutive ones; it starts at its first sighting. Short stops (under 20 min) do not end a run,
but they are not driving either: as in practice (行驶记录仪 / 北斗 platforms), driving time
*accumulates* across them. Between consecutive sightings ``a``, ``b`` of a run the driving time is
estimated as

* 0 when the vehicle was off the expressway: ``a`` is a toll exit, ``b`` a toll entry, there is no
  network route, or it could not have driven ``a → b`` even at ``max_plausible_kmh`` (200 km/h);
  what it did off the network is unknown, and the benefit of the doubt goes to the driver;
* else ``min(gap, distance / speed)`` with ``speed`` the mean of the two reads' point speeds
  (``speed_kmh``): the rest of the gap was a stop; the whole gap when a speed is missing.

Driving is taken as spread evenly over each such gap. UNCONFIRMED: that 连续驾驶 counts driving
time (not elapsed time) is the practice of the monitoring platforms, not a text of the law.

**The rules**, each a value that must not exceed its limit ("more than": at exactly the limit it
is legal):

* ``continuous``: the run's driving time; limit ``continuous_limit_s`` (4 h).
* ``daily`` (Shandong): the driving time, of all runs, inside the 24 h before the sighting
  (``daily_window_s``; a run partly inside counts in proportion); limit ``daily_limit_s`` (8 h).
* ``night_passenger``: only for registry use containing ``passenger_use_marker`` (客运: a use
  category, not a vehicle class): the run's driving time inside the latest night window
  ``[22:00, 05:00)`` local time that started at or before the sighting; limit ``night_limit_s``
  (2 h).

**Anchored findings.** A sighting ``s`` whose previous sighting ``p`` is in the same run fires a rule
when ``value(p) <= limit < value(s)``: ``s`` is the first sighting beyond the limit. Evidence
``(p, s)``: the two sightings either side of the crossing, with no rest between them; the run's
start is in the payload (its sighting may have left the trail long ago). So each run fires each
rule at most once (the run's driving only grows; the daily total is not re-fired while it stays
over, since ``p`` must be under).

**Timers.** After a sighting ``L`` of an open run, if the vehicle keeps driving the limit is crossed
at ``c = L.t + (limit - value(L))``. ``wake_at`` asks for ``due = c + timer_grace_s`` when ``L`` is
not a toll exit and ``due - L.t < rest_min_s``. ``on_timer`` reads only the sightings at or before
``due``; it recomputes ``c`` from the last of them and gives nothing when ``due`` is not what the
trail now implies (a late passage, or a sighting in between, changed it: the timer is stale). The
vehicle counts as **still on the road** at ``due`` when its last sighting ``L`` at or before ``due``
is not at a toll exit and ``due - L.t < rest_min_s``: a rest of 20 min cannot have been completed
since it was last seen. The value at ``due`` assumes it drove all the time since ``L`` (for the
daily rule the total is computed again at ``due`` and must exceed the limit). The timer's finding
has ``at = L`` and evidence ``(L,)``. A sighting asks for one timer, its rules' earliest ``due``
(two rules crossing within the same few minutes is rare; the later one is then raised by the
next passage only).

**One act, one detection.** The timer and the anchored finding of the same crossing are one
detection: when the timer from ``p`` fired (``s`` came after ``due``, and its conditions held), the
first sighting beyond the limit gives exactly the timer's finding (same evidence, same id),
whichever is computed first. Otherwise only the anchored finding exists. ``timer_grace_s`` is how
long the timer waits for a sighting that proves the crossing before it alerts on inference alone:
with 1 s the timer is due at ``c + 1 s`` (``run start + 4 h + 1 s`` for a run without stops); the
default waits 15 min (less than a rest), so that a vehicle that keeps passing cameras is reported
by the sighting that proves it, while one that vanished from the cameras around the limit is still
raised without a next passage. A timer alert can be contradicted by the next passage (the vehicle
had stopped): it stays, as an alert to check.

**State.** ``trail_s`` is small (30 min); older sightings are folded into ``v.memo["fatigue"]``: the
last folded sighting (time, ref, site, speed), the open run (start time, ref, seq, site; driving
time; night window and driving in it) and the completed runs of the last 24 h (start, end,
driving), and a count of the folded sightings. Evaluation replays the trail on top of this
summary, so the outcome does not depend on where the fold boundary lies. A passage older than the
last folded sighting (arrived too late, after its neighbours were folded) gives nothing and is
skipped by the fold: the run it belongs to was already judged from its neighbours, and it cannot
be placed inside a summary. Only vehicles more than 2 h into a run, or with nearly 8 h of driving
in the day, are replayed at all (cheap upper bounds from the memo tell the others); for those, the state after the last judged sighting is cached (keyed by
its ordinal among the vehicle's sightings, so an insertion before it is noticed) and the next
sighting needs one step.

**Relay operators** (接驳, ``relay_operators``, matched on the registry's ``operator``) may change
drivers: their findings are kept but downgraded to severity ``normal`` with ``relay_operator: true``
in the payload (not skipped, since the change of driver still has to be checked against the relay
log).
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from changan.engine.context import Context, RegistryRecord
from changan.engine.detectors.base import Detector, DetectorConfig, validate_config
from changan.engine.sighting import Finding, Sighting, utc
from changan.engine.trail import VehicleState

NAME = "fatigue"
TIMER_MEMO = "fatigue.timer"  # the due of the last timer that gave findings (duplicate timers)
AFTER_CACHE = 65_536  # vehicles in long runs whose last replayed state is kept

# China Standard Time is UTC+8 all year (China has no daylight saving time), so local wall-clock
# time is simply t + 8 h; no datetime on the hot path.
LOCAL_OFFSET_S = 8 * 3600
DAY_S = 86400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")

DANGEROUS_GOODS_USES = ("危化品运输",)
COMMERCIAL_USES = ("公路客运", "旅游客运", "货运", "危化品运输", "校车")
COMMERCIAL_CLASS_PREFIXES = ("H", "K1", "K2", "Q")


# ----------------------------------------------------------------------------- shared helpers
def clock_s(value: str) -> int:
    """Seconds after local midnight of ``HH:MM`` or ``HH:MM:SS``; ValueError otherwise."""
    m = _CLOCK.match(value)
    if m is None:
        msg = f"{value!r} is not a local time HH:MM or HH:MM:SS"
        raise ValueError(msg)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)


def check_clock(value: str) -> str:
    clock_s(value)
    return value


def local_date(day: int) -> str:
    """ISO date of a local day number (days since 1970-01-01, local time)."""
    return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


def local_clock(t: float) -> str:
    """Local wall-clock time ``HH:MM:SS`` of an epoch time (UTC+8)."""
    sod = int((t + LOCAL_OFFSET_S) % DAY_S)
    return f"{sod // 3600:02d}:{sod % 3600 // 60:02d}:{sod % 60:02d}"


class LocalWindow:
    """A daily window of local time ``[start, end)``, possibly across midnight (22:00–05:00).

    A window is named by its *night*: the local day number (days since 1970-01-01) on which it
    starts. Local time is UTC+8 (no DST in China).
    """

    __slots__ = ("_hi", "_lo", "_night", "end_s", "length_s", "start_s", "wraps")

    def __init__(self, start: str, end: str) -> None:
        self.start_s = clock_s(start)
        self.end_s = clock_s(end)
        if self.start_s == self.end_s:
            msg = "a window needs different start and end times"
            raise ValueError(msg)
        self.wraps = self.start_s > self.end_s
        self.length_s = (self.end_s - self.start_s) % DAY_S
        # the last answer and the span of time it holds for: times mostly move forward, so most
        # look-ups are two comparisons
        self._lo = self._hi = 0.0
        self._night: int | None = None

    def night_of(self, t: float) -> int | None:
        """The night whose window contains ``t``, or None outside every window."""
        if self._lo <= t < self._hi:
            return self._night
        latest = self.latest(t)
        start = self.start_of(latest)
        end = start + self.length_s
        night: int | None = latest
        if t < end:
            self._lo, self._hi = start, end
        else:  # between that window's end and the next one's start
            night = None
            self._lo, self._hi = end, start + DAY_S
        self._night = night
        return night

    def start_of(self, night: int) -> float:
        return float(night * DAY_S + self.start_s - LOCAL_OFFSET_S)

    def end_of(self, night: int) -> float:
        return self.start_of(night) + self.length_s

    def latest(self, t: float) -> int:
        """The latest night whose window starts at or before ``t``."""
        return int((t + LOCAL_OFFSET_S - self.start_s) // DAY_S)

    def label(self) -> str:
        return f"{self.start_s // 3600:02d}:{self.start_s % 3600 // 60:02d}–{self.end_s // 3600:02d}:{self.end_s % 3600 // 60:02d}"


class RestRule:
    """Whether a vehicle rested at least ``min_s`` between two consecutive sightings (rules in the
    module docstring: left the expressway, no network route, or a stop on the way)."""

    __slots__ = ("min_s", "mps")

    def __init__(self, min_s: float, free_flow_kmh: float) -> None:
        self.min_s = min_s
        self.mps = free_flow_kmh / 3.6

    def between(self, ctx: Context, a_t: float, a_site: str, b_t: float, b_site: str) -> bool:
        gap = b_t - a_t
        if gap < self.min_s:
            return False  # the hot path: most consecutive sightings are minutes apart
        sites = ctx.sites
        a = sites.get(a_site)
        b = sites.get(b_site)
        if a is None or b is None or a.is_exit or b.is_entry:
            return True
        d = sites.distance_m(a_site, b_site)
        if d is None:
            return True
        travel = d / self.mps
        return gap < travel or gap - travel >= self.min_s


def registry_use(rec: RegistryRecord | None) -> str:
    return (rec.use or "") if rec is not None else ""


def vehicle_class_of(rec: RegistryRecord | None, s: Sighting) -> str:
    """GA 24.4 class: the registry's, else the camera's read."""
    if rec is not None and rec.vehicle_class:
        return rec.vehicle_class
    return s.vehicle_class or ""


# ------------------------------------------------------------------------------------ config
class FatigueConfig(DetectorConfig):
    continuous_limit_s: float = Field(
        default=4 * 3600, gt=0, description="continuous driving must not exceed this (条例 Art. 62(7))"
    )
    rest_min_s: float = Field(
        default=20 * 60, gt=0, description="a rest must last at least this (条例 Art. 62(7))"
    )
    free_flow_kmh: float = Field(
        default=120,
        gt=0,
        description="generous speed for the travel time between two sites: a rest is the gap minus "
        "the travel at this speed (an engineering setting, lenient to the driver)",
    )
    min_plate_confidence: float = Field(
        default=90.0,
        ge=0,
        le=100,
        description="reads below this confidence are possible misreads (another vehicle's passage) and "
        "take no part (as in the clone detector)",
    )
    max_plausible_kmh: float = Field(
        default=200,
        gt=0,
        description="a gap too short to drive between two sites even at this speed was spent off the "
        "expressway (not counted as driving)",
    )
    daily_limit_s: float = Field(
        default=8 * 3600, gt=0, description="driving in any 24 h must not exceed this (鲁高速条例 Art. 28 ¶1)"
    )
    daily_window_s: float = Field(
        default=24 * 3600, gt=0, description="the sliding window of the daily limit"
    )
    night_limit_s: float = Field(
        default=2 * 3600,
        gt=0,
        description="passenger transport: continuous driving at night must not exceed this (鲁高速条例 Art. 28 ¶2)",
    )
    night_start: str = Field(default="22:00", description="start of the night window, local time HH:MM")
    night_end: str = Field(
        default="05:00", description="end of the night window (exclusive), local time HH:MM"
    )
    passenger_use_marker: str = Field(
        default="客运",
        min_length=1,
        description="registry uses containing this are passenger transport (公路客运, 旅游客运 …)",
    )
    dangerous_goods_uses: list[str] = Field(
        default_factory=lambda: list(DANGEROUS_GOODS_USES),
        description="registry uses of dangerous-goods vehicles (9 points, 163号令 Art. 9(7))",
    )
    relay_operators: list[str] = Field(
        default_factory=list,
        description="operators running relay transport (接驳) who change drivers: their findings are "
        "downgraded to severity normal (kept for checking against the relay log)",
    )
    timer_grace_s: float = Field(
        default=15 * 60,
        ge=1,
        description="the timer is due this long after the crossing: it waits this long for a sighting "
        "that proves the crossing before alerting on inference alone (1: at run start + 4 h + 1 s)",
    )
    fine_yuan: int = Field(default=200, ge=0, description="warning or this fine (鲁高速条例 Art. 51(23))")
    commercial_uses: list[str] = Field(
        default_factory=lambda: list(COMMERCIAL_USES),
        description="registry uses kept for keep_commercial_s (the 24 h rule needs a day of history)",
    )
    commercial_class_prefixes: list[str] = Field(
        default_factory=lambda: list(COMMERCIAL_CLASS_PREFIXES),
        description="vehicle classes (GA 24.4) kept for keep_commercial_s: goods, tractors, coaches",
    )
    keep_commercial_s: float = Field(
        default=24 * 3600, gt=0, description="keep commercial vehicles this long"
    )
    keep_other_s: float = Field(default=4 * 3600, gt=0, description="keep other vehicles this long")
    trail_s: float = Field(
        default=30 * 60,
        gt=0,
        description="sightings kept in the trail before the watermark; older ones are folded into the "
        "memo (must be at least rest_min_s, so that a timer still finds the last sighting)",
    )

    _check_clock = field_validator("night_start", "night_end")(check_clock)

    @model_validator(mode="after")
    def _consistent(self) -> FatigueConfig:
        if self.night_start == self.night_end:
            msg = "night_start and night_end must differ"
            raise ValueError(msg)
        if self.timer_grace_s >= self.rest_min_s:
            msg = "timer_grace_s must be shorter than rest_min_s (the timer could never fire)"
            raise ValueError(msg)
        if self.trail_s < self.rest_min_s:
            msg = "trail_s must be at least rest_min_s (a timer must still find the last sighting)"
            raise ValueError(msg)
        if self.daily_window_s < self.daily_limit_s:
            msg = "daily_window_s must not be shorter than daily_limit_s"
            raise ValueError(msg)
        return self


# ----------------------------------------------------------------------------------- state
# v.memo["fatigue"]: (last_t, last_ref, last_site, last_speed, rs_t, rs_ref, rs_seq, rs_site,
# drive, night, night_drive, runs, folded), runs a flat tuple (start, end, driving, …) of the
# completed runs of the last day, folded the number of sightings folded so far (skipped ones too).
Memo = tuple[float, int, str, float, float, int, int, str, float, int, float, tuple[float, ...], int]
_NONE = float("-inf")  # no sighting yet


class _Acc:
    """The run state while replaying the trail on top of the memo."""

    __slots__ = (
        "drive",
        "folded",
        "last",
        "last_ref",
        "last_site",
        "last_speed",
        "last_t",
        "night",
        "night_drive",
        "rs",
        "rs_ref",
        "rs_seq",
        "rs_site",
        "rs_t",
        "runs",
    )

    def __init__(self, memo: Memo | None) -> None:
        self.last: Sighting | None = None  # the last sighting as an object (None: it was folded)
        self.rs: Sighting | None = None
        if memo is None:
            self.last_t = _NONE
            self.last_ref = 0
            self.last_site = ""
            self.last_speed = 0.0
            self.rs_t = _NONE
            self.rs_ref = 0
            self.rs_seq = 0
            self.rs_site = ""
            self.drive = 0.0
            self.night = 0
            self.night_drive = 0.0
            self.runs: list[float] = []
            self.folded = 0
        else:
            (
                self.last_t,
                self.last_ref,
                self.last_site,
                self.last_speed,
                self.rs_t,
                self.rs_ref,
                self.rs_seq,
                self.rs_site,
                self.drive,
                self.night,
                self.night_drive,
                runs,
                self.folded,
            ) = memo
            self.runs = list(runs)

    def before(
        self, last: Sighting | None, scalars: tuple[float, int, str, float, float, int, float]
    ) -> _Acc:
        """This state as it was at the previous sighting ``last`` (same run: only these changed)."""
        out = _Acc.__new__(_Acc)
        out.rs, out.rs_t, out.rs_ref, out.rs_seq, out.rs_site = (
            self.rs,
            self.rs_t,
            self.rs_ref,
            self.rs_seq,
            self.rs_site,
        )
        out.runs, out.folded, out.last = self.runs, self.folded, last
        (out.last_t, out.last_ref, out.last_site, out.last_speed, out.drive, out.night, out.night_drive) = (
            scalars
        )
        return out

    def stale(self, s: Sighting) -> bool:
        """``s`` is not after what is summarised (a too-late passage, or the same one)."""
        return s.t < self.last_t or (s.t == self.last_t and s.ref <= self.last_ref)

    def memo(self) -> Memo:
        return (
            self.last_t,
            self.last_ref,
            self.last_site,
            self.last_speed,
            self.rs_t,
            self.rs_ref,
            self.rs_seq,
            self.rs_site,
            self.drive,
            self.night,
            self.night_drive,
            tuple(self.runs),
            self.folded,
        )


def _share(start: float, end: float, driving: float, lo: float) -> float:
    """The part of a run's driving after ``lo``, driving spread evenly over ``[start, end]``."""
    if end <= lo:
        return 0.0
    if start >= lo or end <= start:
        return driving
    return driving * (end - lo) / (end - start)


# --------------------------------------------------------------------------------- detector
class FatigueDetector(Detector):
    name: ClassVar[str] = NAME
    version: ClassVar[int] = 1

    def __init__(self, config: FatigueConfig | None = None) -> None:
        self.config = c = config or FatigueConfig()
        self.trail_s = c.trail_s
        self.keep_s = c.keep_commercial_s
        self.rest = RestRule(c.rest_min_s, c.free_flow_kmh)
        self.night = LocalWindow(c.night_start, c.night_end)
        self._max_mps = c.max_plausible_kmh / 3.6
        self._relay = frozenset(c.relay_operators)
        self._dg = frozenset(c.dangerous_goods_uses)
        self._commercial_uses = frozenset(c.commercial_uses)
        self._commercial_classes = tuple(c.commercial_class_prefixes)
        self._cache: tuple[VehicleState, int, int, int, object, _Acc, dict[str, float] | None] | None = None
        # per vehicle in a long run, the state after its last judged sighting: (its ordinal, its ref,
        # state, last sighting). Only a cache (not in snapshots): the next sighting then needs no
        # replay of the whole trail.
        self._after: OrderedDict[str, tuple[int, int, Memo, Sighting | None]] = OrderedDict()
        # a run shorter than this crosses no per-run limit: the hot path
        self._run_quiet = min(c.continuous_limit_s, c.night_limit_s)
        self._limits = {
            "continuous": c.continuous_limit_s,
            "daily": c.daily_limit_s,
            "night_passenger": c.night_limit_s,
        }

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> FatigueDetector:
        return cls(validate_config(FatigueConfig, NAME, raw))

    def usable(self, s: Sighting) -> bool:
        """A read confident enough to be this vehicle's passage (a misread is another's)."""
        c = s.plate_confidence
        return c is None or c >= self.config.min_plate_confidence

    # ------------------------------------------------------------------ keep and fold
    def _keep(self, rec: RegistryRecord | None, vehicle_class: str | None) -> float:
        c = self.config
        if rec is not None:
            if rec.use in self._commercial_uses:
                return c.keep_commercial_s
            vehicle_class = rec.vehicle_class or vehicle_class
        if vehicle_class and vehicle_class.startswith(self._commercial_classes):
            return c.keep_commercial_s
        return c.keep_other_s

    def keep_for(self, v: VehicleState, ctx: Context) -> float:
        if not self.config.enabled:
            return 0.0
        last = v.trail[-1] if v.trail else None
        return self._keep(ctx.registry.get(v.key), last.vehicle_class if last else None)

    def _start(self, acc: _Acc, s: Sighting) -> None:
        acc.rs = s
        acc.rs_t = s.t
        acc.rs_ref = s.ref
        acc.rs_seq = s.seq
        acc.rs_site = s.site_id
        acc.drive = 0.0
        acc.night = self.night.latest(s.t)
        acc.night_drive = 0.0

    def _driving(self, ctx: Context, last_site: str, last_speed: float, s: Sighting, gap: float) -> float:
        """Driving time between the last sighting and ``s`` (same run): see the module docstring."""
        sites = ctx.sites
        a, b = sites.get(last_site), sites.get(s.site_id)
        if a is None or b is None or a.is_exit or b.is_entry:
            return 0.0
        d = sites.distance_m(last_site, s.site_id)
        if d is None or gap * self._max_mps < d:
            return 0.0  # it left the expressway in between
        v0, v1 = last_speed, s.speed_kmh
        if v0 > 0 and v1 is not None and v1 > 0:
            return min(gap, d / ((v0 + v1) / 7.2))
        return gap

    def _step(self, acc: _Acc, s: Sighting, ctx: Context, keep: list[float]) -> None:
        """Add ``s`` (not stale) to the run state. ``keep`` memoises the vehicle's keep time."""
        last_t = acc.last_t
        if last_t == _NONE:
            self._start(acc, s)
        else:
            gap = s.t - last_t
            fresh = False
            if gap >= self.rest.min_s:  # else neither a rest nor a reset: the hot path
                if gap > self.config.keep_other_s:
                    if not keep:
                        keep.append(self._keep(ctx.registry.get(s.vehicle_key), s.vehicle_class))
                    if gap > keep[0]:
                        acc.runs.clear()  # as if evicted in between
                        fresh = True
                if fresh or self.rest.between(ctx, last_t, acc.last_site, s.t, s.site_id):
                    if last_t > acc.rs_t and not fresh:
                        acc.runs += (acc.rs_t, last_t, acc.drive)
                    self._start(acc, s)
                    fresh = True
            if not fresh and gap > 0:
                d = self._driving(ctx, acc.last_site, acc.last_speed, s, gap)
                acc.drive += d
                acc.night, acc.night_drive = self._night_part(acc.night, acc.night_drive, last_t, s.t, d)
        acc.last = s
        acc.last_t = s.t
        acc.last_ref = s.ref
        acc.last_site = s.site_id
        acc.last_speed = s.speed_kmh or 0.0

    def _night_part(self, night: int, driven: float, a_t: float, b_t: float, d: float) -> tuple[int, float]:
        """The run's night window and its driving in it, after ``d`` driving spread over ``[a_t, b_t]``."""
        latest = self.night.latest(b_t)
        start = self.night.start_of(latest)
        lo = max(a_t, start)
        hi = min(b_t, start + self.night.length_s)
        part = d * (hi - lo) / (b_t - a_t) if hi > lo else 0.0
        return (latest, driven + part) if latest == night else (latest, part)

    def _replay(self, v: VehicleState, n: int, ctx: Context, keep: list[float]) -> _Acc:
        """The run state after the memo and ``trail[:n]`` (stale sightings skipped)."""
        memo: Memo | None = v.memo_for(NAME)
        trail = v.trail
        hit = self._after.get(v.key) if n else None
        if hit is not None and hit[0] == (memo[12] if memo else 0) + n - 1 and trail[n - 1].ref == hit[1]:
            # trail[n - 1] is the sighting it was, and as many sightings came before it (folded or
            # in the trail) as then: nothing was inserted before it, the state after it holds
            acc = _Acc(hit[2])
            acc.folded = memo[12] if memo else 0
            acc.last = hit[3]
            return acc
        acc = _Acc(memo)
        for j in range(n):
            x = trail[j]
            if not acc.stale(x) and self.usable(x):
                self._step(acc, x, ctx, keep)
        return acc

    def _remember(self, v: VehicleState, i: int, acc: _Acc) -> None:
        """Keep the state after ``trail[i]`` for the vehicle's next sighting (a bounded cache), with
        the sighting's ordinal: how many sightings of the vehicle came before it, folded or not."""
        memo: Memo | None = v.memo_for(NAME)
        after = self._after
        after[v.key] = ((memo[12] if memo else 0) + i, v.trail[i].ref, acc.memo(), acc.last)
        after.move_to_end(v.key)
        if len(after) > AFTER_CACHE:
            after.popitem(last=False)

    def _quiet(self, v: VehicleState, i: int, margin: float) -> bool:
        """No limit can be within ``margin`` of being crossed at ``trail[i]``, by upper bounds that
        need no replay: the open run's driving is at most the time since the memo's run began (or
        the trail's first sighting), and the daily total at most that plus the folded runs' driving.
        The hot path: most vehicles are never near a limit."""
        memo: Memo | None = v.memo_for(NAME)
        t = v.trail[i].t
        if memo is None or memo[0] == _NONE:
            run = t - v.trail[0].t if i else 0.0
            earlier = 0.0
        else:
            run = t - memo[4]
            earlier = sum(memo[11][2::3])
        return run <= self._run_quiet - margin and run + earlier <= self.config.daily_limit_s - margin

    def fold(self, v: VehicleState, s: Sighting, ctx: Context) -> None:
        if not self.config.enabled:
            return
        memo: Memo | None = v.memo_for(NAME)
        if memo is not None and self.usable(s):
            # the hot path, as _step does it: a sighting minutes after the last one (no rest)
            last_t = memo[0]
            gap = s.t - last_t
            if 0 < gap < self.rest.min_s:
                d = self._driving(ctx, memo[2], memo[3], s, gap)
                night, driven = self._night_part(memo[9], memo[10], last_t, s.t, d)
                speed = s.speed_kmh or 0.0
                v.set_memo(
                    NAME,
                    (
                        s.t,
                        s.ref,
                        s.site_id,
                        speed,
                        *memo[4:8],
                        memo[8] + d,
                        night,
                        driven,
                        memo[11],
                        memo[12] + 1,
                    ),
                )
                return
        acc = _Acc(memo)
        acc.folded += 1  # every sighting that leaves the trail is counted (see _replay)
        if not acc.stale(s) and self.usable(s):  # else too old to place in the summary, or a misread
            self._step(acc, s, ctx, [])
            horizon = acc.last_t - self.config.daily_window_s
            runs = acc.runs
            while runs and runs[1] <= horizon:
                del runs[:3]
        v.set_memo(NAME, acc.memo())

    # ------------------------------------------------------------------------- values
    def _total(self, acc: _Acc, t: float, extra: float = 0.0) -> float:
        """Driving inside the daily window ending at ``t`` (the open run as far as ``acc.last_t``,
        plus ``extra`` driving until ``t``)."""
        lo = t - self.config.daily_window_s
        runs = acc.runs
        total = sum(_share(runs[k], runs[k + 1], runs[k + 2], lo) for k in range(0, len(runs), 3))
        return total + _share(acc.rs_t, max(acc.last_t, t) if extra else acc.last_t, acc.drive + extra, lo)

    def _passenger(self, ctx: Context, key: str) -> bool:
        return self.config.passenger_use_marker in registry_use(ctx.registry.get(key))

    def _value(self, rule: str, acc: _Acc, night: int) -> float:
        """A rule's value at the last sighting of ``acc`` (night: in the window ``night``)."""
        if rule == "continuous":
            return acc.drive
        if rule == "daily":
            return self._total(acc, acc.last_t)
        return acc.night_drive if acc.night == night else 0.0

    def _values(self, acc: _Acc, ctx: Context, key: str, night: int) -> dict[str, float]:
        """Each rule's value at the last sighting of ``acc``. A rule is left out only when its value
        cannot be within ``rest_min_s`` of its limit (so it can neither fire nor ask for a timer),
        which spares the registry look-up and the daily sum on most sightings."""
        c = self.config
        out = {"continuous": acc.drive}
        # night driving is part of the run's driving
        if acc.drive > c.night_limit_s - c.rest_min_s and self._passenger(ctx, key):
            out["night_passenger"] = self._value("night_passenger", acc, night)
        # the daily total is at most the time since the first run it holds began
        if acc.last_t - (acc.runs[0] if acc.runs else acc.rs_t) > c.daily_limit_s - c.rest_min_s:
            out["daily"] = self._total(acc, acc.last_t)
        return out

    def _limit(self, rule: str) -> float:
        return self._limits[rule]

    def _due(self, rule: str, acc: _Acc, value: float) -> float | None:
        """When a timer from the last sighting of ``acc`` is due for ``rule`` (None: not near)."""
        c = self.config
        cross = acc.last_t + (self._limit(rule) - value)
        if value > self._limit(rule) or cross - acc.last_t >= c.rest_min_s - c.timer_grace_s:
            return None
        if rule == "night_passenger" and cross >= self.night.end_of(self.night.latest(acc.last_t)):
            return None
        return cross + c.timer_grace_s

    def _dues(
        self, acc: _Acc, ctx: Context, key: str, values: dict[str, float] | None = None
    ) -> dict[str, float]:
        """The timers a sighting (the last of ``acc``) asks for, by rule; only the earliest is set."""
        if self._exit(ctx, acc.last_site):
            return {}
        if values is None:
            values = self._values(acc, ctx, key, self.night.latest(acc.last_t))
        return {rule: d for rule, value in values.items() if (d := self._due(rule, acc, value)) is not None}

    # ---------------------------------------------------------------------- evaluation
    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        if not self.config.enabled or self._quiet(v, i, 0.0):
            return ()  # no run long enough and not enough driving for any limit: the hot path
        trail = v.trail
        s = trail[i]
        keep: list[float] = []
        if not self.usable(s):
            return ()
        acc = self._replay(v, i, ctx, keep)
        if acc.last_t == _NONE or acc.stale(s):
            return ()
        prev = acc.last
        scalars = (
            acc.last_t,
            acc.last_ref,
            acc.last_site,
            acc.last_speed,
            acc.drive,
            acc.night,
            acc.night_drive,
        )
        self._step(acc, s, ctx, keep)
        self._remember(v, i, acc)
        if acc.rs is s:
            self._cache = (v, i, len(trail), s.ref, v.memo_for(NAME), acc, None)
            return ()  # a rest before s: no driving between the two
        night = self.night.latest(s.t)
        after = self._values(acc, ctx, s.vehicle_key, night)
        self._cache = (v, i, len(trail), s.ref, v.memo_for(NAME), acc, after)
        firing = [rule for rule, value in after.items() if value > self._limit(rule)]
        if not firing:
            return ()
        before = acc.before(prev, scalars)
        dues = self._dues(before, ctx, s.vehicle_key) if prev is not None else {}
        first_due = min(dues.values(), default=None)
        out = []
        for rule in firing:
            value, limit = after[rule], self._limit(rule)
            was = self._value(rule, before, night)
            if was > limit:
                continue  # crossed before: an earlier sighting of the run fired it
            if prev is not None and first_due is not None and dues.get(rule) == first_due < s.t:
                # the timer set at prev fired (or will): the same detection, the same evidence
                timed = self._timer_finding(rule, before, prev, first_due, ctx)
                if timed is not None:
                    out.append(timed)
                    continue
            gap = s.t - before.last_t
            crossed = s.t - gap * (value - limit) / (value - was)
            evidence = (prev, s) if prev is not None else (s,)
            out.append(self._finding(rule, acc, s, evidence, value, crossed, night, "passage", ctx))
        return out

    @staticmethod
    def _exit(ctx: Context, site_id: str) -> bool:
        info = ctx.sites.get(site_id)
        return info is not None and info.is_exit

    def wake_at(self, v: VehicleState, i: int, ctx: Context) -> float | None:
        c = self.config
        near = c.rest_min_s - c.timer_grace_s  # a timer from s only if its crossing is this close
        if not c.enabled or self._quiet(v, i, near):
            return None
        trail = v.trail
        s = trail[i]
        cached, self._cache = self._cache, None
        if not self.usable(s):
            return None
        if (
            cached is not None
            and cached[0] is v
            and cached[1] == i
            and cached[2] == len(trail)
            and cached[3] == s.ref
            and cached[4] is v.memo_for(NAME)
        ):
            acc, values = cached[5], cached[6]
        else:
            values = None
            keep: list[float] = []
            acc = self._replay(v, i, ctx, keep)
            if acc.stale(s):
                return None
            self._step(acc, s, ctx, keep)
            self._remember(v, i, acc)
        if values is not None and not any(
            self._limits[rule] - near < value <= self._limits[rule] for rule, value in values.items()
        ):
            return None  # no limit near (the common case in a long run)
        dues = self._dues(acc, ctx, s.vehicle_key, values)
        return min(dues.values()) if dues else None

    def on_timer(self, v: VehicleState, due: float, ctx: Context) -> Sequence[Finding]:
        if not self.config.enabled or not v.trail:
            return ()
        if v.memo is not None and v.memo.get(TIMER_MEMO) == due:
            return ()  # a duplicate timer (several sightings asked for the same crossing)
        trail = v.trail
        idx = bisect.bisect_right(trail, due, key=lambda x: x.t) - 1  # only sightings up to due
        while idx >= 0 and not self.usable(trail[idx]):
            idx -= 1
        if idx < 0:
            return ()
        keep: list[float] = []
        acc = self._replay(v, idx, ctx, keep)
        last = trail[idx]
        if acc.stale(last):
            return ()
        self._step(acc, last, ctx, keep)
        out = []
        for rule, d in self._dues(acc, ctx, last.vehicle_key).items():
            f = self._timer_finding(rule, acc, last, due, ctx) if d == due else None
            if f is not None:
                out.append(f)
        if out:
            v.set_memo(TIMER_MEMO, due)
        return out

    def _timer_finding(
        self, rule: str, acc: _Acc, last: Sighting, due: float, ctx: Context
    ) -> Finding | None:
        """The timer's finding for ``rule`` at ``due``, ``last`` being the last sighting by then and
        ``acc`` the state after it; None when the timer is stale or the vehicle may have stopped."""
        c = self.config
        if due - last.t >= c.rest_min_s or self._exit(ctx, last.site_id):
            return None  # it may have rested since it was last seen, or it left the expressway
        night = self.night.latest(last.t)
        values = self._values(acc, ctx, last.vehicle_key, night)
        if rule not in values or self._due(rule, acc, values[rule]) != due:
            return None  # stale: the trail now implies another time, or none
        extra = due - last.t  # still on the road: driving since it was last seen
        if rule == "daily":
            value = self._total(acc, due, extra)
            if value <= c.daily_limit_s:
                return None
        elif rule == "night_passenger":
            value = values[rule] + min(extra, self.night.end_of(night) - last.t)
        else:
            value = values[rule] + extra
        crossed = due - c.timer_grace_s
        return self._finding(rule, acc, last, (last,), value, crossed, night, "timer", ctx)

    # ------------------------------------------------------------------------- findings
    def _finding(
        self,
        rule: str,
        acc: _Acc,
        at: Sighting,
        evidence: tuple[Sighting, ...],
        value: float,
        crossed: float,
        night: int,
        detected_by: str,
        ctx: Context,
    ) -> Finding:
        c = self.config
        rec = ctx.registry.get(at.vehicle_key)
        use = registry_use(rec)
        vclass = vehicle_class_of(rec, at)
        relay = rec is not None and rec.operator in self._relay
        dangerous = use in self._dg
        passenger_big = vclass.startswith(("K1", "K2"))
        goods = vclass.startswith(("H", "Q")) or (not vclass and "货" in use)
        base: dict[str, Any] = {
            "rest_min_s": c.rest_min_s,
            "free_flow_kmh": c.free_flow_kmh,
            "max_plausible_kmh": c.max_plausible_kmh,
            "timer_grace_s": c.timer_grace_s,
        }
        measured_at = evidence[-1].t if detected_by == "passage" else crossed + c.timer_grace_s
        payload: dict[str, Any] = {
            "review_only": True,
            "detected_by": detected_by,
            "run_start": utc(acc.rs_t).isoformat(),
            "run_start_site": acc.rs_site,
            "run_start_ref": acc.rs_ref,
            "run_start_seq": acc.rs_seq,
            "crossed_at": utc(crossed).isoformat(),
            "measured_at": utc(measured_at).isoformat(),
            "last_seen_at": utc(evidence[-1].t).isoformat(),
            "run_driving_s": round(acc.drive + (measured_at - at.t if detected_by == "timer" else 0.0), 3),
            "vehicle_use": use or None,
            "vehicle_class": vclass or None,
            "operator": rec.operator if rec is not None else None,
            "relay_operator": relay,
            "fine_yuan": c.fine_yuan,
            "fine_zh": f"警告或{c.fine_yuan}元罚款",
        }
        basis = [
            "山东省高速公路交通安全条例 第二十八条",
            "山东省高速公路交通安全条例 第五十一条第（二十三）项",
        ]
        points = 0
        if rule == "continuous":
            thresholds = {"continuous_limit_s": c.continuous_limit_s, **base}
            payload["continuous_driving_s"] = round(value, 3)
            if dangerous or passenger_big:
                points = 9
                basis.append("道路交通安全违法行为记分管理办法 第九条第（七）项")
            elif goods:
                points = 3
                basis.append("道路交通安全违法行为记分管理办法 第十一条第（十四）项")
            basis.insert(0, "道路交通安全法实施条例 第六十二条第（七）项")
            title = (
                f"疲劳驾驶：连续驾驶超过{c.continuous_limit_s / 3600:g}小时"
                f"未休息{c.rest_min_s / 60:g}分钟（待核查）"
            )
        elif rule == "daily":
            thresholds = {"daily_limit_s": c.daily_limit_s, "daily_window_s": c.daily_window_s, **base}
            payload["driving_in_window_s"] = round(value, 3)
            lo = measured_at - c.daily_window_s
            runs = acc.runs
            payload["runs_in_window"] = [
                [utc(runs[k]).isoformat(), utc(runs[k + 1]).isoformat(), round(runs[k + 2], 3)]
                for k in range(0, len(runs), 3)
                if runs[k + 1] > lo
            ]
            if c.passenger_use_marker in use:
                basis.append("聊城市道路交通安全条例 第三十七条第一款、第七十五条")
            title = f"疲劳驾驶：{c.daily_window_s / 3600:g}小时内累计驾驶超过{c.daily_limit_s / 3600:g}小时（待核查）"
        else:
            thresholds = {
                "night_limit_s": c.night_limit_s,
                "night_start": c.night_start,
                "night_end": c.night_end,
                "passenger_use_marker": c.passenger_use_marker,
                **base,
            }
            payload["night"] = local_date(night)
            payload["night_driving_s"] = round(value, 3)
            basis.append("聊城市道路交通安全条例 第三十七条第一款、第七十五条")
            title = (
                f"疲劳驾驶：客运车辆夜间（{self.night.label()}）"
                f"连续驾驶超过{c.night_limit_s / 3600:g}小时（待核查）"
            )
        payload["points"] = points
        payload["legal_basis"] = basis
        payload["title_zh"] = title
        key_vehicle = points > 0 or c.passenger_use_marker in use
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
            severity="normal" if relay or not key_vehicle else "serious",
        )
