"""Test data shared by the plate tests: the JSON vectors and hypothesis strategies from the grammar."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from changan.plates import PlateKind
from changan.plates.colours import ZH_PREFIXES
from changan.plates.grammar import ENERGY_LETTERS, PROVINCES, SERIAL_CHARS

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).with_name("vectors.json")).read_text("utf-8"))[
    "cases"
]
"""The cases of ``vectors.json``."""


def vector_id(case: dict[str, Any]) -> str:
    """Readable pytest id for a vector."""
    suffix = "-strict" if case.get("strict_nev_letters") else ""
    return f"{case['group']}:{case['raw'] or '<empty>'}{suffix}"


provinces = st.sampled_from(PROVINCES)
letters = st.sampled_from(string.ascii_uppercase)
serial_chars = st.sampled_from(SERIAL_CHARS)
digits = st.sampled_from(string.digits)
energy_letters = st.sampled_from(ENERGY_LETTERS)


def _join(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


def _times(strategy: st.SearchStrategy[str], count: int) -> list[st.SearchStrategy[str]]:
    return [strategy] * count


PLATES_BY_KIND: dict[PlateKind, st.SearchStrategy[str]] = {
    PlateKind.ORDINARY: _join(provinces, letters, *_times(serial_chars, 5)),
    PlateKind.SUFFIXED: _join(provinces, letters, *_times(serial_chars, 4), st.sampled_from("挂学警领")),
    PlateKind.HK_MACAO: _join(st.just("粤Z"), *_times(serial_chars, 4), st.sampled_from("港澳")),
    PlateKind.TEMPORARY: _join(provinces, letters, *_times(serial_chars, 4), st.sampled_from("试超")),
    PlateKind.EMBASSY: st.one_of(
        _join(st.just("使"), *_times(digits, 6)),
        _join(*_times(digits, 6), st.just("使")),
    ),
    PlateKind.NEV_SMALL: _join(provinces, letters, energy_letters, serial_chars, *_times(digits, 4)),
    PlateKind.NEV_LARGE: _join(provinces, letters, *_times(digits, 5), energy_letters),
    PlateKind.EMERGENCY: _join(provinces, letters, *_times(serial_chars, 4), st.just("应急")),
    PlateKind.MILITARY: st.one_of(
        _join(
            st.just("WJ"), provinces, st.text(string.digits + string.ascii_uppercase, min_size=4, max_size=6)
        ),
        _join(st.just("军"), letters, st.text(string.digits, min_size=5, max_size=5)),
    ),
}


def _tagged(kind: PlateKind, strategy: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[PlateKind, str]]:
    return st.tuples(st.just(kind), strategy)


valid_plates: st.SearchStrategy[tuple[PlateKind, str]] = st.one_of(
    *(_tagged(kind, strategy) for kind, strategy in PLATES_BY_KIND.items())
)
"""(expected kind, normalised plate text) for every accepted kind."""

plate_like_text = st.text(
    alphabet=st.sampled_from(PROVINCES[:6] + "黑粤ABDFIOZWJ0189" + "挂学警港澳试应急使军国蓝黄绿-?* ·"),
    max_size=11,
)
"""Short texts over a plate-ish alphabet: mostly invalid, some valid, some partial."""

_SEPARATORS = st.sampled_from([" ", "·", "•", "・", "\u3000", "\t"])


@st.composite
def decorated(draw: st.DrawFn, text: str) -> tuple[str, str | None]:
    """Decorate a valid normalised plate: separators, full-width, lower case, colour word.

    Returns ``(raw, colour_prefix_or_None)``.
    """
    pieces: list[str] = []
    for char in text:
        if draw(st.booleans()) and char.isascii():
            if char.isalpha() and draw(st.booleans()):
                char = char.lower()
            if draw(st.booleans()):
                char = chr(ord(char) + 0xFEE0)
        pieces.append(char)
        if draw(st.integers(0, 3)) == 0:
            pieces.append(draw(_SEPARATORS))
    prefix = draw(st.none() | st.sampled_from(ZH_PREFIXES))
    lead = draw(st.sampled_from(["", " ", "\u3000"]))
    return lead + (prefix or "") + "".join(pieces), prefix
