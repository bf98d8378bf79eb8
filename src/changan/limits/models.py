"""Temporary speed limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from changan.kit.db import Base, UTCDateTime


class SpeedLimit(Base):
    """A temporary limit on one carriageway from ``from_node`` to ``to_node`` (along the road),
    applied to passages whose event time lies in [valid_from, valid_until)."""

    __tablename__ = "speed_limits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    road_id: Mapped[str] = mapped_column(String(32))
    from_node: Mapped[str] = mapped_column(String(64))
    to_node: Mapped[str] = mapped_column(String(64))
    limit_kmh: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(256))  # 团雾 / 施工 …
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
