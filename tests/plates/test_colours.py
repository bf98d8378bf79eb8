"""Tests of changan.plates.colours: the code tables and their lenient behaviour."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changan.plates import (
    PlateColor,
    from_gat1400_color,
    from_hikvision_color,
    from_hikvision_color_by_gat,
    from_zh,
    to_gat1400_color,
)


@pytest.mark.parametrize(
    ("code", "colour"),
    [
        ("1", PlateColor.BLACK),
        ("2", PlateColor.WHITE),
        ("3", PlateColor.OTHER),
        ("5", PlateColor.BLUE),
        ("05", PlateColor.BLUE),
        (" 6 ", PlateColor.YELLOW),
        ("9", PlateColor.GREEN),
        ("13", PlateColor.OTHER),
        ("99", PlateColor.OTHER),
        ("14", PlateColor.UNKNOWN),
        ("", PlateColor.UNKNOWN),
        ("blue", PlateColor.UNKNOWN),
    ],
)
def test_from_gat1400(code: str, colour: PlateColor) -> None:
    assert from_gat1400_color(code) is colour


@pytest.mark.parametrize(
    ("colour", "code"),
    [
        (PlateColor.BLACK, "1"),
        (PlateColor.WHITE, "2"),
        (PlateColor.BLUE, "5"),
        (PlateColor.YELLOW, "6"),
        (PlateColor.GREEN, "9"),
        (PlateColor.YELLOW_GREEN, "9"),
        (PlateColor.OTHER, "99"),
        (PlateColor.UNKNOWN, "99"),
    ],
)
def test_to_gat1400(colour: PlateColor, code: str) -> None:
    assert to_gat1400_color(colour) == code
    assert colour.to_gat1400_color() == code


@pytest.mark.parametrize(
    "colour", [PlateColor.BLUE, PlateColor.YELLOW, PlateColor.WHITE, PlateColor.BLACK, PlateColor.GREEN]
)
def test_gat1400_round_trip(colour: PlateColor) -> None:
    assert from_gat1400_color(to_gat1400_color(colour)) is colour


@pytest.mark.parametrize(
    ("code", "colour"),
    [
        ("0", PlateColor.WHITE),
        ("1", PlateColor.YELLOW),
        ("2", PlateColor.BLUE),
        ("3", PlateColor.BLACK),
        ("4", PlateColor.GREEN),
        ("5", PlateColor.UNKNOWN),
        ("9", PlateColor.OTHER),
        ("7", PlateColor.UNKNOWN),
    ],
)
def test_from_hikvision_by_gat(code: str, colour: PlateColor) -> None:
    assert from_hikvision_color_by_gat(code) is colour


@pytest.mark.parametrize(
    ("name", "colour"),
    [
        ("blue", PlateColor.BLUE),
        ("yellow", PlateColor.YELLOW),
        ("white", PlateColor.WHITE),
        ("black", PlateColor.BLACK),
        ("green", PlateColor.GREEN),
        ("newEnergyGreen", PlateColor.GREEN),
        ("newEnergyYellowGreen", PlateColor.YELLOW_GREEN),
        ("civilAviationBlack", PlateColor.OTHER),
        ("civilAviationGreen", PlateColor.OTHER),
        ("golden", PlateColor.OTHER),
        ("orange", PlateColor.OTHER),
        ("red", PlateColor.OTHER),
        ("mixedColor", PlateColor.OTHER),
        ("brown", PlateColor.OTHER),
        ("other", PlateColor.OTHER),
        ("unknown", PlateColor.UNKNOWN),
        ("BLUE", PlateColor.BLUE),
        ("purple", PlateColor.UNKNOWN),
    ],
)
def test_from_hikvision(name: str, colour: PlateColor) -> None:
    assert from_hikvision_color(name) is colour


@pytest.mark.parametrize(
    ("word", "colour"),
    [
        ("蓝", PlateColor.BLUE),
        ("黄", PlateColor.YELLOW),
        ("白", PlateColor.WHITE),
        ("黑", PlateColor.BLACK),
        ("绿", PlateColor.GREEN),
        ("渐变绿", PlateColor.GREEN),
        ("黄绿", PlateColor.YELLOW_GREEN),
        ("蓝色", PlateColor.BLUE),
        ("黄牌", PlateColor.YELLOW),
        ("紫", PlateColor.UNKNOWN),
        ("", PlateColor.UNKNOWN),
    ],
)
def test_from_zh(word: str, colour: PlateColor) -> None:
    assert from_zh(word) is colour


def test_labels_are_complete() -> None:
    assert {colour.label_zh for colour in PlateColor} == {
        "蓝",
        "黄",
        "白",
        "黑",
        "渐变绿",
        "黄绿",
        "其他",
        "未知",
    }


@given(st.text(max_size=12))
def test_mappings_never_raise(text: str) -> None:
    for function in (from_gat1400_color, from_hikvision_color, from_hikvision_color_by_gat, from_zh):
        assert isinstance(function(text), PlateColor)
