"""Fake plates (假牌): invalid grammar, contradicting the registry, never issued; the unregistered
suspicion; missing and covered plates."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from changan.engine.catalogue import build_context
from changan.engine.context import RegistryRecord
from changan.engine.core import WATERMARK_MAX_LAG_S, Core
from changan.engine.detectors.base import ConfigError
from changan.engine.detectors.fake_plate import FakePlateConfig, FakePlateDetector, InvalidPlateReads
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState
from tests.engine.builders import DictRegistry, context, evaluate_trail, flush, network, run_core, sighting
from tests.engine.test_clocks import CHAIN, T0, dev

REGISTRY = DictRegistry(
    [
        RegistryRecord("02:鲁P12345", "鲁P12345", "02", vehicle_class="K33", body_colour="A", brand="大众"),
        RegistryRecord("01:鲁BA1234", "鲁BA1234", "01", vehicle_class="H11"),
        RegistryRecord("01:鲁PH7700", "鲁PH7700", "01", vehicle_class="H11"),
    ]
)
_passages = itertools.count(1)


def read(site: str, t: float, plate: str = "鲁P12345", **fields: object) -> Sighting:
    fields.setdefault("plate_confidence", 95.0)
    fields.setdefault("vehicle_class", "K33")
    return sighting(site, t, plate_no=plate, **fields)  # type: ignore[arg-type]


def invalid(site: str, t: float, plate: str = "鲁PI2345", **fields: object) -> Sighting:
    """A read the grammar refuses: its own per-passage vehicle key, as ingest gives it."""
    return read(site, t, plate, plate_kind="invalid", vehicle_key=f"x:sim/{next(_passages)}", **fields)


def judge(trail: Sequence[Sighting], **config: object) -> list[Finding]:
    detector = FakePlateDetector(FakePlateConfig(**config))  # type: ignore[arg-type]
    return evaluate_trail(detector, list(trail), context(registry=REGISTRY))


def rules(findings: Sequence[Finding]) -> list[str]:
    return [f.rule for f in findings]


class TestInvalidGrammar:
    def test_a_confident_read_of_a_plate_the_grammar_refuses(self) -> None:
        s = invalid(CHAIN[0], T0)
        [f] = judge([s])
        assert f.rule == "invalid_grammar"
        assert f.vehicle_key == s.vehicle_key  # a per-passage key: no vehicle key for such a text
        assert f.evidence == (s,)
        assert f.severity == "serious"
        assert f.payload["plate_key"] == "02:鲁PI2345"
        assert f.payload["confirmed_by"] == "confidence"
        assert f.payload["points"] == 12
        assert f.payload["fine_yuan"] == 5000
        assert f.payload["detention_days_max"] == 15
        assert f.payload["legal_basis"] == ["道交法 Art. 96 ¶1", "163号令 Art. 8(3)", "鲁高速条例 Art. 54"]
        assert f.payload["review_only"] is True

    def test_a_read_of_ordinary_confidence_alone_is_not_enough(self) -> None:
        assert judge([invalid(CHAIN[0], T0, plate_confidence=92.0)]) == []
        assert judge([invalid(CHAIN[0], T0, plate_confidence=None)]) == []

    def test_the_edge_of_high_confidence(self) -> None:
        assert rules(judge([invalid(CHAIN[0], T0, plate_confidence=95.0)])) == ["invalid_grammar"]
        assert judge([invalid(CHAIN[0], T0, plate_confidence=94.9)]) == []

    def test_the_same_text_at_two_places(self) -> None:
        ctx = context(registry=REGISTRY)
        ctx.shared["invalid_plates"] = InvalidPlateReads(ctx)
        first = invalid(CHAIN[0], T0, plate_confidence=None)
        second = invalid(CHAIN[3], T0 + 900, plate_confidence=92.0)
        _, live = run_core([FakePlateDetector()], [first, second], ctx)
        [f] = live.values()
        assert f.at == second and f.evidence == (first, second)
        assert f.payload["confirmed_by"] == "sites"
        assert f.payload["sites"] == [CHAIN[0], CHAIN[3]]

    def test_doubtful_reads_never_count(self) -> None:
        ctx = context(registry=REGISTRY)
        ctx.shared["invalid_plates"] = InvalidPlateReads(ctx)
        reads = [
            invalid(CHAIN[0], T0, plate_confidence=80.0),
            invalid(CHAIN[3], T0 + 900, plate_confidence=92.0),
        ]
        _, live = run_core([FakePlateDetector()], reads, ctx)
        assert live == {}
        ctx = context(registry=REGISTRY)
        ctx.shared["invalid_plates"] = InvalidPlateReads(ctx)
        reads = [
            invalid(CHAIN[0], T0, plate_confidence=92.0),
            invalid(CHAIN[3], T0 + 900, plate_confidence=80.0),
        ]
        _, live = run_core([FakePlateDetector()], reads, ctx)
        assert live == {}

    def test_the_same_text_twice_at_one_place_or_too_far_apart_in_time(self) -> None:
        ctx = context(registry=REGISTRY)
        ctx.shared["invalid_plates"] = InvalidPlateReads(ctx)
        same_place = [
            invalid(CHAIN[0], T0, plate_confidence=92.0),
            invalid(CHAIN[0], T0 + 60, plate_confidence=92.0),
        ]
        _, live = run_core([FakePlateDetector()], same_place, ctx)
        assert live == {}
        ctx = context(registry=REGISTRY)
        ctx.shared["invalid_plates"] = InvalidPlateReads(ctx)
        apart = [
            invalid(CHAIN[0], T0, plate_confidence=92.0),
            invalid(CHAIN[3], T0 + 3601, plate_confidence=92.0),
        ]
        _, live = run_core([FakePlateDetector()], apart, ctx)
        assert live == {}

    def test_a_misread_of_a_registered_plate_is_not_a_fake(self) -> None:
        # 鲁8A1234: the office letter B read as 8; 鲁BA1234 is a registered heavy truck
        s = invalid(CHAIN[0], T0, "鲁8A1234", plate_class="01", vehicle_class="H11")
        assert judge([s]) == []
        other = invalid(CHAIN[0], T0, "鲁8A1234", plate_class="01", vehicle_class="K33")
        assert rules(judge([other])) == ["invalid_grammar"]  # … unless it is a car, which that truck is not

    def test_the_judgement_on_other_vehicles_reads_is_rechecked(self) -> None:
        ctx = context(registry=REGISTRY)
        ctx.shared["invalid_plates"] = InvalidPlateReads(ctx)
        detector = FakePlateDetector()
        doubtful, sure = invalid(CHAIN[0], T0, plate_confidence=92.0), invalid(CHAIN[0], T0)
        for s, expected in ((doubtful, True), (sure, False)):
            v = VehicleState(s.vehicle_key)
            v.insert(s)
            detector.evaluate(v, 0, ctx)
            assert detector.recheck(v, 0, ctx) is expected


class TestRegistryConflict:
    def test_a_cars_plate_on_a_heavy_truck(self) -> None:
        a, b = read(CHAIN[0], T0, vehicle_class="H11"), read(CHAIN[3], T0 + 900, vehicle_class="H11")
        [f] = judge([a, b])
        assert f.rule == "registry_conflict" and f.at == b
        assert f.evidence == (a, b)
        assert f.payload["attributes"] == ["vehicle_class"]
        assert f.payload["registered"]["vehicle_class"] == "K33"
        assert f.payload["registered_vehicle_also_seen"] is False
        assert "道交法 Art. 96 ¶3" in f.payload["legal_basis"]

    def test_once_is_not_enough(self) -> None:
        assert judge([read(CHAIN[0], T0, vehicle_class="H11")]) == []

    def test_two_reads_at_one_place_are_not_enough(self) -> None:
        trail = [
            read(CHAIN[0], T0, vehicle_class="H11"),
            read(CHAIN[0], T0 + 1, vehicle_class="H11", device_id=dev(CHAIN[0], 2)),
        ]
        assert judge(trail) == []

    def test_the_registered_car_seen_too(self) -> None:
        trail = [
            read(CHAIN[0], T0),
            read(CHAIN[5], T0 + 60, vehicle_class="H11"),
            read(CHAIN[7], T0 + 400, vehicle_class="H11"),
        ]
        [f] = judge(trail)
        assert f.payload["registered_vehicle_also_seen"] is True
        assert f.payload["matching_reads"] == 1

    def test_classes_a_camera_may_confuse(self) -> None:
        trail = [read(CHAIN[0], T0, "鲁PH7700", plate_class="01", vehicle_class="H21")]
        trail.append(read(CHAIN[3], T0 + 900, "鲁PH7700", plate_class="01", vehicle_class="H21"))
        assert judge(trail) == []
        trail = [read(CHAIN[i], T0 + 900 * i, vehicle_class="H31") for i in range(3)]  # a pick-up
        assert judge(trail) == []

    def test_doubtful_reads_do_not_count(self) -> None:
        trail = [
            read(CHAIN[0], T0, vehicle_class="H11"),
            read(CHAIN[3], T0 + 900, vehicle_class="H11", plate_confidence=80.0),
        ]
        assert judge(trail) == []

    def test_a_read_that_fits_a_look_alike_vehicle_better(self) -> None:
        registry = DictRegistry(
            [
                RegistryRecord("02:鲁P12345", "鲁P12345", "02", vehicle_class="K33"),
                RegistryRecord("02:鲁P1234S", "鲁P1234S", "02", vehicle_class="H11"),
            ]
        )
        trail = [read(CHAIN[0], T0, vehicle_class="H11"), read(CHAIN[3], T0 + 900, vehicle_class="H11")]
        assert evaluate_trail(FakePlateDetector(), trail, context(registry=registry)) == []

    def test_another_plate_colour_is_another_vehicle(self) -> None:
        # the yellow 鲁P12345 is not the registered blue one: never issued, not a conflict with the car
        trail = [read(CHAIN[0], T0, plate_class="01", vehicle_class="H11")]
        trail.append(read(CHAIN[3], T0 + 900, plate_class="01", vehicle_class="H11"))
        assert rules(judge(trail)) == ["unissued", "unissued"]

    def test_colour_and_brand_only_when_enabled(self) -> None:
        trail = [
            read(CHAIN[0], T0, vehicle_color="J", vehicle_brand="丰田"),
            read(CHAIN[3], T0 + 900, vehicle_color="J", vehicle_brand="丰田"),
        ]
        assert judge(trail) == []
        [f] = judge(trail, check_colour=True)
        assert f.payload["attributes"] == ["body_colour"]
        [f] = judge(trail, check_colour=True, check_brand=True)
        assert f.payload["attributes"] == ["body_colour", "brand"]


class TestUnissued:
    @staticmethod
    def reads(*sites: int, plate: str = "鲁P54321", confidence: float = 92.0) -> list[Sighting]:
        return [read(CHAIN[n], T0 + 600 * k, plate, plate_confidence=confidence) for k, n in enumerate(sites)]

    def test_a_local_plate_the_registry_does_not_hold(self) -> None:
        a, b = self.reads(0, 3)
        [f] = judge([a, b])
        assert f.rule == "unissued" and f.at == b and f.evidence == (a, b)
        assert f.severity == "serious"
        assert f.payload["points"] == 12
        assert f.payload["title_zh"] == "疑似假牌：本地号牌未曾核发"
        assert f.thresholds["local_prefixes"] == ["鲁P"]

    def test_one_read_of_high_confidence_is_enough(self) -> None:
        [s] = self.reads(0, confidence=95.0)
        [f] = judge([s])
        assert f.rule == "unissued" and f.evidence == (s,)
        assert judge(self.reads(0, confidence=94.9)) == []
        assert judge([s], unissued_single_read_confidence=None) == []

    def test_every_later_read_is_an_alert_too(self) -> None:
        trail = self.reads(0, 1, 2)
        assert [f.at for f in judge(trail)] == trail[1:]

    def test_needs_two_places(self) -> None:
        assert judge(self.reads(0)) == []
        one_node = [
            read(CHAIN[1], T0, "鲁P54321", plate_confidence=92.0),
            read("G032137900320", T0 + 900, "鲁P54321", plate_confidence=92.0),
        ]
        assert judge(one_node) == []

    def test_doubtful_reads_do_not_count(self) -> None:
        trail = [
            read(CHAIN[0], T0, "鲁P54321", plate_confidence=80.0),
            read(CHAIN[3], T0 + 900, "鲁P54321", plate_confidence=92.0),
        ]
        assert judge(trail) == []

    def test_temporary_plates_are_legitimately_absent(self) -> None:
        trail = [
            read(CHAIN[i], T0 + 600 * i, "鲁PA123试", plate_kind="temporary", plate_class="18")
            for i in range(2)
        ]
        assert judge(trail) == []
        trail = [read(CHAIN[i], T0 + 600 * i, "鲁P54321", plate_class="22") for i in range(2)]
        assert judge(trail) == []

    def test_a_misread_of_a_registered_look_alike(self) -> None:
        registry = DictRegistry([RegistryRecord("02:鲁P54327", "鲁P54327", "02", vehicle_class="K33")])  # 1/7
        trail = [read(CHAIN[0], T0, "鲁P54321"), read(CHAIN[3], T0 + 900, "鲁P54321")]
        assert evaluate_trail(FakePlateDetector(), trail, context(registry=registry)) == []

    def test_other_local_offices_by_configuration(self) -> None:
        trail = self.reads(0, 3, plate="鲁A54321")
        assert rules(judge(trail)) == ["unregistered"]
        assert rules(judge(trail, local_prefixes=["鲁P", "鲁A"])) == ["unissued"]


class TestUnregistered:
    def test_a_suspicion_once_when_first_confirmed(self) -> None:
        trail = [read(CHAIN[i], T0 + 600 * i, "冀A54321") for i in range(3)]
        [f] = judge(trail)
        assert f.rule == "unregistered" and f.at == trail[1]
        assert f.severity == "normal"
        assert f.payload["review_only"] is True
        assert f.payload["legal_basis"] == []
        assert "points" not in f.payload

    def test_can_be_switched_off(self) -> None:
        trail = [read(CHAIN[i], T0 + 600 * i, "冀A54321") for i in range(3)]
        assert judge(trail, report_unregistered=False) == []

    def test_military_plates_are_legitimately_absent(self) -> None:
        trail = [
            read(CHAIN[i], T0 + 600 * i, "WJ12345", plate_kind="military", plate_class="31") for i in range(3)
        ]
        assert judge(trail) == []


class TestMissingPlates:
    def test_no_plate(self) -> None:
        s = read(
            CHAIN[0],
            T0,
            "无车牌",
            plate_kind="none",
            plate_class="99",
            vehicle_key="x:sim/a",
            plate_confidence=None,
        )
        [f] = judge([s])
        assert f.rule == "no_plate" and f.severity == "serious"
        assert f.payload["points"] == 9
        assert f.payload["fine_yuan"] == 200
        assert f.payload["legal_basis"] == ["道交法 Art. 95 ¶1", "163号令 Art. 9(4)", "鲁高速条例 Art. 51(5)"]
        assert f.payload["title_zh"] == "未悬挂号牌"

    def test_unreadable_plate_possibly_covered(self) -> None:
        s = read(
            CHAIN[0],
            T0,
            "UNKNOWN",
            plate_kind="unread",
            plate_class="99",
            vehicle_key="x:sim/b",
            plate_confidence=None,
        )
        [f] = judge([s])
        assert f.rule == "covered" and f.severity == "normal"
        assert f.payload["legal_basis"] == ["道交法 Art. 95 ¶2", "163号令 Art. 9(4)", "鲁高速条例 Art. 51(6)"]
        assert judge([s], report_unread=False) == []

    def test_partial_reads_are_nothing(self) -> None:
        s = read(CHAIN[0], T0, "鲁P12-45", plate_kind="partial", vehicle_key="x:sim/c")
        assert judge([s]) == []


# --------------------------------------------------------------------------------------- properties
CLOSE_TO_K33 = ["K33", "K32", "K31", "K41", "K21", "H31", None]


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(CHAIN), st.floats(0, 7200), st.sampled_from(CLOSE_TO_K33), st.floats(60, 100)
        ),
        min_size=1,
        max_size=8,
    )
)
def test_a_registered_vehicle_that_looks_like_itself_is_never_a_fake(
    reads: list[tuple[str, float, str | None, float]],
) -> None:
    trail = [read(site, T0 + t, vehicle_class=cls, plate_confidence=conf) for site, t, cls, conf in reads]
    assert judge(trail) == []


def _settled(sightings: Sequence[Sighting], lateness_s: float) -> set[str]:
    detectors = [FakePlateDetector()]
    ctx = build_context(network(), detectors, lateness_s=lateness_s, registry=REGISTRY)
    core = Core(detectors, ctx, lateness_s=lateness_s)
    settled: set[str] = set()
    for s in sightings:
        core.process(s)
        ch = core.drain()
        assert not set(ch.retracted) & settled
        settled.update(ch.settled, (f.id for f in ch.settled_new))
    flush(core)
    ch = core.drain()
    return settled | set(ch.settled) | {f.id for f in ch.settled_new}


@settings(max_examples=30, deadline=None, database=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000))
@example(seed=1550, shuffle_seed=0)  # a read pruned just before the anchor needing it settled
def test_the_settled_set_does_not_depend_on_arrival_order(seed: int, shuffle_seed: int) -> None:
    rng = random.Random(seed)
    texts = ["鲁PI2345", "鲁PO7777", "冀AI0001"]
    sightings = [
        invalid(
            rng.choice(CHAIN),
            T0 + rng.uniform(0, 7200),
            rng.choice(texts),
            plate_confidence=rng.choice([None, 80.0, 92.0, 95.0]),
        )
        for _ in range(40)
    ]
    sightings += [read(rng.choice(CHAIN), T0 + rng.uniform(0, 7200), "鲁P54321") for _ in range(10)]
    lateness = 300.0
    in_order = sorted(sightings, key=lambda s: (s.t, s.ref))
    shuffle = random.Random(shuffle_seed)
    shuffled = sorted(in_order, key=lambda s: s.t + shuffle.uniform(0, lateness * 0.999))
    assert _settled(shuffled, lateness) == _settled(in_order, lateness)


class TestConfig:
    def test_a_bad_value_names_the_field(self) -> None:
        with pytest.raises(ConfigError, match=r"engine\.detectors\.fake_plate\.invalid_min_sites"):
            FakePlateDetector.from_config({"invalid_min_sites": 1})

    def test_unknown_keys_are_refused(self) -> None:
        with pytest.raises(ConfigError, match=r"engine\.detectors\.fake_plate\.local_prefix"):
            FakePlateDetector.from_config({"local_prefix": "鲁P"})

    def test_disabled(self) -> None:
        detector = FakePlateDetector.from_config({"enabled": False})
        assert evaluate_trail(detector, [invalid(CHAIN[0], T0)], context()) == []

    def test_the_engine_builds_the_shared_model_with_its_lateness(self) -> None:
        detector = FakePlateDetector.from_config({"invalid_window_s": 1800})
        model = build_context(network(), [detector], lateness_s=120.0).shared["invalid_plates"]
        assert isinstance(model, InvalidPlateReads)
        assert (model.lateness_s, model.window_s) == (120.0 + WATERMARK_MAX_LAG_S, 1800.0)
        assert InvalidPlateReads().lateness_s == 600 + WATERMARK_MAX_LAG_S
