"""Reading registry files: headers in Chinese, pinyin abbreviations or English; codes normalised;
every bad row reported with its row number and field. No database here."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from changan.engine.context import RegistryRecord
from changan.network import Network
from changan.registry.importer import (
    BODY_COLOURS,
    USE_CODES,
    ImportFormatError,
    Issue,
    RegistryFile,
    RowResult,
    detect_format,
    is_school_bus,
    normalise_mapping,
    normalise_row,
    parse_body_colour,
    parse_plate_class,
    parse_use,
    parse_vehicle_class,
    read_rows,
)
from changan.sim.output import write
from changan.sim.scenario import load_scenario
from changan.sim.world import simulate


def write_sim_output(out: Path) -> Path:
    """The simulator's own output (registry.jsonl and registry.parquet among it), for 15 minutes."""
    scenario = load_scenario("city-hour").model_copy(update={"duration_h": 0.25})
    write(simulate(scenario, Network.load_default(), 11), out, parquet=True)
    return out


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sim_output(tmp_path_factory.mktemp("sim"))


def read_all(path: Path, fmt: str | None = None, **kw: str) -> tuple[list[RowResult], RegistryFile]:
    with RegistryFile(path, fmt, **kw) as f:
        return list(read_rows(iter(f))), f


def records(results: list[RowResult]) -> list[RegistryRecord]:
    return [r.record for r in results if r.record is not None]


def errors(results: list[RowResult]) -> list[tuple[int, str]]:
    return [(i.row, i.field) for r in results for i in r.issues if i.severity == "error"]


TRUCK = RegistryRecord(
    vehicle_key="01:鲁P12345",
    plate_no="鲁P12345",
    plate_class="01",
    vehicle_class="H11",
    use="货运",
    body_colour="A",
    brand="解放",
    model="J6P",
    operator="聊城交运集团",
)


