"""Tests of changan.plates.normalise: the spec vectors, idempotence, decorations of valid plates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changan.plates import PlateColor, PlateKind, from_zh, normalise

from .strategies import decorated, plate_like_text, valid_plates


@pytest.mark.parametrize(
    ("raw", "text", "hint"),
    [
        ("蓝苏A8HK52", "苏A8HK52", PlateColor.BLUE),
        ("苏A·7K3Q9", "苏A7K3Q9", None),
        ("苏ａ７ｋ３ｑ９", "苏A7K3Q9", None),
        ("鲁B-8-71G", "鲁B-8-71G", None),
        ("黄绿浙F12345F", "浙F12345F", PlateColor.YELLOW_GREEN),
        ("渐变绿苏ADK7325", "苏ADK7325", PlateColor.GREEN),
        ("黑A12345", "黑A12345", None),
        ("黑黑A12345", "黑A12345", PlateColor.BLACK),
        ("黑WJ1234", "黑WJ1234", None),
        ("蓝黑" + "黑" * 10 + "A12345", "黑A12345", PlateColor.BLUE),
        ("黑WJ京12345", "WJ京12345", PlateColor.BLACK),
        ("黑?12345", "黑-12345", None),
        ("蓝?A12345", "-A12345", PlateColor.BLUE),
        ("蓝蓝苏A8HK52", "蓝蓝苏A8HK52", None),  # a colour word is only removed before a plate start
        ("蓝", "蓝", None),
        ("苏-A-7K3Q9", "苏A7K3Q9", None),
        ("苏A-7K3Q9", "苏A-7K3Q9", None),
        ("苏A—7K3Q9", "苏A-7K3Q9", None),
        ("苏A7K3Q?", "苏A7K3Q-", None),
        ("苏A7?", "苏A7?", None),
        ("苏A7-?", "苏A7?", None),
        ("WJ01-12345", "WJ01-12345", None),
        ("noPlate", "NOPLATE", None),
        ("", "", None),
        (" \t\u3000", "", None),
    ],
)
def test_normalise(raw: str, text: str, hint: PlateColor | None) -> None:
    assert normalise(raw) == (text, hint)


@given(st.text(max_size=30))
def test_idempotent_on_any_text(raw: str) -> None:
    text, _ = normalise(raw)
    assert normalise(text) == (text, None)


@given(plate_like_text)
def test_idempotent_on_plate_like_text(raw: str) -> None:
    text, _ = normalise(raw)
    assert normalise(text) == (text, None)


@given(valid_plates)
def test_valid_plates_are_fixed_points(case: tuple[PlateKind, str]) -> None:
    _, text = case
    assert normalise(text) == (text, None)


@given(valid_plates, st.data())
def test_decorations_give_the_same_text(case: tuple[PlateKind, str], data: st.DataObject) -> None:
    _, text = case
    raw, prefix = data.draw(decorated(text))
    assert normalise(raw) == (text, None if prefix is None else from_zh(prefix))
