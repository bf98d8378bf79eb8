"""The local copy of the vehicle registry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from changan.kit.db import Base, UTCDateTime


class RegistryRow(Base):
    """One registered vehicle, keyed by its vehicle key (plate class + plate number)."""

    __tablename__ = "vehicle_registry"

    vehicle_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    plate_no: Mapped[str] = mapped_column(String(32), index=True)
    plate_class: Mapped[str] = mapped_column(String(2))
    vehicle_class: Mapped[str | None] = mapped_column(String(8))  # GA 24.4, e.g. K33
    use: Mapped[str | None] = mapped_column(String(16))  # 使用性质
    body_colour: Mapped[str | None] = mapped_column(String(8))  # GA 24.8 code
    brand: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(128))  # file or service it came from
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
