"""Read a road network (a line layer) from a file and store it as one import batch.

Accepted: GeoJSON, GeoPackage (the first line layer, or the layer named) and a
zipped Shapefile, recognised from the content as in :mod:`exchange.readers`.
Geometries are taken to EPSG:4326, multi-lines are split into their lines, Z/M
values dropped, and each line that cannot be a road is dropped and counted by
reason (:data:`DROP_REASONS`) with the first feature numbers, so the user can
find it in the file. Roads farther than :data:`OUTLINE_BUFFER_M` from Guinea are
dropped; roads crossing that limit are cut at it. A file that cannot be read, or
that holds no usable line, raises :class:`ReadError` / :class:`RoadFileError`
with a stable code; :func:`i18n.reasons.reason_text` (re-exported here) turns every code,
drop reason and note into a sentence.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from exchange.readers import ReadError, _blank_bytes, _load
from exchange.vector import LayerFileError, LayerKind, VectorSource, materialize, read_raw, text_values, to_wgs84
from geo.blackspots import line_lengths_m
from geo.boundaries import load_outline
from geo.crs import WGS84, transformer, utm_epsg_for
from geo.names import normalize
from i18n.reasons import reason_text
from storage import Store

#: Roads are kept up to this distance outside Guinea's outline (border posts, the coast road).
OUTLINE_BUFFER_M = 5_000.0
#: Why a line is not imported, in the order they are checked.
DROP_REASONS: tuple[str, ...] = ("geometry_missing", "not_a_line", "geometry_empty", "geometry_invalid",
                                 "zero_length", "road_outside_guinea")
#: File-level failures specific to road layers (the others are ``ReadError`` codes).
ERROR_CODES: tuple[str, ...] = ("not_a_line_layer", "no_roads_kept")
#: Feature numbers kept per drop reason, for messages.
MAX_EXAMPLES = 5

#: Column names (normalised: lower case, no accents, separators as spaces) per road field, best first.
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "nom", "nom route", "nom voie", "road name", "route name", "name fr", "nom fr", "libelle",
             "designation", "toponyme", "name en"),
    "ref": ("ref", "numero", "num", "number", "no", "road ref", "code route", "code", "nat ref", "int ref",
            "route"),
    "road_class": ("highway", "road class", "class", "classe", "fclass", "type", "type route", "categorie",
                   "category", "hierarchie", "niveau"),
}
#: What a road file must hold.
ROAD_LAYER = LayerKind("line", "road", lambda detail: RoadFileError("not_a_line_layer", detail))
_LINE_TYPES = (1, 5)  # shapely type ids of LineString and MultiLineString
_CONTAINER_TYPES = (7,)  # GeometryCollection: not a road either


__all__ = ["DROP_REASONS", "ERROR_CODES", "ReadError", "RoadFileError", "RoadLayer", "RoadReport", "import_roads",
           "read_roads", "reason_text"]


class RoadFileError(LayerFileError):
    """A file that is readable but is not a usable road network; ``code`` is stable, ``detail`` for logs."""

    CODES = ERROR_CODES


@dataclass(frozen=True)
class RoadReport:
    """What reading a road file did: counts, drop reasons with example feature numbers, columns used."""

    file_name: str
    file_format: str
    layer: str | None
    sha256: str
    features: int
    lines: int
    kept: int
    length_km: float
    dropped: dict[str, int]
    examples: dict[str, tuple[int, ...]]
    columns: dict[str, str | None]
    source_crs: str | None
    notes: tuple[str, ...]
    clipped: int = 0

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (the ``--json`` output of ``proximite roads import``)."""
        return {"file": self.file_name, "format": self.file_format, "layer": self.layer,
                "features": self.features, "lines": self.lines, "imported": self.kept,
                "length_km": round(self.length_km, 3), "dropped": dict(self.dropped),
                "dropped_rows": {k: list(v) for k, v in self.examples.items()}, "columns": dict(self.columns),
                "source_crs": self.source_crs, "clipped": self.clipped, "notes": list(self.notes)}


@dataclass(frozen=True, eq=False)
class RoadLayer:
    """Roads ready to store (``name``, ``ref``, ``road_class``, ``length_m``, ``source_row``, LineString
    ``geometry`` in EPSG:4326) and the report of how they were read."""

    roads: gpd.GeoDataFrame
    report: RoadReport


