"""Per-vehicle state and the shapes detectors work on (slotted dataclasses: this is the hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from changan.passages.models import Passage

TRAIL_LENGTH = 8


@dataclass(frozen=True, slots=True)
class Sighting:
    seq: int
    vehicle_key: str
    plate_no: str
    plate_class: str
    plate_valid: bool
    site_id: str
    heading: str | None
    device_id: str
    pass_time: datetime
    vehicle_class: str | None
    speed_kmh: float | None

    @classmethod
    def of(cls, p: Passage) -> Sighting:
        return cls(
            seq=p.seq,
            vehicle_key=p.vehicle_key,
            plate_no=p.plate_no,
            plate_class=p.plate_class,
            plate_valid=not p.vehicle_key.startswith("x:"),
            site_id=p.site_id,
            heading=p.heading,
            device_id=p.device_id,
            pass_time=p.pass_time,
            vehicle_class=p.vehicle_class,
            speed_kmh=p.speed_kmh,
        )


@dataclass(slots=True)
class VehicleState:
    """A short trail of recent sightings ``(seq, site, pass_time)`` and the number seen."""

    trail: list[tuple[int, str, str]] = field(default_factory=list)
    seen: int = 0

    def add(self, s: Sighting) -> None:
        self.trail.append((s.seq, s.site_id, s.pass_time.isoformat()))
        self.trail.sort(key=lambda t: t[2])
        del self.trail[:-TRAIL_LENGTH]
        self.seen += 1

    def to_json(self) -> dict[str, Any]:
        return {"trail": [list(t) for t in self.trail], "seen": self.seen}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VehicleState:
        return cls(
            trail=[(int(a), str(b), str(c)) for a, b, c in data.get("trail", [])],
            seen=int(data.get("seen", 0)),
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """A detector's output before it becomes a detection row."""

    detector: str
    version: int
    vehicle_key: str
    plate_no: str
    evidence: tuple[int, ...]
    event_time: datetime
    site_id: str
    thresholds: dict[str, Any]
    payload: dict[str, Any]
