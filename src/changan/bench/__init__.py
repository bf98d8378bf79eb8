"""Benchmarks run by ``changan bench …``: figures printed and written as JSON, never asserted in tests."""
