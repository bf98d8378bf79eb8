"""Pieces shared by the pages: navigation header, plate chip, times, images, errors and live refresh."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from nicegui import context, ui

from changan.auth.principal import Actor
from changan.kit.clock import LOCAL_TZ
from changan.kit.errors import ChanganError
from changan.web.context import AppContext
from changan.web.ui.session import display_name, forget_actor

TASK_STATUS_ZH: Mapping[str, str] = {"pending": "待签收", "acknowledged": "已签收", "closed": "已办结"}
TASK_STATUS_COLOUR: Mapping[str, str] = {
    "pending": "negative",
    "acknowledged": "warning",
    "closed": "positive",
}
OUTCOME_ZH: Mapping[str, str] = {
    "intercepted": "已拦截",
    "not_found": "未发现",
    "passed": "已通过",
    "cancelled": "取消",
    "other": "其他",
}
ALERT_STATUS_ZH: Mapping[str, str] = {"open": "未处置", "closed": "已处置"}
LIVE_TOPICS = frozenset({"alert.created", "task.created", "task.updated"})

# GA/T 1400 image types (ImageType) shown under each picture.
IMAGE_TYPE_ZH: Mapping[str, str] = {
    "01": "车辆大图",
    "02": "车牌彩色小图",
    "03": "车牌二值化图",
    "04": "驾驶员面部特征图",
    "05": "副驾驶面部特征图",
    "06": "车标",
    "07": "违章合成图",
    "08": "过车合成图",
    "09": "车辆特写图",
    "10": "人员图",
    "11": "人脸图",
    "12": "非机动车图",
    "13": "物品图",
    "14": "场景图",
    "100": "一般图片",
}

# Plate background and text colour by plate class (GA 24.7): blue small, yellow large, green NEV, ...
_PLATE_COLOURS: Mapping[str, tuple[str, str]] = {
    "01": ("#f2c200", "#111"),
    "07": ("#f2c200", "#111"),
    "13": ("#f2c200", "#111"),
    "14": ("#f2c200", "#111"),
    "15": ("#f2c200", "#111"),
    "16": ("#f2c200", "#111"),
    "02": ("#1d4fa3", "#fff"),
    "08": ("#1d4fa3", "#fff"),
    "03": ("#111", "#fff"),
    "04": ("#111", "#fff"),
    "05": ("#111", "#fff"),
    "06": ("#111", "#fff"),
    "26": ("#111", "#fff"),
    "27": ("#111", "#fff"),
    "23": ("#fff", "#111"),
    "24": ("#fff", "#111"),
    "31": ("#fff", "#111"),
    "32": ("#fff", "#111"),
    "51": ("linear-gradient(90deg,#f2c200,#43b05c)", "#111"),
    "52": ("linear-gradient(180deg,#f4fbf4,#43b05c)", "#111"),
}
_DEFAULT_PLATE = ("#9e9e9e", "#fff")


def local_time(value: datetime, fmt: str = "%m-%d %H:%M:%S") -> str:
    """An aware datetime in Asia/Shanghai local time."""
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def eta_text(eta_at: datetime, now: datetime) -> str:
    """``预计到达 mm:ss`` before the ETA, ``已过 mm:ss`` after it (minutes may exceed 59)."""
    seconds = int((eta_at - now).total_seconds())
    word = "预计到达" if seconds >= 0 else "已过"
    minutes, secs = divmod(abs(seconds), 60)
    return f"{word} {minutes:02d}:{secs:02d}"


def outcome_text(outcome: str | None) -> str:
    """``"intercepted: 人车已控制"`` → ``"已拦截（人车已控制）"``."""
    if not outcome:
        return ""
    code, _, note = outcome.partition(": ")
    label = OUTCOME_ZH.get(code, code)
    return f"{label}（{note}）" if note else label


def plate_colours(plate_class: str | None) -> tuple[str, str]:
    return _PLATE_COLOURS.get(plate_class or "", _DEFAULT_PLATE)


def plate_chip(plate_no: str, plate_class: str | None = None) -> ui.label:
    """The plate text on the plate's own colour."""
    background, colour = plate_colours(plate_class)
    return (
        ui.label(plate_no)
        .classes("px-2 py-0.5 rounded font-bold tracking-wider whitespace-nowrap")
        .style(f"background:{background};color:{colour};border:1px solid #555;font-family:monospace")
    )


