"""Plates issued in dense series are valid, unique, and have real look-alike neighbours."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from changan.plates import PlateKind, read_plate
from changan.sim.population import FAR, NEIGHBOURS, SHANDONG, PlateOffice, Population
from changan.sim.scenario import load_scenario

PREFIXES = ["鲁P", *SHANDONG, *NEIGHBOURS, *FAR]


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(0, 2**32), st.sampled_from(PREFIXES), st.booleans(), st.integers(1, 60))
def test_issued_plates_are_valid_and_unique(seed: int, prefix: str, nev: bool, count: int) -> None:
    office = PlateOffice(random.Random(seed))
    plates = [office.issue(prefix, nev=nev) for _ in range(count)]
    assert len(set(plates)) == count
    for plate in plates:
        read = read_plate(plate)
        assert read.valid, (plate, read.reason)
        assert read.kind == (PlateKind.NEV_SMALL if nev else PlateKind.ORDINARY)
        assert plate.startswith(prefix)


def test_series_are_dense_enough_for_look_alikes() -> None:
    office = PlateOffice(random.Random(1))
    plates = {office.issue("鲁P", nev=False) for _ in range(5000)}
    look_alike = {"8": "B", "0": "D", "1": "7", "2": "Z", "5": "S", "6": "G"}
    neighbours = sum(
        1
        for p in plates
        for i, ch in enumerate(p)
        if ch in look_alike and p[:i] + look_alike[ch] + p[i + 1 :] in plates
    )
    assert neighbours > 100  # a misread often lands on another real vehicle


def test_registry_absence_share() -> None:
    scenario = load_scenario("city-hour")
    population = Population(scenario, random.Random(4))
    vehicles = [population.draw(10) for _ in range(20_000)]
    absent = sum(1 for v in vehicles if not v.registered) / len(vehicles)
    assert abs(absent - scenario.origins.absent_from_registry) < 0.005
