"""The native JSON passage format (``POST /api/v1/passages``)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from changan.plates import PlateClass, PlateColor

IMAGE_TYPES = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "100")
_PLATE_CHARS = (
    "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新"
    "挂学警港澳领使应急试超军临·• \u3000\\-"
    "A-Za-z0-9\uff01-\uff5e"  # ASCII letters and digits, and their full-width forms
    "蓝黄白黑绿渐变"  # colour prefixes (Hikvision)
)
_NOT_PLATE_CHAR = re.compile(f"[^{_PLATE_CHARS}]")
_NO_PLATE = {"无车牌", "无牌", "noplate", "unknown", "车牌"}


class ImageIn(BaseModel):
    """One image: base64 ``data`` or a ``url``, exactly one of them."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(default="01", description="GA/T 1400 image type: 01 full image, 02 plate crop, …")
    data: str | None = Field(default=None, description="base64 bytes, no data-URI prefix")
    url: Annotated[str, Field(max_length=1024)] | None = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in IMAGE_TYPES:
            msg = f"图片类型 {value!r} 无效，应为 GA/T 1400 图像类型代码 01–14 或 100"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ImageIn:
        if (self.data is None) == (self.url is None):
            msg = "data 与 url 须且只能给出一个"
            raise ValueError(msg)
        return self

    def decoded(self) -> bytes:
        assert self.data is not None
        try:
            return base64.b64decode(self.data, validate=True)
        except (binascii.Error, ValueError):
            msg = "不是有效的 base64"
            raise ValueError(msg) from None


class PassageIn(BaseModel):
    """One passage as a device or gateway posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: Annotated[str, Field(min_length=1, max_length=128, description="id unique per device")]
    device_id: Annotated[str, Field(min_length=1, max_length=64)]
    pass_time: AwareDatetime = Field(description="event time with a timezone, ISO 8601")
    plate_no: Annotated[str, Field(min_length=1, max_length=32, description="plate as read; 无车牌 if none")]
    plate_class: str | None = Field(default=None, description="GA 24.7 号牌种类 code, e.g. 02")
    plate_color: PlateColor | None = Field(default=None, description="blue, yellow, white, black, green, …")
    vehicle_class: Annotated[str, Field(pattern=r"^[A-Z][0-9A-Z]{2}$")] | None = Field(
        default=None, description="GA 24.4 车辆类型, e.g. K33, H11"
    )
    vehicle_color: Annotated[str, Field(max_length=16)] | None = None
    vehicle_brand: Annotated[str, Field(max_length=64)] | None = None
    lane_no: Annotated[int, Field(ge=1, le=16)] | None = None
    speed_kmh: Annotated[float, Field(ge=0, le=400)] | None = None
    plate_confidence: Annotated[float, Field(ge=0, le=100)] | None = None
    images: Annotated[list[ImageIn], Field(max_length=8)] = Field(default_factory=list)

    @field_validator("plate_no")
    @classmethod
    def _plate_chars(cls, value: str) -> str:
        if value.lower() in _NO_PLATE:
            return value
        if _NOT_PLATE_CHAR.search(value):
            bad = sorted(set(_NOT_PLATE_CHAR.findall(value)))
            msg = f"号牌含有号牌中不可能出现的字符：{''.join(bad)}"
            raise ValueError(msg)
        return value

    @field_validator("plate_class")
    @classmethod
    def _plate_class(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _class_code(value)


@lru_cache(maxsize=256)
def _class_code(value: str) -> str:
    return PlateClass.parse(value).value


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The pass times a batch received at ``now`` may carry (computed once per batch)."""

    earliest: datetime
    latest: datetime
    future_skew_s: int
    max_age_days: int

    @classmethod
    def around(cls, now: datetime, *, future_skew_s: int, max_age_days: int) -> TimeWindow:
        return cls(
            now - timedelta(days=max_age_days),
            now + timedelta(seconds=future_skew_s),
            future_skew_s,
            max_age_days,
        )

    def check(self, pass_time: datetime) -> str | None:
        """Reason a pass time is out of range, or None."""
        if pass_time > self.latest:
            return f"过车时间晚于当前时间超过 {self.future_skew_s} 秒（设备时钟可能有误）"
        if pass_time < self.earliest:
            return f"过车时间早于当前时间超过 {self.max_age_days} 天"
        return None


def unwrap_batch(body: Any, max_batch: int) -> list[Any]:
    """The list of items in a body ``{"passages": [...]}``; ValueError(field, reason) otherwise."""
    if not isinstance(body, dict):
        msg = '请求体应为对象 {"passages": [...]}'
        msg_0 = "(body)"
        raise BatchShapeError(msg_0, msg)
    extra = set(body) - {"passages"}
    if extra:
        msg = f"不认识的字段：{', '.join(sorted(extra))}"
        raise BatchShapeError(sorted(extra)[0], msg)
    items = body.get("passages")
    if not isinstance(items, list):
        msg = "缺少数组 passages" if items is None else "passages 应为数组"
        msg_0 = "passages"
        raise BatchShapeError(msg_0, msg)
    if not items:
        msg = "passages 不能为空（每批 1 至上限条）"
        msg_0 = "passages"
        raise BatchShapeError(msg_0, msg)
    if len(items) > max_batch:
        msg = f"每批最多 {max_batch} 条，本批 {len(items)} 条"
        msg_0 = "passages"
        raise BatchShapeError(msg_0, msg)
    return items


class BatchShapeError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
