"""The simulated world: vehicles drive the network, cameras report them, and the truth is written down.

:func:`simulate` is deterministic for a seed: the same scenario and seed give
the same vehicles, trips, reads and deliveries, in the same order.

Ground truth is computed from the world, not only from injected cases: every
passage above the speed limit that applies to its vehicle is a true speeding
case; watchlisted vehicles are injected (chance would not put them there).
Each case says whether it is *detectable*: whether a decisive passage was
actually read right and delivered.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from changan.kit.clock import LOCAL_TZ
from changan.network import Network, NodeKind, SiteKind, VehicleGroup, vehicle_group
from changan.sim import inject
from changan.sim.camera import LATE_AFTER_S, DeviceTruth, delivery_delay_s, draw_devices, read
from changan.sim.draws import poisson
from changan.sim.driver import DriverShift
from changan.sim.population import Population, Vehicle
from changan.sim.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Report:
    """A passage as a device reports it, and when it reaches changan."""

    item: dict[str, Any]  # the native ingest item
    received_at: datetime
    true_passage: int
    true_time: datetime
    outcome: str  # right | misread | province_misread | duplicate


@dataclass
class Outcome:
    scenario: Scenario
    seed: int
    devices: dict[str, DeviceTruth]
    vehicles: list[Vehicle]
    watchlist: list[dict[str, Any]]
    reports: list[Report]  # in delivery order
    truth: list[dict[str, Any]]
    true_passages: int
    stats: dict[str, Any] = field(default_factory=dict)
    # for watchlisted vehicles: when they truly reached each node (judges the dispatch lead time)
    node_times: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)
    congestion: list[dict[str, Any]] = field(default_factory=list)
    # true passage id → vehicle key, for the watchlisted vehicles (scores look-alike possible hits)
    watched_passages: dict[int, str] = field(default_factory=dict)


Progress = Callable[[float], None]


class _World:
    def __init__(self, scenario: Scenario, network: Network, seed: int) -> None:
        self.s = scenario
        self.net = network
        self.rng = random.Random(seed)
        self.population = Population(scenario, self.rng)
        sites = network.sites.values()
        self.entry_sites = sorted(s.id for s in sites if s.kind != SiteKind.TOLL_EXIT)
        self.gantries_at: dict[tuple[str, str], list[str]] = {}
        for site in sorted(sites, key=lambda x: x.id):
            if site.kind == SiteKind.GANTRY:
                self.gantries_at.setdefault((site.node_id, site.heading_node_id), []).append(site.id)
        self.downstream = {sid: [s.id for s, _ in network.sites_downstream(sid)] for sid in self.entry_sites}
        self.edge_length = {(e.from_node, e.to_node): e.length_m for e in network.edges}
        self.edge_limit = {(e.from_node, e.to_node): e.limits_kmh for e in network.edges}
        self.passage_ids = itertools.count(1)
        self.trip_ids = itertools.count(1)
        # true passages: (id, vehicle index, site, time, speed, trip, limit)
        # true passages: (id, vehicle index, site, time, speed, trip, limit, lane)
        self.passages: list[tuple[int, int, str, datetime, float, int, int, int]] = []
        self.trips: dict[int, list[int]] = {}
        self.coach_ban_violations: dict[int, list[int]] = {}  # trip → its passages inside the ban
        self.coach_trips_waited = 0
        self.dg_ban_trips: dict[int, tuple[str, list[int]]] = {}  # trip → (entered | escort, passages)
        self.dg_trips_waited = 0
        self.coach_waits_at_service_area = 0
        self.service_areas = {n.id for n in network.nodes.values() if n.kind == NodeKind.SERVICE_AREA}
        self.time_of: dict[int, datetime] = {}
        self.site_of: dict[int, str] = {}
        self.tracked: set[str] = set()  # vehicle keys whose node times are kept
        self.edge_road = {(e.from_node, e.to_node): e.road_id for e in network.edges}
        self.episodes: dict[tuple[str, str], list[tuple[datetime, datetime, float]]] = {}
        self.congestion_log: list[dict[str, Any]] = []
        self.congested: set[int] = set()  # passages inside a congestion episode
        self.exempt: set[int] = set()  # passages that break no rule whatever they look like (breakdowns)
        self._draw_congestion()
        self.node_times: dict[str, list[tuple[str, datetime]]] = {}
        self.labels: list[dict[str, Any]] = []  # injected cases other than the watchlist

    def drive(
        self,
        vehicle_index: int,
        vehicle: Vehicle,
        at: datetime,
        entry: str | None = None,
        lanes: str = "normal",
        shift: DriverShift | None = None,
        far: bool = False,
    ) -> list[int]:
        """Send a vehicle on a trip from ``entry`` (random if None); returns its true passage ids.

        With a ``shift``, the driver rests at the first service area reached once the shift says a
        rest is due; ``far`` sends it to the farther third of the sites ahead. A coach that would run into the 02:00–05:00 ban waits it out at the last
        service area before it (or at its origin when there is none, or the trip starts in it).
        """
        rng = self.rng
        site_id = entry or rng.choice(self.entry_sites)
        ahead = self.downstream[site_id]
        trip = next(self.trip_ids)
        group = vehicle_group(vehicle.vehicle_class)
        # stops: (site, time, limit, congestion factor, index of the path node it is at)
        stops: list[tuple[str, datetime, int, float, int]] = [
            (site_id, at, self._limit_at(site_id, group), 1.0, 0)
        ]
        nodes: list[tuple[str, datetime]] = []
        if ahead:
            # long-haul drivers head for the farther third of what lies ahead
            dest = rng.choice(ahead[len(ahead) * 2 // 3 :] if far else ahead)
            path = self.net.path(site_id, dest)
            t = at
            nodes.append((path[0], at))
            for i in range(1, len(path)):
                edge = (path[i - 1], path[i])
                factor = self._congestion(edge, t)
                leg_s = self.edge_length[edge] / (vehicle.speed_kmh * factor / 3.6)
                t += timedelta(seconds=leg_s)
                if shift is not None:
                    shift.driven_s += leg_s
                    if shift.driven_s >= shift.rest_after_s and path[i] in self.service_areas:
                        pause = rng.uniform(shift.rest_min_s, shift.rest_max_s)
                        shift.rests.append((path[i], t, pause))
                        shift.driven_s = 0.0
                        nodes.append((path[i], t))  # arrives, rests, leaves
                        t += timedelta(seconds=pause)
                nodes.append((path[i], t))
                heading = path[i + 1] if i + 1 < len(path) else None
                if heading:
                    sids = self.gantries_at.get((path[i], heading), [])
                    watched = (path[i], heading)
                else:
                    # the destination site, when it watches the carriageway the vehicle is on (a
                    # route with a turn can reach the node from the other side: then it is not seen)
                    sids = [dest] if self.net.sites[dest].heading_node_id != path[i - 1] else []
                    watched = edge
                limit = self.edge_limit[edge][group]
                # the speed at a camera reflects the congestion there at the moment of passing
                here = self._congestion(watched, t) if watched in self.edge_length else factor
                stops.extend((sid, t, limit, here, len(nodes) - 1) for sid in sids)
        banned = vehicle.use == "公路客运" and any(self._in_coach_ban(s[1]) for s in stops)
        if banned and rng.random() < self.s.behaviour.coach_ban_compliance:
            # The coach waits the ban out (聊城条例 Art. 37) at the last service area before it,
            # or at its origin, and goes on after it ends.
            first = next(s[1] for s in stops if self._in_coach_ban(s[1]))
            before = [
                k
                for k, (node, t) in enumerate(nodes)
                if k > 0 and node in self.service_areas and t < first and not self._in_coach_ban(t)
            ]
            k = before[-1] if before and not self._in_coach_ban(at) else 0
            wait_from = nodes[k][1] if nodes else at
            delay = self._ban_end_after(wait_from) - wait_from + timedelta(seconds=rng.uniform(0, 1800))
            # at the origin everything moves; at a service area, what comes after it
            moved = 0 if k == 0 else k + 1
            stops = [
                (sid, t + delay, lim, self._site_congestion(sid, t + delay), n)
                if n >= moved
                else (sid, t, lim, f, n)
                for sid, t, lim, f, n in stops
            ]
            nodes = nodes[:moved] + [(node, t + delay) for node, t in nodes[moved:]]
            if k > 0:
                self.coach_waits_at_service_area += 1
            banned = False
            self.coach_trips_waited += 1
        dg_variant = None
        if vehicle.use == "危化品运输" and any(self._in_dg_ban(s[1]) for s in stops):
            if not self._in_dg_ban(at):
                dg_variant = "escort"  # on the road when the ban starts: to be escorted off, no offence
            elif rng.random() < self.s.behaviour.dg_ban_compliance:
                # does not enter in the banned hours (and may not wait at a service area): starts after
                delay = self._dg_ban_end_after(at) - at + timedelta(seconds=rng.uniform(0, 1800))
                stops = [
                    (sid, t + delay, lim, self._site_congestion(sid, t + delay), n)
                    for sid, t, lim, f, n in stops
                ]
                nodes = [(node, t + delay) for node, t in nodes]
                self.dg_trips_waited += 1
            else:
                dg_variant = "entered"
        if nodes and vehicle.key in self.tracked:
            self.node_times.setdefault(vehicle.key, []).extend(nodes)
        ids = [
            self._pass(vehicle_index, vehicle, sid, t, trip, limit, self._lane(vehicle, sid, lanes), factor)
            for sid, t, limit, factor, _node in stops
        ]
        self.trips[trip] = ids
        if banned:
            self.coach_ban_violations[trip] = [
                pid for pid, stop in zip(ids, stops, strict=True) if self._in_coach_ban(stop[1])
            ]
        if dg_variant is not None:
            inside = [pid for pid, stop in zip(ids, stops, strict=True) if self._in_dg_ban(stop[1])]
            if dg_variant == "escort":  # the last passage before the ban and the first inside it
                before = [pid for pid, stop in zip(ids, stops, strict=True) if not self._in_dg_ban(stop[1])]
                inside = before[-1:] + inside
            self.dg_ban_trips[trip] = (dg_variant, inside)
        return ids

    def passage_time(self, pid: int) -> datetime:
        return self.time_of[pid]

    def _in_coach_ban(self, t: datetime) -> bool:
        b = self.s.behaviour
        return b.coach_ban_start_h <= t.astimezone(LOCAL_TZ).hour < b.coach_ban_end_h

    def _in_dg_ban(self, t: datetime) -> bool:
        b = self.s.behaviour
        return b.dg_ban_start_h <= t.astimezone(LOCAL_TZ).hour < b.dg_ban_end_h

    def _dg_ban_end_after(self, t: datetime) -> datetime:
        local = t.astimezone(LOCAL_TZ)
        end = local.replace(hour=self.s.behaviour.dg_ban_end_h, minute=0, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end

    def _ban_end_after(self, t: datetime) -> datetime:
        local = t.astimezone(LOCAL_TZ)
        end = local.replace(hour=self.s.behaviour.coach_ban_end_h, minute=0, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end

    def _limit_at(self, site_id: str, group: VehicleGroup) -> int:
        site = self.net.sites[site_id]
        limits = self.edge_limit.get((site.node_id, site.heading_node_id))
        return limits[group] if limits else 120

    def _lane(self, v: Vehicle, site_id: str, policy: str) -> int:
        """Lane numbered from the left in the direction of travel; lanes + 1 is the emergency lane (应急车道)."""
        n = self.net.sites[site_id].lanes
        spec = self.s.lanes
        if policy == "emergency" or (
            v.use == "应急救援" and self.rng.random() < spec.emergency_vehicle_share
        ):
            return n + 1
        if policy == "left":
            return 1
        if v.vehicle_class.startswith(("H", "Q", "K1", "K2")):
            # heavy vehicles keep right; on three lanes some use the middle one, never the leftmost;
            # on two lanes they overtake, briefly, in the left one
            if n >= 3:
                return n - 1 if self.rng.random() < spec.heavy_middle_share else n
            return 1 if n == 2 and self.rng.random() < spec.heavy_overtake_share else n
        if n <= 1:
            return 1
        # Overtaking: the faster a car is for its class, the likelier it is in the left lane.
        # 2Φ(z) has mean 1 over the class's speed spread, so car_left_share stays the average.
        cls = self.s.traffic.classes.get(v.kind)
        z = (v.speed_kmh - cls.speed_mean_kmh) / cls.speed_sd_kmh if cls and cls.speed_sd_kmh > 0 else 0.0
        p_left = min(1.0, spec.car_left_share * (1 + math.erf(z / math.sqrt(2))))
        return 1 if self.rng.random() < p_left else self.rng.randint(2, n)

    def break_down(self, ids: list[int], k: int) -> int:
        """The vehicle of the trip ``ids`` (the last one driven) breaks down at its k-th passage: seen there
        in the emergency lane, slowly, and never again. Returns that passage's id."""
        cut = ids[k + 1 :]
        del self.passages[len(self.passages) - len(cut) :]
        for pid in cut:
            del self.time_of[pid], self.site_of[pid]
        index = len(self.passages) - 1
        pid, vi, site, t, _speed, trip, limit, _lane = self.passages[index]
        lane = self.net.sites[site].lanes + 1
        self.passages[index] = (pid, vi, site, t, round(self.rng.uniform(5, 25), 1), trip, limit, lane)
        self.trips[trip] = ids[: k + 1]
        if trip in self.coach_ban_violations:
            self.coach_ban_violations[trip] = [i for i in self.coach_ban_violations[trip] if i not in cut]
        if trip in self.dg_ban_trips:
            variant, kept = self.dg_ban_trips[trip]
            self.dg_ban_trips[trip] = (variant, [i for i in kept if i not in cut])
        self.exempt.add(pid)
        return pid

    def _site_congestion(self, site_id: str, t: datetime) -> float:
        site = self.net.sites[site_id]
        return self._congestion((site.node_id, site.heading_node_id), t)

    def _congestion(self, edge: tuple[str, str], t: datetime) -> float:
        """The speed factor on ``edge`` at ``t``: 1 in free flow, lower inside a congestion episode."""
        for begin, end, factor in self.episodes.get(edge, ()):
            if begin <= t < end:
                return factor
        return 1.0

    def _draw_congestion(self) -> None:
        c = self.s.congestion
        rng = self.rng
        edges = sorted(self.edge_length)
        span_h = self.s.duration_h
        for n in range(poisson(rng, c.episodes_per_day * span_h / 24)):
            first = rng.choice(edges)
            stretch = [first]
            road = self.edge_road[first]
            while len(stretch) < c.stretch_segments:
                nxt = [
                    e
                    for e in edges
                    if e[0] == stretch[-1][1] and e[1] != stretch[-1][0] and self.edge_road[e] == road
                ]
                if not nxt:
                    break
                stretch.append(nxt[0])
            begin = self.s.start + timedelta(hours=rng.uniform(0, span_h))
            end = begin + timedelta(hours=rng.uniform(c.min_duration_h, c.max_duration_h))
            factor = round(rng.uniform(c.speed_factor_min, c.speed_factor_max), 3)
            for edge in stretch:
                self.episodes.setdefault(edge, []).append((begin, end, factor))
            self.congestion_log.append(
                {
                    "episode": n,
                    "road": road,
                    "segments": [list(e) for e in stretch],
                    "start": begin.isoformat(),
                    "end": end.isoformat(),
                    "speed_factor": factor,
                }
            )

    def _pass(
        self,
        vi: int,
        v: Vehicle,
        site_id: str,
        t: datetime,
        trip: int,
        limit: int,
        lane: int,
        factor: float = 1.0,
    ) -> int:
        pid = next(self.passage_ids)
        speed = round(max(5.0, v.speed_kmh * factor + self.rng.gauss(0, 3)), 1)
        self.passages.append((pid, vi, site_id, t, speed, trip, limit, lane))
        if factor < 1.0:
            self.congested.add(pid)
        self.time_of[pid] = t
        self.site_of[pid] = site_id
        return pid


