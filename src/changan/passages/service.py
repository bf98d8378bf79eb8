"""Searching passage data. Every search by a person states a purpose and is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from changan.auth.audit import record
from changan.auth.principal import Actor, Role
from changan.kit.errors import Unprocessable
from changan.passages.models import Passage
from changan.plates import read_plate

SEARCHERS = (Role.ANALYST, Role.COMMANDER, Role.OFFICER)


def search(
    session: Session,
    actor: Actor,
    *,
    purpose: str,
    case_no: str | None = None,
    plate_no: str | None = None,
    site_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    now: datetime,
) -> list[Passage]:
    actor.require(*SEARCHERS, action="查询过车记录")
    if not purpose or len(purpose.strip()) < 2:
        msg = "查询过车记录须说明用途（至少 2 个字）"
        raise Unprocessable(msg, field="purpose")
    if plate_no is None and site_id is None:
        msg = "须给出号牌或卡口点位之一"
        raise Unprocessable(msg, field="plate_no")
    if since is not None and until is not None and until <= since:
        msg = "结束时间须晚于开始时间"
        raise Unprocessable(msg, field="until")
    stmt = select(Passage).order_by(Passage.pass_time.desc()).limit(min(max(limit, 1), 1000))
    criteria: dict[str, Any] = {}
    if plate_no is not None:
        text = read_plate(plate_no).text
        stmt = stmt.where(Passage.plate_no == text)
        criteria["plate_no"] = text
    if site_id is not None:
        stmt = stmt.where(Passage.site_id == site_id)
        criteria["site_id"] = site_id
    if since is not None:
        stmt = stmt.where(Passage.pass_time >= since)
        criteria["since"] = since.isoformat()
    if until is not None:
        stmt = stmt.where(Passage.pass_time < until)
        criteria["until"] = until.isoformat()
    rows = list(session.scalars(stmt))
    record(
        session,
        actor,
        "passages.search",
        ",".join(f"{k}={v}" for k, v in criteria.items()),
        now=now,
        purpose=purpose.strip(),
        case_no=case_no,
        detail={**criteria, "results": len(rows)},
    )
    return rows
