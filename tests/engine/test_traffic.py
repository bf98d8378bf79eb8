"""The site-traffic model: passages strictly before t, bounded memory, arrival order, snapshots."""

from __future__ import annotations

import random
import statistics
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from changan.engine.core import Core
from changan.engine.detectors.lanes import MinSpeedDetector
from changan.engine.sighting import Sighting
from changan.engine.traffic import SHARED, SiteTraffic, TrafficState
from tests.engine.builders import context, local, sighting

SITE = "S000137900110"  # two-lane gantry
OTHER_SITE = "S000137900310"
T0 = local(2026, 12, 1, 10)


def _at(t: float, speed: float | None, site: str = SITE, **kw: Any) -> Sighting:
    return sighting(site, t, speed_kmh=speed, lane_no=2, **kw)


class TestState:
    def test_counts_passages_strictly_before_t_within_the_window(self) -> None:
        m = SiteTraffic(lateness_s=600, window_s=300)
        for dt, v in ((-300, 10.0), (-299, 20.0), (-1, 30.0), (0, 40.0), (1, 50.0)):
            m.observe(_at(T0 + dt, v))
        # t - 300 is in, t itself and later are out
        assert m.state(SITE, T0, 300) == TrafficState(3, 20.0)
        assert m.state(SITE, T0, 299.5) == TrafficState(2, 25.0)  # even count: mean of the middle two
        assert m.state(OTHER_SITE, T0, 300) == TrafficState(0, None)

    def test_reads_without_speed_are_skipped(self) -> None:
        m = SiteTraffic()
        m.observe(_at(T0 - 10, None))
        m.observe(_at(T0 - 5, 80.0))
        assert m.state(SITE, T0, 300) == TrafficState(1, 80.0)

    def test_the_same_passage_counts_once_and_out_of_order_reads_find_their_place(self) -> None:
        m = SiteTraffic()
        a = _at(T0 - 10, 30.0)
        b = _at(T0 - 20, 90.0)
        c = _at(T0 - 10, 95.0)  # same time as a, another passage
        for s in (a, b, c, a, b):
            m.observe(s)
        assert m.state(SITE, T0, 300) == TrafficState(3, 90.0)
        assert m.state(SITE, T0 - 10, 300) == TrafficState(1, 90.0)

    def test_congested_needs_enough_passages_and_a_median_below_the_threshold(self) -> None:
        m = SiteTraffic()
        for k, v in enumerate((50.0, 70.0)):
            m.observe(_at(T0 - 60 + k, v))
        assert not m.congested(SITE, T0, min_passages=3, median_below_kmh=70)  # too few
        m.observe(_at(T0 - 30, 75.0))
        assert m.state(SITE, T0, 300).median_kmh == 70.0
        assert not m.congested(SITE, T0, min_passages=3, median_below_kmh=70)  # 70 is not below 70
        assert m.congested(SITE, T0, min_passages=3, median_below_kmh=70.1)

    def test_the_catalogue_builds_it_from_the_context(self) -> None:
        m = SiteTraffic(context())
        assert (m.lateness_s, m.window_s, m.late_s, m.horizon_s) == (600.0, 300.0, 0.0, 900.0)

    def test_bad_settings_are_refused(self) -> None:
        with pytest.raises(ValueError, match="lateness_s"):
            SiteTraffic(lateness_s=-1)
        with pytest.raises(ValueError, match="window_s"):
            SiteTraffic(window_s=0)
        with pytest.raises(ValueError, match="late_s"):
            SiteTraffic(late_s=-1)


class TestMemory:
    def test_old_passages_are_trimmed_against_the_time_seen_before(self) -> None:
        m = SiteTraffic(lateness_s=60, window_s=300)
        for k in range(10):
            m.observe(_at(T0 + k, 40.0))
        m.observe(_at(T0 + 5000, 90.0))  # trims against T0 + 9: keeps everything from T0 - 351
        assert m.held == 11
        assert m.holds(T0 + 9 + 1, 300)
        m.observe(_at(T0 + 5001, 90.0))  # now against T0 + 5000: the first ten go
        assert m.held == 2
        assert not m.holds(T0 + 9 + 1, 300)
        assert m.holds(T0 + 5000 - 60 + 1, 300)

    def test_an_anchor_settled_by_a_jump_in_event_time_still_sees_its_window(self) -> None:
        """The sighting that moves the watermark past an anchor is observed before the anchor is judged
        again: the window the anchor needs must survive that sighting."""
        traffic = SiteTraffic(lateness_s=60, window_s=300)
        ctx = context(shared={SHARED: traffic})
        core = Core([MinSpeedDetector()], ctx, lateness_s=60)
        for k in range(5):
            core.process(_at(T0 - 200 + k * 10, 30.0, plate_no=f"鲁P0000{k}"))  # a queue crawling by
        queue = core.drain().provisional  # the first three had too little traffic before them
        assert [f.vehicle_key for f in queue] == ["02:鲁P00000", "02:鲁P00001", "02:鲁P00002"]
        core.process(_at(T0, 45.0, plate_no="鲁P11111"))
        ch = core.drain()
        assert ch.provisional == []  # congested
        assert sorted(ch.settled) == sorted(f.id for f in queue)  # the watermark passed the queue
        core.process(_at(T0 + 100_000, 100.0, plate_no="鲁P22222"))
        ch = core.drain()
        assert ch.settled_new == [] and ch.retracted == [] and ch.settled == []  # still congested
        assert traffic.held == 7
        core.process(_at(T0 + 100_001, 100.0, plate_no="鲁P22223"))
        assert traffic.held == 2  # a site's old passages go when it next sees traffic

    @pytest.mark.parametrize(("late_s", "found"), [(0.0, 0), (600.0, 1)])
    def test_a_passage_later_than_the_lateness_is_judged_while_late_s_covers_it(
        self, late_s: float, found: int
    ) -> None:
        traffic = SiteTraffic(lateness_s=60, window_s=300, late_s=late_s)
        core = Core([MinSpeedDetector()], context(shared={SHARED: traffic}), lateness_s=60)
        for k in range(5):
            core.process(_at(T0 - 200 + k * 10, 110.0, plate_no=f"鲁P0000{k}"))  # free flow
        core.process(_at(T0 + 400, 100.0, plate_no="鲁P22222"))
        core.process(_at(T0 + 401, 100.0, plate_no="鲁P22223"))  # trims against T0 + 400
        core.drain()
        slow = _at(T0, 45.0, plate_no="鲁P11111")  # 340 s after the watermark passed it
        assert traffic.holds(slow.t, 300) is bool(found)
        core.process(slow)
        ch = core.drain()
        assert core.stats.late == 1
        assert [f.at for f in ch.settled_new] == [slow] * found