def simulate(scenario: Scenario, network: Network, seed: int, progress: Progress | None = None) -> Outcome:
    w = _World(scenario, network, seed)
    rng = w.rng
    start, end = scenario.start, scenario.end
    profile = scenario.traffic.hourly_profile
    per_profile_unit = scenario.traffic.vehicles_per_day / sum(profile)
    vehicles: list[Vehicle] = []

    # Injected: watchlisted vehicles, driving early in the window so that every run sees them.
    watchlist = []
    for _ in range(scenario.inject.watchlisted_vehicles):
        v = w.population.draw(start.astimezone(LOCAL_TZ).hour)
        vehicles.append(v)
        w.tracked.add(v.key)
        watchlist.append(
            {
                "plate_no": v.plate_no,
                "plate_class": v.plate_class,
                "reason": "模拟：盗抢车辆",
                "priority": 90,
                "valid_from": (start - timedelta(days=1)).isoformat(),
            }
        )
        span = (end - start).total_seconds()
        w.drive(len(vehicles) - 1, v, start + timedelta(seconds=rng.uniform(0, span * 0.6)))
    watched = {f"{v.plate_class}:{v.plate_no}" for v in vehicles}

    # Demand hour by hour (local time), Poisson arrivals.
    t = start
    total_s = (end - start).total_seconds()
    while t < end:
        hour_end = min(end, (t + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0))
        span = (hour_end - t).total_seconds()
        lam = per_profile_unit * profile[t.astimezone(LOCAL_TZ).hour] * span / 3600
        for _ in range(poisson(rng, lam)):
            v = w.population.draw(t.astimezone(LOCAL_TZ).hour)
            vehicles.append(v)
            w.drive(len(vehicles) - 1, v, t + timedelta(seconds=rng.uniform(0, span)))
        t = hour_end
        if progress is not None:
            progress(min(0.5, 0.5 * (t - start).total_seconds() / total_s))

    # Injected: clones (of vehicles already on the road), fake plates, long-haul drivers.
    span_total = (end - start).total_seconds()
    w.labels += inject.clones(w, vehicles, start, span_total)
    w.labels += inject.fake_plates(w, vehicles, start, span_total)
    w.labels += inject.lane_offences(w, vehicles, start, span_total)
    w.labels += inject.slow_and_broken_down(w, vehicles, start, span_total)
    w.labels += inject.long_haul(w, vehicles, start, fatigued=True, count=scenario.inject.fatigued_drivers)
    w.labels += inject.long_haul(w, vehicles, start, fatigued=False, count=scenario.inject.rested_long_haul)

    w.passages.sort(key=lambda p: (p[3], p[0]))
    # Devices fail over the traffic they see (trips that start near the end run on past it).
    site_times: dict[str, list[datetime]] = {s: [] for s in network.sites}
    for p in w.passages:
        site_times[p[2]].append(p[3])
    devices = draw_devices(site_times, scenario.camera, rng)
    reports: list[Report] = []
    outcomes: Counter[str] = Counter()
    read_right: set[int] = set()
    for n, (pid, vi, site_id, when, speed, _trip, _limit, lane) in enumerate(w.passages):
        v = vehicles[vi]
        reads = read(v.plate_no, site_id, scenario.camera, rng)
        if not reads:
            outcomes["missed"] += 1
        for r in reads:
            device = devices[r.device_id]
            reported = device.clock(when, start) + (
                timedelta(seconds=rng.uniform(0, 0.9)) if r.duplicate else timedelta(0)
            )
            received = when + timedelta(seconds=delivery_delay_s(device, when, scenario.camera, rng))
            item = {
                "external_id": f"p{pid}{'d' if r.duplicate else ''}",
                "device_id": r.device_id,
                "pass_time": reported.isoformat(timespec="milliseconds"),
                "plate_no": r.plate_no,
                "plate_class": v.plate_class,
                "plate_color": v.plate_color,
                "vehicle_class": v.vehicle_class,
                "lane_no": lane,
                "speed_kmh": speed,
                "plate_confidence": 95.0 if r.outcome == "right" else 80.0,
            }
            reports.append(Report(item, received, pid, when, "duplicate" if r.duplicate else r.outcome))
            if r.outcome == "right":
                read_right.add(pid)
            outcomes["duplicate" if r.duplicate else r.outcome] += 1
        if progress is not None and n % 20_000 == 0:
            progress(0.5 + 0.4 * n / max(1, len(w.passages)))
    reports.sort(key=lambda r: (r.received_at, r.item["external_id"]))

    truth = _truth(w, vehicles, watched, read_right)
    outcome = Outcome(
        scenario=scenario,
        seed=seed,
        devices=devices,
        vehicles=vehicles,
        watchlist=watchlist,
        reports=reports,
        truth=truth,
        true_passages=len(w.passages),
        node_times={k: sorted(v, key=lambda nt: nt[1]) for k, v in sorted(w.node_times.items())},
        congestion=w.congestion_log,
        watched_passages={pid: vehicles[vi].key for pid, vi, *_ in w.passages if vehicles[vi].key in watched},
    )
    outcome.stats = _stats(outcome, w, outcomes)
    if progress is not None:
        progress(1.0)
    return outcome


