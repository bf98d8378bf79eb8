"""Lane rules: heavy vehicles in the leftmost lane, the emergency lane, the minimum speed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from changan.engine.context import Context, RegistryRecord
from changan.engine.core import Core
from changan.engine.detectors.base import ConfigError, Detector
from changan.engine.detectors.lanes import (
    EmergencyLaneConfig,
    EmergencyLaneDetector,
    MinSpeedConfig,
    MinSpeedDetector,
    TruckLeftLaneConfig,
    TruckLeftLaneDetector,
)
from changan.engine.sighting import Finding, Sighting
from changan.engine.traffic import SHARED, SiteTraffic
from changan.engine.trail import VehicleState
from tests.engine.builders import DictRegistry, context, evaluate_trail, local, run_core, sighting

THREE = "G002237900110"  # gantry, three lanes
THREE_B = "G002237900310"  # the next gantry on G22, three lanes
TWO = "S000137900110"  # gantry, two lanes
TWO_B = "S000137900310"  # another two-lane gantry
ENTRY = "S000137900411"  # toll entry, one lane
EXIT = "S000137900412"  # toll exit, one lane
T0 = local(2026, 12, 1, 10)
TRUCK = "鲁P5TRK1"


def truck(site: str, t: float, lane: int, cls: str | None = "H11", **kw: Any) -> Sighting:
    kw.setdefault("plate_class", "01")
    return sighting(
        site, t, plate_no=kw.pop("plate_no", TRUCK), lane_no=lane, vehicle_class=cls, speed_kmh=80.0, **kw
    )


def car(site: str, t: float, lane: int, speed: float | None = 100.0, **kw: Any) -> Sighting:
    return sighting(site, t, plate_no=kw.pop("plate_no", "鲁P12345"), lane_no=lane, speed_kmh=speed, **kw)


def rules(found: Sequence[Finding]) -> list[tuple[str, tuple[int, ...]]]:
    return [(f.rule, tuple(s.ref for s in f.evidence)) for f in found]


def refs(*ss: Sighting) -> tuple[int, ...]:
    return tuple(s.ref for s in ss)


def registry(**records: tuple[str | None, str | None]) -> DictRegistry:
    """vehicle key → (vehicle class, use)."""
    return DictRegistry(
        RegistryRecord(
            vehicle_key=k, plate_no=k.split(":")[1], plate_class=k.split(":")[0], vehicle_class=c, use=u
        )
        for k, (c, u) in records.items()
    )


class FogAt:
    """A temporary limit at one site over a time window."""

    def __init__(self, site: str, start: float, end: float, kmh: int = 60) -> None:
        self.site, self.start, self.end, self.kmh = site, start, end, kmh

    def limit_at(self, site_id: str, t: float) -> int | None:
        return self.kmh if site_id == self.site and self.start <= t < self.end else None


# ============================================================================ truck_left_lane
class TestTruckLeftLane:
    def test_a_heavy_truck_in_the_leftmost_of_three_lanes(self) -> None:
        s = truck(THREE, T0, 1)
        [f] = evaluate_trail(TruckLeftLaneDetector(), [s], context())
        assert (f.detector, f.version, f.rule, f.evidence, f.at) == (
            "truck_left_lane",
            1,
            "three_lane",
            (s,),
            s,
        )
        assert f.payload["points"] == 3 and f.payload["fine_yuan"] == 200
        assert f.payload["vehicle_class"] == "H11" and f.payload["vehicle_class_source"] == "camera"
        assert "《山东省高速公路交通安全条例》第十八条第二款" in f.payload["legal_basis"]
        assert f.payload["title_zh"] == "大型客车、中重型货车驶入最左侧车道"
        assert f.thresholds["class_prefixes"] == ["K1", "H1", "H2", "Q1", "Q2"]
        assert f.severity == "normal"

    def test_lane_two_of_three_is_no_violation(self) -> None:
        assert evaluate_trail(TruckLeftLaneDetector(), [truck(THREE, T0, 2)], context()) == []

    def test_a_single_left_lane_read_on_two_lanes_is_overtaking(self) -> None:
        assert evaluate_trail(TruckLeftLaneDetector(), [truck(TWO, T0, 1)], context()) == []

    def test_toll_sites_have_no_leftmost_lane_rule(self) -> None:
        assert (
            evaluate_trail(TruckLeftLaneDetector(), [truck(ENTRY, T0, 1), truck(EXIT, T0 + 60, 1)], context())
            == []
        )

    @pytest.mark.parametrize(
        ("cls", "found"),
        [
            ("K11", True),  # large coach
            ("K18", True),
            ("H11", True),  # heavy truck
            ("H21", True),  # medium truck
            ("Q11", True),  # heavy tractor unit
            ("Q21", True),
            ("K21", False),  # medium coach: not a large coach
            ("K33", False),  # small car
            ("H31", False),  # light truck
            ("H41", False),
            ("Q31", False),  # light tractor unit
            (None, False),  # unknown class: never a violation
        ],
    )
    def test_who_counts(self, cls: str | None, found: bool) -> None:
        got = evaluate_trail(TruckLeftLaneDetector(), [truck(THREE, T0, 1, cls)], context())
        assert len(got) == (1 if found else 0)

    def test_the_registry_class_prevails_over_the_camera(self) -> None:
        ctx = context(registry=registry(**{f"01:{TRUCK}": ("H21", "货运")}))
        [f] = evaluate_trail(TruckLeftLaneDetector(), [truck(THREE, T0, 1, "K33")], ctx)
        assert (f.payload["vehicle_class"], f.payload["vehicle_class_source"]) == ("H21", "registry")
        ctx = context(registry=registry(**{f"01:{TRUCK}": ("K33", "非营运")}))
        assert evaluate_trail(TruckLeftLaneDetector(), [truck(THREE, T0, 1, "H11")], ctx) == []
        ctx = context(registry=registry(**{f"01:{TRUCK}": (None, "货运")}))  # a record without a class
        assert len(evaluate_trail(TruckLeftLaneDetector(), [truck(THREE, T0, 1, "H11")], ctx)) == 1

    def test_a_car_in_lane_one_is_fine(self) -> None:
        assert (
            evaluate_trail(TruckLeftLaneDetector(), [car(THREE, T0, 1, vehicle_class="K33")], context()) == []
        )

    def test_one_finding_per_passage_and_none_for_unclear_plates(self) -> None:
        a = truck(THREE, T0, 1)
        dup = truck(THREE, T0 + 0.5, 1, device_id=f"{THREE}-C2")
        b = truck(THREE_B, T0 + 600, 1)
        assert rules(evaluate_trail(TruckLeftLaneDetector(), [a, dup, b], context())) == [
            ("three_lane", refs(a)),
            ("three_lane", refs(b)),
        ]
        low = truck(THREE, T0, 1, plate_confidence=89.9)
        assert evaluate_trail(TruckLeftLaneDetector(), [low], context()) == []
        ok = truck(THREE, T0, 1, plate_confidence=90.0)
        assert len(evaluate_trail(TruckLeftLaneDetector(), [ok], context())) == 1
        unread = truck(THREE, T0, 1, vehicle_key="x:7")
        assert evaluate_trail(TruckLeftLaneDetector(), [unread], context()) == []

    def test_emergency_and_police_vehicles_are_exempt(self) -> None:
        ctx = context(registry=registry(**{f"01:{TRUCK}": ("H11", "消防")}))
        assert evaluate_trail(TruckLeftLaneDetector(), [truck(THREE, T0, 1)], ctx) == []
        police = truck(THREE, T0, 1, plate_no="鲁P1234警", plate_class="23", plate_kind="suffixed")
        assert evaluate_trail(TruckLeftLaneDetector(), [police], context()) == []

    def test_two_lane_consecutive_reads_when_configured(self) -> None:
        d = TruckLeftLaneDetector(TruckLeftLaneConfig(two_lane_consecutive_reads=2))
        a = truck(TWO, T0, 1)
        toll = truck(ENTRY, T0 + 100, 1)  # a toll read in between does not break the run
        b = truck(TWO_B, T0 + 600, 1)
        c = truck(TWO, T0 + 1200, 1)  # the run goes on: no second finding
        [f] = evaluate_trail(d, [a, toll, b, c], context())
        assert (f.rule, f.evidence, f.at) == ("two_lane", (a, b), b)
        assert f.payload["review_only"] is True and f.payload["unconfirmed"] is True
        assert f.thresholds["two_lane_consecutive_reads"] == 2

    def test_two_lane_runs_break_on_another_lane_and_on_time(self) -> None:
        d = TruckLeftLaneDetector(TruckLeftLaneConfig(two_lane_consecutive_reads=2))
        a = truck(TWO, T0, 1)
        mid = truck(TWO_B, T0 + 300, 2)
        b = truck(TWO, T0 + 600, 1)
        assert evaluate_trail(d, [a, mid, b], context()) == []
        far = truck(TWO, T0 + 3601, 1)
        assert evaluate_trail(d, [truck(TWO_B, T0, 1), far], context()) == []
        wide = truck(THREE, T0 + 300, 2)  # a read on three lanes ends the run too
        assert evaluate_trail(d, [truck(TWO, T0, 1), wide, truck(TWO_B, T0 + 600, 1)], context()) == []

    def test_two_lane_duplicate_reads_are_one_passage(self) -> None:
        d = TruckLeftLaneDetector(TruckLeftLaneConfig(two_lane_consecutive_reads=2))
        a = truck(TWO, T0, 1)
        dup = truck(TWO, T0 + 0.4, 1, device_id=f"{TWO}-C2")
        assert evaluate_trail(d, [a, dup], context()) == []

    def test_config_errors_name_the_field(self) -> None:
        with pytest.raises(
            ConfigError, match=r"engine\.detectors\.truck_left_lane\.two_lane_consecutive_reads"
        ):
            TruckLeftLaneDetector.from_config({"two_lane_consecutive_reads": 1})
        with pytest.raises(ConfigError, match=r"truck_left_lane\.class_prefixes"):
            TruckLeftLaneDetector.from_config({"class_prefixes": ["H1", " "]})
        with pytest.raises(ConfigError, match=r"truck_left_lane\.min_plate_confidence"):
            TruckLeftLaneDetector.from_config({"min_plate_confidence": 101})
        with pytest.raises(ConfigError, match=r"truck_left_lane\.lanes"):
            TruckLeftLaneDetector.from_config({"lanes": 3})
        d = TruckLeftLaneDetector.from_config({"class_prefixes": ["h1"]})
        assert d.config.class_prefixes == ("H1",)

    def test_disabled(self) -> None:
        d = TruckLeftLaneDetector.from_config({"enabled": False})
        assert evaluate_trail(d, [truck(THREE, T0, 1)], context()) == []


# ============================================================================ emergency_lane
class TestEmergencyLane:
    def test_driving_in_the_emergency_lane(self) -> None:
        s = car(TWO, T0, 3)
        [f] = evaluate_trail(EmergencyLaneDetector(), [s], context())
        assert (f.detector, f.rule, f.evidence, f.at) == ("emergency_lane", "drive", (s,), s)
        assert (f.payload["points"], f.payload["fine_yuan"], f.payload["lanes"]) == (6, 200, 2)
        assert "《道路交通安全违法行为记分管理办法》第十条第十一项" in f.payload["legal_basis"]
        assert f.payload["title_zh"] == "违法占用应急车道行驶"
        assert f.thresholds["emergency_lane_no"] == "lanes_plus_one"

    @pytest.mark.parametrize(
        ("site", "lane", "found"),
        [
            (TWO, 2, False),
            (TWO, 3, True),
            (THREE, 3, False),
            (THREE, 4, True),
            (TWO, 4, False),
            (ENTRY, 2, False),
        ],
    )
    def test_which_lane_is_the_emergency_lane(self, site: str, lane: int, found: bool) -> None:
        assert len(evaluate_trail(EmergencyLaneDetector(), [car(site, T0, lane)], context())) == int(found)

    def test_toll_sites_when_configured(self) -> None:
        d = EmergencyLaneDetector(EmergencyLaneConfig(toll_sites=True))
        assert rules(evaluate_trail(d, [s := car(ENTRY, T0, 2)], context())) == [("drive", refs(s))]

    def test_a_fixed_emergency_lane_number(self) -> None:
        d = EmergencyLaneDetector(EmergencyLaneConfig(emergency_lane_no=9))
        assert len(evaluate_trail(d, [car(TWO, T0, 9)], context())) == 1
        assert evaluate_trail(d, [car(TWO, T0, 3)], context()) == []
        d = EmergencyLaneDetector(EmergencyLaneConfig(emergency_lane_no=3))
        assert len(evaluate_trail(d, [car(TWO, T0, 3)], context())) == 1
        assert evaluate_trail(d, [car(THREE, T0, 3)], context()) == []  # a traffic lane there
        assert d.emergency_lane(THREE, context()) is None

    def test_at_the_stop_speed_it_is_driving_below_it_a_candidate(self) -> None:
        assert rules(evaluate_trail(EmergencyLaneDetector(), [s := car(TWO, T0, 3, 30.0)], context())) == [
            ("drive", refs(s))
        ]
        assert evaluate_trail(EmergencyLaneDetector(), [car(TWO, T0, 3, 29.9)], context()) == []
        assert evaluate_trail(EmergencyLaneDetector(), [car(TWO, T0, 3, None)], context()) == []

    def test_stopping_then_driving_on_is_a_stop(self) -> None:
        slow = car(TWO, T0, 3, 8.0)
        later = car(TWO_B, T0 + 1800, 2, 95.0)  # exactly resume_within_s later
        [f] = evaluate_trail(EmergencyLaneDetector(), [slow, later], context())
        assert (f.rule, f.evidence, f.at) == ("stop", (slow, later), later)
        assert (f.payload["points"], f.payload["stopped_at"], f.payload["stopped_speed_kmh"]) == (9, TWO, 8.0)
        assert "第九条第三项" in f.payload["interpretation"]
        assert f.payload["title_zh"] == "违法在应急车道停车"

    def test_seen_again_too_late_is_a_repaired_breakdown(self) -> None:
        slow = car(TWO, T0, 3, 8.0)
        later = car(TWO_B, T0 + 1800.5, 2, 95.0)
        assert evaluate_trail(EmergencyLaneDetector(), [slow, later], context()) == []

    def test_several_slow_reads_then_driving_on_in_the_emergency_lane(self) -> None:
        a = car(TWO, T0, 3, 20.0)
        dup = car(TWO, T0 + 0.3, 3, 20.0, device_id=f"{TWO}-C2")
        b = car(TWO_B, T0 + 900, 3, 25.0)
        c = car(TWO, T0 + 1500, 3, 90.0)
        assert rules(evaluate_trail(EmergencyLaneDetector(), [a, dup, b, c], context())) == [
            ("drive", refs(c)),
            ("stop", refs(a, dup, b, c)),
        ]

    def test_a_second_read_of_the_slow_passage_is_not_driving_on(self) -> None:
        slow = car(TWO, T0, 3, 10.0)
        again = car(TWO, T0 + 0.5, 2, 70.0, device_id=f"{TWO}-C2")  # the other camera, another lane guess
        assert evaluate_trail(EmergencyLaneDetector(), [slow, again], context()) == []

    def test_a_breakdown_is_raised_by_a_timer_and_never_as_a_violation(self) -> None:
        slow = car(TWO, T0, 3, 12.0)
        other = car(TWO_B, T0 + 700, 2, plate_no="冀A00001")  # moves event time on
        _, live = run_core([EmergencyLaneDetector()], [slow, other], context(), lateness_s=60)
        [f] = live.values()
        assert (f.rule, f.evidence, f.at) == ("breakdown", (slow,), slow)
        assert f.payload["review_only"] is True and f.payload["title_zh"] == "疑似故障停车，请救援"
        assert "points" not in f.payload
        d = EmergencyLaneDetector(EmergencyLaneConfig(breakdown_alerts=False))
        assert run_core([d], [slow, other], context(), lateness_s=60)[1] == {}

    def test_seen_again_before_the_breakdown_timer(self) -> None:
        slow = car(TWO, T0, 3, 12.0)
        later = car(TWO_B, T0 + 300, 2)
        _, live = run_core([EmergencyLaneDetector()], [slow, later], context(), lateness_s=60)
        assert [f.rule for f in live.values()] == ["stop"]

    def test_seen_again_after_the_breakdown_timer_gives_both(self) -> None:
        slow = car(TWO, T0, 3, 12.0)
        later = car(TWO_B, T0 + 900, 2)
        _, live = run_core([EmergencyLaneDetector()], [slow, later], context(), lateness_s=60)
        assert sorted(f.rule for f in live.values()) == ["breakdown", "stop"]

    def test_the_breakdown_timer_fires_once_when_a_late_passage_reorders_the_trail(self) -> None:
        early = car(TWO_B, T0 - 300, 2)
        slow = car(TWO, T0, 3, 12.0)
        other = car(TWO_B, T0 + 700, 2, plate_no="冀A00001")
        core, live = run_core([EmergencyLaneDetector()], [slow, early, other], context(), lateness_s=400)
        assert [f.rule for f in live.values()] == ["breakdown"]
        assert core.stats.timers_fired == 2  # judged twice, raised once

    @pytest.mark.parametrize(
        ("fields", "records"),
        [
            ({"plate_no": "鲁P1234应急", "plate_kind": "emergency", "plate_class": "99"}, {}),
            ({"plate_no": "鲁P0001警", "plate_kind": "suffixed", "plate_class": "23"}, {}),
            ({"plate_no": "鲁P0002警", "plate_kind": "suffixed"}, {}),
            ({}, {"02:鲁P12345": ("K31", "应急救援")}),
            ({}, {"02:鲁P12345": ("K33", "救护")}),
        ],
    )
    def test_emergency_vehicles_are_exempt(self, fields: dict[str, Any], records: dict[str, Any]) -> None:
        ctx = context(registry=registry(**records))
        trail = [
            car(TWO, T0, 3, **fields),
            car(TWO_B, T0 + 600, 3, 5.0, **fields),
            car(TWO, T0 + 900, 2, **fields),
        ]
        assert run_core([EmergencyLaneDetector()], trail, ctx, lateness_s=60)[1] == {}

    def test_unclear_plates_are_not_judged(self) -> None:
        assert (
            evaluate_trail(EmergencyLaneDetector(), [car(TWO, T0, 3, plate_confidence=80.0)], context()) == []
        )
        assert evaluate_trail(EmergencyLaneDetector(), [car(TWO, T0, 3, vehicle_key="x:1")], context()) == []

    def test_config_errors_name_the_field(self) -> None:
        with pytest.raises(ConfigError, match=r"engine\.detectors\.emergency_lane\.stop_below_kmh"):
            EmergencyLaneDetector.from_config({"stop_below_kmh": 0})
        with pytest.raises(ConfigError, match=r"emergency_lane\.emergency_lane_no"):
            EmergencyLaneDetector.from_config({"emergency_lane_no": "right"})
        with pytest.raises(ConfigError, match=r"emergency_lane\.emergency_lane_no"):
            EmergencyLaneDetector.from_config({"emergency_lane_no": -1})
        with pytest.raises(ConfigError, match=r"emergency_lane\.resume_within_s"):
            EmergencyLaneDetector.from_config({"resume_within_s": -5})
        assert EmergencyLaneDetector.from_config({"emergency_lane_no": 0}).config.emergency_lane_no == 0


# ============================================================================ min_speed
def traffic_ctx(**kw: Any) -> Context:
    return context(shared={SHARED: SiteTraffic(lateness_s=600)}, **kw)


def feed(ctx: Context, *ss: Sighting) -> None:
    for s in ss:
        ctx.shared[SHARED].observe(s)


def flow(site: str, t0: float, speeds: Sequence[float], step: float = 20.0, lane: int = 2) -> list[Sighting]:
    """Other vehicles passing ``site`` from ``t0`` on, one every ``step`` seconds."""
    return [car(site, t0 + k * step, lane, v, plate_no=f"冀A{k:05d}") for k, v in enumerate(speeds)]


def judge(d: Detector, s: Sighting, ctx: Context, before: Sequence[Sighting] = ()) -> list[Finding]:
    """Feed the model as the core would (every passage, the anchor too) and judge the anchor with the
    vehicle's own earlier sightings in its trail."""
    feed(ctx, *before, s)
    v = VehicleState(s.vehicle_key)
    for b in before:
        if b.vehicle_key == s.vehicle_key:
            v.insert(b)
    return list(d.evaluate(v, v.insert(s), ctx))


