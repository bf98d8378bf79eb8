"""``/`` 指挥中心: counters, the live alert and task lists, and the network schematic.

The lists are pushed: a :class:`~changan.web.ui.common.LiveRefresh` listener marks the page dirty when
the outbox dispatcher publishes ``alert.created`` / ``task.created`` / ``task.updated`` in the actor's
jurisdiction, and a 0.5 s timer re-renders the lists (and the red alert markers) only then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from changan.alerts.models import Alert
from changan.alerts.service import list_alerts
from changan.auth.principal import Actor
from changan.dispatch.models import Task
from changan.dispatch.service import list_tasks
from changan.kit.errors import ChanganError
from changan.web.app import counters
from changan.web.context import AppContext
from changan.web.ui.alert_dialog import open_alert_dialog, site_label
from changan.web.ui.common import (
    TASK_STATUS_COLOUR,
    TASK_STATUS_ZH,
    EtaTicker,
    LiveRefresh,
    local_time,
    nav_header,
    outcome_text,
    plate_chip,
)
from changan.web.ui.schematic import AlertMark, alert_series, caption, schematic_options
from changan.web.ui.session import require_actor

LIST_LIMIT = 50
COUNTERS = (
    ("passages", "过车总数"),
    ("alerts", "预警总数"),
    ("open_alerts", "未处置预警"),
    ("open_tasks", "未办结指令"),
)


@dataclass
class Board:
    """What the command centre shows; reloaded on every pushed change."""

    alerts: list[Alert] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    alerts_error: str | None = None
    tasks_error: str | None = None

    def load(self, ctx: AppContext, actor: Actor) -> None:
        with ctx.reader() as session:
            try:
                self.alerts, self.alerts_error = list_alerts(session, actor, limit=LIST_LIMIT), None
            except ChanganError as exc:
                self.alerts, self.alerts_error = [], exc.message
            try:
                self.tasks, self.tasks_error = list_tasks(session, actor, limit=LIST_LIMIT), None
            except ChanganError as exc:
                self.tasks, self.tasks_error = [], exc.message

    def marks(self) -> list[AlertMark]:
        return [AlertMark(a.plate_no, a.site_id) for a in self.alerts if a.status == "open"]

    def plate_class_of(self, alert_id: str) -> str | None:
        return next((a.plate_class for a in self.alerts if a.id == alert_id), None)


def _counter_cards(ctx: AppContext) -> None:
    values: dict[str, ui.label] = {}
    with ui.row().classes("w-full gap-4"):
        for key, label in COUNTERS:
            with ui.card().classes("min-w-40 px-6 py-3 gap-0 items-center"):
                values[key] = ui.label("–").classes("text-3xl font-bold text-blue-10")
                ui.label(label).classes("text-grey-7 text-sm")

    def refresh() -> None:
        numbers = counters(ctx)
        for key, shown in values.items():
            shown.set_text(f"{numbers.get(key, 0):,}")

    refresh()
    ui.timer(2.0, refresh)


def command_page(request: Request) -> RedirectResponse | None:
    guard = require_actor(request)
    if isinstance(guard, RedirectResponse):
        return guard
    ctx, actor = guard
    nav_header(actor, "/")
    board = Board()
    board.load(ctx, actor)
    geojson = ctx.network.to_geojson()
    host = ui.element("div")  # dialogs live here, so that list refreshes do not delete them
    ticker = EtaTicker(ctx)

    def open_alert(alert_id: str) -> None:
        open_alert_dialog(ctx, actor, alert_id, host)

    @ui.refreshable
    def alerts_view() -> None:
        if board.alerts_error:
            ui.label(board.alerts_error).classes("text-grey-7")
            return
        if not board.alerts:
            ui.label("暂无预警").classes("text-grey-7")
        for alert in board.alerts:
            _alert_row(ctx, alert, open_alert)

    @ui.refreshable
    def tasks_view() -> None:
        ticker.clear()
        if board.tasks_error:
            ui.label(board.tasks_error).classes("text-grey-7")
            return
        if not board.tasks:
            ui.label("暂无拦截指令").classes("text-grey-7")
        for task in board.tasks:
            _task_row(task, board.plate_class_of(task.alert_id), ticker, open_alert)

    with ui.column().classes("w-full p-4 gap-4"):
        _counter_cards(ctx)
        with ui.row().classes("w-full items-start gap-4 no-wrap"):
            with ui.column().classes("w-5/12 min-w-[28rem] gap-2"):
                ui.label("实时预警").classes("text-lg font-bold")
                with ui.scroll_area().classes("h-[24rem] border rounded bg-white"):
                    alerts_view()
                ui.label("拦截指令").classes("text-lg font-bold")
                with ui.scroll_area().classes("h-[20rem] border rounded bg-white"):
                    tasks_view()
            with ui.column().classes("flex-grow gap-1"):
                ui.label("路网示意图").classes("text-lg font-bold")
                chart = ui.echart(schematic_options(geojson, board.marks())).classes(
                    "w-full h-[36rem] border rounded bg-white"
                )
                ui.label(caption(geojson)).classes("text-sm text-orange-9 font-bold")

    def reload() -> None:
        board.load(ctx, actor)
        alerts_view.refresh()
        tasks_view.refresh()
        series: list[dict[str, Any]] = chart.options["series"]
        series[-1] = alert_series(geojson, board.marks())
        chart.update()

    LiveRefresh(ctx, actor, reload)
    return None


def _alert_row(ctx: AppContext, alert: Alert, open_alert: Callable[[str], None]) -> None:
    open_ = alert.status == "open"
    with (
        ui.row()
        .classes("w-full items-center gap-3 px-3 py-2 border-b cursor-pointer hover:bg-blue-1 no-wrap")
        .on("click", partial(open_alert, alert.id))
    ):
        plate_chip(alert.plate_no, alert.plate_class)
        with ui.column().classes("gap-0 flex-grow min-w-0"):
            ui.label(alert.reason).classes("font-medium truncate" + ("" if open_ else " text-grey-6"))
            ui.label(f"{site_label(ctx, alert.site_id)} · {local_time(alert.pass_time)}").classes(
                "text-xs text-grey-7 truncate"
            )
        ui.badge(f"P{alert.priority}", color="negative" if alert.priority >= 80 else "orange").tooltip(
            "优先级"
        )


def _task_row(
    task: Task, plate_class: str | None, ticker: EtaTicker, open_alert: Callable[[str], None]
) -> None:
    with (
        ui.row()
        .classes("w-full items-center gap-3 px-3 py-2 border-b cursor-pointer hover:bg-blue-1 no-wrap")
        .on("click", partial(open_alert, task.alert_id))
    ):
        plate_chip(task.plate_no, plate_class).classes("shrink-0")
        ui.badge(
            TASK_STATUS_ZH.get(task.status, task.status), color=TASK_STATUS_COLOUR.get(task.status, "grey")
        ).classes("shrink-0")
        with ui.column().classes("gap-0 flex-grow min-w-0"):
            ui.label(task.station_name).classes("font-medium truncate")
            ui.label(f"距离 {task.distance_m / 1000:.1f} km").classes("text-xs text-grey-7")
        with ui.column().classes("gap-0 items-end shrink-0 max-w-[12rem]"):
            if task.status == "closed":
                ui.label(outcome_text(task.outcome)).classes("text-sm text-grey-7 truncate max-w-[12rem]")
            else:
                ticker.add(task.eta_at)
