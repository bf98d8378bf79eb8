"""Watchlist hit (布控比中): exact plates, plate patterns, and look-alike reads as possible hits.

Three rules, each a finding with the entry id as ``subject``:

``exact``
    The sighting's vehicle key is the entry's (plate and plate class), or its plate alone where
    the entry names no class.
``pattern``
    The entry's plate is a pattern (``match_mode = "pattern"``): ``*`` stands for any run of
    characters (none included), ``?`` for exactly one (``鲁P*8?5``). Only reads that identify a
    vehicle are matched.
``lookalike``
    A *possible hit*: the read plate differs from an exact entry's plate in at most
    ``lookalike_max_chars`` positions, each an OCR confusion (``0/D/Q``, ``8/B`` … and, as a
    setting, the province character). Someone confirms it by eye (``possible: true``,
    ``review_only: true``, severity ``normal``). The read's variants are generated and looked up in
    the exact table; nothing is scanned.

**Validity.** An entry takes effect at its start (``valid_from``, inclusive) and stops at its end
(``valid_until``, exclusive), judged at the passage's event time. A revoked entry leaves the index
at once: the runtime rebuilds it (or calls :meth:`WatchlistIndex.remove`) when entries change.

**Which look-alike reads are reported.** Plates are issued in dense series, so a *correct* read of
vehicle A is often one confusable character away from a watchlisted vehicle B. Reporting those
would bury the desk in false possible hits (on a seeded dense population with one vehicle in 300
watchlisted: 138 per 100 000 passages). A look-alike is therefore only looked for when the read
itself is doubtful:

* ``plate_confidence >= lookalike_min_confidence_to_suppress`` (default 90, on the 0–100 scale the
  cameras report): the camera is sure of the read; no possible hits. (The simulator reports 95 for
  right reads and 80 for misreads, a cleaner split than real cameras give: the threshold is a
  setting to calibrate per camera model, UNCONFIRMED.) Measured: 0 false possible hits in 99 339
  passages, every watchlisted misread found.
* The camera gave no confidence: the registry decides (``lookalike_registry_suppression =
  "without_confidence"``): a read that is itself a registered vehicle whose class agrees with the
  camera's is taken as right (1 false possible hit in 99 339 passages).
* A low-confidence read is *not* suppressed by the registry by default: with dense issuance a
  misread lands on another registered vehicle of the same class often enough (about one misread
  in eight on the simulated population) that this would cost the recall on real misreads (89 % at
  one vehicle in 50 watchlisted, below the 95 % required).
* ``lookalike_class_check``: a possible hit is dropped when the entry's vehicle is in the registry
  with a vehicle class that contradicts the camera's (the camera saw another kind of vehicle).

Vehicle classes agree when their first two characters (the GA 24.4 category and size: ``K3``,
``H1`` …) are equal; unknown classes never contradict. ``differs_at`` counts from 1 (the province
is position 1), as officers read a plate.

**The index** (:class:`WatchlistIndex`) holds a dict from plate to entries (exact entries) and the
pattern entries bucketed by their fixed characters: each pattern is keyed by up to three fixed
characters at positions counted from the start or from the end of the plate (the most selective
ones first: the end of the serial, never the province or office letter if it can avoid them); a
plate probes one key per distinct position set in use (about a dozen), and the few candidates found
are verified with the full pattern. Patterns with no anchored characters (``*123*``) are keyed by a
gram of their longest literal run, looked up in every substring of the plate. Nothing tries every
pattern. A province look-alike would take one probe per province; a bitmap of the exact plates
without their first character (a one-hash Bloom filter) skips them when no plate can match.

Legal basis: a watchlist hit is a lead for interception, not a violation. Wanted vehicles are
followed or intercepted and reported upward (交通警察道路执勤执法工作规范 Art. 60).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations, product
from operator import itemgetter
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from changan.engine.context import Context
from changan.engine.detectors.base import Detector, DetectorConfig, validate_config
from changan.engine.sighting import Finding, Sighting
from changan.engine.trail import VehicleState
from changan.plates.grammar import (
    DIGITS,
    EMBASSY_CHAR,
    LETTERS,
    PROVINCES,
    SUFFIX_CHARS,
    SUFFIX_EMERGENCY,
)

NAME = "watchlist"
SHARED = "watchlist"  # the index's name in Context.shared
LEGAL_BASIS = ("交通警察道路执勤执法工作规范 第六十条",)

EXACT = "exact"
PATTERN = "pattern"
MATCH_MODES = (EXACT, PATTERN)

# ---------------------------------------------------------------------------------------- patterns
ANY_RUN = "*"
ANY_ONE = "?"
WILDCARDS = ANY_RUN + ANY_ONE
PLATE_CHARS = frozenset(PROVINCES + LETTERS + DIGITS + SUFFIX_CHARS + EMBASSY_CHAR + SUFFIX_EMERGENCY)
"""Characters a plate may hold: a pattern's fixed characters must be among them."""
PLATE_LENGTHS = (7, 8)
DEFAULT_PATTERN_MIN_FIXED_CHARS = 3
_DROP = frozenset(" \t\u3000·•・‧∙⋅･-")


