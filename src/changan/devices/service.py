"""Register devices, issue and check ingest keys."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from changan.auth.audit import record
from changan.auth.principal import Actor, DeviceKey, Role
from changan.devices.models import Device, DeviceKeyRow
from changan.kit.errors import ChanganError, Conflict, NotFound, Unauthorized, Unprocessable
from changan.kit.ids import new_id, new_token, token_hash
from changan.network import Network

_DEVICE_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
PROTOCOLS = ("json", "gat1400", "hikvision", "dahua", "mqtt", "csv")


def add_device(
    session: Session,
    actor: Actor,
    network: Network,
    *,
    device_id: str,
    site_id: str,
    name: str | None = None,
    protocol: str = "json",
    now: datetime,
) -> tuple[Device, str]:
    """Register a device at a site; returns the device and its new ingest key (shown once)."""
    device = _register(
        session, actor, network, device_id=device_id, site_id=site_id, name=name, protocol=protocol, now=now
    )
    return device, _issue_key(session, name=f"device:{device_id}", device_id=device_id, now=now)


def _register(
    session: Session,
    actor: Actor,
    network: Network,
    *,
    device_id: str,
    site_id: str,
    name: str | None,
    protocol: str,
    now: datetime,
) -> Device:
    """Check and add one device, audited; no key (bulk imports post with a platform key)."""
    actor.require(Role.ADMIN, Role.MAINTAINER, action="登记设备")
    if not _DEVICE_ID.match(device_id):
        msg = "设备编号须为 1–64 位字母、数字或 _.:-"
        raise Unprocessable(msg, field="device_id")
    site = network.sites.get(site_id)
    if site is None:
        msg = f"路网中没有卡口点位 {site_id!r}"
        raise Unprocessable(msg, field="site_id")
    if protocol not in PROTOCOLS:
        msg = f"未知协议 {protocol!r}，可选：{', '.join(PROTOCOLS)}"
        raise Unprocessable(msg, field="protocol")
    if session.get(Device, device_id) is not None:
        msg = f"设备 {device_id} 已登记"
        raise Conflict(msg, field="device_id")
    device = Device(
        device_id=device_id,
        name=name or f"{site.name} 摄像机",
        site_id=site_id,
        protocol=protocol,
        status="active",
        created_at=now,
    )
    session.add(device)
    session.flush()
    record(session, actor, "device.create", f"device:{device_id}", now=now, detail={"site_id": site_id})
    return device


def import_devices(
    session: Session, actor: Actor, network: Network, rows: list[dict[str, object]], *, now: datetime
) -> tuple[int, int, list[str]]:
    """Register many devices (e.g. a simulator's ``devices.jsonl``); returns (added, already known, errors).

    Each error names the line and the field. Known devices are left as they are. No per-device
    keys are issued: such devices post through a platform key.
    """
    actor.require(Role.ADMIN, Role.MAINTAINER, action="批量登记设备")
    added = known = 0
    errors: list[str] = []
    for n, row in enumerate(rows, start=1):
        device_id, site_id = row.get("device_id"), row.get("site_id")
        if not isinstance(device_id, str) or not isinstance(site_id, str):
            field = "device_id" if not isinstance(device_id, str) else "site_id"
            errors.append(f"第 {n} 行 {field}：缺少或不是字符串")
            continue
        if session.get(Device, device_id) is not None:
            known += 1
            continue
        try:
            _register(
                session,
                actor,
                network,
                device_id=device_id,
                site_id=site_id,
                name=None,
                protocol=str(row.get("protocol", "json")),
                now=now,
            )
        except ChanganError as exc:
            errors.append(f"第 {n} 行 {exc.field}：{exc.message}")
            continue
        added += 1
    return added, known, errors


def add_platform_key(session: Session, actor: Actor, *, name: str, now: datetime) -> str:
    """A key for a platform or gateway that posts for any registered device."""
    actor.require(Role.ADMIN, action="签发平台接入密钥")
    key = _issue_key(session, name=f"platform:{name}", device_id=None, now=now)
    record(session, actor, "device_key.create", f"platform:{name}", now=now)
    return key


def _issue_key(session: Session, *, name: str, device_id: str | None, now: datetime) -> str:
    secret = new_token("cak")
    session.add(
        DeviceKeyRow(id=new_id(), key_hash=token_hash(secret), name=name, device_id=device_id, created_at=now)
    )
    session.flush()
    return secret


def authenticate_key(session: Session, secret: str) -> DeviceKey:
    row = session.scalar(
        select(DeviceKeyRow).where(
            DeviceKeyRow.key_hash == token_hash(secret), DeviceKeyRow.revoked_at.is_(None)
        )
    )
    if row is None:
        msg = "设备密钥无效或已吊销"
        raise Unauthorized(msg, code="bad_device_key")
    return DeviceKey(key_id=row.id, name=row.name, device_id=row.device_id)


def active_sites(session: Session, device_ids: set[str]) -> dict[str, str]:
    """device_id → site_id for those of ``device_ids`` that are registered and active."""
    if not device_ids:
        return {}
    stmt = select(Device.device_id, Device.site_id).where(
        Device.device_id.in_(device_ids), Device.status == "active"
    )
    return dict(session.execute(stmt).tuples().all())


def list_devices(session: Session, actor: Actor) -> list[Device]:
    actor.require(Role.ADMIN, Role.MAINTAINER, Role.COMMANDER, action="查看设备")
    return list(session.scalars(select(Device).order_by(Device.device_id)))


def get_device(session: Session, device_id: str) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        msg = f"设备 {device_id} 未登记"
        raise NotFound(msg, field="device_id")
    return device
