"""The vehicle population and its registry (机动车登记).

Plates are issued in dense series, as a vehicle office issues them: each
office hands out consecutive serials, so the look-alike neighbours of a plate
(鲁PA1238 and 鲁PA123B) really exist and a misread can land on another real
vehicle. A small share of legitimate vehicles is absent from the local
registry (temporary, out-of-province, military).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from changan.sim.scenario import Scenario, VehicleClassSpec

SERIAL = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # GA 36: no I, no O
LOCAL_PREFIX = "鲁P"  # Liaocheng: the local registry holds every plate this office issued

SHANDONG = [
    "鲁A",
    "鲁B",
    "鲁C",
    "鲁D",
    "鲁E",
    "鲁F",
    "鲁G",
    "鲁H",
    "鲁J",
    "鲁K",
    "鲁L",
    "鲁M",
    "鲁N",
    "鲁Q",
    "鲁R",
    "鲁S",
    "鲁U",
    "鲁V",
]
NEIGHBOURS = ["冀D", "冀E", "冀A", "豫J", "豫A", "豫N", "晋E", "晋A", "苏C", "皖L"]
FAR = ["京A", "津A", "沪A", "浙A", "粤B", "川A", "陕A", "辽B", "黑A", "蒙A", "湘A", "鄂A", "闽D"]
BODY_COLOURS = [
    "A",
    "J",
    "B",
    "H",
    "E",
    "A",
    "J",
    "A",
]  # GA 24.8: white, black, grey, blue, red (white/black common)
BRANDS = {
    "K": [
        ("大众", "朗逸"),
        ("丰田", "卡罗拉"),
        ("本田", "雅阁"),
        ("比亚迪", "秦"),
        ("吉利", "帝豪"),
        ("日产", "轩逸"),
    ],
    "K1": [("宇通", "ZK6122"), ("金龙", "XMQ6127"), ("中通", "LCK6127")],
    "K2": [("宇通", "ZK6809"), ("金旅", "XML6857")],
    "H": [("解放", "J6P"), ("东风", "天龙"), ("重汽", "豪沃"), ("陕汽", "德龙X3000"), ("福田", "欧曼")],
}
OPERATORS = ["聊城交运集团", "鲁西物流", "茌平顺达运输", "临清宏业货运", "冠县通达客运", "高唐远航物流"]


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One real vehicle and what the registry says of it."""

    plate_no: str
    plate_class: str
    plate_color: str
    kind: str  # the scenario's class name, e.g. heavy_truck
    vehicle_class: str  # GA 24.4 code
    use: str
    body_colour: str
    brand: str
    model: str
    operator: str | None
    registered: bool
    speed_kmh: float

    @property
    def key(self) -> str:
        return f"{self.plate_class}:{self.plate_no}"

    def registry_record(self) -> dict[str, Any]:
        out = asdict(self)
        del out["speed_kmh"], out["kind"]
        return out


class PlateOffice:
    """Issues consecutive serials per prefix (dense series)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next: dict[tuple[str, str], int] = {}

    def issue(self, prefix: str, *, nev: bool, emergency: bool = False) -> str:
        """The next plate of the office's series: ordinary (5 serial characters), small new-energy
        (energy letter, one serial character, 4 digits) or emergency (4 serial characters + 应急);
        each kind has its own series, so no plate is issued twice."""
        kind = "nev" if nev else "emergency" if emergency else "ordinary"
        counter = self._next.get((prefix, kind))
        if counter is None:  # somewhere inside the office's current series
            start, end = {"nev": (0, 300_000), "emergency": (34**3, 34**4 // 2)}.get(
                kind, (34**4, 34**5 // 2)
            )
            counter = self._rng.randrange(start, end)
        self._next[(prefix, kind)] = counter + 1
        if nev:
            return f"{prefix}{'DF'[counter % 2]}{SERIAL[(counter // 2) % 34]}{(counter // 68) % 10000:04d}"
        digits = []
        n = counter
        for _ in range(4 if emergency else 5):
            digits.append(SERIAL[n % 34])
            n //= 34
        serial = "".join(reversed(digits))
        return f"{prefix}{serial}应急" if emergency else prefix + serial


class Population:
    """Draws vehicles for trips; the same seed gives the same vehicles in the same order."""

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self._s = scenario
        self._rng = rng
        self._office = PlateOffice(rng)
        self._classes = list(scenario.traffic.classes.items())

    def class_weights(self, local_hour: int) -> list[float]:
        night = local_hour >= 22 or local_hour < 6
        return [spec.share * (spec.night_weight if night else 1.0) for _, spec in self._classes]

    def draw(self, local_hour: int) -> Vehicle:
        name, spec = self._rng.choices(self._classes, weights=self.class_weights(local_hour))[0]
        return self._make(name, spec)

    def _prefix(self) -> str:
        o = self._s.origins
        r = self._rng.random() * (o.local + o.shandong + o.neighbours + o.far)
        if r < o.local:
            return LOCAL_PREFIX
        if r < o.local + o.shandong:
            return self._rng.choice(SHANDONG)
        if r < o.local + o.shandong + o.neighbours:
            return self._rng.choice(NEIGHBOURS)
        return self._rng.choice(FAR)

    def _registered(self, prefix: str) -> bool:
        """Legitimately absent vehicles come from elsewhere (out-of-province, military, temporary
        plates registered at other offices): the local office's own plates are all in the registry,
        so a local plate it does not hold was never issued."""
        o = self._s.origins
        if prefix == LOCAL_PREFIX:
            return True
        elsewhere = 1 - o.local / (o.local + o.shandong + o.neighbours + o.far)
        return self._rng.random() >= min(1.0, o.absent_from_registry / max(elsewhere, 1e-9))

    def _make(self, name: str, spec: VehicleClassSpec) -> Vehicle:
        rng = self._rng
        emergency = spec.use == "应急救援"  # rescue vehicles carry 应急 plates of the local office
        nev = not emergency and spec.code.startswith("K3") and rng.random() < self._s.traffic.nev_share
        plate_class = "52" if nev else "99" if emergency else spec.plate_class
        colour = "green" if nev else {"01": "yellow", "02": "blue"}.get(plate_class, "white")
        prefix = LOCAL_PREFIX if emergency else self._prefix()
        plate = self._office.issue(prefix, nev=nev, emergency=emergency)
        brand_key = (
            "K1" if spec.code.startswith("K1") else "K2" if spec.code.startswith("K2") else spec.code[0]
        )
        brand, model = rng.choice(BRANDS.get(brand_key, BRANDS["K"]))
        speed = max(40.0, rng.gauss(spec.speed_mean_kmh, spec.speed_sd_kmh))
        return Vehicle(
            plate_no=plate,
            plate_class=plate_class,
            plate_color=colour,
            kind=name,
            vehicle_class=spec.code,
            use=spec.use,
            body_colour=rng.choice(BODY_COLOURS),
            brand=brand,
            model=model,
            operator=rng.choice(OPERATORS) if spec.commercial else None,
            registered=self._registered(prefix),
            speed_kmh=round(speed, 1),
        )
