"""Tests of changan.plates.diagnose: specific reasons found by walking the structure."""

from __future__ import annotations

import re

import pytest
from hypothesis import given

from changan.plates import PlateKind, read_plate
from changan.plates.diagnose import diagnose

from .strategies import plate_like_text

POSITION = re.compile(r'^第(\d+)位"(.)"')


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("苏A7K3I9", "serial_char_forbidden", '第6位"I"不允许出现在序号中（I、O 易与 1、0 混淆）'),
        ("苏A7KO39", "serial_char_forbidden", '第5位"O"不允许出现在序号中（I、O 易与 1、0 混淆）'),
        ("苏A7K3Q", "too_short", "号牌只有6位（普通号牌为7位，新能源号牌为8位）"),
        ("苏AZ73E25", "nev_energy_letter_invalid", None),
        ("浙F1234FF", "nev_large_digit_expected", None),
        ("港A12345", "province_unknown", '第1位"港"不是省份简称（"港""澳"只用作粤Z号牌的末位）'),
        ("苏1234567", "authority_letter_invalid", '第2位"1"应为发牌机关代号（大写字母 A–Z）'),
        ("京A123挂", "suffix_serial_length", '带"挂"字的号牌序号应为4位，实际为3位'),
        ("京Z1234港", "hk_macao_prefix", '带"港"字的号牌应以"粤Z"开头'),
        ("使12345", "embassy_format", '使馆号牌应为"使"加6位数字，实际为5位数字'),
        ("苏", "too_short", "号牌只有1位（普通号牌为7位，新能源号牌为8位）"),
    ],
)
def test_specific_reason(text: str, code: str, message: str | None) -> None:
    got_code, got_message = diagnose(text)
    assert got_code == code
    if message is not None:
        assert got_message == message


def test_nev_reasons_name_position() -> None:
    assert diagnose("苏AZ73E25")[1].startswith('第3位"Z"')
    assert diagnose("浙F1234FF")[1].startswith('第7位"F"')
    assert diagnose("浙F123456")[1].startswith('第8位"6"')


def test_strict_reason() -> None:
    code, message = diagnose("沪AA56789", strict_nev_letters=True)
    assert code == "nev_energy_letter_strict"
    assert "D、F" in message


@given(plate_like_text)
def test_invalid_reads_get_a_specific_reason(raw: str) -> None:
    read = read_plate(raw)
    if read.kind is not PlateKind.INVALID:
        return
    assert read.reason_code != "pattern_mismatch"
    assert read.reason
    found = POSITION.match(read.reason)
    if found is not None:
        position, char = int(found.group(1)), found.group(2)
        assert read.text[position - 1] == char
