"""Vector layer files as GDAL reads them: what the road and neighbourhood imports share.

The content decides the format (GeoJSON, GeoPackage, zipped Shapefile and, when the
caller accepts it, KML/KMZ), never the file name. Archives are checked before anything
is extracted (:func:`exchange.readers.open_zip`), KML is refused when it declares a
DOCTYPE or an entity (KML never needs one; it is how XML entity attacks start), and
the layer is the one named or else the first one of the wanted geometry (``"line"``,
``"polygon"``). A KML is read whole: its folders are only grouping.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from exchange.readers import ReadError, _binary_kind, _pick, open_zip, zip_member
from geo.crs import WGS84

#: Files of one Shapefile copied out of an archive (``.shx`` and ``.dbf`` are required).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
KML_UNSAFE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
KML_ROOT = re.compile(rb"<(\w+:)?kml[\s>]", re.IGNORECASE)
#: Layer types GDAL reports when it cannot tell before reading (GeoJSON, mixed layers).
_UNKNOWN_TYPES = ("", "unknown", "geometry", "geometrycollection")


class LayerFileError(Exception):
    """A readable file that holds no usable layer of the kind wanted; ``code`` is stable (one of the
    subclass's ``CODES``), ``detail`` is for logs."""

    CODES: tuple[str, ...] = ()

    def __init__(self, code: str, detail: str) -> None:
        if code not in self.CODES:
            raise ValueError(f"unknown {type(self).__name__} code {code!r}")
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass
class VectorSource:
    """A file written where GDAL reads it, the layer(s) to read and how it was found."""

    path: Path
    layers: list[str]
    file_format: str
    notes: list[str] = field(default_factory=list)

    @property
    def layer(self) -> str | None:
        """The first layer read (the only one but for KML)."""
        return self.layers[0] if self.layers else None


@dataclass(frozen=True)
class LayerKind:
    """What a caller wants: the geometry word GDAL's layer types contain, the name of the thing for
    messages, the error for a file without such a layer, and (to accept KML/KMZ) the error for unsafe KML."""

    geometry: str
    what: str
    wrong_kind: Callable[[str], Exception]
    kml_unsafe: Callable[[str], Exception] | None = None


def materialize(raw: bytes, tmp: Path, wanted: str | int | None, kind: LayerKind) -> VectorSource:
    """Write the upload under ``tmp`` where GDAL can read it and pick the layer(s)."""
    if raw.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _from_zip(raw, tmp, wanted, kind)
    if raw.startswith(b"SQLite format 3\x00"):
        path = tmp / "upload.gpkg"
        path.write_bytes(raw)
        return choose_layer(path, "gpkg", wanted, kind)
    binary = _binary_kind(raw)
    if binary is not None:
        raise ReadError("unknown_format", f"the content is {binary}, not a {kind.what} layer")
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        path = tmp / "upload.geojson"
        path.write_bytes(raw)
        return choose_layer(path, "geojson", wanted, kind)
    if kind.kml_unsafe is not None and head.startswith(b"<") and KML_ROOT.search(raw[:65536]):
        return _kml(raw, tmp / "upload.kml", "kml", wanted, kind)
    formats = "GeoJSON, a GeoPackage, a zipped Shapefile" + (" or KML" if kind.kml_unsafe is not None else "")
    raise ReadError("unknown_format", f"not {formats}")


def choose_layer(path: Path, fmt: str, wanted: str | int | None, kind: LayerKind, *,
                 every: bool = False) -> VectorSource:
    """The layer named, else the first of ``kind``'s geometry (or of unknown type), else every layer."""
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio.errors.DataSourceError and friends
        raise ReadError("unreadable", f"the {fmt} file cannot be opened ({exc})") from exc
    if len(layers) == 0:
        raise ReadError("no_table", f"the {fmt} file has no layer")
    names = [str(row[0]) for row in layers]
    types = {str(row[0]): str(row[1] or "") for row in layers}
    notes = ["other_layers_ignored"] if len(names) > 1 else []
    if wanted is not None:
        return VectorSource(path, [_pick(names, names, wanted, "layer", default=None)], fmt, notes)
    if every:
        return VectorSource(path, names, fmt)
    fitting = [n for n in names if kind.geometry in types[n].lower()]
    unknown = [n for n in names if types[n].lower() in _UNKNOWN_TYPES]
    if fitting or unknown:
        return VectorSource(path, [(fitting or unknown)[0]], fmt, notes)
    listing = ", ".join(f"{n} ({types[n]})" for n in names)
    raise kind.wrong_kind(f"no {kind.geometry} layer among: {listing}")


def _kml(raw: bytes, path: Path, fmt: str, wanted: str | int | None, kind: LayerKind) -> VectorSource:
    """KML (or a KMZ's main KML) in an ASCII-compatible encoding, so the declaration check sees everything."""
    if not KML_ROOT.search(raw[:65536]):
        raise ReadError("unknown_format", f"the {fmt} holds no <kml> root element in UTF-8 or a Latin encoding")
    found = KML_UNSAFE.search(raw)
    if found and kind.kml_unsafe is not None:
        raise kind.kml_unsafe(f"the KML declares {found.group(1).decode().upper()} at byte {found.start()}")
    path.write_bytes(raw)
    return choose_layer(path, fmt, wanted, kind, every=True)


def _from_zip(raw: bytes, tmp: Path, wanted: str | int | None, kind: LayerKind) -> VectorSource:
    """A zipped Shapefile (the one named, else the first of the wanted geometry) or a KMZ (its main KML)."""
    archive, infos = open_zip(raw)
    infos = [i for i in infos if not i.is_dir() and "__MACOSX" not in i.filename
             and not PurePosixPath(i.filename).name.startswith("._")]
    shp = [i for i in infos if i.filename.lower().endswith(".shp")]
    if not shp:
        kml = sorted((i for i in infos if i.filename.lower().endswith(".kml")),
                     key=lambda i: (PurePosixPath(i.filename).name.lower() != "doc.kml", i.filename))
        if kml and kind.kml_unsafe is not None:
            return _kml(zip_member(archive, kml[0]), tmp / "upload.kml", "kmz", wanted, kind)
        inside = "a Shapefile (.shp) or KML" if kind.kml_unsafe is not None else "a Shapefile (.shp)"
        raise ReadError("unknown_format", f"a ZIP archive without {inside} inside")
    by_lower = {i.filename.lower(): i for i in infos}
    layers: dict[str, Path] = {}
    for k, entry in enumerate(shp):
        stem = entry.filename[:-4]
        folder = tmp / f"layer{k}"
        folder.mkdir()
        for suffix in SHAPEFILE_PARTS:
            info = by_lower.get((stem + suffix).lower())
            if info is None:
                if suffix in (".shx", ".dbf"):
                    raise ReadError("unreadable", f"the Shapefile {entry.filename} has no {suffix} beside it")
                continue
            (folder / ("layer" + suffix)).write_bytes(zip_member(archive, info))
        layers[PurePosixPath(stem).name] = folder / "layer.shp"
    names = list(layers)
    notes = ["other_layers_ignored"] if len(names) > 1 else []
    if wanted is not None:
        name = _pick(names, names, wanted, "layer", default=None)
        return VectorSource(layers[name], [name], "shapefile", notes)
    import pyogrio

    for name in names:
        try:
            geometry = str(pyogrio.read_info(layers[name]).get("geometry_type") or "")
        except Exception as exc:
            raise ReadError("unreadable", f"the Shapefile {name} cannot be read ({exc})") from exc
        if kind.geometry in geometry.lower():
            return VectorSource(layers[name], [name], "shapefile", notes)
    raise kind.wrong_kind(f"no {kind.geometry} layer among the Shapefiles: {', '.join(names)}")


def read_raw(source: VectorSource, layer: str | None) -> tuple[dict, np.ndarray | None, pd.DataFrame]:
    """One layer's metadata, raw WKB (so an invalid geometry is told apart from a missing one; None for a
    table without geometry) and attribute table."""
    import pyogrio

    try:
        meta, _, wkb, values = pyogrio.raw.read(source.path, layer=layer if source.file_format != "shapefile"
                                                else None)
    except Exception as exc:
        raise ReadError("unreadable", f"the {source.file_format} layer cannot be read ({exc})") from exc
    fields = pd.DataFrame({str(n): v for n, v in zip(meta["fields"], values, strict=True)})
    return meta, (None if wkb is None else np.asarray(wkb, dtype=object)), fields


def to_wgs84(geoms: np.ndarray, crs: object, notes: list[str]) -> np.ndarray:
    """``geoms`` in longitude/latitude: converted from ``crs``, or taken as such when the file states none;
    what was done is appended to ``notes``."""
    if crs is None:
        notes.append("crs_missing_assumed_wgs84")
        return np.asarray(geoms, dtype=object)
    series = gpd.GeoSeries(geoms, crs=crs)
    if series.crs.equals("EPSG:4326"):
        return np.asarray(geoms, dtype=object)
    try:
        out = np.asarray(series.to_crs(WGS84).array, dtype=object)
    except Exception as exc:
        raise ReadError("unreadable", f"cannot convert from {crs} to longitude/latitude ({exc})") from exc
    notes.append("reprojected")
    return out


def read_layers(source: VectorSource, no_geometry: Callable[[str], Exception]
                ) -> tuple[np.ndarray, pd.DataFrame, str | None, list[str]]:
    """Geometries in EPSG:4326 (``None`` where missing, ``False`` where unreadable), attributes, source CRS
    and notes, over every layer of ``source``; ``no_geometry(detail)`` is raised when none has geometry."""
    notes = list(source.notes)
    geoms: list[np.ndarray] = []
    tables: list[pd.DataFrame] = []
    crs_seen: str | None = None
    for layer in source.layers:
        meta, wkb, fields = read_raw(source, layer)
        if wkb is None:
            if len(source.layers) == 1:
                raise no_geometry("the layer is a table without geometry")
            continue
        parsed = shapely.from_wkb(wkb, on_invalid="ignore")
        unreadable = pd.notna(wkb) & pd.isna(parsed)
        crs = meta.get("crs")
        crs_seen = crs_seen or (str(crs) if crs is not None else None)
        out = to_wgs84(parsed, crs, notes).copy()
        out[unreadable] = False  # told apart from a missing geometry
        geoms.append(out)
        tables.append(fields)
    if not geoms:
        raise no_geometry("no layer of the file has geometry")
    return (np.concatenate(geoms), pd.concat(tables, ignore_index=True, sort=False), crs_seen,
            list(dict.fromkeys(notes)))


def text_values(values: pd.Series | None, n: int) -> np.ndarray:
    """Attribute values as single-spaced text, blanks as None; whole numbers read as floats (Shapefile) as "1"."""
    if values is None:
        return np.full(n, None, dtype=object)
    out = []
    for v in values.astype(object):
        if v is None or v is pd.NA or (isinstance(v, float) and not np.isfinite(v)):
            out.append(None)
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(" ".join(str(v).split()) or None)
    return np.array(out, dtype=object)
