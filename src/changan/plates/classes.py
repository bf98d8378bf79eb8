"""Plate class (号牌种类) inference from what was read, and from Hikvision ``plateType`` strings.

Decisions (see also :class:`changan.plates.enums.PlateClass`):

* The text decides whenever it can: NEV small → 52, NEV large → 51, 挂 → 15, 学 → 16, 警 → 23,
  领 → 04, 港 → 26, 澳 → 27, embassy → 03, emergency (应急) → 99, 试 → 18, 超 → 22,
  WJ… → 31, other military → 32. The suffix is printed on the plate, so it beats a camera's
  ``plateType`` guess.
* An ordinary 7-character plate is decided by colour: blue → 02, yellow → 01; white, black, green,
  yellow-green and other colours → 99 (unsure: white ordinary plates such as 鲁O… are police HQ
  vehicles but only 警 plates are 23; black ones may be 05/06/26/27).
* An ordinary plate with unknown colour → 02, because the blue small car is by far the most common.
  Known limitation: a yellow-plate vehicle read once without colour gets key ``02:…`` instead of
  ``01:…`` and therefore a different vehicle key.
* Non-identifying reads (PARTIAL, INVALID) get a colour-based class (blue 02, yellow 01, green 52,
  yellow-green 51, else 99); NONE and UNREAD get 99. Their vehicle key is per-passage anyway.
"""

from __future__ import annotations

from changan.plates.colours import PlateColor
from changan.plates.enums import PlateClass, PlateKind
from changan.plates.grammar import MILITARY_PREFIX
from changan.plates.read import PlateRead

_BY_SUFFIX: dict[str, PlateClass] = {
    "挂": PlateClass.TRAILER,
    "学": PlateClass.COACH,
    "警": PlateClass.POLICE,
    "领": PlateClass.CONSULATE,
    "港": PlateClass.HONG_KONG,
    "澳": PlateClass.MACAO,
    "试": PlateClass.TEST,
    "超": PlateClass.TEMP_DRIVING,
}

_BY_KIND: dict[PlateKind, PlateClass] = {
    PlateKind.NEV_SMALL: PlateClass.NEV_SMALL,
    PlateKind.NEV_LARGE: PlateClass.NEV_LARGE,
    PlateKind.EMBASSY: PlateClass.EMBASSY,
    PlateKind.EMERGENCY: PlateClass.OTHER,
    PlateKind.NONE: PlateClass.OTHER,
    PlateKind.UNREAD: PlateClass.OTHER,
}

_ORDINARY_BY_COLOUR: dict[PlateColor, PlateClass] = {
    PlateColor.BLUE: PlateClass.SMALL,
    PlateColor.YELLOW: PlateClass.LARGE,
    PlateColor.UNKNOWN: PlateClass.SMALL,
}

_UNIDENTIFIED_BY_COLOUR: dict[PlateColor, PlateClass] = {
    PlateColor.BLUE: PlateClass.SMALL,
    PlateColor.YELLOW: PlateClass.LARGE,
    PlateColor.GREEN: PlateClass.NEV_SMALL,
    PlateColor.YELLOW_GREEN: PlateClass.NEV_LARGE,
}

_SUFFIXED_KINDS = frozenset({PlateKind.SUFFIXED, PlateKind.HK_MACAO, PlateKind.TEMPORARY})

# Hikvision plateType → class, for the types that determine the class on their own.
_BY_HIKVISION_TYPE: dict[str, PlateClass] = {
    "arm": PlateClass.POLICE,
    "yellowtwoline": PlateClass.LARGE,
    "embassy": PlateClass.EMBASSY,
    "consulate": PlateClass.CONSULATE,
    "trailer": PlateClass.TRAILER,
    "coach": PlateClass.COACH,
    "temptravl": PlateClass.TEMP_DRIVING,
    "tempentry": PlateClass.TEMP_ENTRY,
    "civilaviation": PlateClass.OTHER,
    "emergency": PlateClass.OTHER,
    "motorola": PlateClass.MOTORCYCLE,
}
_HIKVISION_HK_MACAO = "hongkongmacao"
_HIKVISION_NEW_ENERGY = "newenergy"