# --- entry points -----------------------------------------------------------------------------------


def read_roads(data: bytes | Path | str | Any, file_name: str | None = None, *, layer: str | int | None = None,
               max_bytes: int = 200_000_000) -> RoadLayer:
    """Read a road layer from ``data`` (bytes, a path or a binary file object); see the module docstring."""
    raw, name = _load(data, file_name, max_bytes)
    if _blank_bytes(raw):
        raise ReadError("empty_file", f"{name or 'the file'} is empty ({len(raw)} bytes)")
    sha = hashlib.sha256(raw).hexdigest()
    with tempfile.TemporaryDirectory(prefix="proximite-roads-") as tmp:
        source = materialize(raw, Path(tmp), layer, ROAD_LAYER)
        meta, geometry, fields = _read_layer(source)
    return _build(name, sha, source, meta, geometry, fields)


def import_roads(store: Store, data: bytes | Path | str | Any, file_name: str | None = None, *,
                 layer: str | int | None = None, created_by: str | None = None,
                 user: object = None) -> tuple[RoadLayer, int]:
    """Read and store a road network as one batch (undo it like any import); returns it and the batch id."""
    result = read_roads(data, file_name, layer=layer)
    report = result.report
    batch_id = store.write_roads(result.roads, file_name=report.file_name or None, file_sha256=report.sha256,
                                 file_format=report.file_format, n_rows=report.features, created_by=created_by,
                                 user=user)
    return result, batch_id


# --- reading the layer ------------------------------------------------------------------------------


def _read_layer(source: VectorSource) -> tuple[dict, np.ndarray, pd.DataFrame]:
    """Raw WKB (so that an invalid geometry is told apart from a missing one) and the attribute table."""
    meta, wkb, fields = read_raw(source, source.layer)
    if wkb is None:
        raise RoadFileError("not_a_line_layer", "the layer is a table without geometry")
    return meta, wkb, fields


# --- turning features into roads --------------------------------------------------------------------


def _detect_columns(columns: list[str]) -> dict[str, str | None]:
    """The source column of each road field, by synonym (first synonym, then leftmost column)."""
    normal = {c: normalize(c.replace("_", " ").replace("-", " ")) for c in columns}
    out: dict[str, str | None] = {}
    taken: set[str] = set()
    for target, synonyms in FIELD_SYNONYMS.items():
        out[target] = None
        for synonym in synonyms:
            hit = next((c for c in columns if normal[c] == synonym and c not in taken), None)
            if hit is not None:
                out[target] = hit
                taken.add(hit)
                break
    return out


@lru_cache(maxsize=1)
def _guinea_area() -> shapely.Geometry:
    """Guinea's outline grown by :data:`OUTLINE_BUFFER_M`, in lon/lat (buffered in metres, UTM)."""
    outline = load_outline()
    country = shapely.union_all(outline.loc[outline["kind"] == "country", "geometry"].to_numpy())
    epsg = utm_epsg_for(*country.bounds)
    fwd, back = transformer(WGS84, epsg), transformer(epsg, WGS84)
    metric = shapely.transform(country, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
    grown = shapely.buffer(shapely.simplify(metric, 100.0), OUTLINE_BUFFER_M)
    area = shapely.transform(grown, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))
    shapely.prepare(area)
    return area


