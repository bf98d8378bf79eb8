"""The ``changan`` command, run as a user would (Typer's runner, a real SQLite file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from changan.cli.main import app
from changan.devices.models import Device
from changan.network import Network
from changan.watchlist.models import WatchlistEntry

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("CHANGAN_DATABASE_URL", url)
    monkeypatch.setenv("CHANGAN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHANGAN_CONFIG", str(tmp_path / "none.toml"))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return url


class TestCli:
    def test_version(self) -> None:
        result = runner.invoke(app, ["version"])
        assert result.exit_code == 0
        assert result.output.startswith("changan ")

    def test_users_add_prints_a_token(self, env: str) -> None:
        result = runner.invoke(
            app, ["users", "add", "zhang", "--role", "commander", "--password", "secret-123", "--token"]
        )
        assert result.exit_code == 0, result.output
        assert "API 令牌" in result.output
        again = runner.invoke(
            app, ["users", "add", "zhang", "--role", "commander", "--password", "secret-123"]
        )
        assert again.exit_code == 2
        assert "已存在" in again.output

    def test_users_add_unknown_role(self, env: str) -> None:
        result = runner.invoke(app, ["users", "add", "li", "--role", "boss", "--password", "secret-123"])
        assert result.exit_code == 2
        assert "roles" in result.output

    def test_devices_add_prints_a_key(self, env: str, network: Network) -> None:
        site = sorted(network.sites)[0]
        result = runner.invoke(app, ["devices", "add", "cam-7", "--site", site])
        assert result.exit_code == 0, result.output
        assert "接入密钥" in result.output
        with Session(create_engine(env)) as s:
            assert s.scalars(select(Device.site_id)).one() == site
        bad = runner.invoke(app, ["devices", "add", "cam-8", "--site", "nowhere"])
        assert bad.exit_code == 2
        assert "site_id" in bad.output

    def test_watchlist_add(self, env: str) -> None:
        result = runner.invoke(
            app, ["watchlist", "add", "鲁P12345", "--reason", "盗抢", "--plate-class", "02"]
        )
        assert result.exit_code == 0, result.output
        with Session(create_engine(env)) as s:
            entry = s.scalars(select(WatchlistEntry)).one()
        assert (entry.plate_no, entry.plate_class, entry.status) == ("鲁P12345", "02", "active")
        bad = runner.invoke(app, ["watchlist", "add", "苏A7K3I9", "--reason", "x"])
        assert bad.exit_code == 2
        assert "plate_no" in bad.output

    def test_watchlist_list_and_revoke(self, env: str) -> None:
        runner.invoke(app, ["watchlist", "add", "鲁P12345", "--reason", "盗抢"])
        with Session(create_engine(env)) as s:
            entry_id = s.scalars(select(WatchlistEntry.id)).one()
        listed = runner.invoke(app, ["watchlist", "list"], env={"COLUMNS": "200"})
        assert listed.exit_code == 0, listed.output
        assert entry_id in listed.output
        assert "鲁P12345" in listed.output
        revoked = runner.invoke(app, ["watchlist", "revoke", entry_id])
        assert revoked.exit_code == 0, revoked.output
        with Session(create_engine(env)) as s:
            assert s.scalars(select(WatchlistEntry.status)).one() == "revoked"
        again = runner.invoke(app, ["watchlist", "revoke", entry_id])
        assert again.exit_code == 2
        assert "revoked" in again.output
        missing = runner.invoke(app, ["watchlist", "revoke", "nope"])
        assert missing.exit_code == 2
        assert "entry_id" in missing.output


class TestSimulateAndEvaluate:
    def test_evaluate_city_hour_reports_the_watchlist_detector(self, env: str, tmp_path: Path) -> None:
        import json

        out = tmp_path / "evaluate.json"
        result = runner.invoke(
            app, ["evaluate", "--scenario", "city-hour", "--out", str(out)], env={"COLUMNS": "200"}
        )
        assert result.exit_code == 0, result.output
        report = json.loads(out.read_text(encoding="utf-8"))
        by_name = {d["detector"]: d for d in report["detectors"]}
        watch = by_name["watchlist"]
        assert watch["has_detector"] is True
        assert watch["cases"] == 20
        assert watch["recall"] == 1.0
        assert watch["precision"] == 1.0
        # every detector of the catalogue is reported, without a change to evaluate
        from changan.engine.catalogue import detector_names

        for name in detector_names():
            assert by_name[name]["has_detector"] is True, name
        assert by_name["speeding"]["recall"] >= 0.9
        dispatch = report["dispatch"]
        assert dispatch["tasks"] > 0
        assert dispatch["reached"] + dispatch["not_reached"] == dispatch["tasks"]
        assert 0 <= dispatch["expected_stop_rate"] <= 1
        assert "watchlist" in result.output

    def test_simulate_writes_files_and_bad_scenario_is_named(self, env: str, tmp_path: Path) -> None:
        result = runner.invoke(
            app, ["simulate", "--scenario", "city-hour", "--out", str(tmp_path / "o")], env={"COLUMNS": "200"}
        )
        assert result.exit_code == 0, result.output
        assert {p.name for p in (tmp_path / "o").iterdir()} == {
            "passages.jsonl",
            "truth.jsonl",
            "registry.jsonl",
            "watchlist.jsonl",
            "devices.jsonl",
            "congestion.jsonl",
            "stats.json",
            "passages.parquet",
            "truth.parquet",
            "registry.parquet",
        }
        bad = runner.invoke(app, ["simulate", "--scenario", "nowhere", "--out", str(tmp_path / "x")])
        assert bad.exit_code == 2
        assert "--scenario" in bad.output
        nowhere = runner.invoke(app, ["simulate", "--scenario", "city-hour"])
        assert nowhere.exit_code == 2
        assert "--out" in nowhere.output
        keyless = runner.invoke(
            app, ["simulate", "--scenario", "city-hour", "--stream", "http://127.0.0.1:9"]
        )
        assert keyless.exit_code == 2
        assert "--key" in keyless.output
        badstart = runner.invoke(
            app,
            [
                "simulate",
                "--scenario",
                "city-hour",
                "--out",
                str(tmp_path / "y"),
                "--start",
                "2026-11-30T08:00:00",
            ],
        )
        assert badstart.exit_code == 2
        assert "--start" in badstart.output


class TestDeviceImport:
    def test_import_and_platform_key(self, env: str, tmp_path: Path, network: Network) -> None:
        sites = sorted(network.sites)[:2]
        path = tmp_path / "devices.jsonl"
        path.write_text(
            f'{{"device_id": "a-1", "site_id": "{sites[0]}"}}\n'
            f'{{"device_id": "a-2", "site_id": "{sites[1]}"}}\n',
            encoding="utf-8",
        )
        result = runner.invoke(app, ["devices", "import", str(path)])
        assert result.exit_code == 0, result.output
        assert "新登记 2 台" in result.output
        again = runner.invoke(app, ["devices", "import", str(path)])
        assert "已存在 2 台" in again.output
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"device_id": "a-3", "site_id": "nowhere"}\n{"site_id": "x"}\n', encoding="utf-8")
        failed = runner.invoke(app, ["devices", "import", str(bad)])
        assert failed.exit_code == 2
        assert "第 1 行 site_id" in failed.output
        assert "第 2 行 device_id" in failed.output
        key = runner.invoke(app, ["devices", "platform-key", "gw"])
        assert key.exit_code == 0
        assert "cak_" in key.output
