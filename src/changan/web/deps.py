"""Request dependencies: the context, the acting user, the acting device key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from changan.auth.principal import Actor, DeviceKey
from changan.auth.service import authenticate_token
from changan.devices.service import authenticate_key
from changan.kit.errors import Unauthorized
from changan.web.context import AppContext


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        msg = "缺少认证：请在 Authorization 头中提供 Bearer 令牌"
        raise Unauthorized(msg, code="missing_token")
    return secret.strip()


def current_actor(request: Request, ctx: Ctx) -> Actor:
    secret = _bearer(request)
    with ctx.reader() as session:
        return authenticate_token(session, secret)


def current_device(request: Request, ctx: Ctx) -> DeviceKey:
    secret = _bearer(request)
    with ctx.reader() as session:
        return authenticate_key(session, secret)


CurrentActor = Annotated[Actor, Depends(current_actor)]
CurrentDevice = Annotated[DeviceKey, Depends(current_device)]
