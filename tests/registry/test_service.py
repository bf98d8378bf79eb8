"""Importing into the database (SQLite and PostgreSQL): upserts, idempotence, reports, the in-memory
registry and its change marker, and the identity of import then lookup."""

from __future__ import annotations

import csv
import json
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from changan.auth.models import AuditRecord
from changan.auth.principal import SYSTEM, Actor, Role
from changan.engine.context import RegistryRecord
from changan.kit.clock import FakeClock
from changan.kit.db import make_engine, make_sessionmaker, unit_of_work
from changan.kit.errors import Forbidden, Unprocessable
from changan.kit.migrate import upgrade
from changan.plates import PlateClass
from changan.plates.grammar import PROVINCES, SERIAL_CHARS
from changan.registry.importer import BODY_COLOURS, USE_CODES
from changan.registry.lookup import MemoryRegistry
from changan.registry.models import RegistryRow
from changan.registry.service import import_file
from changan.web.context import AppContext
from tests.registry.test_importer import write_sim_output


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sim_output(tmp_path_factory.mktemp("sim"))


ZH = ["号牌号码", "号牌种类", "车辆类型", "使用性质", "车身颜色", "品牌", "车辆型号", "所有人"]
EN = ["plate_no", "plate_class", "vehicle_class", "use", "body_colour", "brand", "model", "operator"]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)
    return path


def stored(ctx: AppContext) -> dict[str, RegistryRecord]:
    with ctx.reader() as session:
        return dict(MemoryRegistry.load(session)._by_key)


ROWS = [
    ["鲁P12345", "01", "H11", "F", "A", "解放", "J6P", "鲁西物流"],
    ["鲁PA1238", "02", "K33", "A", "J", "大众", "朗逸", ""],
    ["鲁PD12345", "52", "K33", "非营运", "H", "比亚迪", "秦", ""],
    ["鲁P2K301", "01", "K11", "B", "A", "宇通", "ZK6122", "冠县通达客运"],
]


