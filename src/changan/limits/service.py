"""Create, list and revoke temporary speed limits (团雾、施工 …). Every change is audited.

The traffic police may limit speed on a highway (山东省高速公路交通安全条例 Art. 34);
in low visibility the drivers' own limits of 条例 Art. 81 apply besides. A limit covers
one carriageway from ``from_node`` to ``to_node`` (see :mod:`changan.limits.index` for
the sites it covers) during ``[valid_from, valid_until)``; a revoked limit stops at
its revocation time. Commanders (and administrators) create and revoke limits; any
signed-in user may read them. Limits are network-wide data: they carry no jurisdiction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from changan.auth.audit import record
from changan.auth.principal import Actor, Role
from changan.kit.errors import Conflict, NotFound, Unprocessable
from changan.kit.ids import new_id
from changan.limits.index import StretchError, stretch_path
from changan.limits.models import SpeedLimit
from changan.limits.schemas import LimitCreate, LimitStatus, status_of
from changan.network import Network

EDITORS = (Role.COMMANDER,)  # administrators hold every role


def create_limit(
    session: Session, actor: Actor, data: LimitCreate, *, network: Network, now: datetime
) -> SpeedLimit:
    actor.require(*EDITORS, action="设置临时限速")
    try:
        stretch_path(network, data.road_id, data.from_node, data.to_node)
    except StretchError as exc:
        raise Unprocessable(str(exc), field=exc.field) from None
    valid_from = data.valid_from or now
    if data.valid_until is not None and data.valid_until <= valid_from:
        msg = "失效时间须晚于生效时间"
        raise Unprocessable(msg, field="valid_until")
    row = SpeedLimit(
        id=new_id(),
        road_id=data.road_id,
        from_node=data.from_node,
        to_node=data.to_node,
        limit_kmh=data.limit_kmh,
        valid_from=valid_from,
        valid_until=data.valid_until,
        reason=data.reason,
        created_by=actor.username,
        created_at=now,
        revoked_at=None,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor,
        "speed_limit.create",
        f"speed_limit:{row.id}",
        now=now,
        detail={
            "road_id": row.road_id,
            "from_node": row.from_node,
            "to_node": row.to_node,
            "limit_kmh": row.limit_kmh,
            "valid_from": valid_from.isoformat(),
            "valid_until": data.valid_until.isoformat() if data.valid_until else None,
            "reason": row.reason,
        },
    )
    return row


def list_limits(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    status: LimitStatus | None = None,
    road_id: str | None = None,
) -> list[SpeedLimit]:
    """Limits, newest first; any signed-in user may read them (``actor`` is authenticated by the caller)."""
    stmt = select(SpeedLimit).order_by(SpeedLimit.created_at.desc(), SpeedLimit.id)
    if road_id is not None:
        stmt = stmt.where(SpeedLimit.road_id == road_id)
    live = SpeedLimit.revoked_at.is_(None)
    ended = and_(SpeedLimit.valid_until.is_not(None), SpeedLimit.valid_until <= now)
    if status == "revoked":
        stmt = stmt.where(SpeedLimit.revoked_at.is_not(None))
    elif status == "expired":
        stmt = stmt.where(live, ended)
    elif status == "scheduled":
        stmt = stmt.where(live, SpeedLimit.valid_from > now)
    elif status == "active":
        stmt = stmt.where(
            live,
            SpeedLimit.valid_from <= now,
            or_(SpeedLimit.valid_until.is_(None), SpeedLimit.valid_until > now),
        )
    return list(session.scalars(stmt))


def revoke_limit(session: Session, actor: Actor, limit_id: str, *, now: datetime) -> SpeedLimit:
    actor.require(*EDITORS, action="撤销临时限速")
    row = session.get(SpeedLimit, limit_id)
    if row is None:
        msg = f"临时限速 {limit_id} 不存在"
        raise NotFound(msg, field="limit_id")
    status = status_of(row, now)
    if status in ("revoked", "expired"):
        msg = f"临时限速 {limit_id} 已{'撤销' if status == 'revoked' else '失效'}"
        raise Conflict(msg)
    row.revoked_at = now
    row.updated_at = now
    session.flush()
    record(
        session,
        actor,
        "speed_limit.revoke",
        f"speed_limit:{row.id}",
        now=now,
        detail={"road_id": row.road_id, "limit_kmh": row.limit_kmh},
    )
    return row
