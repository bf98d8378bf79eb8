"""``/station`` 执法站: the interception tasks of one enforcement station, with 签收 and 办结.

Officers see their own station (``actor.station_id``); commanders and others choose any station in
their jurisdiction. Every write is one unit of work through the dispatch service, which checks the
role and the jurisdiction; its errors are shown as red notices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from changan.alerts.models import Alert
from changan.alerts.service import get_alert
from changan.auth.principal import Actor, Role
from changan.dispatch.models import Task
from changan.dispatch.service import OUTCOMES, WORKERS, acknowledge, close, list_tasks
from changan.kit.errors import ChanganError
from changan.web.context import AppContext
from changan.web.ui.alert_dialog import site_label
from changan.web.ui.common import (
    OUTCOME_ZH,
    TASK_STATUS_COLOUR,
    TASK_STATUS_ZH,
    EtaTicker,
    LiveRefresh,
    image_strip,
    local_time,
    nav_header,
    outcome_text,
    plate_chip,
    show_error,
)
from changan.web.ui.session import require_actor


def stations_for(ctx: AppContext, actor: Actor) -> dict[str, str]:
    """Station id → name of the stations an actor may choose (their own only, for a bound officer)."""
    if actor.station_id and not actor.has(Role.COMMANDER):
        station = ctx.network.stations.get(actor.station_id)
        return {actor.station_id: station.name if station else actor.station_id}
    return {s.id: s.name for s in ctx.network.stations.values() if actor.sees(s.jurisdiction)}


@dataclass
class StationBoard:
    station_id: str | None
    tasks: list[Task] = field(default_factory=list)
    alerts: dict[str, Alert | None] = field(default_factory=dict)
    error: str | None = None

    def load(self, ctx: AppContext, actor: Actor) -> None:
        self.tasks, self.alerts, self.error = [], {}, None
        if self.station_id is None:
            return
        with ctx.reader() as session:
            try:
                self.tasks = list_tasks(session, actor, station_id=self.station_id)
            except ChanganError as exc:
                self.error = exc.message
                return
            for task in self.tasks:
                if task.alert_id not in self.alerts:
                    try:
                        self.alerts[task.alert_id] = get_alert(session, actor, task.alert_id)
                    except ChanganError:
                        self.alerts[task.alert_id] = None  # outside the actor's view: show the task only


def station_page(request: Request) -> RedirectResponse | None:
    guard = require_actor(request)
    if isinstance(guard, RedirectResponse):
        return guard
    ctx, actor = guard
    nav_header(actor, "/station")
    choices = stations_for(ctx, actor)
    first = actor.station_id if actor.station_id in choices else next(iter(choices), None)
    board = StationBoard(first)
    board.load(ctx, actor)
    ticker = EtaTicker(ctx)
    host = ui.element("div")
    can_work = actor.has(*WORKERS)

    def write(action: Callable[[], object], done: str) -> None:
        try:
            action()
        except ChanganError as exc:
            show_error(exc)
            return
        ui.notify(done, type="positive", position="top")
        reload()

    def do_ack(task_id: str) -> None:
        def action() -> None:
            with ctx.uow() as session:
                acknowledge(session, actor, task_id, now=ctx.clock())

        write(action, "已签收")

    def do_close(task_id: str, outcome: str, note: str) -> None:
        def action() -> None:
            with ctx.uow() as session:
                close(session, actor, task_id, outcome=outcome, note=note.strip(), now=ctx.clock())

        write(action, "已办结")

    def close_dialog(task: Task) -> None:
        with host, ui.dialog() as dialog, ui.card().classes("w-96 gap-3"):
            ui.label(f"办结 {task.plate_no}").classes("text-lg font-bold")
            outcome = ui.select(
                {o: OUTCOME_ZH[o] for o in OUTCOMES}, label="结果", value="intercepted"
            ).classes("w-full")
            note = ui.textarea("备注").props("outlined autogrow").classes("w-full")

            def confirm() -> None:
                dialog.close()
                do_close(task.id, str(outcome.value), str(note.value or ""))

            with ui.row().classes("w-full justify-end"):
                ui.button("取消", on_click=dialog.close).props("flat")
                ui.button("确定办结", on_click=confirm).props("color=positive")
        dialog.on("hide", dialog.delete)
        dialog.open()

    @ui.refreshable
    def tasks_view() -> None:
        ticker.clear()
        if board.station_id is None:
            ui.label("您的账号未绑定执法站，且管辖范围内没有执法站。").classes("text-grey-7")
            return
        if board.error:
            ui.label(board.error).classes("text-negative")
            return
        if not board.tasks:
            ui.label("本站暂无拦截指令").classes("text-grey-7 text-lg")
        for task in board.tasks:
            _task_card(ctx, task, board.alerts.get(task.alert_id), ticker, can_work, do_ack, close_dialog)

    def reload() -> None:
        board.load(ctx, actor)
        tasks_view.refresh()

    def choose(station_id: str | None) -> None:
        board.station_id = station_id
        reload()

    with ui.column().classes("w-full p-4 gap-4"):
        with ui.row().classes("items-center gap-4"):
            ui.label("执法站").classes("text-xl font-bold")
            if len(choices) > 1:
                ui.select(
                    choices,
                    value=first,
                    label="选择执法站",
                    with_input=True,
                    on_change=lambda e: choose(e.value),
                ).classes("w-72")
            elif first is not None:
                ui.label(choices[first]).classes("text-xl text-blue-10")
        with ui.column().classes("w-full gap-3"):
            tasks_view()
    LiveRefresh(ctx, actor, reload)
    return None


def _task_card(
    ctx: AppContext,
    task: Task,
    alert: Alert | None,
    ticker: EtaTicker,
    can_work: bool,
    on_ack: Callable[[str], None],
    on_close: Callable[[Task], None],
) -> None:
    closed = task.status == "closed"
    with ui.card().classes("w-full gap-2" + (" opacity-70" if closed else "")):
        with ui.row().classes("w-full items-center gap-3"):
            plate_chip(task.plate_no, alert.plate_class if alert else None).classes("text-xl")
            ui.badge(
                TASK_STATUS_ZH.get(task.status, task.status),
                color=TASK_STATUS_COLOUR.get(task.status, "grey"),
            )
            if closed:
                ui.label(f"结果：{outcome_text(task.outcome)}").classes("text-grey-8")
            else:
                ticker.add(task.eta_at).classes("text-lg")
            ui.label(f"距离 {task.distance_m / 1000:.1f} km").classes("text-grey-8")
            ui.space()
            if can_work and task.status == "pending":
                ui.button("签收", on_click=partial(on_ack, task.id)).props("color=primary")
            if can_work and not closed:
                ui.button("办结", on_click=partial(on_close, task)).props("color=positive")
        if alert is not None:
            ui.label(alert.reason).classes("font-medium")
            ui.label(
                f"{site_label(ctx, alert.site_id)} · 过车 {local_time(alert.pass_time)} · 优先级 {alert.priority}"
            ).classes("text-sm text-grey-7")
            image_strip(alert.images)
        else:
            ui.label("预警详情不在您的查看范围内").classes("text-sm text-grey-7")
        details = [f"下发 {local_time(task.created_at)}"]
        if task.acknowledged_at:
            details.append(f"签收 {local_time(task.acknowledged_at)} {task.acknowledged_by or ''}")
        if task.closed_at:
            details.append(f"办结 {local_time(task.closed_at)} {task.closed_by or ''}")
        ui.label(" · ".join(details)).classes("text-xs text-grey-6")
