"""The watchlist detector: exact, class-less, pattern and look-alike matches; validity edges;
revocation; the index against brute force; the false possible-hit rate on densely issued plates."""

from __future__ import annotations

import fnmatch
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from changan.engine.context import Context, RegistryRecord
from changan.engine.detectors.base import ConfigError
from changan.engine.detectors.watchlist import (
    DEFAULT_CONFUSIONS,
    SHARED,
    IndexedEntry,
    PlatePattern,
    WatchlistConfig,
    WatchlistDetector,
    WatchlistIndex,
    confusion_map,
    lookalike_positions,
    lookalike_variants,
    normalise_pattern,
    pattern_problem,
)
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState
from changan.plates import read_plate
from changan.sim.camera import misread, read
from changan.sim.population import Population
from changan.sim.scenario import load_scenario
from tests.engine.builders import DictRegistry, context, evaluate_trail, local, run_core, sighting

SITE = "S000137900110"
T = local(2026, 11, 30, 8)
START = datetime(2026, 11, 29, tzinfo=UTC)


def entry(
    n: str,
    plate: str,
    cls: str | None = "02",
    *,
    start: datetime = START,
    end: datetime | None = None,
    mode: str = "exact",
    priority: int = 90,
) -> IndexedEntry:
    return IndexedEntry(
        id=n,
        plate_no=plate,
        plate_class=cls,
        valid_from=start,
        valid_until=end,
        priority=priority,
        reason="盗抢",
        jurisdiction="3715",
        match_mode=mode,
    )


def ctx_with(*entries: IndexedEntry, registry: Any = None) -> Context:
    ctx = context(registry=registry) if registry is not None else context()
    ctx.shared[SHARED] = WatchlistIndex(list(entries))
    return ctx


def seen(plate: str, t: float = T, *, cls: str = "02", **fields: Any) -> Sighting:
    """A sighting as ingest makes it: the read's normalised text and kind, an x: key when invalid."""
    r = read_plate(plate)
    fields.setdefault("plate_confidence", 95.0)
    fields.setdefault("vehicle_class", "K33")
    return sighting(
        SITE,
        t,
        plate_no=r.text,
        plate_class=cls,
        plate_kind=r.kind.value,
        vehicle_key=None if r.valid else f"x:{plate}{t}",
        **fields,
    )


def judge(s: Sighting, ctx: Context, detector: WatchlistDetector | None = None) -> list[Finding]:
    return evaluate_trail(detector or WatchlistDetector(), [s], ctx)


def rules(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.rule, f.subject) for f in findings)


# ------------------------------------------------------------------------------------------ exact
class TestExact:
    def test_the_vehicle_key_hits_with_evidence_and_payload(self) -> None:
        s = seen("鲁P12345")
        (f,) = judge(s, ctx_with(entry("e1", "鲁P12345")))
        assert (f.detector, f.version, f.rule, f.subject, f.vehicle_key) == (
            "watchlist",
            3,
            "exact",
            "e1",
            "02:鲁P12345",
        )
        assert (f.at, f.evidence, f.severity) == (s, (s,), "critical")
        assert f.thresholds == {"match": "exact", "plate_class_required": True}
        assert f.payload == {
            "entry_id": "e1",
            "entry_plate": "鲁P12345",
            "reason": "盗抢",
            "priority": 90,
            "entry_jurisdiction": "3715",
            "legal_basis": ["交通警察道路执勤执法工作规范 第六十条"],
            "review_only": True,
            "title_zh": "布控比中：鲁P12345（盗抢）",
        }

    def test_another_plate_class_is_another_vehicle(self) -> None:
        assert judge(seen("鲁P12345", cls="01"), ctx_with(entry("e1", "鲁P12345", "02"))) == []

    def test_an_entry_without_class_hits_the_plate_in_any_class(self) -> None:
        ctx = ctx_with(entry("e1", "鲁P12345", None, priority=50))
        for cls in ("01", "02", "52"):
            (f,) = judge(seen("鲁P12345", cls=cls), ctx)
            assert (f.rule, f.severity, f.thresholds["plate_class_required"]) == ("exact", "serious", False)

    def test_two_entries_on_one_plate_give_two_findings(self) -> None:
        ctx = ctx_with(entry("e1", "鲁P12345", "02"), entry("e2", "鲁P12345", None))
        assert rules(judge(seen("鲁P12345"), ctx)) == [("exact", "e1"), ("exact", "e2")]

    def test_a_read_that_identifies_no_vehicle_never_hits_exactly(self) -> None:
        s = sighting(SITE, T, plate_no="鲁P12345", vehicle_key="x:1", plate_confidence=95.0)
        assert judge(s, ctx_with(entry("e1", "鲁P12345"))) == []

    def test_no_index_or_disabled_gives_nothing(self) -> None:
        assert judge(seen("鲁P12345"), context()) == []
        off = WatchlistDetector(WatchlistConfig(enabled=False))
        assert judge(seen("鲁P12345"), ctx_with(entry("e1", "鲁P12345")), off) == []


