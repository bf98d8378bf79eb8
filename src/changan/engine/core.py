"""The engine's in-memory core: event time, provisional and settled findings, timers, eviction.

No I/O here: :class:`Core` takes sightings in arrival order and tells what
changed (:class:`Changes`); the runtime writes that to the database in the
same transaction as the log position. ``changan bench engine`` measures this
class alone ("in memory") and through the runtime ("end to end").

**Event time.** Each device's watermark is the highest event time it has
reported. The engine's watermark ``W`` is a high quantile of the device
watermarks (``watermark_quantile``, default 0.9: the 90th percentile), less
the lateness bound, and never moves back. Taking a quantile rather than the
maximum keeps a few devices whose clocks run minutes ahead from dragging
event time forward (3 % of devices are off by 30–300 s); since it never
exceeds ``max_seen - lateness_s``, it is always safe; it never trails it by
more than ``WATERMARK_MAX_LAG_S`` either, so shared models that keep the
lateness plus that lag of history always hold what a settling anchor needs. A passage is *on time*
when it arrives while ``W`` has not yet passed its event time. The device
watermarks also show a device that went quiet, and feed device health.

**Provisional, then settled.** Each passage is slotted into its vehicle's
trail and the detectors judge it and every later sighting of the vehicle not
yet settled (a late passage changes its neighbours' past). A finding that
appears goes out at once as *provisional*; one that disappears on
re-evaluation is *retracted*. When ``W`` passes an anchor's event time, every
on-time passage before it has arrived, and since detectors read the trail
only up to their anchor, its findings are final: they are *settled* and never
change. So the settled set does not depend on arrival order within the
lateness. A passage that arrives later than that (after ``W`` passed it) is
judged with what is left of the trail, and whatever it adds is settled at
once; settled findings are never retracted.

Shared models in ``ctx.shared`` with an ``observe(sighting)`` method see
every sighting before it is judged (site traffic, device clocks); with
``snapshot()``/``restore()`` they are saved with the core. A detector whose
judgement rests on them asks for a ``recheck`` when its anchor settles.

**Timers** fire when ``W`` passes their time; **eviction** drops a vehicle once
``W`` is past its last sighting by the longest time any detector keeps it.
"""

from __future__ import annotations

import heapq
import itertools
import math
import pickle
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from changan.engine.context import Context
from changan.engine.detectors.base import Detector
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState

SNAPSHOT_FORMAT = 1
WATERMARK_MAX_LAG_S = 600.0  # the quantile watermark trails the highest event time by at most this
MIN_TRAIL = 2  # sightings kept before the oldest point any detector needs: "the previous sighting"


@dataclass(slots=True)
class Changes:
    """What one or more ``process`` calls changed; the runtime drains it after each batch."""

    provisional: list[Finding] = field(default_factory=list)
    settled_new: list[Finding] = field(default_factory=list)  # settled the moment they were found
    settled: list[str] = field(default_factory=list)  # provisional ids that are now settled
    retracted: list[str] = field(default_factory=list)
    # the highest event time seen when each finding was found / settled: event-time delays
    seen: dict[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.provisional or self.settled_new or self.settled or self.retracted)


@dataclass(slots=True)
class Pending:
    """An anchor's live findings before it settles, and whether to judge it again then."""

    found: dict[str, Finding]
    recheck: bool = False


@dataclass(slots=True)
class CoreStats:
    processed: int = 0
    late: int = 0  # arrived after the watermark had passed them
    duplicates: int = 0
    evicted: int = 0
    timers_fired: int = 0


