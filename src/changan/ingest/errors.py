"""Per-item validation errors: index, field and reason, with pydantic's messages in Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为布尔值",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "datetime_type": "应为 ISO 8601 时间",
    "datetime_parsing": "不是有效的 ISO 8601 时间",
    "datetime_from_date_parsing": "不是有效的 ISO 8601 时间",
    "timezone_aware": "时间缺少时区（例如 +08:00 或 Z）",
    "string_too_short": "不能为空或过短",
    "string_too_long": "过长",
    "string_pattern_mismatch": "格式不正确",
    "greater_than_equal": "过小",
    "less_than_equal": "过大",
    "greater_than": "过小",
    "less_than": "过大",
    "too_long": "元素过多",
    "too_short": "元素过少",
    "value_error": "取值无效",
}


@dataclass(frozen=True, slots=True)
class ItemError:
    index: int
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


def field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(body)"


def from_validation_error(index: int, exc: ValidationError) -> list[ItemError]:
    errors = []
    for err in exc.errors(include_url=False):
        kind = err["type"]
        msg = err["msg"]
        if kind == "value_error":
            reason = msg.removeprefix("Value error, ")
        else:
            reason = f"{_ZH[kind]}（{msg}）" if kind in _ZH else msg
        errors.append(ItemError(index=index, field=field_path(tuple(err["loc"])), reason=reason))
    return errors
