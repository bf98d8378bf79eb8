"""The exact watchlist detector as a pure function: property tests against a direct restatement of the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from changan.engine.detectors.watchlist import IndexedEntry, WatchlistIndex, detect
from changan.engine.state import Sighting

T0 = datetime(2026, 11, 29, tzinfo=UTC)
PLATES = ["鲁P12345", "鲁P12346", "冀D88888"]
CLASSES = ["01", "02", "52"]

entries = st.builds(
    lambda n, plate, cls, start, length: IndexedEntry(
        id=f"e{n}",
        plate_no=plate,
        plate_class=cls,
        valid_from=T0 + timedelta(minutes=start),
        valid_until=None if length is None else T0 + timedelta(minutes=start + length),
        priority=50,
        reason="r",
        jurisdiction="3715",
    ),
    st.integers(0, 10_000),
    st.sampled_from(PLATES),
    st.none() | st.sampled_from(CLASSES),
    st.integers(-60, 60),
    st.none() | st.integers(1, 120),
)
sightings = st.builds(
    lambda plate, cls, minute, valid: Sighting(
        seq=1,
        vehicle_key=f"{cls}:{plate}" if valid else "x:1",
        plate_no=plate,
        plate_class=cls,
        plate_valid=valid,
        site_id="s",
        heading=None,
        device_id="d",
        pass_time=T0 + timedelta(minutes=minute),
        vehicle_class=None,
        speed_kmh=None,
    ),
    st.sampled_from(PLATES),
    st.sampled_from(CLASSES),
    st.integers(-90, 200),
    st.booleans(),
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(entries, max_size=6, unique_by=lambda e: e.id), sightings)
def test_hits_exactly_the_entries_that_match(index_entries: list[IndexedEntry], s: Sighting) -> None:
    expected = {
        e.id
        for e in index_entries
        if s.plate_valid
        and e.plate_no == s.plate_no
        and e.plate_class in (None, s.plate_class)
        and e.valid_from <= s.pass_time
        and (e.valid_until is None or s.pass_time < e.valid_until)
    }
    findings = detect(s, WatchlistIndex(index_entries))
    assert {f.payload["entry_id"] for f in findings} == expected
    assert len(findings) == len(expected)
    for f in findings:
        assert (f.detector, f.version, f.evidence, f.vehicle_key) == ("watchlist", 1, (1,), s.vehicle_key)
