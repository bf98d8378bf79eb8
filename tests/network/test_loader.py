"""Loading and validating network files: every bad file names the field path and the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import changan.network
from changan.network import Network, NetworkError, VehicleGroup

Mutate = Callable[[dict[str, Any]], None]


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _load_mutated(small_path: Path, tmp_path: Path, mutate: Mutate) -> NetworkError:
    data = yaml.safe_load(small_path.read_text(encoding="utf-8"))
    mutate(data)
    with pytest.raises(NetworkError) as info:
        Network.load(_write(tmp_path, data))
    return info.value


def _set(section: str, index: int, key: str, value: object) -> Mutate:
    def mutate(data: dict[str, Any]) -> None:
        data[section][index][key] = value

    return mutate


def _delete(section: str, index: int, key: str) -> Mutate:
    def mutate(data: dict[str, Any]) -> None:
        del data[section][index][key]

    return mutate


def _duplicate_node_id(data: dict[str, Any]) -> None:
    data["nodes"].append(dict(data["nodes"][1], name="重复"))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(
            _set("edges", 2, "to", "S1-K40"), 'edges[2].to: unknown node "S1-K40"', id="unknown-node"
        ),
        pytest.param(
            _duplicate_node_id, 'nodes[8].id: duplicate id "G1" (first at nodes[1])', id="duplicate-id"
        ),
        pytest.param(
            _set("edges", 0, "length_m", -5),
            "edges[0].length_m: Input should be greater than 0",
            id="negative",
        ),
        pytest.param(_delete("roads", 0, "name"), "roads[0].name: Field required", id="missing-field"),
        pytest.param(_delete("edges", 1, "from"), "edges[1].from: Field required", id="missing-from"),
        pytest.param(
            _set("nodes", 1, "kind", "tunnel"),
            "nodes[1].kind: Input should be 'interchange', 'hub', 'toll_station', 'service_area', 'gantry' or 'border'",
            id="unknown-kind",
        ),
        pytest.param(
            _set("nodes", 0, "colour", "red"), "nodes[0].colour: Extra inputs are not permitted", id="extra"
        ),
        pytest.param(_set("edges", 3, "road", "C"), 'edges[3].road: unknown road "C"', id="unknown-road"),
        pytest.param(
            _set("edges", 5, "road", "A"),
            'edges[5].road: road "A" is not listed in roads of node "I1"',
            id="off-road",
        ),
        pytest.param(
            _set("edges", 2, "limits_kmh", {"other": 110}),
            "edges[2].limits_kmh.other: 110 km/h is outside 5..100",
            id="limit-over-legal",
        ),
        pytest.param(
            _set("edges", 2, "limits_kmh", {"bus": 80}),
            "edges[2].limits_kmh.bus: Input should be 'small_passenger' or 'other'",
            id="unknown-group",
        ),
        pytest.param(
            _set("nodes", 4, "lat", 36.0), "nodes[4]: Value error, lat and lon", id="lat-without-lon"
        ),
        pytest.param(
            _set("nodes", 0, "neighbour", None),
            "nodes[0].neighbour: a border node must name the neighbouring prefecture",
            id="border-no-neighbour",
        ),
        pytest.param(
            _set("nodes", 0, "neighbour", "火星"),
            'nodes[0].neighbour: "火星" is not listed in neighbours',
            id="neighbour",
        ),
        pytest.param(
            _set("neighbours", 3, "expressway_crossing", True),
            "neighbours[3].expressway_crossing: True but no border node names it",
            id="crossing-flag",
        ),
        pytest.param(
            _set("roads", 0, "length_m", 56000),
            "roads[0].length_m: declared 56000 m but its edges add up to 55000 m",
            id="road-length",
        ),
        pytest.param(
            _set("stations", 0, "node", "G1"),
            'stations[0].node: "G1" is a gantry, not an interchange or toll station',
            id="station-at-gantry",
        ),
        pytest.param(
            _set("stations", 1, "jurisdiction", "3715"),
            "stations[1].jurisdiction: String should match pattern '^37\\d{6}$'",
            id="jurisdiction",
        ),
        pytest.param(
            _set("sites", 0, "heading", "Y"),
            'sites[0].heading: no carriageway from "G1" to "Y"',
            id="heading",
        ),
        pytest.param(
            _set("sites", 0, "kind", "toll_exit"),
            'sites[0].node: a toll_exit site needs a toll_station node, "G1" is a gantry',
            id="site-kind",
        ),
        pytest.param(
            _set("sites", 1, "id", "X"), 'sites[1].id: "X" is already a node id', id="site-id-clash"
        ),
        pytest.param(_set("edges", 0, "to", "X"), 'edges[0].to: segment from "X" to itself', id="self-loop"),
    ],
)
def test_bad_file_names_field_and_reason(
    small_path: Path, tmp_path: Path, mutate: Mutate, expected: str
) -> None:
    error = _load_mutated(small_path, tmp_path, mutate)
    assert expected in str(error)
    assert any(expected in problem for problem in error.problems)
    assert str(tmp_path / "net.yaml") in str(error)


def test_all_problems_are_reported(small_path: Path, tmp_path: Path) -> None:
    def two_problems(data: dict[str, Any]) -> None:
        data["edges"][2]["to"] = "NOPE"
        data["stations"][0]["node"] = "NOWHERE"

    error = _load_mutated(small_path, tmp_path, two_problems)
    assert 'edges[2].to: unknown node "NOPE"' in error.problems
    assert 'stations[0].node: unknown node "NOWHERE"' in error.problems


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("format_version: 1\nname: a\nname: b\n", encoding="utf-8")
    with pytest.raises(NetworkError, match="line 3: duplicate key 'name'"):
        Network.load(path)


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("roads: [\n", encoding="utf-8")
    with pytest.raises(NetworkError, match="invalid YAML"):
        Network.load(path)
    with pytest.raises(NetworkError, match="cannot read network file"):
        Network.load(tmp_path / "absent.yaml")


def test_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match=r"\(file\): Input should be a valid dictionary"):
        Network.load(_write_text(tmp_path, "- 1\n- 2\n"))


def _write_text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "text.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loaded_records(small: Network) -> None:
    assert small.name == "测试路网"
    assert list(small.roads) == ["A", "B"]
    assert small.roads["A"].length_m == 55000
    assert small.roads["B"].length_m == 20000
    assert small.nodes["H"].road_ids == ("A", "B")
    assert small.nodes["X"].neighbour == "西市"
    assert small.neighbours["北市"].province == "邻省"
    assert small.nodes["G2"].lat is None
    assert small.sites["g1e"].road_id == "A"
    assert small.stations["ST2"].node_id == "I1"
    # both carriageways of every segment
    assert len(small.edges) == 14


def test_limits_default_and_posted(small: Network) -> None:
    by_pair = {(e.from_node, e.to_node): e for e in small.edges}
    default = by_pair[("X", "G1")].limits_kmh
    assert default == {VehicleGroup.SMALL_PASSENGER: 120, VehicleGroup.OTHER: 100}
    posted = by_pair[("T1", "H")].limits_kmh
    assert posted == {VehicleGroup.SMALL_PASSENGER: 100, VehicleGroup.OTHER: 100}
    assert by_pair[("H", "T1")].limits_kmh == posted
    design_capped = by_pair[("H", "I1")].limits_kmh
    assert design_capped == {VehicleGroup.SMALL_PASSENGER: 80, VehicleGroup.OTHER: 80}


def test_one_way_segment(small_path: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(small_path.read_text(encoding="utf-8"))
    data["edges"][5]["one_way"] = True  # H -> I1 only
    network = Network.load(_write(tmp_path, data))
    assert len(network.edges) == 13
    assert network.distance_m("H", "I1") == 8000
    assert network.distance_m("I1", "H") is None
    assert network.roads["B"].length_m == 20000


def test_readme_example_loads(tmp_path: Path) -> None:
    readme = (Path(changan.network.__file__).parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    network = Network.load(_write_text(tmp_path, example))
    assert network.roads["G22"].length_m == 8550
    assert network.stations_downstream("G002237902120")[0].distance_m == 4500
    assert network.stations_downstream("G002237902110") == []
