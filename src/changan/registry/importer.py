"""Reading registry files (机动车登记) and normalising each row into a :class:`RegistryRecord`.

No database here: :mod:`changan.registry.service` writes what this module reads.

**Formats.** CSV (UTF-8, UTF-8 with BOM or GB18030; the delimiter is the most frequent of
``, \\t ; |`` in the header line), JSON lines (also a ``.json`` file holding one array), and Parquet
(read through DuckDB). Excel (``.xlsx``) is refused with a clear message: openpyxl is not a
dependency of changan; save the sheet as CSV.

**Headers.** Chinese, the traffic-management database's pinyin abbreviations, or English; matched
after NFKC, lower case and removal of spaces, ``_`` and ``-``:

=============  ==================================================================
field          accepted headers
=============  ==================================================================
plate_no       号牌号码, 号牌, 车牌号码, 车牌号, HPHM, plate_no, plate_number, plate
plate_class    号牌种类, 号牌种类代码, HPZL, plate_class
vehicle_class  车辆类型, CLLX, vehicle_class, vehicle_type
use            使用性质, SYXZ, use, usage
body_colour    车身颜色, CSYS, body_colour, body_color
brand          品牌, 中文品牌, CLPP, CLPP1, ZWPP, brand
model          车辆型号, 型号, CLXH, model
operator       所有人, 运营单位, SYR, operator, owner
registered     registered (the simulator's flag; a false value rejects the row)
=============  ==================================================================

Every other column is ignored and named in the report (the simulator's ``plate_color`` among them:
the plate class already carries what the key needs).

**Rows.** ``row`` in a report is the line number for CSV (the header is line 1, as a spreadsheet
shows it) and JSON lines, and the record number (from 1) for Parquet and JSON arrays.

**Normalisation** (errors reject the row; warnings clear one value and keep the row, because a
missing record weakens the fake-plate check more than a missing colour does):

* ``plate_no`` through :func:`changan.plates.read_plate`; it must identify a vehicle (error).
* ``plate_class``: a GA 24.7 code (``2`` → ``02``) or its Chinese label (小型汽车); else error.
* ``vehicle_class``: a GA 24.4 code (letter, digit, digit or letter: ``K33``, ``H1A``) or one of the
  common names in :data:`VEHICLE_CLASS_NAMES`; else warning. A name is never stored in place of a
  code, since the detectors compare codes with what the cameras report.
* ``use`` (使用性质): a letter code becomes its name (:data:`USE_CODES`); a name is kept as written,
  with the spelling variants in :data:`USE_ALIASES` folded; an unknown letter is a warning.
* ``body_colour``: GA 24.8 letter codes (one to three letters for multi-colour bodies) or the colour
  names (白, 白色, white …) in :data:`BODY_COLOUR_NAMES`; else warning.
* ``brand``, ``model``, ``operator``: trimmed text; too long for its column → warning.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from changan.engine.context import RegistryRecord
from changan.plates import PlateClass, read_plate

FIELDS: tuple[str, ...] = (
    "plate_no",
    "plate_class",
    "vehicle_class",
    "use",
    "body_colour",
    "brand",
    "model",
    "operator",
)
"""The record's fields in column order (the key is derived from the first two)."""

_HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "plate_no": ("号牌号码", "号牌", "车牌号码", "车牌号", "hphm", "plate_no", "plate_number", "plate"),
    "plate_class": ("号牌种类", "号牌种类代码", "hpzl", "plate_class"),
    "vehicle_class": ("车辆类型", "cllx", "vehicle_class", "vehicle_type"),
    "use": ("使用性质", "syxz", "use", "usage"),
    "body_colour": ("车身颜色", "csys", "body_colour", "body_color"),
    "brand": ("品牌", "中文品牌", "clpp", "clpp1", "zwpp", "brand"),
    "model": ("车辆型号", "型号", "clxh", "model"),
    "operator": ("所有人", "运营单位", "syr", "operator", "owner"),
    "registered": ("registered",),
}

