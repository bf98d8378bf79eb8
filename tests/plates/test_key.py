"""Tests of changan.plates.key: vehicle identity = plate text + plate class."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changan.plates import (
    UNIDENTIFIED_PREFIX,
    PlateClass,
    PlateError,
    PlateKind,
    VehicleKey,
    key_for_read,
    read_plate,
)

from .strategies import plate_like_text, valid_plates

UNIDENTIFIED_RAWS = ["无车牌", "noPlate", "", "unknown", "鲁B-8-71G", "苏A7K3Q?", "苏A7K3I9", "港A12345"]
read_ids = st.text(min_size=1, max_size=20)


def test_str_and_parse() -> None:
    key = VehicleKey("鲁P12345", PlateClass.SMALL)
    assert str(key) == "02:鲁P12345"
    assert VehicleKey.parse("02:鲁P12345") == key
    assert VehicleKey.parse("2:鲁p12345") == key
    assert VehicleKey.parse("01:鲁P12345") != key


def test_key_is_frozen_and_hashable() -> None:
    key = VehicleKey("鲁P12345", PlateClass.SMALL)
    assert len({key, VehicleKey("鲁P12345", PlateClass.SMALL)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.plate_no = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("鲁P12345", "vehicle_key_format"),
        ("", "vehicle_key_format"),
        ("x:abc", "vehicle_key_unidentified"),
        ("28:鲁P12345", "invalid_plate_class"),
        ("小型汽车:鲁P12345", "invalid_plate_class"),
        ("02:鲁P1234I", "serial_char_forbidden"),
        ("02:鲁B-8-71G", "partial_read"),
        ("02:无车牌", "no_plate"),
        ("02:", "no_plate"),
    ],
)
def test_parse_errors(text: str, code: str) -> None:
    with pytest.raises(PlateError) as info:
        VehicleKey.parse(text)
    assert isinstance(info.value, ValueError)
    assert info.value.code == code
    assert str(info.value)


@given(valid_plates, st.sampled_from(list(PlateClass)))
def test_round_trip(case: tuple[PlateKind, str], plate_class: PlateClass) -> None:
    _, text = case
    key = VehicleKey(text, plate_class)
    assert VehicleKey.parse(str(key)) == key
    assert key_for_read(read_plate(text), plate_class, read_id="r1") == str(key)


@given(valid_plates)
def test_classes_01_and_02_are_different_vehicles(case: tuple[PlateKind, str]) -> None:
    _, text = case
    read = read_plate(text)
    large = key_for_read(read, PlateClass.LARGE, read_id="a")
    small = key_for_read(read, PlateClass.SMALL, read_id="a")
    assert large != small
    assert VehicleKey.parse(large).plate_no == VehicleKey.parse(small).plate_no


def test_key_for_read_infers_class() -> None:
    assert key_for_read(read_plate("黄鲁P12345"), None, read_id="r") == "01:鲁P12345"
    assert key_for_read(read_plate("鲁P12345"), None, read_id="r") == "02:鲁P12345"
    assert key_for_read(read_plate("浙F12345F"), None, read_id="r") == "51:浙F12345F"


@pytest.mark.parametrize("raw", UNIDENTIFIED_RAWS)
def test_unidentified_reads_get_passage_keys(raw: str) -> None:
    read = read_plate(raw)
    assert not read.valid
    assert key_for_read(read, PlateClass.SMALL, read_id="p-42") == "x:p-42"
    with pytest.raises(ValueError, match="read_id"):
        key_for_read(read, None, read_id="")


@given(st.sampled_from(UNIDENTIFIED_RAWS) | plate_like_text, read_ids, read_ids)
def test_unidentified_keys_never_collide(raw: str, first_id: str, second_id: str) -> None:
    read = read_plate(raw)
    if read.valid:
        return
    first = key_for_read(read, None, read_id=first_id)
    second = key_for_read(read, PlateClass.SMALL, read_id=second_id)
    assert (first == second) == (first_id == second_id)
    assert first.startswith(UNIDENTIFIED_PREFIX)


@given(valid_plates, st.sampled_from(UNIDENTIFIED_RAWS), read_ids)
def test_unidentified_keys_never_equal_vehicle_keys(
    case: tuple[PlateKind, str], raw: str, read_id: str
) -> None:
    _, text = case
    vehicle = key_for_read(read_plate(text), None, read_id=read_id)
    passage = key_for_read(read_plate(raw), None, read_id=read_id)
    assert vehicle != passage
    assert read_plate(raw).kind in {PlateKind.NONE, PlateKind.UNREAD, PlateKind.PARTIAL, PlateKind.INVALID}