# --------------------------------------------------------------------------------------- validity
class TestValidity:
    START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    END = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("at", "hit"),
        [
            (START - timedelta(milliseconds=1), False),
            (START, True),  # takes effect at its start
            (END - timedelta(milliseconds=1), True),
            (END, False),  # stops at its end
        ],
    )
    def test_start_is_inclusive_and_end_exclusive(self, at: datetime, hit: bool) -> None:
        ctx = ctx_with(
            entry("e1", "鲁P12345", start=self.START, end=self.END),
            entry("p1", "鲁P123?5", start=self.START, end=self.END, mode="pattern"),
            entry("e2", "鲁P1234D", start=self.START, end=self.END),
        )
        want = [("exact", "e1"), ("pattern", "p1")] if hit else []
        assert rules(judge(seen("鲁P12345", at.timestamp()), ctx)) == want
        low = [("lookalike", "e2")] if hit else []
        assert rules(judge(seen("鲁P12340", at.timestamp(), plate_confidence=80.0), ctx)) == low

    def test_revoked_entries_stop_at_once(self) -> None:
        kept, revoked = entry("e1", "鲁P12345"), entry("e2", "鲁P12345", None)
        index = WatchlistIndex([kept, revoked])
        ctx = context()
        ctx.shared[SHARED] = index
        det = WatchlistDetector()
        first = seen("鲁P12345", T)
        assert rules(judge(first, ctx, det)) == [("exact", "e1"), ("exact", "e2")]
        assert index.remove(revoked) is True
        assert index.remove(revoked) is False
        assert rules(judge(seen("鲁P12345", T + 1), ctx, det)) == [("exact", "e1")]
        # the runtime may instead swap in a rebuilt index: the next sighting sees it
        ctx.shared[SHARED] = WatchlistIndex([])
        assert judge(seen("鲁P12345", T + 2), ctx, det) == []

    def test_through_the_core_each_passage_hits_once(self) -> None:
        ctx = ctx_with(entry("e1", "鲁P12345"))
        trail = [seen("鲁P12345", T + k * 60) for k in range(3)]
        _core, live = run_core([WatchlistDetector()], reversed(trail), ctx)
        assert sorted(f.at.t for f in live.values()) == [s.t for s in trail]
        assert {f.rule for f in live.values()} == {"exact"}


