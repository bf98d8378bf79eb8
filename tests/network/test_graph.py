"""Graph queries on the small hand-made network (tests/network/small_network.yaml), exact numbers."""

from __future__ import annotations

import pytest

from changan.network import Network, NetworkError, NodeKind, VehicleGroup, vehicle_group


def test_distance_and_path_between_nodes(small: Network) -> None:
    assert small.distance_m("X", "Y") == 55000
    assert small.distance_m("Y", "X") == 55000
    assert small.path("X", "Y") == ["X", "G1", "T1", "H", "G2", "Y"]
    assert small.distance_m("X", "Z") == 55000
    assert small.path("Z", "T1") == ["Z", "I1", "H", "T1"]
    assert small.distance_m("H", "H") == 0
    assert small.path("H", "H") == ["H"]


def test_site_starts_on_its_carriageway(small: Network) -> None:
    assert small.distance_m("g1e", "I1") == 33000
    assert small.path("g1e", "I1") == ["G1", "T1", "H", "I1"]
    # ends at a site's node
    assert small.distance_m("X", "g2e") == 50000
    assert small.distance_m("g1e", "g2w") == 40000
    # its own node is where it starts
    assert small.distance_m("g1e", "g1w") == 0


def test_turning_back_only_at_interchanges_and_toll_stations(small: Network) -> None:
    # eastbound at G1, target behind: turn at the toll station T1 (exit and re-enter)
    assert small.distance_m("g1e", "X") == 20000
    assert small.path("g1e", "X") == ["G1", "T1", "G1", "X"]
    # westbound at G2, target behind: no turn at the hub H, so turn at the interchange I1
    assert small.distance_m("g2w", "Y") == 51000
    assert small.path("g2w", "Y") == ["G2", "H", "I1", "H", "G2", "Y"]
    # heading for a border: no way back
    assert small.distance_m("g1w", "T1") is None
    assert small.distance_m("g2e", "T1") is None
    with pytest.raises(NetworkError, match='no path from "g1w" to "T1"'):
        small.path("g1w", "T1")


def test_unknown_ids(small: Network) -> None:
    with pytest.raises(NetworkError, match='unknown node or site "NOPE"'):
        small.distance_m("NOPE", "X")
    with pytest.raises(NetworkError, match='unknown node or site "NOPE"'):
        small.path("X", "NOPE")
    with pytest.raises(NetworkError, match='unknown site "X"'):
        small.downstream("X")
    with pytest.raises(NetworkError, match='unknown node "NOPE"'):
        small.edges_from("NOPE")
    with pytest.raises(NetworkError, match='unknown node "NOPE"'):
        small.travel_time_s(["NOPE"], VehicleGroup.OTHER)


def test_edges_from(small: Network) -> None:
    assert sorted((e.to_node, e.road_id, e.length_m) for e in small.edges_from("H")) == [
        ("G2", "A", 15000),
        ("I1", "B", 8000),
        ("T1", "A", 20000),
    ]


def test_downstream(small: Network) -> None:
    ahead = [(node.id, d) for node, d in small.downstream("g1e")]
    assert ahead == [("T1", 5000), ("H", 25000), ("I1", 33000), ("G2", 40000), ("Y", 45000), ("Z", 45000)]
    assert [(n.id, d) for n, d in small.downstream("g1e", max_m=30000)] == [("T1", 5000), ("H", 25000)]
    assert [(n.id, d) for n, d in small.downstream("g2e")] == [("Y", 5000)]
    assert small.downstream("g2e")[0][0].kind is NodeKind.BORDER


def test_stations_downstream(small: Network) -> None:
    ahead = small.stations_downstream("g1e")
    assert [(a.station.id, a.distance_m, a.path) for a in ahead] == [
        ("ST1", 5000, ("G1", "T1")),
        ("ST2", 33000, ("G1", "T1", "H", "I1")),
    ]
    # 5 km at 120 + 20 km at the posted 100 + 8 km at road B's 80
    assert ahead[0].free_flow_s == pytest.approx(150.0)
    assert ahead[1].free_flow_s == pytest.approx(150.0 + 720.0 + 360.0)
    other = small.stations_downstream("g1e", group=VehicleGroup.OTHER)
    assert [a.free_flow_s for a in other] == pytest.approx([180.0, 180.0 + 720.0 + 360.0])
    assert [a.station.id for a in small.stations_downstream("g1e", max_m=20000)] == ["ST1"]
    assert [(a.station.id, a.distance_m) for a in small.stations_downstream("g2w")] == [
        ("ST2", 23000),
        ("ST1", 35000),
    ]
    assert small.stations_downstream("g2e") == []


