"""Prometheus metrics (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

INGEST_ACCEPTED = Counter("changan_passages_accepted_total", "Passages stored by ingest")
INGEST_DUPLICATES = Counter(
    "changan_passages_duplicate_total", "Passages already stored (idempotent retries)"
)
INGEST_REJECTED = Counter("changan_passages_rejected_total", "Passages rejected with an error")
ENGINE_PROCESSED = Counter("changan_engine_processed_total", "Passages processed by the engine")
ENGINE_ALERTS = Counter("changan_engine_alerts_total", "Alerts raised by the engine")
ENGINE_BACKLOG = Gauge("changan_engine_backlog", "Passages stored but not yet processed")
