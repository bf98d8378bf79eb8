"""The in-memory core: provisional then settled, order independence within the lateness, timers,
eviction, snapshots."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from changan.engine.context import Context
from changan.engine.core import Core
from changan.engine.detectors.base import Detector
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState
from tests.engine.builders import context, flush, sighting

SITES = ["G3-S01-N", "G3-S02-N", "G3-S03-N"]


class QuickPair(Detector):
    """Toy rule: a sighting less than 60 s after the vehicle's previous one at another site."""

    name: ClassVar[str] = "quick_pair"
    version: ClassVar[int] = 1
    keep_s = 600.0

    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        if i == 0:
            return ()
        prev, cur = v.trail[i - 1], v.trail[i]
        if cur.site_id == prev.site_id or cur.t - prev.t >= 60:
            return ()
        return (
            Finding(
                detector=self.name,
                version=self.version,
                rule="pair",
                vehicle_key=cur.vehicle_key,
                plate_no=cur.plate_no,
                at=cur,
                evidence=(prev, cur),
            ),
        )


class Every10Min(Detector):
    """Toy timer: ten minutes after a vehicle's first sighting, if it was seen only once by then."""

    name: ClassVar[str] = "lonely"
    version: ClassVar[int] = 1

    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        return ()

    def wake_at(self, v: VehicleState, i: int, ctx: Context) -> float | None:
        return v.trail[0].t + 600 if i == 0 else None

    def on_timer(self, v: VehicleState, due: float, ctx: Context) -> Sequence[Finding]:
        first = v.trail[0]
        if due != first.t + 600 or any(first.t < s.t <= due for s in v.trail):
            return ()
        return (
            Finding(
                detector=self.name,
                version=self.version,
                rule="once",
                vehicle_key=first.vehicle_key,
                plate_no=first.plate_no,
                at=first,
                evidence=(first,),
            ),
        )


T0 = 1_800_000_000.0


def _run(order: Sequence[Sighting], lateness_s: float) -> tuple[set[str], set[str], Core]:
    core = Core([QuickPair(), Every10Min()], context(), lateness_s=lateness_s)
    live: set[str] = set()
    settled: set[str] = set()
    provisional_ever: set[str] = set()
    for s in order:
        core.process(s)
        ch = core.drain()
        provisional_ever.update(f.id for f in ch.provisional)
        live.update(f.id for f in ch.provisional)
        live.difference_update(ch.retracted)
        assert not (set(ch.retracted) & settled), "a settled finding was retracted"
        settled.update(ch.settled)
        settled.update(f.id for f in ch.settled_new)
    flush(core)
    ch = core.drain()
    settled.update(ch.settled)
    settled.update(f.id for f in ch.settled_new)
    assert not (set(ch.retracted) & settled)
    return settled, provisional_ever, core


def _traffic(seed: int, n: int) -> list[Sighting]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        plate = f"鲁P{rng.randrange(5):05d}"
        out.append(sighting(rng.choice(SITES), T0 + k * 7 + rng.uniform(0, 5), plate_no=plate))
    return out


def _shuffle_within(sightings: list[Sighting], lateness_s: float, rng: random.Random) -> list[Sighting]:
    """An arrival order in which every passage is on time: it arrives before anything more than
    ``lateness_s`` younger than it has been seen (delay each by up to the lateness, then sort)."""
    delayed = sorted(sightings, key=lambda s: s.t + rng.uniform(0, lateness_s * 0.999))
    seen = float("-inf")
    for s in delayed:
        assert s.t > seen - lateness_s
        seen = max(seen, s.t)
    return delayed


