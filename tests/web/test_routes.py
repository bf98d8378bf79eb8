"""Authorisation generated from the route table: every non-public API route refuses a request without a token."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from changan.web.app import PUBLIC_PATHS, create_app
from changan.web.context import AppContext
from tests.conftest import make_user


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, with_ui=False)) as c:
        yield c


def api_routes(ctx: AppContext) -> list[tuple[str, str]]:
    """Every (method, path) of the API, from the route table as the OpenAPI schema lists it."""
    app = create_app(ctx, with_ui=False)
    out = []
    for path, operations in app.openapi()["paths"].items():
        if path in PUBLIC_PATHS:
            continue
        out.extend((method.upper(), re.sub(r"\{[^}]+\}", "x", path)) for method in sorted(operations))
    return out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
class TestRouteTable:
    def test_every_private_route_needs_a_token(self, ctx: AppContext, client: TestClient) -> None:
        routes = api_routes(ctx)
        assert len(routes) >= 10
        for method, path in routes:
            r = client.request(method, path, json={})
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"

    def test_every_private_route_refuses_a_bad_token(self, ctx: AppContext, client: TestClient) -> None:
        for method, path in api_routes(ctx):
            r = client.request(method, path, json={}, headers={"Authorization": "Bearer cat_wrong"})
            assert r.status_code == 401, (method, path)

    def test_public_routes(self, client: TestClient) -> None:
        assert client.get("/health").json()["status"] == "ok"
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "changan_passages_accepted_total" in metrics.text
        assert "changan_engine_processed_total" in metrics.text
        assert client.get("/openapi.json").status_code == 200

    def test_wrong_role_is_403(self, ctx: AppContext, client: TestClient) -> None:
        token = make_user(ctx, "ro", ["readonly"])
        r = client.post(
            "/api/v1/watchlist/entries",
            json={"plate_no": "鲁P12345", "reason": "x"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 403
        assert r.json()["error"] == "role_required"

    def test_search_requires_purpose_and_is_audited(self, ctx: AppContext, client: TestClient) -> None:
        token = make_user(ctx, "an", ["analyst"])
        h = {"Authorization": f"Bearer {token}"}
        r = client.get("/api/v1/passages", params={"plate_no": "鲁P12345"}, headers=h)
        assert r.status_code == 422
        assert r.json()["field"] == "purpose"
        r = client.get(
            "/api/v1/passages",
            params={"plate_no": "鲁P12345", "purpose": "案件侦查", "case_no": "A1"},
            headers=h,
        )
        assert r.status_code == 200
        assert r.json() == []
        from sqlalchemy import select

        from changan.auth.models import AuditRecord

        with ctx.factory() as s:
            rec = s.scalars(select(AuditRecord).where(AuditRecord.action == "passages.search")).one()
        assert (rec.actor, rec.purpose, rec.case_no, rec.target) == (
            "an",
            "案件侦查",
            "A1",
            "plate_no=鲁P12345",
        )

    def test_other_jurisdiction_sees_nothing(self, ctx: AppContext, client: TestClient) -> None:
        mine = make_user(ctx, "cmd", ["commander"], jurisdiction="3715")
        other = make_user(ctx, "cmd2", ["commander"], jurisdiction="3716")
        r = client.post(
            "/api/v1/watchlist/entries",
            json={"plate_no": "鲁P12345", "reason": "盗抢"},
            headers={"Authorization": f"Bearer {mine}"},
        )
        assert r.status_code == 201
        entry_id = r.json()["id"]
        r = client.get("/api/v1/watchlist/entries", headers={"Authorization": f"Bearer {other}"})
        assert r.json() == []
        r = client.post(
            f"/api/v1/watchlist/entries/{entry_id}/revoke", headers={"Authorization": f"Bearer {other}"}
        )
        assert r.status_code == 404