def _line_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The LineStrings inside each geometry (multi-lines and collections flattened, points left out),
    with the position of the geometry each came from."""
    parts, origin = shapely.get_parts(geoms, return_index=True)
    while True:
        nested = np.isin(shapely.get_type_id(parts), (5, 7))
        if not nested.any():
            break
        inner, which = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        origin = np.concatenate([origin[~nested], origin[nested][which]])
    lines = shapely.get_type_id(parts) == 1
    order = np.argsort(origin[lines], kind="stable")
    return parts[lines][order], origin[lines][order]


def _build(name: str, sha: str, source: VectorSource, meta: dict, wkb: np.ndarray, fields: pd.DataFrame) -> RoadLayer:
    n = len(wkb)
    notes = list(source.notes)
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    missing = pd.isna(wkb)
    unparsable = ~missing & pd.isna(geoms)
    types = shapely.get_type_id(geoms)
    present = ~missing & ~unparsable
    is_line = np.isin(types, _LINE_TYPES)
    if n and present.any() and not is_line[present].any():
        kinds = sorted({type(g).__name__ for g in geoms[present]})
        raise RoadFileError("not_a_line_layer", f"layer {source.layer!r} holds {', '.join(kinds)} features")
    if n == 0 or not present.any():
        raise RoadFileError("no_roads_kept", f"layer {source.layer!r} has {n} features and no geometry")

    reason = np.full(n, None, dtype=object)  # per feature, before splitting multi-lines
    reason[missing] = "geometry_missing"
    reason[unparsable] = "geometry_invalid"
    reason[present & ~is_line] = "not_a_line"
    reason[present & is_line & shapely.is_empty(geoms)] = "geometry_empty"

    crs = meta.get("crs")
    ok = reason == None  # noqa: E711 (element-wise)
    lines = to_wgs84(shapely.force_2d(geoms[ok]), crs, notes)
    parts, which = shapely.get_parts(lines, return_index=True)
    rows = np.flatnonzero(ok)[which]  # feature position of each line

    columns = _detect_columns(list(fields.columns))
    attrs = {target: text_values(fields[col] if col else None, n) for target, col in columns.items()}

    part_reason = np.full(len(parts), None, dtype=object)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    bad_coords = np.zeros(len(parts), dtype=bool)
    np.logical_or.at(bad_coords, idx, ~np.isfinite(coords).all(axis=1))
    part_reason[bad_coords] = "geometry_invalid"
    flat = shapely.length(parts) == 0
    part_reason[(part_reason == None) & flat] = "zero_length"  # noqa: E711
    part_reason[(part_reason == None) & ~shapely.is_valid(parts)] = "geometry_invalid"  # noqa: E711

    area = _guinea_area()
    todo = np.flatnonzero(part_reason == None)  # noqa: E711
    inside = shapely.covers(area, parts[todo])
    crossing = todo[~inside]
    touches = shapely.intersects(area, parts[crossing])
    part_reason[crossing[~touches]] = "road_outside_guinea"
    cut = crossing[touches]
    kept_geoms = parts.copy()
    if cut.size:
        kept_geoms[cut] = shapely.intersection(parts[cut], area)
        notes.append("clipped_to_guinea")
    keep = np.flatnonzero(part_reason == None)  # noqa: E711
    final, origin = _line_parts(kept_geoms[keep])
    positive = shapely.length(final) > 0
    final, origin = final[positive], origin[positive]
    src_rows = rows[keep][origin]

    dropped: dict[str, int] = {}
    examples: dict[str, tuple[int, ...]] = {}
    all_reasons = np.concatenate([reason[~ok], part_reason[part_reason != None]])  # noqa: E711
    all_rows = np.concatenate([np.flatnonzero(~ok), rows[part_reason != None]])  # noqa: E711
    for code in DROP_REASONS:
        sel = all_rows[all_reasons == code]
        if sel.size:
            dropped[code] = int(sel.size)
            examples[code] = tuple(int(r) + 1 for r in np.unique(sel)[:MAX_EXAMPLES])
    if not len(final):
        detail = ", ".join(f"{k}: {v}" for k, v in dropped.items()) or "nothing left"
        raise RoadFileError("no_roads_kept", f"{n} features read; dropped {detail}")

    roads = gpd.GeoDataFrame({
        "name": attrs["name"][src_rows], "ref": attrs["ref"][src_rows], "road_class": attrs["road_class"][src_rows],
        "length_m": line_lengths_m(final), "source_row": src_rows + 1,
    }, geometry=final, crs=WGS84)
    report = RoadReport(
        file_name=name, file_format=source.file_format,
        layer=source.layer if source.file_format != "geojson" else None, sha256=sha, features=n,
        lines=int(len(parts) + (~ok).sum()), kept=len(roads), length_km=float(roads["length_m"].sum() / 1000),
        dropped=dropped, examples=examples, columns=columns, source_crs=str(crs) if crs else None,
        notes=tuple(dict.fromkeys(notes)), clipped=int(cut.size),
    )
    return RoadLayer(roads, report)
