"""Fatigue driving: runs and rests inferred from the trail, the 4 h / 8 h / night limits, timers."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from changan.engine.context import Context, RegistryRecord
from changan.engine.core import Core
from changan.engine.detectors.base import ConfigError
from changan.engine.detectors.fatigue import FatigueConfig, FatigueDetector, LocalWindow
from changan.engine.sighting import Finding, Sighting, utc
from changan.engine.trail import VehicleState
from tests.engine.builders import DictRegistry, context, evaluate_trail, local, run_core, sighting

# G22: gantries westbound (G01 … G10), then back eastbound: a loop whose consecutive sites are
# 0–10 km apart (the two carriageways at one node are 0 m apart on the network)
WEST = [
    "G002237900110",
    "G002237900310",
    "G002237900510",
    "G002237900710",
    "G002237900910",
    "G002237901110",
    "G002237901310",
    "G002237901510",
    "G002237901710",
    "G002237901910",
]
EAST = [w[:-2] + "20" for w in reversed(WEST)]
ROUTE = WEST + EAST
EXIT_T04 = "G002237901422"  # the toll station between G08 and G07, eastbound
ENTRY_T04 = "G002237901421"

TRUCK = "鲁P11111"
COACH = "鲁P22222"
CAR = "鲁P33333"
T0 = local(2026, 11, 30, 8, 0)
H = 3600.0
MIN = 60.0


def _registry() -> DictRegistry:
    return DictRegistry(
        [
            RegistryRecord(f"01:{TRUCK}", TRUCK, "01", vehicle_class="H11", use="货运", operator="鲁西物流"),
            RegistryRecord(
                f"01:{COACH}", COACH, "01", vehicle_class="K11", use="公路客运", operator="聊城交运集团"
            ),
            RegistryRecord(f"02:{CAR}", CAR, "02", vehicle_class="K33", use="非营运"),
        ]
    )


def _ctx() -> Context:
    return context(registry=_registry())


def _s(site: str, t: float, plate: str = TRUCK, **kw: object) -> Sighting:
    cls = "02" if plate == CAR else "01"
    return sighting(site, t, plate_no=plate, plate_class=cls, **kw)  # type: ignore[arg-type]


def _drive(
    t0: float,
    t1: float,
    step: float = 10 * MIN,
    plate: str = TRUCK,
    first: int = 0,
    speed: float | None = None,
) -> list[Sighting]:
    """Sightings every ``step`` from t0 to t1 inclusive, along the loop from ROUTE[first]."""
    out = []
    t, n = t0, first
    while t <= t1 + 1e-9:
        out.append(_s(ROUTE[n % len(ROUTE)], t, plate, speed_kmh=speed))
        t += step
        n += 1
    return out


def _twin(s: Sighting, dt: float) -> Sighting:
    """Seen ``dt`` later at the other carriageway's gantry of the same node (0 m on the network)."""
    site = s.site_id[:-2] + ("20" if s.site_id.endswith("10") else "10")
    return _s(site, s.t + dt, s.plate_no)


def _rules(findings: Sequence[Finding]) -> list[tuple[str, float]]:
    return [(f.rule, f.at.t) for f in findings]


def _travel(ctx: Context, a: str, b: str) -> float:
    d = ctx.sites.distance_m(a, b)
    assert d is not None
    return d / (120 / 3.6)


