"""Engine tables: the consumer position, per-vehicle state, and detections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
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


class VehicleStateRow(Base):
    """Snapshot of one vehicle's state (recent trail and detector state)."""

    __tablename__ = "vehicle_states"

    vehicle_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Detection(Base):
    """What a detector found. The id is derived from (detector, version, vehicle key, evidence)."""

    __tablename__ = "detections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    detector: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    vehicle_key: Mapped[str] = mapped_column(String(160), index=True)
    plate_no: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[list[int]] = mapped_column(JSONType)
    event_time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    site_id: Mapped[str] = mapped_column(String(64))
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONType)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16))  # provisional | settled | retracted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
