"""The shapes on the engine's hot path: a sighting (one passage as detectors see it) and a finding.

Slotted, frozen dataclasses; times are float epoch seconds (UTC) so that the
hot path does no datetime arithmetic. A sighting's ``ref`` is a 64-bit hash of
the passage's ``(source, external_id)``: unlike the log's ``seq`` it is the same
whatever order the passages arrived in, so detection ids derived from refs are
identical across arrival orders and databases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from changan.kit.ids import derived_id


def ref_of(source: str, external_id: str) -> int:
    """The stable identity of a passage (signed 64-bit, fits a BIGINT)."""
    digest = hashlib.blake2b(f"{source}\x1f{external_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def epoch_s(t: datetime) -> float:
    return t.timestamp()


def utc(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, UTC)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One passage, as the detectors read it."""

    seq: int  # the log's sequence number: the evidence link in this database
    ref: int  # stable identity: hash of (source, external_id)
    t: float  # event time: the device's pass time, epoch seconds UTC
    vehicle_key: str
    plate_no: str
    plate_class: str
    plate_kind: str  # changan.plates.PlateKind value
    site_id: str
    device_id: str
    vehicle_class: str | None = None
    vehicle_color: str | None = None
    vehicle_brand: str | None = None
    lane_no: int | None = None
    speed_kmh: float | None = None
    plate_confidence: float | None = None

    @property
    def sort_key(self) -> tuple[float, int]:
        """Trail order: event time, then the stable ref (never arrival order)."""
        return (self.t, self.ref)


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector found about one vehicle, before it becomes a detection row.

    ``evidence`` are the sightings a reviewer needs to recompute it, in event-time order;
    ``at`` is the decisive one (its time and place are the detection's). ``rule`` names which
    rule of the detector fired (``point``, ``section``, ``exact``, ``lookalike`` …) and
    ``subject`` what it fired about where one sighting can match several things (a watchlist
    entry id); both are part of the id, so two rules never collapse into one detection.
    """

    detector: str
    version: int
    rule: str
    vehicle_key: str
    plate_no: str
    at: Sighting
    evidence: tuple[Sighting, ...]
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    payload: Mapping[str, Any] = field(default_factory=dict)
    subject: str = ""
    severity: str = "normal"  # normal | serious | critical: feeds the policy table

    @property
    def id(self) -> str:
        refs = sorted(s.ref for s in self.evidence)
        return derived_id(self.detector, self.version, self.rule, self.subject, self.vehicle_key, *refs)
