"""Importing the registry (idempotent upserts in batches) and looking one vehicle up (audited).

An import is admin-only. Rows are normalised by :mod:`changan.registry.importer`; valid ones are
written in batches of ``batch_size``, each in its own transaction (``uow``), so that a large import
never holds the SQLite write lock for long and a failed import can simply be run again: a row
already stored with the same values is left untouched (``unchanged``, and ``updated_at`` does not
move, so :meth:`MemoryRegistry.version` only changes when the data does).

A lookup by a person reads personal data (the owner or operator), so like a passage search it
requires a stated purpose and is written to the audit log, found or not.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from changan.auth.audit import record as audit
from changan.auth.principal import Actor, Role
from changan.engine.context import RegistryRecord
from changan.kit.clock import Clock
from changan.kit.errors import Unprocessable
from changan.kit.logging import get_logger
from changan.plates import PlateError, VehicleKey
from changan.registry.importer import (
    FIELDS,
    ImportFormatError,
    Issue,
    RawRow,
    RegistryFile,
    RowResult,
    read_rows,
)
from changan.registry.models import RegistryRow

log = get_logger(__name__)

IMPORTERS = (Role.ADMIN,)
READERS = (Role.ANALYST, Role.COMMANDER, Role.OFFICER)
DEFAULT_BATCH = 1_000

UnitOfWork = Callable[[], AbstractContextManager[Session]]
Progress = Callable[[int, int], None]
"""Called with (done, total) in the file's unit (bytes or rows) after each batch."""

_TABLE = RegistryRow.metadata.tables["vehicle_registry"]
_DATA = FIELDS  # the compared columns: everything but the key, the source and the time


@dataclass
class ImportReport:
    """What an import did: counts, and every issue with its row and field."""

    source: str
    format: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    issues: list[Issue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def to_dict(self, *, max_issues: int | None = None) -> dict[str, Any]:
        shown = self.issues if max_issues is None else self.issues[:max_issues]
        return {
            "source": self.source,
            "format": self.format,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "warnings": len(self.warnings),
            "ignored_columns": self.ignored_columns,
            "issues": [i.to_dict() for i in shown],
            "issues_total": len(self.issues),
            "issues_truncated": len(shown) < len(self.issues),
        }

    def write_issues(self, path: Path) -> None:
        """The issues as CSV (UTF-8 with BOM, so that Excel shows the Chinese)."""
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["row", "field", "severity", "reason", "value"])
            for i in self.issues:
                out.writerow([i.row, i.field, i.severity, i.reason, i.value or ""])


def _values(r: RegistryRecord) -> tuple[str | None, ...]:
    return (r.plate_no, r.plate_class, r.vehicle_class, r.use, r.body_colour, r.brand, r.model, r.operator)


def upsert_batch(
    session: Session, records: Iterable[RegistryRecord], *, source: str, now: datetime
) -> tuple[int, int, int]:
    """Write records (unique keys); returns (inserted, updated, unchanged).

    Rows already stored with equal values are not written. The write is an
    ``INSERT … ON CONFLICT (vehicle_key) DO UPDATE``, so a concurrent import of the same keys
    cannot fail on a duplicate key. On PostgreSQL the batch is COPied into a staging table and
    upserted in one statement whose ``WHERE … IS DISTINCT FROM`` skips equal rows and whose
    ``RETURNING (xmax = 0)`` tells inserts from updates (looking the keys up first was planned as a
    sequential scan on a freshly loaded table, without statistics, and made a 200 000-row import
    crawl). SQLite looks the batch's keys up through the primary key first.
    """
    by_key = {r.vehicle_key: r for r in records}
    if not by_key:
        return 0, 0, 0
    rows = [
        {
            "vehicle_key": key,
            **dict(zip(_DATA, _values(rec), strict=True)),
            "source": source,
            "updated_at": now,
        }
        for key, rec in by_key.items()
    ]
    if session.get_bind().dialect.name == "postgresql":
        return _upsert_postgres(session, rows)
    return _upsert_sqlite(session, rows)


