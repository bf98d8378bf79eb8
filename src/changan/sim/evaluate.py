"""``changan evaluate``: how well the detectors find what the simulated world says is there.

The scenario is simulated, its passages are ingested through the real ingest
service in delivery order (the clock following the deliveries), 5 seconds of
deliveries at a time, and the engine runs after every batch, as in
production. The detections are then compared
with the ground truth. Definitions (also in the README):

- a **case** is one labelled event (a watchlisted vehicle's trip, one speeding
  passage…); it is **detectable** when at least one of its passages was read
  right and delivered;
- a detection is a **true positive** when it comes from the detector of the
  case's kind, names the case's vehicle key (or, for a plate the grammar
  refuses, which has no vehicle key, the case's plate), and its evidence
  contains one of the case's passages; every other detection of that
  detector is a **false positive**. Retracted detections do not count;
- **recall** = detectable cases found / detectable cases; **precision** = true
  positive detections / detections; **F1** their harmonic mean; **false
  positives per million** passages delivered;
- **dispatch lead time** = from a task's creation to the vehicle's true arrival
  at the task's station (tasks whose vehicle never gets there are counted
  apart), and the stop rate the interception model expects from those leads;
- **delay**: from the moment the decisive passage truly happened to the
  moment, on the replay's clock (which follows the deliveries), the detection
  was first written (provisional), and the moment it settled. It includes
  the delivery delay. Detections that settled only at the end of the input
  (the final flush) are counted apart, not given a settled delay;
- **speeding cases below the enforcement floor** (overspeed under the
  speeding detector's ``floor_pct``, 10 % by default: a warning, no fine) are
  counted apart, not as cases;
- rules that make no claim of an offence are not scored with their detector
  (``fake_plate/unregistered``: only absent from the registry;
  ``emergency_lane/breakdown``: a call for rescue); they are counted apart.
  Watchlist look-alike matches (``watchlist/lookalike``) are possible hits
  that someone confirms by eye: they are scored on their own, against every
  report of a watchlisted vehicle misread by look-alike characters.

Undetectable cases are counted apart (and how many were found anyway), never dropped.
Detectors are discovered from the detections written and the truth kinds, so a
new detector shows up here without changes to this module.
"""

from __future__ import annotations

import statistics
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from changan.alerts.models import Alert
from changan.auth.principal import SYSTEM
from changan.devices.service import active_sites, add_platform_key, authenticate_key, import_devices
from changan.dispatch.models import Task
from changan.engine.catalogue import build_detectors as engine_detectors
from changan.engine.catalogue import detector_names
from changan.engine.models import Detection
from changan.engine.runtime import Engine
from changan.ingest.service import prepare_native, store_batch
from changan.kit.clock import FakeClock
from changan.kit.migrate import upgrade
from changan.kit.settings import Settings
from changan.network import Network
from changan.passages.models import Passage
from changan.registry.importer import HeaderMap, map_mapping
from changan.registry.service import import_rows
from changan.sim.interception import stop_probability
from changan.sim.scenario import Scenario
from changan.sim.world import Outcome, Report, simulate
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import create_entry
from changan.web.context import AppContext

Progress = Callable[[str, float], None]
BATCH = 2000
WINDOW_S = 5.0


