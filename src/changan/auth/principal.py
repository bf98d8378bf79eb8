"""Who is acting: a person (with roles and a jurisdiction) or a device key.

Every service call takes the acting principal and checks role and
jurisdiction itself, so the REST API, the UI and the CLI cannot differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from changan.kit.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    COMMANDER = "commander"
    OFFICER = "officer"
    ANALYST = "analyst"
    APPROVER = "approver"
    MAINTAINER = "maintainer"
    AUDITOR = "auditor"
    READONLY = "readonly"

    @property
    def label_zh(self) -> str:
        return _ROLE_ZH[self]


_ROLE_ZH = {
    Role.ADMIN: "系统管理员",
    Role.COMMANDER: "指挥长",
    Role.OFFICER: "执法站民警",
    Role.ANALYST: "研判员",
    Role.APPROVER: "布控审批人",
    Role.MAINTAINER: "设备运维",
    Role.AUDITOR: "审计员",
    Role.READONLY: "只读用户",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in person. ``jurisdiction`` is a 2/4/6/8-digit scope code; a user sees codes under it."""

    user_id: str
    username: str
    roles: frozenset[Role]
    jurisdiction: str
    station_id: str | None = None

    def has(self, *roles: Role) -> bool:
        return Role.ADMIN in self.roles or any(r in self.roles for r in roles)

    def require(self, *roles: Role, action: str) -> None:
        """Raise 403 unless the actor holds one of ``roles`` (administrators hold all)."""
        if not self.has(*roles):
            wanted = "、".join(r.label_zh for r in roles)
            msg = f"无权执行“{action}”：需要角色 {wanted}"
            raise Forbidden(msg, code="role_required", details={"roles": [r.value for r in roles]})

    def sees(self, jurisdiction: str | None) -> bool:
        """Whether a record in ``jurisdiction`` lies in this actor's scope (None: network-wide data)."""
        if jurisdiction is None:
            return True
        return jurisdiction.startswith(self.jurisdiction)

    def require_scope(self, jurisdiction: str | None, *, what: str) -> None:
        if not self.sees(jurisdiction):
            msg = f"{what}不在您的管辖范围内"
            raise Forbidden(msg, code="out_of_jurisdiction")


@dataclass(frozen=True, slots=True)
class DeviceKey:
    """An ingest key: bound to one device, or a platform key (``device_id`` None) for registered devices."""

    key_id: str
    name: str
    device_id: str | None


SYSTEM = Actor(user_id="system", username="system", roles=frozenset({Role.ADMIN}), jurisdiction="")
