"""Hotspot tables from stored incidents: study area, counts per cell, Gi*, as a frame or a file.

Shared by ``proximite hotspots`` (and later the commander's page). Counts come
from the store's GROUP BY (so sensitive incidents are counted with the same
suppression as on the map for the given viewer); the study area is every cell
of the chosen units, empty cells included, because an empty cell is information.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from pyproj import Geod

from exchange.export import to_csv
from geo import cells
from geo.aggregate import rollup, source_resolution
from geo.boundaries import Level, load_units, locate, unit_names
from geo.emerging import emerging_hotspots
from geo.gazetteer import Gazetteer
from geo.hotspots import Weights, counts_on_cells, gi_star, study_area_cells
from geo.kde import DensitySurface, density_surface
from storage import Store
from storage.queries import IncidentFilter, Viewer


class UnitNotFound(ValueError):
    """A ``--unit`` value matches no unit (or several unrelated ones)."""


class StudyAreaTooLarge(ValueError):
    """More cells than the caller allows: choose units or a coarser resolution."""

    def __init__(self, cells: int, limit: int) -> None:
        super().__init__(f"the study area holds about {cells} cells (limit {limit})")
        self.cells, self.limit = cells, limit


#: Mean area of an H3 cell per resolution (km²) and mean edge length (km), from H3's published tables.
CELL_AREA_KM2 = {5: 252.9, 6: 36.13, 7: 5.161, 8: 0.7373, 9: 0.1053, 10: 0.01504}
CELL_EDGE_KM = {5: 9.854, 6: 3.725, 7: 1.406, 8: 0.5314, 9: 0.2009, 10: 0.07592}


def _area_km2(area: shapely.Geometry) -> float:
    """Geodesic area of a lon/lat geometry, in km²."""
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(area)[0]) / 1e6


@dataclass(frozen=True)
class HotspotResult:
    """One row per study-area cell: ``cell`` (hex), ``count``, ``gi_z``, ``gi_p``, ``gi_bin``, centre."""

    table: pd.DataFrame
    resolution: int
    k: int
    fdr: bool
    units: tuple[tuple[str, str], ...]


def resolve_units(values: list[str], gazetteer: Gazetteer | None = None) -> tuple[tuple[Level, str], ...]:
    """Unit ids or names (any level) to ``(level, unit_id)`` pairs; ids win over names."""
    units = load_units().drop(columns="geometry")
    names: Gazetteer | None = gazetteer
    out: list[tuple[Level, str]] = []
    for value in values:
        hit = units[units["unit_id"] == value.strip()]
        if len(hit):
            unit = hit.sort_values("level").iloc[-1]
            out.append((str(unit["level"]), unit["unit_id"]))
            continue
        names = names or Gazetteer.default()  # built once, and only if a name (not an id) is given
        matches = names.search(value, min_score=85)
        top = [m for m in matches if m.score == matches[0].score]
        if not top:
            raise UnitNotFound(f"no unit named {value!r}")
        deepest = max(top, key=lambda m: ["region", "prefecture", "subprefecture"].index(m.level))
        chain = {deepest.unit_id, deepest.prefecture_id, deepest.region_id}
        if any(m.unit_id not in chain for m in top):
            raise UnitNotFound(f"{value!r} is ambiguous: {', '.join(sorted(m.unit_id for m in top))}")
        shallowest = min(top, key=lambda m: ["region", "prefecture", "subprefecture"].index(m.level))
        out.append((shallowest.level, shallowest.unit_id))
    return tuple(out)


def _area(units: tuple[tuple[str, str], ...], store: Store, flt: IncidentFilter, viewer: Viewer) -> shapely.Geometry:
    if not units:  # all sub-prefectures holding data
        held = store.incident_counts(flt, viewer, by="subprefecture_id")["key"].tolist()
        units = tuple(("subprefecture", uid) for uid in held)
    shapes = []
    for level, uid in units:
        frame = load_units(level)
        shapes.extend(frame.loc[frame["unit_id"] == uid, "geometry"])
    return shapely.union_all(shapes) if shapes else shapely.Polygon()


def study_cells(store: Store, flt: IncidentFilter, viewer: Viewer, resolution: int,
                max_cells: int | None = None) -> np.ndarray:
    """Every cell of the study area (``flt.units`` or the sub-prefectures holding data), sorted."""
    area = _area(flt.units, store, flt, viewer)
    if area.is_empty:
        return np.array([], np.uint64)
    if max_cells is not None:
        # A cheap estimate first (area / mean cell area) so a huge request fails fast.
        estimate = _area_km2(area) / CELL_AREA_KM2[resolution]
        if estimate > 1.2 * max_cells:
            raise StudyAreaTooLarge(int(estimate), max_cells)
    study = study_area_cells(np.array([area], dtype=object), resolution)
    if max_cells is not None and len(study) > max_cells:
        raise StudyAreaTooLarge(len(study), max_cells)
    return study


def cell_counts(store: Store, flt: IncidentFilter, viewer: Viewer, resolution: int,
                study: np.ndarray) -> np.ndarray:
    """Incidents with a true point per study cell (suppression as for the viewer), one GROUP BY."""
    counts = store.incident_counts(replace(flt, point_only=True), viewer, by=f"h3_r{source_resolution(resolution)}")
    if resolution < source_resolution(resolution):
        counts = rollup(counts, resolution)
    keys = counts["key"].astype("int64").to_numpy().view(np.uint64) if len(counts) else np.array([], np.uint64)
    return counts_on_cells(study, keys, counts["count"].to_numpy(float) if len(counts) else None)


def run_hotspots(store: Store, flt: IncidentFilter, *, resolution: int, k: int = 1, fdr: bool = False,
                 viewer: Viewer | None = None, max_cells: int | None = None) -> HotspotResult:
    """Gi* per cell of the study area (``flt.units``, or the sub-prefectures holding data).

    Only incidents with a true point count: those placed by name sit on a unit's
    centroid and would make a false hotspot there (:func:`placed_by_name` counts them).
    """
    viewer = viewer or Viewer()
    study = study_cells(store, flt, viewer, resolution, max_cells)
    if len(study) == 0:
        table = pd.DataFrame(columns=["cell", "count", "gi_z", "gi_p", "gi_bin", "lon", "lat"])
        return HotspotResult(table, resolution, k, fdr, flt.units)
    values = cell_counts(store, flt, viewer, resolution, study)
    gi = gi_star(values, Weights.from_kring(study, k), fdr=fdr)
    lon, lat = cells.centers(study)
    table = pd.DataFrame({"cell": cells.to_str(study), "count": values.astype(np.int64), "gi_z": gi.z,
                          "gi_p": gi.p, "gi_bin": gi.bin.astype(int), "lon": lon, "lat": lat})
    return HotspotResult(table, resolution, k, fdr, flt.units)


def placed_by_name(store: Store, flt: IncidentFilter, viewer: Viewer | None = None) -> int:
    """Incidents in the filter that carry a unit centroid, not a point (left out of Gi*)."""
    viewer = viewer or Viewer()
    every = int(store.incident_counts(flt, viewer, by="region_id")["count"].sum())
    points = int(store.incident_counts(replace(flt, point_only=True), viewer, by="region_id")["count"].sum())
    return max(every - points, 0)


def previous_filter(flt: IncidentFilter) -> IncidentFilter | None:
    """The period of the same length just before ``flt``'s (None without a closed period)."""
    if flt.start is None or flt.end is None or flt.end <= flt.start:
        return None
    return replace(flt, start=flt.start - (flt.end - flt.start), end=flt.start)