class TestContinuous:
    def test_exactly_four_hours_is_legal(self) -> None:
        ctx = _ctx()
        assert evaluate_trail(FatigueDetector(), _drive(T0, T0 + 4 * H), ctx) == []

    def test_four_hours_and_a_minute_is_not(self) -> None:
        ctx = _ctx()
        trail = _drive(T0, T0 + 4 * H)
        trail.append(_twin(trail[-1], MIN))
        found = evaluate_trail(FatigueDetector(), trail, ctx)
        assert _rules(found) == [("continuous", T0 + 4 * H + MIN)]
        f = found[0]
        assert f.evidence == (trail[-2], trail[-1])
        assert f.detector == "fatigue" and f.version == 1
        assert f.payload["review_only"] is True
        assert f.payload["detected_by"] == "passage"
        assert f.payload["continuous_driving_s"] == 4 * H + MIN
        assert f.payload["crossed_at"] == utc(T0 + 4 * H).isoformat()
        assert f.payload["points"] == 3  # a goods vehicle (163号令 Art. 11(14))
        assert f.payload["fine_yuan"] == 200
        assert f.thresholds["continuous_limit_s"] == 4 * H
        assert f.thresholds["rest_min_s"] == 20 * MIN
        assert "道路交通安全法实施条例 第六十二条第（七）项" in f.payload["legal_basis"]
        assert f.severity == "serious"
        assert f.payload["title_zh"].startswith("疲劳驾驶")

    def test_one_detection_per_run(self) -> None:
        found = evaluate_trail(FatigueDetector(), _drive(T0, T0 + 5.5 * H), _ctx())
        assert _rules(found) == [("continuous", T0 + 4 * H + 10 * MIN)]

    @pytest.mark.parametrize(("rest", "found"), [(20 * MIN - 1, True), (20 * MIN, False)])
    def test_a_rest_of_19_min_59_s_does_not_reset_but_20_min_does(self, rest: float, found: bool) -> None:
        ctx = _ctx()
        first = _drive(T0, T0 + 2 * H)  # ends at ROUTE[12]
        a = first[-1]
        b = _s(ROUTE[13], a.t + _travel(ctx, a.site_id, ROUTE[13]) + rest)  # a stop on the way
        second = _drive(b.t + 10 * MIN, b.t + 2.5 * H, first=14)
        result = evaluate_trail(FatigueDetector(), [*first, b, *second], ctx)
        assert [f.rule for f in result] == (["continuous"] if found else [])

    @pytest.mark.parametrize(("rest", "found"), [(20 * MIN - 1, True), (20 * MIN, False)])
    def test_a_rest_at_a_service_area(self, rest: float, found: bool) -> None:
        ctx = _ctx()
        first = _drive(T0, T0 + 2 * H)
        arrive = first[-1]
        # The default network has no camera at a service area: mark one gantry as one for this test.
        ctx.sites.info[arrive.site_id] = dataclasses.replace(
            ctx.sites.info[arrive.site_id], at_service_area=True
        )
        leave = _s(arrive.site_id, arrive.t + rest)  # seen again there as it leaves
        second = _drive(leave.t + 10 * MIN, leave.t + 2.5 * H, first=13)
        result = evaluate_trail(FatigueDetector(), [*first, leave, *second], ctx)
        assert [f.rule for f in result] == (["continuous"] if found else [])

    @pytest.mark.parametrize(("gap", "found"), [(20 * MIN - 1, True), (20 * MIN, False)])
    def test_exit_then_re_entry(self, gap: float, found: bool) -> None:
        first = _drive(T0, T0 + 2 * H)  # ends at G08, eastbound
        out = _s(EXIT_T04, T0 + 2 * H + 5 * MIN)
        back = _s(ENTRY_T04, out.t + gap)
        second = _drive(back.t + 5 * MIN, back.t + 2.5 * H, first=13)
        result = evaluate_trail(FatigueDetector(), [*first, out, back, *second], _ctx())
        assert [f.rule for f in result] == (["continuous"] if found else [])

    def test_exit_then_seen_again_without_the_entry(self) -> None:
        first = _drive(T0, T0 + 2 * H)
        out = _s(EXIT_T04, T0 + 2 * H + 5 * MIN)
        second = _drive(out.t + 20 * MIN, out.t + 20 * MIN + 2.5 * H, first=13)  # the entry camera missed it
        assert evaluate_trail(FatigueDetector(), [*first, out, *second], _ctx()) == []

    def test_a_short_stop_off_the_expressway_is_not_driving_nor_a_rest(self) -> None:
        first = _drive(T0, T0 + 2 * H)
        out = _s(EXIT_T04, T0 + 2 * H + 5 * MIN)
        back = _s(ENTRY_T04, out.t + 15 * MIN)
        second = _drive(back.t + 5 * MIN, back.t + 5 * MIN + 110 * MIN, first=13)
        trail = [*first, out, back, *second]  # 4 h 15 on the clock, 4 h of driving: legal
        assert evaluate_trail(FatigueDetector(), trail, _ctx()) == []
        found = evaluate_trail(FatigueDetector(), [*trail, _twin(trail[-1], MIN)], _ctx())
        assert [(f.rule, f.payload["continuous_driving_s"]) for f in found] == [("continuous", 4 * H + MIN)]

    def test_point_speeds_show_stops_on_the_way(self) -> None:
        ctx = _ctx()
        trail = _drive(T0, T0 + 7 * H, speed=80.0)  # 10 min apart, 0–10 km at 80 km/h: mostly stopped
        driving, first_over = 0.0, None
        for a, b in itertools.pairwise(trail):
            d = ctx.sites.distance_m(a.site_id, b.site_id)
            assert d is not None
            driving += min(b.t - a.t, d / (80 / 3.6))
            if driving > 4 * H and first_over is None:
                first_over = (b, driving)
        found = evaluate_trail(FatigueDetector(), trail, ctx)
        if first_over is None:
            assert found == []
        else:
            assert [(f.at, f.payload["continuous_driving_s"]) for f in found] == [
                (first_over[0], round(first_over[1], 3))
            ]

    def test_a_long_gap_with_no_network_route_is_a_rest(self) -> None:
        ctx = _ctx()
        west_end = "G002237902110"  # G11 heads to the western border: no route back east
        assert ctx.sites.distance_m(west_end, ROUTE[0]) is None
        first = [*_drive(T0, T0 + 90 * MIN), _s(west_end, T0 + 95 * MIN)]
        second = _drive(T0 + 2 * H, T0 + 5 * H)
        assert evaluate_trail(FatigueDetector(), [*first, *second], ctx) == []
        # the same without the rest: more than 4 h of driving
        second = _drive(T0 + 100 * MIN, T0 + 5 * H, first=10)
        assert [f.rule for f in evaluate_trail(FatigueDetector(), [*first, *second], ctx)] == ["continuous"]

    def test_a_possible_misread_takes_no_part(self) -> None:
        # a low-confidence read (likely another vehicle's plate) would bridge the 30-min rest
        first = _drive(T0, T0 + 2 * H)
        misread = _s(first[-1].site_id, T0 + 2 * H + 15 * MIN, plate_confidence=80.0)
        second = _drive(T0 + 2 * H + 30 * MIN, T0 + 4 * H + 30 * MIN, first=len(first) - 1)
        assert evaluate_trail(FatigueDetector(), [*first, misread, *second], _ctx()) == []
        sure = _s(first[-1].site_id, T0 + 2 * H + 15 * MIN, plate_confidence=95.0)
        assert [f.rule for f in evaluate_trail(FatigueDetector(), [*first, sure, *second], _ctx())] == [
            "continuous"
        ]

    def test_points_by_vehicle(self) -> None:
        ctx = _ctx()
        points = {}
        for plate in (TRUCK, COACH, CAR):
            trail = _drive(T0, T0 + 4 * H + 10 * MIN, plate=plate)
            found = [f for f in evaluate_trail(FatigueDetector(), trail, ctx) if f.rule == "continuous"]
            points[plate] = (found[0].payload["points"], found[0].severity)
        assert points == {TRUCK: (3, "serious"), COACH: (9, "serious"), CAR: (0, "normal")}

    def test_dangerous_goods_get_nine_points(self) -> None:
        reg = DictRegistry(
            [RegistryRecord(f"01:{TRUCK}", TRUCK, "01", vehicle_class="H11", use="危化品运输")]
        )
        found = evaluate_trail(FatigueDetector(), _drive(T0, T0 + 4 * H + 10 * MIN), context(registry=reg))
        assert found[0].payload["points"] == 9

    def test_relay_operators_are_downgraded_not_skipped(self) -> None:
        det = FatigueDetector(FatigueConfig(relay_operators=["聊城交运集团"]))
        found = evaluate_trail(det, _drive(T0, T0 + 4 * H + 10 * MIN, plate=COACH), _ctx())
        assert [f.rule for f in found] == ["continuous"]
        assert found[0].severity == "normal"
        assert found[0].payload["relay_operator"] is True

    def test_unknown_vehicles_are_judged_like_others(self) -> None:
        found = evaluate_trail(FatigueDetector(), _drive(T0, T0 + 4 * H + 10 * MIN, plate="鲁P99999"), _ctx())
        assert [(f.rule, f.payload["points"]) for f in found] == [("continuous", 0)]