# --------------------------------------------------------------------------------------- patterns
class TestPatterns:
    def test_the_example_pattern(self) -> None:
        ctx = ctx_with(entry("p1", "鲁P*8?5", None, mode="pattern", priority=50))
        (f,) = judge(seen("鲁PA12805"), ctx)
        assert (f.rule, f.subject, f.severity) == ("pattern", "p1", "normal")
        assert f.payload["pattern"] == "鲁P*8?5"
        assert f.thresholds == {"match": "pattern", "pattern": "鲁P*8?5", "plate_class_required": False}
        assert judge(seen("鲁PA12855"), ctx) != []  # 8, any one, 5 at the end
        for plate in ("鲁PA12585", "鲁AA12805", "鲁PA12850", "鲁PD12805"):
            expected = plate == "鲁PD12805"  # a longer (new-energy) plate ends with 8?5 too
            assert bool(judge(seen(plate), ctx)) == expected, plate

    def test_star_matches_an_empty_run_and_question_mark_exactly_one(self) -> None:
        ctx = ctx_with(
            entry("p1", "鲁PA*12345", mode="pattern"),
            entry("p2", "鲁P?2345", mode="pattern"),
        )
        assert rules(judge(seen("鲁PA12345"), ctx)) == [("pattern", "p1")]
        assert rules(judge(seen("鲁PB2345"), ctx)) == [("pattern", "p2")]
        assert rules(judge(seen("鲁PAB2345"), ctx)) == []  # ? is one character, not AB

    def test_class_high_priority_and_unidentified_reads(self) -> None:
        ctx = ctx_with(entry("p1", "鲁P123?5", "01", mode="pattern"))
        assert judge(seen("鲁P12345", cls="02"), ctx) == []
        (f,) = judge(seen("鲁P12345", cls="01"), ctx)
        assert f.severity == "serious"
        s = sighting(SITE, T, plate_no="鲁P12345", plate_class="01", vehicle_key="x:9")
        assert judge(s, ctx) == []

    def test_floating_and_wildcard_only_patterns_are_indexed_too(self) -> None:
        ctx = ctx_with(
            entry("p1", "*123*", mode="pattern"),
            entry("p2", "*?*", mode="pattern"),  # refused by the service; the index still copes
            entry("p3", "*1?3*", mode="pattern"),
        )
        assert ctx.shared[SHARED].stats() == {
            "exact": 0,
            "patterns": 3,
            "anchored_keys": 0,
            "gram_tables": 2,
            "scanned": 1,
        }
        assert rules(judge(seen("鲁P11233"), ctx)) == [
            ("pattern", "p1"),
            ("pattern", "p2"),
            ("pattern", "p3"),
        ]
        assert rules(judge(seen("鲁P12245"), ctx)) == [("pattern", "p2")]

    def test_add_and_remove_patterns(self) -> None:
        index = WatchlistIndex([entry("p1", "鲁P123?5", mode="pattern")])
        p2 = entry("p2", "*2345", mode="pattern")
        index.add(p2)
        index.add(p2)  # the same id again replaces it
        assert sorted(e.id for _, e in index.pattern_matches("鲁P12345")) == ["p1", "p2"]
        assert index.remove(entry("p1", "鲁P123?5", mode="pattern"))
        assert [e.id for _, e in index.pattern_matches("鲁P12345")] == ["p2"]
        assert (index.size, index.pattern_count, index.exact_count) == (1, 1, 0)


class TestPatternGrammar:
    @pytest.mark.parametrize(
        ("raw", "text"),
        [("鲁p＊８？５", "鲁P*8?5"), (" 鲁P·**1?3 ", "鲁P*1?3"), ("鲁P-12?45", "鲁P12?45")],
    )
    def test_normalise(self, raw: str, text: str) -> None:
        assert normalise_pattern(raw) == text

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("鲁P*8?5", None),
            ("*12?45", None),
            ("鲁P1234?", None),
            ("", "模式为空"),
            ("*", "模式不能只有通配符"),
            ("*?*", "模式不能只有通配符"),
            ("鲁P12345", "模式中没有通配符 * 或 ?；完整号牌请用精确布控（exact）"),
            ("鲁*5", "模式至少要有 3 个确定字符（现有 2 个），否则会比中过多车辆"),
            ("鲁P%*5", "模式含有号牌中不会出现的字符：%（只能用号牌字符、* 与 ?）"),
            ("鲁P12?4", "不含 * 的模式须为 7 或 8 位（与号牌等长），现为 6 位"),
            ("鲁P123456?7*", "模式至少匹配 10 位，长于任何号牌"),
        ],
    )
    def test_problems(self, text: str, problem: str | None) -> None:
        assert pattern_problem(text, 3) == problem

    def test_the_minimum_is_a_setting(self) -> None:
        assert pattern_problem("*2345", 5) is not None
        assert pattern_problem("*2345", 4) is None


