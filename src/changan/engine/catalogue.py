"""Every detector the engine runs, in the order it runs them, built from configuration.

A detector appears here once; ``changan evaluate`` and the policy table learn
of it from this list, so a new detector needs no change anywhere else.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from changan.engine.context import Context, Registry, TemporaryLimits
from changan.engine.core import WATERMARK_MAX_LAG_S
from changan.engine.detectors.base import ConfigError, Detector
from changan.engine.detectors.watchlist import SHARED as WATCHLIST
from changan.engine.detectors.watchlist import WatchlistIndex
from changan.network import Network

# name → "module:class"
CATALOGUE: dict[str, str] = {
    "watchlist": "changan.engine.detectors.watchlist:WatchlistDetector",
    "clone": "changan.engine.detectors.clone:CloneDetector",
    "fake_plate": "changan.engine.detectors.fake_plate:FakePlateDetector",
    "speeding": "changan.engine.detectors.speeding:SpeedingDetector",
    "truck_left_lane": "changan.engine.detectors.lanes:TruckLeftLaneDetector",
    "emergency_lane": "changan.engine.detectors.lanes:EmergencyLaneDetector",
    "min_speed": "changan.engine.detectors.lanes:MinSpeedDetector",
    "fatigue": "changan.engine.detectors.fatigue:FatigueDetector",
    "night_coach": "changan.engine.detectors.night:NightCoachDetector",
    "dangerous_goods_ban": "changan.engine.detectors.night:DangerousGoodsBanDetector",
}


def build_context(
    network: Network,
    detectors: Sequence[Detector] = (),
    *,
    lateness_s: float = 600.0,
    registry: Registry | None = None,
    limits: TemporaryLimits | None = None,
    watchlist: WatchlistIndex | None = None,
) -> Context:
    """The context every engine uses: sites, reference data, and the shared models the detectors
    ask for (built before the core, which takes their ``observe`` methods when it starts)."""
    ctx = Context.for_network(network)
    if registry is not None:
        ctx.registry = registry
    if limits is not None:
        ctx.limits = limits
    ctx.shared[WATCHLIST] = watchlist if watchlist is not None else WatchlistIndex([])
    history_s = lateness_s + WATERMARK_MAX_LAG_S  # how far behind event time settling can reach
    for d in detectors:
        for name, model in d.shared_models(ctx, history_s).items():
            ctx.shared.setdefault(name, model)
    return ctx


def detector_names() -> list[str]:
    return list(CATALOGUE)


def build_detectors(config: Mapping[str, Mapping[str, Any]] | None = None) -> list[Detector]:
    """The configured detectors (``enabled = false`` leaves one out). Unknown names are refused."""
    config = config or {}
    unknown = sorted(set(config) - set(CATALOGUE))
    if unknown:
        msg = f"engine_detectors: 未知的检测器 {', '.join(unknown)}（可用：{', '.join(CATALOGUE)}）"
        raise ConfigError(msg)
    out: list[Detector] = []
    for name, where in CATALOGUE.items():
        module_name, _, cls_name = where.partition(":")
        cls = getattr(importlib.import_module(module_name), cls_name)
        raw = config.get(name)
        detector: Detector = cls.from_config(raw) if hasattr(cls, "from_config") else cls()
        if getattr(getattr(detector, "config", None), "enabled", True):
            out.append(detector)
    return out
