"""Prometheus metrics, served at /metrics by the web process (in the embedded mode the engine runs there too)."""

from __future__ import annotations

from prometheus_client import Counter

INGEST_ACCEPTED = Counter("changan_passages_accepted_total", "Passages stored by ingest")
INGEST_DUPLICATES = Counter(
    "changan_passages_duplicate_total", "Passages already stored (idempotent retries)"
)
INGEST_REJECTED = Counter("changan_passages_rejected_total", "Passages rejected with an error")
ENGINE_PROCESSED = Counter("changan_engine_processed_total", "Passages processed by the engine")
ENGINE_ALERTS = Counter("changan_engine_alerts_total", "Alerts raised by the engine")
ENGINE_DETECTIONS = Counter("changan_engine_detections_total", "Detections written by the engine")