class TestDaily:
    def _three_runs(self, last: float) -> list[Sighting]:
        # runs of 3 h 50 min with 30-min rests where the last run ended (same site: travel 0)
        run1 = _drive(T0, T0 + 3 * H + 50 * MIN)
        run2 = _drive(T0 + 4 * H + 20 * MIN, T0 + 8 * H + 10 * MIN, first=len(run1) - 1)
        run3 = _drive(T0 + 8 * H + 40 * MIN, last, first=len(run1) + len(run2) - 2)
        return [*run1, *run2, *run3]

    def test_exactly_eight_hours_in_24_is_legal(self) -> None:
        # 3 h 50 + 3 h 50 + 20 min = 8 h exactly at 9 h 00
        assert evaluate_trail(FatigueDetector(), self._three_runs(T0 + 9 * H), _ctx()) == []

    def test_more_than_eight_hours_in_24(self) -> None:
        trail = self._three_runs(T0 + 9 * H + 10 * MIN)
        found = evaluate_trail(FatigueDetector(), trail, _ctx())
        assert _rules(found) == [("daily", T0 + 9 * H + 10 * MIN)]
        f = found[0]
        assert f.evidence == (trail[-2], trail[-1])
        assert f.payload["driving_in_window_s"] == 8 * H + 10 * MIN
        assert f.payload["points"] == 0  # 163号令 names only the 4 h rule
        assert f.thresholds["daily_limit_s"] == 8 * H
        assert len(f.payload["runs_in_window"]) == 2

    def test_driving_older_than_24_hours_slides_out(self) -> None:
        run1 = _drive(T0, T0 + 3 * H + 50 * MIN)
        later = T0 + 20 * H
        run2 = _drive(later, later + 3 * H + 50 * MIN)
        run3 = _drive(later + 4 * H + 20 * MIN, later + 5 * H + 30 * MIN, first=len(run2) - 1)
        # from later + 4 h 20 the window starts inside run1, which slides out as fast as run3 adds
        assert evaluate_trail(FatigueDetector(), [*run1, *run2, *run3], _ctx()) == []


