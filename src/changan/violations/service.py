"""Violation records: made from settled detections the policy keeps for review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from changan.kit.ids import derived_id
from changan.violations.models import Violation


def record_violation(
    session: Session,
    *,
    detection_id: str,
    detector: str,
    vehicle_key: str,
    plate_no: str,
    event_time: datetime,
    site_id: str,
    payload: dict[str, Any],
    jurisdiction: str,
    now: datetime,
) -> bool:
    """Add the record for review unless it exists (a replay adds nothing); True when added."""
    vid = derived_id("violation", detection_id)
    if session.get(Violation, vid) is not None:
        return False
    basis = payload.get("legal_basis", "")
    session.add(
        Violation(
            id=vid,
            detection_id=detection_id,
            detector=detector,
            vehicle_key=vehicle_key,
            plate_no=plate_no,
            event_time=event_time,
            site_id=site_id,
            points=payload.get("points"),
            fine_yuan=payload.get("fine_yuan"),
            legal_basis=basis if isinstance(basis, str) else "；".join(map(str, basis)),
            facts={k: v for k, v in payload.items() if k != "legal_basis"},
            status="pending",
            jurisdiction=jurisdiction,
            created_at=now,
            updated_at=now,
        )
    )
    return True
