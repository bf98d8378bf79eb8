"""Cases injected because chance makes them too rare: cloned plates, fake plates, fatigued drivers.

Each function drives extra vehicles through the world and returns its truth
labels; :mod:`changan.sim.world` works out which are detectable.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from changan.network import SiteKind
from changan.sim.driver import DriverShift
from changan.sim.population import LOCAL_PREFIX, SERIAL, Vehicle

if TYPE_CHECKING:
    from changan.sim.world import _World


FATIGUE_S = 4 * 3600  # 疲劳驾驶: more than 4 h of continuous driving …
REST_S = 20 * 60  # … without a rest of at least 20 minutes


def clones(w: _World, vehicles: list[Vehicle], start: datetime, span_s: float) -> list[dict[str, Any]]:
    """A second vehicle on a real vehicle's plate, driving in the same area at about the same time."""
    rng = w.rng
    labels = []
    # Not the watchlisted vehicles (the first ones drawn), so that each kind's cases stay apart.
    candidates = [
        i
        for i, v in enumerate(vehicles)
        if i >= w.s.inject.watchlisted_vehicles and v.registered and v.kind == "small_car"
    ]
    for n in range(min(w.s.inject.clones, len(candidates))):
        original_index = candidates[rng.randrange(len(candidates))]
        original = vehicles[original_index]
        hard = rng.random() < w.s.inject.clone_hard_share
        clone = replace(
            original,
            registered=False,
            speed_kmh=round(max(60.0, rng.gauss(100, 12)), 1),
            body_colour=original.body_colour if hard else _other(original.body_colour, "AJBHE", rng),
            model=original.model if hard else f"{original.model}（改）",
        )
        vehicles.append(clone)
        at = start + timedelta(seconds=rng.uniform(0, span_s * 0.6))
        first = w.drive(original_index, original, at)
        second = w.drive(len(vehicles) - 1, clone, at + timedelta(seconds=rng.uniform(-900, 900)))
        labels.append(
            {
                "case": f"clone-{n}",
                "kind": "clone",
                "vehicle_key": original.key,
                "plate_no": original.plate_no,
                "vehicle_kind": original.kind,
                "injected": True,
                "variant": "hard" if hard else "easy",
                "passages": first + second,
                "decisive": [first, second],
            }
        )
    return labels


def fake_plates(w: _World, vehicles: list[Vehicle], start: datetime, span_s: float) -> list[dict[str, Any]]:
    """Three kinds: a plate the grammar forbids, a well-formed plate nobody issued, and a real
    car's blue plate on a heavy truck (class contradicting the registry)."""
    rng = w.rng
    labels = []
    cars = [v for v in vehicles[w.s.inject.watchlisted_vehicles :] if v.registered and v.kind == "small_car"]
    for n in range(w.s.inject.fake_plates):
        variant = ("invalid", "unissued", "contradicts")[n % 3]
        truck = w.population.draw(12)
        truck = replace(
            truck,
            kind="heavy_truck",
            vehicle_class="H11",
            use="货运",
            plate_class="01",
            plate_color="yellow",
            registered=False,
        )
        if variant == "invalid":  # I and O never appear in a serial (GA 36)
            plate = truck.plate_no[:2] + rng.choice("IO") + truck.plate_no[3:]
            fake = replace(truck, plate_no=plate, plate_class="01", plate_color="yellow")
        elif variant == "unissued":  # a local plate: the local registry holds every one really issued
            plate = LOCAL_PREFIX + "".join(rng.choice(SERIAL) for _ in range(5))
            fake = replace(truck, plate_no=plate, plate_class="01", plate_color="yellow")
        else:
            car = cars[rng.randrange(len(cars))] if cars else truck
            fake = replace(
                truck, plate_no=car.plate_no, plate_class=car.plate_class, plate_color=car.plate_color
            )
        vehicles.append(fake)
        ids = w.drive(len(vehicles) - 1, fake, start + timedelta(seconds=rng.uniform(0, span_s * 0.6)))
        labels.append(
            {
                "case": f"fake_plate-{n}",
                "kind": "fake_plate",
                "vehicle_key": fake.key,
                "plate_no": fake.plate_no,
                "vehicle_kind": "heavy_truck",
                "injected": True,
                "variant": variant,
                "passages": ids,
                "decisive": [ids],
            }
        )
    return labels


