"""The operator UI (NiceGUI, Simplified Chinese), mounted on the FastAPI app by :func:`mount_ui`.

Pages: ``/login`` 登录, ``/`` 指挥中心, ``/station`` 执法站, ``/watchlist`` 布控 — one module each.
Stored passage images are served to signed-in UI users at ``/ui/images/{name}``.

NiceGUI keeps its app, pages and middleware in process-wide state. The first call configures it with
``ui.run_with``; later calls (tests build several apps in one process) only mount the same NiceGUI app
on the new FastAPI app. Each FastAPI app stamps its own :class:`AppContext` into the request scope, so
pages and the image route always use the context of the app that serves the request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from nicegui import app as nicegui_app
from nicegui import ui
from nicegui.storage import Storage
from starlette.types import ASGIApp, Receive, Scope, Send

from changan.kit.logging import get_logger
from changan.passages.images import SAFE_IMAGE_HEADERS, content_type_of
from changan.web.context import AppContext
from changan.web.ui.command import command_page
from changan.web.ui.login import login_page
from changan.web.ui.session import SCOPE_KEY, SESSION_TTL, ctx_of, require_actor, set_latest
from changan.web.ui.station import station_page
from changan.web.ui.watchlist import watchlist_page

__all__ = ["IMAGE_PATH", "TITLE", "mount_ui"]

log = get_logger(__name__)

TITLE = "畅安 · 高速交警指挥平台"
IMAGE_PATH = "/ui/images/{name}"
PAGES: dict[str, Callable[..., Any]] = {
    "/login": login_page,
    "/": command_page,
    "/station": station_page,
    "/watchlist": watchlist_page,
}


class _State:
    configured = False


class _ContextScope:
    """Pure ASGI middleware: puts the serving app's context into every request scope."""

    def __init__(self, app: ASGIApp, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope[SCOPE_KEY] = self.ctx
        await self.app(scope, receive, send)


def ui_image(name: str, request: Request) -> Response:
    """A stored passage image, for signed-in UI users only (401 otherwise)."""
    guard = require_actor(request)
    if not isinstance(guard, tuple):
        return JSONResponse({"error": "unauthorized", "message": "请先登录"}, status_code=401)
    ctx = ctx_of(request)
    try:
        data = ctx.images.get(name)
    except ValueError:
        data = None
    if data is None:
        return JSONResponse({"error": "not_found", "message": f"图片 {name} 不存在"}, status_code=404)
    return Response(data, media_type=content_type_of(name), headers=SAFE_IMAGE_HEADERS)


def _register() -> None:
    for path, builder in PAGES.items():
        ui.page(path, title=TITLE)(builder)
    nicegui_app.add_api_route(IMAGE_PATH, ui_image, methods=["GET"], include_in_schema=False)


def _remount(app: FastAPI) -> None:
    """Mount the already configured NiceGUI app on another FastAPI app, with NiceGUI's start and stop."""
    from nicegui.nicegui import _shutdown, _startup

    app.mount("/", nicegui_app)
    inner: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(target: Any) -> AsyncIterator[Any]:
        await _startup()
        try:
            async with inner(target) as state:
                yield state
        finally:
            await _shutdown()

    app.router.lifespan_context = lifespan


def mount_ui(app: FastAPI, ctx: AppContext) -> None:
    """Mount the operator UI on ``app`` (serving ``ctx``)."""
    set_latest(ctx)
    Storage.path = (ctx.settings.var_dir / "ui-storage").resolve()
    app.add_middleware(_ContextScope, ctx=ctx)
    if _State.configured:
        _remount(app)
        return
    _register()
    ui.run_with(
        app,
        title=TITLE,
        storage_secret=ctx.settings.session_secret,
        session_middleware_kwargs={"max_age": int(SESSION_TTL.total_seconds()), "same_site": "lax"},
        favicon="🚓",
        language="zh-CN",
        show_welcome_message=False,
    )
    _State.configured = True
    log.info("ui.mounted", pages=sorted(PAGES))
