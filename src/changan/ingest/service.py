"""Ingest of native JSON batches: validate each item, store the good ones, keep the bad ones as dead letters.

The caller (the HTTP endpoint) owns the transaction and acknowledges only after
it has committed, so a 2xx means the passages are durable. Valid items are
stored even when others in the batch are rejected; every rejected item is kept
whole in the dead-letter table with its reasons, so nothing sent is lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.orm import Session

from changan.auth.principal import DeviceKey
from changan.devices.service import active_sites
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


DeviceLookup = Callable[[set[str]], dict[str, str]]


@dataclass(slots=True)
class PreparedBatch:
    """A parsed and validated batch, ready to store: the rows, the rejects, and what to keep as dead letters."""

    source_label: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    result: IngestResult = field(default_factory=IngestResult)
    dead_letters: list[tuple[str, bytes, str | None]] = field(default_factory=list)  # reason, body, type


def prepare_native(
    key: DeviceKey,
    body: bytes,
    *,
    content_type: str | None,
    devices: DeviceLookup,
    network: Network,
    images: ImageStore,
    limits: IngestLimits,
    now: datetime,
) -> PreparedBatch:
    """Parse and check a native batch without holding a write transaction (all but device lookups is CPU)."""
    batch = PreparedBatch(source_label=f"json:{key.name}")
    result = batch.result
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        reason = f"JSON 无法解析：{exc}"
        batch.dead_letters.append((reason, body, content_type))
        result.body_error = ("(body)", reason)
        log.warning("ingest.body_unparsable", source=batch.source_label, size=len(body))
        return batch
    try:
        items = unwrap_batch(parsed, limits.max_batch)
    except BatchShapeError as exc:
        batch.dead_letters.append((f"{exc.field}: {exc.reason}", body, content_type))
        result.body_error = (exc.field, exc.reason)
        return batch

    sites = devices(
        {i["device_id"] for i in items if isinstance(i, dict) and isinstance(i.get("device_id"), str)}
    )
    window = TimeWindow.around(now, future_skew_s=limits.future_skew_s, max_age_days=limits.max_age_days)
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        checked = _check_item(index, item, key, sites, window)
        if isinstance(checked, list):
            _reject(batch, checked, item)
            continue
        source = f"json:{checked.device_id}"
        if (source, checked.external_id) in seen:
            result.duplicates += 1
            continue
        seen.add((source, checked.external_id))
        try:
            stored_images = _store_images(checked, images)
        except ValueError as exc:
            _reject(batch, [ItemError(index, exc.args[0], exc.args[1])], item)
            continue
        batch.rows.append(_row(checked, source, sites[checked.device_id], network, stored_images, now))
    return batch


def _reject(batch: PreparedBatch, errors: list[ItemError], item: Any) -> None:
    batch.result.errors.extend(errors)
    reason = json.dumps([e.to_dict() for e in errors], ensure_ascii=False)
    batch.dead_letters.append((reason, orjson.dumps(item), "application/json"))


def store_batch(session: Session, batch: PreparedBatch, *, now: datetime) -> IngestResult:
    """Write the rows and the dead letters in the caller's transaction; returns the counts."""
    for reason, body, content_type in batch.dead_letters:
        session.add(
            DeadLetter(
                source=batch.source_label,
                received_at=now,
                reason=reason,
                content_type=content_type,
                body=body,
            )
        )
    result = batch.result
    inserted = insert_batch(session, batch.rows)
    result.accepted = inserted
    result.duplicates += len(batch.rows) - inserted
    log.info(
        "ingest.batch",
        source=batch.source_label,
        accepted=inserted,
        duplicates=result.duplicates,
        rejected=len({e.index for e in result.errors}),
    )
    return result


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
    """Prepare and store in one session (the HTTP endpoint splits the two to keep write locks short)."""
    batch = prepare_native(
        key,
        body,
        content_type=content_type,
        devices=lambda ids: active_sites(session, ids),
        network=network,
        images=images,
        limits=limits,
        now=now,
    )
    return store_batch(session, batch, now=now)


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
    # To UTC by hand: the parsed offset is a Python tzinfo and astimezone() through it is slow.
    offset = p.pass_time.utcoffset() or timedelta(0)
    pass_time = (p.pass_time.replace(tzinfo=None) - offset).replace(tzinfo=UTC)
    return {
        "source": source,
        "external_id": p.external_id,
        "device_id": p.device_id,
        "site_id": site_id,
        "heading": site.heading_node_id if site is not None else None,
        "plate_raw": p.plate_no,
        "plate_no": read.text,
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
        "pass_time": pass_time,
        "received_at": now,
        "images": images,
    }