class TestOrder:
    @settings(max_examples=40, deadline=None, database=None)
    @given(st.integers(0, 10_000), st.integers(0, 10_000))
    def test_settled_set_does_not_depend_on_arrival_order(self, seed: int, shuffle_seed: int) -> None:
        traffic = _traffic(seed, 120)
        in_order = sorted(traffic, key=lambda s: s.t)
        expected, _, _ = _run(in_order, 60.0)
        shuffled = _shuffle_within(traffic, 60.0, random.Random(shuffle_seed))
        got, _, core = _run(shuffled, 60.0)
        assert got == expected
        assert core.stats.late == 0

    def test_a_late_passage_retracts_what_it_disproves_before_it_settles(self) -> None:
        a = sighting(SITES[0], T0)
        c = sighting(SITES[1], T0 + 50)  # 50 s after a: a quick pair …
        b = sighting(SITES[0], T0 + 30)  # … until b turns up: c is 20 s after b, at another site
        core = Core([QuickPair()], context(), lateness_s=120)
        core.process(a)
        core.process(c)
        first = core.drain()
        assert [f.evidence for f in first.provisional] == [(a, c)]
        core.process(b)
        second = core.drain()
        assert second.retracted == [first.provisional[0].id]
        assert [f.evidence for f in second.provisional] == [(b, c)]
        flush(core)
        assert core.drain().settled == [second.provisional[0].id]

    def test_a_too_late_passage_adds_but_never_retracts(self) -> None:
        a = sighting(SITES[0], T0)
        c = sighting(SITES[1], T0 + 50)
        later = sighting(SITES[2], T0 + 500, plate_no="冀A00001")
        b = sighting(SITES[0], T0 + 30)
        core = Core([QuickPair()], context(), lateness_s=60)
        for s in (a, c, later):
            core.process(s)
        ch = core.drain()
        assert len(ch.settled) == 1  # the watermark passed c: its finding settled
        core.process(b)  # 410 s after the watermark passed it
        ch = core.drain()
        assert ch.retracted == []
        assert [f.evidence for f in ch.settled_new] == [(b, c)]
        assert core.stats.late == 1


class TestTimers:
    def test_fires_when_the_watermark_passes(self) -> None:
        core = Core([Every10Min()], context(), lateness_s=60)
        a = sighting(SITES[0], T0)
        core.process(a)
        core.process(sighting(SITES[1], T0 + 600, plate_no="冀A00001"))
        assert core.drain().settled_new == []  # watermark at T0 + 540
        core.process(sighting(SITES[1], T0 + 661, plate_no="冀A00002"))
        fired = core.drain().settled_new
        assert [f.evidence for f in fired] == [(a,)]


class TestEviction:
    def test_vehicles_leave_after_their_keep_time(self) -> None:
        core = Core([QuickPair()], context(), lateness_s=60)
        core.process(sighting(SITES[0], T0, plate_no="鲁P00001"))
        core.process(sighting(SITES[0], T0 + 600, plate_no="鲁P00002"))
        assert set(core.states) == {"02:鲁P00001", "02:鲁P00002"}
        core.process(sighting(SITES[0], T0 + 661, plate_no="鲁P00003"))
        assert set(core.states) == {"02:鲁P00002", "02:鲁P00003"}
        assert core.stats.evicted == 1


class TestSnapshot:
    def test_restore_resumes_where_it_was(self) -> None:
        traffic = sorted(_traffic(3, 200), key=lambda s: s.t)
        whole, _, _ = _run(traffic, 60.0)
        core = Core([QuickPair(), Every10Min()], context(), lateness_s=60)
        settled: set[str] = set()
        for s in traffic[:100]:
            core.process(s)
        blob = core.snapshot()
        ch = core.drain()
        settled.update(ch.settled, (f.id for f in ch.settled_new))
        again = Core([QuickPair(), Every10Min()], context(), lateness_s=60)
        assert again.restore(blob)
        for s in traffic[100:]:
            again.process(s)
        flush(again)
        ch = again.drain()
        settled.update(ch.settled, (f.id for f in ch.settled_new))
        assert settled == whole

    def test_another_configuration_is_refused(self) -> None:
        core = Core([QuickPair()], context(), lateness_s=60)
        other = Core([QuickPair()], context(), lateness_s=120)
        assert other.restore(core.snapshot()) is False

    def test_negative_lateness_is_refused(self) -> None:
        with pytest.raises(ValueError, match="lateness_s"):
            Core([], context(), lateness_s=-1)