class TestNightPassenger:
    def test_exactly_two_hours_at_night_is_legal(self) -> None:
        start = local(2026, 11, 30, 22, 30)
        trail = _drive(start, start + 2 * H, plate=COACH)
        assert evaluate_trail(FatigueDetector(), trail, _ctx()) == []

    def test_two_hours_and_a_minute(self) -> None:
        start = local(2026, 11, 30, 22, 30)
        trail = _drive(start, start + 2 * H, plate=COACH)
        trail.append(_twin(trail[-1], MIN))
        found = evaluate_trail(FatigueDetector(), trail, _ctx())
        assert _rules(found) == [("night_passenger", start + 2 * H + MIN)]
        assert found[0].payload["night"] == "2026-11-30"
        assert found[0].payload["night_driving_s"] == 2 * H + MIN
        assert found[0].payload["points"] == 0
        assert found[0].thresholds["night_start"] == "22:00"

    def test_counted_from_22_00(self) -> None:
        start = local(2026, 11, 30, 21, 0)
        trail = _drive(start, local(2026, 12, 1, 0, 10), plate=COACH)
        found = evaluate_trail(FatigueDetector(), trail, _ctx())
        assert _rules(found) == [("night_passenger", local(2026, 12, 1, 0, 10))]

    def test_ends_at_05_00(self) -> None:
        start = local(2026, 12, 1, 3, 30)  # only 1 h 30 inside the window
        trail = _drive(start, start + 3 * H, plate=COACH)
        assert evaluate_trail(FatigueDetector(), trail, _ctx()) == []

    def test_goods_vehicles_are_not_passenger_transport(self) -> None:
        start = local(2026, 11, 30, 22, 30)
        trail = _drive(start, start + 2.5 * H, plate=TRUCK)
        assert evaluate_trail(FatigueDetector(), trail, _ctx()) == []