def lane_offences(w: _World, vehicles: list[Vehicle], start: datetime, span_s: float) -> list[dict[str, Any]]:
    """Trucks keeping to the leftmost lane of three-lane carriageways (鲁高速条例 Art. 18), and cars
    driving in the emergency lane (条例 Art. 82(4)). Emergency vehicles there are exempt and not labelled."""
    rng = w.rng
    labels = []
    wide = [s for s in w.entry_sites if w.net.sites[s].lanes >= 3]
    for n in range(w.s.inject.trucks_in_left_lane if wide else 0):
        truck = replace(
            w.population.draw(12),
            kind="heavy_truck",
            vehicle_class="H11",
            use="货运",
            plate_class="01",
            plate_color="yellow",
        )
        vehicles.append(truck)
        ids = w.drive(
            len(vehicles) - 1,
            truck,
            start + timedelta(seconds=rng.uniform(0, span_s * 0.6)),
            entry=rng.choice(wide),
            lanes="left",
        )
        on_wide = [i for i in ids if w.net.sites[w.site_of[i]].lanes >= 3]
        labels.append(
            {
                "case": f"truck_left_lane-{n}",
                "kind": "truck_left_lane",
                "vehicle_key": truck.key,
                "plate_no": truck.plate_no,
                "vehicle_kind": "heavy_truck",
                "injected": True,
                "passages": on_wide,
                "decisive": [on_wide],
            }
        )
    for n in range(w.s.inject.emergency_lane_drivers):
        car = w.population.draw(12)
        vehicles.append(car)
        ids = w.drive(
            len(vehicles) - 1, car, start + timedelta(seconds=rng.uniform(0, span_s * 0.6)), lanes="emergency"
        )
        labels.append(
            {
                "case": f"emergency_lane-{n}",
                "kind": "emergency_lane",
                "vehicle_key": car.key,
                "plate_no": car.plate_no,
                "vehicle_kind": car.kind,
                "injected": True,
                "passages": ids,
                "decisive": [ids],
            }
        )
    return labels


def slow_and_broken_down(
    w: _World, vehicles: list[Vehicle], start: datetime, span_s: float
) -> list[dict[str, Any]]:
    """Vehicles driving below the minimum speed (labelled by the world as ``min_speed``), and
    breakdowns: a vehicle that limps into the emergency lane and stops there (exempt)."""
    rng = w.rng
    for _ in range(w.s.inject.slow_vehicles):
        v = replace(w.population.draw(12), speed_kmh=round(rng.uniform(40, 55), 1))
        vehicles.append(v)
        w.drive(len(vehicles) - 1, v, start + timedelta(seconds=rng.uniform(0, span_s * 0.6)))
    labels = []
    for n in range(w.s.inject.breakdowns):
        v = w.population.draw(12)
        vehicles.append(v)
        ids = w.drive(len(vehicles) - 1, v, start + timedelta(seconds=rng.uniform(0, span_s * 0.6)))
        if len(ids) < 2:
            continue
        at = w.break_down(ids, rng.randrange(1, len(ids)))
        labels.append(
            {
                "case": f"breakdown-{n}",
                "kind": "breakdown",
                "vehicle_key": v.key,
                "plate_no": v.plate_no,
                "vehicle_kind": v.kind,
                "injected": True,
                "exempt": True,
                "passages": [at],
                "decisive": [[at]],
            }
        )
    return labels


