"""HTTP endpoints of alerts and tasks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from changan.alerts import service as alerts
from changan.alerts.service import alert_summary
from changan.dispatch import service as dispatch
from changan.dispatch.service import task_summary
from changan.web.deps import Ctx, CurrentActor

router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.get("/alerts", summary="预警列表")
def list_alerts(ctx: Ctx, actor: CurrentActor, status: str | None = None) -> list[dict[str, Any]]:
    with ctx.reader() as session:
        return [alert_summary(a) for a in alerts.list_alerts(session, actor, status=status)]


@router.get("/alerts/{alert_id}", summary="预警详情")
def get_alert(alert_id: str, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    with ctx.reader() as session:
        return alert_summary(alerts.get_alert(session, actor, alert_id))


@router.get("/tasks", summary="拦截指令列表")
def list_tasks(
    ctx: Ctx, actor: CurrentActor, station_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    with ctx.reader() as session:
        return [
            task_summary(t) for t in dispatch.list_tasks(session, actor, station_id=station_id, status=status)
        ]


@router.post("/tasks/{task_id}/acknowledge", summary="签收拦截指令")
def acknowledge(task_id: str, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    with ctx.uow() as session:
        return task_summary(dispatch.acknowledge(session, actor, task_id, now=ctx.clock()))


class CloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(description="intercepted, not_found, passed, cancelled or other")
    note: str = Field(default="", max_length=256)


@router.post("/tasks/{task_id}/close", summary="反馈拦截结果并办结")
def close(task_id: str, body: CloseBody, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    with ctx.uow() as session:
        return task_summary(
            dispatch.close(session, actor, task_id, outcome=body.outcome, note=body.note, now=ctx.clock())
        )
