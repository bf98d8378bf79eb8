"""Vehicle identity: the plate number *and* the plate class.

鲁P12345 on a blue plate (02) and on a yellow plate (01) are two different vehicles, so the key is
``"<class>:<plate>"``, e.g. ``"02:鲁P12345"``.

Reads that cannot identify a vehicle (NONE, UNREAD, PARTIAL, INVALID) must never share a key with
another passage: :func:`key_for_read` gives them ``"x:" + read_id``, unique per passage. INVALID texts
are included on purpose: a text that breaks the grammar is most likely a misread, and grouping
passages by it would link unrelated vehicles. The ``x:`` prefix can never collide with a vehicle key,
whose class part is two digits.
"""

from __future__ import annotations

from dataclasses import dataclass

from changan.plates.classes import infer_class
from changan.plates.enums import PlateClass, PlateError
from changan.plates.read import PlateRead, read_plate

UNIDENTIFIED_PREFIX = "x:"
"""Prefix of per-passage keys for reads that do not identify a vehicle."""

_SEPARATOR = ":"


@dataclass(frozen=True, slots=True)
class VehicleKey:
    """Identity of a vehicle: normalised plate text and plate class.

    The constructor does not validate (it is used on the hot path with values from a valid
    :class:`PlateRead`); use :meth:`parse` for untrusted input.
    """

    plate_no: str
    plate_class: PlateClass

    def __str__(self) -> str:
        return f"{self.plate_class.value}{_SEPARATOR}{self.plate_no}"

    @classmethod
    def parse(cls, text: str) -> VehicleKey:
        """Parse ``"02:鲁P12345"`` (strict, for API input).

        The class accepts a missing leading zero (``"2:…"``); the plate part is normalised (so
        ``"02:鲁p12345"`` gives ``鲁P12345``) and must be a valid plate.

        Raises:
            PlateError: (a ``ValueError``) with codes ``vehicle_key_format``,
                ``vehicle_key_unidentified``, ``invalid_plate_class`` or the plate's reason code.
        """
        if not isinstance(text, str) or _SEPARATOR not in text:
            msg = f'车辆标识格式错误：{text!r}（应为"号牌种类:号牌号码"，如"02:鲁P12345"）'
            raise PlateError(msg, code="vehicle_key_format")
        class_part, plate_part = text.split(_SEPARATOR, 1)
        if class_part.strip().lower() == UNIDENTIFIED_PREFIX[:-1]:
            msg = f'"{text}"是单次过车的标识（号牌无法识别车辆），不是车辆标识'
            raise PlateError(msg, code="vehicle_key_unidentified")
        plate_class = PlateClass.parse(class_part)
        read = read_plate(plate_part)
        if not read.valid:
            code = read.reason_code or "plate_invalid"
            msg = f"车辆标识中的号牌无效：{plate_part!r}（{read.reason or '无法识别车辆'}）"
            raise PlateError(msg, code=code)
        return cls(read.text, plate_class)


def key_for_read(read: PlateRead, plate_class: PlateClass | None, *, read_id: str) -> str:
    """Key under which a passage is grouped with other passages of the same vehicle.

    Args:
        read: the plate read of the passage.
        plate_class: class reported by the camera, or ``None`` to use :func:`infer_class` (with the
            read's colour hint).
        read_id: unique identifier of the passage; used for reads that do not identify a vehicle.

    Returns:
        ``str(VehicleKey(read.text, plate_class))`` for a valid read, else ``"x:" + read_id``.

    Raises:
        ValueError: if ``read_id`` is empty while needed (uniqueness could not be guaranteed).
    """
    if read.valid:
        cls = plate_class if plate_class is not None else infer_class(read, None)
        return f"{cls.value}{_SEPARATOR}{read.text}"
    if not read_id:
        msg = "read_id 不能为空：无法识别车辆的过车记录需要唯一的过车标识"
        raise ValueError(msg)
    return UNIDENTIFIED_PREFIX + read_id
