"""Whatever a device sends, ingest answers with counts and per-item errors that name a field: never a crash."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changan.auth.principal import DeviceKey
from changan.ingest.native import PassageIn
from changan.ingest.service import IngestLimits, prepare_native
from changan.network import Network
from changan.passages.images import ImageStore

NOW = datetime(2026, 11, 29, 2, tzinfo=UTC)
FIELDS = set(PassageIn.model_fields)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
good = {
    "external_id": "e",
    "device_id": "cam-1",
    "pass_time": "2026-11-29T10:00:00+08:00",
    "plate_no": "鲁P12345",
}
items = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(sorted(FIELDS)), json_values, max_size=6),
    st.builds(
        lambda extra: {**good, **extra},
        st.dictionaries(st.sampled_from(sorted(FIELDS)), json_values, max_size=3),
    ),
)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(items, min_size=1, max_size=5))
def test_every_item_is_accepted_or_rejected_with_a_field(tmp_path: Path, batch: list[Any]) -> None:
    network = Network.load_default()
    site = sorted(network.sites)[0]
    prepared = prepare_native(
        DeviceKey(key_id="k", name="gw", device_id=None),
        orjson.dumps({"passages": batch}),
        content_type="application/json",
        devices=lambda ids: {i: site for i in ids if i == "cam-1"},
        network=network,
        images=ImageStore(tmp_path),
        limits=IngestLimits(10_000, 300, 30),
        now=NOW,
    )
    result = prepared.result
    rejected = {e.index for e in result.errors}
    assert len(prepared.rows) + result.duplicates + len(rejected) == len(batch)
    assert len(prepared.dead_letters) == len(rejected)  # nothing refused is lost
    for e in result.errors:
        assert 0 <= e.index < len(batch)
        assert e.field
        assert e.reason
    for row in prepared.rows:
        assert row["pass_time"].tzinfo is UTC
        assert row["vehicle_key"]