_DROP_IN_HEADER = re.compile(r"[\s_\-\ufeff]+")


def canonical_header(name: str) -> str:
    """A header as it is matched: NFKC, lower case, no spaces, ``_``, ``-`` or BOM."""
    return _DROP_IN_HEADER.sub("", unicodedata.normalize("NFKC", name).lower())


HEADERS: dict[str, str] = {
    canonical_header(alias): name for name, aliases in _HEADER_NAMES.items() for alias in aliases
}
"""Canonical header → field name."""

USE_CODES: dict[str, str] = {
    "A": "非营运",
    "B": "公路客运",
    "C": "公交客运",
    "D": "出租客运",
    "E": "旅游客运",
    "F": "货运",
    "G": "租赁",
    "H": "警用",
    "I": "消防",
    "J": "救护",
    "K": "工程救险",
    "L": "营转非",
    "M": "出租转非",
    "N": "教练",
    "O": "幼儿校车",
    "P": "小学生校车",
    "Q": "初中生校车",
    "R": "危化品运输",
    "S": "中小学生校车",
    "T": "预约出租客运",
    "U": "预约出租转非",
    "Z": "其他",
}
"""使用性质 letter codes of the traffic-management system (GA 24 series) → names.

UNCONFIRMED against the standard's text: A–P and R–U agree across the exports we compared; Q is
初中生校车 in newer tables and 其他校车 in older ones (a school bus either way, see
:func:`is_school_bus`); Z (其他) appears only in some. Names are accepted as written, so a file
that spells the use out never depends on this table.
"""

USE_ALIASES: dict[str, str] = {
    "工程抢险": "工程救险",
    "危险品运输": "危化品运输",
    "危险化学品运输": "危化品运输",
    "危险货物运输": "危化品运输",
    "小学校车": "小学生校车",
}
"""Spelling variants of 使用性质 names found in exports → the names of :data:`USE_CODES`."""

BODY_COLOURS: dict[str, str] = {
    "A": "白",
    "B": "灰",
    "C": "黄",
    "D": "粉",
    "E": "红",
    "F": "紫",
    "G": "绿",
    "H": "蓝",
    "I": "棕",
    "J": "黑",
    "Z": "其他",
}
"""GA 24.8 车身颜色 codes → Chinese names. The simulator writes A, J, B, H and E."""

BODY_COLOUR_NAMES: dict[str, str] = {
    **{name: code for code, name in BODY_COLOURS.items()},
    "white": "A",
    "grey": "B",
    "gray": "B",
    "yellow": "C",
    "pink": "D",
    "red": "E",
    "purple": "F",
    "green": "G",
    "blue": "H",
    "brown": "I",
    "black": "J",
    "other": "Z",
}
"""Colour names (Chinese without 色, or English, lower case) → GA 24.8 codes."""

_HEAVY_TO_LIGHT = ("重型", "中型", "轻型", "微型")
_TRUCK_BODIES = ("普通货车", "厢式货车", "封闭货车", "罐式货车", "平板货车", "集装厢车", "自卸货车")

