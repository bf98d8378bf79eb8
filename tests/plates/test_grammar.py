"""Tests of changan.plates.grammar: the patterns, the character classes, strict NEV letters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changan.plates import PROVINCES, PlateKind
from changan.plates.grammar import (
    ENERGY_LETTERS,
    SERIAL_CHARS,
    has_unread_marker,
    is_military,
    match_kind,
)

from .strategies import PLATES_BY_KIND, letters, provinces, serial_chars, valid_plates

GRAMMAR_KINDS = [kind for kind in PLATES_BY_KIND if kind is not PlateKind.MILITARY]


def test_provinces() -> None:
    assert len(PROVINCES) == 31
    assert len(set(PROVINCES)) == 31
    assert "港" not in PROVINCES
    assert "澳" not in PROVINCES


def test_serial_chars_exclude_i_and_o() -> None:
    assert len(SERIAL_CHARS) == 34
    assert "I" not in SERIAL_CHARS
    assert "O" not in SERIAL_CHARS


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("苏A7K3Q9", PlateKind.ORDINARY),
        ("鲁O12345", PlateKind.ORDINARY),
        ("冀A1234挂", PlateKind.SUFFIXED),
        ("粤Z1234港", PlateKind.HK_MACAO),
        ("京A1234试", PlateKind.TEMPORARY),
        ("使123456", PlateKind.EMBASSY),
        ("123456使", PlateKind.EMBASSY),
        ("苏ADK7325", PlateKind.NEV_SMALL),
        ("浙F12345F", PlateKind.NEV_LARGE),
        ("京X1234应急", PlateKind.EMERGENCY),
        ("苏A7K3I9", None),
        ("使1234567", None),
        ("苏A7K3Q", None),
        ("", None),
    ],
)
def test_match_kind(text: str, kind: PlateKind | None) -> None:
    assert match_kind(text) is kind


@pytest.mark.parametrize("kind", GRAMMAR_KINDS)
@given(data=st.data())
def test_each_kind_matches_only_itself(kind: PlateKind, data: st.DataObject) -> None:
    text = data.draw(PLATES_BY_KIND[kind])
    assert match_kind(text) is kind


@given(valid_plates)
def test_lower_case_is_never_matched(case: tuple[PlateKind, str]) -> None:
    _, text = case
    if text.lower() != text:
        assert match_kind(text.lower()) is None


@given(provinces, letters, st.sampled_from(ENERGY_LETTERS), serial_chars, st.integers(0, 9999))
def test_strict_nev_small(province: str, letter: str, energy: str, serial: str, number: int) -> None:
    text = f"{province}{letter}{energy}{serial}{number:04d}"
    expected = PlateKind.NEV_SMALL if energy in "DF" else None
    assert match_kind(text, strict_nev_letters=True) is expected
    assert match_kind(text) is PlateKind.NEV_SMALL


@given(provinces, letters, st.integers(0, 99999), st.sampled_from(ENERGY_LETTERS))
def test_strict_nev_large(province: str, letter: str, number: int, energy: str) -> None:
    text = f"{province}{letter}{number:05d}{energy}"
    expected = PlateKind.NEV_LARGE if energy in "DF" else None
    assert match_kind(text, strict_nev_letters=True) is expected
    assert match_kind(text) is PlateKind.NEV_LARGE


@given(provinces, letters, st.sampled_from("IO"), st.integers(0, 3))
def test_forbidden_letters_break_ordinary(province: str, letter: str, bad: str, position: int) -> None:
    serial = list("12345")
    serial[position] = bad
    assert match_kind(province + letter + "".join(serial)) is None


@pytest.mark.parametrize(
    ("text", "military"),
    [("WJ京12345", True), ("军A12345", True), ("苏A7K3Q9", False), ("W苏J1234", False)],
)
def test_is_military(text: str, military: bool) -> None:
    assert is_military(text) is military


@pytest.mark.parametrize(
    ("text", "marked"), [("鲁B-8-71G", True), ("苏A7?", True), ("苏A*", True), ("苏A7", False)]
)
def test_has_unread_marker(text: str, marked: bool) -> None:
    assert has_unread_marker(text) is marked
