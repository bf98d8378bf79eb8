"""Policy rows: detector × vehicle use/class × severity → action."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from changan.kit.db import Base, UTCDateTime


class PolicyRow(Base):
    """One rule. Empty match fields match anything; the most specific matching row wins."""

    __tablename__ = "detection_policies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    detector: Mapped[str] = mapped_column(String(32), index=True)
    rule: Mapped[str | None] = mapped_column(String(32))
    vehicle_use: Mapped[str | None] = mapped_column(String(16))
    vehicle_group: Mapped[str | None] = mapped_column(String(24))  # small_passenger | other | key
    severity: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))  # alert | violation | both | statistic
    priority: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(64))
    instruction: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
