"""Fake plates (假牌), missing and covered plates.

Using a forged or altered plate: 12 points (163号令 Art. 8(3)); plate
confiscated, vehicle detained, detention of up to 15 days and 2000–5000 yuan
(道交法 Art. 96 ¶1); on Shandong expressways detention of up to 15 days and
5000 yuan (鲁高速条例 Art. 54). No plate displayed, or a plate deliberately
covered or defaced: 9 points (163号令 Art. 9(4)), warning or 20–200 yuan
(道交法 Art. 95 ¶1, ¶2); on Shandong expressways warning or 200 yuan (鲁高速条例
Art. 51(5), (6)). Every finding here is an alert to check (``review_only``): a
camera read is a lead, the reviewer confirms it from the images.

Rules (``Finding.rule``):

* ``invalid_grammar``: the text breaks the GA 36 plate grammar (I or O in the
  serial …). A look-alike misread of a valid plate gives such texts too (the
  office letter read as a digit), so: a read the camera doubts (below
  ``min_plate_confidence``) never counts; a read of high confidence
  (``invalid_min_confidence``) stands on its own; any other (between the two,
  or without a confidence) needs the same text read, not doubtfully, at
  ``invalid_min_sites`` places within ``invalid_window_s`` (the shared model
  :class:`InvalidPlateReads`, ``ctx.shared["invalid_plates"]``, keyed by text;
  its judgement is rechecked when the anchor settles). And no registered plate
  of the same plate class may lie one look-alike character away with a class
  that fits (then it is a misread of that vehicle). Such reads have
  per-passage vehicle keys (``x:…``, see :mod:`changan.plates.key`), and so
  have the findings; the payload's ``plate_key`` (``<plate class>:<text as
  read>``) groups the reads of one plate.
* ``registry_conflict``: the plate is registered, but confident reads at
  ``attribute_min_sites`` places (``attribute_min_reads`` in all) show a vehicle
  class the camera cannot confuse with the registered one (a car's blue plate on
  a heavy truck); body colour and brand when enabled. A read explained by a
  look-alike neighbour that fits better is left out. Whether the plate was
  forged or taken from the registered vehicle is for the reviewer: the payload
  says whether a vehicle matching the registry was also seen (``套牌`` then).
* ``unissued``: a well-formed plate of a local issuing office
  (``local_prefixes``, default ``鲁P``) that the registry does not hold. The
  local registry is complete for local plates, so the plate was never issued.
  Temporary, military and embassy plates and temporary plate classes are out
  (``exempt_kinds``, ``exempt_plate_classes``), and so are local kinds outside
  ``unissued_kinds`` (trailer, coach, police plates …: other registers may hold
  them). Needs confident reads at ``confirm_min_sites`` places
  (``confirm_min_reads`` in all), or one read of high confidence
  (``unissued_single_read_confidence``), none of them explained by a
  registered look-alike neighbour (a misread of a densely issued plate lands
  next to the real one).
* ``unregistered``: absent from the registry and not local. A suspicion only:
  severity normal, ``review_only``, raised once per trail (when it is first
  confirmed). Never a fake-plate claim.
* ``no_plate``: the camera reports the vehicle carries no plate (``无车牌``).
* ``covered``: the camera saw a plate but could not read it (``unknown``):
  possibly covered or defaced (故意遮挡、污损), possibly dirt or glare, so severity
  normal. Off with ``report_unread``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import astuple
from typing import Any, ClassVar

from pydantic import Field

from changan.engine.clocks import DEFAULT_HISTORY_S
from changan.engine.context import Context, RegistryRecord, registry_loaded
from changan.engine.detectors.base import Detector, validate_config
from changan.engine.detectors.clone import (
    NOT_IDENTIFYING,
    PlateAttributes,
    Plates,
    confirmed_reads,
    node_of,
)
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState

NAME = "fake_plate"
INVALID_SHARED = "invalid_plates"  # the model's name in Context.shared

FAKE_BASIS = ["道交法 Art. 96 ¶1", "163号令 Art. 8(3)", "鲁高速条例 Art. 54"]
FAKE_PENALTY: dict[str, Any] = {
    "points": 12,
    "fine_yuan": 5000,  # Shandong expressways (鲁高速条例 Art. 54); nationally 2000–5000 (Art. 96 ¶1)
    "fine_yuan_range": [2000, 5000],
    "detention_days_max": 15,
}
NO_PLATE_BASIS = ["道交法 Art. 95 ¶1", "163号令 Art. 9(4)", "鲁高速条例 Art. 51(5)"]
COVERED_BASIS = ["道交法 Art. 95 ¶2", "163号令 Art. 9(4)", "鲁高速条例 Art. 51(6)"]
PLATE_PENALTY: dict[str, Any] = {"points": 9, "fine_yuan": 200, "fine_yuan_range": [20, 200]}


class FakePlateConfig(PlateAttributes):
    invalid_min_confidence: float = Field(
        default=95.0, ge=0, le=100, description="an invalid text read this confidently stands on its own"
    )
    invalid_min_sites: int = Field(
        default=2, ge=2, description="otherwise, places the same invalid text must be read at"
    )
    invalid_window_s: float = Field(default=3600.0, gt=0, description="… within this time")
    local_prefixes: list[str] = Field(
        default_factory=lambda: ["鲁P"], description="issuing offices whose plates the registry holds in full"
    )
    exempt_kinds: list[str] = Field(
        default_factory=lambda: ["temporary", "military", "embassy"],
        description="plate kinds legitimately absent from the registry: never unissued nor unregistered",
    )
    exempt_plate_classes: list[str] = Field(
        default_factory=lambda: ["20", "21", "22"],
        description="plate classes legitimately absent (临时入境, 临时行驶)",
    )
    unissued_kinds: list[str] = Field(
        default_factory=lambda: ["ordinary", "nev_small", "nev_large"],
        description="plate kinds an office issues into the local registry",
    )
    confirm_min_reads: int = Field(default=2, ge=1, description="confident reads an unissued plate needs")
    unissued_single_read_confidence: float | None = Field(
        default=95.0,
        ge=0,
        le=100,
        description="… or one read of at least this confidence (None: never one read alone)",
    )
    confirm_min_sites: int = Field(default=2, ge=1, description="… at this many places")
    confirm_window_s: float = Field(default=3 * 3600.0, gt=0, description="… within this time")
    report_unregistered: bool = Field(default=True, description="raise the unregistered suspicion")
    report_no_plate: bool = True
    report_unread: bool = Field(default=True, description="raise unread plates as possibly covered")


class InvalidPlateReads:
    """Reads of grammatically invalid plate texts, by text: a shared model across vehicles (each
    such read has its own vehicle key). Answers from reads before an event time only; keeps
    ``lateness_s`` plus ``window_s`` of history (``window_s`` at least the detector's
    ``invalid_window_s``)."""

    def __init__(
        self, ctx: Context | None = None, *, lateness_s: float = DEFAULT_HISTORY_S, window_s: float = 3600.0
    ) -> None:
        """``lateness_s``: how far behind the highest event time a passage may still be on time for
        the core (its lateness plus ``WATERMARK_MAX_LAG_S``: the engine passes that)."""
        self.lateness_s = float(lateness_s)
        self.window_s = window_s
        self._by_text: dict[str, list[Sighting]] = {}
        self._max_seen = -math.inf
        self._pruned_at = -math.inf

    def observe(self, s: Sighting) -> None:
        # Prune by the watermark as it was *before* this sighting: after observing it, the core
        # settles the anchors its event time releases, and they need reads back to their own time
        # less the window.
        horizon = self._max_seen - self.lateness_s - self.window_s
        if s.t > self._max_seen:
            self._max_seen = s.t
        if horizon - self._pruned_at > self.window_s:
            # a read older than this only matters to anchors that have settled already
            self._by_text = {
                text: kept
                for text, rs in self._by_text.items()
                if (kept := [r for r in rs if r.t >= horizon])
            }
            self._pruned_at = horizon
        if s.plate_kind != "invalid":
            return
        reads = self._by_text.setdefault(s.plate_no, [])
        if all(r.ref != s.ref for r in reads):
            reads.append(s)
            reads.sort(key=lambda r: (r.t, r.ref))

    def before(self, s: Sighting, since: float) -> list[Sighting]:
        """Reads of ``s``'s text from ``since`` up to (not including) ``s``, in event-time order."""
        reads = self._by_text.get(s.plate_no)
        if not reads:
            return []
        key = (s.t, s.ref)
        return [r for r in reads if r.t >= since and (r.t, r.ref) < key]

    def snapshot(self) -> dict[str, Any]:
        return {
            "max_seen": self._max_seen,
            "pruned_at": self._pruned_at,
            "reads": {text: [astuple(r) for r in rs] for text, rs in self._by_text.items()},
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        self._max_seen = data["max_seen"]
        self._pruned_at = data["pruned_at"]
        self._by_text = {text: [Sighting(*r) for r in rs] for text, rs in data["reads"].items()}


class FakePlateDetector(Detector):
    name: ClassVar[str] = NAME
    version: ClassVar[int] = 1

    def __init__(self, config: FakePlateConfig | None = None) -> None:
        self.config = cfg = config or FakePlateConfig()
        self.plates = Plates(cfg)
        self.trail_s = cfg.confirm_window_s
        self._prefixes = tuple(cfg.local_prefixes)
        self._exempt_kinds = frozenset(cfg.exempt_kinds)
        self._exempt_classes = frozenset(cfg.exempt_plate_classes)
        self._unissued_kinds = frozenset(cfg.unissued_kinds)
        # the last anchor judged, and whether its judgement rested on other vehicles' reads
        self._flag_ref, self._flag = 0, False
        self._enabled = cfg.enabled
        self._min_confidence = cfg.min_plate_confidence

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> FakePlateDetector:
        return cls(validate_config(FakePlateConfig, NAME, raw))

    def shared_models(self, ctx: Context, lateness_s: float) -> Mapping[str, Any]:
        """The reads of invalid plate texts by text (``ctx.shared["invalid_plates"]``)."""
        return {
            INVALID_SHARED: InvalidPlateReads(
                ctx, lateness_s=lateness_s, window_s=self.config.invalid_window_s
            )
        }

    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        s = v.trail[i]
        self._flag_ref, self._flag = s.ref, False
        cfg = self.config
        if not self._enabled:
            return ()
        kind = s.plate_kind
        if kind in NOT_IDENTIFYING:
            if kind == "invalid":
                return self._invalid(s, ctx)
            if kind == "none" and cfg.report_no_plate:
                return (self._plate_missing(s, "no_plate"),)
            if kind == "unread" and cfg.report_unread:
                return (self._plate_missing(s, "covered"),)
            return ()
        c = s.plate_confidence
        if c is not None and c < self._min_confidence:
            return ()
        rec = ctx.registry.get(s.vehicle_key)
        if rec is not None:
            found = self._conflict(v.trail, i, rec, ctx)
            return (found,) if found is not None else ()
        if kind in self._exempt_kinds or s.plate_class in self._exempt_classes:
            return ()
        if not registry_loaded(ctx.registry):  # nothing imported: absence means nothing
            return ()
        if s.plate_no.startswith(self._prefixes):
            if kind in self._unissued_kinds:
                found = self._absent(v.trail, i, ctx, "unissued")
                return (found,) if found is not None else ()
            return ()
        if cfg.report_unregistered:
            found = self._absent(v.trail, i, ctx, "unregistered")
            return (found,) if found is not None else ()
        return ()

    def recheck(self, v: VehicleState, i: int, ctx: Context) -> bool:
        s = v.trail[i]
        if self._flag_ref != s.ref:
            self.evaluate(v, i, ctx)
        return self._flag

    # ----------------------------------------------------------------- invalid
    def _invalid(self, s: Sighting, ctx: Context) -> Sequence[Finding]:
        cfg = self.config
        c = s.plate_confidence
        if c is not None and c < cfg.min_plate_confidence:
            return ()  # a read the camera itself doubts is no evidence of anything
        confident = c is not None and c >= cfg.invalid_min_confidence
        evidence: tuple[Sighting, ...] = (s,)
        sites: list[str] = [s.site_id]
        if not confident:
            model = ctx.shared.get(INVALID_SHARED)
            if not isinstance(model, InvalidPlateReads):
                return ()
            self._flag = True  # the judgement rests on reads of other vehicles
            nodes = {node_of(s, ctx)}
            earlier: list[Sighting] = []
            for r in model.before(s, s.t - cfg.invalid_window_s):
                if not self.plates.confident(r):
                    continue
                node = node_of(r, ctx)
                if node not in nodes:
                    nodes.add(node)
                    earlier.append(r)
            if len(nodes) < cfg.invalid_min_sites:
                return ()
            earlier = earlier[: cfg.invalid_min_sites - 1]
            evidence = (*earlier, s)
            sites = [r.site_id for r in evidence]
        misread = self._invalid_misread(s, ctx)
        if misread is not None:
            return ()
        return (
            Finding(
                detector=NAME,
                version=self.version,
                rule="invalid_grammar",
                vehicle_key=s.vehicle_key,
                plate_no=s.plate_no,
                at=s,
                evidence=evidence,
                thresholds={
                    "invalid_min_confidence": cfg.invalid_min_confidence,
                    "invalid_min_sites": cfg.invalid_min_sites,
                    "invalid_window_s": cfg.invalid_window_s,
                },
                payload={
                    "legal_basis": FAKE_BASIS,
                    **FAKE_PENALTY,
                    "review_only": True,
                    "title_zh": "疑似假牌：号牌号码不符合编码规则",
                    "plate_key": f"{s.plate_class}:{s.plate_no}",
                    "plate_confidence": s.plate_confidence,
                    "confirmed_by": "confidence" if confident else "sites",
                    "sites": sites,
                },
                severity="serious",
            ),
        )

    def _invalid_misread(self, s: Sighting, ctx: Context) -> str | None:
        """A registered plate of the same class one look-alike character away whose class fits:
        the invalid text is then most likely a misread of it."""
        prefix = f"{s.plate_class}:"
        for plate in self.plates.lookalike_plates(s.plate_no):
            rec = ctx.registry.get(prefix + plate)
            if rec is not None and not self.plates.classes_conflict(s.vehicle_class, rec.vehicle_class):
                return rec.vehicle_key
        return None

    # ---------------------------------------------------------------- registry
    def _conflict(self, trail: list[Sighting], i: int, rec: RegistryRecord, ctx: Context) -> Finding | None:
        cfg = self.config
        plates = self.plates
        s = trail[i]
        attrs = plates.registry_conflicts(s, rec)
        if not attrs:
            return None
        lo = s.t - cfg.confirm_window_s
        conflicting: list[Sighting] = []
        matching = 0
        for p in trail[: i + 1]:
            if p.t < lo or not plates.confident(p):
                continue
            if p is s or plates.registry_conflicts(p, rec):
                conflicting.append(p)
            else:
                matching += 1
        if len(conflicting) < cfg.attribute_min_reads:
            return None
        registry = ctx.registry
        if plates.better_match(s, registry, rec) is not None:
            return None
        conflicting = [p for p in conflicting if p is s or plates.better_match(p, registry, rec) is None]
        evidence = confirmed_reads(conflicting, s, cfg.attribute_min_reads, cfg.attribute_min_sites, ctx)
        if evidence is None:
            return None
        return Finding(
            detector=NAME,
            version=self.version,
            rule="registry_conflict",
            vehicle_key=s.vehicle_key,
            plate_no=s.plate_no,
            at=s,
            evidence=evidence,
            thresholds={
                "attribute_min_reads": cfg.attribute_min_reads,
                "attribute_min_sites": cfg.attribute_min_sites,
                "confirm_window_s": cfg.confirm_window_s,
                "incompatible_groups": [list(p) for p in cfg.incompatible_groups],
                "check_colour": cfg.check_colour,
                "check_brand": cfg.check_brand,
                "min_plate_confidence": cfg.min_plate_confidence,
            },
            payload={
                "legal_basis": [*FAKE_BASIS, "道交法 Art. 96 ¶3"],
                **FAKE_PENALTY,
                "review_only": True,
                "title_zh": "疑似假牌/套牌：车辆特征与登记信息不符",
                "attributes": attrs,
                "registered": {
                    "vehicle_class": rec.vehicle_class,
                    "body_colour": rec.body_colour,
                    "brand": rec.brand,
                    "model": rec.model,
                },
                "seen": {
                    "vehicle_class": s.vehicle_class,
                    "body_colour": s.vehicle_color,
                    "brand": s.vehicle_brand,
                },
                "conflicting_reads": len(conflicting),
                "matching_reads": matching,
                "registered_vehicle_also_seen": matching > 0,
            },
            severity="serious",
        )

    # ------------------------------------------------------------------ absent
    def _absent(self, trail: list[Sighting], i: int, ctx: Context, rule: str) -> Finding | None:
        cfg = self.config
        plates = self.plates
        s = trail[i]
        registry = ctx.registry
        if plates.better_match(s, registry, None) is not None:
            return None
        lo = s.t - cfg.confirm_window_s
        reads = [
            p
            for p in trail[:i]
            if p.t >= lo and plates.confident(p) and plates.better_match(p, registry, None) is None
        ]
        reads.append(s)
        evidence = confirmed_reads(reads, s, cfg.confirm_min_reads, cfg.confirm_min_sites, ctx)
        sure = cfg.unissued_single_read_confidence
        if (
            evidence is None
            and rule == "unissued"
            and sure is not None
            and s.plate_confidence is not None
            and s.plate_confidence >= sure
        ):
            evidence = (s,)  # one read this sure, that no registered look-alike explains
        if evidence is None:
            return None
        if rule == "unregistered" and confirmed_reads(
            reads[:-1], None, cfg.confirm_min_reads, cfg.confirm_min_sites, ctx
        ):
            return None  # a suspicion is raised once, when first confirmed
        unissued = rule == "unissued"
        return Finding(
            detector=NAME,
            version=self.version,
            rule=rule,
            vehicle_key=s.vehicle_key,
            plate_no=s.plate_no,
            at=s,
            evidence=evidence,
            thresholds={
                "local_prefixes": list(cfg.local_prefixes),
                "confirm_min_reads": cfg.confirm_min_reads,
                "confirm_min_sites": cfg.confirm_min_sites,
                "confirm_window_s": cfg.confirm_window_s,
                "min_plate_confidence": cfg.min_plate_confidence,
            },
            payload=(
                {
                    "legal_basis": FAKE_BASIS,
                    **FAKE_PENALTY,
                    "review_only": True,
                    "title_zh": "疑似假牌：本地号牌未曾核发",
                    "reads": len(reads),
                }
                if unissued
                else {
                    "legal_basis": [],
                    "review_only": True,
                    "title_zh": "号牌未在登记库中（仅供核查，并非违法）",
                    "reads": len(reads),
                }
            ),
            severity="serious" if unissued else "normal",
        )

    # ----------------------------------------------------------------- missing
    def _plate_missing(self, s: Sighting, rule: str) -> Finding:
        no_plate = rule == "no_plate"
        return Finding(
            detector=NAME,
            version=self.version,
            rule=rule,
            vehicle_key=s.vehicle_key,
            plate_no=s.plate_no,
            at=s,
            evidence=(s,),
            thresholds={
                "report_no_plate": self.config.report_no_plate,
                "report_unread": self.config.report_unread,
            },
            payload={
                "legal_basis": NO_PLATE_BASIS if no_plate else COVERED_BASIS,
                **PLATE_PENALTY,
                "review_only": True,
                "title_zh": "未悬挂号牌" if no_plate else "号牌无法识别（疑似遮挡、污损）",
            },
            severity="serious" if no_plate else "normal",
        )
