"""HTTP endpoints of the policy table (处置策略)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from changan.engine.catalogue import detector_names
from changan.policy import service
from changan.policy.service import PolicySet
from changan.web.deps import Ctx, CurrentActor

router = APIRouter(prefix="/api/v1/policies", tags=["policies"])


@router.get("", summary="处置策略（生效中的全部规则）")
def list_policies(ctx: Ctx, actor: CurrentActor) -> list[dict[str, Any]]:
    with ctx.reader() as session:
        return service.effective(session, actor)


@router.put("", summary="设置一条处置策略（同匹配条件的规则被替换）")
def set_policy(data: PolicySet, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    with ctx.uow() as session:
        row = service.set_policy(session, actor, data, known_detectors=detector_names(), now=ctx.clock())
        return {"id": row.id, **data.model_dump()}


@router.delete("/{policy_id}", status_code=204, summary="删除一条已存的处置策略（恢复默认）")
def delete_policy(policy_id: str, ctx: Ctx, actor: CurrentActor) -> None:
    with ctx.uow() as session:
        service.delete_policy(session, actor, policy_id, now=ctx.clock())