def long_haul(
    w: _World, vehicles: list[Vehicle], start: datetime, *, fatigued: bool, count: int
) -> list[dict[str, Any]]:
    """Commercial drivers chaining trips until 4¾ hours at the wheel, each trip starting where the last one
    ended: with short stops only (fatigued), or resting 20–45 minutes at the first service area
    after 2.5–3.5 hours at the wheel, or where a trip ends once 3.5 hours are reached (compliant).

    The labels come from the physics, not from the intent: a driver is fatigued when a run of
    driving (trips and stops shorter than 20 minutes, the stops not counted as driving) exceeds
    4 hours, whichever kind of driver it is; the case holds the passages after the crossing."""
    rng = w.rng
    labels = []
    for n in range(count):
        truck = w.population.draw(12)
        truck = replace(
            truck,
            kind="heavy_truck",
            vehicle_class="H11",
            use="货运",
            plate_class="01",
            plate_color="yellow",
            operator="鲁西物流",
        )
        vehicles.append(truck)
        index = len(vehicles) - 1
        t = start + timedelta(seconds=rng.uniform(0, 1800))
        chain_start = t
        shift = None if fatigued else DriverShift(rest_after_s=rng.uniform(2.5 * 3600, 3.5 * 3600))
        log = DriverShift(rest_after_s=float("inf"))  # records the driving of either kind
        driving: list[tuple[datetime, datetime]] = []  # intervals at the wheel
        ids: list[int] = []
        entry: str | None = None
        # until 4¾ hours at the wheel in all (at most 9 hours on the road)
        while (
            sum((b - a).total_seconds() for a, b in driving) < 4.75 * 3600
            and (t - chain_start).total_seconds() < 9 * 3600
        ):
            rests_before = len(shift.rests) if shift is not None else 0
            trip = w.drive(index, truck, t, entry=entry, shift=shift if shift is not None else log, far=True)
            last = w.passage_time(trip[-1])
            rests = (shift.rests if shift is not None else log.rests)[rests_before:]
            begin = t
            for _node, arrived, pause_s in rests:  # rests inside the trip split its driving
                driving.append((begin, arrived))
                begin = arrived + timedelta(seconds=pause_s)
            driving.append((begin, last))
            ids.extend(trip)
            if shift is not None and shift.driven_s > FATIGUE_S - 1800:
                # no service area on the way: the rest is taken where the trip ends
                pause = rng.uniform(REST_S + 60, REST_S + 1800)
                shift.driven_s = 0.0
            else:
                pause = rng.uniform(60, 600)  # a short stop only
            t = last + timedelta(seconds=pause)
            entry = _entry_at(w, w.site_of[trip[-1]])
        over = _over_four_hours(driving, ids, w)
        if over:
            crossed, after = over
            early = [i for i in ids if w.passage_time(i) <= crossed]
            labels.append(
                {
                    "case": f"fatigue-{'f' if fatigued else 'c'}{n}",
                    "kind": "fatigue",
                    "vehicle_key": truck.key,
                    "plate_no": truck.plate_no,
                    "vehicle_kind": "heavy_truck",
                    "injected": fatigued,
                    "passages": after,
                    "decisive": [early[-8:], after],
                }
            )
    return labels


def _entry_at(w: _World, site_id: str) -> str | None:
    """Where the next trip of a chain starts: a site at the node where the last one ended."""
    node = w.net.sites[site_id].node_id
    here = sorted(  # a toll entry: a vehicle cannot turn back at a gantry and be read there again
        (
            s
            for s in w.entry_sites
            if w.net.sites[s].node_id == node and w.net.sites[s].kind == SiteKind.TOLL_ENTRY
        ),
        key=lambda s: (-len(w.downstream[s]), s),
    )
    # at a dead end (a border, the end of a road) the driver turns to the rest of the network
    return here[0] if here and len(w.downstream[here[0]]) >= 5 else None


def _over_four_hours(
    driving: list[tuple[datetime, datetime]], ids: list[int], w: _World
) -> tuple[datetime, list[int]] | None:
    """The first run of driving over 4 h (stops under 20 min join a run but are not driving): the
    moment 4 h of driving were crossed, and the passages of the run after that moment."""
    driven = 0.0
    prev_end: datetime | None = None
    for begin, end in sorted(driving):
        if prev_end is None or (begin - prev_end).total_seconds() >= REST_S:
            driven = 0.0
        length = (end - begin).total_seconds()
        if driven + length > FATIGUE_S:
            crossed = begin + timedelta(seconds=FATIGUE_S - driven)
            run_end = _run_end(driving, end)
            after = [i for i in ids if crossed < w.passage_time(i) <= run_end]
            if after:
                return crossed, after
        driven += length
        prev_end = end
    return None


def _run_end(driving: list[tuple[datetime, datetime]], from_end: datetime) -> datetime:
    end = from_end
    for begin, stop in sorted(driving):
        if begin >= end and (begin - end).total_seconds() < REST_S:
            end = stop
        elif begin > end:
            break
    return end


def _other(value: str, choices: str, rng: random.Random) -> str:
    return rng.choice([c for c in choices if c != value])
