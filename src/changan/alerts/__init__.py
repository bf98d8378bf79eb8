"""Alerts (预警): detections that need action."""