class TestTimers:
    def test_fires_with_no_next_passage(self) -> None:
        trail = _drive(T0, T0 + 4 * H, step=5 * MIN)
        _, live = run_core([FatigueDetector()], trail, _ctx())
        assert [(f.rule, f.at, f.evidence) for f in live.values()] == [
            ("continuous", trail[-1], (trail[-1],))
        ]
        f = next(iter(live.values()))
        assert f.payload["detected_by"] == "timer"
        assert f.payload["crossed_at"] == utc(T0 + 4 * H).isoformat()
        assert f.payload["measured_at"] == utc(T0 + 4 * H + 15 * MIN).isoformat()
        assert f.payload["continuous_driving_s"] == 4 * H + 15 * MIN

    def test_one_second_grace_fires_at_four_hours_and_a_second(self) -> None:
        ctx = _ctx()
        det = FatigueDetector(FatigueConfig(timer_grace_s=1))
        trail = _drive(T0, T0 + 3 * H + 50 * MIN)
        v = VehicleState(trail[0].vehicle_key)
        for s in trail:
            v.insert(s)
        assert det.wake_at(v, len(trail) - 1, ctx) == T0 + 4 * H + 1
        found = det.on_timer(v, T0 + 4 * H + 1, ctx)
        assert _rules(found) == [("continuous", trail[-1].t)]
        assert list(det.on_timer(v, T0 + 4 * H + 1, ctx)) == []  # a duplicate timer gives nothing more

    def test_no_timer_after_an_exit(self) -> None:
        trail = [*_drive(T0, T0 + 3 * H + 55 * MIN, step=5 * MIN), _s(EXIT_T04, T0 + 4 * H)]
        _, live = run_core([FatigueDetector()], trail, _ctx())
        assert live == {}

    def test_no_timer_when_a_rest_may_have_started(self) -> None:
        trail = _drive(T0, T0 + 3 * H + 50 * MIN)  # last seen 10 min before the limit: 25 min at due
        _, live = run_core([FatigueDetector()], trail, _ctx())
        assert live == {}

    def test_timer_and_next_passage_are_one_detection(self) -> None:
        ctx = _ctx()
        trail = _drive(T0, T0 + 4 * H, step=5 * MIN)
        trail.append(_s(ROUTE[len(trail) % len(ROUTE)], T0 + 4 * H + 16 * MIN))  # after the timer
        _, live = run_core([FatigueDetector()], trail, ctx)
        assert [(f.at, f.evidence) for f in live.values()] == [(trail[-2], (trail[-2],))]
        # the same trail judged without timers gives that same finding at the next passage
        assert [f.id for f in evaluate_trail(FatigueDetector(), trail, ctx)] == list(live)

    def test_a_passage_within_the_grace_is_the_detection(self) -> None:
        trail = _drive(T0, T0 + 4 * H, step=5 * MIN)
        trail.append(_s(ROUTE[len(trail) % len(ROUTE)], T0 + 4 * H + 5 * MIN))
        _, live = run_core([FatigueDetector()], trail, _ctx())
        assert [f.evidence for f in live.values()] == [(trail[-2], trail[-1])]

    def test_a_stale_timer_gives_nothing(self) -> None:
        ctx = _ctx()
        det = FatigueDetector()
        # a 30-min stop at one gantry is a rest: the run starts again at 1 h 20 …
        early = _drive(T0, T0 + 50 * MIN)
        after = _s(early[-1].site_id, T0 + 80 * MIN)
        late = _drive(T0 + 85 * MIN, T0 + 80 * MIN + 4 * H, step=5 * MIN, first=len(early))
        v = VehicleState(after.vehicle_key)
        for s in [*early, after, *late]:
            v.insert(s)
        stale_due = det.wake_at(v, len(v.trail) - 1, ctx)  # seen at 1 h 20 + 4 h
        assert stale_due == T0 + 80 * MIN + 4 * H + 15 * MIN
        # … until a passage in the gap shows there was none
        v.insert(_s(early[-1].site_id, T0 + 65 * MIN))
        assert list(det.on_timer(v, stale_due, ctx)) == []
        fresh = det.wake_at(v, next(n for n, s in enumerate(v.trail) if s.t == T0 + 4 * H), ctx)
        assert fresh == T0 + 4 * H + 15 * MIN
        # it was seen at 4 h 05: that passage is the detection, and the timer adds nothing
        assert list(det.on_timer(v, fresh, ctx)) == []
        i = next(n for n, s in enumerate(v.trail) if s.t == T0 + 4 * H + 5 * MIN)
        assert _rules(det.evaluate(v, i, ctx)) == [("continuous", T0 + 4 * H + 5 * MIN)]