VEHICLE_CLASS_NAMES: dict[str, str] = {
    "大型普通客车": "K11",
    "大型双层客车": "K12",
    "大型卧铺客车": "K13",
    "大型铰接客车": "K14",
    "大型越野客车": "K15",
    "中型普通客车": "K21",
    "中型双层客车": "K22",
    "中型卧铺客车": "K23",
    "中型铰接客车": "K24",
    "中型越野客车": "K25",
    "小型普通客车": "K31",
    "小型越野客车": "K32",
    "小型轿车": "K33",
    "轿车": "K33",
    "小型专用客车": "K34",
    "微型普通客车": "K41",
    "微型越野客车": "K42",
    "微型轿车": "K43",
    **{
        f"{size}{body}": f"H{n}{m}"
        for n, size in enumerate(_HEAVY_TO_LIGHT[:2], start=1)
        for m, body in enumerate((*_TRUCK_BODIES, "特殊结构货车", "仓栅式货车"), start=1)
    },
    **{f"轻型{body}": f"H3{m}" for m, body in enumerate(_TRUCK_BODIES[:5], start=1)},
    "轻型自卸货车": "H37",
    "轻型特殊结构货车": "H38",
    "轻型仓栅式货车": "H39",
    **{f"微型{body}": f"H4{m}" for m, body in enumerate(_TRUCK_BODIES[:4], start=1)},
    "微型自卸货车": "H45",
    "重型半挂牵引车": "Q11",
    "重型全挂牵引车": "Q12",
    "中型半挂牵引车": "Q21",
    "中型全挂牵引车": "Q22",
    "轻型半挂牵引车": "Q31",
    "轻型全挂牵引车": "Q32",
    "大型专项作业车": "Z11",
    "中型专项作业车": "Z21",
    "小型专项作业车": "Z31",
    "微型专项作业车": "Z41",
    "重型专项作业车": "Z51",
    "轻型专项作业车": "Z71",
    "其它": "X99",
    "其他": "X99",
}
"""Common GA 24.4 车辆类型 names → codes (buses, trucks, tractors, special-purpose vehicles)."""

_VEHICLE_CLASS_CODE = re.compile(r"[A-Z][0-9][0-9A-Z]")
_CLASS_BY_LABEL: dict[str, PlateClass] = {c.label_zh: c for c in PlateClass}
_NULL_TEXTS = frozenset({"", "null", "none", "nan", "n/a"})
_LONGEST_NULL = max(len(t) for t in _NULL_TEXTS)
_FALSE_TEXTS = frozenset({"false", "0", "no", "n", "否", "f"})
_TRUE_TEXTS = frozenset({"true", "1", "yes", "y", "是", "t"})
_MAX_LENGTH = {"plate_no": 32, "use": 16, "brand": 64, "model": 64, "operator": 128}
_SHOWN_VALUE = 64

Severity = Literal["error", "warning"]


def is_school_bus(use: str | None) -> bool:
    """Whether a 使用性质 name is one of the school-bus uses (校车, 幼儿校车, 小学生校车 …)."""
    return use is not None and use.endswith("校车")


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (format, encoding, header). ``field`` names the culprit."""

    def __init__(self, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in one row: ``error`` rejects the row, ``warning`` clears one value."""

    row: int
    field: str
    reason: str
    severity: Severity = "error"
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "field": self.field,
            "reason": self.reason,
            "severity": self.severity,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as read: values keyed by field name, or the reason it could not be read."""

    row: int
    values: Mapping[str, object] | None
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True, slots=True)
class RowResult:
    """One row normalised: the record (None when rejected) and every issue found."""

    row: int
    record: RegistryRecord | None
    issues: tuple[Issue, ...]


# ----------------------------------------------------------------------------- values


def _shown(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= _SHOWN_VALUE else text[: _SHOWN_VALUE - 1] + "…"


def as_text(value: object) -> str | None:
    """A cell as trimmed text; None for empty cells and the usual null markers."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value).strip()
    if not text or (len(text) <= _LONGEST_NULL and text.lower() in _NULL_TEXTS):
        return None
    return text


def is_false(value: object) -> bool:
    """Whether a cell says no (``false``, ``0``, ``否`` …); empty cells are not false."""
    text = as_text(value)
    return text is not None and text.lower() in _FALSE_TEXTS


def parse_plate_class(text: str) -> PlateClass | None:
    """A GA 24.7 code (``"02"``, ``"2"``) or a Chinese label (``"小型汽车"``, ``"小型汽车号牌"``)."""
    found = PlateClass.try_parse(text)
    if found is not None:
        return found
    label = text.removesuffix("号牌")
    return _CLASS_BY_LABEL.get(label)


def parse_vehicle_class(text: str) -> str | None:
    """A GA 24.4 code (upper-cased) or the code of a known name; None when neither."""
    code = unicodedata.normalize("NFKC", text).strip().upper()
    if _VEHICLE_CLASS_CODE.fullmatch(code):
        return code
    return VEHICLE_CLASS_NAMES.get(text)