_WRITTEN = (*_DATA, "source", "updated_at")


_PG_COLUMNS = ("vehicle_key", *_WRITTEN)
_PG_LIST = ", ".join(f'"{c}"' for c in _PG_COLUMNS)
_PG_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS vehicle_registry_in ON COMMIT DELETE ROWS AS "
    f"SELECT {_PG_LIST} FROM vehicle_registry WITH NO DATA"
)
_PG_UPSERT = (
    f"INSERT INTO vehicle_registry ({_PG_LIST}) SELECT {_PG_LIST} FROM vehicle_registry_in "
    "ON CONFLICT (vehicle_key) DO UPDATE SET "
    + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in _WRITTEN)
    + " WHERE ("
    + ", ".join(f'vehicle_registry."{c}"' for c in _DATA)
    + ") IS DISTINCT FROM ("
    + ", ".join(f'EXCLUDED."{c}"' for c in _DATA)
    + ") RETURNING (xmax = 0)"
)


def _upsert_postgres(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int, int]:
    # COPY into a per-connection staging table, then one upsert (as the passage log does).
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(_PG_STAGE)
        cur.execute("TRUNCATE vehicle_registry_in")
        with cur.copy(f"COPY vehicle_registry_in ({_PG_LIST}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in _PG_COLUMNS])
        cur.execute(_PG_UPSERT)
        flags = [bool(f) for (f,) in cur.fetchall()]
    inserted = sum(flags)
    return inserted, len(flags) - inserted, len(rows) - len(flags)


def _upsert_sqlite(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int, int]:
    key = _TABLE.c.vehicle_key
    columns = [_TABLE.c[name] for name in _DATA]
    stored = {
        k: tuple(values)
        for k, *values in session.connection().execute(
            select(key, *columns).where(key.in_([r["vehicle_key"] for r in rows]))
        )
    }
    changed = []
    inserted = updated = 0
    for row in rows:
        old = stored.get(row["vehicle_key"])
        if old is None:
            inserted += 1
        elif old == tuple(row[name] for name in _DATA):
            continue
        else:
            updated += 1
        changed.append(row)
    if changed:
        stmt = sqlite.insert(_TABLE)
        stmt = stmt.on_conflict_do_update(
            index_elements=[key], set_={name: stmt.excluded[name] for name in _WRITTEN}
        )
        session.connection().execute(stmt, changed)  # Core executemany: no per-row ORM work
    return inserted, updated, len(rows) - len(changed)


def import_rows(
    uow: UnitOfWork,
    actor: Actor,
    rows: Iterator[RawRow],
    *,
    source: str,
    fmt: str,
    clock: Clock,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[], None] | None = None,
) -> ImportReport:
    """Normalise and upsert rows in batches; the report lists every rejected row and warning."""
    actor.require(*IMPORTERS, action="导入车辆登记")
    if batch_size < 1:
        msg = "batch_size 须为正整数"
        raise ValueError(msg)
    report = ImportReport(source=source, format=fmt)
    first_row: dict[str, int] = {}  # vehicle key → row that first gave it, for duplicate warnings
    batch: dict[str, RegistryRecord] = {}

    def flush() -> None:
        if not batch:
            return
        with uow() as session:
            ins, upd, same = upsert_batch(session, batch.values(), source=source, now=clock())
        report.inserted += ins
        report.updated += upd
        report.unchanged += same
        batch.clear()
        if progress is not None:
            progress()

    for result in read_rows(rows):
        report.rows += 1
        report.issues.extend(result.issues)
        rec = result.record
        if rec is None:
            report.rejected += 1
            continue
        report.accepted += 1
        earlier = first_row.get(rec.vehicle_key)
        if earlier is None:
            first_row[rec.vehicle_key] = result.row
        else:
            report.duplicates += 1
            report.issues.append(_duplicate(result, earlier))
        batch[rec.vehicle_key] = rec
        if len(batch) >= batch_size:
            flush()
    flush()
    with uow() as session:
        audit(
            session,
            actor,
            "registry.import",
            f"registry:{source}",
            now=clock(),
            detail={k: v for k, v in report.to_dict(max_issues=0).items() if k not in ("issues",)},
        )
    log.info(
        "registry.imported",
        source=source,
        rows=report.rows,
        accepted=report.accepted,
        rejected=report.rejected,
        inserted=report.inserted,
        updated=report.updated,
        unchanged=report.unchanged,
    )
    return report


