"""``changan bench engine``: the detection engine's throughput, cost and memory.

One simulated scenario (``national-peak`` by default: national peak demand on
this network) is prepared once, then measured:

* **in memory**: every detector through the :class:`~changan.engine.core.Core`
  alone, on one core (one Python thread): passages per second, CPU seconds per
  passage, the latency of each passage (p50, p99), and the bytes of engine
  state per tracked vehicle (the deep size of every object the core holds for
  its vehicles, each object counted once, divided by the vehicles tracked),
  taken once, halfway through the input (not timed);
* **end to end**, per database backend: the passages are first stored in the
  log through the ingest service (not timed); then the engine worker reads
  them, runs every detector and commits the detections, the alerts and its
  position, batch after batch, until the log is drained (timed);
* **profile**: where the in-memory time goes (cProfile, the top functions by
  own time) on a slice of the input.
"""

from __future__ import annotations

import cProfile
import io
import os
import platform
import pstats
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from changan.auth.principal import SYSTEM
from changan.devices.service import add_platform_key, authenticate_key, import_devices
from changan.engine.catalogue import build_context, build_detectors
from changan.engine.context import RegistryRecord
from changan.engine.core import Core
from changan.engine.detectors.watchlist import IndexedEntry, WatchlistIndex
from changan.engine.runtime import Engine
from changan.engine.sighting import Sighting, ref_of
from changan.ingest.service import ingest_native
from changan.kit.clock import FakeClock
from changan.kit.migrate import upgrade
from changan.kit.settings import Settings
from changan.network import Network
from changan.plates import PlateClass, key_for_read, read_plate
from changan.sim.evaluate import load_registry
from changan.sim.scenario import Scenario
from changan.sim.world import Outcome, simulate
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import create_entry
from changan.web.context import AppContext

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SOURCE = "bench"

Progress = Callable[[str, float], None]


@dataclass
class Prepared:
    scenario: Scenario
    outcome: Outcome
    sightings: list[Sighting]
    registry: dict[str, RegistryRecord]
    watchlist: list[IndexedEntry]


class _Registry:
    def __init__(self, records: dict[str, RegistryRecord]) -> None:
        self._records = records

    def get(self, vehicle_key: str) -> RegistryRecord | None:
        return self._records.get(vehicle_key)


def prepare(scenario: Scenario, network: Network, seed: int, progress: Progress | None = None) -> Prepared:
    outcome = simulate(
        scenario, network, seed, progress=(lambda f: progress("模拟", f)) if progress else None
    )
    sightings = []
    site_of = {d.device_id: d.site_id for d in outcome.devices.values()}
    classes: dict[str, PlateClass] = {}
    for n, r in enumerate(outcome.reports):
        item = r.item
        read = read_plate(item["plate_no"])
        code = item["plate_class"]
        cls = classes.get(code) or classes.setdefault(code, PlateClass.parse(code))
        sightings.append(
            Sighting(
                seq=n + 1,
                ref=ref_of(SOURCE, item["external_id"]),
                t=datetime.fromisoformat(item["pass_time"]).timestamp(),
                vehicle_key=key_for_read(read, cls, read_id=item["external_id"]),
                plate_no=read.text,
                plate_class=cls.value,
                plate_kind=read.kind.value,
                site_id=site_of[item["device_id"]],
                device_id=item["device_id"],
                vehicle_class=item.get("vehicle_class"),
                lane_no=item.get("lane_no"),
                speed_kmh=item.get("speed_kmh"),
                plate_confidence=item.get("plate_confidence"),
            )
        )
        if progress is not None and n % 50_000 == 0:
            progress("准备", n / max(1, len(outcome.reports)))
    registry = {
        v.key: RegistryRecord(
            vehicle_key=v.key,
            plate_no=v.plate_no,
            plate_class=v.plate_class,
            vehicle_class=v.vehicle_class,
            use=v.use,
            body_colour=v.body_colour,
            brand=v.brand,
            model=v.model,
            operator=v.operator,
        )
        for v in outcome.vehicles
        if v.registered
    }
    watch = [
        IndexedEntry(
            id=f"w{n}",
            plate_no=e["plate_no"],
            plate_class=e["plate_class"],
            valid_from=datetime.fromisoformat(e["valid_from"]),
            valid_until=None,
            priority=int(e["priority"]),
            reason=str(e["reason"]),
            jurisdiction="3715",
        )
        for n, e in enumerate(outcome.watchlist)
    ]
    if progress is not None:
        progress("准备", 1.0)
    return Prepared(scenario, outcome, sightings, registry, watch)