# reference: the standard library's own translation of shell patterns into regular expressions
ALPHABET = "鲁冀PA128BD0"
pattern_texts = st.text(alphabet=ALPHABET + "*?", max_size=9)
plate_texts = st.text(alphabet=ALPHABET, max_size=9)


class TestPatternProperties:
    @settings(max_examples=600, deadline=None, database=None)
    @given(pattern_texts, plate_texts)
    def test_matcher_agrees_with_the_reference_regex(self, text: str, plate: str) -> None:
        assert PlatePattern(text).matches(plate) == fnmatch.fnmatchcase(plate, text)

    @settings(max_examples=200, deadline=None, database=None)
    @given(st.lists(pattern_texts, max_size=12), st.lists(plate_texts, max_size=12))
    def test_the_index_finds_exactly_the_patterns_that_match(
        self, texts: list[str], plates: list[str]
    ) -> None:
        entries = [entry(f"p{n}", t, mode="pattern") for n, t in enumerate(texts)]
        index = WatchlistIndex(entries)
        for plate in plates:
            got = sorted(e.id for _, e in index.pattern_matches(plate))
            want = sorted(e.id for e in entries if fnmatch.fnmatchcase(plate, e.plate_no))
            assert got == want, plate


# ------------------------------------------------------------------------------------- look-alike
class TestLookalike:
    def test_a_doubtful_read_one_confusion_away_is_a_possible_hit(self) -> None:
        s = seen("鲁PA123D", plate_confidence=80.0)
        (f,) = judge(s, ctx_with(entry("e1", "鲁PA1230")))
        assert (f.rule, f.subject, f.severity, f.vehicle_key) == ("lookalike", "e1", "normal", "02:鲁PA123D")
        p = f.payload
        assert (p["possible"], p["differs_at"], p["read_plate"], p["entry_plate"]) == (
            True,
            [7],
            "鲁PA123D",
            "鲁PA1230",
        )
        assert (p["review_only"], p["plate_confidence"]) == (True, 80.0)
        assert p["title_zh"] == "疑似布控车辆：识别为 鲁PA123D，与布控号牌 鲁PA1230 第7位形近，请人工核对"
        assert f.thresholds == {
            "lookalike_max_chars": 1,
            "confusions": list(DEFAULT_CONFUSIONS),
            "province_confusable": True,
            "lookalike_min_confidence_to_suppress": 90.0,
            "lookalike_registry_suppression": "without_confidence",
            "lookalike_class_check": True,
        }

    def test_a_confident_read_is_trusted(self) -> None:
        ctx = ctx_with(entry("e1", "鲁PA1230"))
        assert judge(seen("鲁PA123D", plate_confidence=90.0), ctx) == []
        assert rules(judge(seen("鲁PA123D", plate_confidence=89.9), ctx)) == [("lookalike", "e1")]
        never = WatchlistDetector(WatchlistConfig(lookalike_min_confidence_to_suppress=None))
        assert rules(judge(seen("鲁PA123D", plate_confidence=99.0), ctx, never)) == [("lookalike", "e1")]

    def test_without_confidence_a_registered_read_of_an_agreeing_class_is_trusted(self) -> None:
        record = RegistryRecord("02:鲁PA123D", "鲁PA123D", "02", vehicle_class="K33")
        ctx = ctx_with(entry("e1", "鲁PA1230"), registry=DictRegistry([record]))
        assert judge(seen("鲁PA123D", plate_confidence=None), ctx) == []
        # the camera saw a truck: the registered car is not what passed
        assert rules(judge(seen("鲁PA123D", plate_confidence=None, vehicle_class="H11"), ctx)) == [
            ("lookalike", "e1")
        ]
        # a low confidence is not overruled by the registry (default) …
        assert rules(judge(seen("鲁PA123D", plate_confidence=80.0), ctx)) == [("lookalike", "e1")]
        # … unless configured so
        always = WatchlistDetector(WatchlistConfig(lookalike_registry_suppression="always"))
        assert judge(seen("鲁PA123D", plate_confidence=80.0), ctx, always) == []
        never = WatchlistDetector(WatchlistConfig(lookalike_registry_suppression="never"))
        assert rules(judge(seen("鲁PA123D", plate_confidence=None), ctx, never)) == [("lookalike", "e1")]

    def test_an_unregistered_read_without_confidence_is_doubtful(self) -> None:
        ctx = ctx_with(entry("e1", "鲁PA1230"), registry=DictRegistry([]))
        assert rules(judge(seen("鲁PA123D", plate_confidence=None), ctx)) == [("lookalike", "e1")]

    def test_the_entry_vehicle_of_another_class_is_dropped(self) -> None:
        truck = RegistryRecord("02:鲁PA1230", "鲁PA1230", "02", vehicle_class="H11")
        ctx = ctx_with(entry("e1", "鲁PA1230"), registry=DictRegistry([truck]))
        assert judge(seen("鲁PA123D", plate_confidence=80.0), ctx) == []
        unchecked = WatchlistDetector(WatchlistConfig(lookalike_class_check=False))
        assert rules(judge(seen("鲁PA123D", plate_confidence=80.0), ctx, unchecked)) == [("lookalike", "e1")]
        same = RegistryRecord("02:鲁PA1230", "鲁PA1230", "02", vehicle_class="K31")  # K3 agrees with K33
        ctx = ctx_with(entry("e1", "鲁PA1230"), registry=DictRegistry([same]))
        assert rules(judge(seen("鲁PA123D", plate_confidence=80.0), ctx)) == [("lookalike", "e1")]

    def test_the_province_is_a_setting(self) -> None:
        ctx = ctx_with(entry("e1", "鲁PA12345"))
        (f,) = judge(seen("冀PA12345", plate_confidence=80.0), ctx)
        assert f.payload["differs_at"] == [1]
        off = WatchlistDetector(WatchlistConfig(province_confusable=False))
        assert judge(seen("冀PA12345", plate_confidence=80.0), ctx, off) == []

    def test_up_to_n_characters(self) -> None:
        ctx = ctx_with(entry("e1", "鲁PA1230"))
        assert judge(seen("鲁PA1Z3D", plate_confidence=80.0), ctx) == []
        two = WatchlistDetector(WatchlistConfig(lookalike_max_chars=2))
        (f,) = judge(seen("鲁PA1Z3D", plate_confidence=80.0), ctx, two)
        assert f.payload["differs_at"] == [5, 7]
        none = WatchlistDetector(WatchlistConfig(lookalike_max_chars=0))
        assert judge(seen("鲁PA123D", plate_confidence=80.0), ctx, none) == []

    def test_only_confusable_characters_count(self) -> None:
        ctx = ctx_with(entry("e1", "鲁PA1230"))
        assert judge(seen("鲁PA123C", plate_confidence=80.0), ctx) == []  # C is not like 0

    def test_a_misread_the_grammar_refuses_is_still_looked_up(self) -> None:
        # a small new-energy plate ends in four digits: 0 read as D breaks the grammar (x: key)
        s = seen("鲁PD1238D", plate_confidence=80.0, cls="52")
        assert s.vehicle_key.startswith("x:")
        (f,) = judge(s, ctx_with(entry("e1", "鲁PD12380", "52")))
        assert (f.rule, f.payload["differs_at"]) == ("lookalike", [8])
        partial = sighting(
            SITE, T, plate_no="鲁PD1238-", plate_kind="partial", vehicle_key="x:p", plate_confidence=1.0
        )
        assert judge(partial, ctx_with(entry("e1", "鲁PD12380", "52"))) == []

    def test_class_and_validity_apply_to_look_alikes(self) -> None:
        later = datetime.fromtimestamp(T + 1, UTC)
        ctx = ctx_with(entry("e1", "鲁PA1230", "01"), entry("e2", "鲁PA1230", None, start=later))
        assert judge(seen("鲁PA123D", plate_confidence=80.0), ctx) == []
        assert rules(judge(seen("鲁PA123D", T + 1, plate_confidence=80.0), ctx)) == [("lookalike", "e2")]


