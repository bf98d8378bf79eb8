"""UTC datetimes round-trip on both backends; naive ones are refused; the audit chain shows tampering."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import StatementError

from changan.auth.audit import record, verify_chain
from changan.auth.models import AuditRecord
from changan.auth.principal import SYSTEM
from changan.web.context import AppContext


class TestUTCDateTime:
    def test_round_trip_is_aware_utc(self, ctx: AppContext) -> None:
        local = datetime(2026, 11, 29, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
        with ctx.uow() as session:
            record(session, SYSTEM, "test", "t", now=local)
        with ctx.factory() as session:
            at = session.scalars(select(AuditRecord.at)).one()
        assert at == local
        assert at.utcoffset() == timedelta(0)

    def test_naive_is_refused(self, ctx: AppContext) -> None:
        with pytest.raises(StatementError, match="naive"), ctx.uow() as session:
            record(session, SYSTEM, "test", "t", now=datetime(2026, 1, 1))  # noqa: DTZ001


class TestAuditChain:
    def test_tampering_shows(self, ctx: AppContext) -> None:
        with ctx.uow() as session:
            for i in range(3):
                record(session, SYSTEM, "watchlist.create", f"entry:{i}", now=ctx.clock(), purpose="p")
        with ctx.factory() as session:
            assert verify_chain(session) == (True, None)
        with ctx.uow() as session:
            second = session.scalars(select(AuditRecord.id).order_by(AuditRecord.id)).all()[1]
            session.execute(update(AuditRecord).where(AuditRecord.id == second).values(target="entry:99"))
        with ctx.factory() as session:
            assert verify_chain(session) == (False, second)
