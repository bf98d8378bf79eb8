"""API shapes of watchlist entries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    plate_no: Annotated[
        str,
        Field(min_length=2, max_length=32, description="号牌号码，如 鲁P12345；模糊布控时为模式，如 鲁P*8?5"),
    ]
    match_mode: Literal["exact", "pattern"] = Field(
        default="exact", description="exact 精确号牌；pattern 模糊：* 任意多位（可为零位），? 恰好一位"
    )
    plate_class: str | None = Field(default=None, description="号牌种类代码（GA 24.7），空则不限种类")
    reason: Annotated[str, Field(min_length=1, max_length=256, description="布控事由")]
    priority: Annotated[int, Field(ge=0, le=100)] = 50
    valid_from: AwareDatetime | None = Field(default=None, description="生效时间，默认立即")
    valid_until: AwareDatetime | None = Field(default=None, description="失效时间，默认长期")


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    plate_no: str
    match_mode: str
    plate_class: str | None
    reason: str
    priority: int
    valid_from: datetime
    valid_until: datetime | None
    status: str
    jurisdiction: str
    created_by: str
    created_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None
