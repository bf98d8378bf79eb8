"""API shapes of temporary speed limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from changan.limits.models import SpeedLimit

LimitStatus = Literal["scheduled", "active", "expired", "revoked"]


class LimitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    road_id: Annotated[str, Field(min_length=1, max_length=32, description="道路编号，如 G0321")]
    from_node: Annotated[str, Field(min_length=1, max_length=64, description="限速路段起点节点")]
    to_node: Annotated[
        str, Field(min_length=1, max_length=64, description="限速路段终点节点（行驶方向：起点→终点）")
    ]
    limit_kmh: Annotated[int, Field(ge=20, le=120, description="临时限速值（公里/小时），20–120")]
    valid_from: AwareDatetime | None = Field(default=None, description="生效时间，默认立即")
    valid_until: AwareDatetime | None = Field(default=None, description="失效时间，默认至撤销为止")
    reason: Annotated[str, Field(min_length=1, max_length=256, description="限速事由：团雾、施工 …")]


def status_of(row: SpeedLimit, now: datetime) -> LimitStatus:
    if row.revoked_at is not None:
        return "revoked"
    if row.valid_until is not None and row.valid_until <= now:
        return "expired"
    if row.valid_from > now:
        return "scheduled"
    return "active"


class LimitOut(BaseModel):
    id: str
    road_id: str
    from_node: str
    to_node: str
    limit_kmh: int
    valid_from: datetime
    valid_until: datetime | None
    reason: str
    status: LimitStatus
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: SpeedLimit, now: datetime) -> LimitOut:
        return cls(
            id=row.id,
            road_id=row.road_id,
            from_node=row.from_node,
            to_node=row.to_node,
            limit_kmh=row.limit_kmh,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            reason=row.reason,
            status=status_of(row, now),
            created_by=row.created_by,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )
