"""``changan evaluate``: how well the detectors find what the simulated world says is there.

The scenario is simulated, its passages are ingested through the real ingest
service in delivery order (the clock following the deliveries), and the engine
runs after every batch, as in production. The detections are then compared
with the ground truth. Definitions (also in the README):

- a **case** is one labelled event (a watchlisted vehicle's trip, one speeding
  passage…); it is **detectable** when at least one of its passages was read
  right and delivered;
- a detection is a **true positive** when it comes from the detector of the
  case's kind, names the case's vehicle key, and its evidence contains one of
  the case's passages; every other detection of that detector is a **false
  positive**;
- **recall** = detectable cases found / detectable cases; **precision** = true
  positive detections / detections; **F1** their harmonic mean; **false
  positives per million** passages delivered;
- **dispatch lead time** = from a task's creation to the vehicle's true arrival
  at the task's station (tasks whose vehicle never gets there are counted
  apart), and the stop rate the interception model expects from those leads;
- **delay** = from the event time of the first true passage in the evidence to
  the moment the detection was written (provisional). Settlement comes with
  the event-time engine; until then the settled delay is not reported.

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
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from changan.alerts.models import Alert
from changan.auth.principal import SYSTEM
from changan.devices.service import active_sites, add_platform_key, authenticate_key, import_devices
from changan.dispatch.models import Task
from changan.engine.models import Detection
from changan.engine.runtime import Engine
from changan.ingest.service import prepare_native, store_batch
from changan.kit.clock import FakeClock
from changan.kit.migrate import upgrade
from changan.kit.settings import Settings
from changan.network import Network
from changan.passages.models import Passage
from changan.sim.interception import stop_probability
from changan.sim.scenario import Scenario
from changan.sim.world import Outcome, simulate
from changan.watchlist.schemas import EntryCreate
from changan.watchlist.service import create_entry
from changan.web.context import AppContext

Progress = Callable[[str, float], None]
BATCH = 500


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
            "recall_by_class": {
                k: _r(f / d) if d else None for k, (f, d) in sorted(self.recall_by_class.items())
            },
            "has_detector": self.detections > 0 or self.detector in KNOWN_DETECTORS,
        }


KNOWN_DETECTORS = {"watchlist"}


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
        _replay(ctx, outcome, key, clock, progress)
        result = _score(ctx, outcome)
        result["dispatch"] = _dispatch(ctx, outcome)
        ctx.db.dispose()
    return result


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
    for i in range(0, len(reports), BATCH):
        chunk = reports[i : i + BATCH]
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
            progress("回放与检测", (i + len(chunk)) / len(reports))


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


def _score(ctx: AppContext, outcome: Outcome) -> dict[str, Any]:
    true_time = {r.item["external_id"]: r.true_time for r in outcome.reports}
    with ctx.reader() as session:
        seq_to_ext = dict(session.execute(select(Passage.seq, Passage.external_id)).tuples().all())
        detections = list(session.scalars(select(Detection)))
    pid_of = {seq: int(ext.lstrip("p").rstrip("d")) for seq, ext in seq_to_ext.items()}
    cases_by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in outcome.truth:
        cases_by_kind[case["kind"]].append(case)
    dets_by_detector: dict[str, list[Detection]] = defaultdict(list)
    for d in detections:
        dets_by_detector[d.detector].append(d)

    scores = []
    for name in sorted(set(cases_by_kind) | set(dets_by_detector) | KNOWN_DETECTORS):
        score = DetectorScore(name)
        cases = cases_by_kind.get(name, [])
        index: dict[tuple[str, int], dict[str, Any]] = {}
        for case in cases:
            for pid in case["passages"]:
                index[(case["vehicle_key"], pid)] = case
        found: dict[str, float] = {}  # case → the shortest delay of a detection that found it
        for d in dets_by_detector.get(name, []):
            score.detections += 1
            hit = next(
                (c for seq in d.evidence if (c := index.get((d.vehicle_key, pid_of.get(seq, -1))))), None
            )
            if hit is None:
                continue
            score.true_detections += 1
            first = min(true_time[seq_to_ext[s]] for s in d.evidence if s in seq_to_ext)
            delay = (d.created_at - first).total_seconds()
            found[hit["case"]] = min(delay, found.get(hit["case"], delay))
        score.delays_s = list(found.values())
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
    }