class TestImport:
    def test_chinese_and_english_headers_give_the_same_table(self, ctx: AppContext, tmp_path: Path) -> None:
        zh = write_csv(tmp_path / "zh.csv", ZH, ROWS)
        report = import_file(ctx.uow, SYSTEM, zh, clock=ctx.clock, source="车管所导出")
        assert (report.rows, report.accepted, report.rejected, report.inserted) == (4, 4, 0, 4)
        first = stored(ctx)
        assert first["01:鲁P2K301"] == RegistryRecord(
            vehicle_key="01:鲁P2K301",
            plate_no="鲁P2K301",
            plate_class="01",
            vehicle_class="K11",
            use="公路客运",
            body_colour="A",
            brand="宇通",
            model="ZK6122",
            operator="冠县通达客运",
        )
        assert first["02:鲁PA1238"].operator is None
        en = write_csv(tmp_path / "en.csv", EN, ROWS)
        again = import_file(ctx.uow, SYSTEM, en, clock=ctx.clock)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
        assert stored(ctx) == first
        with ctx.reader() as session:
            sources = set(session.scalars(select(RegistryRow.source)))
        assert sources == {"车管所导出"}  # nothing was rewritten

    def test_reimport_is_idempotent_and_the_version_moves_only_on_change(
        self, ctx: AppContext, tmp_path: Path, clock: FakeClock
    ) -> None:
        path = write_csv(tmp_path / "reg.csv", ZH, ROWS)
        with ctx.reader() as session:
            assert MemoryRegistry.version(session) == (0, None)
        import_file(ctx.uow, SYSTEM, path, clock=ctx.clock)
        with ctx.reader() as session:
            loaded = MemoryRegistry.load(session)
            v1 = MemoryRegistry.version(session)
        assert v1 == (4, clock()) == loaded.loaded_version
        clock.advance(timedelta(hours=1))
        report = import_file(ctx.uow, SYSTEM, path, clock=ctx.clock)
        assert (report.inserted, report.updated, report.unchanged) == (0, 0, 4)
        with ctx.reader() as session:
            assert MemoryRegistry.version(session) == v1
            assert loaded.reload_if_changed(session) is loaded
        changed = [*ROWS[:3], [*ROWS[3][:3], "E", *ROWS[3][4:]]]  # the coach turns to tourism
        clock.advance(timedelta(hours=1))
        report = import_file(ctx.uow, SYSTEM, write_csv(tmp_path / "b.csv", ZH, changed), clock=ctx.clock)
        assert (report.inserted, report.updated, report.unchanged) == (0, 1, 3)
        with ctx.reader() as session:
            assert MemoryRegistry.version(session) == (4, clock())
            fresh = loaded.reload_if_changed(session)
        assert fresh is not loaded
        assert fresh.get("01:鲁P2K301") == RegistryRecord(
            "01:鲁P2K301", "鲁P2K301", "01", "K11", "旅游客运", "A", "宇通", "ZK6122", "冠县通达客运"
        )
        assert len(fresh) == 4 and "02:鲁PA1238" in fresh

    def test_bad_rows_are_reported_and_written_to_the_issue_file(
        self, ctx: AppContext, tmp_path: Path
    ) -> None:
        rows = [ROWS[0], ["苏A7K3I9", "02"], ["鲁P12346", "77"], ["", "02"], [*ROWS[1][:4], "紫红"]]
        path = write_csv(tmp_path / "reg.csv", ZH[:5], [r[:5] for r in rows])
        report = import_file(ctx.uow, SYSTEM, path, clock=ctx.clock)
        assert (report.rows, report.accepted, report.rejected, report.inserted) == (5, 2, 3, 2)
        assert [(i.row, i.field, i.severity) for i in report.issues] == [
            (3, "plate_no", "error"),
            (4, "plate_class", "error"),
            (5, "plate_no", "error"),
            (6, "body_colour", "warning"),
        ]
        report.write_issues(tmp_path / "issues.csv")
        lines = list(csv.reader((tmp_path / "issues.csv").read_text(encoding="utf-8-sig").splitlines()))
        assert lines[0] == ["row", "field", "severity", "reason", "value"]
        assert lines[2][:3] == ["4", "plate_class", "error"] and lines[2][4] == "77"
        assert set(stored(ctx)) == {"01:鲁P12345", "02:鲁PA1238"}

    def test_duplicates_in_a_file_keep_the_last_row_even_across_batches(
        self, ctx: AppContext, tmp_path: Path
    ) -> None:
        rows = [ROWS[0], [*ROWS[0][:3], "R"], ROWS[1], ROWS[2], [*ROWS[0][:3], "B"], [*ROWS[2][:3], "G"]]
        path = write_csv(tmp_path / "reg.csv", ZH[:4], [r[:4] for r in rows])
        report = import_file(ctx.uow, SYSTEM, path, clock=ctx.clock, batch_size=2)
        assert (report.accepted, report.duplicates) == (6, 3)
        assert [(i.row, i.field) for i in report.warnings] == [
            (3, "vehicle_key"),
            (6, "vehicle_key"),
            (7, "vehicle_key"),
        ]
        table = stored(ctx)
        assert (table["01:鲁P12345"].use, table["52:鲁PD12345"].use) == ("公路客运", "租赁")

    def test_only_an_administrator_imports_and_the_import_is_audited(
        self, ctx: AppContext, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "reg.csv", ZH, ROWS)
        analyst = Actor("u1", "an", frozenset({Role.ANALYST}), "3715")
        with pytest.raises(Forbidden):
            import_file(ctx.uow, analyst, path, clock=ctx.clock)
        import_file(ctx.uow, SYSTEM, path, clock=ctx.clock, source="sim")
        with ctx.reader() as session:
            audits = session.scalars(select(AuditRecord).where(AuditRecord.action == "registry.import")).all()
        assert [(a.actor, a.target, a.detail["accepted"], a.detail["inserted"]) for a in audits] == [
            ("system", "registry:sim", 4, 4)
        ]

    def test_a_file_that_cannot_be_read_names_the_field(self, ctx: AppContext, tmp_path: Path) -> None:
        path = tmp_path / "reg.csv"
        path.write_text("车牌颜色,品牌\n蓝,大众\n", encoding="utf-8")
        with pytest.raises(Unprocessable) as info:
            import_file(ctx.uow, SYSTEM, path, clock=ctx.clock)
        assert info.value.field == "header"

    @pytest.mark.parametrize("name", ["registry.jsonl", "registry.parquet"])
    def test_the_simulators_registry(self, ctx: AppContext, sim_dir: Path, name: str) -> None:
        lines = [json.loads(x) for x in (sim_dir / "registry.jsonl").read_text(encoding="utf-8").splitlines()]
        seen: list[tuple[int, int]] = []
        report = import_file(
            ctx.uow, SYSTEM, sim_dir / name, clock=ctx.clock, progress=lambda d, t: seen.append((d, t))
        )
        assert (report.accepted, report.rejected, report.issues) == (len(lines), 0, [])
        assert seen[-1][0] == seen[-1][1]
        table = stored(ctx)
        assert len(table) == len(lines)
        for line in lines:
            rec = table[f"{line['plate_class']}:{line['plate_no']}"]
            assert (rec.vehicle_class, rec.use, rec.body_colour, rec.brand, rec.model, rec.operator) == (
                line["vehicle_class"],
                line["use"],
                line["body_colour"],
                line["brand"],
                line["model"],
                line["operator"],
            )


