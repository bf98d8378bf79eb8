"""The passage log reader never skips a passage whose transaction commits late."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from changan.engine.runtime import Engine
from changan.kit.db import make_engine, make_sessionmaker
from changan.network import Network
from changan.passages.log import LogPosition, insert_batch, read_after
from tests.conftest import T0, drop_pg_database, fresh_pg_database, passage_row, pg_server_url


@pytest.fixture
def pg_url() -> Iterator[str]:
    server = pg_server_url()
    if not server:
        pytest.skip("CHANGAN_TEST_DATABASE_URL not set")
    url, name = fresh_pg_database(server)
    yield url
    drop_pg_database(server, name)


@pytest.mark.postgres
class TestOutOfOrderCommitsOnPostgres:
    def test_late_commit_of_lower_seq_is_processed(self, pg_url: str, network: Network) -> None:
        site = sorted(network.sites)[0]
        db = make_engine(pg_url)
        factory = make_sessionmaker(db)
        a: Session = factory()
        b: Session = factory()
        try:
            insert_batch(a, [passage_row(1, site_id=site, pass_time=T0)])  # gets the lower seq, stays open
            insert_batch(b, [passage_row(2, site_id=site, pass_time=T0 + timedelta(seconds=1))])
            b.commit()  # the higher seq commits first

            engine = Engine(factory, network, clock=lambda: T0)
            assert engine.run_until_idle() == 0  # must wait for the transaction in flight
            with factory() as s:
                assert read_after(s, LogPosition(), 10) == []

            a.commit()
            assert engine.run_until_idle() == 2
            with factory() as s:
                from changan.engine.models import EngineState

                state = s.get(EngineState, "main")
                assert state is not None
                assert state.processed == 2
        finally:
            a.close()
            b.close()
            db.dispose()

    def test_reverse_order_of_xid_and_seq(self, pg_url: str, network: Network) -> None:
        """A transaction that took its xid first but its seq second is still read exactly once."""
        site = sorted(network.sites)[0]
        db = make_engine(pg_url)
        factory = make_sessionmaker(db)
        a, b = factory(), factory()
        try:
            from sqlalchemy import text

            b.execute(text("SELECT pg_current_xact_id()"))  # b takes the older xid
            insert_batch(a, [passage_row(1, site_id=site, pass_time=T0)])  # a: lower seq, newer xid
            insert_batch(b, [passage_row(2, site_id=site, pass_time=T0)])
            a.commit()
            engine = Engine(factory, network, clock=lambda: T0)
            assert engine.run_until_idle() == 0
            b.commit()
            assert engine.run_until_idle() == 2
            assert engine.run_until_idle() == 0
        finally:
            a.close()
            b.close()
            db.dispose()


class TestReader:
    def test_reads_in_order_from_position(self, db_url: str, network: Network) -> None:
        site = sorted(network.sites)[0]
        db = make_engine(db_url)
        factory = make_sessionmaker(db)
        with factory() as s, s.begin():
            assert insert_batch(s, [passage_row(i, site_id=site, pass_time=T0) for i in range(5)]) == 5
            assert insert_batch(s, [passage_row(i, site_id=site, pass_time=T0) for i in range(3, 7)]) == 2
        with factory() as s:
            first = read_after(s, LogPosition(), 4)
            assert [p.external_id for p in first] == ["r0", "r1", "r2", "r3"]
            last = first[-1]
            rest = read_after(s, LogPosition(last.xid or 0, last.seq), 10)
            assert [p.external_id for p in rest] == ["r4", "r5", "r6"]
        db.dispose()
