"""Tests of changan.plates.read: the JSON vectors end to end, caching and the PlateRead type."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changan.plates import PlateColor, PlateKind, PlateRead, read_plate
from changan.plates.read import clear_cache

from .strategies import VECTORS, plate_like_text, valid_plates, vector_id

NOT_VALID = {PlateKind.PARTIAL, PlateKind.NONE, PlateKind.UNREAD, PlateKind.INVALID}


@pytest.mark.parametrize("case", VECTORS, ids=vector_id)
def test_vector(case: dict[str, Any]) -> None:
    read = read_plate(case["raw"], strict_nev_letters=case.get("strict_nev_letters", False))
    assert read.raw == case["raw"]
    assert read.text == case["text"]
    assert read.kind == PlateKind(case["kind"])
    assert read.reason_code == case["reason_code"]
    expected_hint = None if case["colour_hint"] is None else PlateColor(case["colour_hint"])
    assert read.colour_hint == expected_hint
    assert read.valid == (read.kind not in NOT_VALID)
    if read.valid:
        assert read.reason is None
    else:
        assert read.reason  # a Chinese explanation is always given


def test_vectors_cover_every_kind() -> None:
    kinds = {PlateKind(case["kind"]) for case in VECTORS}
    assert kinds == set(PlateKind)


def test_spec_reason_message() -> None:
    read = read_plate("苏A7K3I9")
    assert read.reason_code == "serial_char_forbidden"
    assert read.reason == '第6位"I"不允许出现在序号中（I、O 易与 1、0 混淆）'


def test_partial_message_lists_positions() -> None:
    assert read_plate("鲁B-8-71G").reason == "号牌第3、5位未识别"


def test_strict_mode_default_is_lenient() -> None:
    assert read_plate("沪AA56789").kind is PlateKind.NEV_SMALL
    assert read_plate("沪AA56789", strict_nev_letters=True).kind is PlateKind.INVALID
    assert read_plate("浙F12345F", strict_nev_letters=True).kind is PlateKind.NEV_LARGE


def test_cache_returns_same_object_and_can_be_cleared() -> None:
    clear_cache()
    first = read_plate("苏A7K3Q9")
    assert read_plate("苏A7K3Q9") is first
    clear_cache()
    assert read_plate("苏A7K3Q9") == first


def test_long_text_bypasses_cache_and_is_invalid() -> None:
    raw = "苏A" + "1" * 100
    read = read_plate(raw)
    assert read.kind is PlateKind.INVALID
    assert read.reason_code == "too_long"


def test_plate_read_is_frozen() -> None:
    read = read_plate("苏A7K3Q9")
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.text = "x"  # type: ignore[misc]


@pytest.mark.parametrize("kind", list(PlateKind))
def test_valid_property_by_kind(kind: PlateKind) -> None:
    read = PlateRead("raw", "text", kind, None, None, None)
    assert read.valid == (kind not in NOT_VALID)


@given(valid_plates)
def test_generated_plates_are_valid(case: tuple[PlateKind, str]) -> None:
    kind, text = case
    read = read_plate(text)
    assert read.kind is kind
    assert read.text == text
    assert read.valid
    assert read.reason_code is None


@given(st.text(max_size=20))
def test_never_raises_and_reason_iff_not_valid(raw: str) -> None:
    read = read_plate(raw)
    assert (read.reason_code is None) == read.valid
    assert (read.reason is None) == read.valid


@given(plate_like_text)
def test_plate_like_text_is_consistent(raw: str) -> None:
    read = read_plate(raw)
    assert read.text == read_plate(read.text).text
    assert read_plate(read.text).kind is read.kind
