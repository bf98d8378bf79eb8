"""``/login`` (登录): username and password against :func:`changan.auth.service.authenticate_password`."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import run, ui

from changan.auth.models import User
from changan.auth.principal import Actor
from changan.auth.service import authenticate_password
from changan.kit.errors import ChanganError
from changan.kit.logging import get_logger
from changan.web.context import AppContext
from changan.web.ui.session import ctx_of, current_actor, home_of, store_actor

log = get_logger(__name__)

BAD_CREDENTIALS = "用户名或密码错误"


def _authenticate(ctx: AppContext, username: str, password: str) -> tuple[Actor, str]:
    """Check the password (argon2: runs in a worker thread); returns the actor and display name."""
    with ctx.reader() as session:
        actor = authenticate_password(session, username, password)
        user = session.get(User, actor.user_id)
        name = user.display_name if user is not None and user.display_name else actor.username
    return actor, name


def login_page(request: Request) -> RedirectResponse | None:
    ctx = ctx_of(request)
    actor = current_actor()
    if actor is not None:
        return RedirectResponse(home_of(actor), status_code=303)

    ui.query("body").classes("bg-blue-grey-1")
    with ui.column().classes("absolute-center items-center gap-4"):
        ui.label("🚓 畅安").classes("text-4xl font-bold text-blue-10")
        ui.label("高速交警指挥平台").classes("text-lg text-grey-8")
        with ui.card().classes("w-96 p-6 gap-3"):
            ui.label("登录").classes("text-xl font-bold")
            username = ui.input("用户名").props("outlined autofocus autocomplete=username").classes("w-full")
            password = (
                ui.input("密码", password=True, password_toggle_button=True)
                .props("outlined autocomplete=current-password")
                .classes("w-full")
            )
            error = ui.label(BAD_CREDENTIALS).classes("text-negative font-bold")
            error.set_visibility(False)

            async def submit() -> None:
                name, secret = str(username.value or "").strip(), str(password.value or "")
                error.set_visibility(False)
                if not name or not secret:
                    error.set_text("请输入用户名和密码")
                    error.set_visibility(True)
                    return
                button.disable()
                try:
                    result = await run.io_bound(_authenticate, ctx, name, secret)
                except ChanganError as exc:
                    log.info("ui.login_failed", username=name, code=exc.code)
                    message = BAD_CREDENTIALS if exc.status_code == 401 else exc.message
                    password.set_value("")
                    error.set_text(message)
                    error.set_visibility(True)
                    ui.notify(message, type="negative", position="top")
                    return
                finally:
                    button.enable()
                if result is None:  # the server is shutting down
                    return
                signed_in, shown = result
                store_actor(signed_in, display_name=shown)
                log.info("ui.login", username=signed_in.username)
                ui.navigate.to(home_of(signed_in))

            password.on("keydown.enter", submit)
            username.on("keydown.enter", lambda: password.run_method("focus"))
            button = ui.button("登录", on_click=submit).classes("w-full").props("color=primary size=lg")
        ui.label("仅限授权人员使用，所有操作均记录审计日志。").classes("text-xs text-grey-7")
    return None