class TestMinSpeed:
    def test_below_60_in_free_flow(self) -> None:
        ctx = traffic_ctx()
        s = car(TWO, T0, 2, 59.9)
        [f] = judge(MinSpeedDetector(), s, ctx, flow(TWO, T0 - 200, [100, 95, 110]))
        assert (f.detector, f.rule, f.evidence) == ("min_speed", "highway", (s,))
        assert (f.payload["speed_kmh"], f.payload["minimum_kmh"], f.payload["points"]) == (59.9, 60.0, 3)
        assert f.payload["traffic"] == {"passages": 3, "median_kmh": 100.0}
        assert "《道路交通安全法实施条例》第七十八条第一款" in f.payload["legal_basis"]
        assert f.thresholds["congestion_median_below_kmh"] == 70.0

    def test_exactly_60_is_legal(self) -> None:
        assert judge(MinSpeedDetector(), car(TWO, T0, 2, 60.0), traffic_ctx()) == []

    def test_with_too_little_traffic_it_is_not_congestion(self) -> None:
        ctx = traffic_ctx()
        assert len(judge(MinSpeedDetector(), car(TWO, T0, 2, 45.0), ctx, flow(TWO, T0 - 100, [30, 30]))) == 1

    def test_in_congestion_nothing(self) -> None:
        ctx = traffic_ctx()
        assert (
            judge(MinSpeedDetector(), car(TWO, T0, 2, 45.0), ctx, flow(TWO, T0 - 100, [30, 40, 69.9])) == []
        )

    def test_a_median_of_exactly_70_is_not_congestion(self) -> None:
        ctx = traffic_ctx()
        assert (
            len(judge(MinSpeedDetector(), car(TWO, T0, 2, 45.0), ctx, flow(TWO, T0 - 100, [30, 70, 90]))) == 1
        )

    def test_congestion_is_judged_from_the_window_before_the_read_only(self) -> None:
        ctx = traffic_ctx()
        old = flow(TWO, T0 - 400, [30, 30, 30])  # more than 300 s before
        after = flow(TWO, T0 + 1, [30, 30, 30])  # after the read
        elsewhere = flow(TWO_B, T0 - 100, [30, 30, 30])
        assert len(judge(MinSpeedDetector(), car(TWO, T0, 2, 45.0), ctx, [*old, *after, *elsewhere])) == 1

    def test_without_a_traffic_model_nothing(self) -> None:
        assert evaluate_trail(MinSpeedDetector(), [car(TWO, T0, 2, 40.0)], context()) == []

    def test_fog_or_road_works_at_the_site(self) -> None:
        ctx = traffic_ctx(limits=FogAt(TWO, T0 - 60, T0 + 60))
        assert judge(MinSpeedDetector(), car(TWO, T0, 2, 40.0), ctx) == []
        ctx = traffic_ctx(limits=FogAt(TWO, T0 + 1, T0 + 60))  # not in force yet
        assert len(judge(MinSpeedDetector(), car(TWO, T0, 2, 40.0), ctx)) == 1
        ctx = traffic_ctx(limits=FogAt(TWO_B, T0 - 60, T0 + 60))  # elsewhere
        assert len(judge(MinSpeedDetector(), car(TWO, T0, 2, 40.0), ctx)) == 1

    @pytest.mark.parametrize("lane", [0, 3, 4])
    def test_outside_the_traffic_lanes_nothing(self, lane: int) -> None:
        assert judge(MinSpeedDetector(), car(TWO, T0, lane, 40.0), traffic_ctx()) == []

    def test_toll_sites(self) -> None:
        for site in (ENTRY, EXIT):
            assert judge(MinSpeedDetector(), car(site, T0, 1, 20.0), traffic_ctx()) == []
        d = MinSpeedDetector(MinSpeedConfig(suppress_at_toll_sites=False))
        assert len(judge(d, car(ENTRY, T0, 1, 20.0), traffic_ctx())) == 1

    def test_a_breakdown_candidate_limping_on(self) -> None:
        ctx = traffic_ctx()
        stop = car(TWO_B, T0 - 1800, 3, 10.0)
        s = car(TWO, T0, 2, 40.0)
        assert judge(MinSpeedDetector(), s, ctx, [stop]) == []
        ctx = traffic_ctx()
        stop = car(TWO_B, T0 - 1800.5, 3, 10.0)  # longer ago than the look-back
        assert len(judge(MinSpeedDetector(), car(TWO, T0, 2, 40.0), ctx, [stop])) == 1

    def test_per_lane_minimums_are_off_by_default(self) -> None:
        assert judge(MinSpeedDetector(), car(TWO, T0, 1, 95.0), traffic_ctx()) == []

    @pytest.mark.parametrize(
        ("site", "lane", "speed", "minimum"),
        [
            (TWO, 1, 99.9, 100.0),
            (TWO, 1, 100.0, None),
            (TWO, 2, 61.0, None),  # the right lane has only the highway minimum
            (THREE, 1, 109.9, 110.0),
            (THREE, 2, 89.9, 90.0),
            (THREE, 2, 90.0, None),
            (THREE, 3, 70.0, None),
        ],
    )
    def test_per_lane_minimums(self, site: str, lane: int, speed: float, minimum: float | None) -> None:
        d = MinSpeedDetector(MinSpeedConfig(lane_minimums=True))
        got = judge(d, car(site, T0, lane, speed), traffic_ctx())
        assert [(f.rule, f.payload["minimum_kmh"]) for f in got] == ([("lane", minimum)] if minimum else [])

    def test_below_60_in_the_left_lane_is_the_highway_minimum(self) -> None:
        d = MinSpeedDetector(MinSpeedConfig(lane_minimums=True, lane_shortfall_pct=20))
        assert [f.rule for f in judge(d, car(TWO, T0, 1, 59.0), traffic_ctx())] == ["highway"]
        assert judge(d, car(TWO, T0, 1, 80.0), traffic_ctx()) == []  # exactly 20 % below: not more
        assert [f.rule for f in judge(d, car(TWO, T0, 1, 79.9), traffic_ctx())] == ["lane"]

    def test_exempt_and_unclear(self) -> None:
        ctx = traffic_ctx(registry=registry(**{"02:鲁P12345": ("K33", "警用")}))
        assert judge(MinSpeedDetector(), car(TWO, T0, 2, 40.0), ctx) == []
        assert judge(MinSpeedDetector(), car(TWO, T0, 2, 40.0, plate_confidence=50.0), traffic_ctx()) == []

    def test_a_second_read_of_one_passage(self) -> None:
        ctx = traffic_ctx()
        a = car(TWO, T0, 2, 40.0)
        b = car(TWO, T0 + 0.4, 2, 41.0, device_id=f"{TWO}-C2")
        feed(ctx, a, b)
        assert rules(evaluate_trail(MinSpeedDetector(), [a, b], ctx)) == [("highway", refs(a))]

    def test_recheck_is_asked_for_slow_reads_only(self) -> None:
        d = MinSpeedDetector()
        ctx = traffic_ctx()
        v = VehicleState("02:鲁P12345")
        for s, expected in (
            (car(TWO, T0, 2, 40.0), True),
            (car(TWO_B, T0 + 600, 2, 80.0), False),
            (car(ENTRY, T0 + 1200, 1, 20.0), False),
        ):
            i = v.insert(s)
            assert d.recheck(v, i, ctx) is expected

    def test_config_errors_name_the_field(self) -> None:
        with pytest.raises(ConfigError, match=r"engine\.detectors\.min_speed\.congestion_min_passages"):
            MinSpeedDetector.from_config({"congestion_min_passages": 0})
        with pytest.raises(ConfigError, match=r"min_speed\.minimum_kmh"):
            MinSpeedDetector.from_config({"minimum_kmh": "fast"})
        with pytest.raises(ConfigError, match=r"min_speed\.lane_shortfall_pct"):
            MinSpeedDetector.from_config({"lane_shortfall_pct": 100})

    def test_its_traffic_model_fits_the_core(self) -> None:
        m = MinSpeedDetector.from_config({"congestion_window_s": 400}).traffic_model(600)
        assert (m.lateness_s, m.window_s, m.late_s, m.horizon_s) == (600, 400, 600, 1600)


