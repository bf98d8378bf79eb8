"""Writing a simulated world to files: byte-identical for the same scenario and seed.

``DIR/passages.jsonl``  the reports in delivery order: a native ingest item plus ``received_at``
``DIR/truth.jsonl``     one ground-truth case a line (see the README for the fields)
``DIR/registry.jsonl``  the vehicle registry (vehicles absent from it have ``registered: false``)
``DIR/watchlist.jsonl`` the watchlist entries the scenario puts in force
``DIR/devices.jsonl``   each device's site, true clock offset and drift, outages
``DIR/congestion.jsonl`` the congestion episodes: road, segments, start, end, speed factor
``DIR/stats.json``      the statistics printed by ``changan simulate``

With ``parquet=True`` the passages, the truth and the registry are also written
as Parquet (through DuckDB, single-threaded so that the bytes are the same for
the same input).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from changan.sim.world import Outcome


def _line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def _write(path: Path, rows: Iterable[Any]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(_line(r) for r in rows)


PARQUET = ("passages", "truth", "registry")


def write(outcome: Outcome, out: Path, *, parquet: bool = False) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "passages.jsonl": (
            {**r.item, "received_at": r.received_at.isoformat(timespec="milliseconds")}
            for r in outcome.reports
        ),
        "truth.jsonl": outcome.truth,
        "registry.jsonl": (v.registry_record() for v in outcome.vehicles if v.registered),
        "watchlist.jsonl": outcome.watchlist,
        "congestion.jsonl": outcome.congestion,
        "devices.jsonl": (
            {
                "device_id": d.device_id,
                "site_id": d.site_id,
                "clock_offset_s": d.clock_offset_s,
                "drift_s_per_h": d.drift_s_per_h,
                "outages": [[a.isoformat(), b.isoformat()] for a, b in d.outages],
            }
            for d in outcome.devices.values()
        ),
    }
    written = []
    for name, rows in files.items():
        _write(out / name, rows)
        written.append(out / name)
    stats = {"scenario": outcome.scenario.name, "seed": outcome.seed, **outcome.stats}
    (out / "stats.json").write_text(
        json.dumps(stats, ensure_ascii=False, sort_keys=True, indent=2) + "\n", encoding="utf-8"
    )
    written.append(out / "stats.json")
    if parquet:
        written += _parquet(out)
    return written


def _parquet(out: Path) -> list[Path]:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET threads TO 1")
        paths = []
        for name in PARQUET:
            source, target = out / f"{name}.jsonl", out / f"{name}.parquet"
            if source.stat().st_size == 0:
                continue
            con.execute(
                f"COPY (SELECT * FROM read_json('{source}', format='newline_delimited')) "
                f"TO '{target}' (FORMAT PARQUET)"
            )
            paths.append(target)
        return paths
    finally:
        con.close()
