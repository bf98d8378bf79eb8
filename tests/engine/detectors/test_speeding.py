"""Speeding: point and section speed, the limit that applies, bands/points/fines at their exact edges,
temporary limits from their start, sections never across an exit, absurd averages, one act one penalty."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from changan.engine.context import Context, RegistryRecord
from changan.engine.detectors.base import ConfigError
from changan.engine.detectors.speeding import (
    BANDS,
    SpeedingConfig,
    SpeedingDetector,
    assess,
)
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState
from changan.limits.index import LimitIndex
from changan.limits.models import SpeedLimit
from tests.engine.builders import DictRegistry, context, evaluate_trail, local, network, run_core, sighting

# G0321 northbound → southbound chainage: G02 (T01 toll) G03 → G04 (a section, 7500 m, no exit) T02 G05 …
BEFORE = "G032137900310"  # G0321-G02 → T01: a gantry that starts no section
A = "G032137900510"  # G0321-G03 → G04: starts the section A → B
B = "G032137900610"  # G0321-G04 → T02: ends it
C = "G032137900810"  # G0321-G05 → G06: past the toll station T02 (an exit) after B
EXIT_T02 = "G032137900712"  # the toll exit at T02
DL = "XDL0037900310"  # 东吕高速: posted 100 km/h for every vehicle
SECTION_M = 7500
T = local(2026, 11, 29, 10, 0)


def car(site: str, t: float, speed: float | None, **kw: Any) -> Sighting:
    kw.setdefault("vehicle_class", "K33")
    return sighting(site, t, speed_kmh=speed, **kw)


def judge(*sightings: Sighting, ctx: Context | None = None, **config: Any) -> list[Finding]:
    return evaluate_trail(SpeedingDetector(SpeedingConfig(**config)), list(sightings), ctx or context())


def one(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def reg(**kw: Any) -> DictRegistry:
    kw.setdefault("vehicle_key", "02:鲁P12345")
    kw.setdefault("plate_no", "鲁P12345")
    kw.setdefault("plate_class", "02")
    return DictRegistry([RegistryRecord(**kw)])


def limit_row(from_node: str, to_node: str, kmh: int, start: float, **kw: Any) -> SpeedLimit:
    return SpeedLimit(
        id=kw.get("id", "L1"),
        road_id=kw.get("road_id", "G0321"),
        from_node=from_node,
        to_node=to_node,
        limit_kmh=kmh,
        valid_from=datetime.fromtimestamp(start, UTC),
        valid_until=kw.get("valid_until"),
        revoked_at=kw.get("revoked_at"),
    )


def section_passage(speed_kmh: float) -> float:
    """Seconds to drive the section A → B at ``speed_kmh``."""
    return SECTION_M * 3.6 / speed_kmh


class TestFloor:
    def test_exactly_plus_10_pct_is_found_and_just_below_is_not(self) -> None:
        f = one(judge(car(BEFORE, T, 132.0)))
        assert (f.rule, f.payload["limit_kmh"], f.payload["limit_source"]) == ("point", 120, "group")
        assert (
            f.payload["overspeed_pct"],
            f.payload["band"],
            f.payload["points"],
            f.payload["fine_yuan"],
        ) == (
            10.0,
            "10_20",
            0,
            200,
        )
        assert f.severity == "normal"
        assert f.payload["key_vehicle"] is False
        assert f.evidence == (f.at,)
        assert judge(car(BEFORE, T, 131.9)) == []

    def test_floor_is_a_setting(self) -> None:
        f = one(judge(car(BEFORE, T, 125.0), floor_pct=0))
        assert (f.payload["band"], f.payload["points"], f.payload["fine_yuan"]) == ("under_10", 0, None)
        assert judge(car(BEFORE, T, 120.0), floor_pct=0) == []  # at the limit is not over it

    def test_key_vehicle_floor_is_its_own_setting(self) -> None:
        truck = {"vehicle_class": "H11"}
        assert judge(car(BEFORE, T, 105.0, **truck)) == []
        f = one(judge(car(BEFORE, T, 105.0, **truck), key_vehicle_floor_pct=0))
        assert (f.payload["key_vehicle"], f.payload["points"], f.payload["fine_yuan"]) == (True, 6, None)
        # the other vehicles' floor is untouched
        assert judge(car(BEFORE, T, 125.0), key_vehicle_floor_pct=0) == []

    def test_key_vehicle_floor_is_flagged_unconfirmed(self) -> None:
        description = SpeedingConfig.model_fields["key_vehicle_floor_pct"].description or ""
        assert "UNCONFIRMED" in description


class TestBands:
    @pytest.mark.parametrize(
        ("cls", "speed", "band", "points", "fine", "severity"),
        [
            # other vehicle (small car, 120): 163号令 Art. 10(3) and 8(5); 鲁高速条例 Art. 55
            ("K33", 143.9, "10_20", 0, 200, "normal"),
            ("K33", 144.0, "20_50", 6, 200, "serious"),
            ("K33", 179.9, "20_50", 6, 200, "serious"),
            ("K33", 180.0, "50_up", 12, 200, "critical"),  # exactly +50 %: 12 points *and* 200 yuan
            ("K33", 180.1, "50_up", 12, 2000, "critical"),
            # other vehicle in the 100 group (light truck H31 is not a key vehicle)
            ("H31", 119.9, "10_20", 0, 200, "normal"),
            ("H31", 120.0, "20_50", 6, 200, "serious"),
            ("H31", 150.0, "50_up", 12, 200, "critical"),
            # key vehicle (heavy truck, 100): Art. 10(2) then 8(5)
            ("H11", 110.0, "10_20", 6, 200, "normal"),
            ("H11", 119.9, "10_20", 6, 200, "normal"),
            ("H11", 120.0, "20_50", 12, 200, "serious"),
            ("H11", 150.0, "50_up", 12, 200, "critical"),
            ("H11", 150.1, "50_up", 12, 2000, "critical"),
        ],
    )
    def test_edges(self, cls: str, speed: float, band: str, points: int, fine: int, severity: str) -> None:
        f = one(judge(car(BEFORE, T, speed, vehicle_class=cls)))
        assert (f.payload["band"], f.payload["points"], f.payload["fine_yuan"], f.severity) == (
            band,
            points,
            fine,
            severity,
        )
        assert f.payload.get("licence_may_be_revoked", False) is (fine == 2000)

    def test_the_articles_are_cited(self) -> None:
        f = one(judge(car(BEFORE, T, 180.1)))
        basis = " ".join(f.payload["legal_basis"])
        for article in ("第七十八条第二款", "第八条第（五）项", "第五十五条", "第九十九条"):
            assert article in basis
        assert f.payload["title_zh"] == "机动车在高速公路上行驶超过规定时速百分之五十以上（定点测速）"


class TestLimit:
    def test_100_or_120_by_class(self) -> None:
        assert judge(car(BEFORE, T, 115.0, vehicle_class="K33")) == []
        f = one(judge(car(BEFORE, T, 115.0, vehicle_class="H21")))
        assert (f.payload["limit_kmh"], f.payload["overspeed_pct"], f.payload["key_vehicle"]) == (
            100,
            15.0,
            True,
        )
        assert one(judge(car(BEFORE, T, 115.0, vehicle_class="K11"))).payload["limit_kmh"] == 100

    def test_the_registry_class_when_the_camera_read_none(self) -> None:
        s = car(BEFORE, T, 115.0, vehicle_class=None)
        assert judge(s) == []  # neither: the small-passenger group (never fine what it may not have done)
        f = one(judge(s, ctx=context(registry=reg(vehicle_class="H21"))))
        assert (f.payload["limit_kmh"], f.payload["key_vehicle"]) == (100, True)

    def test_the_camera_class_decides_the_limit_and_the_registry_decides_key(self) -> None:
        ctx = context(registry=reg(vehicle_class="K11"))  # registered as a large coach
        f = one(judge(car(BEFORE, T, 145.0, vehicle_class="K33"), ctx=ctx))
        assert (f.payload["limit_kmh"], f.payload["key_vehicle"], f.payload["points"]) == (120, True, 12)

    def test_key_vehicle_by_use(self) -> None:
        for use in ("校车", "危化品运输"):
            ctx = context(registry=reg(vehicle_class="K38", use=use))
            f = one(judge(car(BEFORE, T, 132.0, vehicle_class="K38"), ctx=ctx))
            assert (f.payload["limit_kmh"], f.payload["key_vehicle"], f.payload["points"]) == (120, True, 6)
            assert f.payload["title_zh"].startswith("校车、中型以上载客载货汽车、危险物品运输车辆")

    def test_posted_limit_prevails(self) -> None:
        f = one(judge(car(DL, T, 110.0)))
        assert (f.payload["limit_kmh"], f.payload["limit_source"]) == (100, "posted")

    def test_temporary_limit_applies_from_its_start_and_not_before(self) -> None:
        start = T + 3600
        index = LimitIndex([limit_row("G0321-G02", "G0321-G03", 80, start)], network())
        ctx = context(limits=index)
        assert judge(car(BEFORE, start - 0.001, 100.0), ctx=ctx) == []
        f = one(judge(car(BEFORE, start, 100.0), ctx=ctx))
        assert (f.payload["limit_kmh"], f.payload["limit_source"], f.payload["overspeed_pct"]) == (
            80,
            "temporary",
            25.0,
        )
        assert "《山东省高速公路交通安全条例》第三十四条" in f.payload["legal_basis"]

    def test_a_temporary_limit_above_the_vehicles_limit_changes_nothing(self) -> None:
        index = LimitIndex([limit_row("G0321-G02", "G0321-G03", 110, T - 60)], network())
        f = one(judge(car(BEFORE, T, 115.0, vehicle_class="H11"), ctx=context(limits=index)))
        assert (f.payload["limit_kmh"], f.payload["limit_source"]) == (100, "group")


class TestSection:
    def test_average_from_raw_times(self) -> None:
        t2 = T + section_passage(150)  # 180 s: +25 %
        f = one(judge(car(A, T, 118.0), car(B, t2, 119.0)))
        assert f.rule == "section"
        assert f.at.site_id == B
        assert [s.site_id for s in f.evidence] == [A, B]
        assert (
            f.payload["measured_kmh"],
            f.payload["limit_kmh"],
            f.payload["section_m"],
            f.payload["section_s"],
        ) == (
            150.0,
            120,
            SECTION_M,
            180.0,
        )
        assert (f.payload["band"], f.payload["points"], f.severity) == ("20_50", 6, "serious")
        assert f.payload["legal_basis"][0].startswith("GA/T 959")
        assert f.thresholds["min_section_m"] == 2000

    def test_within_the_limit_is_nothing(self) -> None:
        assert judge(car(A, T, 118.0), car(B, T + section_passage(131), 119.0)) == []

    def test_a_section_across_an_exit_is_never_used(self) -> None:
        # B (G04) → C (G05) passes the toll station T02: no section, however fast it looks
        assert judge(car(B, T, 110.0), car(C, T + 60, 110.0)) == []
        assert (B, C) not in {(s.from_site, s.to_site) for s in SpeedingDetector().sections(context())}

    @pytest.mark.parametrize("pair", [(B, C), (A, C)])
    def test_a_configured_section_across_an_exit_is_refused(self, pair: tuple[str, str]) -> None:
        with pytest.raises(ConfigError, match=r"engine\.detectors\.speeding\.sections\.0: .*toll_station"):
            SpeedingDetector.from_config({"sections": [list(pair)]}).sections(context())

    def test_configured_sections_replace_the_automatic_ones(self) -> None:
        d = SpeedingDetector.from_config({"sections": [[A, B]]})
        assert [(s.from_site, s.to_site, s.length_m) for s in d.sections(context())] == [(A, B, SECTION_M)]
        with pytest.raises(ConfigError, match=r"sections\.0: unknown site"):
            SpeedingDetector.from_config({"sections": [[A, "nowhere"]]}).sections(context())
        with pytest.raises(ConfigError, match=r"sections\.0: .*toll_exit site"):
            SpeedingDetector.from_config({"sections": [[EXIT_T02, C]]}).sections(context())

    def test_minimum_length(self) -> None:
        assert SpeedingDetector(SpeedingConfig(min_section_m=7501)).sections(context()) == tuple(
            s for s in SpeedingDetector().sections(context()) if s.length_m >= 7501
        )
        with pytest.raises(ConfigError, match="shorter than min_section_m"):
            SpeedingDetector.from_config({"sections": [[A, B]], "min_section_m": 8000}).sections(context())

    def test_a_fast_device_clock_gives_an_absurd_average_which_is_dropped(self) -> None:
        # 270 s at 100 km/h, but B's clock is 240 s behind: the raw times say 30 s for 7.5 km, 900 km/h
        assert judge(car(A, T, 100.0), car(B, T + 30, 100.0)) == []
        assert judge(car(A, T, 100.0), car(B, T - 30, 100.0)) == []  # reversed: no travel time at all
        # the cap is a setting; the average is still computed from the raw times
        f = one(
            judge(car(A, T, 100.0), car(B, T + 30, 100.0), section_max_kmh=1000, section_point_ratio_max=None)
        )
        assert (f.payload["measured_kmh"], f.payload["section_s"]) == (900.0, 30.0)

    def test_an_average_far_above_both_point_readings_is_dropped(self) -> None:
        # 100 km/h at both cameras and 160 between them: a clock 101 s off is likelier
        trail = (car(A, T, 100.0), car(B, T + section_passage(160), 100.0))
        assert judge(*trail) == []
        assert one(judge(*trail, section_point_ratio_max=None)).payload["measured_kmh"] == 160.0
        # 145 km/h between two readings of 100: plausible (drivers brake at cameras)
        f = one(judge(car(A, T, 100.0), car(B, T + section_passage(145), 100.0)))
        assert (f.rule, f.payload["measured_kmh"]) == ("section", 145.0)
        assert f.thresholds["section_point_ratio_max"] == 1.5

    def test_the_section_limit_is_the_lowest_on_it_and_must_hold_throughout(self) -> None:
        t2 = T + section_passage(100)  # 270 s at 100 km/h
        start = T + 100  # an 80 km/h limit on the section begins while the car is on it
        index = LimitIndex([limit_row("G0321-G03", "G0321-G04", 80, start)], network())
        trail = (car(A, T, 85.0), car(B, t2, 85.0))
        assert judge(*trail, ctx=context(limits=index)) == []  # not constant: proves nothing
        f = one(judge(*trail, ctx=context(limits=index), section_limit="lowest"))
        assert (f.payload["limit_kmh"], f.payload["limit_source"], f.payload["overspeed_pct"]) == (
            80,
            "temporary",
            25.0,
        )
        # in force for the whole traversal: used under the default too
        index = LimitIndex([limit_row("G0321-G03", "G0321-G04", 80, T)], network())
        f = one(judge(*trail, ctx=context(limits=index)))
        assert (f.rule, f.payload["limit_kmh"]) == ("section", 80)

    def test_the_group_is_the_lenient_one_when_the_reads_disagree(self) -> None:
        t2 = T + section_passage(115)
        assert judge(car(A, T, 90.0, vehicle_class="H11"), car(B, t2, 90.0, vehicle_class="K33")) == []
        f = one(judge(car(A, T, 90.0, vehicle_class="H11"), car(B, t2, 90.0, vehicle_class="H11")))
        assert (f.rule, f.payload["limit_kmh"]) == ("section", 100)


class _Clock:
    def __init__(self, offset: float, established: bool = True) -> None:
        self._offset, self.established = offset, established

    def offset_at(self, t: float) -> float:
        return self._offset


class _Clocks:
    def __init__(self, offsets: dict[str, float]) -> None:
        self.offsets = offsets

    def estimate(self, device_id: str, t: float) -> _Clock | None:
        return _Clock(self.offsets[device_id]) if device_id in self.offsets else None


class TestClockModel:
    def test_an_estimated_clock_error_suppresses_but_never_corrects(self) -> None:
        t2 = T + section_passage(100) - 60  # raw 210 s: 128.6 km/h, +7 % …
        trail = (car(A, T, 100.0), car(B, t2, 100.0))
        # … over with a 5 % floor; but B's clock is known to be 60 s behind: truly 100 km/h
        assert len(judge(*trail, floor_pct=5)) == 1
        ctx = context()
        ctx.shared["clocks"] = _Clocks({f"{B}-C1": -60.0})
        assert judge(*trail, ctx=ctx, floor_pct=5) == []
        assert judge(*trail, ctx=ctx, floor_pct=5, clock_check=False) != []
        # an estimate that makes things worse never creates or raises a finding
        ctx.shared["clocks"] = _Clocks({f"{B}-C1": +60.0})
        f = one(judge(*trail, ctx=ctx, floor_pct=5))
        assert f.payload["measured_kmh"] == round(SECTION_M * 3.6 / (t2 - T), 1)

    def test_section_anchors_ask_for_a_recheck_only_with_a_clock_model(self) -> None:
        v = VehicleState("02:鲁P12345")
        for s in (car(BEFORE, T, 100.0), car(A, T + 200, 100.0), car(B, T + 500, 100.0)):
            v.insert(s)
        d = SpeedingDetector()
        assert [d.recheck(v, i, context()) for i in range(3)] == [False, False, False]
        ctx = context()
        ctx.shared["clocks"] = _Clocks({})
        assert [d.recheck(v, i, ctx) for i in range(3)] == [False, False, True]


class TestOneActOnePenalty:
    def test_point_and_section_merge_into_one_finding(self) -> None:
        a, b = car(A, T, 140.0), car(B, T + section_passage(150), 138.0)
        f = one(judge(a, b))
        assert f.rule == "point+section"
        assert f.at == b
        assert f.evidence == (a, b)
        # band, points and fine from the higher overspeed (the section's +25 %)
        assert (f.payload["measured_kmh"], f.payload["overspeed_pct"], f.payload["points"]) == (
            150.0,
            25.0,
            6,
        )
        assert [(r["kind"], r["site_id"]) for r in f.payload["readings"]] == [
            ("point", A),
            ("point", B),
            ("section", B),
        ]
        assert "定点与区间测速" in f.payload["title_zh"]

    def test_the_higher_point_reading_decides(self) -> None:
        a, b = car(A, T, 181.0), car(B, T + section_passage(140), 120.0)
        f = one(judge(a, b))
        assert (f.rule, f.payload["measured_kmh"], f.payload["fine_yuan"], f.severity) == (
            "point+section",
            181.0,
            2000,
            "critical",
        )
        assert [r["kind"] for r in f.payload["readings"]] == ["point", "section"]

    def test_a_point_reading_at_the_section_end_alone(self) -> None:
        a, b = car(A, T, 100.0), car(B, T + section_passage(110), 140.0)
        f = one(judge(a, b))
        assert (f.rule, f.at, f.evidence) == ("point", b, (b,))

    def test_a_point_reading_at_the_start_is_judged_with_the_next_passage(self) -> None:
        a, b = car(A, T, 140.0), car(B, T + section_passage(110), 100.0)
        d = SpeedingDetector()
        v = VehicleState(a.vehicle_key)
        v.insert(a)
        assert list(d.evaluate(v, 0, context())) == []  # deferred: the section may still include it
        assert d.wake_at(v, 0, context()) == T + 1800
        v.insert(b)
        f = one(list(d.evaluate(v, 1, context())))
        # not the same act as the (legal) section: found alone; the passage that judged it is evidence
        assert (f.rule, f.at, f.evidence) == ("point", a, (a, b))
        assert [r["site_id"] for r in f.payload["readings"]] == [A]

    def test_without_a_next_passage_the_timer_finds_it(self) -> None:
        a = car(A, T, 140.0)
        _core, live = run_core([SpeedingDetector()], [a], context())
        by_timer = one(list(live.values()))
        assert (by_timer.rule, by_timer.at, by_timer.evidence) == ("point", a, (a,))

    def test_a_late_passage_moves_the_act_to_its_own_anchor(self) -> None:
        # A's reading is claimed by C, until B (between them) turns up: C's finding is retracted and
        # B's added; the act is found once
        a = car(A, T, 140.0)
        b = car(B, T + section_passage(110), 100.0)
        c = car(C, T + 900, 100.0)
        _core, live = run_core([SpeedingDetector()], [a, c, b], context(), lateness_s=3600)
        f = one(list(live.values()))
        assert (f.rule, f.at, f.evidence) == ("point", a, (a, b))

    def test_a_next_passage_after_the_wait_does_not_claim_it(self) -> None:
        a = car(A, T, 140.0)
        late_next = car(B, T + 1800.5, 100.0)
        assert judge(a, late_next) == []  # the timer owns it
        _core, live = run_core([SpeedingDetector()], [a, late_next], context())
        assert [(f.rule, f.evidence) for f in live.values()] == [("point", (a,))]
        assert judge(a, car(B, T + 1800, 100.0)) != []  # within the wait: claimed

    def test_through_the_core_in_any_order(self) -> None:
        before = car(BEFORE, T - 200, 150.0)
        a = car(A, T, 140.0)
        dup = car(A, T + 0.4, 140.0, device_id=f"{A}-C2")
        b = car(B, T + section_passage(150), 138.0)
        after = car(C, T + 900, 145.0)
        trail = [before, a, dup, b, after]
        _core, expected = run_core([SpeedingDetector()], trail, context())
        # the section runs from the last read at A (the duplicate); A's point reading is its first read
        assert sorted(((f.rule, f.evidence) for f in expected.values()), key=lambda x: x[1][0].t) == [
            ("point", (before,)),
            ("point+section", (a, dup, b)),
            ("point", (after,)),
        ]
        rng = random.Random(7)
        for _ in range(20):
            order = trail[:]
            rng.shuffle(order)
            _core, got = run_core([SpeedingDetector()], order, context(), lateness_s=3600)
            assert set(got) == set(expected)

    def test_a_duplicate_read_is_one_passage(self) -> None:
        a = car(BEFORE, T, 140.0)
        dup = car(BEFORE, T + 0.5, 141.0, device_id=f"{BEFORE}-C2")
        f = one(judge(a, dup))
        assert f.evidence == (a,)


class TestOthers:
    def test_unidentified_plates_are_not_judged(self) -> None:
        assert judge(car(BEFORE, T, 200.0, vehicle_key="x:p123")) == []

    def test_a_misread_plate_gives_no_reading_but_judges_what_came_before(self) -> None:
        assert judge(car(BEFORE, T, 150.0, plate_confidence=89.9)) == []
        assert len(judge(car(BEFORE, T, 150.0, plate_confidence=90.0))) == 1
        a = car(A, T, 140.0)
        unclear = car(B, T + section_passage(150), 140.0, plate_confidence=80.0)
        f = one(judge(a, unclear))  # no section with an unclear end, and no reading of its own
        assert (f.rule, f.at, f.evidence) == ("point", a, (a, unclear))

    def test_no_speed_no_reading(self) -> None:
        assert judge(car(BEFORE, T, None)) == []

    def test_emergency_vehicles_are_review_only(self) -> None:
        f = one(judge(car(BEFORE, T, 150.0), ctx=context(registry=reg(vehicle_class="K31", use="应急救援"))))
        assert f.payload["review_only"] is True
        assert "《道路交通安全法》第五十三条" in f.payload["legal_basis"]
        assert one(judge(car(BEFORE, T, 150.0, plate_no="鲁P1234警"))).payload["review_only"] is True
        assert "review_only" not in one(judge(car(BEFORE, T, 150.0))).payload

    def test_toll_sites_are_a_setting(self) -> None:
        assert len(judge(car(EXIT_T02, T, 150.0))) == 1
        assert judge(car(EXIT_T02, T, 150.0), point_at_toll_sites=False) == []

    @pytest.mark.parametrize(
        ("raw", "field"),
        [
            ({"floor_pct": -1}, "engine.detectors.speeding.floor_pct"),
            ({"key_vehicle_floor_pct": 100}, "engine.detectors.speeding.key_vehicle_floor_pct"),
            ({"section_limit": "highest"}, "engine.detectors.speeding.section_limit"),
            ({"sections": [[A, A]]}, "engine.detectors.speeding.sections"),
            ({"sections": [[A]]}, "engine.detectors.speeding.sections.0"),
            ({"section_max_kmh": 0}, "engine.detectors.speeding.section_max_kmh"),
            ({"speed_floor": 5}, "engine.detectors.speeding.speed_floor"),
        ],
    )
    def test_bad_config_names_the_field(self, raw: dict[str, Any], field: str) -> None:
        with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
            SpeedingDetector.from_config(raw)


CLASSES = ["K33", "K11", "H11", "H21", "H31", "K38", None]


class TestProperties:
    @settings(max_examples=300, deadline=None, database=None)
    @given(
        speed=st.floats(0, 300, allow_nan=False),
        cls=st.sampled_from(CLASSES),
        floor=st.sampled_from([0.0, 5.0, 10.0, 15.0]),
        key_floor=st.sampled_from([0.0, 10.0, 20.0]),
        site=st.sampled_from([BEFORE, DL, B]),
    )
    def test_never_below_the_floor(
        self, speed: float, cls: str | None, floor: float, key_floor: float, site: str
    ) -> None:
        for f in judge(
            car(site, T, speed, vehicle_class=cls), floor_pct=floor, key_vehicle_floor_pct=key_floor
        ):
            limit = f.payload["limit_kmh"]
            assert speed > limit
            wanted = key_floor if f.payload["key_vehicle"] else floor
            assert (speed - limit) * 100 >= wanted * limit

    @settings(max_examples=300, deadline=None, database=None)
    @given(
        speeds=st.tuples(st.floats(0, 300, allow_nan=False), st.floats(0, 300, allow_nan=False)),
        dt=st.floats(-60, 2000, allow_nan=False),
        cls=st.sampled_from(CLASSES),
        floor=st.sampled_from([0.0, 10.0, 15.0]),
        key_floor=st.sampled_from([0.0, 10.0, 20.0]),
    )
    def test_no_reading_below_the_floor_in_any_finding(
        self, speeds: tuple[float, float], dt: float, cls: str | None, floor: float, key_floor: float
    ) -> None:
        trail = (car(A, T, speeds[0], vehicle_class=cls), car(B, T + dt, speeds[1], vehicle_class=cls))
        found = judge(*trail, floor_pct=floor, key_vehicle_floor_pct=key_floor)
        assert len(found) <= 2
        for f in found:
            wanted = key_floor if f.payload["key_vehicle"] else floor
            for r in f.payload["readings"]:
                assert r["measured_kmh"] >= r["limit_kmh"]
                assert r["overspeed_pct"] >= wanted - 0.01
                assert r["kind"] == "point" or 0 < dt <= 1800

    @settings(max_examples=300, deadline=None, database=None)
    @given(
        s1=st.floats(0, 300, allow_nan=False),
        s2=st.floats(0, 300, allow_nan=False),
        cls=st.sampled_from(CLASSES),
    )
    def test_bands_points_and_fines_are_monotone_in_speed(
        self, s1: float, s2: float, cls: str | None
    ) -> None:
        lo, hi = sorted((s1, s2))

        def rank(speed: float) -> tuple[int, int, int]:
            found = judge(car(BEFORE, T, speed, vehicle_class=cls), floor_pct=0, key_vehicle_floor_pct=0)
            if not found:
                return (-1, -1, -1)
            p = found[0].payload
            return (BANDS.index(p["band"]), p["points"], p["fine_yuan"] or 0)

        r_lo, r_hi = rank(lo), rank(hi)
        assert all(x <= y for x, y in zip(r_lo, r_hi, strict=True))

    @settings(max_examples=200, deadline=None, database=None)
    @given(limit=st.integers(20, 120), pct=st.integers(0, 200), key=st.booleans())
    def test_assess_at_whole_percentages(self, limit: int, pct: int, key: bool) -> None:
        measured = limit * (100 + pct) / 100
        p = assess(measured, limit, key)
        expected_band = (
            "50_up" if pct >= 50 else "20_50" if pct >= 20 else "10_20" if pct >= 10 else "under_10"
        )
        assert p.band == expected_band
        assert p.fine_yuan == (2000 if pct > 50 else 200 if pct >= 10 else None)
