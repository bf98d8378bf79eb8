"""Temporary speed limits over HTTP: bad input named by field, roles, the lifecycle, the audit trail,
and what the engine's index makes of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from changan.auth.models import AuditRecord
from changan.kit.clock import FakeClock
from changan.limits.index import LimitIndex
from changan.web.app import create_app
from changan.web.context import AppContext
from tests.conftest import T0, make_user

URL = "/api/v1/speed-limits"
A = "G032137900510"  # G0321-G03 → G0321-G04: inside the stretch below


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, with_ui=False)) as c:
        yield c


@pytest.fixture
def commander(ctx: AppContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_user(ctx, 'cmd', ['commander'])}"}


@pytest.fixture
def officer(ctx: AppContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_user(ctx, 'off', ['officer'], jurisdiction='371501')}"}


def fog(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "road_id": "G0321",
        "from_node": "G0321-G03",
        "to_node": "G0321-T02",
        "limit_kmh": 60,
        "valid_from": "2026-11-29T10:30:00+08:00",
        "valid_until": "2026-11-29T14:00:00+08:00",
        "reason": "团雾",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not ...}


class TestCreate:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (fog(road_id="G9999"), "road_id"),
            (fog(from_node="S1-G02"), "from_node"),
            (fog(to_node="nowhere"), "to_node"),
            (fog(to_node="G0321-G03"), "to_node"),
            (fog(limit_kmh=19), "limit_kmh"),
            (fog(limit_kmh=121), "limit_kmh"),
            (fog(limit_kmh="fast"), "limit_kmh"),
            (fog(valid_from="2026-11-29T10:30:00"), "valid_from"),
            (fog(valid_until="2026-11-29T10:30:00+08:00"), "valid_until"),
            (fog(valid_until="2026-11-29T02:00:00Z"), "valid_until"),
            (fog(reason=...), "reason"),
            (fog(reason=""), "reason"),
            (fog(lanes=2), "lanes"),
        ],
    )
    def test_bad_input_names_the_field(
        self, client: TestClient, commander: dict[str, str], body: dict[str, Any], field: str
    ) -> None:
        r = client.post(URL, json=body, headers=commander)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field

    def test_roles(self, client: TestClient, officer: dict[str, str]) -> None:
        assert client.post(URL, json=fog()).status_code == 401
        r = client.post(URL, json=fog(), headers=officer)
        assert (r.status_code, r.json()["error"]) == (403, "role_required")
        assert client.get(URL).status_code == 401


class TestLifecycle:
    def test_create_list_revoke_is_audited_and_reaches_the_index(
        self,
        ctx: AppContext,
        clock: FakeClock,
        client: TestClient,
        commander: dict[str, str],
        officer: dict[str, str],
    ) -> None:
        r = client.post(URL, json=fog(), headers=commander)
        assert r.status_code == 201, r.text
        limit = r.json()
        assert (limit["limit_kmh"], limit["status"], limit["created_by"], limit["revoked_at"]) == (
            60,
            "scheduled",
            "cmd",
            None,
        )
        assert datetime.fromisoformat(limit["valid_from"]) == T0 + timedelta(minutes=30)
        # any signed-in user reads them
        listed = client.get(URL, headers=officer).json()
        assert [x["id"] for x in listed] == [limit["id"]]
        assert client.get(URL, params={"status": "active"}, headers=officer).json() == []
        assert client.get(URL, params={"road_id": "S1"}, headers=officer).json() == []
        r = client.get(URL, params={"status": "soon"}, headers=officer)
        assert (r.status_code, r.json()["field"]) == (422, "status")
        clock.advance(timedelta(hours=1))  # 11:00 local: in force
        assert [x["id"] for x in client.get(URL, params={"status": "active"}, headers=officer).json()] == [
            limit["id"]
        ]
        # officers may not revoke
        assert client.post(f"{URL}/{limit['id']}/revoke", headers=officer).status_code == 403
        revoked = client.post(f"{URL}/{limit['id']}/revoke", headers=commander).json()
        assert (revoked["status"], datetime.fromisoformat(revoked["revoked_at"])) == (
            "revoked",
            T0 + timedelta(hours=1),
        )
        again = client.post(f"{URL}/{limit['id']}/revoke", headers=commander)
        assert again.status_code == 409
        missing = client.post(f"{URL}/nope/revoke", headers=commander)
        assert (missing.status_code, missing.json()["field"]) == (404, "limit_id")
        with ctx.factory() as s:
            actions = s.scalars(select(AuditRecord.action).where(AuditRecord.actor == "cmd")).all()
            index = LimitIndex.load(s, ctx.network)
        assert actions == ["speed_limit.create", "speed_limit.revoke"]
        # in force from its start until its revocation
        start, revoked_at = (T0 + timedelta(minutes=30)).timestamp(), (T0 + timedelta(hours=1)).timestamp()
        assert [index.limit_at(A, t) for t in (start - 1, start, revoked_at - 1, revoked_at)] == [
            None,
            60,
            60,
            None,
        ]
