"""What cameras make of the truth: missed and misread plates, duplicate reads, clocks off, late delivery.

Each device is drawn once (its clock offset and drift, its outages); each true
passage is then read, maybe twice, maybe not at all, and delivered after a delay.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from changan.plates import PROVINCES
from changan.sim.scenario import CameraSpec


@dataclass(frozen=True, slots=True)
class DeviceTruth:
    device_id: str
    site_id: str
    clock_offset_s: float
    drift_s_per_h: float
    outages: tuple[tuple[datetime, datetime], ...] = field(default=())

    def clock(self, true_time: datetime, start: datetime) -> datetime:
        hours = (true_time - start).total_seconds() / 3600
        return true_time + timedelta(seconds=self.clock_offset_s + self.drift_s_per_h * hours)


@dataclass(frozen=True, slots=True)
class Read:
    """One report of a passage: the plate as read, and how it went wrong (if it did)."""

    plate_no: str
    outcome: str  # right | misread | province_misread
    device_id: str
    duplicate: bool


def draw_devices(
    site_times: dict[str, list[datetime]], spec: CameraSpec, rng: random.Random
) -> dict[str, DeviceTruth]:
    """Two cameras per site (-C1 reads, -C2 only duplicates); clocks and outages per device.

    ``site_times`` holds, per site, the sorted true times of the passages there. Outages are
    placed over the traffic a device actually sees: each covers a run of consecutive passages
    (and lasts at most ``late_max_s`` - 5 min), and together they hold back the configured
    late share of that device's passages, so the published share holds whatever the traffic's
    shape through the day (quiet nights, peaks, busy and quiet sites).
    """
    devices: dict[str, DeviceTruth] = {}
    late_share = max(0.0, 1 - spec.delivered_5s - spec.delivered_5min)
    longest_s = max(1.0, spec.late_max_s - LATE_AFTER_S - 30)
    for site_id in sorted(site_times):
        times = site_times[site_id]
        for suffix in ("C1", "C2"):
            offset = drift = 0.0
            if rng.random() < spec.clock_off_device_share:
                offset = rng.uniform(spec.clock_off_min_s, spec.clock_off_max_s) * rng.choice((-1, 1))
                if rng.random() < spec.drifting_share_of_off:
                    drift = rng.uniform(-spec.drift_max_s_per_h, spec.drift_max_s_per_h)
            devices[f"{site_id}-{suffix}"] = DeviceTruth(
                device_id=f"{site_id}-{suffix}",
                site_id=site_id,
                clock_offset_s=round(offset, 3),
                drift_s_per_h=round(drift, 3),
                outages=_outages(times, late_share, longest_s, rng),
            )
    return devices


def _outages(
    times: list[datetime], share: float, longest_s: float, rng: random.Random
) -> tuple[tuple[datetime, datetime], ...]:
    """Outage windows covering about ``share`` of the passages at ``times`` (stochastic rounding)."""
    n = len(times)
    wanted = share * n
    target = int(wanted) + (1 if rng.random() < wanted - int(wanted) else 0)
    covered = [False] * n
    outages: list[tuple[datetime, datetime]] = []
    tries = 0
    while target > 0 and tries < 200:
        tries += 1
        i = rng.randrange(n)
        if covered[i]:
            continue
        limit = rng.uniform(30.0, longest_s)
        j = i
        while (
            j + 1 < n
            and j + 1 - i < target
            and not covered[j + 1]
            and (times[j + 1] - times[i]).total_seconds() < limit
        ):
            j += 1
        for k in range(i, j + 1):
            covered[k] = True
        target -= j + 1 - i
        # the window ends just after its last passage: the device is back before the next one
        outages.append((times[i], times[j] + timedelta(milliseconds=1)))
    return tuple(sorted(outages))


LATE_AFTER_S = 300.0  # a passage held in an outage arrives more than 5 minutes late


def misread(plate: str, spec: CameraSpec, rng: random.Random) -> tuple[str, str]:
    """The plate with one look-alike character wrong (or the province character)."""
    if rng.random() < spec.province_share_of_misreads and plate[0] in PROVINCES:
        other = rng.choice([p for p in PROVINCES if p != plate[0]])
        return other + plate[1:], "province_misread"
    positions = [i for i, ch in enumerate(plate) if i > 0 and ch in spec.confusions]
    if not positions:
        other = rng.choice([p for p in PROVINCES if p != plate[0]]) if plate[0] in PROVINCES else plate[0]
        return other + plate[1:], "province_misread"
    i = rng.choice(positions)
    return plate[:i] + rng.choice(spec.confusions[plate[i]]) + plate[i + 1 :], "misread"


def read(plate: str, site_id: str, spec: CameraSpec, rng: random.Random) -> list[Read]:
    """The reports one true passage produces: none, one, or one plus a duplicate."""
    r = rng.random()
    if r < spec.missed:
        return []
    if r < spec.missed + spec.misread:
        text, outcome = misread(plate, spec, rng)
    else:
        text, outcome = plate, "right"
    reads = [Read(text, outcome, f"{site_id}-C1", duplicate=False)]
    if rng.random() < spec.duplicate:
        reads.append(Read(text, outcome, f"{site_id}-C2", duplicate=True))
    return reads


def delivery_delay_s(device: DeviceTruth, true_time: datetime, spec: CameraSpec, rng: random.Random) -> float:
    """Seconds from the passage to its arrival: held back to the end of an outage, else 5 s / 5 min classes."""
    for begin, end in device.outages:
        if begin <= true_time < end:  # held until the device is back, then uploaded with its backlog
            return min(spec.late_max_s, LATE_AFTER_S + (end - true_time).total_seconds() + rng.uniform(0, 30))
    if rng.random() < spec.delivered_5s / max(spec.delivered_5s + spec.delivered_5min, 1e-9):
        return rng.uniform(0.2, 5)
    return rng.uniform(5, 300)