# ----------------------------------------------------------------------- arrival order (min_speed)
LATENESS = 120.0


def _settled(sightings: Sequence[Sighting], detectors: Sequence[Detector] | None = None) -> set[str]:
    ctx = context(shared={SHARED: SiteTraffic(lateness_s=LATENESS)})
    _, live = run_core(detectors or [MinSpeedDetector()], sightings, ctx, lateness_s=LATENESS)
    return set(live)


class TestMinSpeedArrivalOrder:
    def test_a_late_passage_of_another_vehicle_turns_it_into_congestion(self) -> None:
        queue = flow(TWO, T0 - 100, [30, 35, 40], step=10)
        slow = car(TWO, T0, 2, 45.0)
        tail = car(TWO_B, T0 + 500, 2, plate_no="晋A00009")  # moves the watermark past everything
        in_order = [*queue, slow, tail]
        assert _settled(in_order) == _settled(queue)  # the slow car was in the queue
        # the queue's last passage comes in after the slow car, still within the lateness
        ctx = context(shared={SHARED: SiteTraffic(lateness_s=LATENESS)})
        core = Core([MinSpeedDetector()], ctx, lateness_s=LATENESS)
        core.process(queue[0])
        core.process(queue[1])
        core.process(slow)
        first = core.drain()
        provisional = [f for f in first.provisional if f.vehicle_key == slow.vehicle_key]
        assert len(provisional) == 1  # two passages before it: too few to call it congestion yet
        core.process(queue[2])
        core.process(tail)
        ch = core.drain()
        assert provisional[0].id in ch.retracted  # judged again when it settled: congested
        shuffled = [queue[0], queue[1], slow, queue[2], tail]
        assert _settled(shuffled) == _settled(in_order)

    def test_a_late_passage_of_another_vehicle_lifts_the_congestion(self) -> None:
        queue = flow(TWO, T0 - 100, [30, 35, 40], step=10)
        fast = flow(TWO, T0 - 60, [110, 115, 120, 118], step=5)
        slow = car(TWO, T0, 2, 45.0)
        tail = car(TWO_B, T0 + 500, 2, plate_no="晋A00009")
        in_order = sorted([*queue, *fast, slow, tail], key=lambda s: s.t)
        expected = _settled(in_order)
        assert len(expected) == 4  # the queue's three (too little traffic before them) and the slow car
        shuffled = [*queue, slow, *fast, tail]  # the fast ones arrive after the slow car, on time
        assert _settled(shuffled) == expected
        ctx = context(shared={SHARED: SiteTraffic(lateness_s=LATENESS)})
        _, live = run_core([MinSpeedDetector()], shuffled, ctx, lateness_s=LATENESS)
        assert [f.at for f in live.values() if f.vehicle_key == slow.vehicle_key] == [slow]

    @settings(max_examples=30, deadline=None, database=None)
    @given(st.integers(0, 100_000), st.integers(0, 100_000))
    def test_settled_findings_do_not_depend_on_arrival_order(self, seed: int, shuffle_seed: int) -> None:
        rng = random.Random(seed)
        sightings: list[Sighting] = []
        t = T0
        for _ in range(60):
            t += rng.expovariate(1 / 15)
            jam = (t - T0) % 900 < 400  # stretches of slow traffic
            speed = rng.uniform(20, 65) if jam or rng.random() < 0.2 else rng.uniform(80, 120)
            site = rng.choice((TWO, TWO, TWO_B))
            lane = rng.choice((1, 2, 2, 3)) if rng.random() < 0.9 else None
            sightings.append(car(site, t, lane or 2, round(speed, 1), plate_no=f"鲁P{rng.randrange(12):05d}"))
        in_order = sorted(sightings, key=lambda s: s.t)
        order_rng = random.Random(shuffle_seed)
        shuffled = sorted(sightings, key=lambda s: s.t + order_rng.uniform(0, LATENESS * 0.999))
        detectors: list[Detector] = [MinSpeedDetector(), EmergencyLaneDetector(), TruckLeftLaneDetector()]
        assert _settled(shuffled, detectors) == _settled(in_order, detectors)


