"""Tests of changan.plates.classes: class inference from kind/colour and from Hikvision plateType."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changan.plates import (
    PlateClass,
    PlateColor,
    PlateKind,
    class_from_hikvision,
    class_from_hikvision_by_gat,
    infer_class,
    read_plate,
)

from .strategies import VECTORS, valid_plates, vector_id

C = PlateClass
COLOURS = list(PlateColor)


@pytest.mark.parametrize("case", [case for case in VECTORS if case["plate_class"]], ids=vector_id)
def test_vector_class(case: dict[str, Any]) -> None:
    read = read_plate(case["raw"], strict_nev_letters=case.get("strict_nev_letters", False))
    assert infer_class(read, None) is PlateClass(case["plate_class"])


@pytest.mark.parametrize(
    ("colour", "expected"),
    [
        (PlateColor.BLUE, C.SMALL),
        (PlateColor.YELLOW, C.LARGE),
        (PlateColor.WHITE, C.OTHER),
        (PlateColor.BLACK, C.OTHER),
        (PlateColor.GREEN, C.OTHER),
        (PlateColor.YELLOW_GREEN, C.OTHER),
        (PlateColor.OTHER, C.OTHER),
        (PlateColor.UNKNOWN, C.SMALL),
        (None, C.SMALL),
    ],
)
def test_ordinary_by_colour(colour: PlateColor | None, expected: PlateClass) -> None:
    assert infer_class(read_plate("鲁P12345"), colour) is expected


def test_explicit_colour_beats_hint_and_unknown_falls_back_to_hint() -> None:
    read = read_plate("黄鲁P12345")
    assert infer_class(read, None) is C.LARGE
    assert infer_class(read, PlateColor.UNKNOWN) is C.LARGE
    assert infer_class(read, PlateColor.BLUE) is C.SMALL


@pytest.mark.parametrize(
    ("raw", "colour", "expected"),
    [
        ("苏A7K3Q-", None, C.OTHER),
        ("苏A7K3Q-", PlateColor.BLUE, C.SMALL),
        ("黄苏A7K3Q-", None, C.LARGE),
        ("绿苏AD-7325", None, C.NEV_SMALL),
        ("黄绿浙F1234-F", None, C.NEV_LARGE),
        ("苏A7K3I9", None, C.OTHER),
        ("苏A7K3I9", PlateColor.YELLOW, C.LARGE),
        ("无车牌", PlateColor.BLUE, C.OTHER),
        ("unknown", PlateColor.YELLOW, C.OTHER),
    ],
)
def test_unidentified_reads(raw: str, colour: PlateColor | None, expected: PlateClass) -> None:
    read = read_plate(raw)
    assert not read.valid
    assert infer_class(read, colour) is expected


@given(valid_plates, st.sampled_from(COLOURS))
def test_text_decides_for_non_ordinary(case: tuple[PlateKind, str], colour: PlateColor) -> None:
    kind, text = case
    read = read_plate(text)
    if kind is not PlateKind.ORDINARY:
        assert infer_class(read, colour) is infer_class(read, None)


@pytest.mark.parametrize(
    ("plate_type", "colour", "raw", "expected"),
    [
        ("92TypeCivil", PlateColor.BLUE, "鲁P12345", C.SMALL),
        ("92TypeCivil", PlateColor.YELLOW, "鲁P12345", C.LARGE),
        ("92TypeCivil", PlateColor.UNKNOWN, "鲁P12345", C.SMALL),
        ("arm", PlateColor.WHITE, "鲁O12345", C.POLICE),
        ("yellowTwoLine", PlateColor.YELLOW, "鲁P12345", C.LARGE),
        ("yellowTwoLine", PlateColor.YELLOW_GREEN, "浙F12345F", C.NEV_LARGE),
        ("embassy", PlateColor.BLACK, "使123456", C.EMBASSY),
        ("consulate", PlateColor.BLACK, "沪A1234领", C.CONSULATE),
        ("trailer", PlateColor.YELLOW, "冀A1234挂", C.TRAILER),
        ("coach", PlateColor.YELLOW, "冀A1234挂", C.TRAILER),
        ("coach", PlateColor.YELLOW, "川A0123学", C.COACH),
        ("tempTravl", PlateColor.OTHER, "鲁P12345", C.TEMP_DRIVING),
        ("hongKongMacao", PlateColor.BLACK, "粤Z1234港", C.HONG_KONG),
        ("hongKongMacao", PlateColor.BLACK, "粤ZA123澳", C.MACAO),
        ("hongKongMacao", PlateColor.BLACK, "粤Z-123澳", C.MACAO),
        ("tempEntry", PlateColor.OTHER, "鲁P12345", C.TEMP_ENTRY),
        ("civilAviation", PlateColor.OTHER, "鲁P12345", C.OTHER),
        ("newEnergy", PlateColor.GREEN, "苏ADK7325", C.NEV_SMALL),
        ("newEnergy", PlateColor.YELLOW_GREEN, "浙F12345F", C.NEV_LARGE),
        ("newEnergy", PlateColor.YELLOW_GREEN, "浙F1234-F", C.NEV_LARGE),
        ("newEnergy", PlateColor.UNKNOWN, "苏AD-7325", C.NEV_SMALL),
        ("emergency", PlateColor.BLUE, "京X1234应急", C.OTHER),
        ("motorola", PlateColor.YELLOW, "鲁P12345", C.MOTORCYCLE),
        ("unknown", PlateColor.BLUE, "鲁P12345", C.SMALL),
        ("somethingNew", PlateColor.YELLOW, "鲁P12345", C.LARGE),
        ("92TypeCivil", PlateColor.BLUE, "WJ京12345", C.ARMED_POLICE),
    ],
)
def test_class_from_hikvision(plate_type: str, colour: PlateColor, raw: str, expected: PlateClass) -> None:
    assert class_from_hikvision(plate_type, colour, read_plate(raw)) is expected


@given(st.text(max_size=15), st.sampled_from(COLOURS), st.text(max_size=10))
def test_class_from_hikvision_never_raises(plate_type: str, colour: PlateColor, raw: str) -> None:
    assert isinstance(class_from_hikvision(plate_type, colour, read_plate(raw)), PlateClass)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("1", C.LARGE), ("2", C.SMALL), ("02", C.SMALL), ("25", C.FORMER_AGRICULTURAL), ("99", C.OTHER)]
    + [(code, None) for code in ("41", "42", "44", "", "x", "100")],
)
def test_class_from_hikvision_by_gat(code: str, expected: PlateClass | None) -> None:
    assert class_from_hikvision_by_gat(code) is expected
