"""Step-by-step diagnosis of a normalised plate text that matched no grammar pattern.

The structure is checked in reading order (province, authority letter, suffix, serial, NEV letter,
length) and the first problem found is reported as ``(code, message)``: an English machine code and
a Chinese message naming the 1-based position and the character, e.g.
``("serial_char_forbidden", '第6位"I"不允许出现在序号中（I、O 易与 1、0 混淆）')``.

Codes: ``province_unknown``, ``authority_letter_invalid``, ``serial_char_forbidden``,
``serial_char_invalid``, ``suffix_misplaced``, ``suffix_unknown``, ``suffix_serial_length``,
``hk_macao_prefix``, ``embassy_format``, ``too_short``, ``too_long``, ``nev_energy_letter_invalid``,
``nev_energy_letter_strict``, ``nev_small_digit_expected``, ``nev_large_digit_expected`` and, as a
safety net that the tests show to be unreachable for plate-like texts, ``pattern_mismatch``.
"""

from __future__ import annotations

from changan.plates.grammar import (
    DIGITS,
    EMBASSY_CHAR,
    ENERGY_LETTERS,
    ENERGY_LETTERS_STRICT,
    FORBIDDEN_SERIAL,
    HK_MACAO_PREFIX,
    LETTERS,
    PROVINCES,
    SERIAL_CHARS,
    SUFFIX_CHARS,
    SUFFIX_EMERGENCY,
    SUFFIXES_HK_MACAO,
)

Reason = tuple[str, str]

_ALL_SUFFIX_TEXT = "挂、学、警、领、港、澳、试、超 或 应急"
_ENERGY_TEXT = "、".join(ENERGY_LETTERS)
_ENERGY_STRICT_TEXT = "、".join(ENERGY_LETTERS_STRICT)


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _serial_char(text: str, index: int) -> Reason | None:
    """Check one serial character; ``None`` when it is allowed."""
    char = text[index]
    if char in SERIAL_CHARS:
        return None
    pos = index + 1
    if char in FORBIDDEN_SERIAL:
        return "serial_char_forbidden", f'第{pos}位"{char}"不允许出现在序号中（I、O 易与 1、0 混淆）'
    if char in SUFFIX_CHARS or char in SUFFIX_EMERGENCY:
        return "suffix_misplaced", f'第{pos}位"{char}"只能出现在号牌末尾'
    return "serial_char_invalid", f'第{pos}位"{char}"不能出现在序号中（序号只能是数字和除 I、O 外的大写字母）'


def _serial(text: str, start: int, stop: int) -> Reason | None:
    for index in range(start, stop):
        reason = _serial_char(text, index)
        if reason is not None:
            return reason
    return None


def _digit(text: str, index: int, code: str, context: str) -> Reason | None:
    char = text[index]
    if char in DIGITS:
        return None
    forbidden = "（I、O 不用于号牌）" if char in FORBIDDEN_SERIAL else ""
    return code, f'第{index + 1}位"{char}"应为数字（{context}）{forbidden}'


def _province(text: str) -> Reason:
    char = text[0]
    if char in SUFFIXES_HK_MACAO:
        return "province_unknown", f'第1位"{char}"不是省份简称（"港""澳"只用作粤Z号牌的末位）'
    if char in LETTERS or char in DIGITS:
        return "province_unknown", f'第1位"{char}"应为省份简称汉字（如京、苏、粤）'
    return "province_unknown", f'第1位"{char}"不是省份简称'


def _embassy(text: str) -> Reason:
    digits = text[1:] if text[0] == EMBASSY_CHAR else text[:-1]
    offset = 1 if text[0] == EMBASSY_CHAR else 0
    for index, char in enumerate(digits):
        if char not in DIGITS:
            pos = index + offset + 1
            return "embassy_format", f'第{pos}位"{char}"应为数字（使馆号牌为"使"加6位数字）'
    return "embassy_format", f'使馆号牌应为"使"加6位数字，实际为{len(digits)}位数字'


def _suffixed(text: str, suffix: str) -> Reason:
    if suffix in SUFFIXES_HK_MACAO and not text.startswith(HK_MACAO_PREFIX):
        return "hk_macao_prefix", f'带"{suffix}"字的号牌应以"{HK_MACAO_PREFIX}"开头'
    stop = len(text) - len(suffix)
    reason = _serial(text, 2, stop)
    if reason is not None:
        return reason
    return "suffix_serial_length", f'带"{suffix}"字的号牌序号应为4位，实际为{stop - 2}位'


def _length(text: str) -> Reason:
    size = len(text)
    if size < 7:
        return "too_short", f"号牌只有{size}位（普通号牌为7位，新能源号牌为8位）"
    return "too_long", f"号牌有{size}位（普通号牌为7位，新能源号牌为8位）"


def _energy_letter(text: str, index: int, strict: bool) -> Reason | None:
    char = text[index]
    allowed = ENERGY_LETTERS_STRICT if strict else ENERGY_LETTERS
    if char in allowed:
        return None
    pos = index + 1
    if char in ENERGY_LETTERS:
        return (
            "nev_energy_letter_strict",
            f'第{pos}位"{char}"不是严格模式下的能源类型代号（应为 {_ENERGY_STRICT_TEXT}）',
        )
    return (
        "nev_energy_letter_invalid",
        f'第{pos}位"{char}"不是新能源号牌的能源类型代号（应为 {_ENERGY_TEXT} 之一）',
    )


def _nev(text: str, strict: bool) -> Reason | None:
    """8-character plates without suffix must be new-energy plates."""
    third = text[2]
    if third in DIGITS:
        context = "大型新能源号牌第3–7位为数字、第8位为能源类型代号"
        for index in range(2, 7):
            reason = _digit(text, index, "nev_large_digit_expected", context)
            if reason is not None:
                return reason
        return _energy_letter(text, 7, strict)
    if third in LETTERS:
        reason = _energy_letter(text, 2, strict) or _serial_char(text, 3)
        if reason is not None:
            return reason
        context = "小型新能源号牌第5–8位为数字"
        for index in range(4, 8):
            reason = _digit(text, index, "nev_small_digit_expected", context)
            if reason is not None:
                return reason
        return None
    return _serial_char(text, 2)


def diagnose(text: str, *, strict_nev_letters: bool = False) -> Reason:
    """Explain why the normalised, non-empty ``text`` is not a valid plate.

    Must only be called for texts that :func:`changan.plates.grammar.match_kind` rejected.
    """
    if not text:
        return "too_short", "号牌为空"
    first, last = text[0], text[-1]
    if first == EMBASSY_CHAR or (last == EMBASSY_CHAR and first in DIGITS):
        return _embassy(text)
    if first not in PROVINCES:
        return _province(text)
    if len(text) < 2:
        return _length(text)
    letter = text[1]
    if letter not in LETTERS:
        return "authority_letter_invalid", f'第2位"{letter}"应为发牌机关代号（大写字母 A–Z）'
    if text.endswith(SUFFIX_EMERGENCY):
        return _suffixed(text, SUFFIX_EMERGENCY)
    if last in SUFFIX_CHARS:
        return _suffixed(text, last)
    if _is_cjk(last) and len(text) > 2:
        return "suffix_unknown", f'第{len(text)}位"{last}"不是有效的号牌末位汉字（应为 {_ALL_SUFFIX_TEXT}）'
    if len(text) == 8:
        reason = _nev(text, strict_nev_letters)
    else:
        reason = _serial(text, 2, len(text))
        if reason is None and len(text) != 7:
            reason = _length(text)
    if reason is not None:
        return reason
    return "pattern_mismatch", "号牌格式不符合 GA 36-2018"
