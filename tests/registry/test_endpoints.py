"""The registry over HTTP: a lookup is a search of personal data (purpose required, audited, found or
not); import is for administrators and answers with the per-row report."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from changan.auth.models import AuditRecord
from changan.web.app import create_app
from changan.web.context import AppContext
from tests.conftest import make_user

CSV = (
    "号牌号码,号牌种类,车辆类型,使用性质,车身颜色,品牌,车辆型号,所有人\n"
    "鲁P2K301,01,K11,B,A,宇通,ZK6122,冠县通达客运\n"
    "苏A7K3I9,02,K33,A,A,大众,朗逸,\n"
    "鲁P12345,77,K33,A,A,大众,朗逸,\n"
    ",02,K33,A,A,大众,朗逸,\n"
    "鲁P12346,02,K33,A,紫红,大众,朗逸,\n"
).encode()


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, with_ui=False)) as c:
        yield c


def auth(ctx: AppContext, name: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_user(ctx, name, [role])}"}


@pytest.fixture
def admin(ctx: AppContext) -> dict[str, str]:
    return auth(ctx, "adm", "admin")


@pytest.fixture
def imported(client: TestClient, admin: dict[str, str]) -> dict[str, object]:
    r = client.post(
        "/api/v1/registry/import",
        files={"file": ("车管所.csv", CSV, "text/csv")},
        data={"source": "车管所 2026-11"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def url(key: str) -> str:
    return "/api/v1/registry/" + quote(key, safe="")


class TestImport:
    def test_the_report_lists_each_bad_row_with_its_field(self, imported: dict[str, object]) -> None:
        assert {k: imported[k] for k in ("source", "format", "rows", "accepted", "rejected", "inserted")} == {
            "source": "车管所 2026-11",
            "format": "csv",
            "rows": 5,
            "accepted": 2,
            "rejected": 3,
            "inserted": 2,
        }
        issues = imported["issues"]
        assert isinstance(issues, list)
        assert [(i["row"], i["field"], i["severity"]) for i in issues] == [
            (3, "plate_no", "error"),
            (4, "plate_class", "error"),
            (5, "plate_no", "error"),
            (6, "body_colour", "warning"),
        ]
        assert (imported["issues_total"], imported["issues_truncated"]) == (4, False)

    def test_reimport_changes_nothing(
        self, client: TestClient, admin: dict[str, str], imported: dict[str, object]
    ) -> None:
        r = client.post("/api/v1/registry/import", files={"file": ("a.csv", CSV)}, headers=admin)
        assert (r.json()["inserted"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, 2)

    def test_only_administrators_import(self, ctx: AppContext, client: TestClient) -> None:
        for role in ("commander", "analyst", "officer"):
            headers = auth(ctx, f"{role}1", role)
            r = client.post("/api/v1/registry/import", files={"file": ("a.csv", CSV)}, headers=headers)
            assert r.status_code == 403, role

    @pytest.mark.parametrize(
        ("name", "content", "field"),
        [
            ("a.xlsx", b"PK", "file"),
            ("a.csv", "品牌\n大众\n".encode(), "header"),
            ("a.parquet", b"x", "format"),
        ],
    )
    def test_unreadable_files(
        self, client: TestClient, admin: dict[str, str], name: str, content: bytes, field: str
    ) -> None:
        r = client.post("/api/v1/registry/import", files={"file": (name, content)}, headers=admin)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field

    def test_a_file_is_required(self, client: TestClient, admin: dict[str, str]) -> None:
        r = client.post("/api/v1/registry/import", headers=admin)
        assert (r.status_code, r.json()["field"]) == (422, "file")


class TestLookup:
    def test_found_with_labels_and_audited_with_the_purpose(
        self, ctx: AppContext, client: TestClient, imported: dict[str, object]
    ) -> None:
        roles = ("analyst", "commander", "officer")
        for role in roles:
            r = client.get(
                url("01:鲁P2K301"),
                params={"purpose": "核查套牌嫌疑", "case_no": "A2026-17"},
                headers=auth(ctx, f"{role}1", role),
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["updated_at"] == "2026-11-29T02:00:00Z"
            del body["updated_at"]
            assert body == {
                "vehicle_key": "01:鲁P2K301",
                "plate_no": "鲁P2K301",
                "plate_class": "01",
                "plate_class_zh": "大型汽车",
                "vehicle_class": "K11",
                "use": "公路客运",
                "body_colour": "A",
                "body_colour_zh": "白",
                "brand": "宇通",
                "model": "ZK6122",
                "operator": "冠县通达客运",
                "source": "车管所 2026-11",
            }
        with ctx.reader() as s:
            audits = s.scalars(
                select(AuditRecord).where(AuditRecord.action == "registry.lookup").order_by(AuditRecord.id)
            ).all()
        assert [(a.actor, a.target, a.purpose, a.case_no, a.detail) for a in audits] == [
            (
                f"{role}1",
                "vehicle_key=01:鲁P2K301",
                "核查套牌嫌疑",
                "A2026-17",
                {"vehicle_key": "01:鲁P2K301", "found": True},
            )
            for role in roles
        ]

    def test_the_key_is_normalised_and_may_come_unencoded(
        self, ctx: AppContext, client: TestClient, imported: dict[str, object]
    ) -> None:
        headers = auth(ctx, "an", "analyst")
        r = client.get("/api/v1/registry/1:鲁p2k301", params={"purpose": "研判"}, headers=headers)
        assert (r.status_code, r.json()["vehicle_key"]) == (200, "01:鲁P2K301")

    def test_a_miss_is_404_and_still_audited(self, ctx: AppContext, client: TestClient) -> None:
        r = client.get(url("02:鲁P99999"), params={"purpose": "研判"}, headers=auth(ctx, "an", "analyst"))
        assert (r.status_code, r.json()["field"]) == (404, "vehicle_key")
        with ctx.reader() as s:
            audit = s.scalars(select(AuditRecord).where(AuditRecord.action == "registry.lookup")).one()
        assert (audit.purpose, audit.detail["found"]) == ("研判", False)

    def test_bad_input_names_the_field_and_reads_nothing(self, ctx: AppContext, client: TestClient) -> None:
        headers = auth(ctx, "an", "analyst")
        for key, params, field in [
            ("02:鲁P12345", {}, "purpose"),
            ("02:鲁P12345", {"purpose": " x "}, "purpose"),
            ("鲁P12345", {"purpose": "研判"}, "vehicle_key"),
            ("77:鲁P12345", {"purpose": "研判"}, "vehicle_key"),
            ("02:鲁P1-345", {"purpose": "研判"}, "vehicle_key"),
            ("x:abc", {"purpose": "研判"}, "vehicle_key"),
        ]:
            r = client.get(url(key), params=params, headers=headers)
            assert (r.status_code, r.json().get("field")) == (422, field), (key, params, r.text)
        with ctx.reader() as s:
            assert s.scalars(select(AuditRecord).where(AuditRecord.action == "registry.lookup")).all() == []

    def test_other_roles_may_not_look_up(self, ctx: AppContext, client: TestClient) -> None:
        for role in ("auditor", "readonly", "maintainer", "approver"):
            headers = auth(ctx, f"{role}1", role)
            r = client.get(url("02:鲁P12345"), params={"purpose": "研判"}, headers=headers)
            assert r.status_code == 403, role

    def test_a_token_is_required(self, client: TestClient) -> None:
        assert client.get(url("02:鲁P12345"), params={"purpose": "研判"}).status_code == 401
        assert client.post("/api/v1/registry/import", files={"file": ("a.csv", CSV)}).status_code == 401