def _core(p: Prepared, network: Network, lateness_s: float, config: dict[str, Any] | None) -> Core:
    detectors = build_detectors(config)
    ctx = build_context(
        network,
        detectors,
        lateness_s=lateness_s,
        registry=_Registry(p.registry),
        watchlist=WatchlistIndex(p.watchlist),
    )
    return Core(detectors, ctx, lateness_s=lateness_s)


def run_memory(
    p: Prepared,
    network: Network,
    *,
    lateness_s: float = 600.0,
    config: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    core = _core(p, network, lateness_s, config)
    lat = array("q")
    clock = time.perf_counter_ns
    found = 0
    n = len(p.sightings)
    half = n // 2
    tracked = state_bytes = 0
    paused_wall = paused_cpu = 0.0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i, s in enumerate(p.sightings):
        t = clock()
        core.process(s)
        lat.append(clock() - t)
        if i % 5000 == 4999:
            ch = core.drain()
            found += len(ch.provisional) + len(ch.settled_new)
            if progress is not None:
                progress("内存", i / n)
        if i == half:  # the state in the middle of the run, in steady traffic (not timed)
            w, c = time.perf_counter(), time.process_time()
            tracked, state_bytes = len(core.states), deep_size(core)
            paused_wall += time.perf_counter() - w
            paused_cpu += time.process_time() - c
    wall = time.perf_counter() - wall0 - paused_wall
    cpu = time.process_time() - cpu0 - paused_cpu
    ch = core.drain()
    found += len(ch.provisional) + len(ch.settled_new)
    ordered = sorted(lat)
    if progress is not None:
        progress("内存", 1.0)
    return {
        "passages": n,
        "detectors": [d.name for d in core.detectors],
        "seconds": round(wall, 3),
        "passages_per_s": round(n / wall, 1),
        "cpu_s_per_passage": cpu / n,
        "latency_p50_us": round(ordered[n // 2] / 1000, 2),
        "latency_p99_us": round(ordered[min(n - 1, int(n * 0.99))] / 1000, 2),
        "latency_max_us": round(ordered[-1] / 1000, 2),
        "tracked_vehicles": tracked,
        "state_bytes": state_bytes,
        "bytes_per_tracked_vehicle": round(state_bytes / max(1, tracked), 1),
        "findings": found,
        "late_passages": core.stats.late,
        "evicted": core.stats.evicted,
    }


def profile(p: Prepared, network: Network, *, limit: int, lateness_s: float = 600.0) -> list[dict[str, Any]]:
    """Own time by function over the first ``limit`` passages (cProfile slows everything alike)."""
    core = _core(p, network, lateness_s, None)
    prof = cProfile.Profile()
    prof.enable()
    for s in p.sightings[:limit]:
        core.process(s)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    for (file, line, fn), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({fn})",
                "calls": calls,
                "own_s": round(tottime, 4),
                "own_share": round(tottime / total, 4) if total else 0.0,
                "cumulative_s": round(cumtime, 4),
            }
        )
    rows.sort(key=lambda r: -r["own_s"])
    return rows[:25]


def deep_size(core: Core) -> int:
    """Bytes of every object reachable from the core's per-vehicle state, each counted once.

    Roots: the vehicle table, the eviction tiers and the settle and timer heaps.
    Strings and numbers shared with other vehicles (site ids, device ids) are counted once.
    """
    seen: set[int] = set()
    total = 0
    stack: list[Any] = [core.states, core._tiers, core._settle, core._timers]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif isinstance(obj, str | int | float | bytes | type(None) | bool):
            continue
        else:
            for cls in type(obj).__mro__:
                for slot in getattr(cls, "__slots__", ()):
                    if hasattr(obj, slot):
                        stack.append(getattr(obj, slot))
            if hasattr(obj, "__dict__"):
                stack.append(obj.__dict__)
    return total


@contextmanager
def database(backend: str, pg_url: str | None, tmp: Path) -> Iterator[str]:
    """A fresh database URL for ``backend`` (sqlite file, or a temporary PostgreSQL database)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp}/bench-engine.db"
        return
    admin_url = pg_url or os.environ.get("CHANGAN_TEST_DATABASE_URL") or DEFAULT_PG
    name = f"changan_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_end_to_end(
    p: Prepared,
    network: Network,
    url: str,
    tmp: Path,
    *,
    batch_size: int,
    lateness_s: float = 600.0,
    progress: Progress | None = None,
    label: str = "端到端",
) -> dict[str, Any]:
    upgrade(url)
    clock = FakeClock(p.scenario.start)
    ctx = AppContext.build(Settings(database_url=url, var_dir=tmp), clock, network)
    try:
        with ctx.uow() as session:
            rows: list[dict[str, object]] = [
                {"device_id": d.device_id, "site_id": d.site_id} for d in p.outcome.devices.values()
            ]
            import_devices(session, SYSTEM, network, rows, now=clock())
            for e in p.outcome.watchlist:
                create_entry(session, SYSTEM, EntryCreate.model_validate(e), now=clock())
            secret = add_platform_key(session, SYSTEM, name=SOURCE, now=clock())
        load_registry(ctx, p.outcome)
        with ctx.reader() as session:
            key = authenticate_key(session, secret)
        reports = p.outcome.reports
        step = 5000
        for i in range(0, len(reports), step):
            chunk = reports[i : i + step]
            clock.set(chunk[-1].received_at + timedelta(seconds=1))
            body = orjson.dumps({"passages": [r.item for r in chunk]})
            with ctx.uow() as session:
                result = ingest_native(
                    session,
                    key,
                    body,
                    content_type="application/json",
                    network=network,
                    images=ctx.images,
                    limits=ctx.ingest_limits,
                    now=clock(),
                )
            if result.body_error or len(result.errors) > len(chunk) // 10:
                msg = f"bench batch rejected: {result.to_dict()}"
                raise RuntimeError(msg)
            if progress is not None:
                progress(f"{label}：写入日志（不计时）", (i + len(chunk)) / len(reports))
        engine = Engine(
            ctx.factory,
            network,
            clock=clock,
            batch_size=batch_size,
            lateness_s=lateness_s,
            snapshot_every_s=1e9,
        )
        total = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        while (n := engine.step().processed) > 0:
            total += n
            if progress is not None:
                progress(f"{label}：检测（计时）", total / len(reports))
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        return {
            "passages": total,
            "batch_size": batch_size,
            "seconds": round(wall, 3),
            "passages_per_s": round(total / wall, 1) if wall else None,
            "engine_cpu_s_per_passage": cpu / max(1, total),
        }
    finally:
        ctx.db.dispose()


def run(
    scenario: Scenario,
    network: Network,
    seed: int,
    *,
    backends: list[str],
    pg_url: str | None,
    batch_size: int,
    profile_passages: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    p = prepare(scenario, network, seed, progress)
    memory = run_memory(p, network, progress=progress)
    where = profile(p, network, limit=min(profile_passages, len(p.sightings)))
    end_to_end = {}
    for backend in backends:
        with (
            tempfile.TemporaryDirectory(prefix="changan-bench-engine-") as tmp,
            database(backend, pg_url, Path(tmp)) as url,
        ):
            end_to_end[backend] = run_end_to_end(
                p, network, url, Path(tmp), batch_size=batch_size, progress=progress, label=backend
            )
    return {
        "benchmark": "engine",
        "scenario": scenario.name,
        "seed": seed,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "passages": len(p.sightings),
        "memory": memory,
        "end_to_end": end_to_end,
        "profile_passages": min(profile_passages, len(p.sightings)),
        "profile_top": where,
        "note": "memory: one Python thread; end_to_end: the log is filled first (not timed), then the engine "
        "drains it, committing detections and its position per batch",
    }
