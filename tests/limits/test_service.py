"""Temporary speed limits: validation naming the field, roles, audit, and the index the engine reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from changan.auth.models import AuditRecord
from changan.auth.principal import Actor, Role
from changan.kit.clock import FakeClock
from changan.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from changan.limits import service
from changan.limits.index import LimitIndex
from changan.limits.models import SpeedLimit
from changan.limits.schemas import LimitCreate
from changan.network import Network
from changan.web.context import AppContext
from tests.conftest import T0

COMMANDER = Actor("u1", "cmd", frozenset({Role.COMMANDER}), "3715")
ADMIN = Actor("u2", "root", frozenset({Role.ADMIN}), "37")
OFFICER = Actor("u3", "off", frozenset({Role.OFFICER}), "371501")

# G0321 carriageway G03 → G04 → T02 (toll station) → G05
A = "G032137900510"  # at G0321-G03, heading G0321-G04
B = "G032137900610"  # at G0321-G04, heading G0321-T02
B_BACK = "G032137900620"  # at G0321-G04, heading back to G0321-G03 (the other carriageway)
EXIT_T02 = "G032137900712"  # toll exit at G0321-T02, heading G0321-G05
ENTRY_T02_BACK = "G032137900721"  # toll entry at G0321-T02, heading G0321-G04
C = "G032137900810"  # at G0321-G05, heading G0321-G06


def body(**kw: Any) -> LimitCreate:
    data: dict[str, Any] = {
        "road_id": "G0321",
        "from_node": "G0321-G03",
        "to_node": "G0321-T02",
        "limit_kmh": 80,
        "valid_from": T0 + timedelta(hours=1),
        "valid_until": T0 + timedelta(hours=3),
        "reason": "团雾",
    }
    data.update(kw)
    return LimitCreate(**data)


def create(ctx: AppContext, actor: Actor = COMMANDER, **kw: Any) -> SpeedLimit:
    with ctx.uow() as s:
        row = service.create_limit(s, actor, body(**kw), network=ctx.network, now=ctx.clock())
        s.expunge(row)
        return row


def ts(t: datetime) -> float:
    return t.timestamp()


class TestCreate:
    @pytest.mark.parametrize(
        ("kw", "field"),
        [
            ({"road_id": "G9999"}, "road_id"),
            ({"from_node": "nowhere"}, "from_node"),
            ({"from_node": "DL-G01"}, "from_node"),  # a node of another road
            ({"to_node": "S1-G02"}, "to_node"),
            ({"to_node": "G0321-G03"}, "to_node"),  # no stretch at all
            ({"valid_until": T0 + timedelta(hours=1)}, "valid_until"),
            ({"valid_until": T0 + timedelta(minutes=59)}, "valid_until"),
        ],
    )
    def test_errors_name_the_field(self, ctx: AppContext, kw: dict[str, Any], field: str) -> None:
        with pytest.raises(Unprocessable) as err:
            create(ctx, **kw)
        assert err.value.field == field

    def test_only_commanders_and_administrators_create(self, ctx: AppContext) -> None:
        with pytest.raises(Forbidden):
            create(ctx, OFFICER)
        assert create(ctx, ADMIN).created_by == "root"

    def test_is_audited_and_defaults_to_now(self, ctx: AppContext) -> None:
        row = create(ctx, valid_from=None, valid_until=None)
        assert (row.valid_from, row.valid_until, row.revoked_at, row.created_by) == (T0, None, None, "cmd")
        with ctx.factory() as s:
            rec = s.scalars(select(AuditRecord).where(AuditRecord.action == "speed_limit.create")).one()
        assert (rec.actor, rec.target, rec.detail["limit_kmh"]) == ("cmd", f"speed_limit:{row.id}", 80)


class TestListAndRevoke:
    def test_status_filters(self, ctx: AppContext) -> None:
        later = create(ctx)  # from T0 + 1 h
        now_ = create(ctx, valid_from=T0 - timedelta(hours=1), road_id="G0321")
        done = create(ctx, valid_from=T0 - timedelta(hours=2), valid_until=T0)
        with ctx.uow() as s:
            gone = service.create_limit(s, COMMANDER, body(valid_from=None), network=ctx.network, now=T0)
            service.revoke_limit(s, COMMANDER, gone.id, now=T0)
            gone_id = gone.id
        with ctx.factory() as s:

            def ids(status: Any) -> set[str]:
                return {r.id for r in service.list_limits(s, OFFICER, now=T0, status=status)}

            assert ids("scheduled") == {later.id}
            assert ids("active") == {now_.id}
            assert ids("expired") == {done.id}
            assert ids("revoked") == {gone_id}
            assert ids(None) == {later.id, now_.id, done.id, gone_id}
            assert service.list_limits(s, OFFICER, now=T0, road_id="S1") == []

    def test_revoke(self, ctx: AppContext) -> None:
        row = create(ctx)
        with ctx.uow() as s, pytest.raises(Forbidden):
            service.revoke_limit(s, OFFICER, row.id, now=T0)
        with ctx.uow() as s:
            revoked = service.revoke_limit(s, COMMANDER, row.id, now=T0 + timedelta(hours=2))
            assert revoked.revoked_at == T0 + timedelta(hours=2)
        with ctx.uow() as s, pytest.raises(Conflict):
            service.revoke_limit(s, COMMANDER, row.id, now=T0 + timedelta(hours=2))
        with ctx.uow() as s, pytest.raises(NotFound) as err:
            service.revoke_limit(s, COMMANDER, "nope", now=T0)
        assert err.value.field == "limit_id"
        expired = create(ctx, valid_until=T0 + timedelta(hours=2))
        with ctx.uow() as s, pytest.raises(Conflict):
            service.revoke_limit(s, COMMANDER, expired.id, now=T0 + timedelta(hours=2))
        with ctx.factory() as s:
            actions = s.scalars(select(AuditRecord.action).where(AuditRecord.actor == "cmd")).all()
        assert actions == ["speed_limit.create", "speed_limit.revoke", "speed_limit.create"]


class TestIndex:
    def test_sites_covered_along_the_stretch(self, ctx: AppContext) -> None:
        row = create(ctx)  # G0321-G03 → G0321-T02, 80 km/h, T0 + 1 h … T0 + 3 h
        with ctx.factory() as s:
            index = LimitIndex.load(s, ctx.network)
        t = ts(row.valid_from)
        assert index.limit_at(A, t) == 80  # at from_node, heading along the stretch
        assert index.limit_at(B, t) == 80
        assert index.limit_at(ENTRY_T02_BACK, t) is None  # the other carriageway
        assert index.limit_at(B_BACK, t) is None
        assert index.limit_at(EXIT_T02, t) is None  # at to_node: watches the segment beyond
        assert index.limit_at(C, t) is None

    def test_in_force_from_its_start_until_its_end(self, network: Network) -> None:
        row = SpeedLimit(
            id="L1",
            road_id="G0321",
            from_node="G0321-G03",
            to_node="G0321-G04",
            limit_kmh=60,
            valid_from=T0,
            valid_until=T0 + timedelta(hours=1),
            revoked_at=None,
        )
        index = LimitIndex([row], network)
        assert [index.limit_at(A, ts(T0) + dt) for dt in (-0.001, 0, 3599.999, 3600)] == [None, 60, 60, None]

    def test_revoked_stops_at_its_revocation_and_the_lowest_applies(self, network: Network) -> None:
        def row(n: int, kmh: int, **kw: Any) -> SpeedLimit:
            kw.setdefault("valid_until", None)
            kw.setdefault("revoked_at", None)
            return SpeedLimit(
                id=f"L{n}",
                road_id="G0321",
                from_node="G0321-G02",
                to_node="G0321-G05",
                limit_kmh=kmh,
                valid_from=T0,
                **kw,
            )

        index = LimitIndex(
            [row(1, 80), row(2, 60, revoked_at=T0 + timedelta(minutes=30)), row(3, 40, revoked_at=T0)],
            network,
        )
        assert index.size == 2  # revoked at its start: never in force
        assert index.limit_at(A, ts(T0) + 1799) == 60
        assert index.limit_at(A, ts(T0) + 1800) == 80
        t0 = ts(T0)
        assert index.limit_between("G0321-G03", "G0321-G04", t0 + 1700, t0 + 1900) == (60, 80)
        assert index.limit_between("G0321-G03", "G0321-G04", t0 - 100, t0 + 100) == (60, None)
        assert index.limit_between("G0321-G05", "G0321-G06", t0, t0 + 100) == (None, None)

    def test_the_reverse_direction_is_the_other_carriageway(self, ctx: AppContext) -> None:
        row = create(ctx, from_node="G0321-T02", to_node="G0321-G03")
        with ctx.factory() as s:
            index = LimitIndex.load(s, ctx.network)
        t = ts(row.valid_from)
        assert (index.limit_at(B_BACK, t), index.limit_at(ENTRY_T02_BACK, t)) == (80, 80)
        assert (index.limit_at(A, t), index.limit_at(B, t)) == (None, None)

    def test_an_unusable_stored_stretch_is_skipped(self, network: Network) -> None:
        bad = SpeedLimit(
            id="L1",
            road_id="S1",  # the nodes are on G0321: the network changed under it
            from_node="G0321-G03",
            to_node="G0321-G04",
            limit_kmh=60,
            valid_from=T0,
            valid_until=None,
            revoked_at=None,
        )
        assert LimitIndex([bad], network).size == 0

    def test_version_changes_on_create_and_revoke(self, ctx: AppContext, clock: FakeClock) -> None:
        with ctx.factory() as s:
            empty = LimitIndex.version(s)
        row = create(ctx)
        with ctx.factory() as s:
            created = LimitIndex.version(s)
        clock.advance(timedelta(minutes=1))
        with ctx.uow() as s:
            service.revoke_limit(s, COMMANDER, row.id, now=ctx.clock())
        with ctx.factory() as s:
            revoked = LimitIndex.version(s)
            index = LimitIndex.load(s, ctx.network)
        assert len({empty, created, revoked}) == 3
        assert index.limit_at(A, ts(row.valid_from)) is None  # revoked before it began