class Core:
    def __init__(
        self,
        detectors: Sequence[Detector],
        ctx: Context,
        *,
        lateness_s: float = 600.0,
        watermark_quantile: float = 0.9,
    ) -> None:
        if lateness_s < 0:
            msg = "lateness_s must not be negative"
            raise ValueError(msg)
        if not 0 <= watermark_quantile <= 1:
            msg = "watermark_quantile must lie in [0, 1]"
            raise ValueError(msg)
        self.watermark_quantile = watermark_quantile
        self._w = float("-inf")
        self._w_computed_at = float("-inf")  # max_seen when the watermark was last recomputed
        self.detectors = list(detectors)
        self.ctx = ctx
        self.lateness_s = lateness_s
        self.trail_s = max((d.trail_s for d in self.detectors), default=0.0)
        self.states: dict[str, VehicleState] = {}
        # per keep time, the vehicles in the order they were last touched (oldest first)
        self._tiers: dict[float, OrderedDict[str, VehicleState]] = {}
        self.max_seen = float("-inf")
        self.device_watermarks: dict[str, float] = {}
        self._settle: list[tuple[float, int, str]] = []  # (anchor time, anchor ref, vehicle key)
        self._rechecks = [n for n, d in enumerate(self.detectors) if type(d).recheck is not Detector.recheck]
        self._timers: list[tuple[float, int, str, int]] = []  # (due, tiebreak, vehicle key, detector)
        self._tiebreak = itertools.count()
        # shared models fed by every sighting (the traffic at each site, device clocks …)
        self._observers = [m.observe for m in ctx.shared.values() if callable(getattr(m, "observe", None))]
        self.changes = Changes()
        self.stats = CoreStats()

    # ---------------------------------------------------------------------- input
    @property
    def watermark(self) -> float:
        return self._w

    def _recompute(self) -> bool:
        """Move the watermark to the quantile of the device watermarks, less the lateness; True when
        it moved. Recomputed when event time has advanced a second, or at once on a small network."""
        marks = self.device_watermarks
        n = len(marks)
        if n > 16 and self.max_seen - self._w_computed_at < 1.0:
            return False
        self._w_computed_at = self.max_seen
        k = max(1, math.ceil(n * (1 - self.watermark_quantile)))
        top = heapq.nlargest(k, marks.values())[-1] if n else self.max_seen
        # never more than WATERMARK_MAX_LAG_S behind the maximum: shared models keep that much history
        w = max(top, self.max_seen - WATERMARK_MAX_LAG_S) - self.lateness_s
        if w > self._w:
            self._w = w
            return True
        return False

    def finish(self) -> None:
        """End of input (evaluation, tests): event time passes everything; settle all, fire timers."""
        self.max_seen = float("inf")
        self._w = float("inf")
        self._advance()

    def process(self, s: Sighting) -> None:
        """Take one sighting (in arrival order)."""
        ch = self.changes
        marks = (len(ch.provisional), len(ch.settled_new), len(ch.settled))
        self._process(s)
        if (len(ch.provisional), len(ch.settled_new), len(ch.settled)) != marks:
            seen = self.max_seen
            for f in ch.provisional[marks[0] :]:
                ch.seen[f.id] = seen
            for f in ch.settled_new[marks[1] :]:
                ch.seen.setdefault(f.id, seen)
            for fid in ch.settled[marks[2] :]:
                ch.seen.setdefault("settled:" + fid, seen)

    def _process(self, s: Sighting) -> None:
        self.stats.processed += 1
        w = self.watermark
        dev = self.device_watermarks.get(s.device_id)
        if dev is None or s.t > dev:
            self.device_watermarks[s.device_id] = s.t
        for observe in self._observers:
            observe(s)
        v = self.states.get(s.vehicle_key)
        if v is None:
            v = self.states[s.vehicle_key] = VehicleState(s.vehicle_key)
        k = v.insert(s)
        if k < 0:
            self.stats.duplicates += 1
        else:
            if s.t <= w:
                self.stats.late += 1
            trail = v.trail
            horizon = s.t + self.lateness_s
            for j in range(k, len(trail)):
                a = trail[j]
                frozen = a.t <= w
                if frozen and j > k and a.t > horizon:
                    break  # a too-late passage only reaches back to anchors it can still change
                self._judge(v, j, frozen)
        self._touch(v)
        if s.t > self.max_seen:
            self.max_seen = s.t
            if self._recompute():
                self._advance()
        self._prune(v)

    def _touch(self, v: VehicleState) -> None:
        keep = max((d.keep_for(v, self.ctx) for d in self.detectors), default=0.0)
        if keep != v.keep_s:
            if v.keep_s >= 0:
                self._tiers[v.keep_s].pop(v.key, None)
            v.keep_s = keep
        tier = self._tiers.get(keep)
        if tier is None:
            tier = self._tiers[keep] = OrderedDict()
        tier[v.key] = v
        tier.move_to_end(v.key)

    def process_many(self, sightings: Iterable[Sighting]) -> None:
        for s in sightings:
            self.process(s)

    def drain(self) -> Changes:
        out, self.changes = self.changes, Changes()
        return out

    # ------------------------------------------------------------------ judging
    def _judge(self, v: VehicleState, j: int, frozen: bool) -> None:
        anchor = v.trail[j]
        found: dict[str, Finding] = {}
        ctx = self.ctx
        recheck = False
        for n, d in enumerate(self.detectors):
            for f in d.evaluate(v, j, ctx):
                found[f.id] = f
            due = d.wake_at(v, j, ctx)
            if due is not None:
                heapq.heappush(self._timers, (due, next(self._tiebreak), v.key, n))
        if not frozen:
            for n in self._rechecks:
                if self.detectors[n].recheck(v, j, ctx):
                    recheck = True
        if frozen:
            # settled findings never change: add what is new, retract nothing
            self.changes.settled_new.extend(found.values())
            return
        pending = v.pending
        entry = pending.get(anchor.ref) if pending else None
        old = entry.found if entry is not None else None
        if old:
            for fid in old.keys() - found.keys():
                self.changes.retracted.append(fid)
            for fid, f in found.items():
                if fid not in old:
                    self.changes.provisional.append(f)
        else:
            self.changes.provisional.extend(found.values())
        if found or recheck:
            if pending is None:
                pending = v.pending = {}
            if anchor.ref not in pending:
                heapq.heappush(self._settle, (anchor.t, anchor.ref, v.key))
            pending[anchor.ref] = Pending(found, recheck)
        elif entry is not None and pending is not None:
            del pending[anchor.ref]

    # -------------------------------------------------------------- event time
    def _advance(self) -> None:
        w = self.watermark
        settle = self._settle
        while settle and settle[0][0] <= w:
            _t, ref, key = heapq.heappop(settle)
            v = self.states.get(key)
            if v is not None and v.pending:
                entry = v.pending.pop(ref, None)
                if entry is not None:
                    found = self._recheck(v, ref, entry.found) if entry.recheck else entry.found
                    self.changes.settled.extend(found)
        timers = self._timers
        while timers and timers[0][0] <= w:
            due, _n, key, index = heapq.heappop(timers)
            v = self.states.get(key)
            if v is None:
                continue
            self.stats.timers_fired += 1
            self.changes.settled_new.extend(self.detectors[index].on_timer(v, due, self.ctx))
        self._evict(w)

    def _recheck(self, v: VehicleState, ref: int, found: dict[str, Finding]) -> list[str]:
        """Judge an anchor again with the detectors that asked to, now that it settles; returns the
        ids that settle (new ones go out as settled at once, vanished ones are retracted)."""
        j = next((n for n, s in enumerate(v.trail) if s.ref == ref), -1)
        if j < 0:
            return list(found)
        names = {self.detectors[n].name for n in self._rechecks}
        now: dict[str, Finding] = {}
        for n in self._rechecks:
            for f in self.detectors[n].evaluate(v, j, self.ctx):
                now[f.id] = f
        keep = []
        for fid, f in found.items():
            if fid in now or f.detector not in names:
                keep.append(fid)
            else:
                self.changes.retracted.append(fid)
        self.changes.settled_new.extend(f for fid, f in now.items() if fid not in found)
        return keep

    def _evict(self, w: float) -> None:
        states = self.states
        for keep, tier in self._tiers.items():
            while tier:
                key, v = next(iter(tier.items()))
                if v.last_t + keep >= w:
                    break
                del tier[key], states[key]
                self.stats.evicted += 1

    def _prune(self, v: VehicleState) -> None:
        """Drop sightings older than every detector needs, keeping the last MIN_TRAIL before that
        point: an on-time passage (younger than the watermark) still finds its predecessors."""
        trail = v.trail
        if len(trail) <= MIN_TRAIL or trail[MIN_TRAIL].t >= (cut := self.watermark - self.trail_s):
            return
        n = MIN_TRAIL
        while n < len(trail) and trail[n].t < cut:
            n += 1
        n -= MIN_TRAIL  # the number to drop
        if n:
            for s in trail[:n]:
                for d in self.detectors:
                    d.fold(v, s, self.ctx)
            del trail[:n]

    # ------------------------------------------------------------------ recovery
    def snapshot(self) -> bytes:
        """Everything needed to resume (the runtime stores it with the log position it matches)."""
        state = {
            "format": SNAPSHOT_FORMAT,
            "detectors": [(d.name, d.version) for d in self.detectors],
            "lateness_s": self.lateness_s,
            "watermark_quantile": self.watermark_quantile,
            "states": self.states,
            "tiers": self._tiers,
            "max_seen": self.max_seen,
            "watermark": self._w,
            "watermark_computed_at": self._w_computed_at,
            "device_watermarks": self.device_watermarks,
            "settle": self._settle,
            "timers": self._timers,
            "tiebreak": next(self._tiebreak),
            "shared_state": {
                name: model.snapshot()
                for name, model in self.ctx.shared.items()
                if hasattr(model, "snapshot") and hasattr(model, "restore")
            },
        }
        return zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 1)

    def restore(self, blob: bytes) -> bool:
        """Resume from a snapshot; False (and nothing changed) when it was taken by another engine
        configuration (other detectors, versions or lateness): then the runtime replays instead."""
        state: dict[str, Any] = pickle.loads(zlib.decompress(blob))
        if (
            state.get("format") != SNAPSHOT_FORMAT
            or state.get("detectors") != [(d.name, d.version) for d in self.detectors]
            or state.get("lateness_s") != self.lateness_s
            or state.get("watermark_quantile") != self.watermark_quantile
        ):
            return False
        self.states = state["states"]
        self._tiers = state["tiers"]
        self.max_seen = state["max_seen"]
        self._w = state["watermark"]
        self._w_computed_at = state["watermark_computed_at"]
        self.device_watermarks = state["device_watermarks"]
        self._settle = state["settle"]
        self._timers = state["timers"]
        self._tiebreak = itertools.count(state["tiebreak"])
        for name, data in state["shared_state"].items():
            model = self.ctx.shared.get(name)
            if model is not None and hasattr(model, "restore"):
                model.restore(data)
        self.changes = Changes()
        return True