class TestHeaders:
    def test_chinese_headers(self, tmp_path: Path) -> None:
        path = tmp_path / "登记.csv"
        path.write_text(
            "号牌号码,号牌种类,车辆类型,使用性质,车身颜色,中文品牌,车辆型号,所有人,备注\n"
            "鲁P12345,01,H11,F,A,解放,J6P,聊城交运集团,无\n",
            encoding="utf-8",
        )
        results, f = read_all(path)
        assert records(results) == [TRUCK]
        assert f.ignored_columns == ["备注"]

    def test_english_headers_in_any_case_and_spacing(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.csv"
        path.write_text(
            "Plate No,PLATE_CLASS,vehicle-class,Use,Body Colour,Brand,Model,Operator\n"
            "鲁P12345,1,h11,货运,white,解放,J6P,聊城交运集团\n",
            encoding="utf-8",
        )
        results, _ = read_all(path)
        assert records(results) == [TRUCK]

    def test_traffic_database_abbreviations_tab_separated_gb18030(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.txt"
        path.write_bytes(
            "HPHM\tHPZL\tCLLX\tSYXZ\tCSYS\tCLPP1\tCLXH\tSYR\n鲁P12345\t01\t重型普通货车\tF\t白色\t解放\tJ6P\t聊城交运集团\n".encode(
                "gb18030"
            )
        )
        results, _ = read_all(path)
        assert records(results) == [TRUCK]

    def test_utf8_bom_and_semicolons(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.csv"
        path.write_text("号牌号码;号牌种类;使用性质\n蓝鲁P·12345;小型汽车;B\n", encoding="utf-8-sig")
        results, _ = read_all(path)
        assert records(results) == [
            RegistryRecord(vehicle_key="02:鲁P12345", plate_no="鲁P12345", plate_class="02", use="公路客运")
        ]

    @pytest.mark.parametrize(
        ("header", "reason"),
        [
            ("号牌种类,使用性质", "号牌号码"),
            ("号牌号码,使用性质", "号牌种类"),
            ("号牌号码,HPHM,号牌种类", "都表示"),
        ],
    )
    def test_a_table_must_name_plate_and_class_once(self, tmp_path: Path, header: str, reason: str) -> None:
        path = tmp_path / "reg.csv"
        path.write_text(header + "\n", encoding="utf-8")
        with pytest.raises(ImportFormatError, match=reason) as info:
            RegistryFile(path)
        assert info.value.field == "header"


class TestBadRows:
    def test_each_bad_row_is_reported_with_its_line_and_field(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.csv"
        path.write_text(
            "号牌号码,号牌种类,车身颜色,使用性质,车辆类型\n"
            "鲁P12345,02,A,A,K33\n"  # line 2: fine
            "苏A7K3I9,02,A,A,K33\n"  # line 3: I is not a serial character
            "鲁P12346,77,A,A,K33\n"  # line 4: no such plate class
            ",02,A,A,K33\n"  # line 5: empty plate
            "\n"  # line 6: blank, skipped
            "鲁P1-345,,A,A,K33\n"  # line 7: partial plate and empty class
            '"鲁P12347",02,紫红,Y,大卡车\n'  # line 8: three warnings, row kept
            "鲁P12348,02,A,A,K33,extra\n",  # line 9: more cells than the header
            encoding="utf-8",
        )
        results, _ = read_all(path)
        assert errors(results) == [
            (3, "plate_no"),
            (4, "plate_class"),
            (5, "plate_no"),
            (7, "plate_no"),
            (7, "plate_class"),
            (9, "row"),
        ]
        assert [r.row for r in results if r.record is not None] == [2, 8]
        kept = results[-2]
        assert kept.record == RegistryRecord(vehicle_key="02:鲁P12347", plate_no="鲁P12347", plate_class="02")
        assert [(i.field, i.severity, i.value) for i in kept.issues] == [
            ("vehicle_class", "warning", "大卡车"),
            ("use", "warning", "Y"),
            ("body_colour", "warning", "紫红"),
        ]
        by_row = {r.row: r.issues for r in results}
        assert by_row[3][0].reason.startswith("号牌号码无效")
        assert by_row[4][0].reason.startswith("号牌种类无效：'77'")
        assert by_row[5][0].reason == "号牌号码为空"

    def test_too_long_texts_are_dropped_with_a_warning(self) -> None:
        result = normalise_row(1, {"plate_no": "鲁P12345", "plate_class": "02", "operator": "运" * 129})
        assert result.record is not None and result.record.operator is None
        assert [(i.field, i.severity) for i in result.issues] == [("operator", "warning")]

    def test_unregistered_vehicles_of_the_simulator_are_rejected(self) -> None:
        result = normalise_row(4, {"plate_no": "鲁P12345", "plate_class": "02", "registered": False})
        assert result.record is None
        assert result.issues == (
            Issue(4, "registered", "该车标记为未登记（registered=false），不导入", "error", "False"),
        )

    def test_json_lines_with_broken_lines(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.jsonl"
        path.write_text(
            '{"plate_no": "鲁P12345", "plate_class": "02"}\n'
            "not json\n"
            "\n"
            '["鲁P12345"]\n'
            '{"HPHM": "鲁P12346", "plate_no": "鲁P12347", "plate_class": "02"}\n'
            '{"号牌号码": "鲁P12348", "号牌种类": 2, "extra": 1}\n',
            encoding="utf-8",
        )
        results, f = read_all(path)
        assert errors(results) == [(2, "row"), (4, "row"), (5, "plate_no")]
        assert [r.vehicle_key for r in records(results)] == ["02:鲁P12345", "02:鲁P12348"]
        assert f.ignored_columns == ["extra"]


class TestSimulatorOutput:
    """The simulator's registry.jsonl and registry.parquet import as they are."""

    def test_jsonl_and_parquet_give_the_same_records(self, sim_dir: Path) -> None:
        lines = [json.loads(x) for x in (sim_dir / "registry.jsonl").read_text(encoding="utf-8").splitlines()]
        from_jsonl, f = read_all(sim_dir / "registry.jsonl")
        from_parquet, g = read_all(sim_dir / "registry.parquet")
        assert errors(from_jsonl) == errors(from_parquet) == []
        assert not [i for r in from_jsonl for i in r.issues]
        assert records(from_jsonl) == records(from_parquet)
        assert len(records(from_jsonl)) == len(lines) > 100
        assert f.ignored_columns == g.ignored_columns == ["plate_color"]
        for line, rec in zip(lines, records(from_jsonl), strict=True):
            assert rec == RegistryRecord(
                vehicle_key=f"{line['plate_class']}:{line['plate_no']}",
                plate_no=line["plate_no"],
                plate_class=line["plate_class"],
                vehicle_class=line["vehicle_class"],
                use=line["use"],
                body_colour=line["body_colour"],
                brand=line["brand"],
                model=line["model"],
                operator=line["operator"],
            )
        assert g.unit == "rows" and g.total == len(lines)


class TestFormats:
    def test_excel_is_refused_with_advice(self) -> None:
        with pytest.raises(ImportFormatError, match="openpyxl") as info:
            detect_format("登记.xlsx")
        assert info.value.field == "format"

    def test_unknown_suffix(self) -> None:
        with pytest.raises(ImportFormatError, match="扩展名"):
            detect_format("registry.dbf")

    def test_json_array(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.json"
        path.write_text(json.dumps([{"plate_no": "鲁P12345", "plate_class": "01"}, {"plate_no": ""}]))
        results, _ = read_all(path)
        assert errors(results) == [(2, "plate_no"), (2, "plate_class")]

    def test_parquet_with_chinese_headers_and_integer_classes(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.parquet"
        con = duckdb.connect()
        con.execute(
            f"COPY (SELECT * FROM (VALUES ('鲁P12345', 1, 'F'), ('鲁P1234', 2, 'A')) "
            f"AS t(号牌号码, 号牌种类, 使用性质)) TO '{path}' (FORMAT PARQUET)"
        )
        con.close()
        results, _ = read_all(path)
        assert [r.vehicle_key for r in records(results)] == ["01:鲁P12345"]
        assert errors(results) == [(2, "plate_no")]

    def test_not_a_parquet_file(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.parquet"
        path.write_text("plate_no,plate_class\n")
        with pytest.raises(ImportFormatError, match="Parquet"):
            RegistryFile(path)

    def test_wrong_encoding_is_named(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.csv"
        path.write_bytes("号牌号码,号牌种类\n鲁P12345,02\n".encode("gb18030"))
        with pytest.raises(ImportFormatError) as info, RegistryFile(path, encoding="utf-8") as f:
            list(f)
        assert info.value.field == "encoding"

    def test_progress_reaches_the_file_size(self, tmp_path: Path) -> None:
        path = tmp_path / "reg.csv"
        path.write_text("号牌号码,号牌种类\n" + "".join(f"鲁P{10000 + i},02\n" for i in range(5000)))
        with RegistryFile(path) as f:
            assert f.unit == "bytes"
            assert sum(1 for _ in f) == 5000
            assert f.done() == f.total == path.stat().st_size


class TestCodes:
    def test_use_codes(self) -> None:
        assert {c: parse_use(c) for c in "ABFRE"} == {
            "A": "非营运",
            "B": "公路客运",
            "F": "货运",
            "R": "危化品运输",
            "E": "旅游客运",
        }
        assert parse_use("b") == "公路客运"
        assert parse_use("工程抢险") == "工程救险"
        assert parse_use("校车") == "校车"  # a name is kept as written
        assert parse_use("Y") is None
        assert len(USE_CODES) == 22

    def test_school_buses(self) -> None:
        assert [is_school_bus(parse_use(c)) for c in "OPQSA"] == [True, True, True, True, False]
        assert is_school_bus("校车") and not is_school_bus(None)

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("A", "A"),
            ("j", "J"),
            ("AJ", "AJ"),
            ("白", "A"),
            ("黑色", "J"),
            ("Grey", "B"),
            ("蓝", "H"),
            ("X", None),
        ],
    )
    def test_body_colours(self, text: str, code: str | None) -> None:
        assert parse_body_colour(text) == code

    def test_the_simulators_colours_are_ga_24_8_codes(self) -> None:
        from changan.sim.population import BODY_COLOURS as SIM

        assert {BODY_COLOURS[c] for c in SIM} == {"白", "黑", "灰", "蓝", "红"}

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("K33", "K33"),
            ("k11", "K11"),
            ("H1A", "H1A"),
            ("重型半挂牵引车", "Q11"),
            ("中型厢式货车", "H22"),
            ("轻型自卸货车", "H37"),
            ("小型轿车", "K33"),
            ("大卡车", None),
            ("K3", None),
        ],
    )
    def test_vehicle_classes(self, text: str, code: str | None) -> None:
        assert parse_vehicle_class(text) == code

    @pytest.mark.parametrize(
        ("text", "code"),
        [("02", "02"), ("2", "02"), ("小型汽车", "02"), ("大型汽车号牌", "01"), ("77", None)],
    )
    def test_plate_classes(self, text: str, code: str | None) -> None:
        found = parse_plate_class(text)
        assert (found.value if found else None) == code

    def test_a_mapping_as_a_remote_service_sends_it(self) -> None:
        result = normalise_mapping({"号牌号码": "鲁P12345", "HPZL": "01", "使用性质": "F", "CSYS": "A"})
        assert result.record == RegistryRecord(
            vehicle_key="01:鲁P12345", plate_no="鲁P12345", plate_class="01", use="货运", body_colour="A"
        )
        clash = normalise_mapping({"号牌号码": "鲁P12345", "plate_no": "鲁P12346", "plate_class": "01"})
        assert clash.record is None and [i.field for i in clash.issues] == ["plate_no"]