# look-alike properties on plate-like texts over the confusable characters and two provinces
CONF = confusion_map(DEFAULT_CONFUSIONS)
plate_like = st.text(alphabet="鲁冀" + "".join(DEFAULT_CONFUSIONS) + "AC3", min_size=1, max_size=8)


class TestLookalikeProperties:
    @settings(max_examples=400, deadline=None, database=None)
    @given(plate_like, plate_like, st.integers(1, 3), st.booleans())
    def test_symmetric(self, a: str, b: str, n: int, province: bool) -> None:
        assert lookalike_positions(a, b, n, CONF, province) == lookalike_positions(b, a, n, CONF, province)

    @settings(max_examples=150, deadline=None, database=None)
    @given(plate_like, st.integers(1, 2), st.booleans())
    def test_variants_are_all_the_look_alikes_within_bounds(self, a: str, n: int, province: bool) -> None:
        variants = list(lookalike_variants(a, n, CONF, province))
        texts = [v for v, _ in variants]
        assert len(texts) == len(set(texts))
        for v, pos in variants:
            assert 1 <= len(pos) <= n
            assert lookalike_positions(a, v, n, CONF, province) == pos
            assert a in {x for x, _ in lookalike_variants(v, n, CONF, province)}  # symmetric
        # and nothing else: every single substitution outside the variants is no look-alike
        for i in range(len(a)):
            for ch in ("鲁冀" if i == 0 else "") + "".join(DEFAULT_CONFUSIONS) + "AC3":
                b = a[:i] + ch + a[i + 1 :]
                assert (b in set(texts)) == (lookalike_positions(a, b, n, CONF, province) is not None)

    @settings(max_examples=150, deadline=None, database=None)
    @given(
        st.lists(st.tuples(plate_like, st.sampled_from(["02", "01", None])), max_size=8),
        plate_like,
        st.integers(1, 2),
    )
    def test_the_detector_finds_exactly_the_look_alike_entries(
        self, plates: list[tuple[str, str | None]], read_text: str, n: int
    ) -> None:
        entries = [entry(f"e{k}", p, cls) for k, (p, cls) in enumerate(plates)]
        s = sighting(SITE, T, plate_no=read_text, vehicle_key=f"02:{read_text}", plate_confidence=10.0)
        det = WatchlistDetector(WatchlistConfig(lookalike_max_chars=n))
        got = sorted(f.subject for f in judge(s, ctx_with(*entries), det) if f.rule == "lookalike")
        want = sorted(
            e.id
            for e in entries
            if e.plate_class in (None, "02")
            and lookalike_positions(read_text, e.plate_no, n, CONF, True) is not None
        )
        assert got == want