def places(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """"Sub-prefecture (Prefecture)" at each point, for tables a commander reads."""
    located = locate(np.asarray(lon, float), np.asarray(lat, float))
    names = unit_names()
    out = []
    for sub, pref in zip(located["subprefecture_id"], located["prefecture_id"], strict=True):
        if sub is None:
            out.append("–")
            continue
        sub_name, pref_name = names[("subprefecture", sub)], names[("prefecture", pref)]
        out.append(sub_name if sub_name.startswith(pref_name) else f"{sub_name} ({pref_name})")
    return out


def top_hotspots(result: HotspotResult, previous: np.ndarray | None = None, n: int = 10) -> pd.DataFrame:
    """The ``n`` hottest significant cells by z, with place names and the change on ``previous``.

    ``previous`` holds the previous period's counts aligned with ``result.table``
    (:func:`cell_counts` on the same study cells), or None.
    """
    table = result.table
    hot = table[table["gi_bin"] > 0]
    order = hot.sort_values(["gi_z", "count"], ascending=False).head(n)
    prev = (pd.Series(previous, index=table.index).loc[order.index].astype(float) if previous is not None
            else pd.Series(np.nan, index=order.index))
    top = pd.DataFrame({
        "rank": np.arange(1, len(order) + 1),
        "unit": places(order["lon"].to_numpy(), order["lat"].to_numpy()) if len(order) else [],
        "cell": order["cell"].to_numpy(),
        "count": order["count"].to_numpy(),
        "previous": prev.to_numpy(),
        "change": (order["count"].to_numpy() - prev.to_numpy()),
        "gi_z": order["gi_z"].to_numpy(),
        "gi_bin": order["gi_bin"].to_numpy(),
        "lon": order["lon"].to_numpy(),
        "lat": order["lat"].to_numpy(),
    })
    return top


def density(store: Store, flt: IncidentFilter, viewer: Viewer, bandwidth_m: float,
            extent: tuple[float, float, float, float] | None = None) -> DensitySurface | None:
    """Kernel density of the located incidents, from counts per resolution-9 cell.

    Cell centres (about 200 m apart) stand for the points: what the viewer may
    count, never a sensitive point they may not see, and exact at bandwidths of
    several hundred metres. None when no incident matches.
    """
    counts = store.incident_counts(replace(flt, point_only=True), viewer, by=f"h3_r{max(cells.STORED_RESOLUTIONS)}")
    if counts.empty:
        return None
    lon, lat = cells.centers(counts["key"].astype("int64").to_numpy().view(np.uint64))
    return density_surface(lon, lat, weights=counts["count"].to_numpy(float), bandwidth=bandwidth_m, extent=extent)


@dataclass(frozen=True)
class EmergingResult:
    """Emerging-hotspot category per study cell over ``periods`` (start, end) pairs."""

    table: pd.DataFrame  # cell, category, trend_z, trend_p, n_hot, n_cold, final_bin, count, last, lon, lat
    periods: tuple[tuple[datetime, datetime], ...]
    resolution: int
    k: int
    fdr: bool


STEPS = ("month", "week")


def periods_ending(end: datetime, start: datetime | None, step: str,
                   limit: int = 24) -> list[tuple[datetime, datetime]]:
    """Whole periods of ``step`` counted back from ``end`` while they start at or after ``start``.

    Aligned on the end, as ArcGIS's space-time cube does by default, so the last
    period is full and holds the most recent data.
    """
    if step not in STEPS:
        raise ValueError(f"step must be one of {STEPS}, got {step!r}")
    edges = [pd.Timestamp(end)]
    offset = pd.DateOffset(months=1) if step == "month" else pd.Timedelta(days=7)
    while len(edges) <= limit:
        nxt = edges[-1] - offset
        if start is not None and nxt < pd.Timestamp(start):
            break
        edges.append(nxt)
    edges.reverse()
    return [(a.to_pydatetime(), b.to_pydatetime()) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def run_emerging(store: Store, flt: IncidentFilter, *, resolution: int = 7, k: int = 1, step: str = "month",
                 fdr: bool = False, viewer: Viewer | None = None, max_cells: int | None = None,
                 alpha: float = 0.05) -> EmergingResult:
    """Gi* per period and a Mann-Kendall trend per cell, in ArcGIS's categories.

    Periods end at the newest incident in the filter (not at the filter's end, which
    may lie after the last report) and reach back to the filter's start, at most 24.
    One GROUP BY per period.
    """
    viewer = viewer or Viewer()
    newest = store.incident_points(replace(flt, point_only=True), viewer, limit=1, columns=("occurred_at",))
    if newest.empty:
        raise ValueError("no incident in the filter")
    end = newest["occurred_at"].iloc[0].to_pydatetime() + timedelta(seconds=1)
    if flt.end is not None:
        end = min(end, flt.end)
    periods = periods_ending(end, flt.start, step)
    if len(periods) < 2:
        raise ValueError("the period holds fewer than two whole steps")
    study = study_cells(store, flt, viewer, resolution, max_cells)
    if len(study) == 0:
        raise ValueError("empty study area")
    values = np.column_stack([cell_counts(store, replace(flt, start=a, end=b), viewer, resolution, study)
                              for a, b in periods])
    table = emerging_hotspots(values, Weights.from_kring(study, k), alpha=alpha, fdr=fdr)
    lon, lat = cells.centers(study)
    table["cell"] = cells.to_str(study)
    table["count"] = values.sum(axis=1).astype(np.int64)
    table["last"] = values[:, -1].astype(np.int64)
    table["lon"], table["lat"] = lon, lat
    return EmergingResult(table, tuple(periods), resolution, k, fdr)


def hexagons(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """``table`` (one row per ``cell`` hex id) with the hexagons as geometry, EPSG:4326."""
    rings = [shapely.Polygon(cells.boundary_lonlat(int(c, 16))) for c in table["cell"]]
    return gpd.GeoDataFrame(table.reset_index(drop=True), geometry=rings, crs="EPSG:4326")


def to_bytes(table: pd.DataFrame, fmt: str) -> tuple[bytes, str]:
    """CSV (formula-safe, Excel-friendly) or GeoJSON hexagons of a per-cell table, with the MIME type."""
    if fmt == "csv":
        return to_csv(table), "text/csv"
    if fmt == "geojson":
        return hexagons(table).to_json(drop_id=True, ensure_ascii=False).encode("utf-8"), "application/geo+json"
    raise ValueError(f"format must be csv or geojson, got {fmt!r}")


def to_file(result: HotspotResult, path: str) -> None:
    """CSV or GeoJSON (hexagons) by the file's extension."""
    lower = path.lower()
    if lower.endswith(".csv"):
        result.table.to_csv(path, index=False)
    elif lower.endswith((".geojson", ".json")):
        hexagons(result.table).to_file(path, driver="GeoJSON")
    else:
        raise ValueError(f"{path}: use a .csv or .geojson file name")
