"""Normalisation of raw plate texts, as received from cameras, operators and other platforms.

Steps, repeated until the text no longer changes (so that :func:`normalise` is idempotent):

1. Unicode NFKC (full-width ``ａ７`` → ``a7``, ideographic space → space), upper case, dash variants
   (``‐ – — − ﹣ －``) → ``-``.
2. Remove whitespace and middle dots (``· • ・ ‧ ∙ ⋅``): ``苏A·7K3Q9`` → ``苏A7K3Q9``.
3. Remove leading colour words, longest first (渐变绿, 黄绿, 蓝, 黄, 白, 黑, 绿), the outermost becomes
   the colour hint: ``蓝苏A8HK52`` → (``苏A8HK52``, BLUE). The word is only removed when what follows can
   start a plate (province, 使, digit, 军, ``WJ``; for non-黑 words also ``?`` or ``*``), and 黑 is
   never removed from a text that already follows the grammar. This keeps the Heilongjiang plates
   ``黑A12345`` and ``黑WJ1234`` intact while ``黑黑A12345`` becomes ``黑A12345`` (black plate).
4. Unread markers (``- ? *``), except in military texts, which are opaque:

   * if the text is 7 or 8 characters long with the markers counted as characters, it is a partial
     read; ``?`` and ``*`` become ``-`` (the GA/T 1400 convention): ``鲁B-8-71G`` stays as is;
   * otherwise ``-`` is a separator and is removed (``苏-A-7K3Q9`` → ``苏A7K3Q9``); if ``?`` / ``*``
     remain and the length is then 7 or 8 they become ``-``, else they are kept.

   A consequence of the rule (decided in the research notes): ``苏A-7K3Q9`` is 8 characters long with
   the hyphen, so it is read as a partial 8-character plate, not as ``苏A7K3Q9``.
"""

from __future__ import annotations

import re
import unicodedata

from changan.plates.colours import ZH_PREFIXES, PlateColor, from_zh
from changan.plates.grammar import (
    DIGITS,
    EMBASSY_CHAR,
    MILITARY_CHAR,
    MILITARY_PREFIX,
    PROVINCES,
    is_military,
    match_kind,
)

_MAX_PASSES = 8
_DASHES = re.compile("[‐‑‒–—―−﹣－]")
_DROP = re.compile(r"[\s·•・‧∙⋅･]+")
_CLEAN = re.compile("[0-9A-Z\u3400-\u4dbf\u4e00-\u9fff]*")
"""Texts made only of these characters are stable under steps 1, 2 and 4."""
_COLOUR_INITIALS = frozenset(prefix[0] for prefix in ZH_PREFIXES)
_UNREAD_TO_DASH = str.maketrans({"?": "-", "*": "-"})
_PLATE_STARTS = frozenset(PROVINCES + EMBASSY_CHAR + DIGITS + MILITARY_CHAR)
_UNREAD_STARTS = frozenset("?*")
_PARTIAL_LENGTHS = (7, 8)


def _fold(text: str) -> str:
    """Steps 1–2: NFKC, upper case, dashes, whitespace and dots removed."""
    folded = _DASHES.sub("-", unicodedata.normalize("NFKC", text).upper())
    return _DROP.sub("", folded)


def _can_start_plate(rest: str, prefix: str) -> bool:
    if not rest:
        return False
    first = rest[0]
    if first in _PLATE_STARTS or rest.startswith(MILITARY_PREFIX):
        return True
    # 黑 is also a province: "黑?12345" is a Heilongjiang plate with an unread letter.
    return prefix != "黑" and first in _UNREAD_STARTS


def _strip_one_colour(text: str) -> tuple[str, PlateColor | None]:
    for prefix in ZH_PREFIXES:
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            # 黑 is also a province: never strip it from a text that is already a plate (黑WJ1234).
            if _can_start_plate(rest, prefix) and not (prefix == "黑" and match_kind(text) is not None):
                return rest, from_zh(prefix)
            return text, None
    return text, None


def _strip_colour(text: str) -> tuple[str, PlateColor | None]:
    """Step 3: remove leading colour words while a plate follows; the hint is the outermost one."""
    hint: PlateColor | None = None
    while text[:1] in _COLOUR_INITIALS:
        text, colour = _strip_one_colour(text)
        if colour is None:
            break
        hint = hint or colour
    return text, hint


def _resolve_markers(text: str) -> str:
    """Step 4: decide whether ``-`` means an unread character or a separator."""
    if not ("-" in text or "?" in text or "*" in text) or is_military(text):
        return text
    if len(text) in _PARTIAL_LENGTHS:
        return text.translate(_UNREAD_TO_DASH)
    text = text.replace("-", "")
    if len(text) in _PARTIAL_LENGTHS:
        return text.translate(_UNREAD_TO_DASH)
    return text


def _one_pass(text: str) -> tuple[str, PlateColor | None]:
    folded, hint = _strip_colour(_fold(text))
    return _resolve_markers(folded), hint


def _is_final(text: str) -> bool:
    """True when no step would change ``text`` (fast path for clean camera output)."""
    return text[:1] not in _COLOUR_INITIALS and _CLEAN.fullmatch(text) is not None


def normalise(raw: str) -> tuple[str, PlateColor | None]:
    """Normalise a raw plate text; return ``(text, colour_hint)``.

    ``colour_hint`` is the colour given by a leading colour word (the outermost one), else ``None``.
    The function is pure, never raises for ``str`` input and is idempotent on the text:
    ``normalise(normalise(x)[0])[0] == normalise(x)[0]``.

    >>> normalise("蓝苏A8HK52")
    ('苏A8HK52', <PlateColor.BLUE: 'blue'>)
    >>> normalise("苏ａ７ｋ３ｑ９")
    ('苏A7K3Q9', None)
    """
    text = raw
    hint: PlateColor | None = None
    for _ in range(_MAX_PASSES):
        if _is_final(text):
            break
        new, colour = _one_pass(text)
        if hint is None:
            hint = colour
        if new == text:
            break
        text = new
    return text, hint