@dataclass
class DetectorScore:
    detector: str
    cases: int = 0
    detectable: int = 0
    found: int = 0
    undetectable_found: int = 0
    detections: int = 0
    true_detections: int = 0
    delays_s: list[float] = field(default_factory=list)
    settled_delays_s: list[float] = field(default_factory=list)
    settled_at_end: int = 0
    recall_by_class: dict[str, tuple[int, int]] = field(default_factory=dict)  # class -> (found, detectable)

    def to_dict(self, passages: int) -> dict[str, Any]:
        precision = self.true_detections / self.detections if self.detections else None
        recall = self.found / self.detectable if self.detectable else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall > 0
            else None
        )
        fp = self.detections - self.true_detections
        return {
            "detector": self.detector,
            "cases": self.cases,
            "detectable": self.detectable,
            "found": self.found,
            "undetectable": self.cases - self.detectable,
            "undetectable_found": self.undetectable_found,
            "detections": self.detections,
            "precision": _r(precision),
            "recall": _r(recall),
            "f1": _r(f1),
            "false_positives": fp,
            "false_positives_per_million": round(fp / passages * 1e6, 2) if passages else None,
            "delay_median_s": _r(statistics.median(self.delays_s)) if self.delays_s else None,
            "delay_p95_s": _r(_p95(self.delays_s)) if self.delays_s else None,
            "settled_delay_median_s": _r(statistics.median(self.settled_delays_s))
            if self.settled_delays_s
            else None,
            "settled_delay_p95_s": _r(_p95(self.settled_delays_s)) if self.settled_delays_s else None,
            "settled_at_end_of_input": self.settled_at_end,
            "recall_by_class": {
                k: _r(f / d) if d else None for k, (f, d) in sorted(self.recall_by_class.items())
            },
            "has_detector": self.detections > 0 or self.detector in detector_names(),
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def run(
    scenario: Scenario,
    network: Network,
    seed: int,
    *,
    progress: Progress | None = None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    outcome = simulate(
        scenario, network, seed, progress=(lambda f: progress("模拟", f)) if progress else None
    )
    with tempfile.TemporaryDirectory(prefix="changan-eval-") as tmp:
        base = workdir or Path(tmp)
        url = f"sqlite:///{base}/evaluate.db"
        upgrade(url)
        clock = FakeClock(scenario.start)
        ctx = AppContext.build(Settings(database_url=url, var_dir=base), clock, network)
        key = _setup(ctx, outcome)
        load_registry(ctx, outcome)
        _replay(ctx, outcome, key, clock, progress)
        floor = next(
            (
                float(getattr(getattr(d, "config", None), "floor_pct", 0.0))
                for d in engine_detectors()
                if d.name == "speeding"
            ),
            0.0,
        )
        result = _score(ctx, outcome, speeding_floor_pct=floor)
        result["dispatch"] = _dispatch(ctx, outcome)
        ctx.db.dispose()
    return result


def load_registry(ctx: AppContext, outcome: Outcome) -> int:
    """The simulated registry into the database, through the registry import (as an operator would
    import the 机动车登记 export); returns the vehicles stored."""
    cache: dict[tuple[str, ...], HeaderMap] = {}
    rows = (
        map_mapping(n + 1, v.registry_record(), cache)
        for n, v in enumerate(v for v in outcome.vehicles if v.registered)
    )
    report = import_rows(ctx.uow, SYSTEM, rows, source="simulator", fmt="jsonl", clock=ctx.clock)
    return report.inserted + report.updated + report.unchanged


def _setup(ctx: AppContext, outcome: Outcome) -> str:
    now = ctx.clock()
    with ctx.uow() as session:
        rows: list[dict[str, object]] = [
            {"device_id": d.device_id, "site_id": d.site_id} for d in outcome.devices.values()
        ]
        _added, _known, errors = import_devices(session, SYSTEM, ctx.network, rows, now=now)
        if errors:
            msg = f"simulated devices do not fit the network: {errors[0]}"
            raise RuntimeError(msg)
        for entry in outcome.watchlist:
            create_entry(session, SYSTEM, EntryCreate.model_validate(entry), now=now)
        return add_platform_key(session, SYSTEM, name="evaluate", now=now)


def _replay(
    ctx: AppContext, outcome: Outcome, secret: str, clock: FakeClock, progress: Progress | None
) -> None:
    with ctx.reader() as session:
        key = authenticate_key(session, secret)
    engine = Engine(ctx.factory, ctx.network, clock=clock)
    reports = outcome.reports
    for i, j in _windows(reports):
        chunk = reports[i:j]
        clock.set(chunk[-1].received_at)
        body = orjson.dumps({"passages": [r.item for r in chunk]})
        with ctx.reader() as reader:
            batch = prepare_native(
                key,
                body,
                content_type="application/json",
                devices=partial(active_sites, reader),
                network=ctx.network,
                images=ctx.images,
                limits=ctx.ingest_limits,
                now=clock(),
            )
        with ctx.uow() as session:
            store_batch(session, batch, now=clock())
        engine.run_until_idle()
        if progress is not None:
            progress("回放与检测", j / len(reports))
    engine.flush()


def _windows(reports: list[Report]) -> list[tuple[int, int]]:
    """Delivery windows of WINDOW_S seconds (at most BATCH reports each): the engine runs after each,
    so the measured delays carry at most a window's worth of batching."""
    out = []
    i = 0
    while i < len(reports):
        end = reports[i].received_at + timedelta(seconds=WINDOW_S)
        j = i + 1
        while j < len(reports) and j - i < BATCH and reports[j].received_at < end:
            j += 1
        out.append((i, j))
        i = j
    return out


def _dispatch(ctx: AppContext, outcome: Outcome) -> dict[str, Any]:
    """Lead time at the chosen station: from the task to the vehicle's true arrival there.

    A task whose vehicle never reaches the station (it left the network first,
    or turned off) counts as not reached; the expected stop rate applies the
    scenario's interception model to every task (0 for those not reached).
    """
    with ctx.reader() as session:
        rows = session.execute(
            select(Task.station_id, Task.created_at, Alert.vehicle_key).join(Alert, Alert.id == Task.alert_id)
        ).all()
    leads: list[float] = []
    not_reached = 0
    for station_id, created_at, key in rows:
        node = ctx.network.stations[station_id].node_id
        arrivals = [t for n, t in outcome.node_times.get(key, []) if n == node and t >= created_at]
        if arrivals:
            leads.append((min(arrivals) - created_at).total_seconds())
        else:
            not_reached += 1
    spec = outcome.scenario.interception
    return {
        "tasks": len(rows),
        "reached": len(leads),
        "not_reached": not_reached,
        "lead_median_s": _r(statistics.median(leads)) if leads else None,
        "lead_p10_s": _r(sorted(leads)[len(leads) // 10]) if leads else None,
        "lead_at_least_5min_share": _r(sum(1 for x in leads if x >= 300) / len(rows)) if rows else None,
        "expected_stop_rate": _r(sum(stop_probability(spec, x) for x in leads) / len(rows)) if rows else None,
    }


NOT_A_CLAIM = {("fake_plate", "unregistered")}
# rules that answer a truth kind of their own (a breakdown is an incident to rescue, not an offence)
RULE_KINDS = {("emergency_lane", "breakdown"): "breakdown"}
LOOKALIKE = ("watchlist", "lookalike")


def _overspeed_pct(case: dict[str, Any]) -> float:
    return float((case["speed_kmh"] - case["limit_kmh"]) / case["limit_kmh"] * 100)


def _score(ctx: AppContext, outcome: Outcome, *, speeding_floor_pct: float = 0.0) -> dict[str, Any]:
    true_time = {r.item["external_id"]: r.true_time for r in outcome.reports}
    with ctx.reader() as session:
        seq_to_ext = dict(session.execute(select(Passage.seq, Passage.external_id)).tuples().all())
        detections = list(session.scalars(select(Detection).where(Detection.status != "retracted")))
    pid_of = {seq: int(ext.lstrip("p").rstrip("d")) for seq, ext in seq_to_ext.items()}
    end_of_input = max((r.item["pass_time"] for r in outcome.reports), default=None)
    cases_by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    apart: Counter[str] = Counter()
    for case in outcome.truth:
        if case["kind"] == "speeding" and _overspeed_pct(case) < speeding_floor_pct:
            apart["speeding_below_floor"] += 1
            continue
        cases_by_kind[case["kind"]].append(case)
    dets_by_detector: dict[str, list[Detection]] = defaultdict(list)
    lookalikes: list[Detection] = []
    for d in detections:
        if (d.detector, d.rule) in NOT_A_CLAIM:
            apart[f"{d.detector}/{d.rule}"] += 1
        elif (d.detector, d.rule) in RULE_KINDS:
            dets_by_detector[RULE_KINDS[d.detector, d.rule]].append(d)
        elif (d.detector, d.rule) == LOOKALIKE:
            lookalikes.append(d)
        else:
            dets_by_detector[d.detector].append(d)
    last_event = datetime.fromisoformat(end_of_input) if end_of_input else None

    scores = []
    for name in sorted(set(cases_by_kind) | set(dets_by_detector) | set(detector_names())):
        score = DetectorScore(name)
        cases = cases_by_kind.get(name, [])
        index: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for case in cases:
            for pid in case["passages"]:
                index[pid].append(case)
        found: dict[str, tuple[float, float | None]] = {}  # case → (provisional, settled) delays
        for d in dets_by_detector.get(name, []):
            score.detections += 1
            hit = next(
                (
                    c
                    for seq in d.evidence
                    for c in index.get(pid_of.get(seq, -1), ())
                    if c["vehicle_key"] == d.vehicle_key or c["plate_no"] == d.plate_no
                ),
                None,
            )
            if hit is None:
                continue
            score.true_detections += 1
            decisive = true_time.get(seq_to_ext.get(d.evidence[-1], ""), d.event_time)
            provisional = (d.created_at - decisive).total_seconds()
            settled = (
                (d.settled_at - decisive).total_seconds()
                if d.settled_at is not None
                and d.settled_upto is not None
                and last_event is not None
                and d.settled_upto <= last_event
                else None
            )
            old = found.get(hit["case"])
            if old is not None:
                provisional = min(provisional, old[0])
                if old[1] is not None:
                    settled = old[1] if settled is None else min(settled, old[1])
            found[hit["case"]] = (provisional, settled)
        score.delays_s = [p for p, _ in found.values()]
        score.settled_delays_s = [s for _, s in found.values() if s is not None]
        score.settled_at_end = sum(1 for _, s in found.values() if s is None)
        by_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for case in cases:
            score.cases += 1
            if case["detectable"]:
                score.detectable += 1
                by_class[case["vehicle_kind"]][1] += 1
                if case["case"] in found:
                    score.found += 1
                    by_class[case["vehicle_kind"]][0] += 1
            elif case["case"] in found:
                score.undetectable_found += 1
        score.recall_by_class = {k: (v[0], v[1]) for k, v in by_class.items()}
        scores.append(score)
    passages = len(outcome.reports)
    return {
        "scenario": outcome.scenario.name,
        "seed": outcome.seed,
        "passages_delivered": passages,
        "true_passages": outcome.true_passages,
        "truth_cases": dict(sorted(Counter(c["kind"] for c in outcome.truth).items())),
        "detectors": [s.to_dict(passages) for s in scores],
        "lookalike": _lookalike(outcome, lookalikes, pid_of, passages),
        "not_scored": dict(sorted(apart.items())),
    }


def _lookalike(
    outcome: Outcome, detections: list[Detection], pid_of: dict[int, int], passages: int
) -> dict[str, Any]:
    """Possible hits: every report of a watchlisted vehicle misread by look-alike characters is a
    case; a possible hit is true when its evidence is such a report."""
    cases = {
        r.true_passage
        for r in outcome.reports
        if r.outcome in ("misread", "province_misread") and r.true_passage in outcome.watched_passages
    }
    found: set[int] = set()
    false = 0
    for d in detections:
        hit = {pid_of[s] for s in d.evidence if s in pid_of} & cases
        if hit:
            found.update(hit)
        else:
            false += 1
    return {
        "cases": len(cases),
        "found": len(found),
        "recall": _r(len(found) / len(cases)) if cases else None,
        "possible_hits": len(detections),
        "false_possible_hits": false,
        "false_per_100k_passages": round(false / passages * 1e5, 3) if passages else None,
    }
