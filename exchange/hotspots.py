"""Hotspot tables from stored incidents: study area, counts per cell, Gi*, as a frame or a file.

Shared by ``proximite hotspots`` (and later the commander's page). Counts come
from the store's GROUP BY (so sensitive incidents are counted with the same
suppression as on the map for the given viewer); the study area is every cell
of the chosen units, empty cells included, because an empty cell is information.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from geo import cells
from geo.aggregate import rollup, source_resolution
from geo.boundaries import Level, load_units
from geo.gazetteer import Gazetteer
from geo.hotspots import Weights, counts_on_cells, gi_star, study_area_cells
from storage import Store
from storage.queries import IncidentFilter, Viewer


class UnitNotFound(ValueError):
    """A ``--unit`` value matches no unit (or several unrelated ones)."""


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


def run_hotspots(store: Store, flt: IncidentFilter, *, resolution: int, k: int = 1, fdr: bool = False,
                 viewer: Viewer | None = None) -> HotspotResult:
    """Gi* per cell of the study area (``flt.units``, or the sub-prefectures holding data)."""
    viewer = viewer or Viewer()
    area = _area(flt.units, store, flt, viewer)
    study = np.array([], np.uint64)
    if not area.is_empty:
        study = study_area_cells(np.array([area], dtype=object), resolution)
    counts = store.incident_counts(replace(flt, point_only=True), viewer, by=f"h3_r{source_resolution(resolution)}")
    if resolution < source_resolution(resolution):
        counts = rollup(counts, resolution)
    keys = counts["key"].astype("int64").to_numpy().view(np.uint64) if len(counts) else np.array([], np.uint64)
    values = counts_on_cells(study, keys, counts["count"].to_numpy(float) if len(counts) else None)
    if len(study) == 0:
        table = pd.DataFrame(columns=["cell", "count", "gi_z", "gi_p", "gi_bin", "lon", "lat"])
        return HotspotResult(table, resolution, k, fdr, flt.units)
    gi = gi_star(values, Weights.from_kring(study, k), fdr=fdr)
    lon, lat = cells.centers(study)
    table = pd.DataFrame({"cell": cells.to_str(study), "count": values.astype(np.int64), "gi_z": gi.z,
                          "gi_p": gi.p, "gi_bin": gi.bin.astype(int), "lon": lon, "lat": lat})
    return HotspotResult(table, resolution, k, fdr, flt.units)


def to_file(result: HotspotResult, path: str) -> None:
    """CSV or GeoJSON (hexagons) by the file's extension."""
    lower = path.lower()
    if lower.endswith(".csv"):
        result.table.to_csv(path, index=False)
    elif lower.endswith((".geojson", ".json")):
        rings = [shapely.Polygon(cells.boundary_lonlat(int(c, 16))) for c in result.table["cell"]]
        gpd.GeoDataFrame(result.table, geometry=rings, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    else:
        raise ValueError(f"{path}: use a .csv or .geojson file name")

