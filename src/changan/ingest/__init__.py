"""Ingest: every wire format becomes one :class:`~changan.passages.models.Passage` row."""
