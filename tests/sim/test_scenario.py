"""Scenario files: the built-ins load; a bad file names the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from changan.sim.scenario import BUILT_IN, ScenarioError, load_scenario


class TestScenario:
    @pytest.mark.parametrize("name", BUILT_IN)
    def test_built_ins_load(self, name: str) -> None:
        s = load_scenario(name)
        assert s.name == name
        assert abs(sum(c.share for c in s.traffic.classes.values()) - 1) < 1e-9
        assert s.camera.read_right == 0.96

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("speed = 1", "speed"),
            ("[camera]\nread_right = 0.9", "read_right + misread + missed"),
            ("[camera]\nduplicate = 2", "camera.duplicate"),
            (
                "[traffic.classes.small_car]\ncode='K33'\nplate_class='02'\nuse='x'\nshare=0.5\nspeed_mean_kmh=100\n"
                "speed_sd_kmh=10",
                "shares add up",
            ),
            ("start = 2026-11-30T08:00:00", "start"),
            ("duration_h = [", "TOML"),
        ],
    )
    def test_bad_file_names_the_field(self, tmp_path: Path, text: str, fragment: str) -> None:
        body = 'name = "x"\nduration_h = 1\nstart = 2026-11-30T08:00:00+08:00\n'
        keys = {line.split("=")[0].strip() for line in text.splitlines() if "=" in line}
        base = "\n".join(line for line in body.splitlines() if line.split("=")[0].strip() not in keys)
        path = tmp_path / "s.toml"
        path.write_text(base + "\n" + text + "\n", encoding="utf-8")
        with pytest.raises(ScenarioError, match=re.escape(fragment)):
            load_scenario(str(path))

    def test_unknown_name(self) -> None:
        with pytest.raises(ScenarioError, match="city-hour"):
            load_scenario("no-such-scenario")
