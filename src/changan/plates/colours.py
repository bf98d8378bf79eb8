"""Plate colour enumeration and its mappings to and from the codes used by cameras and standards.

Sources:

* GA/T 1400 ``ColorType`` (plate and body colour): 1 黑, 2 白, 3 灰, 4 红, 5 蓝, 6 黄, 7 橙, 8 棕, 9 绿,
  10 紫, 11 青, 12 粉, 13 透明, 99 其他.
* Hikvision ``plateColorByGAT`` (GA/T 833): 0 白, 1 黄, 2 蓝, 3 黑, 4 绿, 5 未识别, 9 其他.
* Hikvision ``plateColor`` strings (``blue``, ``newEnergyGreen``, …).
* Chinese colour words that OCR engines put in front of the plate text (``蓝苏A8HK52``).

All ``from_*`` functions are lenient (ingest): unknown or missing codes give ``UNKNOWN`` and known but
irrelevant colours give ``OTHER``; they never raise.
"""

from __future__ import annotations

from enum import StrEnum


class PlateColor(StrEnum):
    """Background colour of a plate, reduced to what matters for plate classes."""

    BLUE = "blue"
    YELLOW = "yellow"
    WHITE = "white"
    BLACK = "black"
    GREEN = "green"
    """Gradient green of small new-energy plates (also any plain green plate)."""
    YELLOW_GREEN = "yellow_green"
    """Yellow-green of large new-energy plates."""
    OTHER = "other"
    """A known colour that is none of the above (red, orange, civil aviation, …)."""
    UNKNOWN = "unknown"
    """No colour given, or a code we do not know."""

    @property
    def label_zh(self) -> str:
        """Chinese label, e.g. ``"蓝"``."""
        return _LABELS[self]

    def to_gat1400_color(self) -> str:
        """GA/T 1400 ``ColorType`` code for this colour; see :func:`to_gat1400_color`."""
        return to_gat1400_color(self)


_LABELS: dict[PlateColor, str] = {
    PlateColor.BLUE: "蓝",
    PlateColor.YELLOW: "黄",
    PlateColor.WHITE: "白",
    PlateColor.BLACK: "黑",
    PlateColor.GREEN: "渐变绿",
    PlateColor.YELLOW_GREEN: "黄绿",
    PlateColor.OTHER: "其他",
    PlateColor.UNKNOWN: "未知",
}

_FROM_GAT1400: dict[str, PlateColor] = {
    "1": PlateColor.BLACK,
    "2": PlateColor.WHITE,
    "3": PlateColor.OTHER,
    "4": PlateColor.OTHER,
    "5": PlateColor.BLUE,
    "6": PlateColor.YELLOW,
    "7": PlateColor.OTHER,
    "8": PlateColor.OTHER,
    "9": PlateColor.GREEN,
    "10": PlateColor.OTHER,
    "11": PlateColor.OTHER,
    "12": PlateColor.OTHER,
    "13": PlateColor.OTHER,
    "99": PlateColor.OTHER,
}

# GA/T 1400 has no yellow-green and no "unknown": large NEV plates are exported as 9 (绿) and
# unknown colours as 99 (其他). The round trip is therefore lossy for YELLOW_GREEN and UNKNOWN;
# the plate class (51/52) keeps the NEV distinction.
_TO_GAT1400: dict[PlateColor, str] = {
    PlateColor.BLACK: "1",
    PlateColor.WHITE: "2",
    PlateColor.BLUE: "5",
    PlateColor.YELLOW: "6",
    PlateColor.GREEN: "9",
    PlateColor.YELLOW_GREEN: "9",
    PlateColor.OTHER: "99",
    PlateColor.UNKNOWN: "99",
}

