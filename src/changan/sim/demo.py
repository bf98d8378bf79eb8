"""``changan demo``: the whole platform on the embedded default, fed by simulated traffic.

The platform runs on an accelerated clock (``demo_speedup`` simulated seconds
per real second); the generator posts passages through the real ingest API
with a platform key, as a checkpoint platform would.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

from changan.auth.models import User
from changan.auth.principal import SYSTEM
from changan.auth.service import create_user
from changan.devices.service import add_platform_key, import_devices
from changan.dispatch.service import first_station_ahead
from changan.kit.clock import Clock
from changan.kit.logging import get_logger
from changan.network import Station
from changan.sim.traffic import TrafficSim, device_id_for
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import create_entry
from changan.web.context import AppContext

log = get_logger(__name__)

DEMO_USERS = [
    # username, password, roles, jurisdiction (the officer takes their station's)
    ("commander", "changan-demo", ["commander"], "3715"),
    ("approver", "changan-demo", ["approver"], "3715"),
    ("analyst", "changan-demo", ["analyst"], "3715"),
    ("officer", "changan-demo", ["officer"], ""),
    ("admin", "changan-demo", ["admin"], "37"),
]


@dataclass(frozen=True, slots=True)
class DemoSetup:
    platform_key: str
    watched: list[str]


def prepare(ctx: AppContext, sim: TrafficSim, *, watched_count: int = 6) -> DemoSetup:
    """Create demo users, one device per camera site, a platform key and some watchlist entries."""
    now = ctx.clock()
    station, starts = _busiest_station(ctx, sim)
    with ctx.uow() as session:
        existing = set(session.scalars(select(User.username)))
        for username, password, roles, jurisdiction in DEMO_USERS:
            if username in existing:
                continue
            st = station if username == "officer" else None
            create_user(
                session,
                SYSTEM,
                username=username,
                password=password,
                roles=roles,
                jurisdiction=(st.jurisdiction if st else jurisdiction),
                station_id=st.id if st else None,
                display_name={"commander": "值班指挥长", "officer": "执法站民警"}.get(username),
                now=now,
            )
        rows: list[dict[str, object]] = [
            {"device_id": device_id_for(site_id), "site_id": site_id} for site_id in sorted(ctx.network.sites)
        ]
        import_devices(session, SYSTEM, ctx.network, rows, now=now)  # devices already known are kept
        key = add_platform_key(session, SYSTEM, name=f"demo-sim-{int(time.time())}", now=now)
        watched: list[str] = []
        for _ in range(watched_count):
            vehicle = sim.new_vehicle()
            create_entry(
                session,
                SYSTEM,
                EntryCreate(
                    plate_no=vehicle.plate_no,
                    plate_class=vehicle.plate_class,
                    reason="演示：盗抢车辆",
                    priority=90,
                ),
                now=now,
            )
            # Start where the demo officer's station is the first ahead, so that the officer gets tasks too.
            entry = starts[len(watched) % len(starts)]
            sim.start_trip(vehicle, now + timedelta(seconds=5 + 20 * len(watched)), entry_site=entry)
            watched.append(vehicle.plate_no)
    return DemoSetup(platform_key=key, watched=watched)


def _busiest_station(ctx: AppContext, sim: TrafficSim) -> tuple[Station, list[str]]:
    """The station that is first ahead of the most entry sites, and those sites."""
    ahead: dict[str, list[str]] = {}
    for site_id in sim.entry_sites:
        first = first_station_ahead(ctx.network, site_id, None)
        if first is not None:
            ahead.setdefault(first.station.id, []).append(site_id)
    station_id = max(sorted(ahead), key=lambda s: len(ahead[s]))
    return ctx.network.stations[station_id], ahead[station_id]


def feed(
    base_url: str, key: str, sim: TrafficSim, clock: Clock, stop: threading.Event, *, interval_s: float = 1.0
) -> None:
    """Post the simulated passages as their pass time arrives, until ``stop`` is set."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        while not stop.is_set():  # wait for the server to listen
            try:
                client.get("/health")
                break
            except httpx.HTTPError:
                stop.wait(0.2)
        while not stop.is_set():
            now: datetime = clock()
            batch = list(sim.advance(now))
            for i in range(0, len(batch), 5000):
                try:
                    r = client.post("/api/v1/passages", json={"passages": batch[i : i + 5000]})
                    if r.status_code != 200:
                        log.warning("demo.post_rejected", status=r.status_code, body=r.text[:300])
                except httpx.HTTPError as exc:
                    log.warning("demo.post_failed", error=str(exc))
            stop.wait(interval_s)


def _report(ctx: AppContext, console: object, stop: threading.Event, *, every_s: float = 10.0) -> None:
    """A status line every few seconds: simulated time and the counters of the command centre."""
    from rich.console import Console

    from changan.kit.clock import LOCAL_TZ
    from changan.web.app import counters

    assert isinstance(console, Console)
    while not stop.wait(every_s):
        c = counters(ctx)
        t = ctx.clock().astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")
        console.print(
            f"[dim]模拟时间 {t}[/dim]  过车 {c['passages']:,}  预警 {c['alerts']}  "
            f"未办结指令 {c['open_tasks']}"
        )


def run_demo(
    settings: object, *, port: int, speedup: float, vehicles_per_hour: float, console: object
) -> None:
    """Migrate, seed, start the server, the workers and the traffic feed; run until Ctrl-C."""
    import uvicorn
    from rich.console import Console

    from changan.kit.clock import ScaledClock, utc_now
    from changan.kit.migrate import upgrade
    from changan.kit.settings import Settings
    from changan.runtime import Workers
    from changan.web.app import create_app

    assert isinstance(settings, Settings)
    assert isinstance(console, Console)
    upgrade(settings.database_url)
    clock = ScaledClock(utc_now(), speedup)
    ctx = AppContext.build(settings, clock)
    sim = TrafficSim(
        ctx.network, start=clock(), vehicles_per_hour=vehicles_per_hour, seed=int(time.time()), pictures=True
    )
    setup = prepare(ctx, sim)
    workers = Workers(ctx)
    workers.start()
    address = f"http://{settings.host}:{port}"
    feeder = threading.Thread(
        target=feed,
        args=(address, setup.platform_key, sim, clock, ctx.stop),
        name="changan-demo-feed",
        daemon=True,
    )
    console.print(f"\n[bold green]畅安演示已启动[/bold green]：{address}")
    console.print("  登录：commander / changan-demo（指挥中心）  officer / changan-demo（执法站）")
    console.print(f"  模拟时钟 {speedup:g} 倍速；布控车辆：{'、'.join(setup.watched)}")
    console.print("  API 文档：" + address + "/docs    按 Ctrl-C 停止\n")
    feeder.start()
    reporter = threading.Thread(
        target=_report, args=(ctx, console, ctx.stop), name="changan-demo-status", daemon=True
    )
    reporter.start()
    try:
        uvicorn.run(create_app(ctx), host=settings.host, port=port, log_level="warning")
    finally:
        workers.stop()
