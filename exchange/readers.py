"""Turn an uploaded incident file into a table of strings, plus what was noticed reading it.

This is the first step of an import and it decides nothing about the values: every cell comes out
as text exactly as the file has it (decimal commas, HTML, typos and all) and the pipeline parses,
geocodes and validates afterwards. What this layer guarantees:

* the format is found from the content (the extension only breaks ties and a mismatch is noted);
* no row is lost silently: blank rows are the only rows dropped, and that is noted; every data row
  keeps the row number it has in the original file (``RawTable.source_rows``) so that messages can
  say "row 17" and the user finds it in Excel or a text editor;
* failures raise :class:`ReadError` with a stable ``code`` the UI translates and an English
  ``detail`` that says exactly what is wrong and where.

Supported: CSV/TSV text in UTF-8 (with or without BOM), UTF-16 and Windows-1252/Latin-1, with
",", ";", tab or "|" separators; XLSX; GeoJSON (and plain JSON lists of records); GeoPackage; a
zipped Shapefile. Exports from Excel often carry a title row above the header and a header merged
over two rows; both are recognised.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import io
import json
import math
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

#: Stable error codes (the UI translates them).
ERROR_CODES = (
    "empty_file",
    "unknown_format",
    "unreadable",
    "bad_zip",
    "zip_unsafe",
    "no_table",
    "too_large",
)
#: Formats a RawTable can have. "json" is a plain JSON list of records (no geometry).
FORMATS = ("csv", "xlsx", "geojson", "json", "gpkg", "shapefile")
#: Codes that can appear in ``RawTable.notes``.
NOTE_CODES = (
    "extension_mismatch",  # the extension says another format than the content
    "title_rows_skipped",  # non-blank rows above the header were not read as data
    "merged_header_rows",  # header spread over two rows (header_row and the next one), combined
    "no_header_row",  # no row looked like a header: columns are column_1, column_2...
    "blank_rows_skipped",  # empty rows/lines (or rows of empty cells) among the data were dropped
    "ragged_rows",  # CSV rows with more or fewer fields than the header
    "extra_columns",  # values beyond the last named column: kept as column_N
    "unnamed_columns",  # header cells that were empty: named column_N
    "duplicate_column_names",  # repeated names: second one is "name.1"
    "empty_columns_dropped",  # columns with neither a name nor any value were dropped
    "other_sheets_ignored",  # the workbook has more sheets than the one read
    "other_layers_ignored",  # the GeoPackage / archive has more layers than the one read
    "non_point_geometry_centroid",  # lines/polygons: __lon/__lat is a point on the feature
    "multipoint_first_point",  # MultiPoint: __lon/__lat is its first point
    "missing_geometry",  # some features have no (or an empty/invalid) geometry: NaN
    "reprojected",  # coordinates were converted to EPSG:4326
    "crs_missing_assumed_wgs84",  # vector file without CRS: taken as longitude/latitude
    "formula_without_value",  # XLSX formula never calculated: its text ("=A2+1") is the cell
)

LON_COLUMN = "__lon"
LAT_COLUMN = "__lat"

MAX_ZIP_RATIO = 20
MAX_ZIP_TOTAL = 500_000_000
#: The header is looked for among this many first non-blank rows.
HEADER_SCAN_ROWS = 10
#: The separator is chosen from this many first non-blank lines.
SNIFF_ROWS = 50
DELIMITERS = (";", ",", "\t", "|")
#: Text at least this long is read by Arrow when its lines are its records (see _read_csv_arrow).
_ARROW_MIN_CHARS = 1_000_000
_COORD_DIGITS = 7  # ~1 cm: enough for any GPS, hides reprojection noise

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile",
    ".shz": "shapefile",
}
_BINARY_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a legacy Excel 97-2003 (.xls) or password-protected Office file: save it as .xlsx or CSV",
    ),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"PAR1", "a Parquet file"),
)


class ReadError(Exception):
    """A file that cannot be turned into a table. ``code`` is stable, ``detail`` is for logs."""

    def __init__(self, code: str, detail: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown ReadError code {code!r}")
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True, eq=False)
class RawTable:
    """A file read as text cells. See the module docstring for what is guaranteed."""

    frame: pd.DataFrame
    source_rows: np.ndarray
    file_name: str
    sha256: str
    format: str
    encoding: str | None
    delimiter: str | None
    header_row: int  # 1-based; 0 when the format has no header row (vector, JSON) or none was found
    geometry_lonlat: bool
    notes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.frame)

    def row_number(self, position: int) -> int:
        """Row number in the original file of the frame's ``position``-th row."""
        return int(self.source_rows[position])


# --------------------------------------------------------------------------- entry point