# ------------------------------------------------------------------ exact (ported property test)
T0 = datetime(2026, 11, 29, tzinfo=UTC)
PLATES = ["鲁P12345", "鲁P12346", "冀D88888"]
CLASSES = ["01", "02", "52"]

entries_st = st.builds(
    lambda n, plate, cls, start, length: entry(
        f"e{n}",
        plate,
        cls,
        start=T0 + timedelta(minutes=start),
        end=None if length is None else T0 + timedelta(minutes=start + length),
        priority=50,
    ),
    st.integers(0, 10_000),
    st.sampled_from(PLATES),
    st.none() | st.sampled_from(CLASSES),
    st.integers(-60, 60),
    st.none() | st.integers(1, 120),
)
sightings_st = st.builds(
    lambda plate, cls, minute, valid: sighting(
        SITE,
        (T0 + timedelta(minutes=minute)).timestamp(),
        plate_no=plate,
        plate_class=cls,
        vehicle_key=f"{cls}:{plate}" if valid else "x:1",
        plate_confidence=95.0,
    ),
    st.sampled_from(PLATES),
    st.sampled_from(CLASSES),
    st.integers(-90, 200),
    st.booleans(),
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(entries_st, max_size=6, unique_by=lambda e: e.id), sightings_st)
def test_hits_exactly_the_entries_that_match(index_entries: list[IndexedEntry], s: Sighting) -> None:
    expected = {
        e.id
        for e in index_entries
        if not s.vehicle_key.startswith("x:")
        and e.plate_no == s.plate_no
        and e.plate_class in (None, s.plate_class)
        and e.valid_from.timestamp() <= s.t
        and (e.valid_until is None or s.t < e.valid_until.timestamp())
    }
    findings = judge(s, ctx_with(*index_entries))
    assert {f.subject for f in findings} == expected
    assert len(findings) == len(expected)
    for f in findings:
        assert (f.detector, f.version, f.rule, f.evidence, f.vehicle_key) == (
            "watchlist",
            3,
            "exact",
            (s,),
            s.vehicle_key,
        )


