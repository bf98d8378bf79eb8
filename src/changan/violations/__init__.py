"""Violation records (违法记录) kept from detections for review before they count (非现场执法)."""
