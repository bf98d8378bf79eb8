"""Scenario files: everything the simulator does is configured here, with the published rates as defaults.

A scenario is a TOML file validated by :class:`Scenario` (unknown keys are
refused, every number carries its unit). The built-in ones live in
``changan/sim/scenarios/``; ``changan simulate --scenario FILE`` takes your own.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

Share = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VehicleClassSpec(_Strict):
    """One simulated vehicle class: its GA 24.4 code, plate, use, share of traffic and speed."""

    code: str = Field(description="GA 24.4 车辆类型, e.g. K33")
    plate_class: str = Field(description="GA 24.7 号牌种类 of its ordinary plate, e.g. 02")
    use: str = Field(description="使用性质: 非营运, 公路客运, 货运, 危化品运输, 校车, 应急救援 …")
    share: Share = Field(description="share of vehicles entering the network")
    speed_mean_kmh: float = Field(gt=0, le=200)
    speed_sd_kmh: float = Field(ge=0, le=60)
    night_weight: float = Field(default=1.0, ge=0, description="relative demand 22:00–06:00 vs. a car")
    commercial: bool = Field(default=False, description="subject to commercial-vehicle rules (rests, bans)")


def _default_classes() -> dict[str, VehicleClassSpec]:
    c = VehicleClassSpec
    return {
        "small_car": c(
            code="K33", plate_class="02", use="非营运", share=0.71, speed_mean_kmh=100, speed_sd_kmh=12
        ),
        "medium_coach": c(
            code="K21",
            plate_class="01",
            use="公路客运",
            share=0.02,
            speed_mean_kmh=90,
            speed_sd_kmh=8,
            night_weight=0.3,
            commercial=True,
        ),
        "large_coach": c(
            code="K11",
            plate_class="01",
            use="公路客运",
            share=0.03,
            speed_mean_kmh=90,
            speed_sd_kmh=8,
            night_weight=0.3,
            commercial=True,
        ),
        "light_truck": c(
            code="H31",
            plate_class="01",
            use="货运",
            share=0.06,
            speed_mean_kmh=85,
            speed_sd_kmh=9,
            night_weight=1.5,
            commercial=True,
        ),
        "medium_truck": c(
            code="H21",
            plate_class="01",
            use="货运",
            share=0.05,
            speed_mean_kmh=80,
            speed_sd_kmh=8,
            night_weight=2.0,
            commercial=True,
        ),
        "heavy_truck": c(
            code="H11",
            plate_class="01",
            use="货运",
            share=0.11,
            speed_mean_kmh=78,
            speed_sd_kmh=7,
            night_weight=2.5,
            commercial=True,
        ),
        "dangerous_goods": c(
            code="H11",
            plate_class="01",
            use="危化品运输",
            share=0.015,
            speed_mean_kmh=75,
            speed_sd_kmh=6,
            night_weight=0.5,
            commercial=True,
        ),
        "school_bus": c(
            code="K38",
            plate_class="02",
            use="校车",
            share=0.002,
            speed_mean_kmh=80,
            speed_sd_kmh=6,
            night_weight=0.0,
            commercial=True,
        ),
        "emergency": c(
            code="K31", plate_class="99", use="应急救援", share=0.003, speed_mean_kmh=105, speed_sd_kmh=10
        ),
    }


class TrafficSpec(_Strict):
    vehicles_per_day: int = Field(default=120_000, ge=1, description="vehicles entering the network per day")
    nev_share: Share = Field(default=0.08, description="share of small cars with new-energy plates")
    hourly_profile: list[float] = Field(
        default=[
            0.9,
            0.7,
            0.6,
            0.6,
            0.8,
            1.4,
            2.8,
            4.9,
            6.2,
            5.8,
            5.6,
            5.5,
            5.3,
            5.4,
            5.7,
            6.0,
            6.4,
            6.9,
            6.3,
            4.8,
            3.6,
            2.8,
            1.9,
            1.3,
        ],
        min_length=24,
        max_length=24,
        description="relative demand per local hour 0–23 (cars)",
    )
    classes: dict[str, VehicleClassSpec] = Field(default_factory=_default_classes)

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> TrafficSpec:
        total = sum(c.share for c in self.classes.values())
        if abs(total - 1) > 1e-6:
            msg = f"traffic.classes: shares add up to {total:.4f}, not 1"
            raise ValueError(msg)
        return self


class OriginSpec(_Strict):
    """Where plates come from (the province and issuing office of the vehicle)."""

    local: Share = Field(default=0.55, description="鲁P, Liaocheng")
    shandong: Share = Field(default=0.20, description="the other Shandong offices")
    neighbours: Share = Field(default=0.17, description="Hebei, Henan and the other neighbours")
    far: Share = Field(default=0.08, description="the rest of China")
    absent_from_registry: Share = Field(
        default=0.02,
        description="legitimate vehicles the registry lookup does not know (out-of-province, temporary, "
        "military): all from elsewhere, since every plate the local office issued is registered",
    )


class CameraSpec(_Strict):
    """Per-read imperfections (published rates: HyperLPR3 95–97 % right; Rio clone data 0.4 % duplicates)."""

    read_right: Share = Field(default=0.96, description="plate read exactly right")
    misread: Share = Field(default=0.03, description="one look-alike character wrong")
    province_share_of_misreads: Share = Field(default=0.2, description="misreads that hit the province char")
    missed: Share = Field(default=0.01, description="vehicle not reported at all")
    duplicate: Share = Field(default=0.004, description="a second camera at the site reports it within 1 s")
    confusions: dict[str, str] = Field(
        default={
            "0": "DQ",
            "D": "0Q",
            "Q": "0D",
            "8": "B",
            "B": "8",
            "1": "7",
            "7": "1",
            "2": "Z",
            "Z": "2",
            "5": "S",
            "S": "5",
            "6": "G",
            "G": "6",
        },
        description="look-alike characters: each key may be read as one of its value's characters",
    )
    clock_off_device_share: Share = Field(default=0.03, description="devices whose clock is off")
    clock_off_min_s: float = Field(default=30, ge=0)
    clock_off_max_s: float = Field(default=300, ge=0)
    drifting_share_of_off: Share = Field(default=0.3, description="of those, the share that also drift")
    drift_max_s_per_h: float = Field(default=20, ge=0)
    delivered_5s: Share = Field(default=0.90, description="delivered within 5 s")
    delivered_5min: Share = Field(default=0.09, description="delivered within 5 min")
    late_max_s: float = Field(default=1800, gt=0, description="the rest: up to this late, in outage bursts")

    @model_validator(mode="after")
    def _consistent(self) -> CameraSpec:
        if abs(self.read_right + self.misread + self.missed - 1) > 1e-6:
            msg = "camera: read_right + misread + missed must be 1"
            raise ValueError(msg)
        if self.delivered_5s + self.delivered_5min > 1 + 1e-9:
            msg = "camera: delivered_5s + delivered_5min must not exceed 1"
            raise ValueError(msg)
        if self.clock_off_max_s < self.clock_off_min_s:
            msg = "camera: clock_off_max_s must not be below clock_off_min_s"
            raise ValueError(msg)
        return self


class BehaviourSpec(_Strict):
    """How drivers keep the rules (聊城条例 Art. 37: coaches do not operate 02:00–05:00)."""

    coach_ban_start_h: int = Field(default=2, ge=0, le=23, description="local hour the coach ban starts")
    coach_ban_end_h: int = Field(default=5, ge=0, le=23, description="local hour the coach ban ends")
    coach_ban_compliance: Share = Field(
        default=0.95, description="coaches that wait out the ban (at the origin or a service area)"
    )
    dg_ban_start_h: int = Field(
        default=0, ge=0, le=23, description="dangerous goods banned from (Shandong 2021; secondary source)"
    )
    dg_ban_end_h: int = Field(default=6, ge=0, le=23, description="… until this local hour")
    dg_ban_compliance: Share = Field(
        default=0.95,
        description="dangerous-goods vehicles that do not enter in the banned hours; those already on "
        "the road when it starts are escorted off (labelled escort, not an offence)",
    )


class CongestionSpec(_Strict):
    """Congestion episodes (incidents, road works, evening peaks) that slow a stretch for some hours."""

    episodes_per_day: float = Field(default=6, ge=0)
    min_duration_h: float = Field(default=1, gt=0)
    max_duration_h: float = Field(default=3, gt=0)
    speed_factor_min: Share = Field(default=0.3, description="speeds on the stretch fall to this share …")
    speed_factor_max: Share = Field(default=0.6, description="… up to this share of free flow")
    stretch_segments: int = Field(default=4, ge=1, description="segments of one carriageway affected")
    minimum_speed_kmh: float = Field(
        default=60, gt=0, description="highway minimum (条例 Art. 78): slower outside congestion is labelled"
    )


class InterceptionSpec(_Strict):
    """Time officers of a staffed station need to get in position: lognormal, median 4 min, p90 8 min."""

    position_median_s: float = Field(default=240, gt=0)
    position_p90_s: float = Field(default=480, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> InterceptionSpec:
        if self.position_p90_s <= self.position_median_s:
            msg = "interception: position_p90_s must exceed position_median_s"
            raise ValueError(msg)
        return self


class LaneSpec(_Strict):
    """Lane use. Lanes are numbered from the left in the direction of travel (GA/T 1400 LaneNo); the
    emergency lane (应急车道) is reported as lanes + 1, an assumption (devices differ; unconfirmed)."""

    car_left_share: Share = Field(
        default=0.3,
        description="cars in the leftmost (overtaking) lane, on average: faster cars are likelier there",
    )
    heavy_overtake_share: Share = Field(
        default=0.05, description="trucks and coaches seen overtaking in the left lane of two lanes"
    )
    heavy_middle_share: Share = Field(
        default=0.25, description="trucks and coaches in the middle of three lanes"
    )
    emergency_vehicle_share: Share = Field(
        default=0.3, description="emergency vehicles (exempt) seen in the emergency lane"
    )


class InjectSpec(_Strict):
    """Cases injected because chance makes them too rare."""

    watchlisted_vehicles: int = Field(
        default=40, ge=0, description="vehicles put on the watchlist and sent driving"
    )
    clones: int = Field(
        default=20, ge=0, description="cloned plates: a second vehicle drives on a real one's plate"
    )
    clone_hard_share: Share = Field(
        default=0.5, description="clones of the same model and colour as the real vehicle (the hard kind)"
    )
    fake_plates: int = Field(default=20, ge=0, description="fake plates: invalid, unissued or contradicting")
    fatigued_drivers: int = Field(
        default=10, ge=0, description="commercial drivers over 4 h without a 20-min rest"
    )
    slow_vehicles: int = Field(default=10, ge=0, description="vehicles driving 40–55 km/h outside congestion")
    breakdowns: int = Field(
        default=5, ge=0, description="vehicles that break down into the emergency lane (exempt)"
    )
    trucks_in_left_lane: int = Field(
        default=10, ge=0, description="trucks keeping to the leftmost of 3+ lanes"
    )
    emergency_lane_drivers: int = Field(default=10, ge=0, description="cars driving in the emergency lane")
    rested_long_haul: int = Field(
        default=10,
        ge=0,
        description="commercial drivers on the road as long, but resting as the rules require",
    )


class Scenario(_Strict):
    name: str
    description: str = ""
    start: AwareDatetime = Field(description="start of simulated time, e.g. 2026-11-29T00:00:00+08:00")
    duration_h: float = Field(gt=0, le=24 * 7)
    traffic: TrafficSpec = Field(default_factory=TrafficSpec)
    origins: OriginSpec = Field(default_factory=OriginSpec)
    camera: CameraSpec = Field(default_factory=CameraSpec)
    inject: InjectSpec = Field(default_factory=InjectSpec)
    behaviour: BehaviourSpec = Field(default_factory=BehaviourSpec)
    lanes: LaneSpec = Field(default_factory=LaneSpec)
    congestion: CongestionSpec = Field(default_factory=CongestionSpec)
    interception: InterceptionSpec = Field(default_factory=InterceptionSpec)

    @property
    def end(self) -> datetime:
        from datetime import timedelta

        return self.start + timedelta(hours=self.duration_h)


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file and the field."""


BUILT_IN = ("city-hour", "city-day", "province-peak", "national-peak")


def load_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name, or a TOML file by path."""
    if name_or_path in BUILT_IN:
        text = (resources.files("changan.sim") / "scenarios" / f"{name_or_path}.toml").read_text(
            encoding="utf-8"
        )
        where = f"built-in scenario {name_or_path}"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            msg = f"没有场景 {name_or_path!r}：内置场景为 {', '.join(BUILT_IN)}，或给出 TOML 文件路径"
            raise ScenarioError(msg)
        text = path.read_text(encoding="utf-8")
        where = str(path)
    try:
        return Scenario.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{where}: TOML 无法解析：{exc}"
        raise ScenarioError(msg) from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        msg = f"{where}: {problems}"
        raise ScenarioError(msg) from None