def read_table(
    data: bytes | Path | str | Any,
    file_name: str | None = None,
    *,
    max_bytes: int = 200_000_000,
    sheet: str | int | None = None,
) -> RawTable:
    """Read ``data`` (bytes, a path, or a binary file object such as an upload) into a RawTable.

    ``sheet`` picks the worksheet of an XLSX, or the layer of a GeoPackage / zipped Shapefile,
    by name or 0-based index; by default the first one is read (and "other_sheets_ignored" /
    "other_layers_ignored" is noted when there are more).
    """
    raw, name = _load(data, file_name, max_bytes)
    sha = hashlib.sha256(raw).hexdigest()
    notes = _Notes()
    ext = _extension(name)

    if _blank_bytes(raw):
        raise ReadError("empty_file", f"{name or 'the file'} is empty ({len(raw)} bytes)")

    if raw.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        parts = _read_zip(raw, ext, sheet, notes)
    elif raw.startswith(b"SQLite format 3\x00"):
        parts = _read_geopackage(raw, sheet, notes)
    else:
        kind = _binary_kind(raw)
        if kind is not None:
            raise ReadError("unknown_format", f"the content is {kind}, not a table")
        parts = _read_text(raw, ext, notes)

    fmt = parts.format
    if (
        ext in _EXTENSIONS
        and _EXTENSIONS[ext] != fmt
        and not (ext in (".json", ".geojson") and fmt in ("json", "geojson"))
    ):
        notes.add("extension_mismatch")
    return RawTable(
        frame=parts.frame,
        source_rows=parts.source_rows,
        file_name=name,
        sha256=sha,
        format=fmt,
        encoding=parts.encoding,
        delimiter=parts.delimiter,
        header_row=parts.header_row,
        geometry_lonlat=parts.geometry_lonlat,
        notes=notes.as_tuple(),
    )


@dataclass
class _Parts:
    frame: pd.DataFrame
    source_rows: np.ndarray
    format: str
    header_row: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    geometry_lonlat: bool = False


class _Notes:
    def __init__(self) -> None:
        self._codes: list[str] = []

    def add(self, code: str) -> None:
        if code not in NOTE_CODES:
            raise ValueError(f"unknown note {code!r}")
        if code not in self._codes:
            self._codes.append(code)

    def as_tuple(self) -> tuple[str, ...]:
        return tuple(self._codes)


def _load(data: Any, file_name: str | None, max_bytes: int) -> tuple[bytes, str]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        name = file_name or ""
    elif isinstance(data, (str, Path)):
        path = Path(data)
        name = file_name or path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ReadError("unreadable", f"cannot open {path}: {exc.strerror or exc}") from exc
        if size > max_bytes:
            raise ReadError("too_large", f"{name} is {size:,} bytes; the limit is {max_bytes:,}")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ReadError("unreadable", f"cannot read {path}: {exc.strerror or exc}") from exc
    elif hasattr(data, "read"):
        name = file_name or Path(str(getattr(data, "name", "") or "")).name
        raw = data.read(max_bytes + 1)
        if isinstance(raw, str):
            raise TypeError("read_table needs a binary file object (open it with 'rb')")
        raw = bytes(raw)
    else:
        raise TypeError(f"read_table takes bytes, a path or a binary file object, not {type(data)}")
    if len(raw) > max_bytes:
        raise ReadError("too_large", f"{name or 'the file'} is over {max_bytes:,} bytes")
    return raw, name


def _blank_bytes(raw: bytes) -> bool:
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if raw.startswith(bom):
            raw = raw[len(bom) :]
            break
    whitespace = b" \t\r\n\x0b\x0c\x00"
    return not raw[:65536].strip(whitespace) and not raw.strip(whitespace)


def _extension(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".shp.zip"):
        return ".zip"
    return PurePosixPath(lower.replace("\\", "/")).suffix


def _binary_kind(raw: bytes) -> str | None:
    """What a non-text file is, when its first bytes say so (None for text or unknown)."""
    for magic, kind in _BINARY_MAGIC:
        if raw.startswith(magic):
            return kind
    return None


# --------------------------------------------------------------------------- text decoding

