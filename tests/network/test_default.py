"""The default Liaocheng network shipped as package data."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import changan.network
from changan.network import Network, Node, NodeKind, Road, SiteKind, Station, VehicleGroup
from changan.network.geojson import road_chains

DEFAULT_FILE = Path(changan.network.__file__).parent / "data" / "liaocheng.yaml"
LIAOCHENG_NODE_IDS = list(Network.load_default().nodes)

# The prefecture box 115°16′–116°32′E, 35°47′–37°02′N
LON_MIN, LON_MAX = 115 + 16 / 60, 116 + 32 / 60
LAT_MIN, LAT_MAX = 35 + 47 / 60, 37 + 2 / 60

# Gantry sites with no station ahead: each is the last site before a border on its carriageway.
LAST_BEFORE_BORDER = {
    "S000137900120",  # S1 01 往济南方向 -> 聊城—德州界
    "S000137902310",  # S1 11 往馆陶方向 -> 鲁冀界
    "G002037900120",  # G20 01 往济南方向 -> 聊城—德州界
    "G002037900710",  # G20 04 往石家庄方向 -> 聊城—德州界
    "G032137900120",  # G0321 01 往德州方向 -> 聊城—德州界
    "G032137902710",  # G0321 15 往范县方向 -> 鲁豫界
    "XDL0037900910",  # 东吕 05 往邢台方向 -> 鲁冀界
    "G002237900120",  # G22 01 往泰安方向 -> 东阿界
    "G002237902110",  # G22 11 往大名方向 -> 鲁冀界
}


def test_seven_roads_474_km(liaocheng: Network) -> None:
    assert [r.name for r in liaocheng.roads.values()] == [
        "济聊高速",
        "青银高速",
        "德上高速",
        "东吕高速（高唐—临清段）",
        "青兰高速",
        "莘南高速",
        "高东高速",
    ]
    assert abs(liaocheng.total_length_m() - 474_000) <= 1000


def test_lengths_from_sources(liaocheng: Network) -> None:
    assert liaocheng.roads["DL"].length_m == 47_600
    assert liaocheng.roads["G22"].length_m == 86_550
    assert liaocheng.roads["GD"].length_m == 76_754
    assert liaocheng.distance_m("hub-liaochengxi", "G0321-border-S") == 68_942
    assert {r.id for r in liaocheng.roads.values() if not r.estimated} == {"DL", "G22"}


def test_stations(liaocheng: Network) -> None:
    stations = list(liaocheng.stations.values())
    assert len(stations) == 22
    codes = [s.jurisdiction for s in stations]
    assert len(set(codes)) == 22
    for station in stations:
        assert liaocheng.nodes[station.node_id].kind in {NodeKind.INTERCHANGE, NodeKind.TOLL_STATION}
        assert re.fullmatch(r"3715\d{4}", station.jurisdiction)
        assert station.estimated
    per_road = dict.fromkeys(liaocheng.roads, 0)
    for station in stations:
        per_road[liaocheng.nodes[station.node_id].road_ids[0]] += 1
    assert min(per_road.values()) >= 1
    longest = max(liaocheng.roads.values(), key=lambda r: r.length_m)
    shortest = min(liaocheng.roads.values(), key=lambda r: r.length_m)
    assert per_road[longest.id] > per_road[shortest.id]


def test_every_station_reachable_from_every_node(liaocheng: Network) -> None:
    for node_id, station in itertools.product(liaocheng.nodes, liaocheng.stations.values()):
        assert liaocheng.distance_m(node_id, station.node_id) is not None, (node_id, station.id)


def test_facts_carry_sources_and_the_rest_is_estimated(liaocheng: Network) -> None:
    records: list[Road | Node | Station] = [*liaocheng.roads.values(), *liaocheng.nodes.values()]
    records += liaocheng.stations.values()
    for record in records:
        assert record.source is not None or record.estimated, record
    for edge in liaocheng.edges:
        assert edge.source is not None or edge.estimated
    # no position is known: every node is estimated, and only documented nodes carry a source
    assert all(node.estimated for node in liaocheng.nodes.values())
    assert all(site.estimated for site in liaocheng.sites.values())
    documented = {n.name for n in liaocheng.nodes.values() if n.source is not None}
    assert {"茌平收费站", "茌平西收费站", "聊城西枢纽", "张唐东枢纽", "莘南高速鲁豫界收费站"} <= documented
    assert all(n.source is None for n in liaocheng.nodes.values() if n.kind is NodeKind.GANTRY)


def test_gaodong_toll_stations_north_to_south(liaocheng: Network) -> None:
    names = ["高唐州", "高唐南", "茌平东", "高集", "东阿北", "陈集", "东阿东"]
    tolls = [n for n in liaocheng.nodes.values() if n.kind is NodeKind.TOLL_STATION and n.road_ids == ("GD",)]
    assert [n.name for n in sorted(tolls, key=lambda n: n.km or 0.0)] == [f"{name}收费站" for name in names]


def test_neighbours_at_border_nodes(liaocheng: Network) -> None:
    assert set(liaocheng.neighbours) == {"德州", "济南", "泰安", "济宁", "濮阳", "邯郸", "邢台"}
    assert {n.province for n in liaocheng.neighbours.values()} == {"山东", "河南", "河北"}
    at_borders = {n.neighbour for n in liaocheng.nodes.values() if n.kind is NodeKind.BORDER}
    crossing = {n.name for n in liaocheng.neighbours.values() if n.expressway_crossing}
    assert at_borders == crossing == {"德州", "济南", "濮阳", "邯郸", "邢台"}
    # no documented expressway leads into these two; the file says so explicitly
    assert {n.name for n in liaocheng.neighbours.values() if not n.expressway_crossing} == {"泰安", "济宁"}


def test_nodes_inside_the_prefecture_box(liaocheng: Network) -> None:
    for node in liaocheng.nodes.values():
        assert node.lat is not None and node.lon is not None
        assert LAT_MIN <= node.lat <= LAT_MAX, node.id
        assert LON_MIN <= node.lon <= LON_MAX, node.id


def test_chainage_matches_segment_lengths(liaocheng: Network) -> None:
    for edge in liaocheng.edges:
        a, b = liaocheng.nodes[edge.from_node], liaocheng.nodes[edge.to_node]
        if a.road_ids[0] == b.road_ids[0] == edge.road_id and a.km is not None and b.km is not None:
            assert abs(abs(b.km - a.km) * 1000 - edge.length_m) <= 1, edge


def test_gantries_every_5_to_15_km_with_a_site_per_direction(liaocheng: Network) -> None:
    for road in liaocheng.roads:
        (chain,) = road_chains(liaocheng, road)
        km, gantry_km = 0, []
        for a, b in itertools.pairwise(chain):
            km += next(e.length_m for e in liaocheng.edges_from(a) if e.to_node == b)
            if liaocheng.nodes[b].kind is NodeKind.GANTRY:
                gantry_km.append(km)
        gaps = [b - a for a, b in itertools.pairwise(gantry_km)]
        assert gantry_km and all(5000 <= g <= 15000 for g in gaps), (road, gaps)
    for node in liaocheng.nodes.values():
        sites = [s for s in liaocheng.sites.values() if s.node_id == node.id]
        if node.kind is NodeKind.GANTRY:
            assert sorted(s.kind for s in sites) == [SiteKind.GANTRY] * 2
            assert len({s.heading_node_id for s in sites}) == 2
        elif node.kind is NodeKind.TOLL_STATION:
            assert sorted(s.kind for s in sites) == sorted([SiteKind.TOLL_ENTRY, SiteKind.TOLL_EXIT] * 2)
    for site in liaocheng.sites.values():
        assert re.fullmatch(r"[A-Z0-9]{5}379\d{5}", site.id)


def test_station_ahead_of_every_gantry_site(liaocheng: Network) -> None:
    empty = set()
    for site in liaocheng.sites.values():
        if site.kind is not SiteKind.GANTRY:
            continue
        if not liaocheng.stations_downstream(site.id):
            empty.add(site.id)
            assert liaocheng.sites_downstream(site.id) == []
            assert liaocheng.downstream(site.id)[-1][0].kind is NodeKind.BORDER
    assert empty == LAST_BEFORE_BORDER


def test_distance_symmetric_between_interchanges(liaocheng: Network) -> None:
    kinds = {NodeKind.INTERCHANGE, NodeKind.TOLL_STATION, NodeKind.HUB}
    points = [n.id for n in liaocheng.nodes.values() if n.kind in kinds]
    for a, b in itertools.combinations(points, 2):
        d = liaocheng.distance_m(a, b)
        assert d is not None
        assert d == liaocheng.distance_m(b, a), (a, b)


def test_limits(liaocheng: Network) -> None:
    dl = next(e for e in liaocheng.edges if e.road_id == "DL")
    assert dl.limits_kmh == {VehicleGroup.SMALL_PASSENGER: 100, VehicleGroup.OTHER: 100}
    g22 = next(e for e in liaocheng.edges if e.road_id == "G22")
    assert g22.limits_kmh == {VehicleGroup.SMALL_PASSENGER: 120, VehicleGroup.OTHER: 100}
    assert g22.lanes == 3


def test_default_is_cached_and_fast(liaocheng: Network) -> None:
    assert Network.load_default() is liaocheng
    fresh = Network.load(DEFAULT_FILE)
    start = time.perf_counter()
    for site in fresh.sites.values():
        fresh.stations_downstream(site.id, group=VehicleGroup.OTHER, max_m=80_000)
    assert time.perf_counter() - start < 2.0


def test_geojson(liaocheng: Network) -> None:
    features = liaocheng.to_geojson()["features"]
    roads = [f for f in features if f["properties"]["layer"] == "road"]
    assert len(roads) == 7
    assert all(f["geometry"]["type"] == "LineString" for f in roads)
    points = [f for f in features if f["properties"]["layer"] != "road"]
    assert len(points) == len(liaocheng.nodes) + len(liaocheng.stations) + len(liaocheng.sites)
    assert all(f["properties"]["estimated"] is True for f in points)


@settings(max_examples=150, deadline=None, database=None)
@given(
    st.sampled_from(LIAOCHENG_NODE_IDS),
    st.sampled_from(LIAOCHENG_NODE_IDS),
    st.sampled_from(LIAOCHENG_NODE_IDS),
)
def test_triangle_inequality_and_path_length(a: str, b: str, c: str) -> None:
    network = Network.load_default()
    ab, bc, ac = network.distance_m(a, b), network.distance_m(b, c), network.distance_m(a, c)
    assert ab is not None and bc is not None and ac is not None
    assert ac <= ab + bc
    path = network.path(a, c)
    assert path[0] == a and path[-1] == c
    length = sum(
        min(e.length_m for e in network.edges_from(x) if e.to_node == y) for x, y in itertools.pairwise(path)
    )
    assert length == ac


@pytest.mark.parametrize("site_id", sorted(LAST_BEFORE_BORDER))
def test_last_sites_face_a_border(liaocheng: Network, site_id: str) -> None:
    ahead = liaocheng.downstream(site_id)
    assert len(ahead) == 1
    assert ahead[0][0].kind is NodeKind.BORDER
