"""Alert table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from changan.kit.db import Base, JSONType, UTCDateTime


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    detection_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    vehicle_key: Mapped[str] = mapped_column(String(160), index=True)
    plate_no: Mapped[str] = mapped_column(String(32))
    plate_class: Mapped[str] = mapped_column(String(2))
    priority: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(256))
    entry_id: Mapped[str | None] = mapped_column(String(32))
    site_id: Mapped[str] = mapped_column(String(64))
    heading: Mapped[str | None] = mapped_column(String(64))
    passage_seq: Mapped[int] = mapped_column(BigInteger)
    pass_time: Mapped[datetime] = mapped_column(UTCDateTime)
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | closed | withdrawn
    jurisdiction: Mapped[str] = mapped_column(String(12), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