def test_index_add_remove_exact() -> None:
    a, b = entry("e1", "鲁P12345", "02"), entry("e2", "鲁P12345", None)
    index = WatchlistIndex([a])
    index.add(b)
    index.add(b)
    assert [e.id for e in index.exact("鲁P12345")] == ["e1", "e2"]
    assert index.remove(a) and not index.remove(a)
    assert index.exact("鲁P12345") == (b,)
    assert index.remove(replace(b, id="other")) is False
    assert index.remove(b) and index.exact("鲁P12345") == ()
    assert index.size == 0


def test_entries_added_later_are_found_as_look_alikes_too() -> None:
    index = WatchlistIndex([])
    assert not index.may_hold_sans_province("P12345")
    index.add(entry("e1", "鲁P12345"))
    assert index.may_hold_sans_province("P12345")
    ctx = context()
    ctx.shared[SHARED] = index
    assert rules(judge(seen("冀P12345", plate_confidence=80.0), ctx)) == [("lookalike", "e1")]
    assert rules(judge(seen("鲁P1234S", plate_confidence=80.0), ctx)) == [("lookalike", "e1")]


# ------------------------------------------------------------------------------------ configuration
@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"lookalike_max_chars": -1}, "engine.detectors.watchlist.lookalike_max_chars"),
        ({"confusions": ["0DQ", "8B0"]}, "engine.detectors.watchlist.confusions"),
        ({"confusions": ["0"]}, "engine.detectors.watchlist.confusions"),
        (
            {"lookalike_min_confidence_to_suppress": 101},
            "engine.detectors.watchlist.lookalike_min_confidence",
        ),
        ({"lookalike_registry_suppression": "sometimes"}, "engine.detectors.watchlist.lookalike_registry"),
        ({"pattern_min_fixed_chars": 0}, "engine.detectors.watchlist.pattern_min_fixed_chars"),
        ({"colour": 1}, "engine.detectors.watchlist.colour"),
    ],
)
def test_bad_config_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        WatchlistDetector.from_config(raw)


def test_config_from_mapping() -> None:
    det = WatchlistDetector.from_config(
        {"lookalike_max_chars": 2, "confusions": ["0D"], "province_confusable": False}
    )
    assert det.config.lookalike_max_chars == 2
    ctx = ctx_with(entry("e1", "鲁PA1230"))
    assert judge(seen("鲁PA123Q", plate_confidence=80.0), ctx, det) == []  # Q is no longer like 0
    assert rules(judge(seen("鲁PA123D", plate_confidence=80.0), ctx, det)) == [("lookalike", "e1")]


