"""The engine killed mid-stream (SIGKILL) and restarted processes every passage exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from changan.alerts.models import Alert
from changan.auth.principal import SYSTEM
from changan.dispatch.models import Task
from changan.engine.models import Detection, EngineState
from changan.passages.log import insert_batch
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import create_entry
from changan.web.context import AppContext
from tests.conftest import T0, passage_row

N = 12_000
WATCHED_EVERY = 40  # every 40th passage is of a watchlisted vehicle


def _processed(ctx: AppContext) -> int:
    with ctx.reader() as s:
        state = s.get(EngineState, "main")
        return state.processed if state else 0


def _spawn(ctx: AppContext, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CHANGAN_DATABASE_URL": ctx.settings.database_url,
        "CHANGAN_VAR_DIR": str(tmp_path),
        "CHANGAN_ENGINE_BATCH_SIZE": "50",
        "CHANGAN_ENGINE_IDLE_WAIT_S": "0.05",
        "CHANGAN_LOG_LEVEL": "WARNING",
    }
    code = "from changan.cli.main import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "engine", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(pred: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_kill_and_restart_processes_every_passage_once(ctx: AppContext, tmp_path: Path) -> None:
    sites = [s for s in sorted(ctx.network.sites) if ctx.network.stations_downstream(s)][:20]
    plates = [f"鲁P{90000 + i}" for i in range(N // WATCHED_EVERY)]
    with ctx.uow() as session:
        for plate in plates:
            create_entry(
                session,
                SYSTEM,
                EntryCreate(plate_no=plate, reason="盗抢", valid_from=T0 - timedelta(days=1)),
                now=ctx.clock(),
            )
        rows = []
        for n in range(N):
            plate = plates[n // WATCHED_EVERY] if n % WATCHED_EVERY == 0 else None
            rows.append(
                passage_row(
                    n, site_id=sites[n % len(sites)], plate_no=plate, pass_time=T0 + timedelta(seconds=n)
                )
            )
        insert_batch(session, rows)

    first = _spawn(ctx, tmp_path)
    try:
        _wait(lambda: _processed(ctx) >= 500, 120)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    at_kill = _processed(ctx)
    assert 0 < at_kill < N, f"the kill did not land mid-stream ({at_kill} of {N})"

    second = _spawn(ctx, tmp_path)
    try:
        _wait(lambda: _processed(ctx) >= N, 300)
        time.sleep(0.3)  # let it idle: nothing more may be processed
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    assert second.returncode == 0, second.stderr.read().decode() if second.stderr else ""

    with ctx.factory() as s:
        assert _processed(ctx) == N
        assert s.scalar(
            select(func.count()).select_from(Detection).where(Detection.detector == "watchlist")
        ) == len(plates)
        assert s.scalar(select(func.count()).select_from(Alert)) == len(plates)
        assert s.scalar(select(func.count(func.distinct(Alert.passage_seq)))) == len(plates)
        assert s.scalar(select(func.count()).select_from(Task)) == len(plates)
        assert s.scalar(select(func.count(func.distinct(Task.alert_id)))) == len(plates)
