"""Ingest of native JSON batches: validate each item, store the good ones, keep the bad ones as dead letters.

The caller (the HTTP endpoint) owns the transaction and acknowledges only after
it has committed, so a 2xx means the passages are durable. Valid items are
stored even when others in the batch are rejected; every rejected item is kept
whole in the dead-letter table with its reasons, so nothing sent is lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from changan.auth.principal import DeviceKey
from changan.devices.models import Device
from changan.ingest.errors import ItemError, from_validation_error
from changan.ingest.native import BatchShapeError, PassageIn, TimeWindow, unwrap_batch
from changan.kit.logging import get_logger
from changan.network import Network
from changan.passages.images import ImageStore
from changan.passages.log import insert_batch
from changan.passages.models import DeadLetter
from changan.plates import PlateClass, infer_class, key_for_read, read_plate

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class IngestLimits:
    max_batch: int
    future_skew_s: int
    max_age_days: int


@dataclass(slots=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    errors: list[ItemError] = field(default_factory=list)
    body_error: tuple[str, str] | None = None  # (field, reason) when the body itself is unusable

    @property
    def status_code(self) -> int:
        if self.body_error is not None:
            return 400 if self.body_error[0] == "(body)" else 422
        return 422 if self.errors else 200

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "errors": [e.to_dict() for e in self.errors],
        }
        if self.body_error is not None:
            out["error"] = "invalid_body"
            out["field"], out["message"] = self.body_error
        return out


def _dead_letter(
    session: Session, source: str, reason: str, body: bytes, content_type: str | None, now: datetime
) -> None:
    session.add(
        DeadLetter(source=source, received_at=now, reason=reason, content_type=content_type, body=body)
    )


def ingest_native(
    session: Session,
    key: DeviceKey,
    body: bytes,
    *,
    content_type: str | None,
    network: Network,
    images: ImageStore,
    limits: IngestLimits,
    now: datetime,
) -> IngestResult:
    result = IngestResult()
    source_label = f"json:{key.name}"
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        reason = f"JSON 无法解析：{exc}"
        _dead_letter(session, source_label, reason, body, content_type, now)
        result.body_error = ("(body)", reason)
        log.warning("ingest.body_unparsable", source=source_label, size=len(body))
        return result
    try:
        items = unwrap_batch(parsed, limits.max_batch)
    except BatchShapeError as exc:
        _dead_letter(session, source_label, f"{exc.field}: {exc.reason}", body, content_type, now)
        result.body_error = (exc.field, exc.reason)
        return result

    wanted = {
        i.get("device_id") for i in items if isinstance(i, dict) and isinstance(i.get("device_id"), str)
    }
    devices = {
        d.device_id: d.site_id
        for d in session.scalars(
            select(Device).where(Device.device_id.in_(wanted), Device.status == "active")
        )
    }
    window = TimeWindow.around(now, future_skew_s=limits.future_skew_s, max_age_days=limits.max_age_days)
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        errors = _check_item(index, item, key, devices, window)
        if isinstance(errors, list):
            result.errors.extend(errors)
            reason = json.dumps([e.to_dict() for e in errors], ensure_ascii=False)
            _dead_letter(session, source_label, reason, orjson.dumps(item), "application/json", now)
            continue
        p = errors
        source = f"json:{p.device_id}"
        if (source, p.external_id) in seen:
            result.duplicates += 1
            continue
        seen.add((source, p.external_id))
        try:
            stored_images = _store_images(p, images)
        except ValueError as exc:
            err = ItemError(index, exc.args[0], exc.args[1])
            result.errors.append(err)
            _dead_letter(
                session,
                source_label,
                json.dumps([err.to_dict()], ensure_ascii=False),
                orjson.dumps(item),
                "application/json",
                now,
            )
            continue
        rows.append(_row(p, source, devices[p.device_id], network, stored_images, now))
    inserted = insert_batch(session, rows)
    result.accepted = inserted
    result.duplicates += len(rows) - inserted
    log.info(
        "ingest.batch",
        source=source_label,
        accepted=inserted,
        duplicates=result.duplicates,
        rejected=len({e.index for e in result.errors}),
    )
    return result


def _check_item(
    index: int, item: Any, key: DeviceKey, devices: dict[str, str], window: TimeWindow
) -> list[ItemError] | PassageIn:
    try:
        p = PassageIn.model_validate(item)
    except ValidationError as exc:
        return from_validation_error(index, exc)
    if p.device_id not in devices:
        return [ItemError(index, "device_id", f"设备 {p.device_id} 未登记或已停用")]
    if key.device_id is not None and key.device_id != p.device_id:
        return [
            ItemError(
                index, "device_id", f"此密钥属于设备 {key.device_id}，不能提交设备 {p.device_id} 的数据"
            )
        ]
    reason = window.check(p.pass_time)
    if reason is not None:
        return [ItemError(index, "pass_time", reason)]
    return p


def _store_images(p: PassageIn, store: ImageStore) -> list[dict[str, str]]:
    out = []
    for i, image in enumerate(p.images):
        if image.url is not None:
            out.append({"type": image.type, "url": image.url})
            continue
        try:
            data = image.decoded()
        except ValueError as exc:
            msg = f"images[{i}].data"
            raise ValueError(msg, str(exc)) from None
        if not data:
            msg = f"images[{i}].data"
            raise ValueError(msg, "图片为空")
        out.append({"type": image.type, "name": store.put(data)})
    return out


def _row(
    p: PassageIn, source: str, site_id: str, network: Network, images: list[dict[str, str]], now: datetime
) -> dict[str, Any]:
    read = read_plate(p.plate_no)
    colour = p.plate_color or read.colour_hint
    plate_class = p.plate_class or infer_class(read, colour).value
    site = network.sites.get(site_id)
    return {
        "source": source,
        "external_id": p.external_id,
        "device_id": p.device_id,
        "site_id": site_id,
        "heading": site.heading_node_id if site is not None else None,
        "plate_raw": p.plate_no,
        "plate_no": read.text[:16],
        "plate_kind": read.kind.value,
        "plate_class": plate_class,
        "plate_color": colour.value if colour is not None else None,
        "vehicle_key": key_for_read(read, PlateClass(plate_class), read_id=f"{source}/{p.external_id}"),
        "vehicle_class": p.vehicle_class,
        "vehicle_color": p.vehicle_color,
        "vehicle_brand": p.vehicle_brand,
        "lane_no": p.lane_no,
        "speed_kmh": p.speed_kmh,
        "plate_confidence": p.plate_confidence,
        "pass_time": p.pass_time,
        "received_at": now,
        "images": images,
    }
