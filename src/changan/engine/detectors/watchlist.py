"""Exact watchlist hit (布控比中): the vehicle key, or the plate alone where the entry names no class.

An entry hits only for passages whose event time lies in its validity window;
revoked entries leave the index at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from changan.engine.state import Finding, Sighting

NAME = "watchlist"
VERSION = 1


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    id: str
    plate_no: str
    plate_class: str | None
    valid_from: datetime
    valid_until: datetime | None
    priority: int
    reason: str
    jurisdiction: str


class WatchlistIndex:
    """Active entries by plate text (a shared model the detector reads)."""

    def __init__(self, entries: list[IndexedEntry]) -> None:
        self._by_plate: dict[str, list[IndexedEntry]] = defaultdict(list)
        for e in entries:
            self._by_plate[e.plate_no].append(e)
        self.size = len(entries)

    def candidates(self, plate_no: str) -> list[IndexedEntry]:
        return self._by_plate.get(plate_no, [])


def detect(s: Sighting, index: WatchlistIndex) -> list[Finding]:
    if not s.plate_valid:
        return []
    out = []
    for e in index.candidates(s.plate_no):
        if e.plate_class is not None and e.plate_class != s.plate_class:
            continue
        if s.pass_time < e.valid_from or (e.valid_until is not None and s.pass_time >= e.valid_until):
            continue
        out.append(
            Finding(
                detector=NAME,
                version=VERSION,
                vehicle_key=s.vehicle_key,
                plate_no=s.plate_no,
                evidence=(s.seq,),
                event_time=s.pass_time,
                site_id=s.site_id,
                thresholds={"match": "exact", "plate_class_required": e.plate_class is not None},
                payload={
                    "entry_id": e.id,
                    "reason": e.reason,
                    "priority": e.priority,
                    "entry_jurisdiction": e.jurisdiction,
                },
            )
        )
    return out
