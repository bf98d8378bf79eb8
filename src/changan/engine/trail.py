"""Per-vehicle state: the trail of recent sightings in event-time order, and detector summaries."""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from changan.engine.sighting import Sighting

if TYPE_CHECKING:
    from changan.engine.core import Pending


def _key(s: Sighting) -> tuple[float, int]:
    return (s.t, s.ref)


class VehicleState:
    """One vehicle key's state.

    ``trail`` is sorted by (event time, ref): a late passage is slotted into its place.
    ``pending`` maps an anchor's ref to the ids of its live findings that are not settled
    yet; ``memo`` holds each detector's summary of sightings that have left the trail.
    """

    __slots__ = ("keep_s", "key", "memo", "pending", "trail")

    def __init__(self, key: str) -> None:
        self.key = key
        self.trail: list[Sighting] = []
        self.pending: dict[int, Pending] | None = None
        self.memo: dict[str, Any] | None = None
        self.keep_s = -1.0  # how long the engine keeps it after its last sighting (-1: not yet placed)

    def insert(self, s: Sighting) -> int:
        """Put ``s`` in its place; returns its index (-1 if this passage is already there)."""
        trail = self.trail
        if not trail or _key(trail[-1]) < _key(s):
            trail.append(s)
            return len(trail) - 1
        i = bisect.bisect_left(trail, _key(s), key=_key)
        if i < len(trail) and trail[i].ref == s.ref:
            return -1
        trail.insert(i, s)
        return i

    @property
    def last_t(self) -> float:
        return self.trail[-1].t if self.trail else float("-inf")

    def memo_for(self, name: str) -> Any:
        return self.memo.get(name) if self.memo else None

    def set_memo(self, name: str, value: Any) -> None:
        if self.memo is None:
            self.memo = {}
        self.memo[name] = value

    def __repr__(self) -> str:
        return f"VehicleState({self.key!r}, trail={len(self.trail)}, pending={len(self.pending or {})})"
