"""Streaming a simulated world to a running changan through its real ingest API.

Reports go out in delivery order, paced by their delivery times (``speedup``
simulated seconds per real second; 0 sends as fast as the server answers),
in batches of up to ``batch`` passages, with a platform key. The server must
know the simulated devices (``changan devices import DIR/devices.jsonl``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import orjson

from changan.sim.world import Outcome


@dataclass
class StreamResult:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    first_error: str | None = None


def stream(
    outcome: Outcome,
    base_url: str,
    key: str,
    *,
    speedup: float = 1.0,
    batch: int = 2000,
    progress: Callable[[float], None] | None = None,
    client: httpx.Client | None = None,
) -> StreamResult:
    result = StreamResult()
    reports = outcome.reports
    if not reports:
        return result
    own = client is None
    http = client or httpx.Client(base_url=base_url, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    t0_sim = reports[0].received_at
    t0_real = time.monotonic()
    try:
        i = 0
        while i < len(reports):
            # everything delivered within the next simulated second goes in one request
            horizon = reports[i].received_at.timestamp() + 1
            j = i
            while j < len(reports) and j - i < batch and reports[j].received_at.timestamp() < horizon:
                j += 1
            chunk = reports[i:j]
            if speedup > 0:
                due = (chunk[0].received_at - t0_sim).total_seconds() / speedup
                wait = due - (time.monotonic() - t0_real)
                if wait > 0:
                    time.sleep(wait)
            r = http.post(
                "/api/v1/passages",
                content=orjson.dumps({"passages": [c.item for c in chunk]}),
                headers=headers,
            )
            result.sent += len(chunk)
            if r.status_code in (200, 422):
                body = r.json()
                result.accepted += body["accepted"]
                result.duplicates += body["duplicates"]
                rejected = {e["index"] for e in body["errors"]}
                result.rejected += len(rejected)
                if body["errors"] and result.first_error is None:
                    e = body["errors"][0]
                    result.first_error = f"{e['field']}: {e['reason']}"
            else:
                result.rejected += len(chunk)
                if result.first_error is None:
                    result.first_error = f"HTTP {r.status_code}: {r.text[:200]}"
            i = j
            if progress is not None:
                progress(i / len(reports))
    finally:
        if own:
            http.close()
    return result