class TestState:
    def test_memo_keeps_the_run_across_a_short_trail(self) -> None:
        ctx = _ctx()
        trail = _drive(T0, T0 + 4 * H + 10 * MIN)
        core = Core([FatigueDetector()], ctx, lateness_s=60)
        core.process_many(trail)
        assert [f.at for f in core.drain().provisional] == [trail[-1]]
        v = core.states[trail[0].vehicle_key]
        assert len(v.trail) < len(trail)
        memo = v.memo_for("fatigue")
        assert memo is not None and memo[4] == T0  # the run start, folded long ago

    def test_a_passage_older_than_the_memo_changes_nothing(self) -> None:
        ctx = _ctx()
        det = FatigueDetector()
        v = VehicleState(f"01:{TRUCK}")
        trail = _drive(T0, T0 + 2 * H)
        for s in trail[:6]:
            det.fold(v, s, ctx)
        for s in trail[6:]:
            v.insert(s)
        before = v.memo_for("fatigue")
        old = _s(EXIT_T04, T0 + 15 * MIN)  # arrived after its neighbours were folded
        i = v.insert(old)
        assert det.evaluate(v, i, ctx) == ()
        det.fold(v, old, ctx)
        after = v.memo_for("fatigue")
        assert after[:12] == before[:12]  # the summary is untouched; only the fold count moves
        assert after[12] == before[12] + 1
        assert list(det.evaluate(v, len(v.trail) - 1, ctx)) == []

    def test_keep_times(self) -> None:
        ctx = _ctx()
        det = FatigueDetector()
        keeps = {}
        for plate in (TRUCK, COACH, CAR, "鲁P99999"):
            v = VehicleState("")
            v.insert(_s(WEST[0], T0, plate, vehicle_class="H11" if plate == "鲁P99999" else None))
            v.key = v.trail[0].vehicle_key
            keeps[plate] = det.keep_for(v, ctx)
        assert keeps == {TRUCK: 24 * H, COACH: 24 * H, CAR: 4 * H, "鲁P99999": 24 * H}  # H-class read


