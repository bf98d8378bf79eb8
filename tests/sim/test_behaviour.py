"""Drivers and officers in the simulated world: the 02:00–05:00 coach ban, and the interception model."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from changan.kit.clock import LOCAL_TZ
from changan.network import Network
from changan.sim.interception import position_time_s, stop_probability, stopped
from changan.sim.scenario import InterceptionSpec, load_scenario
from changan.sim.world import simulate

NIGHT = """
name = "night"
start = 2026-11-30T00:00:00+08:00
duration_h = 6.0
[traffic]
vehicles_per_day = 200000
[inject]
watchlisted_vehicles = 0
"""


class TestCoachBan:
    def test_most_coaches_wait_and_the_rest_are_labelled(self, tmp_path: Path) -> None:
        path = tmp_path / "night.toml"
        path.write_text(NIGHT, encoding="utf-8")
        outcome = simulate(load_scenario(str(path)), Network.load_default(), 3)
        cases = [c for c in outcome.truth if c["kind"] == "night_coach"]
        assert cases
        coaches = {v.key for v in outcome.vehicles if v.use == "公路客运"}
        assert {c["vehicle_key"] for c in cases} <= coaches
        labelled = {p for c in cases for p in c["passages"]}
        in_ban = set()
        for r in outcome.reports:
            v_key = f"{r.item['plate_class']}:{r.item['plate_no']}"
            if r.outcome == "right" and v_key in coaches and 2 <= r.true_time.astimezone(LOCAL_TZ).hour < 5:
                in_ban.add(r.true_passage)
        assert in_ban  # coaches that broke the ban were seen …
        assert in_ban <= labelled  # … and every such passage is labelled
        # of the coach trips that met the ban, the configured share waited it out
        assert outcome.stats["coach_ban_compliance"] == pytest.approx(0.95, abs=0.04)


class TestInterception:
    def test_lognormal_median_and_p90(self) -> None:
        spec = InterceptionSpec()
        rng = random.Random(1)
        draws = sorted(position_time_s(spec, rng) for _ in range(20_000))
        assert draws[len(draws) // 2] == pytest.approx(240, rel=0.03)
        assert draws[int(0.9 * len(draws))] == pytest.approx(480, rel=0.03)
        assert stop_probability(spec, 240) == pytest.approx(0.5)
        assert stop_probability(spec, 480) == pytest.approx(0.9)
        assert stop_probability(spec, 0) == 0.0
        assert stopped(300, 240) is True
        assert stopped(200, 240) is False

    def test_p90_must_exceed_median(self) -> None:
        with pytest.raises(ValueError, match="position_p90_s"):
            InterceptionSpec(position_median_s=300, position_p90_s=200)
