"""``changan registry import`` and ``changan registry show``, run as a user would."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from changan.auth.models import AuditRecord
from changan.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("CHANGAN_DATABASE_URL", url)
    monkeypatch.setenv("CHANGAN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHANGAN_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("CHANGAN_LOG_LEVEL", "WARNING")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return url


def test_import_writes_the_issue_report_next_to_the_file(env: str, tmp_path: Path) -> None:
    path = tmp_path / "车管所.csv"
    path.write_text(
        "号牌号码,号牌种类,使用性质,车身颜色\n鲁P2K301,01,B,A\n苏A7K3I9,02,A,A\n鲁P12345,77,A,A\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["registry", "import", str(path), "--source", "车管所"])
    assert result.exit_code == 1, result.output  # some rows were rejected
    assert "接收 1" in result.output and "拒收 2" in result.output
    report = tmp_path / "车管所.csv.errors.csv"
    rows = list(csv.reader(report.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[:3] for r in rows] == [
        ["row", "field", "severity"],
        ["3", "plate_no", "error"],
        ["4", "plate_class", "error"],
    ]

    again = runner.invoke(app, ["registry", "import", str(path), "--errors", str(tmp_path / "e.csv")])
    assert "未变 1" in again.output and (tmp_path / "e.csv").exists()

    shown = runner.invoke(app, ["registry", "show", "1:鲁p2k301", "--purpose", "核查"])
    assert shown.exit_code == 0, shown.output
    assert "公路客运" in shown.output and "A 白" in shown.output and "车管所" in shown.output
    missing = runner.invoke(app, ["registry", "show", "02:鲁P99999"])
    assert missing.exit_code == 1 and "不在登记库中" in missing.output
    bad = runner.invoke(app, ["registry", "show", "鲁P99999"])
    assert bad.exit_code == 2 and "vehicle_key" in bad.output
    with Session(create_engine(env)) as s:
        actions = s.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
    assert actions == ["registry.import", "registry.import", "registry.lookup", "registry.lookup"]


def test_unreadable_files_fail_with_the_field(env: str, tmp_path: Path) -> None:
    path = tmp_path / "登记.xlsx"
    path.write_bytes(b"PK")
    result = runner.invoke(app, ["registry", "import", str(path)])
    assert result.exit_code == 2
    assert "format" in result.output and "openpyxl" in result.output
