"""Cases injected because chance makes them too rare: cloned plates, fake plates, fatigued drivers.

Each function drives extra vehicles through the world and returns its truth
labels; :mod:`changan.sim.world` works out which are detectable.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from changan.sim.driver import DriverShift
from changan.sim.population import SERIAL, Vehicle

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
        truck = replace(truck, kind="heavy_truck", vehicle_class="H11", use="货运", registered=False)
        if variant == "invalid":  # I and O never appear in a serial (GA 36)
            plate = truck.plate_no[:2] + rng.choice("IO") + truck.plate_no[3:]
            fake = replace(truck, plate_no=plate, plate_class="01", plate_color="yellow")
        elif variant == "unissued":
            plate = truck.plate_no[:2] + "".join(rng.choice(SERIAL) for _ in range(5))
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
        truck = replace(w.population.draw(12), kind="heavy_truck", vehicle_class="H11", use="货运")
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
    """Commercial drivers chaining trips for about 5 hours: with short breaks only (fatigued) or
    with a rest of 20+ minutes before every 4 hours (compliant, labelled nothing)."""
    rng = w.rng
    labels = []
    for n in range(count):
        truck = w.population.draw(12)
        truck = replace(truck, kind="heavy_truck", vehicle_class="H11", use="货运", operator="鲁西物流")
        vehicles.append(truck)
        index = len(vehicles) - 1
        t = start + timedelta(seconds=rng.uniform(0, 1800))
        chain_start = t
        # A compliant driver rests at the first service area after 2.5–3.5 h at the wheel; the
        # fatigued one drives past them all (trips are chained with short stops only).
        shift = None if fatigued else DriverShift(rest_after_s=rng.uniform(2.5 * 3600, 3.5 * 3600))
        ids: list[int] = []
        while (t - chain_start).total_seconds() < 5.5 * 3600:
            trip = w.drive(index, truck, t, shift=shift)
            last = w.passage_time(trip[-1])
            ids.extend(trip)
            if shift is not None and shift.driven_s > FATIGUE_S - 1800:
                # no service area on the way: the rest is taken where the trip ends
                pause = rng.uniform(REST_S + 60, REST_S + 1800)
                shift.driven_s = 0.0
            else:
                pause = rng.uniform(60, 600)  # a short stop only
            t = last + timedelta(seconds=pause)
        if fatigued:
            over = [i for i in ids if (w.passage_time(i) - chain_start).total_seconds() > FATIGUE_S]
            early = [i for i in ids if (w.passage_time(i) - chain_start).total_seconds() <= 3600]
            labels.append(
                {
                    "case": f"fatigue-{n}",
                    "kind": "fatigue",
                    "vehicle_key": truck.key,
                    "plate_no": truck.plate_no,
                    "vehicle_kind": "heavy_truck",
                    "injected": True,
                    "passages": over,
                    "decisive": [early, over],
                }
            )
    return labels


def _other(value: str, choices: str, rng: random.Random) -> str:
    return rng.choice([c for c in choices if c != value])
