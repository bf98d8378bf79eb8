"""The engine worker: one loop, one stop signal, bounded waits.

Each step is one transaction: take the consumer row (locked), read the next
committed passages, run the detectors against per-vehicle state, write the
detections (ids derived from detector, version, vehicle key and evidence, so a
replay rewrites nothing), the alerts and tasks they lead to, the outbox
messages, the touched vehicle states and the new log position, then commit.
A crash anywhere before the commit leaves the previous position and state in
place, and the replay after restart produces the same rows: exactly once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from changan.alerts.service import raise_alert
from changan.dispatch.service import first_station_ahead, plan_task
from changan.engine.detectors import watchlist as watchlist_detector
from changan.engine.models import Detection, EngineState, VehicleStateRow
from changan.engine.state import Finding, Sighting, VehicleState
from changan.kit.clock import Clock, utc_now
from changan.kit.ids import derived_id
from changan.kit.logging import get_logger
from changan.kit.metrics import ENGINE_ALERTS, ENGINE_DETECTIONS, ENGINE_PROCESSED
from changan.network import Network
from changan.passages.log import LogPosition, position_of, read_after
from changan.passages.models import Passage
from changan.watchlist.models import WatchlistEntry

log = get_logger(__name__)

CONSUMER = "main"


@dataclass(frozen=True, slots=True)
class StepResult:
    processed: int
    detections: int
    alerts: int
    tasks: int


class Engine:
    def __init__(
        self,
        factory: sessionmaker[Session],
        network: Network,
        *,
        clock: Clock = utc_now,
        batch_size: int = 2000,
        default_jurisdiction: str = "37",
    ) -> None:
        self._factory = factory
        self._network = network
        self._clock = clock
        self._batch_size = batch_size
        self._default_jurisdiction = default_jurisdiction
        self._states: dict[str, VehicleState] = {}
        self._index = watchlist_detector.WatchlistIndex([])
        self._index_version: tuple[Any, ...] | None = None

    # -- the loop -----------------------------------------------------------------
    def run(self, stop: threading.Event, *, idle_wait_s: float = 0.2) -> None:
        log.info("engine.started", consumer=CONSUMER)
        while not stop.is_set():
            try:
                result = self.step()
            except Exception as exc:
                self._states.clear()  # memory may be ahead of the rolled-back transaction
                log.error("engine.step_failed", error=str(exc), error_type=type(exc).__name__)
                stop.wait(min(5.0, idle_wait_s * 10))
                continue
            if result.processed == 0:
                stop.wait(idle_wait_s)
        log.info("engine.stopped", consumer=CONSUMER)

    def run_until_idle(self) -> int:
        """Process everything committed so far (tests, benchmarks); returns the passages processed."""
        total = 0
        while (n := self.step().processed) > 0:
            total += n
        return total

    # -- one transaction -------------------------------------------------------------
    def step(self) -> StepResult:
        session = self._factory()
        try:
            result = self._step(session)
            session.commit()
        except BaseException:
            session.rollback()
            self._states.clear()
            raise
        finally:
            session.close()
        if result.processed:
            ENGINE_PROCESSED.inc(result.processed)
            ENGINE_ALERTS.inc(result.alerts)
            ENGINE_DETECTIONS.inc(result.detections)
            log.info(
                "engine.step",
                processed=result.processed,
                detections=result.detections,
                alerts=result.alerts,
                tasks=result.tasks,
            )
        return result

    def _step(self, session: Session) -> StepResult:
        now = self._clock()
        state = self._consumer(session, now)
        self._refresh_index(session)
        passages = read_after(session, LogPosition(state.xid, state.seq), self._batch_size)
        if not passages:
            return StepResult(0, 0, 0, 0)
        touched: dict[str, VehicleState] = {}
        detections = alerts = tasks = 0
        for p in passages:
            sighting = Sighting.of(p)
            findings: list[Finding] = watchlist_detector.detect(sighting, self._index)
            if sighting.plate_valid:
                vs = touched.get(p.vehicle_key) or self._load_state(session, p.vehicle_key)
                vs.add(sighting)
                touched[p.vehicle_key] = vs
            for finding in findings:
                det_id, created = self._write_detection(session, finding, now)
                detections += created
                a, t = self._act(session, finding, det_id, p, now)
                alerts += a
                tasks += t
        self._save_states(session, touched, now)
        last = position_of(passages[-1])
        state.xid, state.seq = last.xid, last.seq
        state.processed += len(passages)
        state.updated_at = now
        return StepResult(len(passages), detections, alerts, tasks)

    def _consumer(self, session: Session, now: datetime) -> EngineState:
        state = session.get(EngineState, CONSUMER, with_for_update=True)
        if state is None:
            state = EngineState(name=CONSUMER, xid=0, seq=0, processed=0, updated_at=now)
            session.add(state)
            session.flush()
        return state

    def _refresh_index(self, session: Session) -> None:
        version = tuple(
            session.execute(
                select(func.count(), func.max(WatchlistEntry.updated_at)).where(
                    WatchlistEntry.status == "active"
                )
            ).one()
        )
        if version == self._index_version:
            return
        rows = session.scalars(select(WatchlistEntry).where(WatchlistEntry.status == "active"))
        self._index = watchlist_detector.WatchlistIndex(
            [
                watchlist_detector.IndexedEntry(
                    id=e.id,
                    plate_no=e.plate_no,
                    plate_class=e.plate_class,
                    valid_from=e.valid_from,
                    valid_until=e.valid_until,
                    priority=e.priority,
                    reason=e.reason,
                    jurisdiction=e.jurisdiction,
                )
                for e in rows
            ]
        )
        self._index_version = version
        log.info("engine.watchlist_loaded", entries=self._index.size)

    def _load_state(self, session: Session, key: str) -> VehicleState:
        cached = self._states.get(key)
        if cached is not None:
            return cached
        row = session.get(VehicleStateRow, key)
        return VehicleState.from_json(row.state) if row is not None else VehicleState()

    def _save_states(self, session: Session, touched: dict[str, VehicleState], now: datetime) -> None:
        if not touched:
            return
        rows = [{"vehicle_key": k, "state": v.to_json(), "updated_at": now} for k, v in touched.items()]
        dialect = session.get_bind().dialect.name
        ins: Any = (
            postgresql.insert(VehicleStateRow) if dialect == "postgresql" else sqlite.insert(VehicleStateRow)
        )
        stmt = ins.on_conflict_do_update(
            index_elements=["vehicle_key"],
            set_={"state": ins.excluded.state, "updated_at": ins.excluded.updated_at},
        )
        session.execute(stmt, rows)
        self._states.update(touched)
        if len(self._states) > 200_000:  # bound memory; the table keeps everything
            self._states.clear()

    def _write_detection(self, session: Session, f: Finding, now: datetime) -> tuple[str, int]:
        det_id = derived_id(f.detector, f.version, f.vehicle_key, *f.evidence, f.payload.get("entry_id", ""))
        values = {
            "id": det_id,
            "detector": f.detector,
            "version": f.version,
            "vehicle_key": f.vehicle_key,
            "plate_no": f.plate_no,
            "evidence": list(f.evidence),
            "event_time": f.event_time,
            "site_id": f.site_id,
            "thresholds": f.thresholds,
            "payload": f.payload,
            "status": "provisional",
            "created_at": now,
        }
        dialect = session.get_bind().dialect.name
        ins: Any = postgresql.insert(Detection) if dialect == "postgresql" else sqlite.insert(Detection)
        res = session.execute(
            ins.values(values).on_conflict_do_nothing(index_elements=["id"]).returning(Detection.id)
        )
        return det_id, len(res.all())

    def _act(self, session: Session, f: Finding, det_id: str, p: Passage, now: datetime) -> tuple[int, int]:
        ahead = first_station_ahead(self._network, p.site_id, p.vehicle_class)
        jurisdiction = (
            ahead.station.jurisdiction
            if ahead
            else str(f.payload.get("entry_jurisdiction") or self._default_jurisdiction)
        )
        alert = raise_alert(session, f, det_id, p, jurisdiction=jurisdiction, now=now)
        if alert is None:
            return 0, 0
        task = plan_task(session, alert, ahead, now=now)
        return 1, int(task is not None)
