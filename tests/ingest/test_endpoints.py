"""POST /api/v1/passages over real HTTP (TestClient), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from changan.auth.principal import SYSTEM
from changan.devices.service import add_device, add_platform_key
from changan.passages.models import DeadLetter, Passage
from changan.web.app import create_app
from changan.web.context import AppContext

JPEG = "/9j/4AAQSkZJRgABAQAAAQABAAD/2Q=="


@pytest.fixture
def site_ids(ctx: AppContext) -> list[str]:
    return sorted(ctx.network.sites)[:2]


@pytest.fixture
def keys(ctx: AppContext, site_ids: list[str]) -> dict[str, str]:
    with ctx.uow() as session:
        _, k1 = add_device(
            session, SYSTEM, ctx.network, device_id="cam-1", site_id=site_ids[0], now=ctx.clock()
        )
        _, k2 = add_device(
            session, SYSTEM, ctx.network, device_id="cam-2", site_id=site_ids[1], now=ctx.clock()
        )
        platform = add_platform_key(session, SYSTEM, name="gw", now=ctx.clock())
    return {"cam-1": k1, "cam-2": k2, "platform": platform}


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, with_ui=False)) as c:
        yield c


def item(ctx: AppContext, n: int, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "external_id": f"e{n}",
        "device_id": "cam-1",
        "pass_time": (ctx.clock() - timedelta(seconds=60 - n % 60)).isoformat(),
        "plate_no": f"鲁P{10000 + n}",
        "plate_class": "02",
        "plate_color": "blue",
        "vehicle_class": "K33",
        "lane_no": 1,
        "speed_kmh": 98.5,
    }
    base.update(over)
    return base


def post(client: TestClient, key: str, body: Any) -> Any:
    return client.post("/api/v1/passages", json=body, headers={"Authorization": f"Bearer {key}"})


def count(ctx: AppContext, model: Any) -> int:
    with ctx.factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestIdempotency:
    def test_same_batch_twice_gives_same_rows(
        self, ctx: AppContext, client: TestClient, keys: dict[str, str]
    ) -> None:
        batch = {"passages": [item(ctx, i) for i in range(50)]}
        first = post(client, keys["cam-1"], batch)
        assert first.status_code == 200
        assert first.json() == {"accepted": 50, "duplicates": 0, "errors": []}
        with ctx.factory() as session:
            rows_before = session.execute(
                select(Passage.seq, Passage.external_id).order_by(Passage.seq)
            ).all()
        second = post(client, keys["cam-1"], batch)
        assert second.status_code == 200
        assert second.json() == {"accepted": 0, "duplicates": 50, "errors": []}
        with ctx.factory() as session:
            rows_after = session.execute(select(Passage.seq, Passage.external_id).order_by(Passage.seq)).all()
        assert rows_after == rows_before

    def test_duplicate_inside_one_batch(
        self, ctx: AppContext, client: TestClient, keys: dict[str, str]
    ) -> None:
        r = post(client, keys["cam-1"], {"passages": [item(ctx, 1), item(ctx, 1)]})
        assert r.json() == {"accepted": 1, "duplicates": 1, "errors": []}

    def test_stored_fields_and_image(self, ctx: AppContext, client: TestClient, keys: dict[str, str]) -> None:
        r = post(
            client,
            keys["cam-1"],
            {
                "passages": [
                    item(
                        ctx,
                        7,
                        plate_no="蓝鲁P·12345",
                        plate_class=None,
                        plate_color=None,
                        images=[{"type": "01", "data": JPEG}],
                    )
                ]
            },
        )
        assert r.status_code == 200, r.text
        with ctx.factory() as session:
            p = session.scalars(select(Passage)).one()
        assert (p.plate_no, p.plate_class, p.plate_color, p.vehicle_key) == (
            "鲁P12345",
            "02",
            "blue",
            "02:鲁P12345",
        )
        assert p.site_id == sorted(ctx.network.sites)[0]
        assert p.images[0]["type"] == "01"
        assert ctx.images.get(p.images[0]["name"]) is not None


class TestBadInput:
    @pytest.mark.parametrize(
        ("override", "field", "fragment"),
        [
            ({"speed_kmh": "fast"}, "speed_kmh", "应为数字"),
            ({"lane_no": [1]}, "lane_no", "应为整数"),
            ({"plate_no": None}, "plate_no", "应为字符串"),
            ({"plate_no": "鲁P1234$%"}, "plate_no", "不可能出现的字符"),
            ({"plate_class": "77"}, "plate_class", "77"),
            ({"pass_time": "2026-11-29T10:00:00"}, "pass_time", "时区"),
            ({"pass_time": "yesterday"}, "pass_time", "时间"),
            ({"device_id": "cam-9"}, "device_id", "未登记"),
            ({"device_id": "cam-2"}, "device_id", "此密钥属于设备 cam-1"),
            ({"images": [{"type": "01", "data": "@@@"}]}, "images[0].data", "base64"),
            ({"images": [{"type": "01"}]}, "images[0]", "data 与 url"),
            ({"colour": "red"}, "colour", "不认识的字段"),
        ],
    )
    def test_item_error_names_field(
        self,
        ctx: AppContext,
        client: TestClient,
        keys: dict[str, str],
        override: dict[str, Any],
        field: str,
        fragment: str,
    ) -> None:
        r = post(client, keys["cam-1"], {"passages": [item(ctx, 1), item(ctx, 2, **override)]})
        assert r.status_code == 422
        body = r.json()
        assert body["accepted"] == 1
        assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, field)]
        assert fragment in body["errors"][0]["reason"]
        assert count(ctx, DeadLetter) == 1  # the rejected item is kept, not lost

    def test_missing_plate(self, ctx: AppContext, client: TestClient, keys: dict[str, str]) -> None:
        bad = item(ctx, 1)
        del bad["plate_no"]
        r = post(client, keys["cam-1"], {"passages": [bad]})
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "plate_no"
        assert "缺少必填字段" in r.json()["errors"][0]["reason"]

    def test_future_timestamp_beyond_skew(
        self, ctx: AppContext, client: TestClient, keys: dict[str, str]
    ) -> None:
        skew = ctx.settings.ingest_future_skew_s
        ok = item(ctx, 1, pass_time=(ctx.clock() + timedelta(seconds=skew - 1)).isoformat())
        bad = item(ctx, 2, pass_time=(ctx.clock() + timedelta(seconds=skew + 1)).isoformat())
        r = post(client, keys["cam-1"], {"passages": [ok, bad]})
        assert r.status_code == 422
        assert r.json()["accepted"] == 1
        assert [(e["index"], e["field"]) for e in r.json()["errors"]] == [(1, "pass_time")]

    def test_malformed_json_is_kept_as_dead_letter(
        self, ctx: AppContext, client: TestClient, keys: dict[str, str]
    ) -> None:
        r = client.post(
            "/api/v1/passages",
            content=b'{"passages": [',
            headers={"Authorization": f"Bearer {keys['cam-1']}", "Content-Type": "application/json"},
        )
        assert r.status_code == 400
        assert r.json()["field"] == "(body)"
        assert "JSON" in r.json()["message"]
        with ctx.factory() as session:
            dl = session.scalars(select(DeadLetter)).one()
        assert dl.body == b'{"passages": ['

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ([], "(body)"),
            ({"passages": []}, "passages"),
            ({"passages": "x"}, "passages"),
            ({"items": []}, "items"),
            ({}, "passages"),
        ],
    )
    def test_bad_shape(self, client: TestClient, keys: dict[str, str], body: Any, field: str) -> None:
        r = post(client, keys["cam-1"], body)
        assert r.status_code in (400, 422)
        assert r.json()["field"] == field

    def test_batch_over_limit(self, ctx: AppContext, client: TestClient, keys: dict[str, str]) -> None:
        n = ctx.settings.ingest_max_batch + 1
        r = post(client, keys["cam-1"], {"passages": [item(ctx, i) for i in range(n)]})
        assert r.status_code == 422
        assert r.json()["field"] == "passages"
        assert str(ctx.settings.ingest_max_batch) in r.json()["message"]
        assert count(ctx, Passage) == 0

    def test_bad_key_and_no_key(self, ctx: AppContext, client: TestClient) -> None:
        r = post(client, "cak_not-a-key", {"passages": [item(ctx, 1)]})
        assert r.status_code == 401
        assert r.json()["error"] == "bad_device_key"
        r = client.post("/api/v1/passages", json={"passages": [item(ctx, 1)]})
        assert r.status_code == 401
        assert r.json()["error"] == "missing_token"

    def test_platform_key_posts_for_any_registered_device(
        self, ctx: AppContext, client: TestClient, keys: dict[str, str]
    ) -> None:
        r = post(client, keys["platform"], {"passages": [item(ctx, 1), item(ctx, 2, device_id="cam-2")]})
        assert r.json() == {"accepted": 2, "duplicates": 0, "errors": []}


class TestImages:
    def test_stored_image_is_served_inert_to_signed_in_users(
        self, ctx: AppContext, client: TestClient, keys: dict[str, str]
    ) -> None:
        import base64

        from tests.conftest import make_user

        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        r = post(
            client,
            keys["cam-1"],
            {
                "passages": [
                    item(
                        ctx,
                        1,
                        images=[
                            {"type": "01", "data": base64.b64encode(svg).decode()},
                            {"type": "02", "data": JPEG},
                        ],
                    )
                ]
            },
        )
        assert r.status_code == 200
        with ctx.factory() as session:
            names = [i["name"] for i in session.scalars(select(Passage)).one().images]
        assert [n.rsplit(".", 1)[1] for n in names] == ["svg", "jpg"]
        token = make_user(ctx, "an", ["analyst"])
        got = client.get(f"/api/v1/images/{names[0]}", headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 200
        assert got.content == svg
        assert got.headers["content-type"].startswith("image/svg+xml")
        assert "sandbox" in got.headers["content-security-policy"]
        assert got.headers["x-content-type-options"] == "nosniff"
        assert client.get(f"/api/v1/images/{names[0]}").status_code == 401
        missing = client.get(
            "/api/v1/images/" + "0" * 64 + ".jpg", headers={"Authorization": f"Bearer {token}"}
        )
        assert missing.status_code == 404