# ------------------------------------------------------------------ dense issuance: the false-hit rate
def _dense_run(detector: WatchlistDetector, *, with_confidence: bool = True) -> tuple[int, int, int, int]:
    """A seeded population issued in dense series (changan.sim.population), one in 300 vehicles on
    the watchlist; 100 000 passages read by the simulator's camera model (95 for right reads, 80
    for misreads, as the simulator reports). Returns (passages, false possible hits, misreads of
    watchlisted vehicles, of which found as possible hits)."""
    scenario = load_scenario("city-day")
    rng = random.Random(20261130)
    population = Population(scenario, rng)
    vehicles = [population.draw(rng.randrange(24)) for _ in range(60_000)]
    watched = vehicles[::300]
    ctx = ctx_with(
        *(entry(f"w{n}", v.plate_no, v.plate_class) for n, v in enumerate(watched)),
        registry=DictRegistry(
            RegistryRecord(v.key, v.plate_no, v.plate_class, vehicle_class=v.vehicle_class)
            for v in vehicles
            if v.registered
        ),
    )
    watched_keys = {v.key for v in watched}
    passages = false = cases = found = 0
    for k in range(100_000):
        v = vehicles[rng.randrange(len(vehicles))]
        for r in read(v.plate_no, SITE, scenario.camera, rng):
            passages += 1
            text = read_plate(r.plate_no)
            s = Sighting(
                seq=k,
                ref=k,
                t=T,
                vehicle_key=f"{v.plate_class}:{text.text}" if text.valid else f"x:{k}",
                plate_no=text.text,
                plate_class=v.plate_class,
                plate_kind=text.kind.value,
                site_id=SITE,
                device_id=f"{SITE}-C1",
                vehicle_class=v.vehicle_class,
                plate_confidence=(95.0 if r.outcome == "right" else 80.0) if with_confidence else None,
            )
            state = VehicleState(s.vehicle_key)
            state.insert(s)
            possible = [f for f in detector.evaluate(state, 0, ctx) if f.rule == "lookalike"]
            if r.outcome != "right" and v.key in watched_keys:
                cases += 1
                found += any(f.payload["entry_plate"] == v.plate_no for f in possible)
            elif possible:
                false += len(possible)
    return passages, false, cases, found


def test_false_possible_hits_on_densely_issued_plates() -> None:
    passages, false, cases, found = _dense_run(WatchlistDetector())
    assert (passages, false, cases, found) == DENSE_DEFAULT
    assert false / passages * 100_000 <= 1.0
    assert found / cases >= 0.95


def test_without_suppression_dense_issuance_floods_the_desk() -> None:
    raw = WatchlistDetector(
        WatchlistConfig(
            lookalike_min_confidence_to_suppress=None,
            lookalike_registry_suppression="never",
            lookalike_class_check=False,
        )
    )
    assert _dense_run(raw) == DENSE_UNSUPPRESSED


def test_without_confidence_the_registry_decides() -> None:
    assert _dense_run(WatchlistDetector(), with_confidence=False) == DENSE_NO_CONFIDENCE


# (passages, false possible hits, misreads of watchlisted vehicles, found): for the seeded population
DENSE_DEFAULT = (99_322, 0, 7, 7)
DENSE_UNSUPPRESSED = (99_322, 116, 7, 7)  # 117 per 100 000 passages: right reads next to an entry
DENSE_NO_CONFIDENCE = (99_322, 2, 7, 7)


def test_recall_on_single_look_alike_misreads() -> None:
    """Every watchlisted vehicle of a dense population misread ten times by the simulator's camera
    model (one look-alike character, the province in 20 % of misreads), at confidence 80."""
    scenario = load_scenario("city-day")
    rng = random.Random(7)
    population = Population(scenario, rng)
    vehicles = [population.draw(rng.randrange(24)) for _ in range(20_000)]
    watched = vehicles[::100]
    ctx = ctx_with(
        *(entry(f"w{n}", v.plate_no, v.plate_class) for n, v in enumerate(watched)),
        registry=DictRegistry(
            RegistryRecord(v.key, v.plate_no, v.plate_class, vehicle_class=v.vehicle_class)
            for v in vehicles
            if v.registered
        ),
    )
    det = WatchlistDetector()
    cases = found = 0
    for v in watched:
        for _ in range(10):
            text, _outcome = misread(v.plate_no, scenario.camera, rng)
            s = seen(text, cls=v.plate_class, vehicle_class=v.vehicle_class, plate_confidence=80.0)
            cases += 1
            found += any(f.payload["entry_plate"] == v.plate_no for f in judge(s, ctx, det))
    assert (cases, found) == (2000, 2000)
