"""Exactly once, for real: simulated traffic, the engine killed (SIGKILL) at random points and
restarted from its snapshots, gives the same detections, settled and not, as one uninterrupted
run; and a shuffled delivery order within the lateness gives the same settled detections."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from changan.alerts.models import Alert
from changan.auth.principal import SYSTEM
from changan.devices.service import active_sites, add_platform_key, authenticate_key, import_devices
from changan.engine.models import Detection, EngineState
from changan.engine.runtime import Engine
from changan.ingest.service import prepare_native, store_batch
from changan.kit.clock import FakeClock
from changan.kit.migrate import upgrade
from changan.kit.outbox import OutboxMessage
from changan.kit.settings import Settings
from changan.network import Network
from changan.sim.evaluate import load_registry
from changan.sim.scenario import load_scenario
from changan.sim.world import Outcome, Report, simulate
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import create_entry
from changan.web.context import AppContext

SCENARIO = """
name = "kill"
start = 2026-11-30T07:30:00+08:00
duration_h = 0.5
[traffic]
vehicles_per_day = 80000
[inject]
watchlisted_vehicles = 25
clones = 4
fake_plates = 3
fatigued_drivers = 2
rested_long_haul = 1
"""
LATENESS_S = 600.0


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    path = tmp_path_factory.mktemp("sc") / "kill.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return simulate(load_scenario(str(path)), Network.load_default(), 5)


def _fill(url: str, tmp: Path, outcome: Outcome, reports: list[Report]) -> None:
    """Migrate, register the devices and the watchlist, and ingest ``reports`` in that order."""
    upgrade(url)
    clock = FakeClock(outcome.scenario.start)
    ctx = AppContext.build(Settings(database_url=url, var_dir=tmp), clock, Network.load_default())
    try:
        with ctx.uow() as s:
            rows: list[dict[str, object]] = [
                {"device_id": d.device_id, "site_id": d.site_id} for d in outcome.devices.values()
            ]
            import_devices(s, SYSTEM, ctx.network, rows, now=clock())
            for e in outcome.watchlist:
                create_entry(s, SYSTEM, EntryCreate.model_validate(e), now=clock())
            secret = add_platform_key(s, SYSTEM, name="sim", now=clock())
        load_registry(ctx, outcome)
        with ctx.reader() as s:
            key = authenticate_key(s, secret)
        for i in range(0, len(reports), 500):
            chunk = reports[i : i + 500]
            clock.set(max(r.received_at for r in chunk))
            body = orjson.dumps({"passages": [r.item for r in chunk]})
            with ctx.reader() as reader:
                batch = prepare_native(
                    key,
                    body,
                    content_type="application/json",
                    devices=partial(active_sites, reader),
                    network=ctx.network,
                    images=ctx.images,
                    limits=ctx.ingest_limits,
                    now=clock(),
                )
            with ctx.uow() as s:
                store_batch(s, batch, now=clock())
    finally:
        ctx.db.dispose()


def _ctx(url: str, tmp: Path, outcome: Outcome) -> AppContext:
    clock = FakeClock(outcome.scenario.end)
    return AppContext.build(Settings(database_url=url, var_dir=tmp), clock, Network.load_default())


def _detections(ctx: AppContext) -> tuple[dict[str, str], int, int]:
    """id → status of every detection; alerts; distinct alert outbox keys."""
    with ctx.reader() as s:
        dets = dict(s.execute(select(Detection.id, Detection.status)).tuples().all())
        alerts = s.scalar(select(func.count()).select_from(Alert)) or 0
        created = s.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == "alert.created")
        )
    return dets, alerts, created or 0


def _processed(ctx: AppContext) -> int:
    with ctx.reader() as s:
        state = s.get(EngineState, "main")
        return state.processed if state else 0


def _spawn(url: str, tmp: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CHANGAN_DATABASE_URL": url,
        "CHANGAN_VAR_DIR": str(tmp),
        "CHANGAN_ENGINE_BATCH_SIZE": "300",
        "CHANGAN_ENGINE_IDLE_WAIT_S": "0.05",
        "CHANGAN_ENGINE_SNAPSHOT_EVERY_S": "0.3",
        "CHANGAN_ENGINE_LATENESS_S": str(LATENESS_S),
        "CHANGAN_LOG_LEVEL": "WARNING",
        "CHANGAN_CONFIG": str(tmp / "none.toml"),
    }
    code = "from changan.cli.main import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "engine", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def two_copies(tmp_path: Path, outcome: Outcome) -> tuple[str, str, Path]:
    a = tmp_path / "a.db"
    _fill(f"sqlite:///{a}", tmp_path, outcome, outcome.reports)
    b = tmp_path / "b.db"
    shutil.copy(a, b)
    return f"sqlite:///{a}", f"sqlite:///{b}", tmp_path


@pytest.mark.slow
def test_kills_at_random_points_change_nothing(two_copies: tuple[str, str, Path], outcome: Outcome) -> None:
    killed_url, whole_url, tmp = two_copies
    whole = _ctx(whole_url, tmp, outcome)
    Engine(
        whole.factory, whole.network, clock=whole.clock, batch_size=300, lateness_s=LATENESS_S
    ).run_until_idle()
    expected, expected_alerts, expected_pushes = _detections(whole)
    whole.db.dispose()
    assert any(status == "settled" for status in expected.values())
    assert expected_alerts > 0

    killed = _ctx(killed_url, tmp, outcome)
    total = len(outcome.reports)
    rng = random.Random(11)
    kills = 0
    for target in sorted(rng.sample(range(total // 10, total - total // 10), 3)):
        proc = _spawn(killed_url, tmp)
        try:
            deadline = time.monotonic() + 120
            while _processed(killed) < target and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.02))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
        finally:
            if proc.poll() is None:
                proc.kill()
    assert kills == 3
    assert _processed(killed) < total, "every kill landed after the end: nothing was tested"
    last = _spawn(killed_url, tmp)
    try:
        deadline = time.monotonic() + 300
        while _processed(killed) < total and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        last.send_signal(signal.SIGTERM)
        last.wait(30)
    assert last.returncode == 0, last.stderr.read().decode() if last.stderr else ""
    got, alerts, pushes = _detections(killed)
    killed.db.dispose()
    assert got == expected
    assert (alerts, pushes) == (expected_alerts, expected_pushes)
    assert pushes == alerts  # one push per alert: none twice


@pytest.mark.slow
def test_shuffled_delivery_within_the_lateness_settles_the_same(tmp_path: Path, outcome: Outcome) -> None:
    def settled(reports: list[Report], name: str) -> set[tuple[str, str, str, tuple[int, ...]]]:
        """The settled detections, by what they say (ids hold random watchlist entry ids, which
        differ between the two databases)."""
        url = f"sqlite:///{tmp_path / name}.db"
        _fill(url, tmp_path, outcome, reports)
        ctx = _ctx(url, tmp_path, outcome)
        engine = Engine(ctx.factory, ctx.network, clock=ctx.clock, batch_size=200, lateness_s=LATENESS_S)
        engine.run_until_idle()
        engine.flush()
        with ctx.reader() as s:
            rows = s.scalars(select(Detection).where(Detection.status == "settled"))
            found = {(d.detector, d.rule, d.vehicle_key, tuple(sorted(d.evidence_refs))) for d in rows}
        ctx.db.dispose()
        return found

    def pass_time(r: Report) -> float:
        from datetime import datetime

        return datetime.fromisoformat(r.item["pass_time"]).timestamp()

    # in event-time order, and a shuffle in which each report is delayed by up to the lateness
    in_order = sorted(outcome.reports, key=lambda r: (pass_time(r), r.item["external_id"]))
    rng = random.Random(3)
    shuffled = sorted(outcome.reports, key=lambda r: pass_time(r) + rng.uniform(0, LATENESS_S * 0.95))
    a = settled(in_order, "in-order")
    b = settled(shuffled, "shuffled")
    assert a
    assert a == b
