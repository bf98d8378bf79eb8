"""Database access: engine factory, declarative base, UTC datetime type, unit of work.

SQLite (embedded default) runs in WAL mode with ``synchronous=FULL`` so that a
committed transaction is on disk before we acknowledge; PostgreSQL keeps its
durable defaults. Services ``flush()`` and never ``commit()``: the edge (request
dependency, worker loop, CLI command) owns the transaction via :func:`unit_of_work`.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on every backend. Naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given to a UTC column"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the durability settings changan relies on."""
    if is_sqlite(url):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool if path in ("", ":memory:") else None,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if path and path != ":memory:":
            queue = _WriterQueue(Path(path + ".writers"))
            event.listen(engine, "begin", queue.begin)
            event.listen(engine, "commit", queue.end)
            event.listen(engine, "rollback", queue.end)
            event.listen(engine, "checkin", queue.checkin)
        else:
            event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin) so that write
    # transactions take the lock up front and SERIALIZABLE semantics hold.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # The passage indexes outgrow SQLite's 2 MiB default page cache within a day of traffic.
    cur.execute("PRAGMA cache_size=-65536")  # KiB: 64 MiB per connection
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _readonly(conn: Any) -> bool:
    return bool(conn.get_execution_options().get("changan_readonly", False))


def _sqlite_begin(conn: Any) -> None:
    # Writers take the write lock up front (no failed lock upgrade under
    # concurrency); read-only sessions begin deferred so they never queue
    # behind writers (WAL readers see the last committed snapshot).
    conn.exec_driver_sql("BEGIN" if _readonly(conn) else "BEGIN IMMEDIATE")


class _WriterQueue:
    """Writers to one SQLite file, in any thread or process, queue on an OS file lock.

    SQLite itself makes a blocked writer poll with growing sleeps (its busy
    handler), which is unfair and slow when several ingest workers and the
    engine write at once. Taking an exclusive ``flock`` before ``BEGIN
    IMMEDIATE`` makes them wait their turn instead; the lock is released at
    commit or rollback (and, as a safety net, when the connection returns to
    the pool). Read-only sessions take no lock. Consequence: a thread must not
    open a second write session while its first is still open (it would wait
    for itself); every unit of work in changan is one session.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def begin(self, conn: Any) -> None:
        if _readonly(conn):
            _sqlite_begin(conn)
            return
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _sqlite_begin(conn)
        except BaseException:
            os.close(fd)
            raise
        conn.info["changan_writer_fd"] = fd

    def end(self, conn: Any) -> None:
        self._release(conn.info)

    def checkin(self, _dbapi_conn: Any, record: Any) -> None:
        self._release(record.info)

    @staticmethod
    def _release(info: dict[str, Any]) -> None:
        fd = info.pop("changan_writer_fd", None)
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


def make_sessionmaker(engine: Engine, *, readonly: bool = False) -> sessionmaker[Session]:
    """Sessions for read-write units of work, or (``readonly``) for queries that write nothing."""
    bind = engine.execution_options(changan_readonly=True) if readonly else engine
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit on success, roll back on error; after-commit hooks run via the outbox dispatcher."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