class TestConfig:
    @pytest.mark.parametrize(
        ("raw", "field"),
        [
            ({"night_start": "25:00"}, "night_start"),
            ({"continuous_limit_s": -1}, "continuous_limit_s"),
            ({"timer_grace_s": 1200}, "timer_grace_s"),
            ({"trail_s": 60}, "trail_s"),
            ({"max_plausible_kmh": 0}, "max_plausible_kmh"),
            ({"colour": "red"}, "colour"),
        ],
    )
    def test_bad_values_name_the_field(self, raw: dict[str, object], field: str) -> None:
        with pytest.raises(ConfigError) as err:
            FatigueDetector.from_config(raw)
        assert "engine.detectors.fatigue." in str(err.value)
        assert field in str(err.value)

    def test_defaults(self) -> None:
        det = FatigueDetector.from_config(None)
        assert det.config.continuous_limit_s == 4 * H
        assert det.trail_s == 30 * MIN
        assert LocalWindow("22:00", "05:00").night_of(local(2026, 12, 1, 4, 59, 59)) is not None


# ------------------------------------------------------------------------------ properties
def _random_day(rng: random.Random, plate: str) -> list[Sighting]:
    """About 12 h of a vehicle: mostly short gaps, some rests, exits and re-entries."""
    out = []
    t = T0 + rng.uniform(-6 * H, 6 * H)
    end = t + rng.uniform(6 * H, 14 * H)
    n = 0
    while t < end:
        r = rng.random()
        if r < 0.05:
            out.append(_s(EXIT_T04, t, plate))
            t += rng.uniform(5 * MIN, 40 * MIN)
            out.append(_s(ENTRY_T04, t, plate))
        else:
            out.append(_s(ROUTE[n % len(ROUTE)], t, plate, speed_kmh=rng.choice([None, 70.0, 90.0])))
            n += 1
        t += rng.choice([rng.uniform(2 * MIN, 12 * MIN)] * 8 + [rng.uniform(12 * MIN, 45 * MIN)])
    return out


def _arrival(sightings: list[Sighting], lateness: float, rng: random.Random) -> list[Sighting]:
    """An order in which every passage is on time (as tests/engine/test_core.py does)."""
    return sorted(sightings, key=lambda s: s.t + rng.uniform(0, lateness * 0.999))


class TestProperties:
    @settings(max_examples=25, deadline=None, database=None)
    @given(st.integers(0, 10_000), st.integers(0, 10_000))
    def test_same_detections_whatever_the_order_within_the_lateness(self, seed: int, shuffle: int) -> None:
        rng = random.Random(seed)
        traffic = [*_random_day(rng, TRUCK), *_random_day(rng, COACH)]
        ctx = _ctx()
        in_order = sorted(traffic, key=lambda s: (s.t, s.ref))
        _, expected = run_core([FatigueDetector()], in_order, ctx)
        core, got = run_core([FatigueDetector()], _arrival(traffic, 600, random.Random(shuffle)), ctx)
        assert core.stats.late == 0
        assert set(got) == set(expected)

    @settings(max_examples=25, deadline=None, database=None)
    @given(st.integers(0, 10_000))
    def test_folding_does_not_change_the_outcome(self, seed: int) -> None:
        traffic = _random_day(random.Random(seed), COACH)
        ctx = _ctx()
        _, short = run_core([FatigueDetector()], traffic, ctx, lateness_s=60)
        _, long = run_core([FatigueDetector(FatigueConfig(trail_s=48 * H))], traffic, ctx, lateness_s=60)
        assert set(short) == set(long)

    @settings(max_examples=30, deadline=None, database=None)
    @given(st.floats(3 * H, 5 * H), st.sampled_from([5 * MIN, 10 * MIN, 15 * MIN]))
    def test_continuous_fires_exactly_beyond_four_hours(self, span: float, step: float) -> None:
        trail = _drive(T0, T0 + span, step=step)
        found = evaluate_trail(FatigueDetector(), trail, _ctx())
        last = trail[-1].t - T0
        assert bool(found) == (last > 4 * H)
        if found:
            assert (
                found[0].at.t - step <= T0 + 4 * H < found[0].at.t
                or found[0].payload["detected_by"] == "timer"
            )
