"""The GA 36-2018 plate grammar: character classes and precompiled patterns.

A plate text is *normalised* first (see :mod:`changan.plates.normalise`); the patterns here only see
upper-case ASCII letters, ASCII digits and Chinese characters. Layout::

    province (1 汉字) + issuing-authority letter (A–Z, O included: 鲁O = provincial police HQ) + serial

Notation of the table below: P = province, A = [A-Z], S = serial character (digits and capitals
except I and O), E = new-energy letter ([DABCEFGHJK]; strict mode [DF]).

========== ======================== ===
kind       pattern                  len
========== ======================== ===
ordinary   P A S{5}                 7
suffixed   P A S{4} [挂学警领]      7
hk_macao   粤Z S{4} [港澳]          7
temporary  P A S{4} [试超]          7
embassy    使 \\d{6} | \\d{6} 使       7
nev_small  P A E S \\d{4}            8
nev_large  P A \\d{5} E              8
emergency  P A S{4} 应急            8
========== ======================== ===

NEV small and large are disjoint (third character letter vs digit); small is tried first anyway.
"""

from __future__ import annotations

import re
import string

from changan.plates.enums import PlateKind

PROVINCES = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新"
"""The 31 province abbreviations, in the order of GA 36-2018."""

DIGITS = string.digits
LETTERS = string.ascii_uppercase
SERIAL_CHARS = "".join(c for c in LETTERS if c not in "IO") + DIGITS
"""Characters allowed in a serial: digits and capitals except I and O."""
FORBIDDEN_SERIAL = "IO"
ENERGY_LETTERS = "DABCEFGHJK"
"""New-energy letters (D = pure electric, F = non pure electric, others reserved / local practice)."""
ENERGY_LETTERS_STRICT = "DF"
"""New-energy letters accepted with ``strict_nev_letters=True``."""

SUFFIXES_SPECIAL = "挂学警领"
SUFFIXES_HK_MACAO = "港澳"
SUFFIXES_TEMPORARY = "试超"
SUFFIX_EMERGENCY = "应急"
SUFFIX_CHARS = SUFFIXES_SPECIAL + SUFFIXES_HK_MACAO + SUFFIXES_TEMPORARY
"""Single-character suffixes (the two-character 应急 is handled separately)."""
EMBASSY_CHAR = "使"
HK_MACAO_PREFIX = "粤Z"

UNREAD_MARKERS = "-?*"
"""Characters that stand for an unread character (GA/T 1400 ``PlateNo`` uses ``-``)."""
MILITARY_PREFIX = "WJ"
MILITARY_CHAR = "军"

NONE_TEXTS = frozenset({"", "无车牌", "无牌", "NOPLATE", "车牌"})
"""Normalised texts meaning the vehicle has no plate (``noPlate`` is upper-cased by normalisation)."""
UNREAD_TEXTS = frozenset({"UNKNOWN"})
"""Normalised texts meaning the camera did not read the plate."""

_P = f"[{PROVINCES}]"
_S = f"[{SERIAL_CHARS}]"
_D = "[0-9]"


def _build(energy: str) -> re.Pattern[str]:
    e = f"[{energy}]"
    alternatives = {
        PlateKind.ORDINARY: f"{_P}[A-Z]{_S}{{5}}",
        PlateKind.SUFFIXED: f"{_P}[A-Z]{_S}{{4}}[{SUFFIXES_SPECIAL}]",
        PlateKind.HK_MACAO: f"{HK_MACAO_PREFIX}{_S}{{4}}[{SUFFIXES_HK_MACAO}]",
        PlateKind.TEMPORARY: f"{_P}[A-Z]{_S}{{4}}[{SUFFIXES_TEMPORARY}]",
        PlateKind.EMBASSY: f"{EMBASSY_CHAR}{_D}{{6}}|{_D}{{6}}{EMBASSY_CHAR}",
        PlateKind.NEV_SMALL: f"{_P}[A-Z]{e}{_S}{_D}{{4}}",
        PlateKind.NEV_LARGE: f"{_P}[A-Z]{_D}{{5}}{e}",
        PlateKind.EMERGENCY: f"{_P}[A-Z]{_S}{{4}}{SUFFIX_EMERGENCY}",
    }
    body = "|".join(f"(?P<{kind.value}>{pattern})" for kind, pattern in alternatives.items())
    return re.compile(body)


_GRAMMAR = _build(ENERGY_LETTERS)
_GRAMMAR_STRICT = _build(ENERGY_LETTERS_STRICT)
_KIND_BY_GROUP: dict[str, PlateKind] = {kind.value: kind for kind in PlateKind}


def match_kind(text: str, *, strict_nev_letters: bool = False) -> PlateKind | None:
    """Kind of a normalised plate ``text`` if it follows one of the grammar patterns, else ``None``.

    Only the patterns of the table above are tried; sentinels (无车牌 …), military and partial
    texts are classified by :func:`changan.plates.read.read_plate` before this is called.
    """
    if len(text) not in (7, 8):
        return None
    grammar = _GRAMMAR_STRICT if strict_nev_letters else _GRAMMAR
    found = grammar.fullmatch(text)
    if found is None or found.lastgroup is None:
        return None
    return _KIND_BY_GROUP[found.lastgroup]


def is_military(text: str) -> bool:
    """True for armed police (``WJ…``) and military (``…军…``) texts, which are kept opaque."""
    return text.startswith(MILITARY_PREFIX) or MILITARY_CHAR in text


def has_unread_marker(text: str) -> bool:
    """True when ``text`` contains one of ``- ? *``."""
    return "-" in text or "?" in text or "*" in text
