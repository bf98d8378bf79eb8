"""Tests of changan.plates.enums: the GA 24.7 class table, strict parsing and PlateKind values."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changan.plates import PlateClass, PlateError, PlateKind

EXPECTED_LABELS = {
    "01": "大型汽车",
    "02": "小型汽车",
    "03": "使馆汽车",
    "04": "领馆汽车",
    "05": "境外汽车",
    "06": "外籍汽车",
    "07": "普通摩托车",
    "08": "轻便摩托车",
    "09": "使馆摩托车",
    "10": "领馆摩托车",
    "11": "境外摩托车",
    "12": "外籍摩托车",
    "13": "低速车",
    "14": "拖拉机",
    "15": "挂车",
    "16": "教练汽车",
    "17": "教练摩托车",
    "18": "试验汽车",
    "19": "试验摩托车",
    "20": "临时入境汽车",
    "21": "临时入境摩托车",
    "22": "临时行驶车",
    "23": "警用汽车",
    "24": "警用摩托车",
    "25": "原农机",
    "26": "香港入出境",
    "27": "澳门入出境",
    "31": "武警",
    "32": "军队",
    "51": "大型新能源汽车",
    "52": "小型新能源汽车",
    "99": "其他",
}


def test_class_table() -> None:
    assert {member.value: member.label_zh for member in PlateClass} == EXPECTED_LABELS


def test_named_members() -> None:
    assert PlateClass.LARGE.value == "01"
    assert PlateClass.SMALL.value == "02"
    assert PlateClass.NEV_LARGE.value == "51"
    assert PlateClass.NEV_SMALL.value == "52"
    assert PlateClass.OTHER.value == "99"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("02", PlateClass.SMALL),
        ("2", PlateClass.SMALL),
        (" 52 ", PlateClass.NEV_SMALL),
        ("99", PlateClass.OTHER),
    ],
)
def test_parse(code: str, expected: PlateClass) -> None:
    assert PlateClass.parse(code) is expected


@pytest.mark.parametrize("code", ["", "00", "28", "002", "小型汽车", "SMALL", "0x2", "２"])
def test_parse_rejects(code: str) -> None:
    with pytest.raises(ValueError, match="号牌种类代码无效") as info:
        PlateClass.parse(code)
    assert isinstance(info.value, PlateError)
    assert info.value.code == "invalid_plate_class"


@given(st.text(max_size=4))
def test_try_parse_never_raises(code: str) -> None:
    found = PlateClass.try_parse(code)
    assert found is None or found.value == code.strip().zfill(2)


def test_try_parse_none() -> None:
    assert PlateClass.try_parse(None) is None


def test_kind_values() -> None:
    assert {kind.value for kind in PlateKind} == {
        "ordinary",
        "suffixed",
        "hk_macao",
        "nev_small",
        "nev_large",
        "emergency",
        "embassy",
        "temporary",
        "military",
        "partial",
        "none",
        "unread",
        "invalid",
    }
    assert str(PlateKind.NEV_SMALL) == "nev_small"


def test_enums_are_str() -> None:
    assert f"{PlateClass.SMALL}:鲁P12345" == "02:鲁P12345"
    assert isinstance(PlateClass.SMALL, str)


def test_plate_error_pickles() -> None:
    error = PlateError("号牌种类代码无效", code="invalid_plate_class")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, PlateError)
    assert (str(copy), copy.code) == ("号牌种类代码无效", "invalid_plate_class")
