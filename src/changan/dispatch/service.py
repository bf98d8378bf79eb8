"""Interception planning (first version) and the task lifecycle.

For an alert: the first enforcement station downstream of the sighting's site
in its direction of travel, with the network distance and a naive ETA (the
distance over the speed limits for the vehicle's group). The learned travel
times and the full planner come later (issue 5).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from changan.alerts.models import Alert
from changan.auth.audit import record
from changan.auth.principal import Actor, Role
from changan.auth.scope import within
from changan.dispatch.models import Task
from changan.kit.errors import Conflict, NotFound, Unprocessable
from changan.kit.ids import derived_id
from changan.kit.outbox import enqueue
from changan.network import Network, StationAhead, vehicle_group

WORKERS = (Role.OFFICER, Role.COMMANDER)
READERS = (Role.OFFICER, Role.COMMANDER, Role.ANALYST, Role.AUDITOR, Role.READONLY)
OUTCOMES = ("intercepted", "not_found", "passed", "cancelled", "other")


def first_station_ahead(network: Network, site_id: str, vehicle_class: str | None) -> StationAhead | None:
    if site_id not in network.sites:
        return None
    ahead = network.stations_downstream(site_id, group=vehicle_group(vehicle_class))
    return ahead[0] if ahead else None


def plan_task(session: Session, alert: Alert, ahead: StationAhead | None, *, now: datetime) -> Task | None:
    """Create the task at the first station ahead (idempotent: the id is derived from alert and station)."""
    if ahead is None:
        return None
    task_id = derived_id("task", alert.id, ahead.station.id)
    if session.get(Task, task_id) is not None:
        return None
    task = Task(
        id=task_id,
        alert_id=alert.id,
        station_id=ahead.station.id,
        station_name=ahead.station.name,
        jurisdiction=ahead.station.jurisdiction,
        plate_no=alert.plate_no,
        status="pending",
        distance_m=ahead.distance_m,
        eta_at=alert.pass_time + timedelta(seconds=ahead.free_flow_s),
        created_at=now,
    )
    session.add(task)
    session.flush()
    enqueue(session, "task.created", f"task.created:{task.id}", task_summary(task), now=now)
    return task


def task_summary(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "alert_id": task.alert_id,
        "station_id": task.station_id,
        "station_name": task.station_name,
        "plate_no": task.plate_no,
        "status": task.status,
        "distance_m": task.distance_m,
        "eta_at": task.eta_at.isoformat(),
        "jurisdiction": task.jurisdiction,
        "outcome": task.outcome,
    }


def list_tasks(
    session: Session,
    actor: Actor,
    *,
    station_id: str | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[Task]:
    actor.require(*READERS, action="查看拦截指令")
    stmt = select(Task).where(within(actor, Task.jurisdiction)).order_by(Task.created_at.desc()).limit(limit)
    if station_id is not None:
        stmt = stmt.where(Task.station_id == station_id)
    if status is not None:
        stmt = stmt.where(Task.status == status)
    return list(session.scalars(stmt))


def _get_for_update(session: Session, actor: Actor, task_id: str) -> Task:
    task = session.get(Task, task_id)
    if task is None or not actor.sees(task.jurisdiction):
        msg = f"拦截指令 {task_id} 不存在"
        raise NotFound(msg, field="task_id")
    return task


def acknowledge(session: Session, actor: Actor, task_id: str, *, now: datetime) -> Task:
    actor.require(*WORKERS, action="签收拦截指令")
    task = _get_for_update(session, actor, task_id)
    if task.status != "pending":
        msg = f"指令当前状态为 {task.status}，不能签收"
        raise Conflict(msg)
    task.status, task.acknowledged_at, task.acknowledged_by = "acknowledged", now, actor.username
    session.flush()
    record(session, actor, "task.acknowledge", f"task:{task.id}", now=now)
    enqueue(session, "task.updated", f"task.ack:{task.id}", task_summary(task), now=now)
    return task


def close(
    session: Session, actor: Actor, task_id: str, *, outcome: str, note: str = "", now: datetime
) -> Task:
    actor.require(*WORKERS, action="反馈拦截结果")
    if outcome not in OUTCOMES:
        msg = f"结果 {outcome!r} 无效，可选：{', '.join(OUTCOMES)}"
        raise Unprocessable(msg, field="outcome")
    task = _get_for_update(session, actor, task_id)
    if task.status == "closed":
        msg = "指令已办结"
        raise Conflict(msg)
    task.status, task.closed_at, task.closed_by = "closed", now, actor.username
    task.outcome = f"{outcome}: {note}" if note else outcome
    session.flush()
    record(session, actor, "task.close", f"task:{task.id}", now=now, detail={"outcome": task.outcome})
    enqueue(session, "task.updated", f"task.close:{task.id}", task_summary(task), now=now)
    return task
