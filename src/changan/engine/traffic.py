"""The traffic at each site: a shared model of recent point speeds, for judging congestion.

:class:`SiteTraffic` lives in ``ctx.shared["traffic"]`` (:data:`SHARED`). The
core calls :meth:`SiteTraffic.observe` for every sighting before it judges it,
whatever the vehicle and in arrival order; detectors ask
:meth:`SiteTraffic.congested` about a site at an event time.

**Answers depend on event time only.** :meth:`congested` looks at the passages
*strictly before* ``t`` within ``window_s`` of it. When the watermark passes
``t`` every on-time passage before ``t`` has arrived, so the answer a detector
gets when its anchor settles (``Detector.recheck``) is the same whatever the
arrival order within the lateness. Before that the answer is provisional: a
late passage of another vehicle may still change it.

**Bounded memory.** Per site, the model keeps the passages of the last
``lateness_s + window_s + late_s`` of event time (three flat arrays: 24 bytes
a passage). It trims against the highest event time seen *before* the sighting
it is observing: the core observes a sighting before it advances the watermark
and settles the anchors it passes, and those anchors are younger than the old
watermark, so everything their window needs is still held when they are
judged again. A passage that arrives after the watermark passed it may find
its window trimmed (unless ``late_s`` covers it): :meth:`holds` says so, and the
detector then abstains.

Identical passages (the same ``ref`` at the same time, e.g. a resend) count
once. A site's second camera reading the same passage is another ref and
counts again: congestion is a median, which one extra read hardly moves.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from changan.engine.context import Context
from changan.engine.sighting import Sighting

SHARED = "traffic"  # the model's name in Context.shared
SNAPSHOT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class TrafficState:
    """What the passages before ``t`` at a site say: how many had a speed, and their median."""

    passages: int
    median_kmh: float | None


class _Site:
    """One site's passages in (event time, ref) order, as parallel arrays."""

    __slots__ = ("refs", "speeds", "times")

    def __init__(self) -> None:
        self.times = array("d")
        self.refs = array("q")
        self.speeds = array("d")