def normalise_pattern(raw: str) -> str:
    """A pattern as stored: NFKC (full-width ``？＊ａ`` → ``?*a``), upper case, spaces, middle dots
    and hyphens removed, runs of ``*`` collapsed into one."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", raw).upper() if ch not in _DROP)
    while "**" in text:
        text = text.replace("**", "*")
    return text


def pattern_problem(text: str, min_fixed_chars: int = DEFAULT_PATTERN_MIN_FIXED_CHARS) -> str | None:
    """Why a (normalised) pattern cannot be put on the watchlist, in Chinese; None if it can."""
    if not text:
        return "模式为空"
    bad = sorted({ch for ch in text if ch not in PLATE_CHARS and ch not in WILDCARDS})
    if bad:
        return f"模式含有号牌中不会出现的字符：{''.join(bad)}（只能用号牌字符、* 与 ?）"
    fixed = sum(1 for ch in text if ch not in WILDCARDS)
    if fixed == 0:
        return "模式不能只有通配符"
    if ANY_RUN not in text and ANY_ONE not in text:
        return "模式中没有通配符 * 或 ?；完整号牌请用精确布控（exact）"
    if fixed < min_fixed_chars:
        return f"模式至少要有 {min_fixed_chars} 个确定字符（现有 {fixed} 个），否则会比中过多车辆"
    if ANY_RUN not in text and len(text) not in PLATE_LENGTHS:
        return f"不含 * 的模式须为 7 或 8 位（与号牌等长），现为 {len(text)} 位"
    if len(text) - text.count(ANY_RUN) > max(PLATE_LENGTHS):
        return f"模式至少匹配 {len(text) - text.count(ANY_RUN)} 位，长于任何号牌"
    return None


def pattern_regex(text: str) -> re.Pattern[str]:
    """The pattern as a regular expression (``*`` → ``.*``, ``?`` → ``.``), for a full match."""
    return re.compile(
        "".join(".*" if ch == ANY_RUN else "." if ch == ANY_ONE else re.escape(ch) for ch in text)
    )


class PlatePattern:
    """A compiled pattern. ``*`` splits the text into a head (matched at the start of the plate), a
    tail (at its end) and middle segments; with no ``*`` it is all head and matches plates of its
    own length only. The parts give the index its keys; a candidate is verified with the regex
    (compiled on first use: building the index for 10 000 patterns stays fast).
    """

    __slots__ = ("_full", "exact_len", "head", "middle", "min_len", "tail", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.middle: tuple[str, ...] = ()
        parts = text.split(ANY_RUN)
        if len(parts) == 1:
            self.head, self.tail = text, ""
            self.exact_len: int | None = len(text)
        else:
            self.head, self.tail = parts[0], parts[-1]
            self.middle = tuple(p for p in parts[1:-1] if p)
            self.exact_len = None
        self.min_len = len(text) - text.count(ANY_RUN)
        self._full: Callable[[str], re.Match[str] | None] | None = None  # compiled when first needed

    def matches(self, plate: str) -> bool:
        full = self._full
        if full is None:
            full = self._full = pattern_regex(self.text).fullmatch
        return full(plate) is not None

    def anchors(self) -> list[tuple[int, int, str]]:
        """Fixed characters at known places: (rank, index, char), most selective first.

        ``index`` is a Python index into the plate (negative: from the end). The rank prefers the
        end of the serial (every character equally likely) and puts the province and office letter
        (鲁P on most local traffic) last.
        """
        out = []
        if self.exact_len is not None:
            n = self.exact_len
            for p, ch in enumerate(self.head):
                if ch != ANY_ONE:
                    out.append((100 + p if p < 2 else n - 1 - p, p, ch))
        else:
            for p, ch in enumerate(self.head):
                if ch != ANY_ONE:
                    out.append((100 + p if p < 2 else 10 + p, p, ch))
            for k, ch in enumerate(reversed(self.tail)):
                if ch != ANY_ONE:
                    out.append((k, -1 - k, ch))
        out.sort()
        return out

    def longest_run(self) -> str:
        """The longest run of fixed characters in the middle segments (floating literals)."""
        runs = [r for seg in self.middle for r in seg.split(ANY_ONE) if r]
        return max(runs, key=len, default="")

    def __repr__(self) -> str:
        return f"PlatePattern({self.text!r})"


# ------------------------------------------------------------------------------------------- index
@dataclass(frozen=True, slots=True)
class IndexedEntry:
    id: str
    plate_no: str  # the plate, or the pattern when match_mode is "pattern"
    plate_class: str | None
    valid_from: datetime
    valid_until: datetime | None
    priority: int
    reason: str
    jurisdiction: str
    match_mode: str = EXACT

    def valid_at(self, t_s: float) -> bool:
        """In force at event time ``t_s``: from its start (inclusive) to its end (exclusive)."""
        return self.valid_from.timestamp() <= t_s and (
            self.valid_until is None or t_s < self.valid_until.timestamp()
        )


Candidate = tuple[PlatePattern, IndexedEntry]
KEY_CHARS = 3  # fixed characters per pattern key
_SANS_PROVINCE_BITS = 1 << 24  # a 2 MB bitmap: about 6 % false positives at a million exact plates
_Sig = tuple[int, tuple[int, ...]]  # (plate length, or 0 for any length; plate indices)


class WatchlistIndex:
    """Active entries: exact plates in a dict, patterns bucketed by fixed characters.

    Build once from the entries (the runtime rebuilds it when entries change), or keep it current
    with :meth:`add` and :meth:`remove`.
    """

    def __init__(self, entries: Sequence[IndexedEntry] = ()) -> None:
        # plate → its entry, or a list when several entries name the plate (other classes)
        self._exact: dict[str, IndexedEntry | list[IndexedEntry]] = {}
        # the exact plates without their first character, hashed into a bitmap (a one-hash Bloom
        # filter): a misread province would otherwise cost one probe per province
        self._sans_province = bytearray(_SANS_PROVINCE_BITS // 8)
        self._sig_tables: dict[_Sig, dict[Any, list[Candidate]]] = {}
        self._grams: dict[int, dict[str, list[Candidate]]] = {}
        self._scan: list[Candidate] = []
        self._patterns: dict[str, Candidate] = {}  # entry id → its pattern
        self._plans: dict[int, list[tuple[Any, dict[Any, list[Candidate]]]]] = {}
        self.exact_count = 0
        exact = self._exact
        n_exact = 0
        bits = self._sans_province
        mask = _SANS_PROVINCE_BITS - 1
        for e in entries:
            if e.match_mode == EXACT:
                plate = e.plate_no
                old = exact.setdefault(plate, e)
                if old is e:
                    h = hash(plate[1:]) & mask
                    bits[h >> 3] |= 1 << (h & 7)
                elif isinstance(old, list):
                    old.append(e)
                else:
                    exact[plate] = [old, e]
                n_exact += 1
            else:
                self._add_pattern(e)
        self.exact_count = n_exact

    # ------------------------------------------------------------------ size
    @property
    def size(self) -> int:
        return self.exact_count + len(self._patterns)

    @property
    def pattern_count(self) -> int:
        return len(self._patterns)

    def stats(self) -> dict[str, int]:
        """How the patterns are bucketed (for logs and the benchmark)."""
        return {
            "exact": self.exact_count,
            "patterns": len(self._patterns),
            "anchored_keys": len(self._sig_tables),
            "gram_tables": len(self._grams),
            "scanned": len(self._scan),
        }

    # ---------------------------------------------------------------- lookup
    def exact(self, plate_no: str) -> Sequence[IndexedEntry]:
        """Exact entries on this plate (any class, any validity)."""
        hit = self._exact.get(plate_no)
        if hit is None:
            return ()
        return hit if isinstance(hit, list) else (hit,)

    candidates = exact  # the name the first version used

    def may_hold_sans_province(self, rest: str) -> bool:
        """False when no exact plate ends with ``rest`` after its first character (True: maybe)."""
        h = hash(rest) & (_SANS_PROVINCE_BITS - 1)
        return bool(self._sans_province[h >> 3] & (1 << (h & 7)))

    def pattern_matches(self, plate_no: str) -> list[Candidate]:
        """Pattern entries whose pattern matches the plate (any class, any validity)."""
        if not self._patterns:
            return []
        n = len(plate_no)
        plan = self._plans.get(n)
        if plan is None:
            plan = self._plans[n] = self._plan(n)
        out: list[Candidate] = []
        for getter, table in plan:
            bucket = table.get(getter(plate_no))
            if bucket is not None:
                for c in bucket:
                    if c[0].matches(plate_no):
                        out.append(c)
        if self._grams:
            seen: set[str] = set()
            for g, table in self._grams.items():
                for k in range(n - g + 1):
                    bucket = table.get(plate_no[k : k + g])
                    if bucket is not None:
                        for c in bucket:
                            if c[1].id not in seen and c[0].matches(plate_no):
                                seen.add(c[1].id)
                                out.append(c)
        for c in self._scan:
            if c[0].matches(plate_no):
                out.append(c)
        return out

    def _plan(self, n: int) -> list[tuple[Any, dict[Any, list[Candidate]]]]:
        plan = []
        for (length, idx), table in self._sig_tables.items():
            need = max(i + 1 if i >= 0 else -i for i in idx)
            if (length == n or length == 0) and need <= n:
                plan.append((itemgetter(*idx), table))
        return plan

    # -------------------------------------------------------------- changes
    def add(self, e: IndexedEntry) -> None:
        """Put one entry in (an entry with the same id is replaced)."""
        self.remove(e)
        if e.match_mode == EXACT:
            old = self._exact.get(e.plate_no)
            if old is None:
                self._exact[e.plate_no] = e
                h = hash(e.plate_no[1:]) & (_SANS_PROVINCE_BITS - 1)
                self._sans_province[h >> 3] |= 1 << (h & 7)  # never cleared: a stale bit costs probes only
            elif isinstance(old, list):
                old.append(e)
            else:
                self._exact[e.plate_no] = [old, e]
            self.exact_count += 1
        else:
            self._add_pattern(e)

    def remove(self, e: IndexedEntry) -> bool:
        """Take the entry with ``e.id`` out (found by its plate and mode); True if it was in."""
        if e.match_mode != EXACT:
            return self._remove_pattern(e.id)
        old = self._exact.get(e.plate_no)
        if old is None:
            return False
        if isinstance(old, list):
            kept = [x for x in old if x.id != e.id]
            if len(kept) == len(old):
                return False
            self._exact[e.plate_no] = kept[0] if len(kept) == 1 else kept
        elif old.id == e.id:
            del self._exact[e.plate_no]
        else:
            return False
        self.exact_count -= 1
        return True

    def _add_pattern(self, e: IndexedEntry) -> None:
        if e.id in self._patterns:
            self._remove_pattern(e.id)
        pat = PlatePattern(e.plate_no)
        c: Candidate = (pat, e)
        self._patterns[e.id] = c
        anchors = pat.anchors()
        selective = sum(1 for rank, _i, _ch in anchors if rank < 100)
        run = pat.longest_run()
        if anchors and (selective >= 2 or len(run) < 2 or selective >= len(run)):
            chosen = anchors[:KEY_CHARS]
            sig: _Sig = (pat.exact_len or 0, tuple(i for _r, i, _c in chosen))
            chars = tuple(ch for _r, _i, ch in chosen)
            key: Any = chars if len(chars) > 1 else chars[0]
            table = self._sig_tables.get(sig)
            if table is None:
                table = self._sig_tables[sig] = {}
                self._plans.clear()
            table.setdefault(key, []).append(c)
        elif run:
            gram = run[:KEY_CHARS]
            self._grams.setdefault(len(gram), {}).setdefault(gram, []).append(c)
        else:
            self._scan.append(c)

    def _remove_pattern(self, entry_id: str) -> bool:
        c = self._patterns.pop(entry_id, None)
        if c is None:
            return False

        def drop(bucket: list[Candidate]) -> None:
            bucket[:] = [x for x in bucket if x[1].id != entry_id]

        for table in self._sig_tables.values():
            for bucket in table.values():
                drop(bucket)
        for grams in self._grams.values():
            for bucket in grams.values():
                drop(bucket)
        drop(self._scan)
        return True


# ------------------------------------------------------------------------------------ look-alikes
DEFAULT_CONFUSIONS = ("0DQ", "8B", "17", "2Z", "5S", "6G")


def confusion_map(groups: Sequence[str]) -> dict[str, str]:
    """Each character → the characters it may be misread as (the rest of its group)."""
    out: dict[str, str] = {}
    for g in groups:
        for ch in g:
            out[ch] = "".join(x for x in g if x != ch)
    return out


PROVINCE_ALTERNATIVES = {p: PROVINCES.replace(p, "") for p in PROVINCES}


def alternatives(plate: str, i: int, confusable: Mapping[str, str], province: bool) -> str:
    """What the character at ``i`` may have been misread from (symmetric: the same set)."""
    ch = plate[i]
    if i == 0 and province and ch in PROVINCE_ALTERNATIVES:
        return PROVINCE_ALTERNATIVES[ch]
    return confusable.get(ch, "")


def lookalike_variants(
    plate: str, max_chars: int, confusable: Mapping[str, str], province: bool, *, min_chars: int = 1
) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Every plate that differs from ``plate`` in ``min_chars``..``max_chars`` confusable positions,
    with the (0-based) positions that differ. Each variant comes once."""
    alts = [alternatives(plate, i, confusable, province) for i in range(len(plate))]
    where = [i for i, a in enumerate(alts) if a]
    for k in range(min_chars, max_chars + 1):
        for pos in combinations(where, k):
            for chars in product(*(alts[i] for i in pos)):
                s = list(plate)
                for i, ch in zip(pos, chars, strict=True):
                    s[i] = ch
                yield "".join(s), pos


