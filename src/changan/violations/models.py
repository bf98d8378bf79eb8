"""Violation records awaiting or after review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from changan.kit.db import Base, JSONType, UTCDateTime


class Violation(Base):
    __tablename__ = "violations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # derived from the detection id
    detection_id: Mapped[str] = mapped_column(String(32), unique=True)
    detector: Mapped[str] = mapped_column(String(32), index=True)
    vehicle_key: Mapped[str] = mapped_column(String(160), index=True)
    plate_no: Mapped[str] = mapped_column(String(32))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    site_id: Mapped[str] = mapped_column(String(64))
    points: Mapped[int | None] = mapped_column(Integer)  # 记分 (163号令)
    fine_yuan: Mapped[int | None] = mapped_column(Integer)
    legal_basis: Mapped[str] = mapped_column(Text)  # the articles, as the detector cites them
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | confirmed | rejected | void
    jurisdiction: Mapped[str] = mapped_column(String(8), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