class TestRecovery:
    def test_snapshot_and_restore_give_the_same_answers(self) -> None:
        m = SiteTraffic(lateness_s=100, window_s=300)
        rng = random.Random(4)
        for _ in range(200):
            m.observe(
                _at(T0 + rng.uniform(0, 2000), rng.uniform(20, 120), site=rng.choice((SITE, OTHER_SITE)))
            )
        again = SiteTraffic(lateness_s=100, window_s=300)
        again.restore(m.snapshot())
        for t in (T0 + 1700, T0 + 1900, T0 + 2100):
            for site in (SITE, OTHER_SITE):
                assert again.state(site, t, 300) == m.state(site, t, 300)
        assert again.held == m.held
        assert again.holds(T0 + 1500, 300) == m.holds(T0 + 1500, 300)

    def test_restore_refuses_another_format(self) -> None:
        with pytest.raises(ValueError, match="format"):
            SiteTraffic().restore({"format": 99})

    def test_the_core_saves_it_with_its_snapshot(self) -> None:
        first = SiteTraffic(lateness_s=60)
        core = Core([MinSpeedDetector()], context(shared={SHARED: first}), lateness_s=60)
        for k in range(4):
            core.process(_at(T0 + k, 35.0, plate_no=f"鲁P0000{k}"))
        second = SiteTraffic(lateness_s=60)
        again = Core([MinSpeedDetector()], context(shared={SHARED: second}), lateness_s=60)
        assert again.restore(core.snapshot())
        assert second.state(SITE, T0 + 10, 300) == first.state(SITE, T0 + 10, 300) == TrafficState(4, 35.0)


class TestProperties:
    @settings(max_examples=60, deadline=None, database=None)
    @given(
        st.lists(
            st.tuples(st.floats(0, 3000), st.floats(5, 150), st.booleans()),
            min_size=1,
            max_size=60,
        ),
        st.integers(0, 1000),
        st.floats(0, 400),
    )
    def test_answers_after_the_watermark_match_a_brute_force_median_whatever_the_arrival_order(
        self, rows: list[tuple[float, float, bool]], seed: int, after_w: float
    ) -> None:
        lateness = 120.0
        window = 300.0
        passages = [_at(T0 + t, v, site=SITE if first else OTHER_SITE) for t, v, first in rows]
        # an arrival order within the lateness: each passage delayed by less than the lateness
        rng = random.Random(seed)
        order = sorted(passages, key=lambda s: s.t + rng.uniform(0, lateness * 0.999))
        m = SiteTraffic(lateness_s=lateness, window_s=window)
        for s in order:
            m.observe(s)
        # any time the watermark has not passed yet: its window is still held in full
        t = max(s.t for s in passages) - lateness + after_w + 1e-3
        assert m.holds(t, window)
        for site in (SITE, OTHER_SITE):
            speeds = [s.speed_kmh or 0.0 for s in passages if s.site_id == site and t - window <= s.t < t]
            expected = TrafficState(len(speeds), statistics.median(speeds) if speeds else None)
            assert m.state(site, t, window) == expected

    @settings(max_examples=40, deadline=None, database=None)
    @given(st.lists(st.floats(0, 5000), min_size=2, max_size=80), st.integers(0, 1000))
    def test_memory_stays_within_the_horizon(self, times: list[float], seed: int) -> None:
        m = SiteTraffic(lateness_s=60, window_s=300)
        rng = random.Random(seed)
        for t in sorted(times, key=lambda x: x + rng.uniform(0, 59)):
            m.observe(_at(T0 + t, 50.0))
        # after the last observation nothing is older than the highest time seen before it (at least
        # the second highest time) less the horizon, give or take the slack of trimming in chunks
        cut = (T0 + sorted(times)[-2]) - m.horizon_s - m.trim_slack_s
        held = m.snapshot()["sites"].get(SITE, ([], [], []))[0]
        assert all(t >= cut for t in held)
        assert len(held) == m.held <= len(times)
