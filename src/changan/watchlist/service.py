"""Create, list and revoke watchlist entries. Every change is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from changan.auth.audit import record
from changan.auth.principal import Actor, Role
from changan.auth.scope import within
from changan.engine.detectors.watchlist import PATTERN, WatchlistConfig, normalise_pattern, pattern_problem
from changan.kit.errors import Conflict, NotFound, Unprocessable
from changan.kit.ids import new_id
from changan.plates import PlateClass, read_plate
from changan.watchlist.models import WatchlistEntry
from changan.watchlist.schemas import EntryCreate

EDITORS = (Role.COMMANDER, Role.APPROVER)
READERS = (Role.COMMANDER, Role.APPROVER, Role.ANALYST, Role.OFFICER, Role.AUDITOR, Role.READONLY)
PATTERN_MIN_FIXED_CHARS = WatchlistConfig().pattern_min_fixed_chars
"""Default for the fixed characters a pattern needs (engine.detectors.watchlist.pattern_min_fixed_chars)."""


def create_entry(
    session: Session,
    actor: Actor,
    data: EntryCreate,
    *,
    now: datetime,
    pattern_min_fixed_chars: int = PATTERN_MIN_FIXED_CHARS,
) -> WatchlistEntry:
    actor.require(*EDITORS, action="添加布控")
    plate_no = _plate_or_pattern(data, pattern_min_fixed_chars)
    plate_class = None
    if data.plate_class is not None:
        try:
            plate_class = PlateClass.parse(data.plate_class).value
        except ValueError as exc:
            raise Unprocessable(str(exc), field="plate_class") from None
    valid_from = data.valid_from or now
    if data.valid_until is not None and data.valid_until <= valid_from:
        msg = "失效时间须晚于生效时间"
        raise Unprocessable(msg, field="valid_until")
    entry = WatchlistEntry(
        id=new_id(),
        plate_no=plate_no,
        match_mode=data.match_mode,
        plate_class=plate_class,
        reason=data.reason,
        priority=data.priority,
        valid_from=valid_from,
        valid_until=data.valid_until,
        status="active",
        jurisdiction=actor.jurisdiction,
        created_by=actor.username,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    record(
        session,
        actor,
        "watchlist.create",
        f"entry:{entry.id}",
        now=now,
        detail={
            "plate_no": entry.plate_no,
            "match_mode": entry.match_mode,
            "plate_class": plate_class,
            "reason": data.reason,
        },
    )
    return entry


def _plate_or_pattern(data: EntryCreate, min_fixed_chars: int) -> str:
    """The plate as stored (normalised), or the pattern; errors name ``plate_no``."""
    if data.match_mode == PATTERN:
        text = normalise_pattern(data.plate_no)
        problem = pattern_problem(text, min_fixed_chars)
        if problem is not None:
            msg = f"模式 {data.plate_no} 无效：{problem}"
            raise Unprocessable(msg, field="plate_no")
        return text
    read = read_plate(data.plate_no)
    if not read.valid:
        reason = read.reason or "不是可布控的完整号牌"
        msg = f"号牌 {data.plate_no} 无效：{reason}"
        if "*" in data.plate_no or "?" in data.plate_no:
            msg += "（含通配符的号牌请用模糊布控 pattern）"
        raise Unprocessable(msg, field="plate_no")
    return read.text


def list_entries(session: Session, actor: Actor, *, status: str | None = None) -> list[WatchlistEntry]:
    actor.require(*READERS, action="查看布控")
    stmt = (
        select(WatchlistEntry)
        .where(within(actor, WatchlistEntry.jurisdiction))
        .order_by(WatchlistEntry.created_at.desc())
    )
    if status is not None:
        stmt = stmt.where(WatchlistEntry.status == status)
    return list(session.scalars(stmt))


def revoke_entry(session: Session, actor: Actor, entry_id: str, *, now: datetime) -> WatchlistEntry:
    actor.require(*EDITORS, action="撤销布控")
    entry = session.get(WatchlistEntry, entry_id)
    if entry is None or not actor.sees(entry.jurisdiction):
        msg = f"布控 {entry_id} 不存在"
        raise NotFound(msg, field="entry_id")
    if entry.status != "active":
        msg = f"布控 {entry_id} 已是 {entry.status} 状态"
        raise Conflict(msg)
    entry.status = "revoked"
    entry.revoked_by = actor.username
    entry.revoked_at = now
    entry.updated_at = now
    session.flush()
    record(
        session, actor, "watchlist.revoke", f"entry:{entry.id}", now=now, detail={"plate_no": entry.plate_no}
    )
    return entry
