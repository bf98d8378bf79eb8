"""The audit log: append-only and hash-chained, so that a changed or removed record shows.

Every search of passage data by a person is recorded with who, when, what and
the stated purpose; every change to watchlists and users too.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from changan.auth.models import AuditRecord
from changan.auth.principal import Actor

GENESIS = "0" * 64


def _digest(
    prev: str,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    purpose: str | None,
    case_no: str | None,
    detail: dict[str, Any],
) -> str:
    body = json.dumps(
        [prev, at.isoformat(), actor, action, target, purpose, case_no, detail],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    *,
    now: datetime,
    purpose: str | None = None,
    case_no: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one audit record in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # One writer at a time extends the chain.
        session.execute(text("SELECT pg_advisory_xact_lock(7140001)"))
    prev = session.scalar(select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)) or GENESIS
    detail = detail or {}
    rec = AuditRecord(
        at=now,
        actor=actor.username,
        action=action,
        target=target,
        purpose=purpose,
        case_no=case_no,
        detail=detail,
        prev_hash=prev,
        hash=_digest(prev, now, actor.username, action, target, purpose, case_no, detail),
    )
    session.add(rec)
    session.flush()
    return rec


def verify_chain(session: Session) -> tuple[bool, int | None]:
    """Recompute the chain; returns (ok, id of the first bad record)."""
    prev = GENESIS
    for rec in session.scalars(select(AuditRecord).order_by(AuditRecord.id)):
        expected = _digest(
            prev, rec.at, rec.actor, rec.action, rec.target, rec.purpose, rec.case_no, rec.detail
        )
        if rec.prev_hash != prev or rec.hash != expected:
            return False, rec.id
        prev = rec.hash
    return True, None