_FROM_HIK_BY_GAT: dict[str, PlateColor] = {
    "0": PlateColor.WHITE,
    "1": PlateColor.YELLOW,
    "2": PlateColor.BLUE,
    "3": PlateColor.BLACK,
    "4": PlateColor.GREEN,
    "5": PlateColor.UNKNOWN,
    "9": PlateColor.OTHER,
}

# Keys are lower-cased: Hikvision spells them in camelCase but we match case-insensitively.
# Civil aviation plates are airport vehicles, not road plates: OTHER keeps them out of class inference.
_FROM_HIK_NAME: dict[str, PlateColor] = {
    "blue": PlateColor.BLUE,
    "yellow": PlateColor.YELLOW,
    "white": PlateColor.WHITE,
    "black": PlateColor.BLACK,
    "green": PlateColor.GREEN,
    "newenergygreen": PlateColor.GREEN,
    "newenergyyellowgreen": PlateColor.YELLOW_GREEN,
    "civilaviationblack": PlateColor.OTHER,
    "civilaviationgreen": PlateColor.OTHER,
    "golden": PlateColor.OTHER,
    "orange": PlateColor.OTHER,
    "red": PlateColor.OTHER,
    "mixedcolor": PlateColor.OTHER,
    "brown": PlateColor.OTHER,
    "other": PlateColor.OTHER,
    "unknown": PlateColor.UNKNOWN,
}

ZH_PREFIXES: tuple[str, ...] = ("渐变绿", "黄绿", "蓝", "黄", "白", "黑", "绿")
"""Colour words recognised in front of a plate text, longest first (the order matters)."""

_FROM_ZH: dict[str, PlateColor] = {
    "渐变绿": PlateColor.GREEN,
    "黄绿": PlateColor.YELLOW_GREEN,
    "蓝": PlateColor.BLUE,
    "黄": PlateColor.YELLOW,
    "白": PlateColor.WHITE,
    "黑": PlateColor.BLACK,
    "绿": PlateColor.GREEN,
}


def _numeric_code(code: object) -> str:
    """Canonical form of a numeric code given as ``str`` (or ``int``): no spaces, no leading zeros."""
    if isinstance(code, bool) or not isinstance(code, str | int):
        return ""
    text = str(code).strip()
    if text.isascii() and text.isdigit():
        return str(int(text))
    return text


def from_gat1400_color(code: str) -> PlateColor:
    """Map a GA/T 1400 ``ColorType`` code (``"5"`` or ``"05"``) to a :class:`PlateColor`."""
    return _FROM_GAT1400.get(_numeric_code(code), PlateColor.UNKNOWN)


def to_gat1400_color(colour: PlateColor) -> str:
    """GA/T 1400 ``ColorType`` code for ``colour`` (YELLOW_GREEN → "9", UNKNOWN → "99")."""
    return _TO_GAT1400[colour]


def from_hikvision_color_by_gat(code: str) -> PlateColor:
    """Map Hikvision ``plateColorByGAT`` (GA/T 833: 0 白 1 黄 2 蓝 3 黑 4 绿 5 未识别 9 其他)."""
    return _FROM_HIK_BY_GAT.get(_numeric_code(code), PlateColor.UNKNOWN)


def from_hikvision_color(name: str) -> PlateColor:
    """Map a Hikvision ``plateColor`` string (``"blue"``, ``"newEnergyGreen"``, …), case-insensitive."""
    if not isinstance(name, str):
        return PlateColor.UNKNOWN
    return _FROM_HIK_NAME.get(name.strip().lower(), PlateColor.UNKNOWN)


def from_zh(prefix: str) -> PlateColor:
    """Map a Chinese colour word (``"蓝"``, ``"黄绿"``, ``"渐变绿"``; a trailing 色 or 牌 is ignored)."""
    if not isinstance(prefix, str):
        return PlateColor.UNKNOWN
    word = prefix.strip()
    if len(word) > 1 and word[-1] in "色牌":
        word = word[:-1]
    return _FROM_ZH.get(word, PlateColor.UNKNOWN)