def parse_use(text: str) -> str | None:
    """A 使用性质 name: letter codes translated, known variants folded; None for an unknown letter."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if len(folded) == 1 and folded.isascii() and folded.isalpha():
        return USE_CODES.get(folded.upper())
    return USE_ALIASES.get(folded, folded)


def parse_body_colour(text: str) -> str | None:
    """GA 24.8 code(s) for a colour code or name; None when not recognised."""
    folded = unicodedata.normalize("NFKC", text).strip()
    upper = folded.upper()
    if 1 <= len(upper) <= 3 and all(c in BODY_COLOURS for c in upper):
        return upper
    name = folded.lower()
    if len(name) > 1 and name.endswith("色"):
        name = name[:-1]
    return BODY_COLOUR_NAMES.get(name)


# ----------------------------------------------------------------------------- rows


def _issue(row: int, name: str, reason: str, severity: Severity, values: Mapping[str, object]) -> Issue:
    return Issue(row, name, reason, severity, _shown(values.get(name)))


def normalise_row(row: int, values: Mapping[str, object]) -> RowResult:
    """Normalise one row whose values are keyed by field name (see the module docstring)."""
    issues: list[Issue] = []
    get = values.get
    rejected = False

    registered = get("registered")
    if registered is not None and registered is not True:
        flag = as_text(registered)
        if flag is not None and flag.lower() in _FALSE_TEXTS:
            issues.append(
                _issue(row, "registered", "该车标记为未登记（registered=false），不导入", "error", values)
            )
            rejected = True
        elif flag is not None and flag.lower() not in _TRUE_TEXTS:
            issues.append(_issue(row, "registered", "应为 true 或 false", "error", values))
            rejected = True

    plate_no: str | None = None
    raw = as_text(get("plate_no"))
    if raw is None:
        issues.append(_issue(row, "plate_no", "号牌号码为空", "error", values))
    else:
        read = read_plate(raw)
        if not read.valid:
            reason = f"号牌号码无效：{read.reason or '不能识别车辆'}"
            issues.append(_issue(row, "plate_no", reason, "error", values))
        elif len(read.text) > _MAX_LENGTH["plate_no"]:
            reason = f"号牌号码过长（最多 {_MAX_LENGTH['plate_no']} 个字符）"
            issues.append(_issue(row, "plate_no", reason, "error", values))
        else:
            plate_no = read.text

    plate_class: PlateClass | None = None
    raw = as_text(get("plate_class"))
    if raw is None:
        issues.append(_issue(row, "plate_class", "号牌种类为空", "error", values))
    else:
        plate_class = parse_plate_class(raw)
        if plate_class is None:
            reason = f"号牌种类无效：{raw!r}（应为 GA 24.7 两位代码，如 01 大型汽车、02 小型汽车）"
            issues.append(_issue(row, "plate_class", reason, "error", values))

    vehicle_class: str | None = None
    raw = as_text(get("vehicle_class"))
    if raw is not None:
        vehicle_class = parse_vehicle_class(raw)
        if vehicle_class is None:
            reason = "车辆类型不是 GA 24.4 代码（如 K33、H11）或已知名称，已忽略该值"
            issues.append(_issue(row, "vehicle_class", reason, "warning", values))

    use: str | None = None
    raw = as_text(get("use"))
    if raw is not None:
        use = parse_use(raw)
        if use is None:
            issues.append(_issue(row, "use", f"未知的使用性质代码 {raw!r}，已忽略该值", "warning", values))
        elif len(use) > _MAX_LENGTH["use"]:
            reason = f"使用性质过长（最多 {_MAX_LENGTH['use']} 个字符），已忽略该值"
            issues.append(_issue(row, "use", reason, "warning", values))
            use = None

    body_colour: str | None = None
    raw = as_text(get("body_colour"))
    if raw is not None:
        body_colour = parse_body_colour(raw)
        if body_colour is None:
            reason = "车身颜色不是 GA 24.8 代码（A 白 … J 黑、Z 其他）或颜色名，已忽略该值"
            issues.append(_issue(row, "body_colour", reason, "warning", values))

    brand, model, operator = (_bounded(row, name, values, issues) for name in ("brand", "model", "operator"))

    if rejected or plate_no is None or plate_class is None:
        return RowResult(row, None, tuple(issues))
    record = RegistryRecord(
        vehicle_key=f"{plate_class.value}:{plate_no}",
        plate_no=plate_no,
        plate_class=plate_class.value,
        vehicle_class=vehicle_class,
        use=use,
        body_colour=body_colour,
        brand=brand,
        model=model,
        operator=operator,
    )
    return RowResult(row, record, tuple(issues))


def _bounded(row: int, name: str, values: Mapping[str, object], issues: list[Issue]) -> str | None:
    text = as_text(values.get(name))
    if text is not None and len(text) > _MAX_LENGTH[name]:
        issues.append(
            _issue(row, name, f"过长（最多 {_MAX_LENGTH[name]} 个字符），已忽略该值", "warning", values)
        )
        return None
    return text


@dataclass
class HeaderMap:
    """Which column holds which field, and which columns are ignored."""

    columns: dict[str, str]  # field → column name as written
    ignored: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (field, kept, dropped)

    @classmethod
    def of(cls, columns: Sequence[str]) -> HeaderMap:
        out = cls(columns={})
        for column in columns:
            name = HEADERS.get(canonical_header(column))
            if name is None:
                out.ignored.append(column)
            elif name in out.columns:
                out.duplicates.append((name, out.columns[name], column))
            else:
                out.columns[name] = column
        return out

    def check_tabular(self) -> None:
        """A table must name the plate and its class, once each (else nothing can be imported)."""
        if self.duplicates:
            name, kept, dropped = self.duplicates[0]
            msg = f"列“{kept}”与“{dropped}”都表示 {name}，请删去其一"
            raise ImportFormatError(msg, field="header")
        for name, label in (("plate_no", "号牌号码"), ("plate_class", "号牌种类")):
            if name not in self.columns:
                msg = f"缺少{label}列（{' / '.join(_HEADER_NAMES[name][:5])}）"
                raise ImportFormatError(msg, field="header")


def map_mapping(row: int, raw: Mapping[str, object], cache: dict[tuple[str, ...], HeaderMap]) -> RawRow:
    """A JSON object → values keyed by field name (headers mapped as for tables)."""
    keys = tuple(raw)
    header = cache.get(keys)
    if header is None:
        header = cache[keys] = HeaderMap.of(keys)
    issues = tuple(
        Issue(row, name, f"字段“{kept}”与“{dropped}”都表示 {name}，请删去其一", "error")
        for name, kept, dropped in header.duplicates
    )
    if issues:
        return RawRow(row, None, issues)
    return RawRow(row, {name: raw[column] for name, column in header.columns.items()})


def normalise_mapping(raw: Mapping[str, object], *, row: int = 1) -> RowResult:
    """Normalise one JSON object with any of the accepted field names (used by the HTTP adapter)."""
    mapped = map_mapping(row, raw, {})
    if mapped.values is None:
        return RowResult(row, None, mapped.issues)
    return normalise_row(row, mapped.values)


# ----------------------------------------------------------------------------- files

FORMATS = ("csv", "json", "parquet")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_EXCEL = (".xlsx", ".xlsm", ".xls")
_DELIMITERS = ",\t;|"
_SAMPLE_BYTES = 64 * 1024
_PARQUET_FETCH = 2_000


def detect_format(name: str) -> str:
    """The format for a file name, by its suffix."""
    suffix = Path(name).suffix.lower()
    if suffix in _EXCEL:
        msg = "不支持 Excel 文件：changan 未安装 openpyxl；请在 Excel 中另存为 CSV（UTF-8）后导入"
        raise ImportFormatError(msg, field="format")
    found = _SUFFIXES.get(suffix)
    if found is None:
        msg = f"无法从扩展名“{suffix or '（无）'}”判断格式：支持 .csv、.jsonl、.json、.parquet"
        raise ImportFormatError(msg, field="format")
    return found


class RegistryFile:
    """An open registry file: iterate it for :class:`RawRow`; ``done`` / ``total`` give progress.

    ``unit`` is ``"bytes"`` for text formats and ``"rows"`` for Parquet. Use it as a context
    manager, or call :meth:`close`.
    """

    def __init__(self, path: Path, fmt: str | None = None, *, encoding: str | None = None) -> None:
        self.path = path
        self.format = fmt or detect_format(path.name)
        if self.format not in FORMATS:
            msg = f"格式“{self.format}”无效：应为 {'、'.join(FORMATS)} 之一"
            raise ImportFormatError(msg, field="format")
        if not path.is_file():
            msg = f"文件不存在：{path}"
            raise ImportFormatError(msg)
        self.encoding = encoding
        self.unit = "rows" if self.format == "parquet" else "bytes"
        self.total = path.stat().st_size
        self.header: HeaderMap | None = None
        self._ignored: dict[str, None] = {}
        self._position: Callable[[], int] = lambda: 0
        self._closers: list[Callable[[], object]] = []
        self._rows = self._open()

    @property
    def ignored_columns(self) -> list[str]:
        """Columns (or JSON keys) that map to no field, in order of first appearance."""
        return list(self._ignored)

    def done(self) -> int:
        return self._position()

    def __iter__(self) -> Iterator[RawRow]:
        return self._rows

    def close(self) -> None:
        if self._closers:
            final = self.done()
            self._position = lambda: final
        for closer in reversed(self._closers):
            closer()
        self._closers.clear()

    def __enter__(self) -> RegistryFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- openers

    def _open(self) -> Iterator[RawRow]:
        if self.format == "csv":
            return self._open_csv()
        if self.format == "json":
            return self._open_json()
        return self._open_parquet()

    def _note_ignored(self, header: HeaderMap) -> None:
        for column in header.ignored:
            self._ignored.setdefault(column, None)

    def _binary(self) -> IO[bytes]:
        raw = open(self.path, "rb")  # noqa: SIM115 -- closed by close()
        self._closers.append(raw.close)
        self._position = raw.tell
        return raw

    def _detect_encoding(self, raw: IO[bytes]) -> str:
        if self.encoding:
            return self.encoding
        sample = raw.read(_SAMPLE_BYTES)
        raw.seek(0)
        if sample.startswith(b"\xef\xbb\xbf"):
            return "utf-8-sig"
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 3:  # not merely a character cut at the end of the sample
                return "gb18030"
        return "utf-8"

    def _open_csv(self) -> Iterator[RawRow]:
        raw = self._binary()
        encoding = self._detect_encoding(raw)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        self._closers.append(text.close)  # also keeps the wrapper alive: collecting it closes ``raw``
        try:
            first = text.readline()
        except UnicodeDecodeError:
            msg = f"文件不是 {encoding} 编码：请用 UTF-8 或 GB18030 保存"
            raise ImportFormatError(msg, field="encoding") from None
        if not first.strip():
            msg = "文件为空或第一行不是表头"
            raise ImportFormatError(msg, field="header")
        delimiter = max(_DELIMITERS, key=first.count)
        columns = next(csv.reader([first], delimiter=delimiter))
        header = HeaderMap.of(columns)
        header.check_tabular()
        self.header = header
        self._note_ignored(header)
        return self._csv_rows(text, delimiter, columns, header, encoding)

    def _csv_rows(
        self, text: IO[str], delimiter: str, columns: list[str], header: HeaderMap, encoding: str
    ) -> Iterator[RawRow]:
        index = {name: columns.index(column) for name, column in header.columns.items()}
        reader = csv.reader(text, delimiter=delimiter)
        line = 1
        while True:
            start = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                msg = f"第 {start} 行附近不是 {encoding} 编码：请用 UTF-8 或 GB18030 保存整个文件"
                raise ImportFormatError(msg, field="encoding") from None
            except csv.Error as exc:
                line = reader.line_num + 1
                yield RawRow(start, None, (Issue(start, "row", f"CSV 格式错误：{exc}"),))
                continue
            line = reader.line_num + 1
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                reason = f"本行有 {len(cells)} 列，多于表头的 {len(columns)} 列（分隔符或引号有误？）"
                yield RawRow(start, None, (Issue(start, "row", reason),))
                continue
            yield RawRow(start, {name: cells[i] if i < len(cells) else None for name, i in index.items()})

    def _open_json(self) -> Iterator[RawRow]:
        raw = self._binary()
        head = raw.read(_SAMPLE_BYTES).lstrip(b"\xef\xbb\xbf \t\r\n")
        raw.seek(0)
        if head.startswith(b"["):
            return self._json_array(raw)
        return self._json_lines(raw)

    def _json_array(self, raw: IO[bytes]) -> Iterator[RawRow]:
        data = raw.read()
        try:
            items = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError as exc:
            msg = f"JSON 无法解析：{exc}"
            raise ImportFormatError(msg, field="json") from None
        if not isinstance(items, list):
            msg = "JSON 文件应为对象数组，或每行一个对象（JSON Lines）"
            raise ImportFormatError(msg, field="json")
        return self._json_objects(enumerate(items, start=1))

    def _json_lines(self, raw: IO[bytes]) -> Iterator[RawRow]:
        def items() -> Iterator[tuple[int, object]]:
            for n, line in enumerate(raw, start=1):
                stripped = line.strip().removeprefix(b"\xef\xbb\xbf") if n == 1 else line.strip()
                if not stripped:
                    continue
                try:
                    yield n, orjson.loads(stripped)
                except orjson.JSONDecodeError as exc:
                    yield n, exc

        return self._json_objects(items())

    def _json_objects(self, items: Iterator[tuple[int, object]]) -> Iterator[RawRow]:
        cache: dict[tuple[str, ...], HeaderMap] = {}
        for n, item in items:
            if isinstance(item, Exception):
                yield RawRow(n, None, (Issue(n, "row", f"JSON 无法解析：{item}"),))
                continue
            if not isinstance(item, dict):
                yield RawRow(n, None, (Issue(n, "row", "应为 JSON 对象"),))
                continue
            mapped = map_mapping(n, item, cache)
            self._note_ignored(cache[tuple(item)])
            yield mapped

    def _open_parquet(self) -> Iterator[RawRow]:
        import duckdb

        con = duckdb.connect()
        self._closers.append(con.close)
        source = str(self.path)
        try:
            count = con.execute("SELECT count(*) FROM read_parquet(?)", [source]).fetchone()
            cursor = con.execute("SELECT * FROM read_parquet(?)", [source])
        except duckdb.Error as exc:
            msg = f"不是可读的 Parquet 文件：{exc}"
            raise ImportFormatError(msg, field="format") from None
        self.total = int(count[0]) if count else 0
        columns = [d[0] for d in cursor.description or []]
        header = HeaderMap.of(columns)
        header.check_tabular()
        self.header = header
        self._note_ignored(header)
        done = [0]
        self._position = lambda: done[0]
        return self._parquet_rows(cursor, columns, header, done)

    @staticmethod
    def _parquet_rows(
        cursor: Any, columns: list[str], header: HeaderMap, done: list[int]
    ) -> Iterator[RawRow]:
        index = {name: columns.index(column) for name, column in header.columns.items()}
        n = 0
        while True:
            chunk = cursor.fetchmany(_PARQUET_FETCH)
            if not chunk:
                return
            for cells in chunk:
                n += 1
                yield RawRow(n, {name: cells[i] for name, i in index.items()})
            done[0] = n


def read_rows(raw_rows: Iterator[RawRow]) -> Iterator[RowResult]:
    """Normalise every row read (rows that could not be read keep their issues)."""
    for raw in raw_rows:
        if raw.values is None:
            yield RowResult(raw.row, None, raw.issues)
        else:
            yield normalise_row(raw.row, raw.values)
