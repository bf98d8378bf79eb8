"""Device clock estimates (offset and drift) learned from the traffic itself.

Roadside cameras keep their own clocks, and some are off by minutes. A vehicle
seen at site A and then at site B gives ``Δ = t_B − t_A = T_AB + o_B − o_A``:
its true travel time plus the difference of the two devices' offsets
(``o = reported time − true time``). This model estimates every device's
offset ``o`` and drift (the offset's change per hour) from such pairs.

**Used only to avoid false findings** (ARCHITECTURE §4): the clone detector
calls a pair impossible only when it is impossible both with the raw times and
with the corrected ones, so an estimate can suppress a finding, never make one.
It also feeds device health (:meth:`DeviceClocks.report`).

**Samples.** Every consecutive pair of confident sightings of one vehicle key at
two different sites gives a residual ``r = Δ − T̂`` that estimates ``o_B − o_A``;
``T̂`` is the expected travel time: the network distance over the vehicle's
own point speeds (the mean of the two reads' ``speed_kmh``), or, when a read has
no speed, the distance times the typical pace of all such pairs in the window
(a robust median). Left out are pairs with a point speed below
``min_speed_kmh`` or whose two speeds differ by more than ``max_speed_change``
(in a jam, or at its edge, the travel time is not what the speeds at the two
ends say), and pairs whose second site does not lie ahead of the first on the
network (the vehicle turned back in between, and the turn takes time no speed
tells). A pair reported in the reverse of the driving order (B's clock behind
by more than the travel time) is recognised by the network, A lying ahead of
B, and turned round. Two devices of one site (a second camera reporting the
same passage) give ``o_B − o_A`` directly.

**Solving.** Per ordered device pair the median residual ``m_AB`` (over many
vehicles) is kept; the offsets then solve ``m_AB ≈ o_B − o_A`` robustly: least
absolute deviations plus, per device, a vote for offset 0 (most devices are
right, so an offset goes where the fewest devices need one; this anchors the
solution). It is minimised by coordinate descent from two starts (all clocks
right; and a device-by-device peeling that first settles the devices whose
incoming and outgoing edges agree), keeping the cheaper. An estimate is *established* when enough samples on edges to devices
that stand on their own (that agree with some other device too) support it,
most of its edges agree with it (``min_agreement``: congestion on a stretch or
U-turning vehicles make edges disagree), and the window before gave the same:
two devices seen only with each other cannot say which of them is off, and a
first window with little traffic can blame the wrong device of a chain. A
device without data keeps its last established estimate for ``max_age_s``.
Drift is the Theil–Sen slope of a device's successive established estimates.

**Event time and determinism.** Samples are taken only from *final* sightings:
the model keeps its own watermark ``max_seen − lateness_s``, never ahead of the
core's when ``lateness_s`` is the core's lateness plus ``WATERMARK_MAX_LAG_S``
(how far the core's quantile watermark may trail; the engine builds the model
so, through :meth:`CloneDetector.shared_models`), and forms pairs in event-time
order as that watermark passes them, so for passages on time for the core the
pairs do not depend on the arrival order. Estimates are solved at fixed boundaries of event time (every
``bin_s``) from the ``window_bins`` bins before the boundary. The estimate for
an event at ``t`` is the one solved at the last boundary ≤ ``t − margin_s``: it
comes only from passages before that, and by the time the core settles the
event (its watermark passed ``t``) that boundary is solved and final. A
detector relying on it asks for a ``recheck`` (see ``detectors/base.py``).
Passages that arrive after the watermark passed them are used if they extend a
vehicle's pairs forwards, and otherwise dropped.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from changan.engine.context import Context, Sites
from changan.engine.core import WATERMARK_MAX_LAG_S
from changan.engine.detectors.base import ConfigError
from changan.engine.sighting import Sighting
from changan.plates import UNIDENTIFIED_PREFIX

SHARED = "clocks"  # the model's name in Context.shared
DEFAULT_HISTORY_S = 600.0 + WATERMARK_MAX_LAG_S  # the core's default lateness, and how far its watermark lags
SNAPSHOT_FORMAT = 1


class ClockConfig(BaseModel):
    """Settings of the clock model (``[engine.clocks]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lateness_s: float = Field(
        default=DEFAULT_HISTORY_S,
        ge=0,
        description="how far behind the highest event time a passage may still be on time for the core: "
        "its lateness plus WATERMARK_MAX_LAG_S (the engine passes that; the default is for 600 s)",
    )
    margin_s: float | None = Field(
        default=None,
        ge=0,
        description="an event at t uses the estimate solved at the last boundary ≤ t − margin_s "
        "(default: lateness_s, so provisional and settled judgements use the same estimate)",
    )
    bin_s: float = Field(default=900.0, gt=0, description="estimates are solved every bin_s of event time")
    window_bins: int = Field(default=4, ge=1, le=96, description="bins of samples each estimate uses")
    max_gap_s: float = Field(default=1800.0, gt=0, description="longest gap between two sightings of a pair")
    max_pair_m: int = Field(default=40_000, gt=0, description="longest network distance of a pair")
    max_offset_s: float = Field(
        default=900.0, gt=0, description="largest offset difference the model expects between two devices"
    )
    min_speed_kmh: float = Field(
        default=50.0,
        gt=0,
        description="a pair with a slower point speed is not used: in congestion the travel time is not "
        "what the speeds at the two ends say",
    )
    max_speed_change: float = Field(
        default=0.15,
        ge=0,
        description="a pair whose two point speeds differ by more than this share is not used: the "
        "vehicle met a change of traffic (the edge of a jam) between the two",
    )
    plausible_kmh: tuple[float, float] = Field(
        default=(15.0, 250.0),
        description="pairs whose implied speed (offsets allowed for) is outside are dropped",
    )
    min_plate_confidence: float = Field(
        default=85.0, ge=0, le=100, description="reads below this confidence are not used (misreads)"
    )
    samples_per_bin: int = Field(default=64, ge=1, description="samples kept per device pair and bin")
    min_pair_samples: int = Field(default=4, ge=1, description="samples a device pair needs in the window")
    min_duplicate_samples: int = Field(
        default=2, ge=1, description="duplicate reads two devices of one site need in the window"
    )
    min_samples: int = Field(
        default=8, ge=1, description="samples behind an estimate for it to be established"
    )
    max_age_s: float = Field(default=6 * 3600.0, gt=0, description="an older estimate is no estimate")
    drift_window_s: float = Field(default=3 * 3600.0, gt=0, description="history used for the drift slope")
    max_drift_s_per_h: float = Field(default=60.0, ge=0, description="drift estimates are clamped to this")
    iterations: int = Field(default=20, ge=1, le=200)
    prior_weight: float = Field(
        default=4.0, gt=0, description="weight of the vote that a clock is right (in samples)"
    )
    min_agreement: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description="share of a device's edge weight that must agree with its estimate for it to be established",
    )
    agree_s: float = Field(
        default=20.0, gt=0, description="an edge agrees with the solution when its residual is within this"
    )
    keep_boundaries: int = Field(default=96, ge=1, description="solved boundaries kept for late queries")

    @model_validator(mode="after")
    def _speeds_ordered(self) -> ClockConfig:
        low, high = self.plausible_kmh
        if not 0 < low < high:
            msg = "plausible_kmh must be (low, high) with 0 < low < high"
            raise ValueError(msg)
        return self

    @property
    def margin(self) -> float:
        return self.lateness_s if self.margin_s is None else self.margin_s

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> ClockConfig:
        try:
            return cls.model_validate(dict(raw or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"engine.clocks.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            raise ConfigError(problems) from None


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    """A device's clock as estimated at one boundary: ``offset_s`` is reported − true time at
    ``ref_t`` (the middle of the window it was solved from); ``offset_at(t)`` extrapolates the drift."""

    device_id: str
    offset_s: float
    drift_s_per_h: float
    samples: int
    ref_t: float
    solved_at: float  # the boundary (event time) it was solved at
    established: bool

    def offset_at(self, t: float) -> float:
        return self.offset_s + self.drift_s_per_h * (t - self.ref_t) / 3600.0


# An estimate in the solution tables: (offset, drift, samples, ref_t, established)
_Est = tuple[float, float, int, float, bool]


def _weighted_median(values: list[tuple[float, float]]) -> float:
    """Median of (value, weight) pairs; the midpoint where the weight splits exactly in two."""
    values.sort()
    total = 0.0
    for _v, w in values:
        total += w
    half = total / 2
    acc = 0.0
    for n, (v, w) in enumerate(values):
        acc += w
        if acc > half + 1e-12:
            return v
        if abs(acc - half) <= 1e-12 and n + 1 < len(values):
            return (v + values[n + 1][0]) / 2
    return values[-1][0]


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


class DeviceClocks:
    """Per-device clock offset and drift; a shared model in ``ctx.shared["clocks"]``.

    Feed it every sighting through :meth:`observe` (the core does so). Ask
    :meth:`estimate` for the estimate that applies to an event time.
    """

    def __init__(
        self, where: Context | Sites, config: ClockConfig | None = None, *, lateness_s: float | None = None
    ) -> None:
        """``where``: the engine's context (the catalogue builds shared models as ``cls(ctx)``) or
        its sites. ``lateness_s`` (the core's lateness plus ``WATERMARK_MAX_LAG_S``) overrides the
        configured one."""
        self.sites = where.sites if isinstance(where, Context) else where
        cfg = config or ClockConfig()
        if lateness_s is not None and lateness_s != cfg.lateness_s:
            cfg = cfg.model_copy(update={"lateness_s": float(lateness_s)})
        self.config = cfg
        self._max_seen = -math.inf
        self._heap: list[tuple[float, int, str, str, str, float]] = []  # t, ref, key, site, device, speed
        # vehicle key -> its last final sighting (t, site, device, speed)
        self._last: dict[str, tuple[float, str, str, float]] = {}
        # bin -> (device a, device b) -> residual samples; and the pace samples of reads without speed
        self._bins: dict[int, dict[tuple[str, str], list[float]]] = {}
        self._pace: dict[int, dict[tuple[str, str], list[float]]] = {}
        self._pair_m: dict[tuple[str, str], int] = {}  # device pair -> network distance of its sites
        self._next_k: int | None = None  # the next boundary to solve
        self._solutions: dict[int, dict[str, _Est]] = {}
        self._history: dict[str, list[tuple[float, float]]] = {}  # device -> (ref_t, offset) per solve
        self._raw: dict[str, float] = {}  # the last window's offsets as solved (before any hold)
        self._route: dict[tuple[str, str], tuple[int, bool] | None] = {}
        self._ahead_of: dict[str, dict[str, int]] = {}
        self._site_of: dict[str, str] = {}
        self.dropped_late = 0
        # settings used on every sighting, as plain attributes
        self._min_confidence = cfg.min_plate_confidence
        self._lateness = cfg.lateness_s
        self._bin = cfg.bin_s
        self._max_gap = cfg.max_gap_s
        self._solve_at = -math.inf  # the watermark at which the next boundary is solved

    # --------------------------------------------------------------------- input
    @property
    def watermark(self) -> float:
        return self._max_seen - self.config.lateness_s

    def observe(self, s: Sighting) -> None:
        """Take one sighting in arrival order (called by the core for every sighting)."""
        c = s.plate_confidence
        if (c is not None and c < self._min_confidence) or s.vehicle_key.startswith(UNIDENTIFIED_PREFIX):
            return
        t = s.t
        if t > self._max_seen:
            self._max_seen = t
        w = self._max_seen - self._lateness
        speed = s.speed_kmh
        item = (t, s.ref, s.vehicle_key, s.site_id, s.device_id, speed if speed is not None else -1.0)
        heap = self._heap
        if t <= w:
            self._final(item)  # late: the watermark has passed it
        else:
            heapq.heappush(heap, item)
        if heap and heap[0][0] <= w:
            while heap and heap[0][0] <= w:
                self._final(heapq.heappop(heap))
        if w >= self._solve_at:
            if self._next_k is None:
                self._next_k = math.floor(w / self._bin) + 1
            else:
                self._solve_until(w)
            self._solve_at = self._next_k * self._bin

    def _final(self, item: tuple[float, int, str, str, str, float]) -> None:
        t, _ref, key, site, device, speed = item
        last = self._last.get(key)
        if last is None:
            self._last[key] = (t, site, device, speed)
            if device not in self._site_of:
                self._site_of[device] = site
            return
        if t <= last[0]:
            if t < last[0]:
                self.dropped_late += 1
            return
        b = self._last[key] = (t, site, device, speed)
        if t - last[0] <= self._max_gap:
            self._sample(last, b)

    def _sample(self, a: tuple[float, str, str, float], b: tuple[float, str, str, float]) -> None:
        """One consecutive pair of final sightings of a vehicle: a residual for its device pair."""
        try:
            route = self._route[(a[1], b[1])]
        except KeyError:
            route = self._route_of(a[1], b[1])
        if route is None:
            return
        length, reverse = route
        dt = b[0] - a[0]
        dev_a, dev_b = a[2], b[2]
        k = math.floor(b[0] / self._bin)
        cfg = self.config
        if length == 0:
            # two devices of one site: most likely the same passage read twice. Both orders go
            # to one pair (sorted by device id), so that every duplicate counts.
            if dev_a == dev_b or dt > cfg.max_offset_s:
                return
            if dev_b < dev_a:
                dev_a, dev_b, dt = dev_b, dev_a, -dt
            self._add(self._bins, k, (dev_a, dev_b), dt)
            self._pair_m[(dev_a, dev_b)] = 0
            return
        if reverse:  # the reported order is the reverse of the driving order
            a, b, dev_a, dev_b, dt = b, a, dev_b, dev_a, -dt
        low, high = cfg.plausible_kmh
        if not length / (high / 3.6) - cfg.max_offset_s <= dt <= length / (low / 3.6) + cfg.max_offset_s:
            return
        pair = (dev_a, dev_b)
        self._pair_m[pair] = length
        if a[3] < 0 or b[3] < 0:  # no point speed: the typical pace stands in for the vehicle's
            self._add(self._pace, k, pair, dt)
        elif (
            a[3] >= cfg.min_speed_kmh
            and b[3] >= cfg.min_speed_kmh
            and abs(a[3] - b[3]) <= cfg.max_speed_change * max(a[3], b[3])
        ):
            self._add(self._bins, k, pair, dt - length / ((a[3] + b[3]) / 7.2))

    def _add(
        self, table: dict[int, dict[tuple[str, str], list[float]]], k: int, pair: tuple[str, str], x: float
    ) -> None:
        by_pair = table.get(k)
        if by_pair is None:
            by_pair = table[k] = {}
        xs = by_pair.get(pair)
        if xs is None:
            by_pair[pair] = [x]
        elif len(xs) < self.config.samples_per_bin:
            xs.append(x)

    def _route_of(self, a: str, b: str) -> tuple[int, bool] | None:
        """(distance, reversed) of two sites seen in the order a, b: the driving order is the one in
        which the second site lies *ahead* of the first (reached without turning back, on the
        network); (0, False) for one site; None for a pair that gives no sample: a vehicle that
        turned back in between (its travel time holds a turn we cannot time), unknown sites, or
        sites too far apart."""
        out: tuple[int, bool] | None = None
        if a == b:
            out = (0, False)
        elif a in self.sites.info and b in self.sites.info:
            ahead_b = self._ahead(a).get(b)
            ahead_a = self._ahead(b).get(a)
            if ahead_b is not None and (ahead_a is None or ahead_b <= ahead_a):
                out = (ahead_b, False)
            elif ahead_a is not None:
                out = (ahead_a, True)
        self._route[(a, b)] = out
        return out

    def _ahead(self, a: str) -> dict[str, int]:
        row = self._ahead_of.get(a)
        if row is None:
            row = self._ahead_of[a] = {
                site.id: d for site, d in self.sites.network.sites_downstream(a, max_m=self.config.max_pair_m)
            }
        return row

    # ------------------------------------------------------------------ solving
    def _solve_until(self, w: float) -> None:
        cfg = self.config
        assert self._next_k is not None
        last = math.floor(w / cfg.bin_s)
        if last - self._next_k > cfg.keep_boundaries + cfg.window_bins:
            self._next_k = last - cfg.keep_boundaries  # a long silence: nothing to solve in between
        while self._next_k <= last:
            self._solve(self._next_k)
            self._next_k += 1
        # forget what no estimate and no pair can use any more
        oldest_bin = self._next_k - cfg.window_bins
        for table in (self._bins, self._pace):
            for k in [k for k in table if k < oldest_bin]:
                del table[k]
        for k in [k for k in self._solutions if k < self._next_k - cfg.keep_boundaries]:
            del self._solutions[k]
        horizon = w - cfg.max_gap_s
        if len(self._last) > 1024:
            self._last = {key: v for key, v in self._last.items() if v[0] >= horizon}

    def _solve(self, k: int) -> None:
        cfg = self.config
        bins = range(k - cfg.window_bins, k)
        ref_t = (k - cfg.window_bins / 2) * cfg.bin_s
        residuals: dict[tuple[str, str], list[float]] = {}
        paces: dict[tuple[str, str], list[float]] = {}
        for n_bin in bins:
            for table, out in ((self._bins, residuals), (self._pace, paces)):
                for pair, xs in (table.get(n_bin) or {}).items():
                    out.setdefault(pair, []).extend(xs)
        edges: list[tuple[str, str, float, int]] = []
        if paces:
            typical = [
                _median(xs) / self._pair_m[p]
                for p, xs in paces.items()
                if len(xs) >= cfg.min_pair_samples and self._pair_m[p] > 0
            ]
            pace = _median(typical) if typical else None
            if pace is not None:
                for p, xs in paces.items():
                    length = self._pair_m[p]
                    residuals.setdefault(p, []).extend(x - length * pace for x in xs)
        for (a, b), xs in sorted(residuals.items()):
            if len(xs) >= (cfg.min_duplicate_samples if self._pair_m[(a, b)] == 0 else cfg.min_pair_samples):
                edges.append((a, b, _median(xs), len(xs)))
        self._solutions[k] = self._fit(edges, self._solutions.get(k - 1, {}), ref_t)

    def _fit(
        self, edges: list[tuple[str, str, float, int]], previous: dict[str, _Est], ref_t: float
    ) -> dict[str, _Est]:
        """Offsets from the edges ``(a, b, m, n)`` (``m`` ≈ o_b − o_a, from ``n`` samples).

        Minimises Σ w·|o_b − o_a − m| + prior·Σ|o_d| (least absolute deviations, plus a vote for 0
        per device: most clocks are right, so an offset goes where the fewest devices need one) by
        coordinate descent: each device in turn takes the weighted median of what its edges say
        and of the vote for 0. Coordinate descent can stall on this objective (the first device
        of a chain to move takes the blame for its neighbour), so it starts from two points and
        keeps the cheaper result: all clocks right, and :meth:`_peel`. Devices are taken in id
        order: the result does not depend on the order the data arrived in."""
        cfg = self.config
        # device -> (other device, vote offset: o_other + this, weight, the edge comes in)
        votes: dict[str, list[tuple[str, float, float, bool]]] = {}
        for a, b, m, n in edges:
            w = float(min(n, 32))
            votes.setdefault(b, []).append((a, m, w, True))
            votes.setdefault(a, []).append((b, -m, w, False))
        order = sorted(votes)
        prior = (0.0, cfg.prior_weight)

        def descend(offsets: dict[str, float]) -> dict[str, float]:
            for _ in range(cfg.iterations):
                moved = 0.0
                for d in order:
                    new = _weighted_median([prior, *((offsets[o] + m, w) for o, m, w, _in in votes[d])])
                    moved = max(moved, abs(new - offsets[d]))
                    offsets[d] = new
                if moved < 0.01:
                    break
            return offsets

        def cost(offsets: dict[str, float]) -> float:
            edge_cost = sum(min(n, 32) * abs(offsets[b] - offsets[a] - m) for a, b, m, n in edges)
            return edge_cost + cfg.prior_weight * sum(abs(o) for o in offsets.values())

        starts = [descend(dict.fromkeys(order, 0.0)), descend(self._peel(order, votes))]
        offsets = min(starts, key=cost)
        # which edges each device agrees with, and whether the other end stands on its own
        agree: dict[str, list[tuple[str, int]]] = {d: [] for d in order}
        weight = dict.fromkeys(order, 0.0)  # all of a device's edges, and those it agrees with
        agreed = dict.fromkeys(order, 0.0)
        for a, b, m, n in edges:
            w = float(min(n, 32))
            weight[a] += w
            weight[b] += w
            if abs(offsets[b] - offsets[a] - m) <= cfg.agree_s:
                agree[a].append((b, n))
                agree[b].append((a, n))
                agreed[a] += w
                agreed[b] += w
        solution: dict[str, _Est] = {}
        for d, est in previous.items():
            if d not in offsets and ref_t - est[3] <= cfg.max_age_s:
                solution[d] = est  # no data this window: the last estimate holds
        raw_before, self._raw = self._raw, offsets
        for d in order:
            support = sum(n for other, n in agree[d] if any(x != d for x, _ in agree[other]))
            # established: enough support, most of the device's edges agree (congestion on a
            # stretch, or U-turns, make edges say different things), and the window before said
            # the same (a first window with little traffic can blame the wrong device of a chain)
            before = raw_before.get(d)
            established = (
                support >= cfg.min_samples
                and agreed[d] >= cfg.min_agreement * weight[d]
                and before is not None
                and abs(before - offsets[d]) <= cfg.agree_s
            )
            held = previous.get(d)
            if not established and held is not None and held[4] and ref_t - held[3] <= cfg.max_age_s:
                solution[d] = held  # too little to go on this window: the established estimate holds
                continue
            history = self._history.setdefault(d, [])
            if established:
                history.append((ref_t, offsets[d]))
                while history and history[0][0] < ref_t - cfg.drift_window_s:
                    history.pop(0)
            solution[d] = (offsets[d], self._drift(history), support, ref_t, established)
        return solution

    def _peel(
        self, order: list[str], votes: dict[str, list[tuple[str, float, float, bool]]]
    ) -> dict[str, float]:
        """Offsets found device by device. First the devices whose incoming and outgoing edges agree
        when their neighbours are taken as right (a right device among right ones; an off device
        among right ones: its edges in and out say the same); then, round by round, the devices
        whose edges to devices already found agree. Devices never found are taken as right."""
        tol = self.config.agree_s
        known: dict[str, float] = {}
        for d in order:
            ins = [(m, w) for _o, m, w, comes_in in votes[d] if comes_in]
            outs = [(m, w) for _o, m, w, comes_in in votes[d] if not comes_in]
            if ins and outs and abs(_weighted_median(ins) - _weighted_median(outs)) <= tol:
                known[d] = _weighted_median(ins + outs)
        while True:
            found: dict[str, float] = {}
            for d in order:
                if d in known:
                    continue
                said = [(known[o] + m, w) for o, m, w, _in in votes[d] if o in known]
                if not said:
                    continue
                mid = _weighted_median(list(said))
                if all(abs(v - mid) <= tol for v, _w in said):
                    found[d] = mid
            if not found:
                break
            known.update(found)
        return {d: known.get(d, 0.0) for d in order}

    def _drift(self, history: list[tuple[float, float]]) -> float:
        """Theil–Sen slope (the median of the pairwise slopes) of the established estimates, s/h."""
        if len(history) < 3 or history[-1][0] - history[0][0] < 3600.0:
            return 0.0
        slopes = [
            (o2 - o1) / (t2 - t1) * 3600.0
            for n, (t1, o1) in enumerate(history)
            for t2, o2 in history[n + 1 :]
            if t2 > t1
        ]
        cap = self.config.max_drift_s_per_h
        return max(-cap, min(cap, _median(slopes))) if slopes else 0.0

    # ------------------------------------------------------------------ queries
    def estimate(self, device_id: str, t: float) -> ClockEstimate | None:
        """The estimate that applies to an event at ``t``: solved at the last boundary at or before
        ``t − margin_s`` (or the latest one solved, while that boundary is not yet final), from
        passages before it only. None when the device has no estimate then."""
        cfg = self.config
        if self._next_k is None:
            return None
        k = min(math.floor((t - cfg.margin) / cfg.bin_s), self._next_k - 1)
        solution = self._solutions.get(k)
        if solution is None:
            return None
        est = solution.get(device_id)
        if est is None:
            return None
        offset, drift, n, ref_t, established = est
        if t - ref_t > cfg.max_age_s:
            return None
        return ClockEstimate(device_id, offset, drift, n, ref_t, k * cfg.bin_s, established=established)

    def offset_range(self, device_id: str, t: float, history_s: float) -> tuple[float, float, bool] | None:
        """Every offset the device's clock may have had at ``t`` by the estimates solved from
        ``history_s`` before the estimate for ``t`` up to it (established or not), and 0 (the
        raw time): as an interval (low, high), and whether any of them was established. None when
        the device has no estimate at all then. For callers that must be safe against one wrong
        estimate: a clock whose estimates moved (a reset, a jam the model took for an offset) is
        given every value it moved through."""
        cfg = self.config
        if self._next_k is None:
            return None
        last = min(math.floor((t - cfg.margin) / cfg.bin_s), self._next_k - 1)
        first = math.floor((t - cfg.margin - history_s) / cfg.bin_s)
        low = high = 0.0
        known = established = False
        for k in range(max(first, last - cfg.keep_boundaries), last + 1):
            est = (self._solutions.get(k) or {}).get(device_id)
            if est is None or t - est[3] > cfg.max_age_s:
                continue
            known = True
            established = established or est[4]
            for o in (est[0], est[0] + est[1] * (t - est[3]) / 3600.0):
                low, high = min(low, o), max(high, o)
        return (low, high, established) if known else None

    def _latest(self, device_id: str) -> _Est | None:
        if self._next_k is None:
            return None
        solution = self._solutions.get(self._next_k - 1)
        return None if solution is None else solution.get(device_id)

    def offset_s(self, device_id: str) -> float | None:
        """The device's latest offset estimate (reported − true time), None if unknown."""
        est = self._latest(device_id)
        return None if est is None else round(est[0], 1)

    def drift_s_per_h(self, device_id: str) -> float | None:
        """The device's latest drift estimate (offset change per hour), None if unknown."""
        est = self._latest(device_id)
        return None if est is None else round(est[1], 2)

    def report(self) -> list[dict[str, Any]]:
        """Every device with an estimate, for device health (sorted by device id)."""
        if self._next_k is None:
            return []
        solution = self._solutions.get(self._next_k - 1, {})
        out = []
        for d in sorted(solution):
            o, drift, n, ref_t, established = solution[d]
            out.append(
                {
                    "device_id": d,
                    "site_id": self._site_of.get(d),
                    "offset_s": round(o, 1),
                    "drift_s_per_h": round(drift, 2),
                    "samples": n,
                    "as_of": ref_t,
                    "established": established,
                }
            )
        return out

    # ----------------------------------------------------------------- recovery
    def snapshot(self) -> dict[str, Any]:
        """Plain data (the core saves it with its own snapshot)."""
        return {
            "format": SNAPSHOT_FORMAT,
            "max_seen": self._max_seen,
            "heap": list(self._heap),
            "last": dict(self._last),
            "bins": {k: dict(v) for k, v in self._bins.items()},
            "pace": {k: dict(v) for k, v in self._pace.items()},
            "pair_m": dict(self._pair_m),
            "next_k": self._next_k,
            "solutions": {k: dict(v) for k, v in self._solutions.items()},
            "history": {d: list(h) for d, h in self._history.items()},
            "raw": dict(self._raw),
            "site_of": dict(self._site_of),
            "dropped_late": self.dropped_late,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        if data.get("format") != SNAPSHOT_FORMAT:
            msg = f"clock model snapshot format {data.get('format')!r} is not {SNAPSHOT_FORMAT}"
            raise ValueError(msg)
        self._max_seen = data["max_seen"]
        self._heap = list(data["heap"])
        heapq.heapify(self._heap)
        self._last = dict(data["last"])
        self._bins = {k: {p: list(xs) for p, xs in v.items()} for k, v in data["bins"].items()}
        self._pace = {k: {p: list(xs) for p, xs in v.items()} for k, v in data["pace"].items()}
        self._pair_m = dict(data["pair_m"])
        self._next_k = data["next_k"]
        self._solve_at = -math.inf if self._next_k is None else self._next_k * self._bin
        self._solutions = {k: dict(v) for k, v in data["solutions"].items()}
        self._history = {d: list(h) for d, h in data["history"].items()}
        self._raw = dict(data["raw"])
        self._site_of = dict(data["site_of"])
        self.dropped_late = data["dropped_late"]
