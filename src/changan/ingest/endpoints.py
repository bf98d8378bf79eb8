"""HTTP endpoint of the native JSON ingest."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from changan.devices.service import active_sites
from changan.ingest.service import prepare_native, store_batch
from changan.kit.errors import PayloadTooLarge
from changan.kit.metrics import INGEST_ACCEPTED, INGEST_DUPLICATES, INGEST_REJECTED
from changan.web.deps import Ctx, CurrentDevice

router = APIRouter(prefix="/api/v1", tags=["ingest"])

_EXAMPLE: dict[str, Any] = {
    "passages": [
        {
            "external_id": "K001-20261129-000001",
            "device_id": "cam-001",
            "pass_time": "2026-11-29T10:00:00+08:00",
            "plate_no": "鲁P12345",
            "plate_class": "02",
            "plate_color": "blue",
            "vehicle_class": "K33",
            "lane_no": 2,
            "speed_kmh": 96.5,
            "images": [{"type": "01", "data": "/9j/4AAQSkZJRgABAQAAAQABAAD/2Q=="}],
        }
    ]
}


@router.post(
    "/passages",
    summary="提交过车记录（1–10 000 条一批）",
    openapi_extra={"requestBody": {"content": {"application/json": {"example": _EXAMPLE}}, "required": True}},
    responses={
        200: {"description": "全部接收（accepted/duplicates）"},
        400: {"description": "请求体无法解析"},
        401: {"description": "设备密钥无效"},
        413: {"description": "请求体过大"},
        422: {"description": "部分或全部条目被拒；errors 列出 index、field、reason，其余已持久保存"},
    },
)
async def post_passages(request: Request, ctx: Ctx, key: CurrentDevice) -> JSONResponse:
    """Acknowledged means durable: the response is sent only after the transaction has committed."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > ctx.settings.ingest_max_body_bytes:
        msg = f"请求体 {declared} 字节，超过上限 {ctx.settings.ingest_max_body_bytes}"
        raise PayloadTooLarge(msg, field="(body)")
    body = await request.body()
    if len(body) > ctx.settings.ingest_max_body_bytes:
        msg = f"请求体超过上限 {ctx.settings.ingest_max_body_bytes} 字节"
        raise PayloadTooLarge(msg, field="(body)")

    def work() -> JSONResponse:
        now = ctx.clock()
        with ctx.reader() as reader:  # parse and check outside the write transaction
            batch = prepare_native(
                key,
                body,
                content_type=request.headers.get("content-type"),
                devices=lambda ids: active_sites(reader, ids),
                network=ctx.network,
                images=ctx.images,
                limits=ctx.ingest_limits,
                now=now,
            )
        with ctx.uow() as session:
            result = store_batch(session, batch, now=now)
        INGEST_ACCEPTED.inc(result.accepted)
        INGEST_DUPLICATES.inc(result.duplicates)
        INGEST_REJECTED.inc(len({e.index for e in result.errors}))
        return JSONResponse(result.to_dict(), status_code=result.status_code)

    return await run_in_threadpool(work)
