"""Pattern entries (match_mode = pattern): grammar checked in the service, errors name plate_no;
the same through HTTP and the ``watchlist add`` command."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from changan.auth.principal import SYSTEM
from changan.cli.main import app
from changan.kit.errors import Unprocessable
from changan.watchlist.models import WatchlistEntry
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import PATTERN_MIN_FIXED_CHARS, create_entry
from changan.web.app import create_app
from changan.web.context import AppContext
from tests.conftest import make_user

NOW = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, with_ui=False)) as c:
        yield c


@pytest.fixture
def headers(ctx: AppContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_user(ctx, 'cmd', ['commander'])}"}


class TestService:
    def test_a_pattern_is_normalised_and_stored_with_its_mode(self, ctx: AppContext) -> None:
        with ctx.uow() as session:
            e = create_entry(
                session,
                SYSTEM,
                EntryCreate(plate_no="鲁p＊８？５", reason="肇事逃逸", match_mode="pattern"),
                now=NOW,
            )
            assert (e.plate_no, e.match_mode, e.plate_class) == ("鲁P*8?5", "pattern", None)

    def test_exact_is_the_default(self, ctx: AppContext) -> None:
        with ctx.uow() as session:
            e = create_entry(session, SYSTEM, EntryCreate(plate_no="鲁P12345", reason="盗抢"), now=NOW)
            assert (e.plate_no, e.match_mode) == ("鲁P12345", "exact")

    @pytest.mark.parametrize(
        ("plate_no", "match_mode", "says"),
        [
            ("鲁*5", "pattern", "至少要有 3 个确定字符"),
            ("**", "pattern", "不能只有通配符"),
            ("鲁P%*5", "pattern", "号牌中不会出现的字符"),
            ("鲁P12345", "pattern", "没有通配符"),
            ("鲁P1?34", "pattern", "须为 7 或 8 位"),
            ("鲁P*8?5", "exact", "请用模糊布控"),
        ],
    )
    def test_bad_patterns_name_plate_no(
        self, ctx: AppContext, plate_no: str, match_mode: str, says: str
    ) -> None:
        data = EntryCreate.model_validate({"plate_no": plate_no, "reason": "x", "match_mode": match_mode})
        with ctx.uow() as session, pytest.raises(Unprocessable) as err:
            create_entry(session, SYSTEM, data, now=NOW)
        assert err.value.field == "plate_no"
        assert says in err.value.message

    def test_the_minimum_of_fixed_characters_is_a_setting(self, ctx: AppContext) -> None:
        assert PATTERN_MIN_FIXED_CHARS == 3
        data = EntryCreate(plate_no="*12345", reason="x", match_mode="pattern")
        with ctx.uow() as session, pytest.raises(Unprocessable):
            create_entry(session, SYSTEM, data, now=NOW, pattern_min_fixed_chars=6)
        with ctx.uow() as session:
            assert (
                create_entry(session, SYSTEM, data, now=NOW, pattern_min_fixed_chars=5).plate_no == "*12345"
            )


class TestHttp:
    def test_create_a_pattern_entry(self, client: TestClient, headers: dict[str, str]) -> None:
        r = client.post(
            "/api/v1/watchlist/entries",
            json={"plate_no": "鲁P*8?5", "match_mode": "pattern", "reason": "肇事逃逸"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        assert (r.json()["plate_no"], r.json()["match_mode"]) == ("鲁P*8?5", "pattern")
        listed = client.get("/api/v1/watchlist/entries", headers=headers).json()
        assert [e["match_mode"] for e in listed] == ["pattern"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"plate_no": "鲁*5", "match_mode": "pattern", "reason": "x"}, "plate_no"),
            ({"plate_no": "鲁P*8?5", "reason": "x"}, "plate_no"),
            ({"plate_no": "鲁P*8?5", "match_mode": "fuzzy", "reason": "x"}, "match_mode"),
        ],
    )
    def test_bad_input_names_the_field(
        self, client: TestClient, headers: dict[str, str], body: dict[str, str], field: str
    ) -> None:
        r = client.post("/api/v1/watchlist/entries", json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field


class TestCli:
    @pytest.fixture
    def env(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
        url = f"sqlite:///{tmp_path}/cli.db"
        monkeypatch.setenv("CHANGAN_DATABASE_URL", url)
        monkeypatch.setenv("CHANGAN_VAR_DIR", str(tmp_path))
        monkeypatch.setenv("CHANGAN_CONFIG", str(tmp_path / "none.toml"))
        assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
        return url

    def test_watchlist_add_a_pattern(self, env: str) -> None:
        runner = CliRunner()
        ok = runner.invoke(
            app, ["watchlist", "add", "鲁P*8?5", "--reason", "肇事逃逸", "--match-mode", "pattern"]
        )
        assert ok.exit_code == 0, ok.output
        assert "模糊布控 鲁P*8?5" in ok.output
        with Session(create_engine(env)) as s:
            assert s.execute(select(WatchlistEntry.plate_no, WatchlistEntry.match_mode)).one() == (
                "鲁P*8?5",
                "pattern",
            )
        bad = runner.invoke(app, ["watchlist", "add", "鲁*5", "--reason", "x", "--match-mode", "pattern"])
        assert (bad.exit_code, "plate_no" in bad.output) == (2, True)
        mode = runner.invoke(app, ["watchlist", "add", "鲁P*8?5", "--reason", "x", "--match-mode", "fuzzy"])
        assert (mode.exit_code, "match_mode" in mode.output) == (2, True)
