"""Transactional outbox: messages that may leave only after the transaction that produced them commits.

A producer calls :func:`enqueue` inside its unit of work; the idempotency key
makes a retried transaction harmless. A dispatcher (:class:`OutboxDispatcher`)
reads unsent rows in order, hands each to the subscribers, then marks it sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from changan.kit.clock import Clock, utc_now
from changan.kit.db import Base, JSONType, UTCDateTime
from changan.kit.logging import get_logger

log = get_logger(__name__)


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


def enqueue(session: Session, topic: str, key: str, payload: dict[str, Any], *, now: datetime) -> None:
    """Queue a message in the current transaction; a second enqueue with the same key is ignored."""
    values = {"topic": topic, "key": key, "payload": payload, "created_at": now}
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - only two backends are supported
        stmt = insert(OutboxMessage).values(values)
    session.execute(stmt)


Subscriber = Callable[[str, dict[str, Any]], None]


class OutboxDispatcher:
    """Deliver committed outbox messages to in-process subscribers (live push, adapters)."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock = utc_now) -> None:
        self._factory = factory
        self._clock = clock
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def dispatch_once(self, limit: int = 500) -> int:
        """Deliver up to ``limit`` unsent messages in order; returns how many were delivered."""
        with self._factory() as session, session.begin():
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.id)
                .limit(limit)
            ).all()
            for row in rows:
                for subscriber in self._subscribers:
                    try:
                        subscriber(row.topic, row.payload)
                    except Exception as exc:  # a subscriber's failure must not block the others
                        log.error("outbox.subscriber_failed", topic=row.topic, key=row.key, error=str(exc))
            if rows:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([r.id for r in rows]))
                    .values(sent_at=self._clock())
                )
            return len(rows)
