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
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from psycopg.types.json import Jsonb
from sqlalchemy import BigInteger, Connection, and_, literal_column, or_, select
from sqlalchemy.orm import Session

from changan.kit.db import UTCDateTime
from changan.passages.models import Passage


@dataclass(frozen=True, slots=True)
class LogPosition:
    xid: int = 0
    seq: int = 0


def insert_batch(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert passages, ignoring ones already stored under the same (source, external_id).

    Returns the number inserted; the rest were duplicates. This is the ingest
    hot path, so it goes below the ORM: on SQLite one prepared ``executemany``
    (counted by ``total_changes``); on PostgreSQL ``COPY`` into a temporary
    table, then one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` in batch order.
    """
    if not rows:
        return 0
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        return _insert_sqlite(connection, rows)
    return _insert_postgres(connection, rows)


_TABLE = Passage.metadata.tables["passages"]
_COLUMNS = [c.name for c in _TABLE.columns if c.name not in ("seq", "xid")]
_SQLITE_INSERT = (
    f"INSERT INTO passages ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (source, external_id) DO NOTHING"
)


def _sqlite_time(value: datetime) -> str:
    # The storage format of SQLAlchemy's SQLite DATETIME, in UTC (see kit.db.UTCDateTime).
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


_TIME_COLUMNS = [i for i, name in enumerate(_COLUMNS) if isinstance(_TABLE.c[name].type, UTCDateTime)]
_IMAGES = _COLUMNS.index("images")
_PICK = itemgetter(*_COLUMNS)


def _insert_sqlite(connection: Connection, rows: Sequence[dict[str, Any]]) -> int:
    formatted: dict[datetime, str] = {}  # received_at is shared by a whole batch
    params = []
    for row in rows:
        values = list(_PICK(row))
        for i in _TIME_COLUMNS:
            t = values[i]
            text = formatted.get(t)
            if text is None:
                text = formatted[t] = _sqlite_time(t)
            values[i] = text
        values[_IMAGES] = orjson.dumps(values[_IMAGES]).decode() if values[_IMAGES] else "[]"
        params.append(values)
    raw = connection.connection.driver_connection
    assert raw is not None
    before = raw.total_changes
    raw.executemany(_SQLITE_INSERT, params)
    return int(raw.total_changes - before)


_PG_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS passages_in ON COMMIT DELETE ROWS AS "
    f"SELECT 0::int AS ord, {', '.join(_COLUMNS)} FROM passages WITH NO DATA"
)


def _insert_postgres(connection: Connection, rows: Sequence[dict[str, Any]]) -> int:
    raw = connection.connection.driver_connection
    assert raw is not None
    columns = ", ".join(_COLUMNS)
    with raw.cursor() as cur:
        cur.execute(_PG_STAGE)
        cur.execute("TRUNCATE passages_in")
        with cur.copy(f"COPY passages_in (ord, {columns}) FROM STDIN") as copy:
            for n, row in enumerate(rows):
                values = list(_PICK(row))
                values[_IMAGES] = Jsonb(values[_IMAGES] or [])
                copy.write_row((n, *values))
        cur.execute(
            f"INSERT INTO passages ({columns}) SELECT {columns} FROM passages_in ORDER BY ord "
            "ON CONFLICT (source, external_id) DO NOTHING"
        )
        return int(cur.rowcount)


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
