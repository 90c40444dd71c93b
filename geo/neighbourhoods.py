"""Neighbourhoods (quartiers, districts): user-made units below the sub-prefecture.

The vendored boundaries stop at the sub-prefecture (commune); councils, plans
and the place-name geocoder need the quartier too, so users add them from a
file or by drawing. This module is the pure geometry shared by the file import
(:mod:`exchange.neighbourhoods`) and the store (a drawn shape): turn whatever
arrived into one clean (Multi)Polygon per feature, find the sub-prefecture each
one belongs to, and walk up the hierarchy from a stored row.

A feature stays **one unit** whether it is a Polygon or a MultiPolygon (a
quartier with an island is still one quartier). It joins the sub-prefecture it
overlaps most, measured in square metres in the UTM zone of its own centre;
``overlap_share`` is that sub-prefecture's part of the neighbourhood's land
(its area inside Guinea), so a coastal quartier drawn over the sea is not
mistaken for one straddling two communes. ``inside_share`` is the part of the
shape that lies inside Guinea at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

import shapely
from shapely.errors import GEOSException
from shapely.geometry import shape as shape_from_mapping

from geo.boundaries import Level, get_unit, load_units
from geo.crs import WGS84, transformer

#: Level name of user-added units in the gazetteer, councils and plans.
LEVEL = "neighbourhood"
#: Below this share of its land in one sub-prefecture a neighbourhood is flagged as straddling communes.
STRADDLE_SHARE = 0.8
#: Below this share inside Guinea a neighbourhood is flagged as partly outside the country.
INSIDE_SHARE = 0.8
#: Prefix of a stored neighbourhood's unit id (``"NB-12"`` for row 12), the id councils and the gazetteer use.
UNIT_PREFIX = "NB-"
#: Longest name the store takes.
MAX_NAME_LENGTH = 200

#: Why a shape cannot be a neighbourhood (shape-level; file imports add their own).
SHAPE_ERRORS = ("geometry_missing", "geometry_invalid", "not_a_polygon", "geometry_empty", "polygon_degenerate",
                "drawn_not_closed", "name_missing", "name_too_long", "neighbourhood_outside_guinea")
#: What was changed or is worth checking on a shape that is kept.
SHAPE_WARNINGS = ("geometry_repaired", "other_parts_ignored", "straddles_communes", "partly_outside_guinea")

_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7
_M2_PER_KM2 = 1_000_000.0


class NeighbourhoodError(ValueError):
    """A shape or name that cannot be stored as a neighbourhood; ``codes`` are stable reason codes."""

    def __init__(self, codes: tuple[str, ...] | list[str], detail: str = "") -> None:
        self.codes = tuple(codes)
        super().__init__(f"{', '.join(self.codes)}{': ' + detail if detail else ''}")


@dataclass(frozen=True)
class CleanShapes:
    """Output of :func:`clean_polygons`, aligned with the input.

    ``geometry`` is a valid, non-empty Polygon or MultiPolygon in 2-D, or ``None`` where
    ``reason`` says why the feature cannot be used; ``repaired`` marks shapes that
    ``make_valid`` had to fix, ``other_parts`` those that also held points or lines (ignored).
    """

    geometry: np.ndarray
    reason: np.ndarray
    repaired: np.ndarray
    other_parts: np.ndarray


@dataclass(frozen=True)
class Parent:
    """One unit above a neighbourhood."""

    level: Level
    unit_id: str
    name: str


@dataclass(frozen=True)
class ShapeCheck:
    """A drawn (or single) shape checked like a file feature: the clean geometry, where it belongs, and why not.

    ``errors`` stop it from being stored; ``warnings`` are for the user to confirm.
    """

    name: str
    geometry: shapely.Geometry | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    subprefecture_id: str | None = None
    prefecture_id: str | None = None
    region_id: str | None = None
    overlap_share: float = 0.0
    inside_share: float = 0.0
    area_km2: float = 0.0
    label_lon: float = float("nan")
    label_lat: float = float("nan")

    @property
    def ok(self) -> bool:
        return not self.errors


# --- ids --------------------------------------------------------------------------------------------


def unit_ids(ids: Any) -> np.ndarray:
    """Unit ids (``"NB-<row id>"``) of stored neighbourhood row ids."""
    values = np.asarray(ids, dtype=np.int64).ravel()
    return np.array([f"{UNIT_PREFIX}{v}" for v in values.tolist()], dtype=object)


def row_id(unit_id: str) -> int:
    """Row id of a neighbourhood unit id; ``ValueError`` naming it if it is not one."""
    text = str(unit_id)
    number = text[len(UNIT_PREFIX):]
    if not text.startswith(UNIT_PREFIX) or not number.isdigit():
        raise ValueError(f"{unit_id!r} is not a neighbourhood unit id ({UNIT_PREFIX}<number>)")
    return int(number)


# --- shapes -----------------------------------------------------------------------------------------


def _flatten(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every simple part of every geometry (multi-parts and nested collections opened), with its owner."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    while True:
        nested = np.isin(shapely.get_type_id(parts), (4, 5, _MULTIPOLYGON, _COLLECTION))
        if not nested.any():
            return parts, owner
        inner, which = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        owner = np.concatenate([owner[~nested], owner[nested][which]])


def _assemble(parts: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """One MultiPolygon per owner from its Polygon parts (None for owners without any)."""
    out = np.full(n, None, dtype=object)
    if len(parts):
        order = np.argsort(owner, kind="stable")
        shapely.multipolygons(parts[order], indices=owner[order], out=out)
    return out


def _simplest(geoms: np.ndarray) -> np.ndarray:
    """A MultiPolygon of one part becomes that Polygon (what the user drew stays a Polygon)."""
    out = geoms.copy()
    have = pd.notna(out)
    single = np.zeros(len(out), dtype=bool)
    single[have] = (shapely.get_type_id(out[have]) == _MULTIPOLYGON) & (shapely.get_num_geometries(out[have]) == 1)
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def clean_polygons(geoms: Any) -> CleanShapes:
    """Valid 2-D (Multi)Polygons from raw geometries, or the reason a feature has none (vectorized).

    Polygonal parts are kept and points or lines inside collections ignored (KML
    MultiGeometry often carries a label point); invalid polygons (bow-ties,
    self-touching rings, overlapping parts) are repaired with
    ``make_valid(method="structure")``, which keeps the areas the rings enclose and
    drops parts that collapse to lines. Reasons, in order: ``geometry_missing``,
    ``geometry_invalid`` (coordinates that are not numbers), ``geometry_empty``,
    ``not_a_polygon`` and ``polygon_degenerate`` (no area left after repair).
    """
    arr = np.asarray(geoms, dtype=object).ravel()
    n = len(arr)
    reason = np.full(n, None, dtype=object)
    repaired = np.zeros(n, dtype=bool)
    other = np.zeros(n, dtype=bool)
    missing = pd.isna(arr)
    reason[missing] = "geometry_missing"
    have = np.flatnonzero(~missing)
    flat = shapely.force_2d(arr[have])
    coords, which = shapely.get_coordinates(flat, return_index=True)
    bad = np.zeros(len(have), dtype=bool)
    np.logical_or.at(bad, which, ~np.isfinite(coords).all(axis=1))
    reason[have[bad]] = "geometry_invalid"
    empty = ~bad & shapely.is_empty(flat)
    reason[have[empty]] = "geometry_empty"
    todo = ~bad & ~empty
    parts, owner = _flatten(flat[todo])
    is_poly = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    position = have[todo]
    np.logical_or.at(other, position[owner[~is_poly & ~shapely.is_empty(parts)]], True)
    polygons = _assemble(parts[is_poly], owner[is_poly], len(position))
    none = pd.isna(polygons)
    reason[position[none]] = "not_a_polygon"
    other[position[none]] = False  # nothing kept: the reason says it all
    valid = np.zeros(len(position), dtype=bool)
    valid[~none] = shapely.is_valid(polygons[~none])
    fix = ~none & ~valid
    if fix.any():
        fixed = shapely.make_valid(polygons[fix], method="structure", keep_collapsed=False)
        fparts, fowner = _flatten(fixed)
        keep = (shapely.get_type_id(fparts) == _POLYGON) & ~shapely.is_empty(fparts)
        polygons[fix] = _assemble(fparts[keep], fowner[keep], int(fix.sum()))
        repaired[position[fix]] = True
    present = pd.notna(polygons)
    area = np.zeros(len(position))
    area[present] = shapely.area(polygons[present])
    degenerate = ~none & (~present | ~(area > 0))
    reason[position[degenerate]] = "polygon_degenerate"
    repaired[position[degenerate]] = False
    polygons[degenerate] = None
    out = np.full(n, None, dtype=object)
    out[position] = _simplest(polygons)
    return CleanShapes(out, reason, repaired, other)


# --- sub-prefecture of each shape ---------------------------------------------------------------------


def utm_zones(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """EPSG code of the UTM zone holding each lon/lat (vectorized :func:`geo.crs.utm_epsg`)."""
    lon = np.clip(np.asarray(lon, dtype=float), -180.0, 180.0)
    zone = np.minimum(((lon + 180.0) // 6.0).astype(np.int64) + 1, 60)
    return np.where(np.asarray(lat, dtype=float) >= 0, 32600, 32700) + zone


def areas_km2(geoms: np.ndarray, zones: np.ndarray | None = None) -> np.ndarray:
    """Area in km² of lon/lat polygons, each in the UTM zone ``zones`` (default: the zone of its centre)."""
    arr = np.asarray(geoms, dtype=object).ravel()
    out = np.zeros(len(arr))
    if not len(arr):
        return out
    if zones is None:
        bounds = shapely.bounds(arr)
        zones = utm_zones((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)
    for code in np.unique(zones):
        sel = zones == code
        fwd = transformer(WGS84, int(code))
        metric = shapely.transform(arr[sel], lambda xy, f=fwd: np.column_stack(f.transform(xy[:, 0], xy[:, 1])))
        out[sel] = shapely.area(metric) / _M2_PER_KM2
    return out


@lru_cache(maxsize=1)
def _subprefectures() -> tuple[shapely.STRtree, np.ndarray, pd.DataFrame]:
    subs = load_units("subprefecture")
    polygons = np.asarray(subs.geometry.array, dtype=object)
    shapely.prepare(polygons)
    return shapely.STRtree(polygons), polygons, subs[["unit_id", "prefecture_id", "region_id"]].reset_index(drop=True)


def assign_subprefectures(geoms: Any) -> pd.DataFrame:
    """The sub-prefecture each lon/lat (Multi)Polygon overlaps most, in one vectorized pass.

    Candidate pairs come from an STRtree query (``intersects``); their
    intersections are computed together, then measured in square metres in the
    UTM zone of each shape's centre. Returns a frame aligned with ``geoms``:
    ``subprefecture_id``, ``prefecture_id``, ``region_id`` (missing when the shape
    does not overlap Guinea with any area), ``overlap_share`` (that sub-prefecture's
    part of the shape's area inside Guinea), ``inside_share`` (part of the shape
    inside Guinea), ``area_km2`` and ``label_lon``/``label_lat``: a point inside the
    shape *and* inside its sub-prefecture, so locating the label point gives back
    the unit the shape joined. Ties go to the sub-prefecture listed first.
    """
    arr = np.asarray(geoms, dtype=object).ravel()
    n = len(arr)
    out = pd.DataFrame({"subprefecture_id": np.full(n, None, dtype=object),
                        "prefecture_id": np.full(n, None, dtype=object),
                        "region_id": np.full(n, None, dtype=object),
                        "overlap_share": np.zeros(n), "inside_share": np.zeros(n), "area_km2": np.zeros(n),
                        "label_lon": np.full(n, np.nan), "label_lat": np.full(n, np.nan)})
    have = np.flatnonzero(pd.notna(arr))
    if not len(have):
        return out
    shapes = arr[have]
    bounds = shapely.bounds(shapes)
    zones = utm_zones((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)
    own = areas_km2(shapes, zones)
    tree, polygons, attrs = _subprefectures()
    src, dst = tree.query(shapes, predicate="intersects")
    pieces = shapely.intersection(shapes[src], polygons[dst])
    area = areas_km2(pieces, zones[src])
    inside = np.bincount(src, weights=area, minlength=len(shapes))
    # best pair per shape: sort by shape, then area descending, then sub-prefecture order (stable ties)
    order = np.lexsort((dst, -area, src))
    first = order[np.r_[True, src[order][1:] != src[order][:-1]]] if len(order) else order
    first = first[area[first] > 0]
    rows = src[first]
    sub = dst[first]
    pos = have[rows]
    for column, source in (("subprefecture_id", "unit_id"), ("prefecture_id", "prefecture_id"),
                           ("region_id", "region_id")):
        values = out[column].to_numpy(dtype=object, copy=True)
        values[pos] = attrs[source].to_numpy(dtype=object)[sub]
        out[column] = pd.Series(values, dtype=object)  # None where outside, whatever pandas' string default
    overlap = np.zeros(n)
    overlap[pos] = area[first] / inside[rows]
    inside_share = np.zeros(n)
    inside_share[have] = np.divide(inside, own, out=np.zeros(len(own)), where=own > 0)
    labels = shapely.point_on_surface(_polygonal_only(pieces[first]))
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    lon[pos], lat[pos] = shapely.get_x(labels), shapely.get_y(labels)
    area_out = np.zeros(n)
    area_out[have] = own
    out["overlap_share"] = np.clip(overlap, 0.0, 1.0)
    out["inside_share"] = np.clip(inside_share, 0.0, 1.0)
    out["area_km2"] = area_out
    out["label_lon"], out["label_lat"] = lon, lat
    return out


def _polygonal_only(geoms: np.ndarray) -> np.ndarray:
    """Polygon parts of intersection results (which may hold slivers of lines or points on borders)."""
    parts, owner = _flatten(geoms)
    keep = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    out = _assemble(parts[keep], owner[keep], len(geoms))
    missing = pd.isna(out)
    out[missing] = geoms[missing]
    return out


# --- one drawn shape ----------------------------------------------------------------------------------


def _ring_problems(mapping: Mapping[str, Any]) -> bool:
    """True when a GeoJSON (Multi)Polygon or LineString has a ring that is not closed or too short."""
    kind = mapping.get("type")
    coords = mapping.get("coordinates")
    if kind == "Feature":
        return _ring_problems(mapping.get("geometry") or {})
    if kind == "GeometryCollection":
        return any(_ring_problems(g) for g in mapping.get("geometries") or ())
    rings: list = []
    if kind == "Polygon":
        rings = list(coords or ())
    elif kind == "MultiPolygon":
        rings = [ring for poly in coords or () for ring in poly]
    elif kind == "LineString":
        rings = [coords or ()]
    for ring in rings:
        if len(ring) < 4 or [float(v) for v in ring[0][:2]] != [float(v) for v in ring[-1][:2]]:
            return True
    return False


def _as_geometry(geometry: Any) -> tuple[shapely.Geometry | None, str | None]:
    """A shapely geometry from a geometry, GeoJSON geometry/Feature mapping or WKT; or an error code."""
    if geometry is None:
        return None, "geometry_missing"
    if isinstance(geometry, shapely.Geometry):
        geom = geometry
    elif isinstance(geometry, Mapping):
        if _ring_problems(geometry):
            return None, "drawn_not_closed"
        data = geometry.get("geometry") if geometry.get("type") == "Feature" else geometry
        if not data:
            return None, "geometry_missing"
        try:
            geom = shape_from_mapping(data)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, GEOSException):
            return None, "geometry_invalid"
    elif isinstance(geometry, str):
        try:
            geom = shapely.from_wkt(geometry)
        except GEOSException:
            return None, "geometry_invalid"
    else:
        raise TypeError(f"geometry must be a shapely geometry, a GeoJSON mapping or WKT, not {type(geometry)}")
    if shapely.get_type_id(geom) in (1, 2):  # a line drawn around an area: closed ring or not closed at all
        ring = shapely.force_2d(geom)
        if shapely.get_num_coordinates(ring) < 4 or not ring.is_closed:
            return None, "drawn_not_closed"
        geom = shapely.Polygon(shapely.get_coordinates(ring))
    return geom, None


def check_shape(name: str | None, geometry: Any) -> ShapeCheck:
    """Check one shape (drawn on the map, or given by code) the way a file feature is checked.

    The ring must be closed, the shape a polygon (repairable if invalid), it must
    overlap Guinea, and it needs a name. Returns every problem found, not only the
    first; a shape that can be stored has no ``errors``.
    """
    label = " ".join(str(name or "").split())
    errors: list[str] = []
    if not label:
        errors.append("name_missing")
    elif len(label) > MAX_NAME_LENGTH:
        errors.append("name_too_long")
    geom, problem = _as_geometry(geometry)
    if problem is not None:
        return ShapeCheck(label, None, (problem, *errors), ())
    clean = clean_polygons([geom])
    if clean.reason[0] is not None:
        return ShapeCheck(label, None, (str(clean.reason[0]), *errors), ())
    shape = clean.geometry[0]
    warnings = [code for code, hit in (("geometry_repaired", clean.repaired[0]),
                                        ("other_parts_ignored", clean.other_parts[0])) if hit]
    where = assign_subprefectures([shape]).iloc[0]
    if where["subprefecture_id"] is None:
        errors.insert(0, "neighbourhood_outside_guinea")
    else:
        if where["overlap_share"] < STRADDLE_SHARE:
            warnings.append("straddles_communes")
        if where["inside_share"] < INSIDE_SHARE:
            warnings.append("partly_outside_guinea")
    return ShapeCheck(label, shape, tuple(errors), tuple(warnings), where["subprefecture_id"],
                      where["prefecture_id"], where["region_id"], float(where["overlap_share"]),
                      float(where["inside_share"]), float(where["area_km2"]), float(where["label_lon"]),
                      float(where["label_lat"]))


# --- hierarchy ----------------------------------------------------------------------------------------


def parents(neighbourhood: Mapping[str, Any] | pd.Series) -> tuple[Parent, ...]:
    """Sub-prefecture, prefecture and region above a stored neighbourhood row, nearest first.

    The row's ``subprefecture_id`` decides; the vendored hierarchy gives the
    rest, and a row whose stored prefecture or region disagrees with it raises
    ``ValueError`` (it was assigned against other boundaries). Unknown ids raise
    ``KeyError``.
    """
    sub_id = neighbourhood.get("subprefecture_id")
    if sub_id is None or (isinstance(sub_id, float) and np.isnan(sub_id)):
        raise ValueError("the neighbourhood has no subprefecture_id")
    sub = get_unit(str(sub_id), "subprefecture")
    chain = [Parent("subprefecture", str(sub["unit_id"]), str(sub["name"]))]
    for level, key in (("prefecture", "prefecture_id"), ("region", "region_id")):
        unit = get_unit(str(sub[key]), level)
        stored = neighbourhood.get(key)
        if stored is not None and not (isinstance(stored, float) and np.isnan(stored)) and stored != unit["unit_id"]:
            raise ValueError(f"{key} {stored!r} of the neighbourhood does not contain sub-prefecture {sub_id!r} "
                             f"(the boundaries say {unit['unit_id']!r})")
        chain.append(Parent(level, str(unit["unit_id"]), str(unit["name"])))
    return tuple(chain)
