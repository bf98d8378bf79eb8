"""Hand-built trails for detector tests: sightings on the default network, a context, a core."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from changan.engine.context import Context, Registry
from changan.engine.core import Core
from changan.engine.detectors.base import Detector
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState
from changan.kit.clock import LOCAL_TZ
from changan.network import Network

_refs = itertools.count(1)


@cache
def network() -> Network:
    return Network.load_default()


def context(**kwargs: Any) -> Context:
    return Context.for_network(network(), **kwargs)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: float = 0.0) -> float:
    """Epoch seconds of a local (Asia/Shanghai) wall-clock time."""
    return datetime(y, mo, d, h, mi, int(s), int((s % 1) * 1e6), tzinfo=LOCAL_TZ).timestamp()


def sighting(
    site_id: str,
    t: float,
    *,
    plate_no: str = "鲁P12345",
    plate_class: str = "02",
    plate_kind: str = "ordinary",
    vehicle_key: str | None = None,
    device_id: str | None = None,
    ref: int | None = None,
    seq: int | None = None,
    **fields: Any,
) -> Sighting:
    n = next(_refs)
    return Sighting(
        seq=seq if seq is not None else n,
        ref=ref if ref is not None else n,
        t=t,
        vehicle_key=vehicle_key or f"{plate_class}:{plate_no}",
        plate_no=plate_no,
        plate_class=plate_class,
        plate_kind=plate_kind,
        site_id=site_id,
        device_id=device_id or f"{site_id}-C1",
        **fields,
    )


def evaluate_trail(detector: Detector, sightings: Sequence[Sighting], ctx: Context) -> list[Finding]:
    """Judge every sighting of one vehicle's trail in event-time order (no core, no watermark)."""
    v = VehicleState(sightings[0].vehicle_key)
    out: list[Finding] = []
    for s in sorted(sightings, key=lambda x: (x.t, x.ref)):
        i = v.insert(s)
        out.extend(detector.evaluate(v, i, ctx))
    return out


def run_core(
    detectors: Sequence[Detector], sightings: Iterable[Sighting], ctx: Context, *, lateness_s: float = 600.0
) -> tuple[Core, dict[str, Finding]]:
    """Feed sightings in the order given and flush the watermark; returns the core and every finding
    that is live at the end (provisional or settled, not retracted), by id."""
    core = Core(detectors, ctx, lateness_s=lateness_s)
    live: dict[str, Finding] = {}
    for s in sightings:
        core.process(s)
        _apply(core, live)
    flush(core)
    _apply(core, live)
    return core, live


def flush(core: Core) -> None:
    """Move the watermark past everything (end of input): settles all and fires due timers."""
    core.finish()


def _apply(core: Core, live: dict[str, Finding]) -> None:
    ch = core.drain()
    for f in ch.provisional + ch.settled_new:
        live[f.id] = f
    for fid in ch.retracted:
        live.pop(fid, None)


class DictRegistry:
    """A registry from a dict (tests)."""

    def __init__(self, records: Iterable[Any]) -> None:
        self._by_key = {r.vehicle_key: r for r in records}

    def get(self, vehicle_key: str) -> Any:
        return self._by_key.get(vehicle_key)


def _check_registry_protocol() -> Registry:
    return DictRegistry([])
