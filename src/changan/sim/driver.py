"""A driver's hours: what the rest rules (疲劳驾驶: 4 h, then 20 min) are judged on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class DriverShift:
    """A commercial driver's hours across chained trips: driving since the last rest, and rests taken
    at service areas (node, arrival, seconds)."""

    rest_after_s: float
    rest_min_s: float = 20 * 60
    rest_max_s: float = 45 * 60
    driven_s: float = 0.0
    rests: list[tuple[str, datetime, float]] = field(default_factory=list)
