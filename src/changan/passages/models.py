"""Passage log and dead-letter tables.

``seq`` numbers the log. On PostgreSQL each row also records the id of the
transaction that wrote it (``xid``, filled by the server), so that the reader
can stop below the oldest transaction still in flight and never skip a row
that commits after one with a higher ``seq`` (see :mod:`changan.passages.log`).
The index on ``(xid, seq)`` exists on PostgreSQL only and is made by the
migration (on SQLite ``xid`` stays NULL and would only slow ingest down).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from changan.kit.db import Base, JSONType, UTCDateTime


class Passage(Base):
    __tablename__ = "passages"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_passages_vehicle_key_pass_time", "vehicle_key", "pass_time"),
        Index("ix_passages_site_id_pass_time", "site_id", "pass_time"),
        Index("ix_passages_plate_no", "plate_no"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    xid: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(96))
    external_id: Mapped[str] = mapped_column(String(128))
    device_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str] = mapped_column(String(64))
    heading: Mapped[str | None] = mapped_column(String(64))
    plate_raw: Mapped[str] = mapped_column(String(32))
    plate_no: Mapped[str] = mapped_column(String(32))
    plate_kind: Mapped[str] = mapped_column(String(12))
    plate_class: Mapped[str] = mapped_column(String(2))
    plate_color: Mapped[str | None] = mapped_column(String(16))
    vehicle_key: Mapped[str] = mapped_column(String(160))
    vehicle_class: Mapped[str | None] = mapped_column(String(8))
    vehicle_color: Mapped[str | None] = mapped_column(String(16))
    vehicle_brand: Mapped[str | None] = mapped_column(String(64))
    lane_no: Mapped[int | None] = mapped_column(SmallInteger)
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    plate_confidence: Mapped[float | None] = mapped_column(Float)
    pass_time: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)


class DeadLetter(Base):
    """A body (or one item of it) that could not be accepted, kept whole with the reason."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    source: Mapped[str] = mapped_column(String(96), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[bytes] = mapped_column(LargeBinary)
