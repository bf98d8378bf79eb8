"""An injectable clock. All datetimes inside changan are aware and in UTC."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; refuse naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        msg = "naive datetime: a timezone is required"
        raise ValueError(msg)
    return value.astimezone(UTC)


class FakeClock:
    """A settable clock for tests and the simulator."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def set(self, value: datetime) -> None:
        with self._lock:
            self._now = ensure_utc(value)


class ScaledClock:
    """Simulated time that runs ``speedup`` times faster than the real clock (demo)."""

    def __init__(self, start: datetime, speedup: float, real: Clock = utc_now) -> None:
        self._start = ensure_utc(start)
        self._real_start = real()
        self._speedup = speedup
        self._real = real

    def __call__(self) -> datetime:
        return self._start + (self._real() - self._real_start) * self._speedup
