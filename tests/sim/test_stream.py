"""Streaming a simulated world through the real ingest API of a running app."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from changan.auth.principal import SYSTEM
from changan.devices.service import add_platform_key, import_devices
from changan.kit.clock import FakeClock
from changan.kit.migrate import upgrade
from changan.kit.settings import Settings
from changan.network import Network
from changan.sim.scenario import load_scenario
from changan.sim.stream import stream
from changan.sim.world import simulate
from changan.web.app import create_app
from changan.web.context import AppContext

SMALL = """
name = "small"
start = 2026-11-30T08:00:00+08:00
duration_h = 0.25
[traffic]
vehicles_per_day = 20000
[inject]
watchlisted_vehicles = 2
clones = 1
fake_plates = 3
fatigued_drivers = 0
rested_long_haul = 0
"""


def test_every_report_is_accepted_or_counted(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    network = Network.load_default()
    outcome = simulate(load_scenario(str(path)), network, 11)
    url = f"sqlite:///{tmp_path}/s.db"
    upgrade(url)
    last = max(r.received_at for r in outcome.reports)
    ctx = AppContext.build(
        Settings(database_url=url, var_dir=tmp_path), FakeClock(last + timedelta(minutes=1)), network
    )
    with ctx.uow() as session:
        rows = [{"device_id": d.device_id, "site_id": d.site_id} for d in outcome.devices.values()]
        added, known, errors = import_devices(session, SYSTEM, network, rows, now=ctx.clock())
        key = add_platform_key(session, SYSTEM, name="sim", now=ctx.clock())
    assert (added, known, errors) == (len(rows), 0, [])
    with TestClient(create_app(ctx, with_ui=False)) as client:
        result = stream(outcome, "http://testserver", key, speedup=0, client=client)
    assert result.sent == len(outcome.reports)
    assert result.accepted + result.duplicates + result.rejected == result.sent
    # only device clocks that run ahead by more than the allowed skew may be refused
    assert result.rejected <= 0.05 * result.sent
    assert result.accepted > 0.9 * result.sent
