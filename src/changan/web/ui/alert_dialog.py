"""The alert detail dialog: passage images, plate, reason, site and the interception tasks."""

from __future__ import annotations

from nicegui import ui

from changan.alerts.models import Alert
from changan.alerts.service import get_alert
from changan.auth.principal import Actor
from changan.dispatch.models import Task
from changan.dispatch.service import list_tasks
from changan.kit.errors import ChanganError
from changan.plates import PlateClass
from changan.web.context import AppContext
from changan.web.ui.common import (
    ALERT_STATUS_ZH,
    TASK_STATUS_COLOUR,
    TASK_STATUS_ZH,
    eta_text,
    image_strip,
    local_time,
    outcome_text,
    plate_chip,
    show_error,
)


def site_label(ctx: AppContext, site_id: str) -> str:
    """The site's name from the network (its id if the network does not know it)."""
    site = ctx.network.sites.get(site_id)
    if site is None:
        return site_id
    if site.direction_label and site.direction_label not in site.name:
        return f"{site.name}（{site.direction_label}）"
    return site.name


def _load(ctx: AppContext, actor: Actor, alert_id: str) -> tuple[Alert, list[Task] | None, str | None]:
    """The alert (raises if not visible), its tasks (None with a reason if the actor may not read tasks)."""
    with ctx.reader() as session:
        alert = get_alert(session, actor, alert_id)
        try:
            tasks = [t for t in list_tasks(session, actor, limit=1000) if t.alert_id == alert_id]
        except ChanganError as exc:
            return alert, None, exc.message
    return alert, tasks, None


def _field(label: str, value: str) -> None:
    with ui.row().classes("gap-2 items-baseline no-wrap"):
        ui.label(label).classes("text-grey-7 w-20 shrink-0")
        ui.label(value).classes("font-medium")


def open_alert_dialog(ctx: AppContext, actor: Actor, alert_id: str, host: ui.element) -> None:
    """Open the dialog for ``alert_id`` inside ``host`` (a container that outlives list refreshes)."""
    try:
        alert, tasks, tasks_error = _load(ctx, actor, alert_id)
    except ChanganError as exc:
        show_error(exc)
        return
    now = ctx.clock()
    with host, ui.dialog() as dialog, ui.card().classes("w-[56rem] max-w-full gap-3"):
        with ui.row().classes("w-full items-center gap-3"):
            ui.label("预警详情").classes("text-xl font-bold")
            plate_chip(alert.plate_no, alert.plate_class).classes("text-lg")
            ui.badge(f"优先级 {alert.priority}", color="negative" if alert.priority >= 80 else "orange")
            ui.badge(ALERT_STATUS_ZH.get(alert.status, alert.status), color="grey-7")
            ui.space()
            ui.button(icon="close", on_click=dialog.close).props("flat round dense")
        image_strip(alert.images, width="w-80")
        _field("事由", alert.reason)
        _field("卡口", site_label(ctx, alert.site_id))
        _field("过车时间", local_time(alert.pass_time, "%Y-%m-%d %H:%M:%S"))
        known = PlateClass.try_parse(alert.plate_class)
        _field("号牌种类", f"{alert.plate_class} {known.label_zh}" if known else alert.plate_class)
        ui.separator()
        ui.label("拦截指令").classes("text-lg font-bold")
        if tasks is None:
            ui.label(tasks_error or "无权查看拦截指令").classes("text-grey-7")
        elif not tasks:
            ui.label("暂无拦截指令（前方无可用执法站）").classes("text-grey-7")
        for task in tasks or []:
            with ui.row().classes("w-full items-center gap-3 border rounded p-2"):
                ui.label(task.station_name).classes("font-bold")
                station = ctx.network.stations.get(task.station_id)
                if station is not None and station.estimated:
                    ui.label("（站点位置为估算）").classes("text-xs text-grey-6")
                ui.badge(
                    TASK_STATUS_ZH.get(task.status, task.status),
                    color=TASK_STATUS_COLOUR.get(task.status, "grey"),
                )
                ui.label(f"距离 {task.distance_m / 1000:.1f} km")
                if task.status == "closed":
                    ui.label(f"结果：{outcome_text(task.outcome)}（{task.closed_by or ''}）")
                else:
                    ui.label(eta_text(task.eta_at, now)).classes("font-mono")
                if task.acknowledged_by:
                    ui.label(f"签收：{task.acknowledged_by}").classes("text-sm text-grey-7")
    dialog.on("hide", dialog.delete)
    dialog.open()
