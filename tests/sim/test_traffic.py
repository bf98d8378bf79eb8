"""The traffic generator: deterministic, in pass-time order, and faithful to the network."""

from __future__ import annotations

from datetime import datetime, timedelta

from changan.network import Network
from changan.sim.traffic import TrafficSim, device_id_for
from tests.conftest import T0


def run(network: Network, seed: int, minutes: int = 30) -> list[dict[str, object]]:
    sim = TrafficSim(network, seed=seed, start=T0, vehicles_per_hour=2000)
    out: list[dict[str, object]] = []
    for m in range(1, minutes + 1):
        out.extend(sim.advance(T0 + timedelta(minutes=m)))
    return out


class TestTrafficSim:
    def test_deterministic_for_a_seed(self, network: Network) -> None:
        assert run(network, 3) == run(network, 3)
        assert run(network, 3) != run(network, 4)

    def test_events_come_in_pass_time_order_and_never_early(self, network: Network) -> None:
        sim = TrafficSim(network, seed=5, start=T0, vehicles_per_hour=3000)
        last = T0
        for m in range(1, 31):
            until = T0 + timedelta(minutes=m)
            for item in sim.advance(until):
                t = datetime.fromisoformat(str(item["pass_time"]))
                assert last <= t <= until
                last = t

    def test_a_trip_follows_the_network_at_its_speed(self, network: Network) -> None:
        sim = TrafficSim(network, seed=1, start=T0, vehicles_per_hour=0)
        vehicle = sim.new_vehicle()
        start = sorted(network.sites)[0]
        seen = sim.start_trip(vehicle, T0, entry_site=start)
        items = list(sim.advance(T0 + timedelta(hours=6)))
        assert len(items) == seen >= 2
        assert {i["plate_no"] for i in items} == {vehicle.plate_no}
        first, second = items[0], items[1]
        assert first["device_id"] == device_id_for(start)
        site2 = str(second["device_id"]).removesuffix("-C1")
        distance = network.distance_m(start, site2)
        assert distance is not None
        elapsed = (
            datetime.fromisoformat(str(second["pass_time"])) - datetime.fromisoformat(str(first["pass_time"]))
        ).total_seconds()
        assert abs(elapsed - distance / (vehicle.speed_kmh / 3.6)) < 1.0

    def test_plates_are_valid_and_unique(self, network: Network) -> None:
        from changan.plates import read_plate

        sim = TrafficSim(network, seed=9, start=T0)
        plates = [sim.new_vehicle().plate_no for _ in range(2000)]
        assert len(set(plates)) == 2000
        assert all(read_plate(p).valid for p in plates)


class TestPictures:
    def test_each_passage_carries_a_marked_svg(self, network: Network) -> None:
        import base64

        sim = TrafficSim(network, seed=2, start=T0, vehicles_per_hour=0, pictures=True)
        vehicle = sim.new_vehicle()
        sim.start_trip(vehicle, T0, entry_site=sorted(network.sites)[0])
        items = list(sim.advance(T0 + timedelta(hours=6)))
        svg = base64.b64decode(str(items[0]["images"][0]["data"]))  # type: ignore[index]
        assert svg.startswith(b"<svg")
        assert vehicle.plate_no.encode() in svg
        assert "模拟图像".encode() in svg
