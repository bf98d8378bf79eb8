"""A simple traffic generator with ground truth.

Vehicles enter at a camera site, drive a shortest path to a random site ahead
at a speed drawn for their class, and are seen by every camera site on the
way. Events come out in pass-time order as native ingest items. The full
simulator (rests, misreads, clock drift, late delivery) is issue 3.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from changan.network import Network, SiteKind
from changan.sim.draws import poisson
from changan.sim.pictures import passage_svg

_PROVINCE_MIX = [
    ("鲁P", 55),
    ("鲁A", 8),
    ("鲁N", 6),
    ("鲁R", 4),
    ("鲁H", 4),
    ("冀D", 6),
    ("豫J", 6),
    ("冀E", 4),
    ("京A", 2),
    ("苏C", 2),
    ("晋E", 2),
    ("浙A", 1),
]
_SERIAL = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CLASSES = [
    ("02", "K33", "blue", 70, 100.0, 12.0),
    ("01", "H11", "yellow", 18, 80.0, 8.0),
    ("01", "K11", "yellow", 4, 90.0, 8.0),
    ("52", "K33", "green", 8, 100.0, 12.0),
]


def device_id_for(site_id: str) -> str:
    return f"{site_id}-C1"


@dataclass(frozen=True, slots=True)
class Vehicle:
    plate_no: str
    plate_class: str
    plate_color: str
    vehicle_class: str
    speed_kmh: float


@dataclass(order=True, slots=True)
class _Event:
    at: datetime
    n: int
    item: dict[str, Any] = field(compare=False)


class TrafficSim:
    """Deterministic for a given seed."""

    def __init__(
        self,
        network: Network,
        *,
        seed: int = 7,
        start: datetime,
        vehicles_per_hour: float = 3000.0,
        pictures: bool = False,
    ) -> None:
        self._net = network
        self._rng = random.Random(seed)
        self._now = start
        self._rate_per_s = vehicles_per_hour / 3600.0
        self._events: list[_Event] = []
        self._n = itertools.count()
        self._plates: set[str] = set()
        # Trips start at a toll entrance or on the main line (a vehicle arriving across a border);
        # on the way only main-line gantries see a vehicle, and a trip may end at a toll exit.
        self.entry_sites = sorted(s.id for s in network.sites.values() if s.kind != SiteKind.TOLL_EXIT)
        self._sites_at: dict[tuple[str, str], list[str]] = defaultdict(list)
        for site in network.sites.values():
            if site.kind == SiteKind.GANTRY:
                self._sites_at[(site.node_id, site.heading_node_id)].append(site.id)
        self.vehicles_started = 0
        self._pictures = pictures

    # -- vehicles ------------------------------------------------------------------------
    def new_vehicle(self) -> Vehicle:
        rng = self._rng
        prefixes = [p for p, _ in _PROVINCE_MIX]
        weights = [w for _, w in _PROVINCE_MIX]
        cls = rng.choices(_CLASSES, weights=[c[3] for c in _CLASSES])[0]
        while True:
            prefix = rng.choices(prefixes, weights=weights)[0]
            if cls[0] == "52":
                plate = (
                    prefix + rng.choice("DF") + rng.choice(_SERIAL) + "".join(rng.choices("0123456789", k=4))
                )
            else:
                plate = prefix + "".join(rng.choices(_SERIAL, k=5))
            if plate not in self._plates:
                self._plates.add(plate)
                break
        speed = max(60.0, min(140.0, rng.gauss(cls[4], cls[5])))
        return Vehicle(plate, cls[0], cls[2], cls[1], round(speed, 1))

    def start_trip(self, vehicle: Vehicle, at: datetime, entry_site: str | None = None) -> int:
        """Schedule the vehicle's passages from ``entry_site``; returns how many sites will see it."""
        rng = self._rng
        site_id = entry_site or rng.choice(self.entry_sites)
        ahead = self._net.sites_downstream(site_id)
        if not ahead:
            self._schedule(vehicle, site_id, at)
            return 1
        dest = rng.choice(ahead[: max(3, len(ahead) // 2)])[0]
        path = self._net.path(site_id, dest.id)
        self._schedule(vehicle, site_id, at)
        seen = 1
        travelled_m = 0.0
        for here, nxt in itertools.pairwise(path):
            edge = next(e for e in self._net.edges_from(here) if e.to_node == nxt)
            travelled_m += edge.length_m
            after = path.index(nxt) + 1
            heading = path[after] if after < len(path) else None
            for sid in self._sites_at.get((nxt, heading), []) if heading else [dest.id]:
                t = at + timedelta(seconds=travelled_m / (vehicle.speed_kmh / 3.6))
                self._schedule(vehicle, sid, t)
                seen += 1
        self.vehicles_started += 1
        return seen

    def _schedule(self, v: Vehicle, site_id: str, at: datetime) -> None:
        n = next(self._n)
        speed = round(max(40.0, v.speed_kmh + self._rng.uniform(-3, 3)), 1)
        lane = self._rng.randint(1, 2)
        item: dict[str, Any] = {
            "external_id": f"sim-{n}",
            "device_id": device_id_for(site_id),
            "pass_time": at.isoformat(),
            "plate_no": v.plate_no,
            "plate_class": v.plate_class,
            "plate_color": v.plate_color,
            "vehicle_class": v.vehicle_class,
            "lane_no": lane,
            "speed_kmh": speed,
        }
        if self._pictures:
            svg = passage_svg(
                plate_no=v.plate_no,
                plate_color=v.plate_color,
                vehicle_class=v.vehicle_class,
                site_name=self._net.sites[site_id].name,
                pass_time=at,
                speed_kmh=speed,
                lane_no=lane,
            )
            item["images"] = [{"type": "01", "data": base64.b64encode(svg).decode()}]
        heapq.heappush(self._events, _Event(at, n, item))

    # -- time ---------------------------------------------------------------------------------
    def advance(self, until: datetime) -> Iterator[dict[str, Any]]:
        """Spawn traffic up to ``until`` and yield every passage with pass time ≤ ``until``, in order."""
        span_s = (until - self._now).total_seconds()
        if span_s > 0:
            arrivals = poisson(self._rng, span_s * self._rate_per_s)
            for _ in range(arrivals):
                at = self._now + timedelta(seconds=self._rng.uniform(0, span_s))
                self.start_trip(self.new_vehicle(), at)
            self._now = until
        while self._events and self._events[0].at <= until:
            yield heapq.heappop(self._events).item
