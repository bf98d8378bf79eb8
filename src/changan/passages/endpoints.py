"""HTTP endpoints of passage search and images."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from changan.auth.principal import Role
from changan.kit.errors import NotFound
from changan.passages import service
from changan.passages.images import SAFE_IMAGE_HEADERS, content_type_of
from changan.passages.models import Passage
from changan.web.deps import Ctx, CurrentActor

router = APIRouter(prefix="/api/v1", tags=["passages"])


def passage_out(p: Passage) -> dict[str, Any]:
    return {
        "seq": p.seq,
        "source": p.source,
        "external_id": p.external_id,
        "device_id": p.device_id,
        "site_id": p.site_id,
        "plate_no": p.plate_no,
        "plate_raw": p.plate_raw,
        "plate_kind": p.plate_kind,
        "plate_class": p.plate_class,
        "plate_color": p.plate_color,
        "vehicle_key": p.vehicle_key,
        "vehicle_class": p.vehicle_class,
        "lane_no": p.lane_no,
        "speed_kmh": p.speed_kmh,
        "pass_time": p.pass_time.isoformat(),
        "images": p.images,
    }


@router.get("/passages", summary="查询过车记录（须说明用途，记入审计）")
def search_passages(
    ctx: Ctx,
    actor: CurrentActor,
    purpose: str = Query(description="查询用途（必填，记入审计日志）"),
    case_no: str | None = Query(default=None, description="案件编号"),
    plate_no: str | None = None,
    site_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[dict[str, Any]]:
    with ctx.uow() as session:
        rows = service.search(
            session,
            actor,
            purpose=purpose,
            case_no=case_no,
            plate_no=plate_no,
            site_id=site_id,
            since=since,
            until=until,
            limit=limit,
            now=ctx.clock(),
        )
        return [passage_out(p) for p in rows]


@router.get("/images/{name}", summary="过车图片")
def get_image(name: str, ctx: Ctx, actor: CurrentActor) -> Response:
    actor.require(Role.COMMANDER, Role.OFFICER, Role.ANALYST, Role.APPROVER, action="查看过车图片")
    try:
        data = ctx.images.get(name)
    except ValueError:
        data = None
    if data is None:
        msg = f"图片 {name} 不存在"
        raise NotFound(msg, field="name")
    return Response(content=data, media_type=content_type_of(name), headers=SAFE_IMAGE_HEADERS)
