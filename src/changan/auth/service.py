"""Users and API tokens: create, authenticate. Passwords are argon2 hashes; tokens are stored hashed."""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from changan.auth.audit import record
from changan.auth.models import ApiToken, User
from changan.auth.principal import Actor, Role
from changan.kit.errors import Conflict, NotFound, Unauthorized, Unprocessable
from changan.kit.ids import new_id, new_token, token_hash

_hasher = PasswordHasher()
_JURISDICTION = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{8})$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")


def actor_of(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset(Role(r) for r in user.roles),
        jurisdiction=user.jurisdiction,
        station_id=user.station_id,
    )


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str | None,
    roles: list[str],
    jurisdiction: str,
    display_name: str | None = None,
    station_id: str | None = None,
    now: datetime,
) -> User:
    actor.require(Role.ADMIN, action="添加用户")
    if not _USERNAME.match(username):
        msg = "用户名须为 2–64 位字母、数字或 _.-"
        raise Unprocessable(msg, field="username")
    if password is not None and len(password) < 8:
        msg = "密码至少 8 位"
        raise Unprocessable(msg, field="password")
    if not _JURISDICTION.match(jurisdiction):
        msg = "管辖代码须为 2/4/6/8 位数字（总队/支队/大队/中队）"
        raise Unprocessable(msg, field="jurisdiction")
    parsed: list[Role] = []
    for r in roles:
        try:
            parsed.append(Role(r))
        except ValueError:
            msg = f"未知角色 {r!r}，可选：{', '.join(x.value for x in Role)}"
            raise Unprocessable(msg, field="roles") from None
    if not parsed:
        msg = "至少需要一个角色"
        raise Unprocessable(msg, field="roles")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        msg = f"用户 {username} 已存在"
        raise Conflict(msg, field="username")
    user = User(
        id=new_id(),
        username=username,
        display_name=display_name or username,
        password_hash=_hasher.hash(password) if password else None,
        roles=[r.value for r in parsed],
        jurisdiction=jurisdiction,
        station_id=station_id,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.create", f"user:{username}", now=now, detail={"roles": user.roles})
    return user


def authenticate_password(session: Session, username: str, password: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None or user.password_hash is None:
        _hasher.hash("timing-equaliser")
        msg = "用户名或密码错误"
        raise Unauthorized(msg, code="bad_credentials")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        msg = "用户名或密码错误"
        raise Unauthorized(msg, code="bad_credentials") from None
    return actor_of(user)


def create_token(session: Session, actor: Actor, *, username: str, name: str, now: datetime) -> str:
    """Issue an API token for ``username``; returns the secret (shown once)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        msg = f"用户 {username} 不存在"
        raise NotFound(msg, field="username")
    if actor.user_id != user.id:
        actor.require(Role.ADMIN, action="为其他用户签发令牌")
    secret = new_token("cat")
    session.add(
        ApiToken(id=new_id(), user_id=user.id, token_hash=token_hash(secret), name=name, created_at=now)
    )
    session.flush()
    record(session, actor, "token.create", f"user:{username}", now=now, detail={"name": name})
    return secret


def authenticate_token(session: Session, secret: str) -> Actor:
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == token_hash(secret), ApiToken.revoked_at.is_(None), User.active.is_(True)
        )
    ).first()
    if row is None:
        msg = "令牌无效或已吊销"
        raise Unauthorized(msg, code="bad_token")
    return actor_of(row[0])
