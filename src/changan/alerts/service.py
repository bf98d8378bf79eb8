"""Turn detections into alerts per the policy, and let people read them within their jurisdiction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from changan.alerts.models import Alert
from changan.auth.principal import Actor, Role
from changan.auth.scope import within
from changan.engine.sighting import Finding
from changan.kit.errors import NotFound
from changan.kit.ids import derived_id
from changan.kit.outbox import enqueue
from changan.passages.models import Passage

READERS = (Role.COMMANDER, Role.OFFICER, Role.ANALYST, Role.APPROVER, Role.AUDITOR, Role.READONLY)


def raise_alert(
    session: Session,
    finding: Finding,
    detection_id: str,
    passage: Passage,
    *,
    title: str,
    priority: int,
    jurisdiction: str,
    now: datetime,
) -> Alert | None:
    """Create the alert for a detection the policy says to alert on; None if it already exists."""
    alert_id = derived_id("alert", detection_id)
    if session.get(Alert, alert_id) is not None:
        return None
    payload = finding.payload
    detail = payload.get("reason") or payload.get("title_zh") or ""
    alert = Alert(
        id=alert_id,
        detection_id=detection_id,
        kind=finding.detector,
        vehicle_key=finding.vehicle_key,
        plate_no=passage.plate_no,
        plate_class=passage.plate_class,
        priority=int(payload.get("priority", priority)),
        reason=(f"{title}：{detail}" if detail and detail != title else title)[:256],
        entry_id=payload.get("entry_id"),
        site_id=passage.site_id,
        heading=passage.heading,
        passage_seq=passage.seq,
        pass_time=passage.pass_time,
        images=passage.images,
        status="open",
        jurisdiction=jurisdiction,
        created_at=now,
        updated_at=now,
    )
    session.add(alert)
    session.flush()
    enqueue(session, "alert.created", f"alert.created:{alert.id}", alert_summary(alert), now=now)
    return alert


def withdraw_alerts(session: Session, detection_ids: list[str], *, now: datetime) -> int:
    """A retracted detection withdraws its open alert (a late passage showed it was wrong)."""
    if not detection_ids:
        return 0
    alerts = list(
        session.scalars(select(Alert).where(Alert.detection_id.in_(detection_ids), Alert.status == "open"))
    )
    for alert in alerts:
        alert.status = "withdrawn"
        alert.updated_at = now
        enqueue(session, "alert.updated", f"alert.withdrawn:{alert.id}", alert_summary(alert), now=now)
    return len(alerts)


def alert_summary(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "plate_no": alert.plate_no,
        "plate_class": alert.plate_class,
        "priority": alert.priority,
        "reason": alert.reason,
        "site_id": alert.site_id,
        "pass_time": alert.pass_time.isoformat(),
        "status": alert.status,
        "jurisdiction": alert.jurisdiction,
        "images": alert.images,
        "created_at": alert.created_at.isoformat(),
    }


def list_alerts(
    session: Session, actor: Actor, *, status: str | None = None, limit: int = 200
) -> list[Alert]:
    actor.require(*READERS, action="查看预警")
    stmt = (
        select(Alert).where(within(actor, Alert.jurisdiction)).order_by(Alert.created_at.desc()).limit(limit)
    )
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    return list(session.scalars(stmt))


def get_alert(session: Session, actor: Actor, alert_id: str) -> Alert:
    actor.require(*READERS, action="查看预警")
    alert = session.get(Alert, alert_id)
    if alert is None or not actor.sees(alert.jurisdiction):
        msg = f"预警 {alert_id} 不存在"
        raise NotFound(msg, field="alert_id")
    return alert