# ----------------------------------------------------------------------- invariants (all three)
_SITES = (THREE, THREE_B, TWO, TWO_B, ENTRY, EXIT)


@st.composite
def trails(draw: st.DrawFn) -> list[Sighting]:
    n = draw(st.integers(1, 12))
    plate = draw(st.sampled_from(["鲁P12345", "鲁P1234警", "鲁P1234应急"]))
    cls = draw(st.sampled_from([None, "K11", "K21", "K33", "H11", "H21", "H31", "Q11"]))
    t = T0
    out = []
    for _ in range(n):
        t += draw(st.floats(0.1, 2400))
        site = draw(st.sampled_from(_SITES))
        out.append(
            sighting(
                site,
                t,
                plate_no=plate,
                plate_kind="ordinary" if plate == "鲁P12345" else "suffixed",
                vehicle_class=cls,
                lane_no=draw(st.one_of(st.none(), st.integers(0, 5))),
                speed_kmh=draw(st.one_of(st.none(), st.floats(0, 160))),
                plate_confidence=draw(st.sampled_from([None, 95.0, 80.0])),
            )
        )
    return out


def _all() -> list[Detector]:
    return [
        TruckLeftLaneDetector(TruckLeftLaneConfig(two_lane_consecutive_reads=2)),
        EmergencyLaneDetector(),
        MinSpeedDetector(MinSpeedConfig(lane_minimums=True)),
    ]


