"""The simulated world: byte-identical for a seed; statistics match the configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from changan.network import Network
from changan.plates import read_plate
from changan.sim.output import write
from changan.sim.scenario import load_scenario
from changan.sim.world import Outcome, expected_class_mix, simulate


@pytest.fixture(scope="module")
def outcome() -> Outcome:
    return simulate(load_scenario("city-hour"), Network.load_default(), 7)


class TestWorld:
    def test_same_seed_gives_byte_identical_files(self, tmp_path: Path, outcome: Outcome) -> None:
        again = simulate(load_scenario("city-hour"), Network.load_default(), 7)
        first = write(outcome, tmp_path / "a", parquet=True)
        second = write(again, tmp_path / "b", parquet=True)
        assert {p.name for p in first} >= {"passages.parquet", "truth.parquet", "registry.parquet"}
        assert [p.name for p in first] == [p.name for p in second]
        for a, b in zip(first, second, strict=True):
            assert a.read_bytes() == b.read_bytes(), a.name
        other = simulate(load_scenario("city-hour"), Network.load_default(), 8)
        write(other, tmp_path / "c")
        assert (tmp_path / "c" / "passages.jsonl").read_bytes() != (
            tmp_path / "a" / "passages.jsonl"
        ).read_bytes()

    def test_statistics_match_the_configuration(self, outcome: Outcome) -> None:
        cam = outcome.scenario.camera
        st = outcome.stats
        assert st["read_right_share"] == pytest.approx(cam.read_right, rel=0.01)
        assert st["misread_share"] == pytest.approx(cam.misread, rel=0.10)
        assert st["delivered_5s_share"] == pytest.approx(cam.delivered_5s, rel=0.02)
        late = 1 - cam.delivered_5s - cam.delivered_5min
        assert st["late_over_5min_share"] == pytest.approx(late, rel=0.05)
        mix = expected_class_mix(outcome.scenario)
        assert st["class_mix"]["small_car"] == pytest.approx(mix["small_car"], rel=0.05)

    def test_reports_are_in_delivery_order_and_ingestible(self, outcome: Outcome) -> None:
        times = [r.received_at for r in outcome.reports]
        assert times == sorted(times)
        assert len({r.item["external_id"] for r in outcome.reports}) == len(outcome.reports)
        misreads = [r for r in outcome.reports if r.outcome in ("misread", "province_misread")]
        assert misreads
        assert all(read_plate(r.item["plate_no"]).text == r.item["plate_no"] for r in outcome.reports[:2000])

    def test_truth_labels(self, outcome: Outcome, tmp_path: Path) -> None:
        watch = [c for c in outcome.truth if c["kind"] == "watchlist"]
        assert len({c["vehicle_key"] for c in watch}) == outcome.scenario.inject.watchlisted_vehicles
        speeding = [c for c in outcome.truth if c["kind"] == "speeding"]
        assert speeding
        assert all(c["speed_kmh"] > c["limit_kmh"] for c in speeding)
        write(outcome, tmp_path)
        first = json.loads((tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()[0])
        assert set(first) >= {
            "case",
            "kind",
            "vehicle_key",
            "passages",
            "detectable",
            "window_start",
            "window_end",
        }


class TestInjected:
    def test_clones_fakes_and_fatigue_are_labelled(self, outcome: Outcome, tmp_path: Path) -> None:
        inject = outcome.scenario.inject
        by_kind: dict[str, list[dict[str, object]]] = {}
        for case in outcome.truth:
            by_kind.setdefault(str(case["kind"]), []).append(case)
        assert len(by_kind["clone"]) == inject.clones
        assert {c["variant"] for c in by_kind["clone"]} == {"hard", "easy"}
        assert len(by_kind["fake_plate"]) == inject.fake_plates
        assert {c["variant"] for c in by_kind["fake_plate"]} == {"invalid", "unissued", "contradicts"}
        invalid = [c for c in by_kind["fake_plate"] if c["variant"] == "invalid"]
        assert all(not read_plate(str(c["plate_no"])).valid for c in invalid)
        assert len(by_kind["fatigue"]) == inject.fatigued_drivers
        for case in by_kind["fatigue"]:
            assert case["passages"]
        # a clone shares its key with a registered vehicle; the registry knows only the real one
        write(outcome, tmp_path)
        registry = [
            json.loads(line)
            for line in (tmp_path / "registry.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        keys = [f"{r['plate_class']}:{r['plate_no']}" for r in registry]
        for case in by_kind["clone"]:
            assert keys.count(str(case["vehicle_key"])) == 1
        for case in by_kind["clone"]:
            (real,) = [v for v in outcome.vehicles if v.registered and v.key == case["vehicle_key"]]
            copies = [v for v in outcome.vehicles if not v.registered and v.key == case["vehicle_key"]]
            assert copies
            same = all((c.model, c.body_colour) == (real.model, real.body_colour) for c in copies)
            assert same is (case["variant"] == "hard")


class TestLanes:
    def test_lane_offences_are_where_the_truth_says(self, outcome: Outcome) -> None:
        network = Network.load_default()
        lanes_at = {
            r.true_passage: (
                r.item["lane_no"],
                network.sites[r.item["device_id"][:-3]].lanes,
                r.item["vehicle_class"],
            )
            for r in outcome.reports
        }
        left = {p for c in outcome.truth if c["kind"] == "truck_left_lane" for p in c["passages"]}
        emergency = {p for c in outcome.truth if c["kind"] == "emergency_lane" for p in c["passages"]}
        assert left
        assert emergency
        for pid, (lane, n, vclass) in lanes_at.items():
            if pid in left:
                assert (lane, vclass) == (1, "H11")
                assert n >= 3
            elif pid in emergency:
                assert lane == n + 1
            elif vclass.startswith("H") and n >= 3:
                assert lane != 1  # trucks keep out of the leftmost lane unless injected


CONGESTED = """
name = "jam"
start = 2026-11-30T17:00:00+08:00
duration_h = 1.0
[traffic]
vehicles_per_day = 40000
[congestion]
episodes_per_day = 480
[inject]
watchlisted_vehicles = 0
"""


class TestCongestionAndBreakdowns:
    def test_slow_in_a_jam_is_not_labelled_and_breakdowns_end_the_trip(self, tmp_path: Path) -> None:
        path = tmp_path / "jam.toml"
        path.write_text(CONGESTED, encoding="utf-8")
        outcome = simulate(load_scenario(str(path)), Network.load_default(), 5)
        assert outcome.congestion
        assert outcome.stats["congested_passage_share"] > 0
        by_pid = {r.true_passage: r for r in outcome.reports if r.outcome != "duplicate"}
        slow_labelled = {p for c in outcome.truth if c["kind"] == "min_speed" for p in c["passages"]}
        for c in outcome.truth:
            if c["kind"] == "min_speed":
                assert c["speed_kmh"] < c["minimum_kmh"]
        breakdowns = [c for c in outcome.truth if c["kind"] == "breakdown"]
        assert breakdowns
        network = Network.load_default()
        for case in breakdowns:
            (pid,) = case["passages"]
            assert pid not in slow_labelled  # exempt
            if pid in by_pid:
                r = by_pid[pid]
                assert r.item["lane_no"] == network.sites[r.item["device_id"][:-3]].lanes + 1
                assert r.item["speed_kmh"] <= 25
            later = [
                r
                for r in outcome.reports
                if r.item["plate_no"] == case["plate_no"]
                and r.true_time > outcome.reports[0].true_time
                and r.true_passage > pid
            ]
            assert later == []  # the vehicle is never seen again