# ----------------------------------------------------------------------------- identity (hypothesis)

_PLATES = st.builds(
    lambda p, a, s: p + a + s,
    st.sampled_from(PROVINCES),
    st.sampled_from(string.ascii_uppercase),
    st.text(SERIAL_CHARS, min_size=5, max_size=5),
)
_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=20
).filter(lambda t: t.strip() == t and t.lower() not in {"null", "none", "nan", "n/a"})


@st.composite
def _records(draw: st.DrawFn) -> RegistryRecord:
    plate_no = draw(_PLATES)
    plate_class = draw(st.sampled_from([c.value for c in PlateClass]))
    return RegistryRecord(
        vehicle_key=f"{plate_class}:{plate_no}",
        plate_no=plate_no,
        plate_class=plate_class,
        vehicle_class=draw(st.none() | st.from_regex(r"[A-Z][0-9][0-9A-Z]", fullmatch=True)),
        use=draw(st.none() | st.sampled_from([*sorted(set(USE_CODES.values())), "校车", "应急救援"])),
        body_colour=draw(st.none() | st.sampled_from(sorted(BODY_COLOURS))),
        brand=draw(st.none() | _TEXT),
        model=draw(st.none() | _TEXT),
        operator=draw(st.none() | _TEXT),
    )


@pytest.fixture(scope="module")
def sqlite_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hyp')}/registry.db"
    upgrade(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    recs=st.lists(_records(), min_size=1, max_size=30, unique_by=lambda r: r.vehicle_key),
    fmt=st.sampled_from(["csv-zh", "csv-en", "jsonl"]),
)
def test_import_then_lookup_is_the_identity(
    recs: list[RegistryRecord], fmt: str, sqlite_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    factory = sqlite_factory
    with unit_of_work(factory) as session:
        session.execute(delete(RegistryRow))
    fields = ["plate_no", "plate_class", "vehicle_class", "use", "body_colour", "brand", "model", "operator"]
    if fmt == "jsonl":
        path = tmp_path / "reg.jsonl"
        path.write_text(
            "".join(json.dumps({f: getattr(r, f) for f in fields}, ensure_ascii=False) + "\n" for r in recs),
            encoding="utf-8",
        )
    else:
        header = ZH if fmt == "csv-zh" else EN
        rows = [[getattr(r, f) or "" for f in fields] for r in recs]
        path = write_csv(tmp_path / "reg.csv", header, rows)
    clock = FakeClock(datetime(2026, 11, 29, tzinfo=UTC))
    report = import_file(lambda: unit_of_work(factory), SYSTEM, path, clock=clock, batch_size=7)
    assert (report.accepted, report.issues) == (len(recs), [])
    with factory() as session:
        registry = MemoryRegistry.load(session)
    assert len(registry) == len(recs)
    for r in recs:
        assert registry.get(r.vehicle_key) == r
