"""Chinese motor-vehicle plates (GA 36-2018): normalisation, grammar, classes, colours, vehicle keys.

Pure Python, standard library only, no I/O. Typical ingest use::

    read = read_plate(raw_text)                      # normalise + classify (+ reason if not valid)
    colour = from_hikvision_color(event.plate_color)  # or from_gat1400_color(...)
    plate_class = PlateClass.try_parse(event.plate_class) or infer_class(read, colour)
    key = key_for_read(read, plate_class, read_id=event.id)

API validation uses the strict parsers :meth:`PlateClass.parse` and :meth:`VehicleKey.parse`, which
raise :class:`PlateError` (a ``ValueError`` with an English ``code`` and a Chinese message).
"""

from changan.plates.classes import class_from_hikvision, class_from_hikvision_by_gat, infer_class
from changan.plates.colours import (
    PlateColor,
    from_gat1400_color,
    from_hikvision_color,
    from_hikvision_color_by_gat,
    from_zh,
    to_gat1400_color,
)
from changan.plates.enums import PlateClass, PlateError, PlateKind
from changan.plates.grammar import PROVINCES
from changan.plates.key import UNIDENTIFIED_PREFIX, VehicleKey, key_for_read
from changan.plates.normalise import normalise
from changan.plates.read import PlateRead, read_plate

__all__ = [
    "PROVINCES",
    "UNIDENTIFIED_PREFIX",
    "PlateClass",
    "PlateColor",
    "PlateError",
    "PlateKind",
    "PlateRead",
    "VehicleKey",
    "class_from_hikvision",
    "class_from_hikvision_by_gat",
    "from_gat1400_color",
    "from_hikvision_color",
    "from_hikvision_color_by_gat",
    "from_zh",
    "infer_class",
    "key_for_read",
    "normalise",
    "read_plate",
    "to_gat1400_color",
]
