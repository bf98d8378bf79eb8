"""Watchlist entries over HTTP: bad input named by field, the lifecycle, and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from changan.auth.models import AuditRecord
from changan.web.app import create_app
from changan.web.context import AppContext
from tests.conftest import make_user


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, with_ui=False)) as c:
        yield c


@pytest.fixture
def headers(ctx: AppContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_user(ctx, 'cmd', ['commander'])}"}


class TestCreate:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"plate_no": "苏A7K3I9", "reason": "x"}, "plate_no"),
            ({"plate_no": "鲁P1-345", "reason": "x"}, "plate_no"),
            ({"plate_no": "鲁P12345", "reason": "x", "plate_class": "77"}, "plate_class"),
            ({"plate_no": "鲁P12345"}, "reason"),
            ({"plate_no": "鲁P12345", "reason": "x", "priority": 101}, "priority"),
            ({"plate_no": "鲁P12345", "reason": "x", "valid_from": "2026-11-29T10:00:00"}, "valid_from"),
            (
                {
                    "plate_no": "鲁P12345",
                    "reason": "x",
                    "valid_from": "2026-11-29T10:00:00+08:00",
                    "valid_until": "2026-11-29T09:00:00+08:00",
                },
                "valid_until",
            ),
            ({"plate_no": "鲁P12345", "reason": "x", "colour": "red"}, "colour"),
        ],
    )
    def test_bad_input_names_the_field(
        self, client: TestClient, headers: dict[str, str], body: dict[str, Any], field: str
    ) -> None:
        r = client.post("/api/v1/watchlist/entries", json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field

    def test_create_list_revoke_is_audited(
        self, ctx: AppContext, client: TestClient, headers: dict[str, str]
    ) -> None:
        r = client.post(
            "/api/v1/watchlist/entries",
            json={"plate_no": "蓝鲁P·12345", "plate_class": "2", "reason": "盗抢", "priority": 90},
            headers=headers,
        )
        assert r.status_code == 201
        entry = r.json()
        assert (entry["plate_no"], entry["plate_class"], entry["status"], entry["created_by"]) == (
            "鲁P12345",
            "02",
            "active",
            "cmd",
        )
        listed = client.get("/api/v1/watchlist/entries", params={"status": "active"}, headers=headers).json()
        assert [e["id"] for e in listed] == [entry["id"]]
        revoked = client.post(f"/api/v1/watchlist/entries/{entry['id']}/revoke", headers=headers).json()
        assert (revoked["status"], revoked["revoked_by"]) == ("revoked", "cmd")
        again = client.post(f"/api/v1/watchlist/entries/{entry['id']}/revoke", headers=headers)
        assert again.status_code == 409
        with ctx.factory() as s:
            actions = s.scalars(select(AuditRecord.action).where(AuditRecord.actor == "cmd")).all()
        assert actions == ["watchlist.create", "watchlist.revoke"]


class TestSearchInput:
    def test_time_range_must_be_ordered(self, ctx: AppContext, client: TestClient) -> None:
        token = make_user(ctx, "an", ["analyst"])
        r = client.get(
            "/api/v1/passages",
            headers={"Authorization": f"Bearer {token}"},
            params={
                "plate_no": "鲁P12345",
                "purpose": "案件侦查",
                "since": "2026-11-29T10:00:00Z",
                "until": "2026-11-29T09:00:00Z",
            },
        )
        assert r.status_code == 422
        assert r.json()["field"] == "until"

    def test_needs_a_plate_or_a_site(self, ctx: AppContext, client: TestClient) -> None:
        token = make_user(ctx, "an", ["analyst"])
        r = client.get(
            "/api/v1/passages", headers={"Authorization": f"Bearer {token}"}, params={"purpose": "案件侦查"}
        )
        assert r.status_code == 422
        assert r.json()["field"] == "plate_no"
