"""HTTP endpoints of temporary speed limits."""

from __future__ import annotations

from fastapi import APIRouter

from changan.limits import service
from changan.limits.schemas import LimitCreate, LimitOut, LimitStatus
from changan.web.deps import Ctx, CurrentActor

router = APIRouter(prefix="/api/v1/speed-limits", tags=["speed-limits"])


@router.get("", response_model=list[LimitOut], summary="临时限速列表")
def list_limits(
    ctx: Ctx, actor: CurrentActor, status: LimitStatus | None = None, road_id: str | None = None
) -> list[LimitOut]:
    now = ctx.clock()
    with ctx.reader() as session:
        rows = service.list_limits(session, actor, now=now, status=status, road_id=road_id)
        return [LimitOut.of(r, now) for r in rows]


@router.post("", response_model=LimitOut, status_code=201, summary="设置临时限速")
def create_limit(data: LimitCreate, ctx: Ctx, actor: CurrentActor) -> LimitOut:
    now = ctx.clock()
    with ctx.uow() as session:
        row = service.create_limit(session, actor, data, network=ctx.network, now=now)
        return LimitOut.of(row, now)


@router.post("/{limit_id}/revoke", response_model=LimitOut, summary="撤销临时限速")
def revoke_limit(limit_id: str, ctx: Ctx, actor: CurrentActor) -> LimitOut:
    now = ctx.clock()
    with ctx.uow() as session:
        return LimitOut.of(service.revoke_limit(session, actor, limit_id, now=now), now)
