"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL.

PostgreSQL runs use ``CHANGAN_TEST_DATABASE_URL`` (a server URL such as
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``): a template database
is migrated once per session and every test gets a fresh copy. Without the
variable the PostgreSQL runs are skipped, except under ``CI=true``, where a
missing PostgreSQL is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from changan.auth.principal import SYSTEM
from changan.auth.service import create_token, create_user
from changan.kit.clock import FakeClock
from changan.kit.migrate import upgrade
from changan.kit.settings import Settings
from changan.network import Network
from changan.web.context import AppContext

PG_ENV = "CHANGAN_TEST_DATABASE_URL"
T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def pg_server_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {PG_ENV} is not set: the PostgreSQL tests are required in CI")
    return url


_template: dict[str, str] = {}


def _pg_template(server: str) -> str:
    if server in _template:
        return _template[server]
    name = f"changan_tpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL unreachable at {server}: {exc}")
    finally:
        admin.dispose()
    upgrade(make_url(server).set(database=name).render_as_string(hide_password=False))
    _template[server] = name
    return name


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_templates() -> Iterator[None]:
    yield
    for server, name in _template.items():
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fresh_pg_database(server: str) -> tuple[str, str]:
    """A new migrated database copied from the template; returns (url, name)."""
    template = _pg_template(server)
    name = f"changan_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False), name


def drop_pg_database(server: str, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/changan.db"
        upgrade(url)
        yield url
        return
    server = pg_server_url()
    if not server:
        pytest.skip(f"{PG_ENV} not set")
    url, name = fresh_pg_database(server)
    yield url
    drop_pg_database(server, name)


@pytest.fixture(scope="session")
def network() -> Network:
    return Network.load_default()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def ctx(db_url: str, tmp_path: Path, clock: FakeClock, network: Network) -> Iterator[AppContext]:
    settings = Settings(database_url=db_url, var_dir=tmp_path / "var")
    context = AppContext.build(settings, clock, network)
    yield context
    context.db.dispose()


def make_user(
    ctx: AppContext,
    username: str,
    roles: list[str],
    jurisdiction: str = "3715",
    station_id: str | None = None,
) -> str:
    """Create a user and return an API token for it."""
    with ctx.uow() as session:
        create_user(
            session,
            SYSTEM,
            username=username,
            password="password-123",
            roles=roles,
            jurisdiction=jurisdiction,
            station_id=station_id,
            now=ctx.clock(),
        )
        return create_token(session, SYSTEM, username=username, name="test", now=ctx.clock())


def passage_row(
    n: int,
    *,
    site_id: str,
    pass_time: datetime,
    plate_no: str | None = None,
    plate_class: str = "02",
    device_id: str = "cam-1",
    heading: str | None = None,
) -> dict[str, object]:
    """A row for :func:`changan.passages.log.insert_batch` (bypassing HTTP, for engine tests)."""
    plate = plate_no or f"鲁P{10000 + n % 89999}"
    return {
        "source": f"json:{device_id}",
        "external_id": f"r{n}",
        "device_id": device_id,
        "site_id": site_id,
        "heading": heading,
        "plate_raw": plate,
        "plate_no": plate,
        "plate_kind": "ordinary",
        "plate_class": plate_class,
        "plate_color": "blue",
        "vehicle_key": f"{plate_class}:{plate}",
        "vehicle_class": "K33",
        "vehicle_color": None,
        "vehicle_brand": None,
        "lane_no": 1,
        "speed_kmh": 100.0,
        "plate_confidence": 95.0,
        "pass_time": pass_time,
        "received_at": pass_time,
        "images": [],
    }
