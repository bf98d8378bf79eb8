"""The detectors hold their bars on configurations other than the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from changan.network import Network
from changan.sim.evaluate import run
from changan.sim.scenario import load_scenario

HARSH = """
name = "harsh"
start = 2026-11-30T17:00:00+08:00
duration_h = 0.5
[traffic]
vehicles_per_day = 120000
[camera]
read_right = 0.86
misread = 0.10
missed = 0.04
duplicate = 0.03
province_share_of_misreads = 0.4
confusions = { "0" = "DQU", "8" = "B3", "B" = "8", "1" = "7I", "7" = "1", "5" = "S", "S" = "5" }
[inject]
watchlisted_vehicles = 15
clones = 5
fake_plates = 3
fatigued_drivers = 0
rested_long_haul = 0
"""


@pytest.mark.slow
def test_watchlist_detector_on_harsh_cameras_and_denser_traffic(tmp_path: Path) -> None:
    path = tmp_path / "harsh.toml"
    path.write_text(HARSH, encoding="utf-8")
    result = run(load_scenario(str(path)), Network.load_default(), 3)
    watch = {d["detector"]: d for d in result["detectors"]}["watchlist"]
    assert watch["detectable"] > 0
    assert watch["recall"] == 1.0  # every watchlisted trip with a right read is found
    # a misread of a look-alike neighbour can hit exactly (issue 4 marks such hits as possible misreads)
    assert watch["precision"] >= 0.9
    assert watch["undetectable"] + watch["detectable"] == watch["cases"]
