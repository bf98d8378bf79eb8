"""``/watchlist`` 布控: the entries in the actor's jurisdiction, an add form and 撤销 for editors."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from pydantic import ValidationError

from changan.auth.principal import Actor
from changan.kit.errors import ChanganError
from changan.plates import PlateClass
from changan.watchlist.models import WatchlistEntry
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import EDITORS, create_entry, list_entries, revoke_entry
from changan.web.context import AppContext
from changan.web.ui.common import local_time, nav_header, plate_chip, show_error
from changan.web.ui.session import require_actor

ENTRY_STATUS_ZH = {"active": "布控中", "revoked": "已撤销"}
_FIELD_ZH = {"plate_no": "号牌号码", "plate_class": "号牌种类", "reason": "布控事由", "priority": "优先级"}
ANY_CLASS = ""


def plate_class_options() -> dict[str, str]:
    options = {ANY_CLASS: "不限种类"}
    options.update({c.value: f"{c.value} {c.label_zh}" for c in PlateClass})
    return options


def validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    return f"{_FIELD_ZH.get(name, name)}：{first['msg']}"


def _load(ctx: AppContext, actor: Actor) -> tuple[list[WatchlistEntry], str | None]:
    with ctx.reader() as session:
        try:
            return list_entries(session, actor), None
        except ChanganError as exc:
            return [], exc.message


def watchlist_page(request: Request) -> RedirectResponse | None:
    guard = require_actor(request)
    if isinstance(guard, RedirectResponse):
        return guard
    ctx, actor = guard
    nav_header(actor, "/watchlist")
    can_edit = actor.has(*EDITORS)
    state: dict[str, tuple[list[WatchlistEntry], str | None]] = {"entries": _load(ctx, actor)}

    def reload() -> None:
        state["entries"] = _load(ctx, actor)
        entries_view.refresh()

    def revoke(entry_id: str, plate_no: str) -> None:
        try:
            with ctx.uow() as session:
                revoke_entry(session, actor, entry_id, now=ctx.clock())
        except ChanganError as exc:
            show_error(exc)
            return
        ui.notify(f"已撤销 {plate_no} 的布控", type="positive", position="top")
        reload()

    @ui.refreshable
    def entries_view() -> None:
        entries, error = state["entries"]
        if error:
            ui.label(error).classes("text-negative")
            return
        if not entries:
            ui.label("暂无布控").classes("text-grey-7")
            return
        with ui.grid(columns="auto 1fr auto auto auto auto auto").classes(
            "w-full items-center gap-x-4 gap-y-2"
        ):
            for head in ("号牌", "布控事由", "种类", "优先级", "状态", "创建", ""):
                ui.label(head).classes("text-grey-7 text-sm font-bold")
            for entry in entries:
                plate_chip(entry.plate_no, entry.plate_class)
                ui.label(entry.reason).classes("break-all")
                ui.label(PlateClass(entry.plate_class).label_zh if entry.plate_class else "不限")
                ui.label(str(entry.priority))
                ui.badge(
                    ENTRY_STATUS_ZH.get(entry.status, entry.status),
                    color="negative" if entry.status == "active" else "grey",
                )
                ui.label(f"{entry.created_by} {local_time(entry.created_at, '%Y-%m-%d %H:%M')}").classes(
                    "text-sm"
                )
                if can_edit and entry.status == "active":
                    ui.button("撤销", on_click=partial(revoke, entry.id, entry.plate_no)).props(
                        "flat dense color=negative"
                    )
                else:
                    ui.label("")

    with ui.column().classes("w-full p-4 gap-4"):
        ui.label("布控").classes("text-xl font-bold")
        if can_edit:
            _add_form(ctx, actor, reload)
        else:
            ui.label("您的角色只能查看布控；添加和撤销需要指挥长或布控审批人。").classes(
                "text-sm text-grey-7"
            )
        with ui.card().classes("w-full"):
            entries_view()
    return None


def _add_form(ctx: AppContext, actor: Actor, reload: Callable[[], None]) -> None:
    with ui.card().classes("w-full"), ui.row().classes("w-full items-end gap-3"):
        plate = ui.input("号牌号码", placeholder="如 鲁P12345").props("outlined dense").classes("w-44")
        plate_class = (
            ui.select(plate_class_options(), value=ANY_CLASS, label="号牌种类", with_input=True)
            .props("outlined dense")
            .classes("w-48")
        )
        reason = ui.input("布控事由").props("outlined dense").classes("flex-grow min-w-64")
        priority = (
            ui.number("优先级", value=50, min=0, max=100, step=10, format="%d")
            .props("outlined dense")
            .classes("w-28")
        )

        def submit() -> None:
            try:
                data = EntryCreate(
                    plate_no=str(plate.value or ""),
                    plate_class=str(plate_class.value) if plate_class.value else None,
                    reason=str(reason.value or ""),
                    priority=int(priority.value if priority.value is not None else 50),
                )
            except ValidationError as exc:
                ui.notify(validation_message(exc), type="negative", position="top")
                return
            try:
                with ctx.uow() as session:
                    entry = create_entry(session, actor, data, now=ctx.clock())
                    shown = entry.plate_no
            except ChanganError as exc:
                show_error(exc)
                return
            ui.notify(f"已添加布控 {shown}", type="positive", position="top")
            plate.set_value("")
            reason.set_value("")
            reload()

        ui.button("添加布控", on_click=submit).props("color=primary")