class TestInvariants:
    @settings(max_examples=80, deadline=None, database=None)
    @given(trails())
    def test_a_judgement_reads_nothing_after_its_anchor(self, trail: list[Sighting]) -> None:
        ctx = traffic_ctx()
        feed(ctx, *trail)
        for d in _all():
            whole = VehicleState(trail[0].vehicle_key)
            for s in trail:
                whole.insert(s)
            prefix = VehicleState(trail[0].vehicle_key)
            for i, s in enumerate(trail):
                prefix.insert(s)
                assert rules(d.evaluate(whole, i, ctx)) == rules(d.evaluate(prefix, i, ctx))

    @settings(max_examples=80, deadline=None, database=None)
    @given(trails())
    def test_what_each_rule_needs(self, trail: list[Sighting]) -> None:
        ctx = traffic_ctx()
        feed(ctx, *trail)
        sites = ctx.sites
        exempt = trail[0].plate_no != "鲁P12345"
        for d in _all():
            for f in evaluate_trail(d, trail, ctx):
                assert not exempt
                assert f.evidence[-1] == f.at and list(f.evidence) == sorted(
                    f.evidence, key=lambda s: s.sort_key
                )
                assert f.at.plate_confidence != 80.0
                site = sites.get(f.at.site_id)
                assert site is not None
                if f.rule == "three_lane":
                    assert f.at.lane_no == 1 and site.lanes >= 3
                    assert f.at.vehicle_class in ("K11", "H11", "H21", "Q11")
                elif f.rule == "two_lane":
                    assert len(f.evidence) == 2 and all(s.lane_no == 1 for s in f.evidence)
                elif f.rule == "drive":
                    assert f.at.lane_no == site.lanes + 1 and (f.at.speed_kmh or 0) >= 30
                    assert not (site.is_entry or site.is_exit)
                elif f.rule == "stop":
                    *slow, later = f.evidence
                    assert slow and all(s.speed_kmh is not None and s.speed_kmh < 30 for s in slow)
                    assert later.t - slow[-1].t <= 1800
                elif f.rule in ("highway", "lane"):
                    assert f.at.speed_kmh is not None and f.at.speed_kmh < f.payload["minimum_kmh"]
                    assert not (site.is_entry or site.is_exit)
                    assert f.at.lane_no is None or 1 <= f.at.lane_no <= site.lanes
                else:
                    pytest.fail(f"unexpected rule {f.rule}")
