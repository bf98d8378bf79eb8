"""Watchlist entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from changan.kit.db import Base, UTCDateTime


class WatchlistEntry(Base):
    __tablename__ = "watchlist_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plate_no: Mapped[str] = mapped_column(String(32), index=True)  # the plate, or the pattern
    # exact: the plate; pattern: `*` any run of characters, `?` one character (鲁P*8?5)
    match_mode: Mapped[str] = mapped_column(String(8), default="exact", server_default="exact")
    plate_class: Mapped[str | None] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(256))
    priority: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)  # active | revoked
    jurisdiction: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
