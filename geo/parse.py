"""Coordinate and date parsers for imported incident reports.

Reports arrive from French Excel CSVs, KoboToolbox/ODK exports and paper forms
typed into spreadsheets, so one column can mix ``"9,5123"``, ``"9°30'45\"N"``,
``"12/03/2024"`` and ``"1er janvier 2023"``. Every parser works in two stages:

1. a vectorised fast path for the common shapes -- plain decimals, ISO dates,
   ``dd/mm/yyyy``, Excel serials, Kobo geopoints -- built on Arrow casts, RE2
   gate regexes and numpy byte reads, so a million cells cost a fraction of a
   second;
2. a per-value Python regex fallback for whatever the fast path left, run once
   per distinct string (and cached), so odd spellings are still understood.

The fallback accepts everything the fast path accepts, with the same result,
and the fast path decides row by row, so parsing a column at once gives the
same result as parsing each cell alone (the tests check both).

Parsers never raise on bad values: each row gets either a value or a stable
lowercase error code (see :data:`COORD_ERRORS` and :data:`DATE_ERRORS`) that
the caller translates into a message; a value is NaN/NaT exactly when its
error is set (for pairs, per axis). ``ValueError`` means bad arguments.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "COORD_ERRORS",
    "DATE_ERRORS",
    "parse_coordinate",
    "parse_coordinates",
    "parse_dates",
    "parse_geopoint",
]

COORD_ERRORS = (
    "coord_missing",
    "coord_unparseable",
    "coord_out_of_range",
    "coord_hemisphere_mismatch",
)
DATE_ERRORS = ("date_missing", "date_unparseable", "date_impossible", "date_future", "date_too_old")

# Internal error numbers; 0 means "no error". The object arrays below turn them into codes.
_OK, _MISSING, _UNPARSEABLE, _OUT_OF_RANGE, _MISMATCH = 0, 1, 2, 3, 4
_IMPOSSIBLE, _FUTURE, _TOO_OLD = 3, 4, 5
_COORD_CODES = np.array([None, *COORD_ERRORS], dtype=object)  # indexed by the numbers above
_DATE_CODES = np.array([None, *DATE_ERRORS], dtype=object)

# Hemisphere numbers: which axis a letter belongs to.
_NO_HEMI, _LAT, _LON = 0, 1, 2

# Cell kinds after splitting an input column by Python type.
_K_MISSING, _K_NUMBER, _K_STRING, _K_INVALID, _K_OBJECT = 0, 1, 2, 3, 4

_MAX_TEXT = 80  # longer cells are never a coordinate or a date; skip the regexes
_NAT = np.iinfo(np.int64).min
_DAY = 86_400
_NS = 1_000_000_000

# Tokens people type for "no value" (compared after strip + casefold).
_MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "n.a.", "nan", "none", "null", "nr", "nc", "nd", "-", "--", "---", "?"}
)
_TEXT_TABLE = str.maketrans(
    {
        "\u2032": "'",  # prime
        "\u2019": "'",  # right single quote (Word)
        "\u2018": "'",
        "\u00b4": "'",  # acute accent
        "`": "'",
        "\u02b9": "'",
        "\u02bc": "'",
        "\u2033": '"',  # double prime
        "\u201d": '"',
        "\u201c": '"',
        "\u02ba": '"',
        "\u00ba": "°",  # masculine ordinal, typed for a degree sign on French keyboards
        "\u02da": "°",  # ring above
        "\u2212": "-",  # minus sign
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2012": "-",  # figure dash
    }
)


def _clean(text: str) -> str:
    """Single-spaced, case-folded text with typographic quotes, dashes and degrees unified."""
    out = " ".join(text.split()).casefold().translate(_TEXT_TABLE)
    return out.replace("''", '"')


# --------------------------------------------------------------------------------------------
# Splitting an input column into numbers, strings and the rest
# --------------------------------------------------------------------------------------------


@dataclass
class _Column:
    """An input column split by kind so each kind takes its own vectorised path."""

    n: int
    kind: np.ndarray  # int8, one of _K_*
    numbers: np.ndarray  # float64, meaningful where kind == _K_NUMBER
    str_idx: np.ndarray  # positions of the string cells
    strs: pa.Array  # the string cells (no nulls), aligned with str_idx
    objects: list[tuple[int, Any]] = field(default_factory=list)  # (position, value)


def _from_strings(strings: pa.Array | pa.ChunkedArray) -> _Column:
    if isinstance(strings, pa.ChunkedArray):  # e.g. a concatenated pandas "str" column
        strings = strings.combine_chunks()
    valid = strings.is_valid().to_numpy(zero_copy_only=False)
    n = len(strings)
    kind = np.where(valid, _K_STRING, _K_MISSING).astype(np.int8)
    if valid.all():
        return _Column(n, kind, np.full(n, np.nan), np.arange(n), strings)
    return _Column(n, kind, np.full(n, np.nan), np.flatnonzero(valid), strings.drop_null())


def _from_numbers(numbers: np.ndarray) -> _Column:
    numbers = np.asarray(numbers, dtype=np.float64)
    kind = np.where(np.isnan(numbers), _K_MISSING, _K_NUMBER).astype(np.int8)
    return _Column(len(numbers), kind, numbers, np.zeros(0, np.int64), pa.array([], pa.string()))


def _from_objects(obj: np.ndarray) -> _Column:
    """Object cells: try whole-array conversions first, classify one by one only when mixed."""
    try:
        return _from_strings(pa.array(obj, type=pa.string(), from_pandas=True))
    except (TypeError, ValueError, OverflowError):
        pass
    try:
        inferred = pa.array(obj, from_pandas=True)
    except (TypeError, ValueError, OverflowError):
        inferred = None
    if inferred is not None:
        if pa.types.is_null(inferred.type):
            n = len(obj)
            return _Column(
                n, np.zeros(n, np.int8), np.full(n, np.nan), np.zeros(0, np.int64), pa.array([])
            )
        if pa.types.is_floating(inferred.type) or pa.types.is_integer(inferred.type):
            floats = pc.cast(inferred, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
            return _from_numbers(floats)
    n = len(obj)
    kind = np.empty(n, np.int8)
    nums = np.full(n, np.nan)
    texts: list[str | None] = [None] * n
    objects: list[tuple[int, Any]] = []
    for i, v in enumerate(obj):
        if isinstance(v, bytes):
            try:
                v = v.decode("utf-8")
            except UnicodeDecodeError:
                kind[i] = _K_INVALID
                continue
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates cannot go into Arrow
                kind[i] = _K_INVALID
                continue
            kind[i] = _K_STRING
            texts[i] = v
        elif v is None or v is pd.NA or v is pd.NaT:
            kind[i] = _K_MISSING
        elif isinstance(v, bool | np.bool_):
            kind[i] = _K_INVALID
        elif isinstance(v, numbers.Real):
            try:
                f = float(v)
            except (OverflowError, ValueError):
                f = math.inf
            kind[i] = _K_MISSING if math.isnan(f) else _K_NUMBER
            nums[i] = f
        else:
            kind[i] = _K_OBJECT
            objects.append((i, v))
    str_idx = np.flatnonzero(kind == _K_STRING)
    strs = pa.array([texts[i] for i in str_idx], type=pa.string())
    return _Column(n, kind, nums, str_idx, strs, objects)


def _column(values: object) -> _Column:
    """Split ``values`` (any 1-D sequence, Series, Index or array) by cell kind."""
    if values is None or isinstance(values, str | bytes | dict | pd.DataFrame):
        raise ValueError(f"expected a 1-D sequence of values, got {type(values).__name__}")
    if isinstance(values, pd.Series | pd.Index):
        data: Any = values.array
    elif isinstance(values, np.ndarray | pd.api.extensions.ExtensionArray):
        data = values
    else:
        try:
            items = list(values)  # type: ignore[call-overload]
        except TypeError as exc:
            raise ValueError(f"expected a 1-D sequence, got {type(values).__name__}") from exc
        return _from_objects(np.fromiter(items, dtype=object, count=len(items)))
    if getattr(data, "ndim", 1) != 1:
        raise ValueError("expected a 1-D sequence of values")
    dtype = data.dtype
    if isinstance(dtype, pd.StringDtype):
        return _from_strings(pa.array(data, type=pa.large_string(), from_pandas=True))
    if pd.api.types.is_bool_dtype(dtype):
        return _from_objects(np.asarray(data, dtype=object))
    if pd.api.types.is_numeric_dtype(dtype) and getattr(dtype, "kind", "O") in "iuf":
        if isinstance(data, np.ndarray):
            return _from_numbers(data.astype(np.float64))
        return _from_numbers(data.to_numpy(dtype=np.float64, na_value=np.nan))
    return _from_objects(np.asarray(data, dtype=object))


def _bool_np(arr: pa.Array) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def _cast_floats(strs: pa.Array) -> np.ndarray | None:
    """Arrow's correctly rounded string->float cast, or None if any cell refuses."""
    try:
        return pc.cast(strs, pa.float64()).to_numpy(zero_copy_only=False, writable=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _unique_apply(strs: pa.Array, fn: Any) -> tuple[list[Any], np.ndarray]:
    """Apply ``fn`` once per distinct string; return results and each cell's result index."""
    enc = strs.dictionary_encode()
    return [fn(s) for s in enc.dictionary.to_pylist()], enc.indices.to_numpy(zero_copy_only=False)


# --------------------------------------------------------------------------------------------
# Coordinates
# --------------------------------------------------------------------------------------------

# Fast path (RE2): plain decimal with a point, optional sign/exponent, or decimal comma.
_RE2_PLAIN = r"^[ \t]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*$"
_RE2_COMMA = r"^[ \t]*[+-]?(?:[0-9]+,[0-9]*|,[0-9]+)[ \t]*$"

_HEMI = r"nord|north|sud|south|est|east|ouest|west|n|s|e|w|o"
_HEMI_AXIS = {h: _LAT for h in ("n", "nord", "north", "s", "sud", "south")} | {
    h: _LON for h in ("e", "est", "east", "w", "west", "o", "ouest")
}
_HEMI_NEGATIVE = frozenset({"s", "sud", "south", "w", "west", "o", "ouest"})
_NUM = r"(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)"
_DEG_SEP = r"(?: ?° ?| ?: ?| )"
_MIN_SEP = r"(?: ?' ?| ?: ?| )"
_COORD_RE = re.compile(
    rf"(?P<pre>{_HEMI})? ?(?P<sign>[+-])? ?"
    rf"(?:(?P<d1>[0-9]+){_DEG_SEP}(?P<m1>[0-9]+){_MIN_SEP}(?P<s1>{_NUM}) ?\"?"  # D M S
    rf"|(?P<d2>[0-9]+){_DEG_SEP}(?P<m2>{_NUM}) ?'?"  # D M.m
    rf"|(?P<d3>{_NUM}(?:e[+-]?[0-9]+)?) ?°?)"  # D.d
    rf" ?(?P<post>{_HEMI})?"
)


_PLAIN_RE = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:e[+-]?[0-9]+)?")


