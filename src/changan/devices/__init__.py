"""Camera devices and their ingest keys."""