def _duplicate(result: RowResult, earlier: int) -> Issue:
    assert result.record is not None
    return Issue(
        result.row,
        "vehicle_key",
        f"与第 {earlier} 行是同一车辆（{result.record.vehicle_key}），以后出现的一行为准",
        "warning",
        result.record.vehicle_key,
    )


def import_file(
    uow: UnitOfWork,
    actor: Actor,
    path: Path,
    *,
    clock: Clock,
    source: str | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one file (CSV, JSON lines or Parquet); ``source`` defaults to the file name.

    Raises:
        Unprocessable: the file as a whole cannot be read (``field`` names format, header …).
    """
    actor.require(*IMPORTERS, action="导入车辆登记")
    try:
        registry_file = RegistryFile(path, fmt, encoding=encoding)
    except ImportFormatError as exc:
        raise Unprocessable(exc.message, field=exc.field) from None
    with registry_file:
        tick = None
        if progress is not None:
            report_progress = progress

            def tick() -> None:
                report_progress(registry_file.done(), registry_file.total)

        try:
            report = import_rows(
                uow,
                actor,
                iter(registry_file),
                source=source or path.name,
                fmt=registry_file.format,
                clock=clock,
                batch_size=batch_size,
                progress=tick,
            )
        except ImportFormatError as exc:
            raise Unprocessable(exc.message, field=exc.field) from None
        report.ignored_columns = registry_file.ignored_columns
        if progress is not None:
            progress(registry_file.total, registry_file.total)
    return report


def record_of(row: RegistryRow) -> RegistryRecord:
    """The engine's view of a stored row."""
    return RegistryRecord(
        vehicle_key=row.vehicle_key,
        plate_no=row.plate_no,
        plate_class=row.plate_class,
        vehicle_class=row.vehicle_class,
        use=row.use,
        body_colour=row.body_colour,
        brand=row.brand,
        model=row.model,
        operator=row.operator,
    )


def parse_key(vehicle_key: str) -> str:
    """A vehicle key from user input in canonical form (``2:鲁p12345`` → ``02:鲁P12345``).

    Raises:
        Unprocessable: with field ``vehicle_key``.
    """
    try:
        return str(VehicleKey.parse(vehicle_key))
    except PlateError as exc:
        raise Unprocessable(exc.message, field="vehicle_key", code="invalid") from None


def lookup(
    session: Session,
    actor: Actor,
    vehicle_key: str,
    *,
    purpose: str,
    case_no: str | None = None,
    now: datetime,
) -> RegistryRow | None:
    """One vehicle's registration, by a person: the purpose is required and the read is audited.

    Returns None when the vehicle is not in the registry (the audit record is written either way;
    the caller must commit before answering 404).
    """
    actor.require(*READERS, action="查询车辆登记信息")
    if not purpose or len(purpose.strip()) < 2:
        msg = "查询车辆登记信息须说明用途（至少 2 个字）"
        raise Unprocessable(msg, field="purpose")
    key = parse_key(vehicle_key)
    row = session.get(RegistryRow, key)
    audit(
        session,
        actor,
        "registry.lookup",
        f"vehicle_key={key}",
        now=now,
        purpose=purpose.strip(),
        case_no=case_no,
        detail={"vehicle_key": key, "found": row is not None},
    )
    return row
