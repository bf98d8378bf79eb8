"""``changan demo`` as a newcomer runs it: the first alert and task appear within 60 seconds."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from changan.alerts.models import Alert
from changan.dispatch.models import Task
from changan.passages.models import Passage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_demo_shows_an_alert_and_a_task_within_a_minute(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "demo.db"
    env = {
        **os.environ,
        "CHANGAN_VAR_DIR": str(tmp_path),
        "CHANGAN_DATABASE_URL": f"sqlite:///{db}",
        "CHANGAN_CONFIG": str(tmp_path / "none.toml"),
        "CHANGAN_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from changan.cli.main import main; main()", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    counts = (0, 0, 0)
    try:
        while time.monotonic() - started < 60 and proc.poll() is None:
            time.sleep(0.5)
            if not db.exists():
                continue
            try:
                with Session(create_engine(f"sqlite:///{db}")) as s:
                    counts = tuple(
                        int(s.scalar(select(func.count()).select_from(m)) or 0)  # type: ignore[assignment]
                        for m in (Passage, Alert, Task)
                    )
            except OperationalError:
                continue
            if counts[1] and counts[2]:
                break
        elapsed = time.monotonic() - started
        assert counts[0] > 0 and counts[1] > 0 and counts[2] > 0, f"after {elapsed:.0f} s: {counts}"
        assert elapsed < 60
        login = httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status_code == 200
        assert "登录" in login.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    text = out.decode()
    assert f"http://127.0.0.1:{port}" in text
    assert "commander / changan-demo" in text
