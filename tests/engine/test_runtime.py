"""Ingest → engine → alert → task, end to end through the real HTTP ingest, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from changan.alerts.models import Alert
from changan.auth.principal import SYSTEM
from changan.devices.service import add_device
from changan.dispatch.models import Task
from changan.engine.models import Detection, EngineState
from changan.engine.runtime import Engine
from changan.network import Network
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import create_entry, revoke_entry
from changan.web.app import create_app
from changan.web.context import AppContext


def site_with_station(network: Network) -> str:
    for site_id in sorted(network.sites):
        if network.stations_downstream(site_id):
            return site_id
    raise AssertionError("no site with a station ahead")


def setup(ctx: AppContext) -> tuple[str, str]:
    site = site_with_station(ctx.network)
    with ctx.uow() as session:
        _, key = add_device(session, SYSTEM, ctx.network, device_id="cam-1", site_id=site, now=ctx.clock())
    return site, key


def watch(ctx: AppContext, plate: str, **kw: Any) -> str:
    with ctx.uow() as session:
        return create_entry(
            session, SYSTEM, EntryCreate(plate_no=plate, reason="盗抢", priority=90, **kw), now=ctx.clock()
        ).id


def ingest(ctx: AppContext, key: str, items: list[dict[str, Any]]) -> None:
    with TestClient(create_app(ctx, with_ui=False)) as client:
        r = client.post(
            "/api/v1/passages", json={"passages": items}, headers={"Authorization": f"Bearer {key}"}
        )
    assert r.status_code == 200, r.text


def item(ctx: AppContext, n: int, plate: str, plate_class: str = "02", **kw: Any) -> dict[str, Any]:
    return {
        "external_id": f"x{n}",
        "device_id": "cam-1",
        "pass_time": ctx.clock().isoformat(),
        "plate_no": plate,
        "plate_class": plate_class,
        "vehicle_class": "K33",
        **kw,
    }


class TestEndToEnd:
    def test_watchlisted_vehicle_gives_one_alert_and_one_task(self, ctx: AppContext) -> None:
        site, key = setup(ctx)
        entry_id = watch(ctx, "鲁P12345", plate_class="02")
        ingest(
            ctx, key, [item(ctx, 1, "鲁P54321"), item(ctx, 2, "蓝鲁P12345"), item(ctx, 3, "鲁P12345", "01")]
        )
        engine = Engine(ctx.factory, ctx.network, clock=ctx.clock)
        assert engine.run_until_idle() == 3
        with ctx.factory() as session:
            alert = session.scalars(select(Alert)).one()
            task = session.scalars(select(Task)).one()
            det = session.scalars(select(Detection)).one()
            state = session.get(EngineState, "main")
        ahead = ctx.network.stations_downstream(site)[0]
        assert (alert.plate_no, alert.plate_class, alert.site_id, alert.entry_id) == (
            "鲁P12345",
            "02",
            site,
            entry_id,
        )
        assert alert.reason == "布控比中：盗抢"
        assert det.detector == "watchlist"
        assert det.version == 3
        assert det.vehicle_key == "02:鲁P12345"
        assert det.evidence == [alert.passage_seq]
        assert det.thresholds == {"match": "exact", "plate_class_required": True}
        assert (task.station_id, task.distance_m, task.status) == (
            ahead.station.id,
            ahead.distance_m,
            "pending",
        )
        assert task.eta_at == ctx.clock() + timedelta(seconds=ahead.free_flow_s)
        assert alert.jurisdiction == ahead.station.jurisdiction
        assert state is not None
        assert state.processed == 3
        # A second run finds nothing new: the position was committed with the detections.
        assert Engine(ctx.factory, ctx.network, clock=ctx.clock).run_until_idle() == 0

    def test_entry_without_class_matches_any_class(self, ctx: AppContext) -> None:
        _, key = setup(ctx)
        watch(ctx, "鲁P12345")
        ingest(ctx, key, [item(ctx, 1, "鲁P12345", "01"), item(ctx, 2, "鲁P12345", "02")])
        Engine(ctx.factory, ctx.network, clock=ctx.clock).run_until_idle()
        with ctx.factory() as session:
            assert sorted(a.plate_class for a in session.scalars(select(Alert))) == ["01", "02"]

    @pytest.mark.parametrize(
        ("start_s", "end_s", "hits"), [(-60, 60, 1), (10, None, 0), (-60, -1, 0), (0, 1, 1)]
    )
    def test_validity_window_in_event_time(
        self, ctx: AppContext, start_s: int, end_s: int | None, hits: int
    ) -> None:
        _, key = setup(ctx)
        now = ctx.clock()
        watch(
            ctx,
            "鲁P12345",
            valid_from=now + timedelta(seconds=start_s),
            valid_until=None if end_s is None else now + timedelta(seconds=end_s),
        )
        ingest(ctx, key, [item(ctx, 1, "鲁P12345")])
        Engine(ctx.factory, ctx.network, clock=ctx.clock).run_until_idle()
        with ctx.factory() as session:
            assert len(session.scalars(select(Alert)).all()) == hits

    def test_revoked_entry_stops_at_once(self, ctx: AppContext) -> None:
        _, key = setup(ctx)
        entry_id = watch(ctx, "鲁P12345")
        engine = Engine(ctx.factory, ctx.network, clock=ctx.clock)
        ingest(ctx, key, [item(ctx, 1, "鲁P12345")])
        engine.run_until_idle()
        with ctx.uow() as session:
            revoke_entry(session, SYSTEM, entry_id, now=ctx.clock())
        ingest(ctx, key, [item(ctx, 2, "鲁P12345")])
        engine.run_until_idle()
        with ctx.factory() as session:
            assert len(session.scalars(select(Alert)).all()) == 1

    def test_unplated_and_partial_reads_never_hit(self, ctx: AppContext) -> None:
        _, key = setup(ctx)
        watch(ctx, "鲁P12345")
        ingest(ctx, key, [item(ctx, 1, "无车牌"), item(ctx, 2, "鲁P1-345")])
        Engine(ctx.factory, ctx.network, clock=ctx.clock).run_until_idle()
        with ctx.factory() as session:
            # no watchlist hit; the unplated vehicle is an alert of its own (未悬挂号牌)
            assert [(a.kind, a.plate_no) for a in session.scalars(select(Alert))] == [
                ("fake_plate", "无车牌")
            ]
