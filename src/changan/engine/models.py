"""Engine tables: the consumer position, state snapshots, and detections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from changan.kit.db import Base, JSONType, UTCDateTime


class EngineState(Base):
    """Where a consumer stands in the log; committed with the detections it produced."""

    __tablename__ = "engine_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    processed: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EngineSnapshot(Base):
    """The engine's in-memory state as of a log position (taken every so often; a restart loads it
    and replays the log from that position to the committed one)."""

    __tablename__ = "engine_snapshots"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Detection(Base):
    """What a detector found. The id is derived from (detector, version, rule, subject, vehicle key,
    evidence refs): replays and other arrival orders rewrite nothing."""

    __tablename__ = "detections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    detector: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    vehicle_key: Mapped[str] = mapped_column(String(160), index=True)
    plate_no: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[list[int]] = mapped_column(JSONType)  # passage seqs, event-time order
    evidence_refs: Mapped[list[int]] = mapped_column(JSONType)  # stable passage refs, same order
    event_time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # of the decisive passage
    site_id: Mapped[str] = mapped_column(String(64))
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONType)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), index=True)  # provisional | settled | retracted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # event-time progress (the engine's highest event time seen) when it was found and settled:
    # the detection delay in event time, whatever the replay speed
    seen_upto: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_upto: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
