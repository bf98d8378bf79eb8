"""Alerts and the task lifecycle over HTTP, with roles and jurisdictions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from changan.auth.models import AuditRecord
from changan.auth.principal import SYSTEM
from changan.dispatch.models import Task
from changan.engine.runtime import Engine
from changan.passages.log import insert_batch
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import create_entry
from changan.web.app import create_app
from changan.web.context import AppContext
from tests.conftest import make_user, passage_row
from tests.engine.test_runtime import site_with_station


@pytest.fixture
def task(ctx: AppContext) -> Task:
    site = site_with_station(ctx.network)
    with ctx.uow() as session:
        create_entry(session, SYSTEM, EntryCreate(plate_no="鲁P12345", reason="盗抢"), now=ctx.clock())
        insert_batch(session, [passage_row(1, site_id=site, plate_no="鲁P12345", pass_time=ctx.clock())])
    Engine(ctx.factory, ctx.network, clock=ctx.clock).run_until_idle()
    with ctx.factory() as session:
        return session.scalars(select(Task)).one()


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, with_ui=False)) as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestTaskLifecycle:
    def test_officer_acknowledges_and_closes(self, ctx: AppContext, client: TestClient, task: Task) -> None:
        officer = make_user(
            ctx, "wang", ["officer"], jurisdiction=task.jurisdiction, station_id=task.station_id
        )
        listed = client.get("/api/v1/tasks", headers=auth(officer)).json()
        assert [t["id"] for t in listed] == [task.id]
        r = client.post(f"/api/v1/tasks/{task.id}/acknowledge", headers=auth(officer))
        assert r.status_code == 200
        assert r.json()["status"] == "acknowledged"
        again = client.post(f"/api/v1/tasks/{task.id}/acknowledge", headers=auth(officer))
        assert again.status_code == 409
        bad = client.post(f"/api/v1/tasks/{task.id}/close", json={"outcome": "gone"}, headers=auth(officer))
        assert bad.status_code == 422
        assert bad.json()["field"] == "outcome"
        done = client.post(
            f"/api/v1/tasks/{task.id}/close",
            json={"outcome": "intercepted", "note": "已查获"},
            headers=auth(officer),
        )
        assert done.json()["status"] == "closed"
        assert done.json()["outcome"] == "intercepted: 已查获"
        with ctx.factory() as s:
            actions = s.scalars(select(AuditRecord.action).where(AuditRecord.actor == "wang")).all()
        assert actions == ["task.acknowledge", "task.close"]

    def test_readonly_may_look_but_not_act(self, ctx: AppContext, client: TestClient, task: Task) -> None:
        viewer = make_user(ctx, "ro", ["readonly"])
        assert len(client.get("/api/v1/tasks", headers=auth(viewer)).json()) == 1
        r = client.post(f"/api/v1/tasks/{task.id}/acknowledge", headers=auth(viewer))
        assert r.status_code == 403

    def test_other_jurisdiction_neither_sees_nor_changes(
        self, ctx: AppContext, client: TestClient, task: Task
    ) -> None:
        other = make_user(ctx, "zhao", ["officer", "commander"], jurisdiction="3716")
        assert client.get("/api/v1/tasks", headers=auth(other)).json() == []
        assert client.get("/api/v1/alerts", headers=auth(other)).json() == []
        assert client.get(f"/api/v1/alerts/{task.alert_id}", headers=auth(other)).status_code == 404
        r = client.post(f"/api/v1/tasks/{task.id}/acknowledge", headers=auth(other))
        assert r.status_code == 404

    def test_alert_detail(self, ctx: AppContext, client: TestClient, task: Task) -> None:
        commander = make_user(ctx, "li", ["commander"])
        body = client.get(f"/api/v1/alerts/{task.alert_id}", headers=auth(commander)).json()
        assert (body["plate_no"], body["kind"], body["status"]) == ("鲁P12345", "watchlist", "open")
