"""Shared building blocks: settings, clock, logging, errors, database, ids, outbox."""