class SiteTraffic:
    """Recent ``(event time, point speed)`` pairs per site, and the congestion they show.

    ``lateness_s`` must be the core's lateness and ``window_s`` at least the longest window any
    detector asks about; ``late_s`` keeps that much more, so that a passage arriving up to
    ``late_s`` after the watermark passed it can still be judged with its whole window. The model
    keeps ``lateness_s + window_s + late_s`` of event time per site (plus up to
    :attr:`trim_slack_s`: sites are trimmed in chunks).
    """

    trim_slack_s = 30.0  # a site is trimmed once its oldest passage is this far past the cut: in chunks

    def __init__(
        self,
        ctx: Context | None = None,
        *,
        lateness_s: float = 600.0,
        window_s: float = 300.0,
        late_s: float = 0.0,
    ) -> None:
        # ``ctx`` is accepted (and not needed) so that the engine's catalogue can build every shared
        # model as ``cls(ctx)``; the defaults fit the engine's default lateness (600 s).
        if lateness_s < 0:
            msg = "traffic.lateness_s must not be negative"
            raise ValueError(msg)
        if window_s <= 0:
            msg = "traffic.window_s must be positive"
            raise ValueError(msg)
        if late_s < 0:
            msg = "traffic.late_s must not be negative"
            raise ValueError(msg)
        self.lateness_s = lateness_s
        self.window_s = window_s
        self.late_s = late_s
        self.horizon_s = lateness_s + window_s + late_s
        self._sites: dict[str, _Site] = {}
        self._max_seen = float("-inf")  # highest event time observed
        self._cut = float("-inf")  # what the next sighting trims to: _max_seen - horizon_s
        self._trim_below = float("-inf")  # trim a site once its oldest passage is this old
        self._floor = float("-inf")  # everything from here on is still held (trims never went past it)

    # ------------------------------------------------------------------ input
    def observe(self, s: Sighting) -> None:
        """Take one sighting (every vehicle's, in arrival order); reads without a speed are skipped."""
        speed = s.speed_kmh
        t = s.t
        if speed is not None:
            site = self._sites.get(s.site_id)
            if site is None:
                site = self._sites[s.site_id] = _Site()
            times = site.times
            if times and t <= times[-1]:
                self._insert(site, t, s.ref, speed)
            else:
                times.append(t)
                site.refs.append(s.ref)
                site.speeds.append(speed)
            if times[0] < self._trim_below:
                self._trim(site)
        if t > self._max_seen:
            self._max_seen = t
            # what the sightings after this one trim to (see the module docstring), in chunks
            self._cut = t - self.horizon_s
            self._trim_below = self._cut - self.trim_slack_s

    def _trim(self, site: _Site) -> None:
        cut = self._cut
        n = bisect_left(site.times, cut)
        del site.times[:n], site.refs[:n], site.speeds[:n]
        if cut > self._floor:
            self._floor = cut

    @staticmethod
    def _insert(site: _Site, t: float, ref: int, speed: float) -> None:
        times, refs = site.times, site.refs
        k = bisect_left(times, t)
        n = len(times)
        while k < n and times[k] == t and refs[k] < ref:
            k += 1
        if k < n and times[k] == t and refs[k] == ref:
            return  # the same passage again
        times.insert(k, t)
        refs.insert(k, ref)
        site.speeds.insert(k, speed)

    # ---------------------------------------------------------------- queries
    def holds(self, t: float, window_s: float) -> bool:
        """True when every passage observed in ``[t - window_s, t)`` is still held (always, for an
        anchor the watermark has not passed when the model is fed by the core)."""
        return t - window_s >= self._floor

    def state(self, site_id: str, t: float, window_s: float) -> TrafficState:
        """The passages at ``site_id`` with event time in ``[t - window_s, t)``: count and median."""
        site = self._sites.get(site_id)
        if site is None:
            return TrafficState(0, None)
        times = site.times
        hi = bisect_left(times, t)
        lo = bisect_left(times, t - window_s, 0, hi)
        n = hi - lo
        if n == 0:
            return TrafficState(0, None)
        speeds = sorted(site.speeds[lo:hi])
        mid = n // 2
        median = speeds[mid] if n % 2 else (speeds[mid - 1] + speeds[mid]) / 2
        return TrafficState(n, median)

    def congested(
        self,
        site_id: str,
        t: float,
        window_s: float = 300.0,
        *,
        min_passages: int = 5,
        median_below_kmh: float = 70.0,
    ) -> bool:
        """Whether the traffic at ``site_id`` just before ``t`` is congested: at least
        ``min_passages`` passages with a speed in ``[t - window_s, t)`` (fewer: not congested, there
        is too little traffic to say) and their median speed below ``median_below_kmh``."""
        st = self.state(site_id, t, window_s)
        return st.passages >= min_passages and st.median_kmh is not None and st.median_kmh < median_below_kmh

    # --------------------------------------------------------------- recovery
    def snapshot(self) -> dict[str, Any]:
        """Plain data (lists and floats) for the core's snapshot."""
        return {
            "format": SNAPSHOT_FORMAT,
            "lateness_s": self.lateness_s,
            "window_s": self.window_s,
            "late_s": self.late_s,
            "max_seen": self._max_seen,
            "floor": self._floor,
            "sites": {
                sid: (site.times.tolist(), site.refs.tolist(), site.speeds.tolist())
                for sid, site in self._sites.items()
            },
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Resume from :meth:`snapshot` (the settings of this instance are kept: a model configured
        with a longer horizon simply holds less than it could until it has seen that much)."""
        if data.get("format") != SNAPSHOT_FORMAT:
            msg = f"traffic snapshot format {data.get('format')!r} is not {SNAPSHOT_FORMAT}"
            raise ValueError(msg)
        self._max_seen = float(data["max_seen"])
        self._cut = self._max_seen - self.horizon_s
        self._trim_below = self._cut - self.trim_slack_s
        self._floor = float(data["floor"])
        self._sites = {}
        for sid, (times, refs, speeds) in data["sites"].items():
            site = _Site()
            site.times.extend(times)
            site.refs.extend(refs)
            site.speeds.extend(speeds)
            self._sites[sid] = site

    # ----------------------------------------------------------------- sizing
    @property
    def held(self) -> int:
        """Passages held over all sites."""
        return sum(len(site.times) for site in self._sites.values())