_TEXT_DECIDES = frozenset(
    {
        PlateKind.SUFFIXED,
        PlateKind.HK_MACAO,
        PlateKind.TEMPORARY,
        PlateKind.NEV_SMALL,
        PlateKind.NEV_LARGE,
        PlateKind.EMBASSY,
        PlateKind.EMERGENCY,
        PlateKind.MILITARY,
    }
)


def _effective_colour(read: PlateRead, colour: PlateColor | None) -> PlateColor:
    if colour is not None and colour is not PlateColor.UNKNOWN:
        return colour
    return read.colour_hint or PlateColor.UNKNOWN


def infer_class(read: PlateRead, colour: PlateColor | None) -> PlateClass:
    """Infer the plate class when the camera gave none.

    ``colour`` is the plate colour reported by the camera; when it is ``None`` or ``UNKNOWN`` the
    colour hint of the read (``蓝苏A…``) is used instead. See the module docstring for the rules.
    """
    kind = read.kind
    found = _BY_KIND.get(kind)
    if found is not None:
        return found
    if kind in _SUFFIXED_KINDS:
        return _BY_SUFFIX.get(read.text[-1], PlateClass.OTHER)
    if kind is PlateKind.MILITARY:
        return PlateClass.ARMED_POLICE if read.text.startswith(MILITARY_PREFIX) else PlateClass.MILITARY
    effective = _effective_colour(read, colour)
    if kind is PlateKind.ORDINARY:
        return _ORDINARY_BY_COLOUR.get(effective, PlateClass.OTHER)
    return _UNIDENTIFIED_BY_COLOUR.get(effective, PlateClass.OTHER)


def class_from_hikvision(plate_type: str, plate_color: PlateColor, read: PlateRead) -> PlateClass:
    """Plate class from a Hikvision ``plateType`` string, the plate colour and the read.

    Precedence: a class printed in the text (suffix, NEV layout, embassy, military) wins; then a
    ``plateType`` that determines the class (``trailer`` → 15, ``arm`` → 23, ``motorola`` → 07, …);
    ``hongKongMacao`` and ``newEnergy`` are split by text / colour; ``92TypeCivil``, ``unknown`` and
    unrecognised types fall back to :func:`infer_class`. Never raises.
    """
    if read.kind in _TEXT_DECIDES:
        return infer_class(read, plate_color)
    key = plate_type.strip().lower() if isinstance(plate_type, str) else ""
    found = _BY_HIKVISION_TYPE.get(key)
    if found is not None:
        return found
    if key == _HIKVISION_HK_MACAO:
        return PlateClass.MACAO if read.text.endswith("澳") else PlateClass.HONG_KONG
    if key == _HIKVISION_NEW_ENERGY:
        if _effective_colour(read, plate_color) is PlateColor.YELLOW_GREEN:
            return PlateClass.NEV_LARGE
        return PlateClass.NEV_SMALL
    return infer_class(read, plate_color)


_HIKVISION_GAT_NOT_A_CLASS = frozenset({"41", "42", "44"})


def class_from_hikvision_by_gat(code: str) -> PlateClass | None:
    """Plate class from Hikvision ``palteTypeByGAT`` (sic): 1 → 01, 2 → 02, 25 → 25, 99 → 99, ….

    Hikvision's extra codes 41 (no plate), 42 (fake plate) and 44 (unrecognisable) describe the plate
    state rather than a class and, like unknown codes, give ``None`` (then use :func:`infer_class`).
    """
    if not isinstance(code, str):
        return None
    text = code.strip()
    if text in _HIKVISION_GAT_NOT_A_CLASS:
        return None
    return PlateClass.try_parse(text)
