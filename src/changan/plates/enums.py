"""Enumerations shared by the plate package: plate kinds, plate classes and the error type.

* :class:`PlateKind` is *our* structural classification of a plate text (GA 36-2018 layout),
  derived only from the characters that were read.
* :class:`PlateClass` is the official 号牌种类 code (GA 24.7 / GA/T 1400.3), as sent by cameras
  or inferred by :func:`changan.plates.classes.infer_class`.

The colour enumeration lives in :mod:`changan.plates.colours` together with its code mappings.
"""

from __future__ import annotations

from enum import StrEnum


class PlateError(ValueError):
    """A strict-parse failure: ``code`` is an English machine code, ``str(err)`` is Chinese for users."""

    def __init__(self, message: str, *, code: str = "plate_error") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PlateKind(StrEnum):
    """Structural kind of a plate text, decided by the GA 36-2018 grammar.

    ``PARTIAL``, ``NONE``, ``UNREAD`` and ``INVALID`` reads cannot identify a vehicle.
    """

    ORDINARY = "ordinary"
    """Province + letter + 5 serial characters (blue or yellow plates)."""
    SUFFIXED = "suffixed"
    """4 serial characters followed by 挂 (trailer), 学 (coach), 警 (police) or 领 (consulate)."""
    HK_MACAO = "hk_macao"
    """粤Z + 4 serial characters + 港 or 澳."""
    NEV_SMALL = "nev_small"
    """Small new-energy plate: energy letter then serial character then 4 digits."""
    NEV_LARGE = "nev_large"
    """Large new-energy plate: 5 digits then energy letter."""
    EMERGENCY = "emergency"
    """4 serial characters followed by 应急."""
    EMBASSY = "embassy"
    """使 + 6 digits, or 6 digits + 使."""
    TEMPORARY = "temporary"
    """4 serial characters followed by 试 or 超; accepted but flagged (format not verified)."""
    MILITARY = "military"
    """Armed police (WJ…) or military (…军…) plate, accepted as an opaque string."""
    PARTIAL = "partial"
    """Some characters were not read (``-``, ``?`` or ``*`` in the text)."""
    NONE = "none"
    """The vehicle carries no plate (无车牌 / noPlate)."""
    UNREAD = "unread"
    """The camera could not read the plate at all (unknown)."""
    INVALID = "invalid"
    """A text that does not follow the plate grammar; see ``PlateRead.reason``."""

    @property
    def identifies_vehicle(self) -> bool:
        """True for kinds whose text can identify a vehicle."""
        return self not in _NOT_IDENTIFYING


_NOT_IDENTIFYING = frozenset({PlateKind.PARTIAL, PlateKind.NONE, PlateKind.UNREAD, PlateKind.INVALID})


class PlateClass(StrEnum):
    """号牌种类 (plate class) with its GA 24.7 two-digit code as value.

    Emergency (应急) plates have no dedicated code in the table we follow and use ``OTHER`` ("99").
    """

    LARGE = "01"
    SMALL = "02"
    EMBASSY = "03"
    CONSULATE = "04"
    FOREIGN_REGION = "05"
    FOREIGN = "06"
    MOTORCYCLE = "07"
    MOPED = "08"
    EMBASSY_MOTORCYCLE = "09"
    CONSULATE_MOTORCYCLE = "10"
    FOREIGN_REGION_MOTORCYCLE = "11"
    FOREIGN_MOTORCYCLE = "12"
    LOW_SPEED = "13"
    TRACTOR = "14"
    TRAILER = "15"
    COACH = "16"
    COACH_MOTORCYCLE = "17"
    TEST = "18"
    TEST_MOTORCYCLE = "19"
    TEMP_ENTRY = "20"
    TEMP_ENTRY_MOTORCYCLE = "21"
    TEMP_DRIVING = "22"
    POLICE = "23"
    POLICE_MOTORCYCLE = "24"
    FORMER_AGRICULTURAL = "25"
    HONG_KONG = "26"
    MACAO = "27"
    ARMED_POLICE = "31"
    MILITARY = "32"
    NEV_LARGE = "51"
    NEV_SMALL = "52"
    OTHER = "99"

    @property
    def label_zh(self) -> str:
        """Chinese label, e.g. ``"小型汽车"`` for ``"02"``."""
        return _CLASS_LABELS[self]

    @classmethod
    def parse(cls, code: str) -> PlateClass:
        """Strictly parse a class code for API validation.

        Surrounding whitespace is ignored and a missing leading zero is accepted (``"2"`` → ``"02"``).

        Raises:
            PlateError: (a ``ValueError``) with code ``invalid_plate_class`` for anything else.
        """
        found = cls.try_parse(code)
        if found is None:
            msg = f"号牌种类代码无效：{code!r}（应为 GA 24.7 两位数字代码，如 01 大型汽车、02 小型汽车）"
            raise PlateError(msg, code="invalid_plate_class")
        return found

    @classmethod
    def try_parse(cls, code: str | None) -> PlateClass | None:
        """Lenient variant of :meth:`parse` for ingest: returns ``None`` instead of raising."""
        if not isinstance(code, str):
            return None
        text = code.strip()
        if len(text) == 1:
            text = "0" + text
        return _CLASS_BY_CODE.get(text)


_CLASS_LABELS: dict[PlateClass, str] = {
    PlateClass.LARGE: "大型汽车",
    PlateClass.SMALL: "小型汽车",
    PlateClass.EMBASSY: "使馆汽车",
    PlateClass.CONSULATE: "领馆汽车",
    PlateClass.FOREIGN_REGION: "境外汽车",
    PlateClass.FOREIGN: "外籍汽车",
    PlateClass.MOTORCYCLE: "普通摩托车",
    PlateClass.MOPED: "轻便摩托车",
    PlateClass.EMBASSY_MOTORCYCLE: "使馆摩托车",
    PlateClass.CONSULATE_MOTORCYCLE: "领馆摩托车",
    PlateClass.FOREIGN_REGION_MOTORCYCLE: "境外摩托车",
    PlateClass.FOREIGN_MOTORCYCLE: "外籍摩托车",
    PlateClass.LOW_SPEED: "低速车",
    PlateClass.TRACTOR: "拖拉机",
    PlateClass.TRAILER: "挂车",
    PlateClass.COACH: "教练汽车",
    PlateClass.COACH_MOTORCYCLE: "教练摩托车",
    PlateClass.TEST: "试验汽车",
    PlateClass.TEST_MOTORCYCLE: "试验摩托车",
    PlateClass.TEMP_ENTRY: "临时入境汽车",
    PlateClass.TEMP_ENTRY_MOTORCYCLE: "临时入境摩托车",
    PlateClass.TEMP_DRIVING: "临时行驶车",
    PlateClass.POLICE: "警用汽车",
    PlateClass.POLICE_MOTORCYCLE: "警用摩托车",
    PlateClass.FORMER_AGRICULTURAL: "原农机",
    PlateClass.HONG_KONG: "香港入出境",
    PlateClass.MACAO: "澳门入出境",
    PlateClass.ARMED_POLICE: "武警",
    PlateClass.MILITARY: "军队",
    PlateClass.NEV_LARGE: "大型新能源汽车",
    PlateClass.NEV_SMALL: "小型新能源汽车",
    PlateClass.OTHER: "其他",
}

_CLASS_BY_CODE: dict[str, PlateClass] = {member.value: member for member in PlateClass}
