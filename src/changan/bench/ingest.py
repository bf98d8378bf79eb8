"""``changan bench ingest``: durable passages per second for batched native ingest.

Each backend gets a fresh, migrated database. The same pre-built batches are
sent through two paths: the ingest service with its commit (JSON parsing,
validation, plate reading, insert, fsync'd commit), and the full HTTP stack
(uvicorn in a separate process, with one worker and with several, on
loopback; httpx clients in this process, one thread per worker). A batch
counts only once its transaction has committed.
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.progress import Progress
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from changan.auth.principal import SYSTEM
from changan.devices.service import add_platform_key, authenticate_key, import_devices
from changan.ingest.service import ingest_native
from changan.kit.clock import utc_now
from changan.kit.migrate import upgrade
from changan.kit.settings import Settings
from changan.network import Network
from changan.web.context import AppContext

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True, slots=True)
class Figure:
    """One configuration: the median of its repeats, and every repeat (this machine's disk is noisy)."""

    backend: str
    path: str
    passages: int
    batch: int
    passages_per_s: float
    runs_per_s: tuple[float, ...]


def _bodies(network: Network, n: int, batch: int, run: str) -> list[bytes]:
    sites = sorted(network.sites)[:20]
    now = utc_now()
    bodies = []
    for start in range(0, n, batch):
        items = []
        for i in range(start, min(n, start + batch)):
            items.append(
                {
                    "external_id": f"{run}-{i}",
                    "device_id": f"bench-{i % len(sites)}",
                    "pass_time": (now - timedelta(seconds=n - i)).isoformat(),
                    "plate_no": f"鲁P{10000 + i % 89999}",
                    "plate_class": "02",
                    "plate_color": "blue",
                    "vehicle_class": "K33",
                    "lane_no": 1 + i % 3,
                    "speed_kmh": 80 + i % 40,
                }
            )
        bodies.append(orjson.dumps({"passages": items}))
    return bodies


def _setup(url: str, var_dir: Path, network: Network) -> tuple[AppContext, str]:
    upgrade(url)
    ctx = AppContext.build(Settings(database_url=url, var_dir=var_dir), utc_now, network)
    with ctx.uow() as session:
        rows: list[dict[str, object]] = [
            {"device_id": f"bench-{i}", "site_id": site} for i, site in enumerate(sorted(network.sites)[:20])
        ]
        import_devices(session, SYSTEM, network, rows, now=utc_now())
        key = add_platform_key(session, SYSTEM, name="bench", now=utc_now())
    return ctx, key


def _service_run(
    ctx: AppContext, key_secret: str, bodies: list[bytes], progress: Progress, label: str
) -> float:
    with ctx.factory() as session:
        key = authenticate_key(session, key_secret)
    task = progress.add_task(label, total=len(bodies))
    t0 = time.perf_counter()
    for body in bodies:
        with ctx.uow() as session:
            result = ingest_native(
                session,
                key,
                body,
                content_type="application/json",
                network=ctx.network,
                images=ctx.images,
                limits=ctx.ingest_limits,
                now=utc_now(),
            )
        if result.errors or result.body_error:
            msg = f"bench batch rejected: {result.to_dict()}"
            raise RuntimeError(msg)
        progress.advance(task)
    return time.perf_counter() - t0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http_run(
    ctx: AppContext, key: str, bodies: list[bytes], progress: Progress, label: str, *, workers: int = 1
) -> float:
    """Serve with ``workers`` uvicorn processes; post from as many client threads."""
    port = _free_port()
    env = {
        **os.environ,
        "CHANGAN_DATABASE_URL": ctx.settings.database_url,
        "CHANGAN_VAR_DIR": str(ctx.settings.var_dir),
        "CHANGAN_LOG_LEVEL": "WARNING",
        "CHANGAN_CONFIG": str(Path(ctx.settings.var_dir) / "none.toml"),
    }
    if ctx.settings.network_file:
        env["CHANGAN_NETWORK_FILE"] = str(ctx.settings.network_file)
    code = (
        "import uvicorn; uvicorn.run('changan.web.app:api_app', factory=True, host='127.0.0.1', "
        f"port={port}, workers={workers}, log_level='error', access_log=False)"
    )
    server = subprocess.Popen([sys.executable, "-c", code], env=env)
    task = progress.add_task(label, total=len(bodies))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, workers)
        shares = [bodies[w::workers] for w in range(workers)]
        failures: list[str] = []

        def post_all(share: list[bytes]) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                for body in share:
                    r = client.post("/api/v1/passages", content=body)
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {r.text[:300]}")
                        return
                    progress.advance(task)

        threads = [threading.Thread(target=post_all, args=(share,)) for share in shares]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        if failures:
            msg = f"bench batch rejected: {failures[0]}"
            raise RuntimeError(msg)
        return elapsed
    finally:
        server.terminate()
        server.wait(20)


def _wait_healthy(base: str, workers: int) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=base, timeout=5) as client:
        healthy = 0
        while healthy < workers * 3:  # several answers, so that every worker has started
            try:
                client.get("/health").raise_for_status()
                healthy += 1
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def run(
    *,
    n: int,
    batch: int,
    backends: list[str],
    pg_url: str | None,
    network: Network,
    progress: Progress,
    http_workers: int = 2,
    repeat: int = 3,
) -> list[Figure]:
    figures: list[Figure] = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="changan-bench-") as tmp:
            pg_name = None
            admin_url = pg_url or os.environ.get("CHANGAN_TEST_DATABASE_URL") or DEFAULT_PG
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.db"
            else:
                pg_name = f"changan_bench_{uuid.uuid4().hex[:8]}"
                admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
                admin.dispose()
                url = make_url(admin_url).set(database=pg_name).render_as_string(hide_password=False)
            try:
                ctx, key = _setup(url, Path(tmp), network)
                paths = [("service", 0), ("http ×1", 1)]
                if http_workers > 1:
                    paths.append((f"http ×{http_workers}", http_workers))
                runs: dict[str, list[float]] = {path: [] for path, _ in paths}
                for attempt in range(repeat):  # interleaved, so that a slow spell hits every path alike
                    for path, workers in paths:
                        bodies = _bodies(network, n, batch, uuid.uuid4().hex[:6])
                        label = f"{backend} {path} #{attempt + 1}"
                        seconds = (
                            _service_run(ctx, key, bodies, progress, label)
                            if workers == 0
                            else _http_run(ctx, key, bodies, progress, label, workers=workers)
                        )
                        runs[path].append(round(n / seconds, 1))
                for path, rates in runs.items():
                    figures.append(Figure(backend, path, n, batch, statistics.median(rates), tuple(rates)))
                ctx.db.dispose()
            finally:
                if pg_name is not None:
                    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
                    admin.dispose()
    return figures


def report(figures: list[Figure], *, n: int, batch: int) -> dict[str, Any]:
    return {
        "benchmark": "ingest",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "passages": n,
        "batch": batch,
        "note": "passages_per_s is the median of runs_per_s; a passage counts once its transaction committed",
        "figures": [asdict(f) for f in figures],
    }