def test_sites_downstream_keep_the_carriageway(small: Network) -> None:
    assert [(s.id, d) for s, d in small.sites_downstream("g1e")] == [("t1-out-e", 5000), ("g2e", 40000)]
    assert [(s.id, d) for s, d in small.sites_downstream("g2w")] == [("t1-out-w", 35000), ("g1w", 40000)]
    assert [(s.id, d) for s, d in small.sites_downstream("g1e", max_m=10000)] == [("t1-out-e", 5000)]
    assert small.sites_downstream("g2e") == []


def test_travel_time(small: Network) -> None:
    assert small.travel_time_s(["X", "G1", "T1"], VehicleGroup.SMALL_PASSENGER) == pytest.approx(450.0)
    assert small.travel_time_s(["X", "G1", "T1"], VehicleGroup.OTHER) == pytest.approx(540.0)
    assert small.travel_time_s(["H"], VehicleGroup.OTHER) == 0.0
    with pytest.raises(NetworkError, match='no carriageway from "X" to "T1"'):
        small.travel_time_s(["X", "T1"], VehicleGroup.OTHER)


def test_total_length(small: Network) -> None:
    assert small.total_length_m() == 75000


def test_geojson(small: Network) -> None:
    collection = small.to_geojson()
    assert collection["type"] == "FeatureCollection"
    layers = [f["properties"]["layer"] for f in collection["features"]]
    assert layers.count("road") == 2
    assert layers.count("node") == 8
    assert layers.count("station") == 2
    assert layers.count("site") == 7
    road_a = next(
        f
        for f in collection["features"]
        if f["properties"]["layer"] == "road" and f["properties"]["id"] == "A"
    )
    assert road_a["properties"]["nodes"] == ["X", "G1", "T1", "H", "G2", "Y"]
    # G2 has no coordinates: left out of the line, and its point has no geometry
    assert road_a["geometry"]["coordinates"][0] == [115.0, 36.0]
    assert len(road_a["geometry"]["coordinates"]) == 5
    g2 = next(f for f in collection["features"] if f["properties"]["id"] == "G2")
    assert g2["geometry"] is None
    assert all("estimated" in f["properties"] for f in collection["features"])


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("K33", VehicleGroup.SMALL_PASSENGER),
        ("k31", VehicleGroup.SMALL_PASSENGER),
        (" K41 ", VehicleGroup.SMALL_PASSENGER),
        ("K3", VehicleGroup.SMALL_PASSENGER),
        ("K11", VehicleGroup.OTHER),
        ("K21", VehicleGroup.OTHER),
        ("H11", VehicleGroup.OTHER),
        ("H31", VehicleGroup.OTHER),
        ("Q11", VehicleGroup.OTHER),
        ("Z51", VehicleGroup.OTHER),
        ("M21", VehicleGroup.OTHER),
        (None, VehicleGroup.SMALL_PASSENGER),
        ("", VehicleGroup.SMALL_PASSENGER),
        ("小型轿车", VehicleGroup.SMALL_PASSENGER),
        ("??", VehicleGroup.SMALL_PASSENGER),
    ],
)
def test_vehicle_group(code: str | None, group: VehicleGroup) -> None:
    assert vehicle_group(code) is group


def test_vehicle_group_values() -> None:
    assert VehicleGroup.SMALL_PASSENGER.value == "small_passenger"
    assert VehicleGroup.OTHER.value == "other"
    assert [k.value for k in NodeKind] == [
        "interchange",
        "hub",
        "toll_station",
        "service_area",
        "gantry",
        "border",
    ]
