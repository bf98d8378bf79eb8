"""Writing to and reading from the passage log.

The reader's position is ``(xid, seq)``. On SQLite writers are serialised by
the database, so ``seq`` order is commit order and ``xid`` stays 0. On
PostgreSQL concurrent ingest transactions may commit out of ``seq`` order; the
reader therefore only reads rows written by transactions older than the oldest
one still in flight (``pg_snapshot_xmin``) and orders them by ``(xid, seq)``.
A row that becomes visible later always has ``xid`` at or above that horizon,
so it sorts after the position and is never skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, and_, func, literal_column, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from changan.passages.models import Passage


@dataclass(frozen=True, slots=True)
class LogPosition:
    xid: int = 0
    seq: int = 0


def insert_batch(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert passages, ignoring ones already stored under the same (source, external_id).

    Returns the number inserted; the rest were duplicates.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(Passage).on_conflict_do_nothing(index_elements=["source", "external_id"])
    else:
        stmt = sqlite.insert(Passage).on_conflict_do_nothing(index_elements=["source", "external_id"])
    result = session.execute(stmt.returning(Passage.seq), list(rows))
    return len(result.all())


def read_after(session: Session, position: LogPosition, limit: int) -> list[Passage]:
    """The next committed passages after ``position``, in log order, at most ``limit``."""
    if session.get_bind().dialect.name == "postgresql":
        horizon = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", type_=BigInteger)
        stmt = (
            select(Passage)
            .where(
                or_(
                    Passage.xid > position.xid, and_(Passage.xid == position.xid, Passage.seq > position.seq)
                ),
                Passage.xid < horizon,
            )
            .order_by(Passage.xid, Passage.seq)
            .limit(limit)
        )
    else:
        stmt = select(Passage).where(Passage.seq > position.seq).order_by(Passage.seq).limit(limit)
    return list(session.scalars(stmt))


def position_of(passage: Passage) -> LogPosition:
    return LogPosition(xid=passage.xid or 0, seq=passage.seq)


def backlog(session: Session, position: LogPosition) -> int:
    """How many stored passages lie after ``position`` (for metrics and the demo's counters)."""
    if session.get_bind().dialect.name == "postgresql":
        cond = or_(Passage.xid > position.xid, and_(Passage.xid == position.xid, Passage.seq > position.seq))
    else:
        cond = Passage.seq > position.seq
    return int(session.scalar(select(func.count()).select_from(Passage).where(cond)) or 0)
