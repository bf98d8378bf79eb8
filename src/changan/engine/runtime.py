"""The engine worker: the log in, the in-memory core, detections out, one transaction per step.

Each step takes the consumer row (locked), reads the next committed passages,
feeds them to the :class:`~changan.engine.core.Core`, and writes what changed:
new detections (ids derived from detector, version, rule, subject, vehicle key
and evidence refs, inserted with "on conflict do nothing"), detections that
settled or were retracted (status updates guarded by the current status),
the alerts and violation records the policy table asks for, outbox messages,
and the new log position; then it commits. Every so often the core's state is
saved in the same transaction, with the position it matches.

Recovery: on start the engine loads the last snapshot and replays the log
from the snapshot's position. The replay produces the same changes in the
same order, and every write is idempotent, so nothing is written twice and no
alert is pushed twice: exactly once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from changan.alerts.service import raise_alert, withdraw_alerts
from changan.dispatch.service import first_station_ahead, plan_task
from changan.engine.catalogue import build_context, build_detectors
from changan.engine.context import Registry
from changan.engine.core import Changes, Core
from changan.engine.detectors.base import Detector
from changan.engine.detectors.watchlist import SHARED as WATCHLIST
from changan.engine.detectors.watchlist import IndexedEntry, WatchlistIndex
from changan.engine.models import Detection, EngineSnapshot, EngineState
from changan.engine.sighting import Finding, Sighting, ref_of, utc
from changan.kit.clock import Clock, utc_now
from changan.kit.logging import get_logger
from changan.kit.metrics import ENGINE_ALERTS, ENGINE_DETECTIONS, ENGINE_PROCESSED
from changan.limits.index import LimitIndex
from changan.network import Network, vehicle_group
from changan.passages.log import LogPosition, position_of, read_after
from changan.passages.models import Passage
from changan.policy.service import Policy, PolicyTable, load_table, table_version
from changan.registry.lookup import MemoryRegistry
from changan.violations.service import record_violation
from changan.watchlist.models import WatchlistEntry

log = get_logger(__name__)

CONSUMER = "main"


@dataclass(frozen=True, slots=True)
class StepResult:
    processed: int
    detections: int
    alerts: int
    tasks: int
    settled: int = 0
    retracted: int = 0
    violations: int = 0


def sighting_of(p: Passage) -> Sighting:
    return Sighting(
        seq=p.seq,
        ref=ref_of(p.source, p.external_id),
        t=p.pass_time.timestamp(),
        vehicle_key=p.vehicle_key,
        plate_no=p.plate_no,
        plate_class=p.plate_class,
        plate_kind=p.plate_kind,
        site_id=p.site_id,
        device_id=p.device_id,
        vehicle_class=p.vehicle_class,
        vehicle_color=p.vehicle_color,
        vehicle_brand=p.vehicle_brand,
        lane_no=p.lane_no,
        speed_kmh=p.speed_kmh,
        plate_confidence=p.plate_confidence,
    )


class Engine:
    def __init__(
        self,
        factory: sessionmaker[Session],
        network: Network,
        *,
        clock: Clock = utc_now,
        batch_size: int = 2000,
        default_jurisdiction: str = "37",
        lateness_s: float = 600.0,
        snapshot_every_s: float = 300.0,
        detectors: Sequence[Detector] | None = None,
        detectors_config: dict[str, dict[str, Any]] | None = None,
        registry: Registry | None = None,
        reference_every_s: float = 30.0,
    ) -> None:
        """``registry``: a remote lookup (behind its cache) instead of the local table."""
        self._factory = factory
        self._network = network
        self._clock = clock
        self._batch_size = batch_size
        self._default_jurisdiction = default_jurisdiction
        self._snapshot_every_s = snapshot_every_s
        self._detectors = list(detectors) if detectors is not None else build_detectors(detectors_config)
        self._lateness_s = lateness_s
        self.ctx = build_context(network, self._detectors, lateness_s=lateness_s)
        for d in self._detectors:  # configuration that needs the network is checked at start
            check = getattr(d, "sections", None)
            if callable(check):
                check(self.ctx)
        self.core = Core(self._detectors, self.ctx, lateness_s=lateness_s)
        self._pos: LogPosition | None = None  # where the core stands; None until recovered
        self._last_snapshot = time.monotonic()
        self._versions: dict[str, tuple[Any, ...]] = {}
        self._policy = PolicyTable([])
        self._remote_registry = registry
        self._reference_every_s = reference_every_s
        self._reference_checked = float("-inf")

    # -- the loop -----------------------------------------------------------------
    def run(self, stop: threading.Event, *, idle_wait_s: float = 0.2) -> None:
        log.info("engine.started", consumer=CONSUMER, detectors=[d.name for d in self._detectors])
        while not stop.is_set():
            try:
                result = self.step()
            except Exception as exc:
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

    def flush(self) -> StepResult:
        """End of input (evaluation, tests): move event time past everything, settle all, write it."""
        self.core.finish()
        return self.step(force_snapshot=True)

    # -- one transaction -------------------------------------------------------------
    def step(self, *, force_snapshot: bool = False) -> StepResult:
        session = self._factory()
        try:
            result = self._step(session, force_snapshot)
            session.commit()
        except BaseException:
            session.rollback()
            self._pos = None  # memory may be ahead of the rolled-back transaction: recover again
            raise
        finally:
            session.close()
        if result.processed or result.detections or result.settled:
            ENGINE_PROCESSED.inc(result.processed)
            ENGINE_ALERTS.inc(result.alerts)
            ENGINE_DETECTIONS.inc(result.detections)
            log.info(
                "engine.step",
                processed=result.processed,
                detections=result.detections,
                settled=result.settled,
                retracted=result.retracted,
                alerts=result.alerts,
                tasks=result.tasks,
                violations=result.violations,
            )
        return result

    def _step(self, session: Session, force_snapshot: bool) -> StepResult:
        now = self._clock()
        state = self._consumer(session, now)
        if self._pos is None:
            self._recover(session, state)
        assert self._pos is not None
        self._refresh_reference(session)
        passages = read_after(session, self._pos, self._batch_size)
        for p in passages:
            self.core.process(sighting_of(p))
        changes = self.core.drain()
        result = self._write(session, changes, len(passages), now)
        if passages:
            self._pos = position_of(passages[-1])
            if (self._pos.xid, self._pos.seq) > (state.xid, state.seq):
                state.processed += len(passages)
                state.xid, state.seq = self._pos.xid, self._pos.seq
            state.updated_at = now
        due = time.monotonic() - self._last_snapshot >= self._snapshot_every_s
        if force_snapshot or (due and passages):
            self._save_snapshot(session, now)
        return result

    def _consumer(self, session: Session, now: datetime) -> EngineState:
        state = session.get(EngineState, CONSUMER, with_for_update=True)
        if state is None:
            state = EngineState(name=CONSUMER, xid=0, seq=0, processed=0, updated_at=now)
            session.add(state)
            session.flush()
        return state

    # -- recovery ----------------------------------------------------------------------
    def _recover(self, session: Session, state: EngineState) -> None:
        # fresh shared models and reference data: memory may hold what a rolled-back step did
        self.ctx = build_context(self._network, self._detectors, lateness_s=self._lateness_s)
        self._versions.clear()
        self._reference_checked = float("-inf")
        self.core = Core(self._detectors, self.ctx, lateness_s=self._lateness_s)
        snap = session.get(EngineSnapshot, CONSUMER)
        if snap is not None and self.core.restore(snap.state):
            self._pos = LogPosition(snap.xid, snap.seq)
            log.info("engine.recovered", snapshot_seq=snap.seq, committed_seq=state.seq)
            return
        if snap is not None:
            log.warning("engine.snapshot_incompatible", snapshot_seq=snap.seq)
        # no usable snapshot: start empty where the committed position stands
        self._pos = LogPosition(state.xid, state.seq)
        if state.seq:
            log.warning("engine.started_without_state", committed_seq=state.seq)

    def _save_snapshot(self, session: Session, now: datetime) -> None:
        assert self._pos is not None
        blob = self.core.snapshot()
        snap = session.get(EngineSnapshot, CONSUMER)
        if snap is None:
            session.add(
                EngineSnapshot(name=CONSUMER, xid=self._pos.xid, seq=self._pos.seq, state=blob, taken_at=now)
            )
        else:
            snap.xid, snap.seq, snap.state, snap.taken_at = self._pos.xid, self._pos.seq, blob, now
        self._last_snapshot = time.monotonic()
        log.info("engine.snapshot", seq=self._pos.seq, bytes=len(blob), vehicles=len(self.core.states))

    # -- reference data ----------------------------------------------------------------
    def _refresh_reference(self, session: Session) -> None:
        """Reload what changed: the watchlist and the policy every step (small tables; a revoked
        entry stops at once), the registry and the temporary limits at most every
        ``reference_every_s`` (a count over the registry costs tens of milliseconds)."""
        now = time.monotonic()
        if now - self._reference_checked >= self._reference_every_s:
            self._reference_checked = now
            if self._remote_registry is not None:
                self.ctx.registry = self._remote_registry
            else:
                registry_version = tuple(MemoryRegistry.version(session))
                if registry_version != self._versions.get("registry"):
                    self.ctx.registry = MemoryRegistry.load(session)
                    self._versions["registry"] = registry_version
            version = LimitIndex.version(session)
            if version != self._versions.get("limits"):
                self.ctx.limits = LimitIndex.load(session, self._network)
                self._versions["limits"] = version
        version = tuple(
            session.execute(
                select(func.count(), func.max(WatchlistEntry.updated_at)).where(
                    WatchlistEntry.status == "active"
                )
            ).one()
        )
        if version != self._versions.get("watchlist"):
            rows = session.scalars(select(WatchlistEntry).where(WatchlistEntry.status == "active"))
            index = WatchlistIndex(
                [
                    IndexedEntry(
                        id=e.id,
                        plate_no=e.plate_no,
                        plate_class=e.plate_class,
                        valid_from=e.valid_from,
                        valid_until=e.valid_until,
                        priority=e.priority,
                        reason=e.reason,
                        jurisdiction=e.jurisdiction,
                        match_mode=e.match_mode,
                    )
                    for e in rows
                ]
            )
            self.ctx.shared[WATCHLIST] = index
            self._versions["watchlist"] = version
            log.info("engine.watchlist_loaded", entries=index.size)
        version = table_version(session)
        if version != self._versions.get("policy"):
            self._policy = load_table(session)
            self._versions["policy"] = version

    # -- writing -------------------------------------------------------------------------
    def _write(self, session: Session, ch: Changes, processed: int, now: datetime) -> StepResult:
        if not ch:
            return StepResult(processed, 0, 0, 0)
        dialect = session.get_bind().dialect.name
        ins: Any = postgresql.insert(Detection) if dialect == "postgresql" else sqlite.insert(Detection)
        new_findings = {f.id: (f, False) for f in ch.provisional}
        for f in ch.settled_new:
            new_findings[f.id] = (f, True)
        created: set[str] = set()
        if new_findings:
            rows = [self._row(f, settled, ch, now) for f, settled in new_findings.values()]
            for chunk in _chunks(rows, 500):
                res = session.execute(
                    ins.values(chunk).on_conflict_do_nothing(index_elements=["id"]).returning(Detection.id)
                )
                created.update(res.scalars())
        settled_ids = list(ch.settled) + [
            fid for fid, (_, s) in new_findings.items() if s and fid not in created
        ]
        settled = 0
        by_stamp: dict[float, list[str]] = {}
        for fid in settled_ids:
            stamp = ch.seen.get("settled:" + fid, ch.seen.get(fid, self.core.max_seen))
            by_stamp.setdefault(stamp, []).append(fid)
        for stamp, ids in by_stamp.items():
            for chunk in _chunks(ids, 500):
                res = session.execute(
                    update(Detection)
                    .where(Detection.id.in_(chunk), Detection.status == "provisional")
                    .values(status="settled", settled_at=now, settled_upto=utc(min(stamp, 4e10)))
                    .returning(Detection.id)
                )
                settled += len(res.all())
        retracted = 0
        for chunk in _chunks(ch.retracted, 500):
            res = session.execute(
                update(Detection)
                .where(Detection.id.in_(chunk), Detection.status == "provisional")
                .values(status="retracted", retracted_at=now)
                .returning(Detection.id)
            )
            retracted += len(res.all())
        withdraw_alerts(session, list(ch.retracted), now=now)
        alerts = tasks = 0
        for fid in sorted(created):
            f, _ = new_findings[fid]
            a, t = self._alert(session, f, fid, now)
            alerts += a
            tasks += t
        violations = self._violations(
            session, [*settled_ids, *(i for i in created if new_findings[i][1])], now
        )
        return StepResult(processed, len(created), alerts, tasks, settled, retracted, violations)

    def _row(self, f: Finding, settled: bool, ch: Changes, now: datetime) -> dict[str, Any]:
        seen = ch.seen.get(f.id, self.core.max_seen)
        return {
            "id": f.id,
            "detector": f.detector,
            "version": f.version,
            "rule": f.rule,
            "subject": f.subject,
            "severity": f.severity,
            "vehicle_key": f.vehicle_key,
            "plate_no": f.plate_no,
            "evidence": [s.seq for s in f.evidence],
            "evidence_refs": [s.ref for s in f.evidence],
            "event_time": utc(f.at.t),
            "site_id": f.at.site_id,
            "thresholds": dict(f.thresholds),
            "payload": dict(f.payload),
            "status": "settled" if settled else "provisional",
            "created_at": now,
            "seen_upto": utc(min(seen, 4e10)),
            "settled_upto": utc(min(seen, 4e10)) if settled else None,
            "settled_at": now if settled else None,
            "retracted_at": None,
        }

    def _decide(
        self,
        detector: str,
        rule: str,
        severity: str,
        vehicle_key: str,
        vehicle_class: str | None,
        payload: Mapping[str, Any],
    ) -> Policy:
        """The policy row for a detection: by detector, rule, severity, the vehicle's use (registry)
        and its group (key vehicle, small passenger car or other)."""
        record = self.ctx.registry.get(vehicle_key)
        use = record.use if record is not None else None
        if payload.get("key_vehicle"):
            group = "key"
        else:
            cls = vehicle_class or (record.vehicle_class if record is not None else None)
            group = vehicle_group(cls).value
        return self._policy.decide(detector, rule, severity, use, group)

    def _jurisdiction(self, site_id: str, vehicle_class: str | None, fallback: str | None) -> str:
        ahead = (
            first_station_ahead(self._network, site_id, vehicle_class)
            if site_id in self._network.sites
            else None
        )
        if ahead is not None:
            return ahead.station.jurisdiction
        return fallback or self._default_jurisdiction

    def _alert(self, session: Session, f: Finding, det_id: str, now: datetime) -> tuple[int, int]:
        policy = self._decide(f.detector, f.rule, f.severity, f.vehicle_key, f.at.vehicle_class, f.payload)
        if not policy.alerts:
            return 0, 0
        passage = session.get(Passage, f.at.seq)
        if passage is None:
            return 0, 0
        ahead = (
            first_station_ahead(self._network, f.at.site_id, f.at.vehicle_class)
            if f.at.site_id in self._network.sites
            else None
        )
        jurisdiction = (
            ahead.station.jurisdiction
            if ahead
            else str(f.payload.get("entry_jurisdiction") or self._default_jurisdiction)
        )
        alert = raise_alert(
            session,
            f,
            det_id,
            passage,
            title=policy.title,
            priority=policy.priority,
            jurisdiction=jurisdiction,
            now=now,
        )
        if alert is None:
            return 0, 0
        task = plan_task(session, alert, ahead, now=now)
        return 1, int(task is not None)

    def _violations(self, session: Session, ids: list[str], now: datetime) -> int:
        """Violation records for the detections that just settled, where the policy keeps them."""
        if not ids:
            return 0
        made = 0
        for chunk in _chunks(sorted(set(ids)), 500):
            for d in session.scalars(select(Detection).where(Detection.id.in_(chunk))):
                cls = d.payload.get("vehicle_class")
                policy = self._decide(d.detector, d.rule, d.severity, d.vehicle_key, cls, d.payload)
                if not policy.records_violation:
                    continue
                made += record_violation(
                    session,
                    detection_id=d.id,
                    detector=d.detector,
                    vehicle_key=d.vehicle_key,
                    plate_no=d.plate_no,
                    event_time=d.event_time,
                    site_id=d.site_id,
                    payload=d.payload,
                    jurisdiction=self._jurisdiction(d.site_id, None, None),
                    now=now,
                )
        return made


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    return [items[i : i + n] for i in range(0, len(items), n)]
