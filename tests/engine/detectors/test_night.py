"""Night bans: coaches 02:00–05:00 (one detection per coach per night), dangerous goods in their hours."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from changan.engine.context import Context, RegistryRecord
from changan.engine.core import Core
from changan.engine.detectors.base import ConfigError
from changan.engine.detectors.fatigue import LocalWindow, local_date
from changan.engine.detectors.night import (
    DangerousGoodsBanConfig,
    DangerousGoodsBanDetector,
    NightCoachConfig,
    NightCoachDetector,
)
from changan.engine.sighting import Sighting
from changan.engine.trail import VehicleState
from changan.kit.clock import LOCAL_TZ
from tests.engine.builders import DictRegistry, context, evaluate_trail, local, run_core, sighting

WEST = ["G002237900110", "G002237900310", "G002237900510", "G002237900710", "G002237900910"]
G03 = "G002237900510"
EXIT_T02 = "G002237900812"
ENTRY_T02 = "G002237900811"

COACH = "鲁P22222"
TOURIST = "鲁P22223"
RELAY = "鲁P22224"
BUS = "鲁P22225"  # a large passenger car, not used for transport
TANKER = "鲁P44444"
TRUCK = "鲁P11111"
H = 3600.0
MIN = 60.0


def _registry() -> DictRegistry:
    rec = RegistryRecord
    return DictRegistry(
        [
            rec(f"01:{COACH}", COACH, "01", vehicle_class="K11", use="公路客运", operator="聊城交运集团"),
            rec(f"01:{TOURIST}", TOURIST, "01", vehicle_class="K21", use="旅游客运", operator="冠县通达客运"),
            rec(f"01:{RELAY}", RELAY, "01", vehicle_class="K11", use="公路客运", operator="接驳客运公司"),
            rec(f"01:{BUS}", BUS, "01", vehicle_class="K11", use="非营运"),
            rec(f"01:{TANKER}", TANKER, "01", vehicle_class="H11", use="危化品运输", operator="茌平危运"),
            rec(f"01:{TRUCK}", TRUCK, "01", vehicle_class="H11", use="货运"),
        ]
    )


def _ctx() -> Context:
    return context(registry=_registry())


def _s(site: str, t: float, plate: str = COACH) -> Sighting:
    return sighting(site, t, plate_no=plate, plate_class="01")


def _drive(t0: float, t1: float, plate: str, step: float = 10 * MIN) -> list[Sighting]:
    out, t, n = [], t0, 0
    while t <= t1 + 1e-9:
        out.append(_s(WEST[n % len(WEST)], t, plate))
        t += step
        n += 1
    return out


def _coach(**kw: object) -> NightCoachDetector:
    return NightCoachDetector(NightCoachConfig.model_validate({"relay_operators": ["接驳客运公司"], **kw}))


class TestNightCoachWindow:
    @pytest.mark.parametrize(
        ("h", "m", "s", "found"),
        [(1, 59, 59, False), (2, 0, 0, True), (4, 59, 59, True), (5, 0, 0, False)],
    )
    def test_boundaries(self, h: int, m: int, s: int, found: bool) -> None:
        t = local(2026, 12, 1, h, m, s)
        result = evaluate_trail(_coach(), [_s(WEST[0], t)], _ctx())
        assert len(result) == int(found)
        if found:
            f = result[0]
            assert f.detector == "night_coach" and f.version == 1
            assert f.subject == "2026-12-01"
            assert f.evidence == (f.at,)
            assert f.payload["fine_yuan"] == 200 and f.payload["points"] == 0
            assert "聊城市道路交通安全条例 第三十七条第二款" in f.payload["legal_basis"]
            assert f.thresholds == {
                "ban_start": "02:00",
                "ban_end": "05:00",
                "uses": ["公路客运", "旅游客运"],
                "service_area_compliant": True,
            }

    def test_window_is_a_setting(self) -> None:
        det = _coach(ban_start="01:30", ban_end="05:30")
        t = local(2026, 12, 1, 1, 45)
        assert len(evaluate_trail(det, [_s(WEST[0], t)], _ctx())) == 1


class TestNightCoachWho:
    @pytest.mark.parametrize(("plate", "found"), [(COACH, 1), (TOURIST, 1), (RELAY, 0), (BUS, 0), (TRUCK, 0)])
    def test_by_use_and_relay(self, plate: str, found: int) -> None:
        t = local(2026, 12, 1, 3, 0)
        assert len(evaluate_trail(_coach(), [_s(WEST[0], t, plate)], _ctx())) == found

    def test_unknown_to_the_registry_is_not_judged(self) -> None:
        t = local(2026, 12, 1, 3, 0)
        assert evaluate_trail(_coach(), [_s(WEST[0], t, "鲁P00000")], _ctx()) == []

    def test_parked_at_a_service_area_is_compliant(self) -> None:
        ctx = _ctx()
        # the default network has no camera at a service area: mark one gantry as one for this test
        ctx.sites.info[G03] = dataclasses.replace(ctx.sites.info[G03], at_service_area=True)
        parked = [_s(G03, local(2026, 12, 1, 2, 10)), _s(G03, local(2026, 12, 1, 4, 50))]
        assert evaluate_trail(_coach(), parked, ctx) == []
        moving = _s(WEST[0], local(2026, 12, 1, 4, 55))
        found = evaluate_trail(_coach(), [*parked, moving], ctx)
        assert [f.at for f in found] == [moving]


class _Estimate:
    def __init__(self, offset: float) -> None:
        self.established = True
        self.offset = offset

    def offset_at(self, t: float) -> float:
        return self.offset


class _Clocks:
    """A stand-in for the device-clock model (changan.engine.clocks): fixed offsets by device."""

    def __init__(self, offsets: dict[str, float]) -> None:
        self.offsets = offsets

    def estimate(self, device_id: str, t: float) -> _Estimate | None:
        return _Estimate(self.offsets[device_id]) if device_id in self.offsets else None


class TestNightCoachReads:
    def test_a_device_clock_known_to_be_off_can_only_take_a_sighting_out(self) -> None:
        ctx = _ctx()
        slow = f"{WEST[0]}-C1"  # reports 150 s behind: 04:58:30 was truly 05:01:00
        fast = f"{WEST[1]}-C1"  # reports 150 s ahead: 05:01:00 was truly 04:58:30
        ctx.shared["clocks"] = _Clocks({slow: -150.0, fast: 150.0})
        det = _coach()
        assert evaluate_trail(det, [_s(WEST[0], local(2026, 12, 1, 4, 58, 30))], ctx) == []
        assert evaluate_trail(det, [_s(WEST[1], local(2026, 12, 1, 5, 1, 0))], ctx) == []  # never put in
        found = evaluate_trail(det, [_s(WEST[1], local(2026, 12, 1, 4, 0))], ctx)
        assert [f.payload["clock_offset_s"] for f in found] == [150.0]
        v = VehicleState(f"01:{COACH}")
        v.insert(_s(WEST[2], local(2026, 12, 1, 3, 0)))
        assert det.recheck(v, 0, ctx) is True  # judged again when it settles: the estimate may move
        assert det.recheck(v, 0, _ctx()) is False

    def test_a_possible_misread_is_not_the_coach(self) -> None:
        t = local(2026, 12, 1, 3, 0)
        low = sighting(WEST[0], t, plate_no=COACH, plate_class="01", plate_confidence=80.0)
        car = sighting(WEST[0], t, plate_no=COACH, plate_class="01", vehicle_class="K33")
        bus = sighting(
            WEST[0], t, plate_no=COACH, plate_class="01", vehicle_class="K12", plate_confidence=95.0
        )
        assert evaluate_trail(_coach(), [low], _ctx()) == []
        assert evaluate_trail(_coach(), [car], _ctx()) == []  # the camera saw a small car
        assert len(evaluate_trail(_coach(), [bus], _ctx())) == 1

    def test_a_misread_earlier_in_the_night_does_not_take_the_anchor(self) -> None:
        low = sighting(
            WEST[0], local(2026, 12, 1, 2, 30), plate_no=COACH, plate_class="01", plate_confidence=80.0
        )
        real = _s(WEST[1], local(2026, 12, 1, 3, 0))
        assert [f.at for f in evaluate_trail(_coach(), [low, real], _ctx())] == [real]


class TestNightCoachOnce:
    def test_one_detection_per_night_at_the_first_sighting(self) -> None:
        trail = _drive(local(2026, 12, 1, 1, 30), local(2026, 12, 1, 5, 30), COACH)
        found = evaluate_trail(_coach(), trail, _ctx())
        assert [f.at.t for f in found] == [local(2026, 12, 1, 2, 0)]

    def test_each_night_is_its_own_detection(self) -> None:
        trail = [_s(WEST[0], local(2026, 12, 1, 3, 0)), _s(WEST[1], local(2026, 12, 2, 3, 0))]
        found = evaluate_trail(_coach(), trail, _ctx())
        assert [f.subject for f in found] == ["2026-12-01", "2026-12-02"]

    def test_an_exit_and_re_entry_the_same_night_adds_nothing(self) -> None:
        trail = [
            _s(WEST[0], local(2026, 12, 1, 2, 30)),
            _s(EXIT_T02, local(2026, 12, 1, 2, 40)),
            _s(ENTRY_T02, local(2026, 12, 1, 4, 0)),
        ]
        assert len(evaluate_trail(_coach(), trail, _ctx())) == 1

    def test_once_even_when_the_trail_was_pruned(self) -> None:
        # a short trail (the fatigue detector's 30 min is not here: trail_s 0) and a tight lateness
        trail = _drive(local(2026, 12, 1, 1, 0), local(2026, 12, 1, 6, 0), COACH, step=5 * MIN)
        core = Core([_coach()], _ctx(), lateness_s=60)
        core.process_many(trail)
        ch = core.drain()
        assert [f.at.t for f in ch.provisional] == [local(2026, 12, 1, 2, 0)]
        v = core.states[trail[0].vehicle_key]
        assert v.trail[0].t > local(2026, 12, 1, 2, 0)  # the anchor left the trail …
        assert v.memo_for("night_coach") is not None  # … and is remembered


class TestDangerousGoods:
    def test_entering_at_a_toll_entry_in_the_ban(self) -> None:
        found = evaluate_trail(
            DangerousGoodsBanDetector(), [_s(ENTRY_T02, local(2026, 12, 1, 0, 30), TANKER)], _ctx()
        )
        assert [(f.rule, f.severity) for f in found] == [("entered", "critical")]
        f = found[0]
        assert f.payload["review_only"] is False
        assert f.payload["fine_yuan"] == 2000
        assert f.payload["points"] == 6
        assert f.subject == "2026-12-01"
        assert f.thresholds["ban_start"] == "00:00" and f.thresholds["ban_end"] == "06:00"

    def test_first_seen_on_the_main_line_is_to_be_checked(self) -> None:
        found = evaluate_trail(
            DangerousGoodsBanDetector(), [_s(WEST[0], local(2026, 12, 1, 0, 30), TANKER)], _ctx()
        )
        assert [(f.rule, f.payload["review_only"], f.payload["entry"]) for f in found] == [
            ("entered", True, "first_seen")
        ]

    def test_already_on_the_road_is_escorted(self) -> None:
        trail = _drive(local(2026, 11, 30, 23, 40), local(2026, 12, 1, 0, 30), TANKER)
        found = evaluate_trail(DangerousGoodsBanDetector(), trail, _ctx())
        assert [(f.rule, f.severity, f.payload["review_only"]) for f in found] == [
            ("escort", "serious", True)
        ]
        at = local(2026, 12, 1, 0, 0)
        assert [s.t for s in found[0].evidence] == [at - 10 * MIN, at]
        assert "fine_yuan" not in found[0].payload

    def test_exit_then_entry_in_the_ban_is_entering(self) -> None:
        trail = [
            *_drive(local(2026, 11, 30, 23, 30), local(2026, 11, 30, 23, 50), TANKER),
            _s(EXIT_T02, local(2026, 11, 30, 23, 55), TANKER),
            _s(ENTRY_T02, local(2026, 12, 1, 0, 20), TANKER),
        ]
        found = evaluate_trail(DangerousGoodsBanDetector(), trail, _ctx())
        assert [(f.rule, f.at.site_id) for f in found] == [("entered", ENTRY_T02)]

    def test_a_rest_ends_the_trip(self) -> None:
        trail = [_s(G03, local(2026, 11, 30, 23, 50), TANKER), _s(G03, local(2026, 12, 1, 0, 30), TANKER)]
        found = evaluate_trail(DangerousGoodsBanDetector(), trail, _ctx())
        assert [f.rule for f in found] == ["entered"]

    def test_one_detection_per_trip(self) -> None:
        trail = _drive(local(2026, 12, 1, 0, 10), local(2026, 12, 1, 2, 0), TANKER)
        found = evaluate_trail(DangerousGoodsBanDetector(), trail, _ctx())
        assert [f.at.t for f in found] == [local(2026, 12, 1, 0, 10)]

    @pytest.mark.parametrize(
        ("t", "found"),
        [
            (local(2026, 11, 30, 23, 59, 59), False),
            (local(2026, 12, 1, 0, 0, 0), True),
            (local(2026, 12, 1, 5, 59, 59), True),
            (local(2026, 12, 1, 6, 0, 0), False),
        ],
    )
    def test_boundaries(self, t: float, found: bool) -> None:
        result = evaluate_trail(DangerousGoodsBanDetector(), [_s(ENTRY_T02, t, TANKER)], _ctx())
        assert len(result) == int(found)

    def test_a_window_across_midnight_is_named_by_its_evening(self) -> None:
        det = DangerousGoodsBanDetector(DangerousGoodsBanConfig(ban_start="22:00", ban_end="06:00"))
        late = evaluate_trail(det, [_s(ENTRY_T02, local(2026, 11, 30, 23, 0), TANKER)], _ctx())
        early = evaluate_trail(det, [_s(ENTRY_T02, local(2026, 12, 1, 5, 0), TANKER)], _ctx())
        assert [f.subject for f in late + early] == ["2026-11-30", "2026-11-30"]

    @pytest.mark.parametrize("plate", [TRUCK, COACH, "鲁P00000"])
    def test_only_dangerous_goods_by_use(self, plate: str) -> None:
        assert (
            evaluate_trail(
                DangerousGoodsBanDetector(), [_s(ENTRY_T02, local(2026, 12, 1, 1, 0), plate)], _ctx()
            )
            == []
        )

    def test_a_misread_in_between_does_not_hide_the_trip(self) -> None:
        before = _s(WEST[0], local(2026, 11, 30, 23, 55), TANKER)
        misread = sighting(
            WEST[1], local(2026, 11, 30, 23, 58), plate_no=TANKER, plate_class="01", vehicle_class="K33"
        )
        at = _s(WEST[1], local(2026, 12, 1, 0, 5), TANKER)
        found = evaluate_trail(DangerousGoodsBanDetector(), [before, misread, at], _ctx())
        assert [(f.rule, f.evidence) for f in found] == [("escort", (before, at))]

    def test_a_device_clock_known_to_be_off(self) -> None:
        ctx = _ctx()
        ctx.shared["clocks"] = _Clocks({f"{ENTRY_T02}-C1": 120.0})  # 2 min ahead: truly 23:59
        assert (
            evaluate_trail(
                DangerousGoodsBanDetector(), [_s(ENTRY_T02, local(2026, 12, 1, 0, 1), TANKER)], ctx
            )
            == []
        )

    def test_permitted_operators_are_exempt(self) -> None:
        det = DangerousGoodsBanDetector(DangerousGoodsBanConfig(exempt_operators=["茌平危运"]))
        assert evaluate_trail(det, [_s(ENTRY_T02, local(2026, 12, 1, 1, 0), TANKER)], _ctx()) == []


class TestConfig:
    @pytest.mark.parametrize(
        ("cls", "name", "raw", "field"),
        [
            (NightCoachDetector, "night_coach", {"ban_start": "2:00"}, "ban_start"),
            (NightCoachDetector, "night_coach", {"ban_end": "24:00"}, "ban_end"),
            (NightCoachDetector, "night_coach", {"ban_start": "05:00"}, "ban_start"),
            (DangerousGoodsBanDetector, "dangerous_goods_ban", {"rest_min_s": 0}, "rest_min_s"),
            (DangerousGoodsBanDetector, "dangerous_goods_ban", {"uses": "危化品运输"}, "uses"),
        ],
    )
    def test_bad_values_name_the_field(self, cls: Any, name: str, raw: dict[str, object], field: str) -> None:
        with pytest.raises(ConfigError) as err:
            cls.from_config(raw)
        assert f"engine.detectors.{name}." in str(err.value)
        assert field in str(err.value)


# ------------------------------------------------------------------------------ properties
def _in_ban(t: float, start_h: int, end_h: int) -> bool:
    hour = int((t + 8 * 3600) // 3600) % 24  # local time is UTC+8 (no DST in China)
    return start_h <= hour < end_h


DAY = local(2026, 12, 1)


class TestProperties:
    @settings(max_examples=100, deadline=None, database=None)
    @given(
        st.integers(0, 24 * 60 - 1),
        st.integers(0, 24 * 60 - 1),
        st.lists(st.integers(0, 3 * 86400), min_size=1, max_size=30),
    )
    def test_local_window_matches_the_wall_clock(self, start: int, end: int, offsets: list[int]) -> None:
        if start == end:
            return
        window = LocalWindow(f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}")
        for offset in offsets:  # any order: the window caches its last answer
            t = DAY + offset
            wall = datetime.fromtimestamp(t, LOCAL_TZ)
            minute = wall.hour * 60 + wall.minute
            inside = start <= minute < end if start < end else minute >= start or minute < end
            night = window.night_of(t)
            assert (night is not None) == inside
            if night is not None:
                began = wall.date() if start < end or minute >= start else wall.date() - timedelta(days=1)
                assert local_date(night) == began.isoformat()

    @settings(max_examples=200, deadline=None, database=None)
    @given(st.floats(0, 2 * 86400 - 1).map(lambda x: float(int(x))))
    def test_coach_window_boundaries(self, offset: float) -> None:
        t = DAY + offset
        found = evaluate_trail(_coach(), [_s(WEST[0], t)], _ctx())
        assert bool(found) == _in_ban(t, 2, 5)

    @settings(max_examples=200, deadline=None, database=None)
    @given(st.floats(0, 2 * 86400 - 1).map(lambda x: float(int(x))))
    def test_dangerous_goods_window_boundaries(self, offset: float) -> None:
        t = DAY + offset
        found = evaluate_trail(DangerousGoodsBanDetector(), [_s(ENTRY_T02, t, TANKER)], _ctx())
        assert bool(found) == _in_ban(t, 0, 6)

    @settings(max_examples=30, deadline=None, database=None)
    @given(st.integers(0, 10_000), st.integers(0, 10_000))
    def test_same_detections_whatever_the_order_and_one_per_night(self, seed: int, shuffle: int) -> None:
        rng = random.Random(seed)
        traffic: list[Sighting] = []
        for plate in (COACH, TOURIST, TANKER):
            t = DAY - 3 * H + rng.uniform(0, 2 * H)
            n = 0
            while t < DAY + 30 * H:
                site = EXIT_T02 if rng.random() < 0.05 else ENTRY_T02 if rng.random() < 0.05 else WEST[n % 5]
                traffic.append(_s(site, t, plate))
                n += 1
                t += rng.choice([rng.uniform(3 * MIN, 15 * MIN)] * 5 + [rng.uniform(20 * MIN, 3 * H)])
        ctx = _ctx()
        dets = [_coach(), DangerousGoodsBanDetector()]
        _, expected = run_core(dets, sorted(traffic, key=lambda s: (s.t, s.ref)), ctx, lateness_s=300)
        arrival = random.Random(shuffle)
        order = sorted(traffic, key=lambda s: s.t + arrival.uniform(0, 299))
        core, got = run_core(dets, order, ctx, lateness_s=300)
        assert core.stats.late == 0
        assert set(got) == set(expected)
        # exactly one detection per coach and night with a sighting in the ban
        nights = [(f.vehicle_key, f.subject) for f in got.values() if f.detector == "night_coach"]
        window = _coach().window
        banned = {
            (s.vehicle_key, local_date(night))
            for s in traffic
            if s.plate_no != TANKER and (night := window.night_of(s.t)) is not None
        }
        assert sorted(nights) == sorted(banned)
