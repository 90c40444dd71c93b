"""Exports of a filtered incident set: CSV (safe to open in Excel), GeoJSON, GeoPackage.

The rows come from the store already filtered for the viewer (sensitive
incidents only for those allowed), so an export never carries more than the
map showed.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import pandas as pd

import geopandas as gpd

#: A spreadsheet treats a cell starting with these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _prepared(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with BOM (Excel opens accents correctly); text cells neutralized."""
    out = _prepared(frame)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralize)
    # CRLF rows: a lone CR inside a value is then quoted, so it cannot start a row with a live formula.
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An Excel workbook, one sheet per frame (names cut to 31 characters); text cells neutralized and
    stripped of the control characters Excel refuses."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = _prepared(frame)
            for col in safe.columns:
                if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
                    safe[col] = safe[col].map(lambda v: neutralize(_ILLEGAL_XLSX.sub("", v))
                                              if isinstance(v, str) else v)
            safe.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def _geoframe(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    data = _prepared(frame)
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")


def to_geojson(frame: pd.DataFrame) -> bytes:
    return _geoframe(frame).to_json(drop_id=True, ensure_ascii=False).encode("utf-8")


def to_gpkg(frame: pd.DataFrame, layer: str = "incidents") -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.gpkg"
        _geoframe(frame).to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        return path.read_bytes()


WRITERS = {"csv": (to_csv, "text/csv"), "geojson": (to_geojson, "application/geo+json"),
           "gpkg": (to_gpkg, "application/geopackage+sqlite3")}


def export(frame: pd.DataFrame, fmt: str) -> tuple[bytes, str]:
    """Bytes and MIME type of ``frame`` in ``fmt`` (csv, geojson or gpkg)."""
    if fmt not in WRITERS:
        raise ValueError(f"format must be one of {sorted(WRITERS)}, got {fmt!r}")
    writer, mime = WRITERS[fmt]
    return writer(frame), mime