def _num(text: str) -> float:
    return float(text.replace(",", "."))


@lru_cache(maxsize=1 << 16)
def _parse_coord_text(text: str) -> tuple[float, int, int]:
    """Parse one coordinate cell -> (value, error number, hemisphere axis); axis checks come later.

    An explicit sign that agrees with the hemisphere ("-13.7 W") is accepted as
    redundant; one that contradicts it ("-9.5 N") is unparseable rather than guessed.
    """
    t = _clean(text)
    if t in _MISSING_TOKENS:
        return math.nan, _MISSING, _NO_HEMI
    if _PLAIN_RE.fullmatch(t):  # as the Arrow fast path reads it, whatever the length
        return _num(t), _OK, _NO_HEMI
    if len(t) > _MAX_TEXT:
        return math.nan, _UNPARSEABLE, _NO_HEMI
    m = _COORD_RE.fullmatch(t)
    if m is None or (m["pre"] and m["post"]):
        return math.nan, _UNPARSEABLE, _NO_HEMI
    if m["d1"] is not None:
        minutes, seconds = int(m["m1"]), _num(m["s1"])
        if minutes >= 60 or seconds >= 60:
            return math.nan, _UNPARSEABLE, _NO_HEMI
        value = int(m["d1"]) + minutes / 60 + seconds / 3600
    elif m["d2"] is not None:
        minutes = _num(m["m2"])
        if minutes >= 60:
            return math.nan, _UNPARSEABLE, _NO_HEMI
        value = int(m["d2"]) + minutes / 60
    else:
        value = _num(m["d3"])
    hemi = m["pre"] or m["post"]
    sign = m["sign"]
    if hemi:
        negative = hemi in _HEMI_NEGATIVE
        if (sign == "-" and not negative) or (sign == "+" and negative):
            return math.nan, _UNPARSEABLE, _NO_HEMI
        return (-value if negative else value), _OK, _HEMI_AXIS[hemi]
    return (-value if sign == "-" else value), _OK, _NO_HEMI