def expected_class_mix(scenario: Scenario) -> dict[str, float]:
    """The class mix the configuration implies over the scenario's hours (night weights included)."""
    totals: dict[str, float] = dict.fromkeys(scenario.traffic.classes, 0.0)
    t = scenario.start
    while t < scenario.end:
        hour_end = min(scenario.end, (t + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0))
        hour = t.astimezone(LOCAL_TZ).hour
        demand = scenario.traffic.hourly_profile[hour] * (hour_end - t).total_seconds()
        night = hour >= 22 or hour < 6
        weights = {
            k: c.share * (c.night_weight if night else 1.0) for k, c in scenario.traffic.classes.items()
        }
        norm = sum(weights.values())
        for k, w in weights.items():
            totals[k] += demand * w / norm
        t = hour_end
    total = sum(totals.values())
    return {k: totals[k] / total for k in sorted(totals)}


def _truth(
    w: _World, vehicles: list[Vehicle], watched: set[str], read_right: set[int]
) -> list[dict[str, Any]]:
    by_id = {p[0]: p for p in w.passages}
    cases: list[dict[str, Any]] = []
    for label in w.labels:
        times = [w.time_of[i] for i in label["passages"]]
        case = {k: v for k, v in label.items() if k != "decisive"}
        case["window_start"] = min(times).isoformat()
        case["window_end"] = max(times).isoformat()
        # detectable when every decisive group has a passage that was read right and delivered
        case["detectable"] = all(any(i in read_right for i in group) for group in label["decisive"])
        cases.append(case)
    for trip, ids in sorted(w.trips.items()):
        vi = by_id[ids[0]][1]
        v = vehicles[vi]
        times = [by_id[i][3] for i in ids]
        if v.key in watched:
            cases.append(
                {
                    "case": f"watchlist-{trip}",
                    "kind": "watchlist",
                    "vehicle_key": v.key,
                    "plate_no": v.plate_no,
                    "vehicle_kind": v.kind,
                    "injected": True,
                    "passages": ids,
                    "window_start": min(times).isoformat(),
                    "window_end": max(times).isoformat(),
                    "detectable": any(i in read_right for i in ids),
                }
            )
        dg = w.dg_ban_trips.get(trip)
        if dg and dg[1]:
            variant, passages = dg
            cases.append(
                {
                    "case": f"dangerous_goods_ban-{trip}",
                    "kind": "dangerous_goods_ban",
                    "variant": variant,
                    "vehicle_key": v.key,
                    "plate_no": v.plate_no,
                    "vehicle_kind": v.kind,
                    "injected": False,
                    "passages": passages,
                    "window_start": by_id[passages[0]][3].isoformat(),
                    "window_end": by_id[passages[-1]][3].isoformat(),
                    "detectable": any(i in read_right for i in passages),
                }
            )
        night = w.coach_ban_violations.get(trip)
        if night:
            cases.append(
                {
                    "case": f"night_coach-{trip}",
                    "kind": "night_coach",
                    "vehicle_key": v.key,
                    "plate_no": v.plate_no,
                    "vehicle_kind": v.kind,
                    "injected": False,
                    "passages": night,
                    "window_start": by_id[night[0]][3].isoformat(),
                    "window_end": by_id[night[-1]][3].isoformat(),
                    "detectable": any(i in read_right for i in night),
                }
            )
        for i in ids:
            _pid, _vi, site, when, speed, _trip, limit, _lane = by_id[i]
            minimum = w.s.congestion.minimum_speed_kmh
            on_mainline = w.net.sites[site].kind == SiteKind.GANTRY  # toll plazas have no minimum
            if speed < minimum and on_mainline and i not in w.congested and i not in w.exempt:
                cases.append(
                    {
                        "case": f"min_speed-{i}",
                        "kind": "min_speed",
                        "vehicle_key": v.key,
                        "plate_no": v.plate_no,
                        "vehicle_kind": v.kind,
                        "injected": False,
                        "passages": [i],
                        "minimum_kmh": minimum,
                        "speed_kmh": speed,
                        "window_start": when.isoformat(),
                        "window_end": when.isoformat(),
                        "detectable": i in read_right,
                    }
                )
            if speed > limit:
                cases.append(
                    {
                        "case": f"speeding-{i}",
                        "kind": "speeding",
                        "vehicle_key": v.key,
                        "plate_no": v.plate_no,
                        "vehicle_kind": v.kind,
                        "injected": False,
                        "passages": [i],
                        "limit_kmh": limit,
                        "speed_kmh": speed,
                        "window_start": when.isoformat(),
                        "window_end": when.isoformat(),
                        "detectable": i in read_right,
                    }
                )
    return cases


