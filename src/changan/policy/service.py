"""The policy table: detector × rule × vehicle use/group × severity → what a detection becomes.

Actions: ``alert`` (an alert to act on now, with priority and handling
instruction), ``violation`` (a violation record for review, 非现场执法),
``both``, or ``statistic`` (kept as a detection, nothing more).

The built-in defaults (:data:`DEFAULTS`) hold until an operator stores rows
of their own through the API; a stored row with the same match fields
replaces a default, and the most specific matching row wins (more match
fields set; ties broken by the id). Two rules are fixed, whatever is stored
(ARCHITECTURE §2.4): fake and cloned plates are always alerts, and fatigue
is never a violation record by itself (a camera cannot see a change of
driver).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from changan.auth.audit import record
from changan.auth.principal import Actor, Role
from changan.kit.errors import NotFound, Unprocessable
from changan.kit.ids import derived_id
from changan.policy.models import PolicyRow

ACTIONS = ("alert", "violation", "both", "statistic")
SEVERITIES = ("normal", "serious", "critical")
GROUPS = ("small_passenger", "other", "key")
EDITORS = (Role.ADMIN, Role.COMMANDER)
READERS = tuple(Role)

ALWAYS_ALERT = {"clone", "fake_plate"}  # … except the mere absence from the registry:
NOT_A_CLAIM = {("fake_plate", "unregistered")}
NEVER_VIOLATION = {"fatigue"}


@dataclass(frozen=True, slots=True)
class Policy:
    detector: str
    rule: str | None
    vehicle_use: str | None
    vehicle_group: str | None
    severity: str | None
    action: str
    priority: int
    title: str
    instruction: str
    id: str = ""

    @property
    def specificity(self) -> int:
        return sum(x is not None for x in (self.rule, self.vehicle_use, self.vehicle_group, self.severity))

    @property
    def alerts(self) -> bool:
        return self.action in ("alert", "both")

    @property
    def records_violation(self) -> bool:
        return self.action in ("violation", "both")


def _p(
    detector: str,
    action: str,
    priority: int,
    title: str,
    instruction: str,
    *,
    rule: str | None = None,
    severity: str | None = None,
    use: str | None = None,
    group: str | None = None,
) -> Policy:
    pid = derived_id("policy", detector, rule or "", use or "", group or "", severity or "")
    return Policy(detector, rule, use, group, severity, action, priority, title, instruction, pid)


DEFAULTS: tuple[Policy, ...] = (
    _p(
        "watchlist", "alert", 90, "布控比中", "按布控类型处置：盗抢车辆拦截；在逃人员车辆跟踪报告，勿单警拦截"
    ),
    _p(
        "watchlist",
        "alert",
        40,
        "疑似布控比中（形近字符）",
        "先比对图片与布控号牌，人工确认后再下达指令",
        rule="lookalike",
    ),
    _p("clone", "alert", 85, "疑似套牌", "拦截核查：比对行驶证、车架号与登记信息"),
    _p("fake_plate", "alert", 85, "疑似假牌", "拦截核查号牌与行驶证"),
    _p(
        "fake_plate",
        "statistic",
        10,
        "未在本地登记",
        "仅供研判：外省、临时或军队号牌本地无登记属正常",
        rule="unregistered",
    ),
    _p("speeding", "violation", 30, "超速", "记录违法，待审核"),
    _p("speeding", "both", 70, "严重超速（超过 50%）", "拦截：依法扣留驾驶证", severity="critical"),
    _p("fatigue", "alert", 60, "疑似疲劳驾驶", "前方服务区劝导休息；核实是否换驾（摄像机无法识别换驾）"),
    _p("night_coach", "both", 60, "客运车辆凌晨 2–5 时违规运行", "引导至服务区停车休息"),
    _p("dangerous_goods_ban", "both", 70, "危化品车辆禁行时段上路", "拦截，责令就近驶离"),
    _p(
        "dangerous_goods_ban",
        "alert",
        60,
        "危化品车辆禁行时段在途",
        "护送至最近出口驶离，不作违法处理",
        rule="escort",
    ),
    _p("truck_left_lane", "violation", 20, "大型车辆占用最左侧车道", "记录违法，待审核"),
    _p("emergency_lane", "violation", 30, "违法占用应急车道", "记录违法，待审核"),
    _p("emergency_lane", "alert", 50, "疑似故障停车", "派员救援，设置警示", rule="breakdown"),
    _p("min_speed", "violation", 20, "低于最低限速", "记录违法，待审核"),
)


class PolicySet(BaseModel):
    """A policy row as the API takes it."""

    model_config = ConfigDict(extra="forbid")
    detector: str = Field(min_length=1, max_length=32)
    rule: str | None = Field(default=None, max_length=32)
    vehicle_use: str | None = Field(default=None, max_length=16)
    vehicle_group: str | None = Field(default=None, max_length=24)
    severity: str | None = Field(default=None, max_length=16)
    action: str
    priority: int = Field(ge=0, le=100)
    title: str = Field(min_length=1, max_length=64)
    instruction: str = Field(default="", max_length=2000)


class PolicyTable:
    """The effective policy: stored rows over the defaults, looked up per finding."""

    def __init__(self, rows: list[Policy]) -> None:
        merged = {(p.detector, p.rule, p.vehicle_use, p.vehicle_group, p.severity): p for p in DEFAULTS}
        for p in rows:
            merged[(p.detector, p.rule, p.vehicle_use, p.vehicle_group, p.severity)] = p
        self.rows = sorted(merged.values(), key=lambda p: (p.detector, -p.specificity, p.id))
        self._by_detector: dict[str, list[Policy]] = {}
        for p in self.rows:
            self._by_detector.setdefault(p.detector, []).append(p)
        self._cache: dict[tuple[str, str, str | None, str | None, str], Policy] = {}

    def decide(
        self, detector: str, rule: str, severity: str, vehicle_use: str | None, vehicle_group: str | None
    ) -> Policy:
        key = (detector, rule, vehicle_use, vehicle_group, severity)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        chosen: Policy | None = None
        for p in self._by_detector.get(detector, ()):
            if (
                (p.rule is None or p.rule == rule)
                and (p.severity is None or p.severity == severity)
                and (p.vehicle_use is None or p.vehicle_use == vehicle_use)
                and (p.vehicle_group is None or p.vehicle_group == vehicle_group)
            ):
                chosen = p
                break
        if chosen is None:
            chosen = Policy(detector, None, None, None, None, "statistic", 0, detector, "")
        self._cache[key] = chosen
        return chosen


def _of(row: PolicyRow) -> Policy:
    return Policy(
        row.detector,
        row.rule,
        row.vehicle_use,
        row.vehicle_group,
        row.severity,
        row.action,
        row.priority,
        row.title,
        row.instruction,
        row.id,
    )


def load_table(session: Session) -> PolicyTable:
    return PolicyTable([_of(r) for r in session.scalars(select(PolicyRow))])


def table_version(session: Session) -> tuple[Any, ...]:
    return tuple(session.execute(select(func.count(), func.max(PolicyRow.updated_at))).one())


def check(data: PolicySet, known_detectors: list[str]) -> None:
    """Refuse a policy row that cannot be right; the error names the field."""
    if data.detector not in known_detectors:
        msg = f"未知的检测器 {data.detector}（可用：{', '.join(known_detectors)}）"
        raise Unprocessable(msg, field="detector")
    if data.action not in ACTIONS:
        msg = f"处置方式须为 {' / '.join(ACTIONS)}"
        raise Unprocessable(msg, field="action")
    if data.severity is not None and data.severity not in SEVERITIES:
        msg = f"严重程度须为 {' / '.join(SEVERITIES)}"
        raise Unprocessable(msg, field="severity")
    if data.vehicle_group is not None and data.vehicle_group not in GROUPS:
        msg = f"车辆分组须为 {' / '.join(GROUPS)}"
        raise Unprocessable(msg, field="vehicle_group")
    if (
        data.detector in ALWAYS_ALERT
        and (data.detector, data.rule) not in NOT_A_CLAIM
        and data.action not in ("alert", "both")
    ):
        msg = "套牌与假牌检出必须预警（alert 或 both）"
        raise Unprocessable(msg, field="action")
    if data.detector in NEVER_VIOLATION and data.action in ("violation", "both"):
        msg = "疲劳驾驶只能预警核查，不能直接形成违法记录（摄像机无法识别换驾）"
        raise Unprocessable(msg, field="action")


def set_policy(
    session: Session, actor: Actor, data: PolicySet, *, known_detectors: list[str], now: datetime
) -> PolicyRow:
    """Store (or replace) the row with these match fields. Audited."""
    actor.require(*EDITORS, action="修改处置策略")
    check(data, known_detectors)
    pid = derived_id(
        "policy",
        data.detector,
        data.rule or "",
        data.vehicle_use or "",
        data.vehicle_group or "",
        data.severity or "",
    )
    row = session.get(PolicyRow, pid)
    before = None
    if row is None:
        row = PolicyRow(id=pid)
        session.add(row)
    else:
        before = {"action": row.action, "priority": row.priority, "title": row.title}
    for name, value in data.model_dump().items():
        setattr(row, name, value)
    row.updated_by = actor.username
    row.updated_at = now
    session.flush()
    record(
        session,
        actor,
        "policy.set",
        f"policy:{pid}",
        detail={"before": before, "after": data.model_dump()},
        now=now,
    )
    return row


def delete_policy(session: Session, actor: Actor, policy_id: str, *, now: datetime) -> None:
    """Remove a stored row (the default, if any, applies again). Audited."""
    actor.require(*EDITORS, action="修改处置策略")
    row = session.get(PolicyRow, policy_id)
    if row is None:
        msg = f"没有处置策略 {policy_id}"
        raise NotFound(msg)
    session.delete(row)
    record(session, actor, "policy.delete", f"policy:{policy_id}", detail={"detector": row.detector}, now=now)


def effective(session: Session, actor: Actor) -> list[dict[str, Any]]:
    actor.require(*READERS, action="查看处置策略")
    table = load_table(session)
    stored = {r.id for r in session.scalars(select(PolicyRow))}
    return [
        {
            "id": p.id,
            "detector": p.detector,
            "rule": p.rule,
            "vehicle_use": p.vehicle_use,
            "vehicle_group": p.vehicle_group,
            "severity": p.severity,
            "action": p.action,
            "priority": p.priority,
            "title": p.title,
            "instruction": p.instruction,
            "source": "stored" if p.id in stored else "default",
        }
        for p in table.rows
    ]
