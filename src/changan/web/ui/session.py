"""Who is looking at the UI: the signed-in actor kept in NiceGUI's per-browser user storage.

The session cookie (signed with ``settings.session_secret``) identifies the browser; the actor's
fields live server-side in ``app.storage.user``. Every page calls :func:`require_actor` first and
returns its redirect when nobody is signed in. Authorisation itself stays in the services.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app as nicegui_app
from sqlalchemy.orm import Session

from changan.auth.models import User
from changan.auth.principal import Actor, Role
from changan.kit.clock import ensure_utc, utc_now
from changan.web.context import AppContext

#: Key of the request scope entry that carries the serving app's context (set by a middleware in mount_ui).
SCOPE_KEY = "changan.ctx"
#: How long a UI sign-in stays valid.
SESSION_TTL = timedelta(hours=12)
_USER_KEY = "actor"


class _Latest:
    """The context of the most recent ``mount_ui`` call: the fallback when a request carries none."""

    ctx: AppContext | None = None


def set_latest(ctx: AppContext) -> None:
    _Latest.ctx = ctx


def ctx_of(request: Request | None) -> AppContext:
    """The application context serving ``request``."""
    if request is not None:
        found = request.scope.get(SCOPE_KEY)
        if isinstance(found, AppContext):
            return found
    if _Latest.ctx is None:
        msg = "mount_ui() has not been called"
        raise RuntimeError(msg)
    return _Latest.ctx


def _user_storage() -> Any:
    return nicegui_app.storage.user


def store_actor(actor: Actor, *, display_name: str) -> None:
    """Remember ``actor`` for this browser (called after a successful login)."""
    _user_storage()[_USER_KEY] = {
        "user_id": actor.user_id,
        "username": actor.username,
        "display_name": display_name,
        "roles": sorted(r.value for r in actor.roles),
        "jurisdiction": actor.jurisdiction,
        "station_id": actor.station_id,
        "login_at": utc_now().isoformat(),  # wall time: the demo's scaled clock must not shorten sessions
    }


def forget_actor() -> None:
    """Sign this browser out."""
    _user_storage().pop(_USER_KEY, None)


def _stored() -> dict[str, Any] | None:
    try:
        data = _user_storage().get(_USER_KEY)
    except (RuntimeError, AssertionError):  # outside a UI request (no session middleware ran)
        return None
    return data if isinstance(data, dict) else None


def current_actor() -> Actor | None:
    """Rebuild the signed-in :class:`Actor` from the user storage; None when nobody is signed in."""
    data = _stored()
    if data is None:
        return None
    try:
        return Actor(
            user_id=str(data["user_id"]),
            username=str(data["username"]),
            roles=frozenset(Role(r) for r in data["roles"]),
            jurisdiction=str(data["jurisdiction"]),
            station_id=str(data["station_id"]) if data.get("station_id") else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def display_name() -> str:
    data = _stored() or {}
    return str(data.get("display_name") or data.get("username") or "")


def _still_valid(ctx: AppContext, actor: Actor) -> bool:
    """The sign-in has not expired and the account is still active."""
    data = _stored() or {}
    try:
        login_at = ensure_utc(datetime.fromisoformat(str(data.get("login_at"))))
    except ValueError:
        return False
    if not timedelta(minutes=-5) <= utc_now() - login_at <= SESSION_TTL:
        return False
    with ctx.reader() as session:
        return _active(session, actor.user_id)


def _active(session: Session, user_id: str) -> bool:
    user = session.get(User, user_id)
    return user is not None and bool(user.active)


def require_actor(request: Request) -> tuple[AppContext, Actor] | RedirectResponse:
    """The guard of every page: the context and actor, or a redirect to ``/login``."""
    ctx = ctx_of(request)
    actor = current_actor()
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    if not _still_valid(ctx, actor):
        forget_actor()
        return RedirectResponse("/login", status_code=303)
    return ctx, actor


def home_of(actor: Actor) -> str:
    """Where an actor lands after login: officers with a station go to their station console."""
    if actor.station_id and actor.roles <= {Role.OFFICER, Role.READONLY}:
        return "/station"
    return "/"