def lookalike_positions(
    read: str, entry: str, max_chars: int, confusable: Mapping[str, str], province: bool
) -> tuple[int, ...] | None:
    """The positions where two plates differ if they are look-alikes (1..max_chars differences,
    each confusable), else None. Symmetric in ``read`` and ``entry``."""
    if len(read) != len(entry) or read == entry:
        return None
    pos = tuple(i for i in range(len(read)) if read[i] != entry[i])
    if len(pos) > max_chars:
        return None
    for i in pos:
        if entry[i] not in alternatives(read, i, confusable, province):
            return None
    return pos


def classes_agree(a: str | None, b: str | None) -> bool | None:
    """Vehicle classes agree on category and size (first two characters); None if one is unknown."""
    if not a or not b:
        return None
    return a[:2] == b[:2]


# ----------------------------------------------------------------------------------------- config
RegistrySuppression = Literal["never", "without_confidence", "always"]


class WatchlistConfig(DetectorConfig):
    lookalike_max_chars: int = Field(
        default=1,
        ge=0,
        le=3,
        description="most OCR-confusable characters a read may differ from an exact entry in and still "
        "be reported as a possible hit (0: no look-alike matching)",
    )
    confusions: tuple[str, ...] = Field(
        default=DEFAULT_CONFUSIONS,
        description="groups of characters cameras confuse; every character of a group may be read as "
        "any other of the same group (each character in one group at most)",
    )
    province_confusable: bool = Field(
        default=True,
        description="the province character counts as confusable with every other province (the "
        "simulator misreads the province in 20 % of misreads)",
    )
    lookalike_min_confidence_to_suppress: float | None = Field(
        default=90.0,
        ge=0,
        le=100,
        description="reads with plate_confidence at or above this (0–100) are trusted: no possible hits "
        "(None: confidence is never trusted). UNCONFIRMED: depends on the cameras' calibration",
    )
    lookalike_registry_suppression: RegistrySuppression = Field(
        default="without_confidence",
        description="when a read that is itself a registered vehicle of an agreeing class suppresses "
        "possible hits: never, only when the camera gave no confidence, or always (costs recall: with "
        "dense issuance a misread often lands on another registered vehicle)",
    )
    lookalike_class_check: bool = Field(
        default=True,
        description="drop a possible hit when the entry's vehicle is registered with a vehicle class "
        "that contradicts the camera's",
    )
    pattern_min_fixed_chars: int = Field(
        default=DEFAULT_PATTERN_MIN_FIXED_CHARS,
        ge=1,
        le=8,
        description="fixed (non-wildcard) characters a pattern entry needs; the watchlist service checks "
        "new entries against it (the index matches whatever patterns it holds)",
    )

    @field_validator("confusions")
    @classmethod
    def _groups(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for g in v:
            if len(g) < 2:
                msg = f"group {g!r} needs at least two characters"
                raise ValueError(msg)
            if len(set(g)) != len(g):
                msg = f"group {g!r} repeats a character"
                raise ValueError(msg)
            again = seen & set(g)
            if again:
                msg = f"character {''.join(sorted(again))!r} is in more than one group"
                raise ValueError(msg)
            seen |= set(g)
        return v


# --------------------------------------------------------------------------------------- detector
_SEVERITY_EXACT = ("serious", "critical")  # priority below 80, 80 and above
_SEVERITY_PATTERN = ("normal", "serious")


class WatchlistDetector(Detector):
    name: ClassVar[str] = NAME
    version: ClassVar[int] = 3

    def __init__(self, config: WatchlistConfig | None = None) -> None:
        self.config = c = config or WatchlistConfig()
        self._enabled = c.enabled
        self._max_chars = c.lookalike_max_chars
        self._trusted_from = c.lookalike_min_confidence_to_suppress
        self._confusable = confusion_map(c.confusions)
        self._lookalike_thresholds: dict[str, Any] = {
            "lookalike_max_chars": c.lookalike_max_chars,
            "confusions": list(c.confusions),
            "province_confusable": c.province_confusable,
            "lookalike_min_confidence_to_suppress": c.lookalike_min_confidence_to_suppress,
            "lookalike_registry_suppression": c.lookalike_registry_suppression,
            "lookalike_class_check": c.lookalike_class_check,
        }

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> WatchlistDetector:
        return cls(validate_config(WatchlistConfig, NAME, raw))

    def evaluate(self, v: VehicleState, i: int, ctx: Context) -> Sequence[Finding]:
        index: WatchlistIndex | None = ctx.shared.get(SHARED)
        if index is None or not self._enabled:
            return ()
        s = v.trail[i]
        plate = s.plate_no
        out: list[Finding] = []
        identified = not s.vehicle_key.startswith("x:")
        if identified:
            hit = index._exact.get(plate)
            if hit is not None:
                for e in hit if isinstance(hit, list) else (hit,):
                    if (e.plate_class is None or e.plate_class == s.plate_class) and e.valid_at(s.t):
                        out.append(self._exact(s, e))
            if index._patterns:
                for pat, e in index.pattern_matches(plate):
                    if (e.plate_class is None or e.plate_class == s.plate_class) and e.valid_at(s.t):
                        out.append(self._pattern(s, pat, e))
        if (
            self._max_chars
            and index.exact_count
            # a read the grammar refuses (x: key) is most likely a misread: look for its original
            and (identified or s.plate_kind == "invalid")
        ):
            conf = s.plate_confidence
            trusted = self._trusted_from
            if conf is None or trusted is None or conf < trusted:
                out.extend(self._lookalikes(s, index, ctx, identified))
        return out

    # ------------------------------------------------------------------ rules
    def _lookalikes(
        self, s: Sighting, index: WatchlistIndex, ctx: Context, identified: bool
    ) -> list[Finding]:
        c = self.config
        exact = index._exact
        plate = s.plate_no
        confusable = self._confusable
        hits: list[tuple[IndexedEntry | list[IndexedEntry], tuple[int, ...]]] = []
        # one character: inlined (the common case, on every doubtful read)
        for i, ch in enumerate(plate):
            alts = confusable.get(ch)
            if i == 0 and c.province_confusable and ch in PROVINCE_ALTERNATIVES:
                rest = plate[1:]
                alts = PROVINCE_ALTERNATIVES[ch] if index.may_hold_sans_province(rest) else None
                if alts:
                    for a in alts:
                        hit = exact.get(a + rest)
                        if hit is not None:
                            hits.append((hit, (0,)))
                continue
            if alts:
                pre, post = plate[:i], plate[i + 1 :]
                for a in alts:
                    hit = exact.get(pre + a + post)
                    if hit is not None:
                        hits.append((hit, (i,)))
        if c.lookalike_max_chars > 1:
            for variant, pos in lookalike_variants(
                plate, c.lookalike_max_chars, confusable, c.province_confusable, min_chars=2
            ):
                hit = exact.get(variant)
                if hit is not None:
                    hits.append((hit, pos))
        found: list[tuple[IndexedEntry, tuple[int, ...]]] = []
        for hit, pos in hits:
            for e in hit if isinstance(hit, list) else (hit,):
                if (e.plate_class is None or e.plate_class == s.plate_class) and e.valid_at(s.t):
                    found.append((e, pos))
        if not found:
            return []
        mode = c.lookalike_registry_suppression
        if (
            identified
            and (mode == "always" or (mode == "without_confidence" and s.plate_confidence is None))
            and self._registered_as_read(s, ctx)
        ):
            return []
        out = []
        for e, pos in found:
            if c.lookalike_class_check:
                record = ctx.registry.get(f"{e.plate_class or s.plate_class}:{e.plate_no}")
                if record is not None and classes_agree(record.vehicle_class, s.vehicle_class) is False:
                    continue
            out.append(self._lookalike(s, e, pos))
        return out

    @staticmethod
    def _registered_as_read(s: Sighting, ctx: Context) -> bool:
        """The read is a registered vehicle and nothing the camera saw contradicts it."""
        record = ctx.registry.get(s.vehicle_key)
        return record is not None and classes_agree(record.vehicle_class, s.vehicle_class) is not False

    # -------------------------------------------------------------- findings
    def _finding(
        self,
        s: Sighting,
        e: IndexedEntry,
        rule: str,
        severity: str,
        thresholds: Mapping[str, Any],
        **extra: Any,
    ) -> Finding:
        payload: dict[str, Any] = {
            "entry_id": e.id,
            "entry_plate": e.plate_no,
            "reason": e.reason,
            "priority": e.priority,
            "entry_jurisdiction": e.jurisdiction,
            "legal_basis": list(LEGAL_BASIS),
            "review_only": True,
        }
        payload.update(extra)
        return Finding(
            detector=NAME,
            version=self.version,
            rule=rule,
            subject=e.id,
            vehicle_key=s.vehicle_key,
            plate_no=s.plate_no,
            at=s,
            evidence=(s,),
            thresholds=thresholds,
            payload=payload,
            severity=severity,
        )

    def _exact(self, s: Sighting, e: IndexedEntry) -> Finding:
        return self._finding(
            s,
            e,
            EXACT,
            _SEVERITY_EXACT[e.priority >= 80],
            {"match": EXACT, "plate_class_required": e.plate_class is not None},
            title_zh=f"布控比中：{s.plate_no}（{e.reason}）",
        )

    def _pattern(self, s: Sighting, pat: PlatePattern, e: IndexedEntry) -> Finding:
        return self._finding(
            s,
            e,
            PATTERN,
            _SEVERITY_PATTERN[e.priority >= 80],
            {"match": PATTERN, "pattern": pat.text, "plate_class_required": e.plate_class is not None},
            title_zh=f"布控模糊比中：{s.plate_no} 符合 {pat.text}（{e.reason}），请核对",
            pattern=pat.text,
        )

    def _lookalike(self, s: Sighting, e: IndexedEntry, pos: tuple[int, ...]) -> Finding:
        at = [p + 1 for p in pos]  # 1-based: "the 3rd character", as officers count
        where = "、".join(str(p) for p in at)
        return self._finding(
            s,
            e,
            "lookalike",
            "normal",
            dict(self._lookalike_thresholds),
            title_zh=f"疑似布控车辆：识别为 {s.plate_no}，与布控号牌 {e.plate_no} 第{where}位形近，请人工核对",
            possible=True,
            differs_at=at,
            read_plate=s.plate_no,
            plate_confidence=s.plate_confidence,
        )