def _whole_column_floats(strs: pa.Array) -> np.ndarray | None:
    """One Arrow cast for a column of plain decimals (point, or comma as French Excel writes).

    Arrow accepts exactly the decimal grammar of :data:`_RE2_PLAIN` (without
    surrounding blanks) plus inf/nan spellings, which come back non-finite and
    are re-read by the fallback; so this shortcut never changes a row's result.
    Commas are replaced up front because Arrow's slow path for "9,5" costs ~20x.
    """
    if pc.any(pc.match_substring(strs, ",")).as_py():
        strs = pc.replace_substring(strs, ",", ".")
    return _cast_floats(strs)


def _coord_strings(strs: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strings -> (value, error, hemisphere): Arrow for plain decimals, regex for the rest."""
    k = len(strs)
    err = np.zeros(k, np.int8)
    hemi = np.zeros(k, np.int8)
    value = _whole_column_floats(strs)
    if value is not None:
        todo = ~np.isfinite(value)
    else:  # some cells are not plain: find the plain ones row by row
        value = np.full(k, np.nan)
        todo = np.ones(k, bool)
        for pattern, comma in ((_RE2_PLAIN, False), (_RE2_COMMA, True)):
            sub_idx = np.flatnonzero(todo)
            sub = strs.take(sub_idx) if len(sub_idx) < k else strs
            hit = _bool_np(pc.match_substring_regex(sub, pattern))
            if not hit.any():
                continue
            sub = pc.utf8_trim_whitespace(sub.filter(hit))
            if comma:
                sub = pc.replace_substring(sub, ",", ".")
            floats = _cast_floats(sub)
            if floats is not None:
                value[sub_idx[hit]] = floats
                todo[sub_idx[hit]] = ~np.isfinite(floats)
    if todo.any():
        idx = np.flatnonzero(todo)
        results, inverse = _unique_apply(strs.take(idx), _parse_coord_text)
        table = np.array(results, dtype=np.float64).reshape(-1, 3)
        value[idx] = table[inverse, 0]
        err[idx] = table[inverse, 1]
        hemi[idx] = table[inverse, 2]
    return value, err, hemi


def _coordinate_arrays(
    values: object, axis: Literal["lat", "lon"]
) -> tuple[np.ndarray, np.ndarray]:
    if axis not in ("lat", "lon"):
        raise ValueError(f"axis must be 'lat' or 'lon', got {axis!r}")
    col = _column(values)
    value = np.where(col.kind == _K_NUMBER, col.numbers, np.nan)
    err = np.zeros(col.n, np.int8)
    hemi = np.zeros(col.n, np.int8)
    err[col.kind == _K_MISSING] = _MISSING
    err[col.kind == _K_INVALID] = _UNPARSEABLE
    if len(col.strs):
        value[col.str_idx], err[col.str_idx], hemi[col.str_idx] = _coord_strings(col.strs)
    for i, obj in col.objects:
        value[i], err[i], hemi[i] = _parse_coord_text(str(obj))
    axis_code = _LAT if axis == "lat" else _LON
    err[(err == _OK) & (hemi != _NO_HEMI) & (hemi != axis_code)] = _MISMATCH
    limit = 90.0 if axis == "lat" else 180.0
    with np.errstate(invalid="ignore"):
        err[(err == _OK) & ~(np.abs(value) <= limit)] = _OUT_OF_RANGE
    value[err != _OK] = np.nan
    return value, err


def _codes(err: np.ndarray, table: np.ndarray) -> pd.Series:
    return pd.Series(table[err], dtype=object)


def parse_coordinate(
    values: Sequence[Any] | pd.Series, *, axis: Literal["lat", "lon"]
) -> pd.DataFrame:
    """Parse one coordinate column (latitude or longitude) in any common spelling.

    Accepts decimals with point or comma ("9.5123", "9,5123"), a trailing degree
    sign, a sign or a hemisphere letter/word before or after (N/Nord/S/Sud,
    E/Est, W/O/Ouest), degrees-minutes(-seconds) with ° ' " ′ ″ ’ ” '' : or spaces,
    and numbers. ``axis`` is needed because a hemisphere letter must match it and
    the valid range differs.

    Parameters
    ----------
    values
        Cells as strings and/or numbers.
    axis
        ``"lat"`` (range ±90, N/S) or ``"lon"`` (range ±180, E/W).

    Returns
    -------
    DataFrame
        ``value`` (float64, NaN exactly when ``error`` is set) and ``error``
        (None or one of :data:`COORD_ERRORS`), one row per input cell, RangeIndex.
    """
    value, err = _coordinate_arrays(values, axis)
    return pd.DataFrame({"value": value, "error": _codes(err, _COORD_CODES)})


def parse_coordinates(
    lat: Sequence[Any] | pd.Series, lon: Sequence[Any] | pd.Series
) -> pd.DataFrame:
    """Parse latitude and longitude columns of equal length as pairs.

    Returns
    -------
    DataFrame
        ``lat``, ``lon`` (float64; each NaN when that axis failed) and ``error``:
        the latitude's error if any, else the longitude's, else None.
    """
    lat_value, lat_err = _coordinate_arrays(lat, "lat")
    lon_value, lon_err = _coordinate_arrays(lon, "lon")
    if len(lat_value) != len(lon_value):
        raise ValueError(f"lat and lon differ in length: {len(lat_value)} != {len(lon_value)}")
    err = np.where(lat_err != _OK, lat_err, lon_err)
    return pd.DataFrame({"lat": lat_value, "lon": lon_value, "error": _codes(err, _COORD_CODES)})


# --------------------------------------------------------------------------------------------
# KoboToolbox / ODK geopoints
# --------------------------------------------------------------------------------------------

# Fast-path gate (RE2, on blank-trimmed cells): 2 to 4 dot decimals separated by single spaces.
_RE2_GNUM = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_RE2_GEOPOINT = rf"^{_RE2_GNUM}(?: {_RE2_GNUM}){{1,3}}$"
_POINT_NUM = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
_DOT_NUM = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


@lru_cache(maxsize=1 << 16)
def _parse_geopoint_text(text: str) -> tuple[float, float, float, float, int]:
    """One geopoint cell -> (lat, lon, alt, accuracy, error number)."""
    nan = math.nan
    t = " ".join(text.split()).translate(_TEXT_TABLE)
    if t.casefold() in _MISSING_TOKENS:
        return nan, nan, nan, nan, _MISSING
    parts = [p.strip() for p in t.split(";")] if ";" in t else []
    if not parts and "," in t:
        # "lat,lon" only with decimal points, so "9,5" stays one decimal-comma number
        by_comma = [p.strip() for p in t.split(",")]
        if len(by_comma) == 2 and all(_DOT_NUM.fullmatch(p) and "." in p for p in by_comma):
            parts = by_comma
    if not parts:
        parts = t.split(" ")
    if not 2 <= len(parts) <= 4 or not all(_POINT_NUM.fullmatch(p) for p in parts):
        return nan, nan, nan, nan, _UNPARSEABLE
    nums = [_num(p) for p in parts] + [nan] * (4 - len(parts))
    return nums[0], nums[1], nums[2], nums[3], _OK


def parse_geopoint(values: Sequence[Any] | pd.Series) -> pd.DataFrame:
    """Parse KoboToolbox/ODK geopoints ("lat lon [alt [accuracy]]").

    Also accepts "lat,lon" and "lat;lon" (as pasted from a map) and decimal
    commas when the parts are separated by spaces or semicolons. Degrees only:
    a geopoint is machine-written, so DMS is not expected here.

    Returns
    -------
    DataFrame
        ``lat``, ``lon``, ``alt``, ``accuracy`` (float64, all NaN when ``error``
        is set; alt/accuracy NaN when absent) and ``error`` (None or one of
        ``coord_missing``, ``coord_unparseable``, ``coord_out_of_range``).
    """
    col = _column(values)
    out = np.full((col.n, 4), np.nan)
    err = np.zeros(col.n, np.int8)
    err[col.kind == _K_MISSING] = _MISSING
    err[(col.kind == _K_INVALID) | (col.kind == _K_NUMBER)] = _UNPARSEABLE  # one number is no point
    if len(col.strs):
        k = len(col.strs)
        sub_out = np.full((k, 4), np.nan)
        sub_err = np.zeros(k, np.int8)
        trimmed = pc.utf8_trim_whitespace(col.strs)
        hit = _bool_np(pc.match_substring_regex(trimmed, _RE2_GEOPOINT))
        done = np.zeros(k, bool)
        if hit.any():
            lists = pc.split_pattern(trimmed.filter(hit), " ")
            floats = _cast_floats(lists.flatten())
            if floats is not None:
                offsets = lists.offsets.to_numpy()
                starts, counts = offsets[:-1], np.diff(offsets)
                block = np.full((len(starts), 4), np.nan)
                for j in range(4):
                    has = counts > j
                    block[has, j] = floats[starts[has] + j]
                sub_out[hit] = block
                done = hit
        if not done.all():
            idx = np.flatnonzero(~done)
            results, inverse = _unique_apply(col.strs.take(idx), _parse_geopoint_text)
            table = np.array(results, dtype=np.float64).reshape(-1, 5)
            sub_out[idx] = table[inverse, :4]
            sub_err[idx] = table[inverse, 4]
        out[col.str_idx] = sub_out
        err[col.str_idx] = sub_err
    for i, obj in col.objects:
        *point, err[i] = _parse_geopoint_text(str(obj))
        out[i] = point
    with np.errstate(invalid="ignore"):
        bad = ~((np.abs(out[:, 0]) <= 90) & (np.abs(out[:, 1]) <= 180))
    err[(err == _OK) & bad] = _OUT_OF_RANGE
    out[err != _OK] = np.nan
    return pd.DataFrame(
        {
            "lat": out[:, 0],
            "lon": out[:, 1],
            "alt": out[:, 2],
            "accuracy": out[:, 3],
            "error": _codes(err, _COORD_CODES),
        }
    )


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_EXCEL_EPOCH_DAYS = -25_569  # 1899-12-30 relative to 1970-01-01
_SERIAL_MIN, _SERIAL_END = 1.0, 80_001.0  # serial days 1..80000 (with any time of day)
_OLDEST_DAY = (dt.date(1950, 1, 1) - dt.date(1970, 1, 1)).days
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)

# Fast-path gates (RE2, applied to blank-trimmed cells). A cell that passes has a fixed
# layout, so _read_iso/_read_dmy can take its fields straight from the bytes.
_RE2_CLOCK = r"[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
_RE2_ISO = (
    rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}(?:[Tt ][0-9]{{2}}:{_RE2_CLOCK}"
    r" ?(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)
_RE2_DMY = (
    r"^(?:[0-9]{1,2}/[0-9]{1,2}/|[0-9]{1,2}-[0-9]{1,2}-|[0-9]{1,2}\.[0-9]{1,2}\.)[0-9]{4}"
    rf"(?: [0-9]{{1,2}}:{_RE2_CLOCK})?$"
)
_RE2_SERIAL = r"^[0-9]+(?:\.[0-9]+)?$"

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            "janvier janv jan january",
            "fevrier fevr fev feb february",
            "mars mar march",
            "avril avr apr april",
            "mai may",
            "juin jun june",
            "juillet juil jul july",
            "aout aou aug august",
            "septembre sept sep september",
            "octobre oct october",
            "novembre nov november",
            "decembre dec december",
        ],
        start=1,
    )
    for name in names.split()
}
_RX_WEEKDAY = (
    r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday"
    r"|thursday|friday|saturday|sunday),? )?"
)
_RX_DAY = r"(?P<d>[0-9]{1,2})(?:er|eme|e|st|nd|rd|th)?"
_RX_MON = r"(?P<mon>[a-z]+)\.?"
_RX_YEAR = r"(?P<y>[0-9]{4}|[0-9]{2})"
_RX_TIME = (
    r"(?P<H>[0-9]{1,2})[:h](?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,](?P<F>[0-9]{1,9}))?)?"
    r"(?: ?(?P<ampm>am|pm))?(?: ?(?P<tz>z|utc|gmt|[+-][0-9]{2}(?::?[0-9]{2})?))?"
)
_RX_TAIL = rf"(?:(?:t| |, ?| a | at | - ){_RX_TIME})?"
_DATE_RES = [
    (
        "ymd",
        re.compile(
            rf"(?P<y>[0-9]{{4}})(?P<sep>[-/.])(?P<m>[0-9]{{1,2}})(?P=sep)"
            rf"(?P<d>[0-9]{{1,2}}){_RX_TAIL}"
        ),
    ),
    (
        "dmy",
        re.compile(
            rf"(?P<a>[0-9]{{1,2}})(?P<sep>[-/.])(?P<b>[0-9]{{1,2}})(?P=sep)"
            rf"{_RX_YEAR}{_RX_TAIL}"
        ),
    ),
    (
        "dmony",
        re.compile(
            rf"{_RX_WEEKDAY}(?:le )?{_RX_DAY}(?: ?[-/.] ?| ){_RX_MON}(?: ?[-/.,] ?| )"
            rf"{_RX_YEAR}{_RX_TAIL}"
        ),
    ),
    ("mondy", re.compile(rf"{_RX_WEEKDAY}{_RX_MON} {_RX_DAY},? {_RX_YEAR}{_RX_TAIL}")),
]
_SERIAL_RE = re.compile(r"[0-9]+(?:[.,][0-9]+)?")

# A parsed date cell: (y, m, d, H, M, S, ns, utc offset minutes, has_time); validated in bulk.
_Parts = tuple[int, int, int, int, int, int, int, int, bool]


def _year(text: str) -> int:
    """Four-digit years as written; two-digit years 00-69 -> 2000s, 70-99 -> 1900s."""
    y = int(text)
    if len(text) == 2:
        y += 2000 if y < 70 else 1900
    return y


def _offset_minutes(tz: str | None) -> int:
    if not tz or tz in ("z", "utc", "gmt"):
        return 0
    digits = tz[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    if len(digits) > 2 and int(digits[2:4]) > 59:
        return 10_000  # rejected by _compose as impossible
    return -minutes if tz[0] == "-" else minutes


@lru_cache(maxsize=1 << 16)
def _parse_date_text(text: str, dayfirst: bool) -> _Parts | float | int:
    """One date cell -> date parts, an Excel serial (float) or an error number (int)."""
    t = unicodedata.normalize("NFD", _clean(text))
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    if t in _MISSING_TOKENS:
        return _MISSING
    if _SERIAL_RE.fullmatch(t):
        return _num(t)
    if len(t) > _MAX_TEXT:
        return _UNPARSEABLE
    for name, regex in _DATE_RES:
        m = regex.fullmatch(t)
        if m is None:
            continue
        if name == "ymd":
            y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
        elif name == "dmy":
            a, b = int(m["a"]), int(m["b"])
            d, mo = (a, b) if dayfirst else (b, a)
            y = _year(m["y"])
        else:
            mo = _MONTHS.get(m["mon"], 0)
            if not mo:
                return _UNPARSEABLE
            y, d = _year(m["y"]), int(m["d"])
        if m["H"] is None:
            return (y, mo, d, 0, 0, 0, 0, 0, False)
        hour = int(m["H"])
        if m["ampm"]:
            if not 1 <= hour <= 12:
                return _IMPOSSIBLE
            hour = hour % 12 + (12 if m["ampm"] == "pm" else 0)
        sec = int(m["S"] or 0)
        ns = int((m["F"] or "").ljust(9, "0"))
        return (y, mo, d, hour, int(m["M"]), sec, ns, _offset_minutes(m["tz"]), True)
    return _UNPARSEABLE


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _compose(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parts (y, m, d, H, M, S, ns, offset minutes) -> (UTC seconds, nanoseconds, valid).

    Both the fast path and the fallback validate here, so "31/02/2024" is
    ``date_impossible`` whichever path read it.
    """
    y, m, d, hh, mm, ss, ns, off = parts
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    m_safe = np.clip(m, 1, 12)
    dim = _DAYS_IN_MONTH[m_safe - 1] + (leap & (m_safe == 2))
    valid = (
        (y >= 1)
        & (m >= 1)
        & (m <= 12)
        & (d >= 1)
        & (d <= dim)
        & (hh <= 23)
        & (mm <= 59)
        & (ss <= 59)
        & (np.abs(off) < 24 * 60)
    )
    days = _days_from_civil(np.where(valid, y, 1970), m_safe, np.where(valid, d, 1))
    secs = days * _DAY + hh * 3600 + mm * 60 + ss - off * 60
    return secs, ns, valid


class _Bytes:
    """Byte access to selected cells of an Arrow string array (fields at known offsets).

    Reading digits at fixed positions with numpy costs a few milliseconds per
    million cells, where regex extraction costs half a second. ``raw`` reads
    are unchecked (the buffer is padded, and the gate regex vouches for the
    layout); callers mask fields a cell does not have.
    """

    _PAD = 64  # > longest gated cell, so unchecked reads stay inside the buffer

    def __init__(self, arr: pa.Array, rows: np.ndarray) -> None:
        _, offsets_buf, data_buf = arr.buffers()
        width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        offsets = np.frombuffer(offsets_buf, dtype=width)[arr.offset : arr.offset + len(arr) + 1]
        data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
        self.data = np.concatenate([data, np.zeros(self._PAD, np.uint8)])
        self.start = offsets[rows].astype(np.int64)
        self.length = offsets[rows + 1].astype(np.int64) - self.start

    def raw(self, pos: np.ndarray | int) -> np.ndarray:
        return self.data[self.start + pos]

    def char(self, pos: np.ndarray | int) -> np.ndarray:
        """Byte at ``pos`` of each cell (0 past its end)."""
        return np.where(pos < self.length, self.raw(pos), 0)

    def is_digit(self, pos: np.ndarray | int) -> np.ndarray:
        c = self.char(pos)
        return (c >= 48) & (c <= 57)

    def number(self, pos: np.ndarray | int, width: int) -> np.ndarray:
        """Decimal number written with ``width`` digits starting at ``pos`` (unchecked)."""
        out = self.raw(pos).astype(np.int64)
        for i in range(1, width):
            out = out * 10 + self.raw(pos + i)
        return out - 48 * int("1" * width)

    def number_1_2(self, pos: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """One- or two-digit number at ``pos`` -> (value, digits used)."""
        one = self.raw(pos).astype(np.int64) - 48
        second = self.raw(pos + 1).astype(np.int64) - 48
        two = (second >= 0) & (second <= 9) & (pos + 1 < self.length)
        return np.where(two, one * 10 + second, one), np.where(two, 2, 1)

    def fraction(self, pos: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nanoseconds of ".ddd" at ``pos`` where ``present`` -> (ns, position after it)."""
        going = present & (self.char(pos) == ord("."))
        ns = np.zeros(len(self.start), np.int64)
        count = np.zeros(len(self.start), np.int64)
        j = 0
        while j < 9 and going.any():
            j += 1
            going = going & self.is_digit(pos + j)
            ns = ns * 10 + np.where(going, self.raw(pos + j).astype(np.int64) - 48, 0)
            count += going
        return ns * 10 ** (9 - j), np.where(count > 0, pos + 1 + count, pos)


def _read_iso(b: _Bytes) -> tuple[list[np.ndarray], np.ndarray]:
    """Cells that passed :data:`_RE2_ISO` -> (parts, has_time)."""
    has_time = b.length > 10
    y, m, d = b.number(0, 4), b.number(5, 2), b.number(8, 2)
    hh = np.where(has_time, b.number(11, 2), 0)
    mm = np.where(has_time, b.number(14, 2), 0)
    has_sec = has_time & (b.char(16) == ord(":"))
    ss = np.where(has_sec, b.number(17, 2), 0)
    ns, pos = b.fraction(np.where(has_sec, 19, 16), has_sec)
    pos = pos + (has_time & (b.char(pos) == ord(" ")))
    tz_len = np.where(has_time, b.length - pos, 0)
    sign = np.where(b.char(pos) == ord("-"), -1, 1)
    tz_h = np.where(tz_len >= 3, b.number(pos + 1, 2), 0)
    tz_m = np.where(tz_len >= 5, b.number(np.where(tz_len == 6, pos + 4, pos + 3), 2), 0)
    off = sign * np.where(tz_m > 59, 10_000, tz_h * 60 + tz_m)
    return [y, m, d, hh, mm, ss, ns, off], has_time


def _read_dmy(b: _Bytes, dayfirst: bool) -> tuple[list[np.ndarray], np.ndarray]:
    """Cells that passed :data:`_RE2_DMY` -> (parts, has_time)."""
    first, used = b.number_1_2(0)
    pos = used + 1
    second, used = b.number_1_2(pos)
    pos = pos + used + 1
    y = b.number(pos, 4)
    pos = pos + 5  # year and the blank before the time
    has_time = b.length > pos
    hh, used = b.number_1_2(pos)
    pos = pos + used + 1
    mm = b.number(pos, 2)
    has_sec = has_time & (b.char(pos + 2) == ord(":"))
    ss = np.where(has_sec, b.number(pos + 3, 2), 0)
    ns, _ = b.fraction(pos + 5, has_sec)
    d, m = (first, second) if dayfirst else (second, first)
    zero = np.zeros(len(y), np.int64)
    hh, mm = np.where(has_time, hh, 0), np.where(has_time, mm, 0)
    return [y, m, d, hh, mm, ss, ns, zero], has_time


@dataclass
class _DateCells:
    """Per-cell date results accumulated by the different paths."""

    secs: np.ndarray
    nanos: np.ndarray
    err: np.ndarray
    has_time: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _DateCells:
        return cls(
            np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int8), np.zeros(n, bool)
        )

    def set_parts(self, idx: np.ndarray, parts: Sequence[np.ndarray], has_time: np.ndarray) -> None:
        secs, nanos, valid = _compose(parts)
        self.secs[idx], self.nanos[idx], self.has_time[idx] = secs, nanos, has_time
        self.err[idx] = np.where(valid, _OK, _IMPOSSIBLE)

    def set_serial(self, idx: np.ndarray, serial: np.ndarray) -> None:
        """Excel serial days (origin 1899-12-30; the fraction is the time of day)."""
        ok = np.isfinite(serial) & (serial >= _SERIAL_MIN) & (serial < _SERIAL_END)
        total = np.round(np.where(ok, serial, 0.0) * _DAY).astype(np.int64)
        self.secs[idx] = total + _EXCEL_EPOCH_DAYS * _DAY
        self.nanos[idx] = 0
        self.has_time[idx] = ok & (total % _DAY != 0)
        self.err[idx] = np.where(ok, _OK, _UNPARSEABLE)


def _date_strings(strs: pa.Array, dayfirst: bool) -> _DateCells:
    """String cells -> date cells: gated byte reads and casts first, Python regex for the rest."""
    cells = _DateCells.empty(len(strs))
    todo = np.ones(len(strs), bool)
    trimmed = pc.utf8_trim_whitespace(strs)
    for gate in (_RE2_ISO, _RE2_DMY):
        if not todo.any():
            break
        rows = np.flatnonzero(todo & _bool_np(pc.match_substring_regex(trimmed, gate)))
        if len(rows):
            b = _Bytes(trimmed, rows)
            parts, has_time = _read_iso(b) if gate is _RE2_ISO else _read_dmy(b, dayfirst)
            cells.set_parts(rows, parts, has_time)
            todo[rows] = False
    if todo.any():
        rows = np.flatnonzero(todo & _bool_np(pc.match_substring_regex(trimmed, _RE2_SERIAL)))
        floats = _cast_floats(trimmed.take(rows)) if len(rows) else None
        if floats is not None:
            cells.set_serial(rows, floats)
            todo[rows] = False
    if todo.any():
        rows = np.flatnonzero(todo)
        results, inverse = _unique_apply(
            strs.take(rows), lambda text: _parse_date_text(text, dayfirst)
        )
        unique = _DateCells.empty(len(results))
        _fallback_dates(unique, np.arange(len(results)), results)
        for name in ("secs", "nanos", "err", "has_time"):
            getattr(cells, name)[rows] = getattr(unique, name)[inverse]
    return cells


def _fallback_dates(cells: _DateCells, idx: np.ndarray, results: list[Any]) -> None:
    """Store per-value fallback results (parts, serials or error numbers) at ``idx``."""
    is_parts = np.array([isinstance(r, tuple) for r in results], dtype=bool)
    is_serial = np.array([isinstance(r, float) for r in results], dtype=bool)
    is_err = ~(is_parts | is_serial)
    if is_parts.any():
        rows = [r for r in results if isinstance(r, tuple)]
        parts = np.array([r[:8] for r in rows], dtype=np.int64).reshape(-1, 8)
        cells.set_parts(idx[is_parts], list(parts.T), np.array([r[8] for r in rows], dtype=bool))
    if is_serial.any():
        cells.set_serial(idx[is_serial], np.array([r for r in results if isinstance(r, float)]))
    if is_err.any():
        cells.err[idx[is_err]] = [r for r, e in zip(results, is_err, strict=True) if e]


def _date_object(value: Any) -> _Parts | int | None:
    """datetime/date/Timestamp/np.datetime64 cells -> parts; None if it is none of these."""
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return _MISSING
        try:
            value = pd.Timestamp(value)
        except (ValueError, OverflowError):
            return _UNPARSEABLE
    if isinstance(value, dt.datetime):
        nanos = getattr(value, "nanosecond", 0)
        offset = value.utcoffset()
        off = 0 if offset is None else int(offset.total_seconds() // 60)
        has_time = value.time() != dt.time(0) or nanos != 0
        parts = (value.hour, value.minute, value.second, value.microsecond * 1000 + nanos)
        return (value.year, value.month, value.day, *parts, off, has_time)
    if isinstance(value, dt.date):
        return (value.year, value.month, value.day, 0, 0, 0, 0, 0, False)
    return None


def _datetime64_cells(values: Any) -> _DateCells:
    """A datetime64 column (naive = Guinea local = UTC, or tz-aware) -> date cells."""
    s = pd.Series(values).reset_index(drop=True)
    if s.dt.tz is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = s.to_numpy()
    nat = np.isnat(arr)
    whole = arr.astype("datetime64[s]")
    cells = _DateCells.empty(len(arr))
    cells.secs[:] = whole.astype(np.int64)
    cells.nanos[:] = (arr - whole).astype("timedelta64[ns]").astype(np.int64)
    cells.has_time[:] = (cells.secs % _DAY != 0) | (cells.nanos != 0)
    cells.err[nat] = _MISSING
    return cells


def parse_dates(
    values: Sequence[Any] | pd.Series, *, today: dt.date, dayfirst: bool = True
) -> pd.DataFrame:
    """Parse incident dates in the spellings found in Guinean spreadsheets and exports.

    Accepts ISO 8601 (with time and Z/offset as Kobo writes it), dd/mm/yyyy with
    ``/``, ``-`` or ``.`` and 2- or 4-digit years (00-69 -> 20xx, 70-99 -> 19xx),
    optional time ("14:30", "14h30"), Excel serial days (1..80000, origin
    1899-12-30, fraction = time of day; numeric strings count too), French and
    English month names ("1er janvier 2023", "3 févr. 2024", "March 12, 2024"),
    and datetime/date objects.

    Naive times are Guinea local time, which is UTC (UTC+0, no daylight saving),
    so they are stored unchanged as UTC; explicit offsets are converted.

    Parameters
    ----------
    values
        Cells as strings, numbers (Excel serials) or datetime objects.
    today
        Dates after this day (compared on the UTC = local date) are ``date_future``.
    dayfirst
        Read numeric day/month as dd/mm (True, French usage) or mm/dd (False).

    Returns
    -------
    DataFrame
        ``value`` (datetime64[ns, UTC], NaT exactly when ``error`` is set),
        ``error`` (None or one of :data:`DATE_ERRORS`) and ``has_time`` (bool:
        the cell carried a time of day; False on error).
    """
    if not isinstance(today, dt.date):
        raise ValueError(f"today must be a datetime.date, got {type(today).__name__}")
    if isinstance(today, dt.datetime):
        today = today.date()
    today_day = (today - dt.date(1970, 1, 1)).days
    dtype = getattr(values, "dtype", None)
    if dtype is not None and pd.api.types.is_datetime64_any_dtype(dtype):
        if getattr(values, "ndim", 1) != 1:
            raise ValueError("expected a 1-D sequence of values")
        cells = _datetime64_cells(values)
    else:
        col = _column(values)
        cells = _DateCells.empty(col.n)
        cells.err[col.kind == _K_MISSING] = _MISSING
        cells.err[col.kind == _K_INVALID] = _UNPARSEABLE
        number_idx = np.flatnonzero(col.kind == _K_NUMBER)
        if len(number_idx):
            cells.set_serial(number_idx, col.numbers[number_idx])
        if len(col.strs) == col.n:
            cells = _date_strings(col.strs, dayfirst)
        elif len(col.strs):
            found = _date_strings(col.strs, dayfirst)
            for name in ("secs", "nanos", "err", "has_time"):
                getattr(cells, name)[col.str_idx] = getattr(found, name)
        if col.objects:
            idx = np.array([i for i, _ in col.objects], dtype=np.int64)
            results = []
            for _, obj in col.objects:
                parsed = _date_object(obj)
                results.append(
                    parsed if parsed is not None else _parse_date_text(str(obj), dayfirst)
                )
            _fallback_dates(cells, idx, results)
    err = cells.err
    ok = err == _OK
    day = cells.secs // _DAY
    err[ok & (day < _OLDEST_DAY)] = _TOO_OLD
    err[ok & (day > today_day)] = _FUTURE
    ok = err == _OK
    ns = np.full(len(err), _NAT, dtype=np.int64)
    ns[ok] = cells.secs[ok] * _NS + cells.nanos[ok]
    value = pd.array(ns.view("datetime64[ns]")).tz_localize("UTC")
    return pd.DataFrame(
        {"value": value, "error": _codes(err, _DATE_CODES), "has_time": cells.has_time & ok}
    )
