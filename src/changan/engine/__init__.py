"""The detection engine: consumes the passage log in order and runs the detectors."""
