"""The policy table: defaults, stored rows over them, the most specific row, the fixed rules, the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from changan.auth.models import AuditRecord
from changan.policy.service import DEFAULTS, Policy, PolicyTable
from changan.web.app import create_app
from changan.web.context import AppContext
from tests.conftest import make_user


class TestTable:
    def test_defaults_decide(self) -> None:
        table = PolicyTable([])
        assert table.decide("speeding", "point", "normal", "非营运", "small_passenger").action == "violation"
        assert table.decide("speeding", "point", "critical", "非营运", "small_passenger").action == "both"
        assert (
            table.decide("watchlist", "lookalike", "normal", None, None).title == "疑似布控比中（形近字符）"
        )
        assert table.decide("fake_plate", "unregistered", "normal", None, None).action == "statistic"
        assert table.decide("fake_plate", "invalid_grammar", "serious", None, None).action == "alert"
        assert table.decide("no_such_detector", "x", "normal", None, None).action == "statistic"

    def test_the_most_specific_row_wins_and_stored_rows_replace_defaults(self) -> None:
        coach = Policy("speeding", None, "公路客运", None, None, "both", 80, "客车超速", "", "a")
        critical_coach = Policy(
            "speeding", None, "公路客运", None, "critical", "alert", 95, "客车严重超速", "", "b"
        )
        replaced = Policy("speeding", None, None, None, None, "statistic", 1, "超速统计", "", "c")
        table = PolicyTable([coach, critical_coach, replaced])
        assert table.decide("speeding", "point", "normal", "公路客运", "other").title == "客车超速"
        assert table.decide("speeding", "point", "critical", "公路客运", "other").title == "客车严重超速"
        assert table.decide("speeding", "point", "normal", "非营运", "small_passenger").action == "statistic"
        assert table.decide("speeding", "point", "critical", "非营运", "small_passenger").action == "both"

    def test_every_default_obeys_the_fixed_rules(self) -> None:
        for p in DEFAULTS:
            if p.detector in ("clone", "fake_plate") and p.rule != "unregistered":
                assert p.alerts, p
            if p.detector == "fatigue":
                assert not p.records_violation, p


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, with_ui=False)) as c:
        yield c


def _row(**kw: Any) -> dict[str, Any]:
    return {"detector": "speeding", "action": "violation", "priority": 30, "title": "超速", **kw}


class TestApi:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (_row(detector="nope"), "detector"),
            (_row(action="arrest"), "action"),
            (_row(severity="huge"), "severity"),
            (_row(vehicle_group="bus"), "vehicle_group"),
            (_row(detector="clone", action="violation"), "action"),
            (_row(detector="fake_plate", action="statistic"), "action"),
            (_row(detector="fatigue", action="both"), "action"),
            (_row(priority=101), "priority"),
            (_row(colour="red"), "colour"),
        ],
    )
    def test_bad_rows_name_the_field(
        self, ctx: AppContext, client: TestClient, body: dict[str, Any], field: str
    ) -> None:
        token = make_user(ctx, "cmd", ["commander"])
        r = client.put("/api/v1/policies", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field

    def test_set_list_delete_is_audited_and_role_checked(self, ctx: AppContext, client: TestClient) -> None:
        cmd = {"Authorization": f"Bearer {make_user(ctx, 'cmd', ['commander'])}"}
        officer = {"Authorization": f"Bearer {make_user(ctx, 'off', ['officer'])}"}
        body = _row(vehicle_use="公路客运", action="both", priority=80, title="客车超速")
        assert client.put("/api/v1/policies", json=body, headers=officer).status_code == 403
        r = client.put("/api/v1/policies", json=body, headers=cmd)
        assert r.status_code == 200, r.text
        pid = r.json()["id"]
        rows = client.get("/api/v1/policies", headers=officer).json()
        mine = next(p for p in rows if p["id"] == pid)
        assert (mine["source"], mine["action"], mine["vehicle_use"]) == ("stored", "both", "公路客运")
        assert sum(p["source"] == "default" for p in rows) == len(DEFAULTS)
        assert client.delete(f"/api/v1/policies/{pid}", headers=cmd).status_code == 204
        assert client.delete(f"/api/v1/policies/{pid}", headers=cmd).status_code == 404
        with ctx.reader() as s:
            actions = [a.action for a in s.scalars(select(AuditRecord).order_by(AuditRecord.id))]
        assert actions[-2:] == ["policy.set", "policy.delete"]