# Control characters that never occur in a text table (tab, newlines, form feed excluded).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _decode(raw: bytes) -> tuple[str, str]:
    """Text and the encoding's name: BOM first, then strict UTF-8, then Windows-1252 / Latin-1."""
    boms = (
        (b"\xef\xbb\xbf", "utf-8-sig", "utf-8"),
        (b"\xff\xfe", "utf-16-le", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be", "utf-16-be"),
    )
    for bom, name, codec in boms:
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(codec), name
            except UnicodeDecodeError as exc:
                raise ReadError(
                    "unreadable",
                    f"the file starts with a {name} byte order mark but "
                    f"byte {exc.start + len(bom)} is not valid {codec}",
                ) from exc
    guess = _utf16_without_bom(raw)
    if guess:
        try:
            return raw.decode(guess), guess
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _utf16_without_bom(raw: bytes) -> str | None:
    sample = raw[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


_MARKUP = re.compile(r"\s*<(?:!doctype\s+html|html|\?xml|svg|head|body)\b", re.IGNORECASE)


def _read_text(raw: bytes, ext: str, notes: _Notes) -> _Parts:
    text, encoding = _decode(raw)
    if text.endswith("\x1a"):  # DOS end-of-file marker
        text = text[:-1]
    sample = text[:65536]
    if _MARKUP.match(sample):  # a web page or an XML document saved with a table's extension
        raise ReadError("unknown_format", "the file is HTML or XML, not a table")
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(2, len(sample) // 200):
        raise ReadError(
            "unknown_format",
            "the content is binary, not text or a known table format"
            f" ({controls} control characters in the first {len(sample)} characters)",
        )
    if not re.search(r"\S", text):
        raise ReadError("empty_file", "the file holds only whitespace")
    start = text.lstrip()[:1]
    if start in ("{", "["):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            if ext in (".json", ".geojson"):
                raise ReadError(
                    "unreadable", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                ) from exc
        else:
            parts = _read_json(doc, notes)
            parts.encoding = encoding
            return parts
    return _read_csv(raw, text, encoding, notes)


# --------------------------------------------------------------------------- header detection

# A cell that is a value (number, date, time, coordinates) rather than a column name.
_VALUE_CHARS = r"[\s\d.,:;/+\-°'\"hHNSEWnsewTZ]"
_VALUE_LIKE = re.compile(rf"^{_VALUE_CHARS}*\d{_VALUE_CHARS}*$")


@dataclass
class _Record:
    first_line: int
    last_line: int
    cells: list[str | None]

    @property
    def blank(self) -> bool:
        return all(c is None for c in self.cells)


@dataclass
class _Header:
    names: list[str | None]
    header_row: int  # 0 = no header
    data_start: int  # index of the first data record in the record list given
    last_line: int  # last physical line of the header (0 = no header)
    notes: list[str] = field(default_factory=list)
    fields: int = 0  # number of fields of the (last) header record, empty ones included


def _clean(cell: str | None) -> str | None:
    if cell is None:
        return None
    return None if cell.strip() == "" else cell


def _used_width(records: Sequence[_Record]) -> int:
    width = 0
    for rec in records:
        for j in range(len(rec.cells) - 1, -1, -1):
            if rec.cells[j] is not None:
                width = max(width, j + 1)
                break
    return width


def _looks_like_header(cells: Sequence[str | None], width: int) -> bool:
    filled = [c.strip() for c in cells[: max(width, 1)] if c is not None]
    need = 1 if width <= 1 else max(2, math.ceil(width / 2))
    if len(filled) < need:
        return False
    values = sum(1 for c in filled if _VALUE_LIKE.match(c))
    return values <= len(filled) * 0.25


def _is_second_header_row(
    upper: Sequence[str | None], lower: Sequence[str | None], width: int
) -> bool:
    """True when ``lower`` completes ``upper`` as the second row of a merged header."""
    up = list(upper) + [None] * (width - len(upper))
    low = list(lower) + [None] * (width - len(lower))
    filled = [c for c in low[:width] if c is not None]
    if not filled or any(_VALUE_LIKE.match(c.strip()) for c in filled):
        return False
    gaps_filled = [j for j in range(width) if up[j] is None and low[j] is not None]
    if not gaps_filled:
        return False
    # A gap must sit under a group label: the nearest upper cell to its left has a lower cell.
    for j in gaps_filled:
        k = j - 1
        while k >= 0 and up[k] is None:
            k -= 1
        if k < 0 or low[k] is None:
            return False
    sparse = any(up[j] is not None and low[j] is None for j in range(width))
    return sparse or sum(1 for c in up[:width] if c is None) >= 2


def _combine_header_rows(
    upper: Sequence[str | None], lower: Sequence[str | None], width: int
) -> list[str | None]:
    """One name per column from a two-row header.

    A column without a lower cell keeps its upper name (merged vertically). Under a group label
    (upper cell spanning several columns) the lower name is used alone when it is unique, and
    "<group> <lower>" when the lower name repeats (e.g. "Victime Nom" / "Auteur Nom").
    """
    up = list(upper) + [None] * (width - len(upper))
    low = list(lower) + [None] * (width - len(lower))
    short: list[str | None] = []
    long: list[str | None] = []
    group: str | None = None
    for j in range(width):
        if up[j] is not None:
            group = up[j].strip() if low[j] is not None else None
        if low[j] is None:
            short.append(up[j].strip() if up[j] is not None else None)
            long.append(short[-1])
            continue
        name = low[j].strip()
        short.append(name)
        long.append(f"{group} {name}" if group else name)
    counts = Counter(s.casefold() for s in short if s is not None)
    return [
        lg if s is not None and counts[s.casefold()] > 1 else s
        for s, lg in zip(short, long, strict=True)
    ]


def _locate_header(records: Sequence[_Record]) -> _Header:
    """Find the header among the first non-blank records (see the module docstring)."""
    scan = [(i, r) for i, r in enumerate(records) if not r.blank][: HEADER_SCAN_ROWS + 2]
    if not scan:
        return _Header([], 0, len(records), 0)
    width = _used_width([r for _, r in scan])
    for pos, (i, rec) in enumerate(scan[:HEADER_SCAN_ROWS]):
        if not _looks_like_header(rec.cells, width):
            continue
        notes = ["title_rows_skipped"] if pos > 0 else []
        names: list[str | None] = list(rec.cells)
        data_start, last_line = i + 1, rec.last_line
        if pos + 1 < len(scan):
            j, nxt = scan[pos + 1]
            if (
                j == i + 1
                and nxt.first_line == rec.last_line + 1
                and _is_second_header_row(rec.cells, nxt.cells, max(width, len(rec.cells)))
            ):
                names = _combine_header_rows(rec.cells, nxt.cells, max(width, len(rec.cells)))
                data_start, last_line = j + 1, nxt.last_line
                notes.append("merged_header_rows")
                fields = len(nxt.cells)
            else:
                fields = len(rec.cells)
        else:
            fields = len(rec.cells)
        while names and names[-1] is None:
            names.pop()
        return _Header(names, rec.first_line, data_start, last_line, notes, fields)
    first = scan[0][0]
    return _Header([], 0, first, 0, ["no_header_row"])


def _final_names(raw: Sequence[str | None], width: int, notes: _Notes) -> list[str]:
    base = []
    for j in range(width):
        name = raw[j].strip() if j < len(raw) and raw[j] is not None else ""
        base.append(name or f"column_{j + 1}")
    taken = set(base)  # a later column really named "date.1" keeps its name
    names: list[str] = []
    seen: set[str] = set()
    for name in base:
        if name in seen:
            notes.add("duplicate_column_names")
            k = 1
            while f"{name}.{k}" in taken:
                k += 1
            name = f"{name}.{k}"
            taken.add(name)
        seen.add(name)
        names.append(name)
    return names


def _name_and_drop(
    raw_names: Sequence[str | None], width: int, notes: _Notes, is_empty: Callable[[int], bool]
) -> tuple[list[str], list[int]]:
    """Final names for positions 0..width-1 and the positions to keep.

    Columns with no header name and no value are dropped (Excel's trailing separators).
    """
    header_width = len(raw_names)
    keep = []
    for j in range(width):
        named = j < header_width and raw_names[j] is not None and raw_names[j].strip() != ""
        if not named and is_empty(j):
            notes.add("empty_columns_dropped")
            continue
        if not named and header_width:
            notes.add("extra_columns" if j >= header_width else "unnamed_columns")
        keep.append(j)
    names = _final_names(raw_names, width, notes)
    return [names[j] for j in keep], keep


def _parts_from_records(records: list[_Record], fmt: str, notes: _Notes) -> _Parts:
    """Header found among ``records``, the records after it as the table (XLSX rows)."""
    header = _locate_header(records)
    data = [list(r.cells) for r in records[header.data_start :]]
    width = max([len(header.names), 1] + [len(c) for c in data])
    for cells in data:
        cells.extend([None] * (width - len(cells)))
    columns = [_string_array(col) for col in zip(*data, strict=True)] if data else []
    if not data:
        columns = [_string_array(()) for _ in range(width)]
    lines = np.array([r.first_line for r in records[header.data_start :]], dtype=np.int64)
    return _finish_columns(columns, lines, header, False, fmt, notes)


# --------------------------------------------------------------------------- CSV


def _iter_csv(text: str, delimiter: str) -> Iterator[_Record]:
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        strict=False,
    )
    previous = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ReadError("unreadable", f"line {previous + 1}: {exc}") from exc
        first, previous = previous + 1, reader.line_num
        yield _Record(first, previous, [_clean(f) for f in fields])


def _head_text(text: str, limit: int = 262_144) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[: cut + 1] if cut > 0 else text[:limit]


def choose_delimiter(text: str) -> str:
    """The separator among ; , tab | that splits the first non-blank lines most consistently.

    Each candidate parses the first lines (quotes respected); the one whose most common field
    count (above 1) covers the largest share of lines wins, ties going to more fields. Decimal
    commas do not fool it: a ";" file with "9,53" values has commas in data lines but not in the
    header, so "," is not consistent over all lines.
    """
    head = _head_text(text, 65_536)
    best: tuple[float, int, int] | None = None
    choice = ","
    for rank, delim in enumerate(DELIMITERS):
        counts = []
        reader = csv.reader(io.StringIO(head, newline=""), delimiter=delim, quotechar='"')
        try:
            for fields in reader:
                if not fields or all(not f.strip() for f in fields) and len(fields) == 1:
                    continue
                counts.append(len(fields))
                if len(counts) >= SNIFF_ROWS:
                    break
        except csv.Error:
            continue
        if not counts:
            continue
        tally = Counter(counts)
        mode = max(tally, key=lambda c: (tally[c], c))
        if mode <= 1:
            continue
        key = (round(tally[mode] / len(counts), 3), mode, -rank)
        if best is None or key > best:
            best, choice = key, delim
    return choice


def _read_csv(raw: bytes, text: str, encoding: str, notes: _Notes) -> _Parts:
    delimiter = choose_delimiter(text)
    head: list[_Record] = []
    non_blank = 0
    for rec in _iter_csv(_head_text(text), delimiter):
        head.append(rec)
        non_blank += not rec.blank
        if non_blank > HEADER_SCAN_ROWS + 2:
            break
    if not any(not r.blank for r in head):
        raise ReadError("empty_file", "the file holds only separators and blank lines")
    header = _locate_header(head)
    parts = None
    if len(text) >= _ARROW_MIN_CHARS:  # Arrow only pays off on big files
        parts = _read_csv_arrow(raw, text, encoding, delimiter, header, notes)
    if parts is None:
        parts = _read_csv_python(text, delimiter, notes)
    parts.encoding, parts.delimiter = encoding, delimiter
    return parts


def _read_csv_python(text: str, delimiter: str, notes: _Notes) -> _Parts:
    """Any CSV, with the csv module (ragged rows, stray quotes, lone CR line breaks...)."""
    collecting = gc.isenabled()
    gc.disable()  # millions of new lists and strings would run the cycle collector over and over
    try:
        return _read_csv_records(text, delimiter, notes)
    finally:
        if collecting:
            gc.enable()


def _read_csv_records(text: str, delimiter: str, notes: _Notes) -> _Parts:
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True
    )
    rows: list[list[str]] = []
    firsts: list[int] = []
    previous = 0
    try:
        for fields in reader:
            firsts.append(previous + 1)
            previous = reader.line_num
            rows.append(fields)
    except csv.Error as exc:
        raise ReadError("unreadable", f"line {previous + 1}: {exc}") from exc
    if rows and text.count('"') % 2 and previous > firsts[-1] and any("\n" in f for f in rows[-1]):
        raise ReadError(
            "unreadable",
            f"a quoted field starting on line {firsts[-1]} is never closed: "
            f"the rest of the file (to line {previous}) would be one cell",
        )
    head: list[_Record] = []
    for i, fields in enumerate(rows):
        cells = [_clean(f) for f in fields]
        head.append(_Record(firsts[i], firsts[i + 1] - 1 if i + 1 < len(rows) else previous, cells))
        if sum(not r.blank for r in head) > HEADER_SCAN_ROWS + 2:
            break
    header = _locate_header(head)
    data = rows[header.data_start :]
    ragged = bool(header.header_row) and any(len(r) != header.fields for r in data if r)
    width = max([header.fields, 1] + [len(r) for r in data])
    for r in data:
        if len(r) < width:
            r.extend([""] * (width - len(r)))
    columns = [_string_array(col) for col in zip(*data, strict=True)] if data else []
    if not data:
        columns = [_string_array(()) for _ in range(width)]
    lines = np.array(firsts[header.data_start :], dtype=np.int64)
    parts = _finish_columns(columns, lines, header, False, "csv", notes)
    if ragged:
        notes.add("ragged_rows")
    return parts


def _string_array(values: Sequence[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, type=pa.string())


def _finish_columns(
    columns: list[Any],
    line_numbers: np.ndarray,
    header: _Header,
    blank_seen: bool,
    fmt: str,
    notes: _Notes,
) -> _Parts:
    """Arrow string columns -> RawTable parts: blanks to NaN, blank rows dropped, names final."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for code in header.notes:
        notes.add(code)
    cleaned = []
    blank_row = None
    for col in columns:
        # Empty or whitespace-only cells are missing values (no copy when there are none).
        blank = pc.or_kleene(pc.equal(pc.binary_length(col), 0), pc.utf8_is_space(col))
        if pc.any(blank).as_py():
            col = pc.if_else(blank, pa.scalar(None, pa.string()), col)
        cleaned.append(col)
        null = pc.is_null(col)
        blank_row = null if blank_row is None else pc.and_(blank_row, null)
    if blank_row is not None and pc.any(blank_row).as_py():
        blank_seen = True
        keep_rows = pc.invert(blank_row)
        cleaned = [pc.filter(c, keep_rows) for c in cleaned]
        line_numbers = line_numbers[keep_rows.to_numpy(zero_copy_only=False)]
    if blank_seen:
        notes.add("blank_rows_skipped")
    names, keep = _name_and_drop(
        header.names, len(cleaned), notes, lambda j: cleaned[j].null_count == len(cleaned[j])
    )
    dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    table = pa.table([cleaned[j] for j in keep], names=[f"f{j}" for j in keep])
    frame = table.to_pandas(types_mapper=lambda t: dtype if t == pa.string() else None)
    frame.columns = names
    if not keep:
        frame = pd.DataFrame(index=pd.RangeIndex(len(line_numbers)))
    return _Parts(frame, line_numbers.astype(np.int64), fmt, header_row=header.header_row)


def _read_csv_arrow(
    raw: bytes, text: str, encoding: str, delimiter: str, header: _Header, notes: _Notes
) -> _Parts | None:
    """Fast path for big files: Arrow parses, numpy finds on which line each record starts.

    A newline ends a record when an even number of quotes precedes it (RFC 4180 quoting), so
    quoted line breaks are handled. Returns None (the csv module then reads the file) when the
    file has no header, lone CR line breaks, an odd number of quotes, rows with another number of
    fields than the header, or when Arrow and the line count disagree.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if header.header_row == 0:
        return None
    if encoding == "utf-8-sig":
        body = raw[3:]
    else:
        body = raw if encoding == "utf-8" else text.encode("utf-8")
    if body.find(b"\r") != -1 and body.count(b"\r") != body.count(b"\r\n"):
        return None
    arr = np.frombuffer(body, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    multiline = False
    if body.find(b'"') != -1:
        quotes = np.flatnonzero(arr == 34)
        if len(quotes) % 2:
            return None
        inside = np.searchsorted(quotes, newlines) % 2 == 1
        multiline = bool(inside.any())
        ends = newlines[~inside]
    else:
        ends = newlines
    starts = np.concatenate(([0], ends + 1))
    stops = np.append(ends, len(arr))  # exclusive end of each record's text
    if starts[-1] >= len(arr):
        starts, stops = starts[:-1], stops[:-1]
    lines = np.searchsorted(newlines, starts) + 1  # line on which each record starts
    lengths = stops - starts
    cr = np.zeros(len(lengths), dtype=bool)
    nonzero = lengths > 0
    cr[nonzero] = arr[stops[nonzero] - 1] == 13
    lengths = lengths - cr
    first = int(np.searchsorted(lines, header.last_line + 1))
    if first >= len(starts):
        return None
    line_numbers = lines[first:][lengths[first:] > 0]
    width = header.fields
    names = [f"f{j}" for j in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)[int(starts[first]) :]),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                newlines_in_values=multiline,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if table.num_rows != len(line_numbers):
        return None
    columns = [col.combine_chunks() for col in table.columns]
    blank_seen = bool(np.any(lengths[first:] == 0))
    return _finish_columns(columns, line_numbers, header, blank_seen, "csv", notes)


# --------------------------------------------------------------------------- JSON / GeoJSON


def _scalar_text(value: Any) -> str | None:
    """Text of a JSON / spreadsheet / attribute value; None for missing."""
    if value is None:
        return None
    if isinstance(value, str):
        return None if value.strip() == "" else value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return None
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.timedelta):
        total = round(value.total_seconds())
        sign = "-" if total < 0 else ""
        total = abs(total)
        return f"{sign}{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _datetime_text(value: dt.datetime) -> str:
    """ISO text to the second: "2026-05-03" at midnight, else "2026-05-03 14:30:00"."""
    value = (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
    if value.tzinfo is None and value.time() == dt.time(0, 0):
        return value.date().isoformat()
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.tzinfo is not None:
        text += value.strftime("%z")
    return text


def _records_frame(
    records: list[dict[str, Any]], notes: _Notes, reserved: Sequence[str] = ()
) -> pd.DataFrame:
    keys: dict[str, None] = {}
    for rec in records:
        for key in rec:
            keys.setdefault(str(key), None)
    raw_names = list(keys)
    columns = [[_scalar_text(rec.get(k)) for rec in records] for k in raw_names]
    names = _final_names(list(reserved) + raw_names, len(reserved) + len(raw_names), notes)[
        len(reserved) :
    ]
    return pd.DataFrame(
        {n: pd.array(c, dtype="str") for n, c in zip(names, columns, strict=True)},
        index=pd.RangeIndex(len(records)),
        columns=names,
    )


def _read_json(doc: Any, notes: _Notes) -> _Parts:
    features: list[Any] | None = None
    crs_name = None
    if isinstance(doc, dict):
        kind = doc.get("type")
        if kind == "FeatureCollection":
            features = doc.get("features")
            if not isinstance(features, list):
                raise ReadError("no_table", "the FeatureCollection has no 'features' list")
            crs_name = ((doc.get("crs") or {}).get("properties") or {}).get("name")
        elif kind == "Feature":
            features = [doc]
        else:
            keys = ", ".join(list(map(str, doc))[:8])
            raise ReadError(
                "no_table",
                "the JSON object is neither a GeoJSON FeatureCollection nor "
                f"a list of records (keys: {keys})",
            )
    elif isinstance(doc, list):
        if doc and all(isinstance(x, dict) and x.get("type") == "Feature" for x in doc):
            features = doc
        else:
            bad = next((i for i, x in enumerate(doc) if not isinstance(x, dict)), None)
            if bad is not None:
                raise ReadError(
                    "no_table",
                    f"item {bad + 1} of the JSON list is not an object "
                    f"(a {type(doc[bad]).__name__})",
                )
            frame = _records_frame(doc, notes)
            return _Parts(frame, np.arange(1, len(doc) + 1, dtype=np.int64), "json")
    else:
        raise ReadError("no_table", f"the JSON document is a {type(doc).__name__}, not a table")

    import shapely

    props, geoms = [], []
    for i, feat in enumerate(features):
        if not isinstance(feat, dict):
            raise ReadError("no_table", f"feature {i + 1} is not a JSON object")
        p = feat.get("properties") or {}
        if not isinstance(p, dict):
            raise ReadError("no_table", f"feature {i + 1} has properties that are not an object")
        if "id" in feat and "id" not in p:
            p = {"id": feat["id"], **p}
        props.append(p)
        geom = None
        if feat.get("geometry"):
            try:
                geom = shapely.geometry.shape(feat["geometry"])
            except (
                ValueError,
                TypeError,
                KeyError,
                AttributeError,
                IndexError,
                shapely.errors.ShapelyError,
            ):
                geom = None
        geoms.append(geom)
    frame = _records_frame(props, notes, reserved=(LON_COLUMN, LAT_COLUMN))
    lon, lat = _lonlat(np.array(geoms, dtype=object), crs_name, notes)
    frame[LON_COLUMN] = pd.array(lon, dtype="str")
    frame[LAT_COLUMN] = pd.array(lat, dtype="str")
    return _Parts(
        frame, np.arange(1, len(features) + 1, dtype=np.int64), "geojson", geometry_lonlat=True
    )


def _lonlat(
    geoms: np.ndarray, crs: Any, notes: _Notes
) -> tuple[list[str | None], list[str | None]]:
    """Longitude/latitude text of one point per geometry, in EPSG:4326.

    Point: itself; MultiPoint: its first point; anything else: a point on its surface
    (``representative_point``, always inside a polygon); None/empty: NaN.
    """
    import shapely

    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            notes.add("missing_geometry")
            continue
        kind = shapely.get_type_id(geom)
        if kind == 0:  # Point
            point = geom
        elif kind == 4:  # MultiPoint
            point = geom.geoms[0]
            notes.add("multipoint_first_point")
        else:
            point = geom.representative_point()
            notes.add("non_point_geometry_centroid")
        x[i], y[i] = point.x, point.y
    if crs is not None:
        from pyproj import CRS, Transformer
        from pyproj.exceptions import CRSError

        try:
            source = CRS.from_user_input(crs)
        except (CRSError, TypeError, ValueError) as exc:
            raise ReadError("unreadable", f"unknown coordinate reference system {crs!r}") from exc
        if not (source.to_epsg() == 4326 or source.equals(CRS.from_user_input("OGC:CRS84"))):
            ok = ~np.isnan(x)
            if ok.any():
                transformer = Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)
                x[ok], y[ok] = transformer.transform(x[ok], y[ok])
                notes.add("reprojected")

    def text(values: np.ndarray) -> list[str | None]:
        return [repr(round(float(v), _COORD_DIGITS)) if math.isfinite(v) else None for v in values]

    return text(x), text(y)


# --------------------------------------------------------------------------- ZIP: XLSX / Shapefile


def open_zip(raw: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """A ZIP upload's archive and entries, once entries that leave the archive (absolute paths, drive
    letters, ``..``) and decompression bombs are refused; nothing is extracted yet."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError("bad_zip", f"not a readable ZIP archive ({exc})") from exc
    for info in infos:
        name = info.filename
        parts = re.split(r"[\\/]", name)
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise ReadError("zip_unsafe", f"archive entry {name!r} points outside the archive")
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_ZIP_TOTAL and total > MAX_ZIP_RATIO * packed:
        raise ReadError(
            "zip_unsafe",
            f"the archive unpacks to {total:,} bytes from {packed:,} "
            f"(over {MAX_ZIP_RATIO}x and {MAX_ZIP_TOTAL:,} bytes)",
        )
    return archive, infos


def zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One entry's bytes; a damaged or encrypted entry is a ``bad_zip`` error, not a crash."""
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise ReadError("bad_zip", f"cannot extract {info.filename} ({exc})") from exc


def _read_zip(raw: bytes, ext: str, sheet: str | int | None, notes: _Notes) -> _Parts:
    archive, infos = open_zip(raw)
    names = {i.filename for i in infos}
    shp = [
        i
        for i in infos
        if i.filename.lower().endswith(".shp")
        and not i.is_dir()
        and "__MACOSX" not in i.filename
        and not PurePosixPath(i.filename).name.startswith("._")
    ]
    is_xlsx = "xl/workbook.xml" in names
    if is_xlsx and (not shp or ext in (".xlsx", ".xlsm")):
        return _read_xlsx(raw, sheet, notes)
    if shp:
        return _read_zipped_shapefile(archive, infos, shp, sheet, notes)
    if "content.xml" in names and "mimetype" in names:
        raise ReadError(
            "unknown_format", "the content is an OpenDocument file (.ods): save it as .xlsx or CSV"
        )
    listing = ", ".join(sorted(names)[:8]) + (" ..." if len(names) > 8 else "")
    raise ReadError(
        "unknown_format",
        "a ZIP archive with neither an Excel workbook nor a Shapefile "
        f"(.shp) inside ({listing or 'empty'})",
    )


def _sheet_rows(raw: bytes, sheet: str | int | None, data_only: bool) -> tuple[str, list, int]:
    """(title, rows of cell values, number of sheets) of the chosen worksheet."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise ReadError(
            "unreadable", f"the Excel workbook cannot be opened ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        sheets = list(book.worksheets)
        if not sheets:
            raise ReadError("no_table", "the workbook has no worksheet")
        visible = next((s for s in sheets if s.sheet_state == "visible"), sheets[0])
        ws = _pick(sheets, [s.title for s in sheets], sheet, "sheet", default=visible)
        try:
            ws.reset_dimensions()
            rows = [list(row) for row in ws.iter_rows(min_row=1, values_only=True)]
        except Exception as exc:
            raise ReadError(
                "unreadable", f"sheet {ws.title!r} cannot be read ({type(exc).__name__}: {exc})"
            ) from exc
        return ws.title, rows, len(sheets)
    finally:
        book.close()


def _read_xlsx(raw: bytes, sheet: str | int | None, notes: _Notes) -> _Parts:
    """The cached values Excel saved; a formula never calculated (file written by a script)
    keeps its formula text ("=A2+1") rather than becoming an empty cell."""
    title, rows, count = _sheet_rows(raw, sheet, data_only=True)
    if count > 1:
        notes.add("other_sheets_ignored")
    if _has_formulas(raw):
        _, formulas, _ = _sheet_rows(raw, sheet, data_only=False)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None and r < len(formulas) and c < len(formulas[r]):
                    formula = formulas[r][c]
                    if isinstance(formula, str) and formula.startswith("="):
                        row[c] = formula
                        notes.add("formula_without_value")
    records = [_Record(r, r, [_scalar_text(v) for v in row]) for r, row in enumerate(rows, start=1)]
    if not any(not r.blank for r in records):
        raise ReadError("no_table", f"sheet {title!r} is empty")
    return _parts_from_records(records, "xlsx", notes)


def _has_formulas(raw: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for info in archive.infolist():
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                if re.search(rb"<(?:\w+:)?f[ >]", archive.read(info)):
                    return True
    return False


def _pick(items: list, names: list[str], wanted: str | int | None, what: str, default: Any) -> Any:
    if wanted is None:
        return default
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        if 0 <= wanted < len(items):
            return items[wanted]
    else:
        for item, name in zip(items, names, strict=True):
            if name == wanted:
                return item
        for item, name in zip(items, names, strict=True):
            if name.casefold() == str(wanted).casefold():
                return item
    raise ReadError("no_table", f"{what} {wanted!r} not found; the file has: {', '.join(names)}")


def _read_zipped_shapefile(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    shp: list[zipfile.ZipInfo],
    sheet: str | int | None,
    notes: _Notes,
) -> _Parts:
    stems = [i.filename[:-4] for i in shp]
    chosen = _pick(shp, [PurePosixPath(s).name for s in stems], sheet, "layer", default=shp[0])
    if len(shp) > 1:
        notes.add("other_layers_ignored")
    stem = chosen.filename[:-4]
    by_lower = {i.filename.lower(): i for i in infos}
    parts = {}
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        info = by_lower.get((stem + suffix).lower())
        if info is not None:
            parts[suffix] = info
    missing = [s for s in (".shx", ".dbf") if s not in parts]
    if missing:
        raise ReadError(
            "unreadable",
            f"the Shapefile {chosen.filename} has no "
            f"{' or '.join(missing)} beside it in the archive",
        )
    with tempfile.TemporaryDirectory(prefix="proximite-shp-") as tmp:
        for suffix, info in parts.items():
            Path(tmp, "layer" + suffix).write_bytes(zip_member(archive, info))
        return _read_vector(Path(tmp, "layer.shp"), None, "shapefile", notes)


def _read_geopackage(raw: bytes, sheet: str | int | None, notes: _Notes) -> _Parts:
    import pyogrio

    with tempfile.TemporaryDirectory(prefix="proximite-gpkg-") as tmp:
        path = Path(tmp, "upload.gpkg")
        path.write_bytes(raw)
        try:
            layers = pyogrio.list_layers(path)
        except Exception as exc:  # pyogrio.errors.DataSourceError and friends
            raise ReadError("unreadable", f"the GeoPackage cannot be opened ({exc})") from exc
        if len(layers) == 0:
            raise ReadError("no_table", "the SQLite file has no table or layer")
        names = [str(row[0]) for row in layers]
        layer = _pick(names, names, sheet, "layer", default=names[0])
        if len(names) > 1:
            notes.add("other_layers_ignored")
        try:
            driver = pyogrio.read_info(path, layer=layer).get("driver")
        except Exception as exc:
            raise ReadError("unreadable", f"layer {layer!r} cannot be read ({exc})") from exc
        if driver != "GPKG":
            raise ReadError("unknown_format", "an SQLite database that is not a GeoPackage")
        return _read_vector(path, layer, "gpkg", notes)


def _read_vector(path: Path, layer: str | None, fmt: str, notes: _Notes) -> _Parts:
    import pyogrio

    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, use_arrow=False)
    except Exception as exc:
        raise ReadError("unreadable", f"the {fmt} layer cannot be read ({exc})") from exc
    geometry = None
    crs = None
    if hasattr(gdf, "crs") and getattr(gdf, "_geometry_column_name", None) in gdf.columns:
        geometry = np.asarray(gdf.geometry.array, dtype=object)
        crs = gdf.crs
        gdf = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    records_cols = {}
    for name in gdf.columns:
        col = gdf[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            values = [None if pd.isna(v) else _scalar_text(pd.Timestamp(v)) for v in col]
        else:
            values = [
                None
                if (v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT)
                else _scalar_text(v)
                for v in col.astype(object)
            ]
        records_cols[str(name)] = values
    reserved = (LON_COLUMN, LAT_COLUMN) if geometry is not None else ()
    raw_names = list(records_cols)
    names = _final_names(list(reserved) + raw_names, len(reserved) + len(raw_names), notes)[
        len(reserved) :
    ]
    n = len(gdf)
    frame = pd.DataFrame(
        {
            nm: pd.array(records_cols[r], dtype="str")
            for nm, r in zip(names, raw_names, strict=True)
        },
        index=pd.RangeIndex(n),
        columns=names,
    )
    if geometry is not None:
        if crs is None:
            notes.add("crs_missing_assumed_wgs84")
        lon, lat = _lonlat(geometry, crs, notes)
        frame[LON_COLUMN] = pd.array(lon, dtype="str")
        frame[LAT_COLUMN] = pd.array(lat, dtype="str")
    return _Parts(
        frame, np.arange(1, n + 1, dtype=np.int64), fmt, geometry_lonlat=geometry is not None
    )
