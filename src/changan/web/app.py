"""The application factory: REST API, error handling, health, metrics, OpenAPI and the operator UI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from changan import __version__
from changan.alerts.endpoints import router as alerts_router
from changan.alerts.models import Alert
from changan.auth.principal import Role
from changan.dispatch.models import Task
from changan.ingest.endpoints import router as ingest_router
from changan.ingest.errors import field_path
from changan.kit.errors import ChanganError
from changan.kit.logging import get_logger
from changan.limits.endpoints import router as limits_router
from changan.passages.endpoints import router as passages_router
from changan.passages.models import Passage
from changan.policy.endpoints import router as policies_router
from changan.registry.endpoints import router as registry_router
from changan.watchlist.endpoints import router as watchlist_router
from changan.web.context import AppContext
from changan.web.deps import Ctx, CurrentActor

log = get_logger(__name__)

#: Routes anyone may call; every other route requires a token (tests enforce this from the route table).
PUBLIC_PATHS = frozenset({"/health", "/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})


def create_app(ctx: AppContext, *, with_ui: bool = True) -> FastAPI:
    app = FastAPI(
        title="畅安 changan",
        version=__version__,
        description="高速公路交警平台：过车数据接入、布控预警、拦截调度。",
    )
    app.state.ctx = ctx
    app.add_exception_handler(ChanganError, _changan_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for router in (ingest_router, passages_router, watchlist_router, alerts_router):
        app.include_router(router)
    app.include_router(policies_router)
    app.include_router(registry_router)
    app.include_router(limits_router)
    _add_system_routes(app)
    if with_ui:
        from changan.web.ui import mount_ui

        mount_ui(app, ctx)
    return app


async def _changan_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ChanganError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": field_path(
                tuple(e["loc"][1:] if e["loc"] and e["loc"][0] in ("body", "query", "path") else e["loc"])
            ),
            "reason": e["msg"],
            "type": e["type"],
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "(body)", "reason": "invalid"}
    return JSONResponse(
        {
            "error": "invalid",
            "message": f"{first['field']}: {first['reason']}",
            "field": first["field"],
            "details": errors,
        },
        status_code=422,
    )


def _add_system_routes(app: FastAPI) -> None:
    @app.get("/health", tags=["system"], summary="健康检查")
    def health(ctx: Ctx) -> dict[str, Any]:
        with ctx.reader() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["system"], summary="Prometheus 指标")
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/v1/network", tags=["network"], summary="路网（GeoJSON；估算位置标注 estimated）")
    def network(ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
        actor.require(*Role, action="查看路网")
        return ctx.network.to_geojson()

    @app.get("/api/v1/stats", tags=["system"], summary="今日计数")
    def stats(ctx: Ctx, actor: CurrentActor) -> dict[str, int]:
        actor.require(*Role, action="查看统计")
        return counters(ctx)


def api_app() -> FastAPI:
    """The REST API alone, configured from ``CHANGAN_*`` variables: for scaling ingest over several processes.

    ``uvicorn --factory changan.web.app:api_app --workers 2 --port 8081``. Engine,
    outbox and UI run elsewhere (``changan serve``, ``changan engine run``).
    """
    from changan.kit.clock import utc_now
    from changan.kit.logging import configure_logging
    from changan.kit.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(AppContext.build(settings, utc_now), with_ui=False)


def counters(ctx: AppContext) -> dict[str, int]:
    """Counters for the command centre (network-wide numbers, no personal data)."""
    with ctx.reader() as session:
        passages = session.scalar(select(func.count()).select_from(Passage)) or 0
        open_alerts = (
            session.scalar(select(func.count()).select_from(Alert).where(Alert.status == "open")) or 0
        )
        alerts = session.scalar(select(func.count()).select_from(Alert)) or 0
        pending = session.scalar(select(func.count()).select_from(Task).where(Task.status != "closed")) or 0
    return {
        "passages": int(passages),
        "alerts": int(alerts),
        "open_alerts": int(open_alerts),
        "open_tasks": int(pending),
    }
