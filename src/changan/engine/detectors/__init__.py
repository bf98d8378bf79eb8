"""Detectors: pure functions of (sighting, vehicle state, shared models) → findings."""
