"""Reading a plate: normalise, classify by the grammar, explain failures.

:func:`read_plate` is on the ingest hot path. It is a pure function of its arguments, so results are
memoised in an LRU cache of 65 536 entries (texts longer than 64 characters bypass the cache); a
cache hit costs well under a microsecond, a miss a few microseconds.

Classification order of the normalised text:

1. ``""``, 无车牌, 无牌, NOPLATE, 车牌 → ``NONE``; UNKNOWN → ``UNREAD``;
2. military (starts with ``WJ`` or contains 军) → ``MILITARY``, opaque; ``PARTIAL`` if it contains
   ``?`` or ``*`` (a ``-`` is kept as part of the opaque text);
3. contains ``-`` / ``?`` / ``*`` → ``PARTIAL`` (``UNREAD`` if every character is a marker);
4. the grammar patterns (:mod:`changan.plates.grammar`);
5. otherwise ``INVALID`` with a specific reason (:mod:`changan.plates.diagnose`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from changan.plates.colours import PlateColor
from changan.plates.diagnose import diagnose
from changan.plates.enums import PlateKind
from changan.plates.grammar import (
    NONE_TEXTS,
    UNREAD_MARKERS,
    UNREAD_TEXTS,
    has_unread_marker,
    is_military,
    match_kind,
)
from changan.plates.normalise import normalise

_CACHE_SIZE = 65536
_CACHEABLE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class PlateRead:
    """The result of reading one raw plate text.

    Attributes:
        raw: the text as received.
        text: the normalised text (see :func:`changan.plates.normalise.normalise`).
        kind: structural kind.
        colour_hint: colour given by a leading colour word in ``raw`` (``蓝苏A…``), else ``None``.
        reason_code: English machine code explaining a non-valid read; ``None`` when valid.
        reason: Chinese explanation for users; ``None`` when valid.
    """

    raw: str
    text: str
    kind: PlateKind
    colour_hint: PlateColor | None
    reason_code: str | None
    reason: str | None

    @property
    def valid(self) -> bool:
        """True unless the kind is PARTIAL, NONE, UNREAD or INVALID (i.e. the read identifies a vehicle)."""
        return self.kind.identifies_vehicle


def _unread_positions(text: str) -> str:
    return "、".join(str(i + 1) for i, char in enumerate(text) if char in UNREAD_MARKERS)


def _partial(raw: str, text: str, hint: PlateColor | None) -> PlateRead:
    if all(char in UNREAD_MARKERS for char in text):
        return PlateRead(raw, text, PlateKind.UNREAD, hint, "plate_unread", "号牌未识别")
    if len(text) in (7, 8):
        message = f"号牌第{_unread_positions(text)}位未识别"
    else:
        message = f"号牌部分字符未识别，且长度为{len(text)}位"
    return PlateRead(raw, text, PlateKind.PARTIAL, hint, "partial_read", message)


def _read(raw: str, strict_nev_letters: bool) -> PlateRead:
    text, hint = normalise(raw)
    if text in NONE_TEXTS:
        return PlateRead(raw, text, PlateKind.NONE, hint, "no_plate", "车辆无号牌")
    if text in UNREAD_TEXTS:
        return PlateRead(raw, text, PlateKind.UNREAD, hint, "plate_unread", "号牌未识别")
    if is_military(text):
        if "?" in text or "*" in text:
            return _partial(raw, text, hint)
        return PlateRead(raw, text, PlateKind.MILITARY, hint, None, None)
    if has_unread_marker(text):
        return _partial(raw, text, hint)
    kind = match_kind(text, strict_nev_letters=strict_nev_letters)
    if kind is not None:
        return PlateRead(raw, text, kind, hint, None, None)
    code, message = diagnose(text, strict_nev_letters=strict_nev_letters)
    return PlateRead(raw, text, PlateKind.INVALID, hint, code, message)


_read_cached = lru_cache(maxsize=_CACHE_SIZE)(_read)


def read_plate(raw: str, *, strict_nev_letters: bool = False) -> PlateRead:
    """Normalise and classify a raw plate text; never raises for ``str`` input.

    Args:
        raw: plate text as received (``"蓝苏A8HK52"``, ``"鲁B-8-71G"``, ``"无车牌"`` …).
        strict_nev_letters: accept only D and F as new-energy letters (default: D A B C E F G H J K).

    Returns:
        A :class:`PlateRead`; ``read.valid`` tells whether it can identify a vehicle.
    """
    if len(raw) > _CACHEABLE_LENGTH:
        return _read(raw, strict_nev_letters)
    return _read_cached(raw, strict_nev_letters)


def clear_cache() -> None:
    """Empty the :func:`read_plate` cache (for tests and benchmarks)."""
    _read_cached.cache_clear()