def image_sources(images: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(caption, src) of each image: stored images through ``/ui/images``, external ones by http(s) URL."""
    out: list[tuple[str, str]] = []
    for image in images:
        caption = IMAGE_TYPE_ZH.get(str(image.get("type", "")), f"图片 {image.get('type', '')}")
        name, url = image.get("name"), image.get("url")
        if isinstance(name, str) and name:
            out.append((caption, f"/ui/images/{name}"))
        elif isinstance(url, str) and url.startswith(("http://", "https://")):
            out.append((caption, url))
    return out


def image_strip(images: Iterable[Mapping[str, Any]], *, width: str = "w-48") -> None:
    sources = image_sources(images)
    if not sources:
        ui.label("无过车图片").classes("text-grey-6 text-sm")
        return
    with ui.row().classes("gap-2"):
        for caption, src in sources:
            with ui.column().classes("gap-0 items-center"):
                ui.image(src).classes(f"{width} rounded border")
                ui.label(caption).classes("text-xs text-grey-7")


def show_error(exc: ChanganError) -> None:
    ui.notify(exc.message, type="negative", position="top")


def logout() -> None:
    forget_actor()
    ui.navigate.to("/login")


def nav_header(actor: Actor, active: str) -> None:
    """The header of every signed-in page: navigation, who is signed in, 退出."""
    links = (("/", "指挥中心"), ("/station", "执法站"), ("/watchlist", "布控"))
    with ui.header().classes("items-center gap-4 bg-blue-10 px-4 py-2"):
        ui.label("🚓 畅安 · 高速交警指挥平台").classes("text-lg font-bold")
        for path, label in links:
            link = ui.link(label, path).classes("text-white no-underline px-2 py-1 rounded")
            if path == active:
                link.classes("bg-blue-8 font-bold")
        ui.space()
        roles = "、".join(sorted(r.label_zh for r in actor.roles))
        ui.label(f"{display_name() or actor.username}（{roles}）").classes("text-sm")
        ui.button("退出", on_click=logout).props("flat color=white dense")


class LiveRefresh:
    """Pushed updates for one page.

    The outbox dispatcher calls the listener from its worker thread; the listener only sets a flag.
    A ``ui.timer`` on the page checks the flag every ``interval`` seconds and re-renders when it is set,
    so no page reload is needed. The listener is removed when NiceGUI deletes the client.
    """

    def __init__(
        self, ctx: AppContext, actor: Actor, refresh: Callable[[], None], *, interval: float = 0.5
    ) -> None:
        self._dirty = threading.Event()
        self._refresh = refresh
        self.messages = 0
        live = ctx.live
        handle = live.listen(actor.jurisdiction, self._on_message)
        context.client.on_delete(lambda: live.unlisten(handle))
        self.timer = ui.timer(interval, self._tick)

    def _on_message(self, topic: str, _payload: dict[str, Any]) -> None:
        if topic in LIVE_TOPICS:
            self.messages += 1
            self._dirty.set()

    def mark(self) -> None:
        self._dirty.set()

    def _tick(self) -> None:
        if self._dirty.is_set():
            self._dirty.clear()
            self._refresh()


class EtaTicker:
    """Keeps the ``预计到达 mm:ss`` labels of open tasks counting down once a second."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._labels: list[tuple[ui.label, datetime]] = []
        ui.timer(1.0, self.tick)

    def clear(self) -> None:
        self._labels.clear()

    def add(self, eta_at: datetime) -> ui.label:
        now = self._ctx.clock()
        label = ui.label(eta_text(eta_at, now)).classes("font-mono text-sm")
        label.classes("text-negative" if eta_at < now else "text-primary")
        self._labels.append((label, eta_at))
        return label

    def tick(self) -> None:
        now = self._ctx.clock()
        self._labels = [(label, eta) for label, eta in self._labels if not label.is_deleted]
        for label, eta in self._labels:
            label.set_text(eta_text(eta, now))
            late = eta < now
            label.classes(
                add="text-negative" if late else "text-primary",
                remove="text-primary" if late else "text-negative",
            )
