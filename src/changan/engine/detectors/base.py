"""The detector interface.

A detector is a pure function of a vehicle's trail, the anchor (the sighting it
judges) and the shared context → findings. It may read the trail **up to and
including** the anchor, never after it: that is what makes a detection final
once the watermark passes its anchor (every on-time passage before it has then
arrived), and so makes the settled set independent of arrival order.

Hooks with defaults, for detectors that need more than the trail:

* ``fold``: a sighting leaves the trail (it is older than the watermark by more
  than any detector's ``trail_s``); fold it into the detector's summary in
  ``v.memo[name]`` (fatigue keeps its driving runs this way).
* ``wake_at`` / ``on_timer``: ask to be called when the watermark passes a time
  (fatigue is raised when 4 h are crossed, not only when the next passage
  comes). ``on_timer`` must recompute what ``wake_at`` would say from the trail
  as it is now and return nothing if ``due`` is not that time (timers set
  before a late passage changed the trail are stale).
* ``keep_s``: how long after its last sighting the vehicle's state must be kept.
* ``shared_models``: the shared models (site traffic, device clocks) the detector
  reads, which the engine puts in ``ctx.shared`` before the core starts.
* ``recheck``: True when the judgement of this anchor rests on shared models that
  other vehicles' passages still change (the traffic speed at a site, a
  device's clock estimate). The core then judges the anchor again with this
  detector at the moment it settles, when every on-time passage before it has
  arrived, and settles that judgement (retracting or adding what changed). Such
  models must answer for an event time from passages before it only.

Thresholds come from configuration: ``from_config`` validates the detector's
section of ``[engine.detectors.<name>]`` and the error names the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from changan.engine.context import Context
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState

T = TypeVar("T", bound="DetectorConfig")


class DetectorConfig(BaseModel):
    """Base of every detector's settings: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: bool = True


class ConfigError(ValueError):
    """A detector setting that cannot be used; the message names the field."""


def validate_config(model: type[T], name: str, raw: Mapping[str, Any] | None) -> T:
    try:
        return model.model_validate(dict(raw or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"engine.detectors.{name}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise ConfigError(problems) from None


class Detector:
    """Base class: override ``evaluate`` and, where needed, the hooks."""

    name: ClassVar[str]
    version: ClassVar[int]
    trail_s: float = 0.0  # event time before the watermark this detector needs in the trail
    keep_s: float = 3 * 3600.0  # keep the vehicle this long after its last sighting

    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        raise NotImplementedError

    def fold(self, v: VehicleState, s: Sighting, ctx: Context) -> None:
        """``s`` leaves the trail (oldest first)."""

    def wake_at(self, v: VehicleState, i: int, ctx: Context) -> float | None:
        return None

    def on_timer(self, v: VehicleState, due: float, ctx: Context) -> Sequence[Finding]:
        return ()

    def keep_for(self, v: VehicleState, ctx: Context) -> float:
        return self.keep_s

    def recheck(self, v: VehicleState, i: int, ctx: Context) -> bool:
        return False

    def shared_models(self, ctx: Context, lateness_s: float) -> Mapping[str, Any]:
        """Shared models this detector reads, by name in ``ctx.shared``, sized for the engine's
        lateness; built before the core (which takes their ``observe`` methods then). A model
        another detector already provided under the same name is kept."""
        return {}
