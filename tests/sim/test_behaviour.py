"""Drivers and officers in the simulated world: the 02:00–05:00 coach ban, and the interception model."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from changan.kit.clock import LOCAL_TZ
from changan.network import Network
from changan.sim.driver import DriverShift
from changan.sim.interception import position_time_s, stop_probability, stopped
from changan.sim.scenario import InterceptionSpec, load_scenario
from changan.sim.world import _World, simulate

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


class TestRests:
    def test_a_due_rest_is_taken_at_the_first_service_area(self) -> None:
        scenario = load_scenario("city-hour")
        network = Network.load_default()
        world = _World(scenario, network, 5)
        truck = replace(world.population.draw(12), kind="heavy_truck", vehicle_class="H11", use="货运")
        world.tracked.add(truck.key)
        # an entry whose road passes a service area further on
        entry = next(
            s
            for s in world.entry_sites
            if any(n in world.service_areas for n in network.path(s, world.downstream[s][-1])[1:-1])
        )
        at = scenario.start
        shift = DriverShift(rest_after_s=0.0)
        rested = _World(scenario, network, 5)
        rested.tracked.add(truck.key)
        ids = rested.drive(0, truck, at, entry=entry, shift=shift)
        assert len(shift.rests) >= 1
        node, arrived, pause_s = shift.rests[0]
        assert node in world.service_areas
        assert 20 * 60 <= pause_s <= 45 * 60
        # the rest shows in the node times: the service area is left pause_s after arriving
        visits = [t for n, t in rested.node_times[truck.key] if n == node]
        assert visits == [arrived, arrived + timedelta(seconds=pause_s)]
        # the trip took its driving time plus the rests
        took_s = (rested.passage_time(ids[-1]) - at).total_seconds()
        assert took_s > sum(p for _, _, p in shift.rests)

    def test_coaches_wait_at_service_areas_when_they_can(self, tmp_path: Path) -> None:
        path = tmp_path / "night.toml"
        path.write_text(NIGHT, encoding="utf-8")
        outcome = simulate(load_scenario(str(path)), Network.load_default(), 3)
        assert 0 < outcome.stats["coach_waits_at_service_area"] <= outcome.stats["vehicles"]


class TestLanes:
    def test_faster_cars_overtake_and_trucks_keep_right(self) -> None:
        outcome = simulate(load_scenario("city-hour"), Network.load_default(), 13)
        network = Network.load_default()
        kinds = {f"{v.plate_class}:{v.plate_no}": v.kind for v in outcome.vehicles}
        shared = Counter(f"{v.plate_class}:{v.plate_no}" for v in outcome.vehicles)  # clones and fakes
        left: list[float] = []
        other: list[float] = []
        trucks_two = trucks_two_left = trucks_three_left = 0
        injected = {c["vehicle_key"] for c in outcome.truth if c["kind"] == "truck_left_lane"}
        for r in outcome.reports:
            item = r.item
            key = f"{item['plate_class']}:{item['plate_no']}"
            lanes = network.sites[outcome.devices[item["device_id"]].site_id].lanes
            if r.outcome != "right" or key not in kinds or key in injected or shared[key] > 1:
                continue
            if kinds[key] == "small_car" and lanes == 2 and item["lane_no"] <= 2:
                (left if item["lane_no"] == 1 else other).append(item["speed_kmh"])
            if kinds[key] == "heavy_truck" and item["lane_no"] <= lanes:
                if lanes == 2:
                    trucks_two += 1
                    trucks_two_left += item["lane_no"] == 1
                elif lanes >= 3:
                    trucks_three_left += item["lane_no"] == 1
        assert sum(left) / len(left) > sum(other) / len(other) + 5
        share = len(left) / (len(left) + len(other))
        assert share == pytest.approx(outcome.scenario.lanes.car_left_share, abs=0.03)
        assert trucks_two_left / trucks_two == pytest.approx(0.05, abs=0.02)
        assert trucks_three_left == 0