def _stats(o: Outcome, w: _World, outcomes: Counter[str]) -> dict[str, Any]:
    # Over the time passages actually span (trips that start late run on past the window).
    hours = max(1 / 60, (w.passages[-1][3] - w.passages[0][3]).total_seconds() / 3600) if w.passages else 1.0
    reads = sum(outcomes[k] for k in ("right", "misread", "province_misread"))
    delays = [(r.received_at - r.true_time).total_seconds() for r in o.reports]
    late = sum(1 for d in delays if d > LATE_AFTER_S)
    within_5s = sum(1 for d in delays if d <= 5)
    class_mix = Counter(v.kind for v in o.vehicles)
    return {
        "vehicles": len(o.vehicles),
        "true_passages": o.true_passages,
        "reported_passages": len(o.reports),
        "passages_per_site_per_hour": round(o.true_passages / max(1, len(w.net.sites)) / hours, 2),
        "class_mix": {k: round(n / len(o.vehicles), 4) for k, n in sorted(class_mix.items())},
        "read_right_share": round(outcomes["right"] / max(1, o.true_passages), 4),
        "misread_share": round(
            (outcomes["misread"] + outcomes["province_misread"]) / max(1, o.true_passages), 4
        ),
        "missed_share": round(outcomes["missed"] / max(1, o.true_passages), 4),
        "duplicate_share": round(outcomes["duplicate"] / max(1, reads), 4),
        "delivered_5s_share": round(within_5s / max(1, len(o.reports)), 4),
        "late_over_5min_share": round(late / max(1, len(o.reports)), 4),
        "truth_cases": dict(sorted(Counter(c["kind"] for c in o.truth).items())),
        "congestion_episodes": len(o.congestion),
        "congested_passage_share": round(len(w.congested) / max(1, o.true_passages), 4),
        "coach_waits_at_service_area": w.coach_waits_at_service_area,
        "coach_ban_compliance": round(w.coach_trips_waited / met, 4)
        if (met := w.coach_trips_waited + len(w.coach_ban_violations))
        else None,
    }
