"""Temporary speed limits (fog, road works) on a stretch of road for a time window."""
