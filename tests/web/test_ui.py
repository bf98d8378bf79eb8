"""The operator UI over real HTTP: login page, guards, the image route, the schematic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from changan.kit.clock import utc_now
from changan.kit.migrate import upgrade
from changan.kit.settings import Settings
from changan.network import Network
from changan.web.app import create_app
from changan.web.context import AppContext
from changan.web.ui.common import eta_text, image_sources, local_time, outcome_text
from changan.web.ui.schematic import ALERT_SERIES, ESTIMATED_CAPTION, AlertMark, caption, schematic_options


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[FastAPI, AppContext]:
    tmp_path: Path = tmp_path_factory.mktemp("ui")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db", var_dir=tmp_path)
    upgrade(settings.database_url)
    ctx = AppContext.build(settings, utc_now)
    return create_app(ctx), ctx


@pytest.fixture(scope="module")
def client(ui_app: tuple[FastAPI, AppContext]) -> Iterator[TestClient]:
    with TestClient(ui_app[0]) as http:
        yield http


def test_login_page_renders(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录" in response.text
    assert "畅安" in response.text
    assert 'lang="zh-CN"' in response.text


@pytest.mark.parametrize("path", ["/", "/station", "/watchlist"])
def test_pages_redirect_to_login_without_session(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/login"
    followed = client.get(path)
    assert followed.status_code == 200
    assert followed.url.path == "/login"


def test_image_route_requires_ui_session(client: TestClient, ui_app: tuple[FastAPI, AppContext]) -> None:
    name = ui_app[1].images.put(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert client.get("/ui/images/x.jpg").status_code == 401
    assert client.get(f"/ui/images/{name}").status_code == 401


def test_api_still_served_next_to_the_ui(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/api/v1/network").status_code == 401


def test_second_app_in_one_process(tmp_path: Path, client: TestClient) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/second.db", var_dir=tmp_path)
    upgrade(settings.database_url)
    app = create_app(AppContext.build(settings, utc_now))
    with TestClient(app) as other:
        assert other.get("/", follow_redirects=False).headers["location"] == "/login"
        assert "登录" in other.get("/login").text
    assert client.get("/login").status_code == 200


def test_schematic_of_default_network() -> None:
    network = Network.load_default()
    geojson = network.to_geojson()
    site_id = next(iter(network.sites))
    options = schematic_options(
        geojson, [AlertMark("鲁P12345", site_id), AlertMark("鲁A00001", "no-such-site")]
    )
    names = [s["name"] for s in options["series"]]
    assert "执法站" in names
    assert names[-1] == ALERT_SERIES
    stations = next(s for s in options["series"] if s["name"] == "执法站")
    assert {d["name"] for d in stations["data"]} <= {s.name for s in network.stations.values()}
    assert len(stations["data"]) == sum(
        1 for s in network.stations.values() if network.nodes[s.node_id].lat is not None
    )
    alerts = options["series"][-1]["data"]
    assert [a["name"] for a in alerts] == ["鲁P12345"]
    assert any(s["type"] == "line" for s in options["series"])
    assert caption(geojson) == ESTIMATED_CAPTION


def test_formatting_helpers() -> None:
    now = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert local_time(now) == "05-01 10:00:00"
    assert eta_text(now + timedelta(minutes=3, seconds=5), now) == "预计到达 03:05"
    assert eta_text(now - timedelta(seconds=42), now) == "已过 00:42"
    assert outcome_text("intercepted: 人车已控制") == "已拦截（人车已控制）"
    assert outcome_text("not_found") == "未发现"
    assert image_sources(
        [
            {"type": "01", "name": "ab.jpg"},
            {"type": "02", "url": "http://cam/x.jpg"},
            {"type": "01", "url": "javascript:alert(1)"},
        ]
    ) == [("车辆大图", "/ui/images/ab.jpg"), ("车牌彩色小图", "http://cam/x.jpg")]
