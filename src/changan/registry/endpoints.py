"""HTTP endpoints of the vehicle registry: one vehicle's registration (audited), and import."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from changan.kit.errors import NotFound, Unprocessable
from changan.registry import service
from changan.registry.importer import ImportFormatError, detect_format
from changan.registry.schemas import ImportReportOut, RegistryOut
from changan.web.deps import Ctx, CurrentActor

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])

MAX_REPORTED_ISSUES = 10_000


@router.get("/{vehicle_key}", response_model=RegistryOut, summary="查询车辆登记信息（须说明用途，记入审计）")
def get_record(
    vehicle_key: str,
    ctx: Ctx,
    actor: CurrentActor,
    purpose: str = Query(description="查询用途（必填，记入审计日志）"),
    case_no: str | None = Query(default=None, description="案件编号"),
) -> RegistryOut:
    with ctx.uow() as session:
        row = service.lookup(session, actor, vehicle_key, purpose=purpose, case_no=case_no, now=ctx.clock())
        out = RegistryOut.of(row) if row is not None else None
    if out is None:  # after the commit: the audit record of a miss is kept
        msg = f"车辆 {service.parse_key(vehicle_key)} 不在登记库中（临时、外省、军队号牌可能本就不在库中）"
        raise NotFound(msg, field="vehicle_key")
    return out


@router.post("/import", response_model=ImportReportOut, summary="导入车辆登记（CSV、JSON Lines、Parquet）")
def import_registry(
    ctx: Ctx,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="登记文件：.csv、.jsonl、.json 或 .parquet")],
    source: Annotated[str | None, Form(description="数据来源名称，默认为文件名")] = None,
) -> ImportReportOut:
    actor.require(*service.IMPORTERS, action="导入车辆登记")
    name = file.filename or ""
    try:
        fmt = detect_format(name)
    except ImportFormatError as exc:
        raise Unprocessable(exc.message, field="file") from None
    with tempfile.TemporaryDirectory(prefix="changan-registry-") as tmp:
        path = Path(tmp) / f"upload{Path(name).suffix.lower()}"
        with open(path, "wb") as out:
            shutil.copyfileobj(file.file, out)
        report = service.import_file(
            ctx.uow, actor, path, clock=ctx.clock, source=source or Path(name).name, fmt=fmt
        )
    return ImportReportOut.model_validate(report.to_dict(max_issues=MAX_REPORTED_ISSUES))
