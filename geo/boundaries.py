"""Guinea's administrative units: load a level, walk the hierarchy, find units by point.

The files under ``data/boundaries`` are built by :mod:`geo.build` and hold one
nested coverage (region > prefecture > sub-prefecture). Conakry's ISO code
``GN-C`` names both a region and a prefecture, so a unit is identified by
``(level, unit_id)``; where a caller gives only an id, the most specific level
wins (both Conakry units cover the same ground).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

Level = Literal["region", "prefecture", "subprefecture"]
LEVELS: tuple[Level, ...] = ("region", "prefecture", "subprefecture")
Detail = Literal["low", "medium", "high"]
DETAILS: tuple[Detail, ...] = ("low", "medium", "high")

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "boundaries"

#: Attribution required by the CC BY 3.0 IGO licence of the boundaries.
ATTRIBUTION = "Administrative boundaries: geoBoundaries (gbOpen, GIN), from HDX / WFP, CC BY 3.0 IGO."
CENSUS_SOURCE = "RGPH 2014, Institut National de la Statistique (Guinée)"

def _check_level(level: str) -> Level:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return level  # type: ignore[return-value]


@lru_cache(maxsize=1)
def _all_units() -> gpd.GeoDataFrame:
    units = gpd.read_parquet(DATA_DIR / "units.parquet")
    units["level"] = pd.Categorical(units["level"], categories=LEVELS, ordered=True)
    return units


@lru_cache(maxsize=1)
def _display() -> gpd.GeoDataFrame:
    return gpd.read_parquet(DATA_DIR / "display.parquet")


def load_units(level: Level | None = None) -> gpd.GeoDataFrame:
    """Units of one level (or all), full-detail geometry in EPSG:4326; a fresh copy each call."""
    units = _all_units()
    if level is not None:
        units = units[units["level"] == _check_level(level)]
    return units.reset_index(drop=True).copy()


def load_display(level: Level, detail: Detail = "medium") -> gpd.GeoDataFrame:
    """Simplified geometry for drawing, with each unit's names and parents attached.

    Variants are coverage-simplified, so neighbours keep one shared border at
    every detail (no gaps or overlaps appear when zoomed out).
    """
    _check_level(level)
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {DETAILS}, got {detail!r}")
    disp = _display()
    disp = disp[(disp["level"] == level) & (disp["detail"] == detail)][["unit_id", "geometry"]]
    attrs = load_units(level).drop(columns="geometry")
    out = attrs.merge(disp, on="unit_id", how="inner", validate="one_to_one")
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


@lru_cache(maxsize=1)
def load_outline() -> gpd.GeoDataFrame:
    """Country polygon (``kind == "country"``) and coastline (``kind == "coast"``)."""
    return gpd.read_parquet(DATA_DIR / "outline.parquet")


@lru_cache(maxsize=1)
def load_population() -> pd.DataFrame:
    """2014 census population per prefecture with its ``census_result`` flag (final/preliminary)."""
    return pd.read_csv(DATA_DIR / "population_rgph2014.csv")


@lru_cache(maxsize=1)
def unit_names() -> dict[tuple[str, str], str]:
    """Display name of every unit keyed by ``(level, unit_id)`` (for labels and parent names)."""
    units = _all_units()
    return dict(zip(zip(units["level"].astype(str), units["unit_id"], strict=True), units["name"], strict=True))


def get_unit(unit_id: str, level: Level | None = None) -> pd.Series:
    """One unit's attributes (no geometry). Raises ``KeyError`` naming the id if unknown."""
    units = _all_units()
    hit = units[units["unit_id"] == unit_id]
    if level is not None:
        hit = hit[hit["level"] == _check_level(level)]
    if hit.empty:
        raise KeyError(f"unknown unit {unit_id!r}" + (f" at level {level}" if level else ""))
    return hit.sort_values("level").iloc[-1].drop("geometry")


def parent(unit_id: str, level: Level | None = None) -> pd.Series | None:
    """The unit one level up, or ``None`` for a region."""
    unit = get_unit(unit_id, level)
    if unit["level"] == "region":
        return None
    up = LEVELS[LEVELS.index(unit["level"]) - 1]
    return get_unit(unit["parent_id"], up)


def children(unit_id: str, level: Level | None = None) -> gpd.GeoDataFrame:
    """Units one level down (empty frame for a sub-prefecture)."""
    unit = get_unit(unit_id, level)
    if unit["level"] == "subprefecture":
        return load_units("subprefecture").iloc[0:0]
    down = LEVELS[LEVELS.index(unit["level"]) + 1]
    units = load_units(down)
    return units[units["parent_id"] == unit["unit_id"]].reset_index(drop=True)


def ancestors(unit_id: str, level: Level | None = None) -> dict[str, str]:
    """Ids of the unit and everything above it, keyed by level."""
    unit = get_unit(unit_id, level)
    out = {"region": unit["region_id"], "prefecture": unit["prefecture_id"], "subprefecture": unit["unit_id"]}
    return {lvl: out[lvl] for lvl in LEVELS[: LEVELS.index(unit["level"]) + 1]}


@lru_cache(maxsize=1)
def _subprefecture_tree() -> tuple[shapely.STRtree, np.ndarray, pd.DataFrame]:
    subs = load_units("subprefecture")
    polygons = subs.geometry.values
    shapely.prepare(polygons)  # prepared polygons make each point test logarithmic, not linear
    return shapely.STRtree(polygons), polygons, subs[["unit_id", "prefecture_id", "region_id"]]


def locate(lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray) -> pd.DataFrame:
    """Sub-prefecture, prefecture and region of many points at once (vectorized).

    Returns a frame aligned with the input with columns ``subprefecture_id``,
    ``prefecture_id`` and ``region_id``; points outside Guinea (or with NaN
    coordinates) get missing values. The tree gives bounding-box candidates,
    then each polygon tests its candidates in one prepared ``intersects_xy``
    call. A point on a shared border goes to the unit with the lowest index,
    so the answer is deterministic.
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("lon and lat must be 1-D arrays of the same length")
    tree, polygons, attrs = _subprefecture_tree()
    ok = np.isfinite(x) & np.isfinite(y)
    hit = np.full(len(x), -1, dtype=np.int64)
    if ok.any():
        idx = np.flatnonzero(ok)
        src, poly = tree.query(shapely.points(x[idx], y[idx]))
        order = np.argsort(poly, kind="stable")
        src, poly = idx[src[order]], poly[order]
        starts = np.flatnonzero(np.r_[True, poly[1:] != poly[:-1]]) if len(poly) else np.array([], int)
        for start, stop in zip(starts, [*starts[1:], len(poly)][: len(starts)], strict=True):
            candidates = src[start:stop]
            candidates = candidates[hit[candidates] < 0]
            inside = shapely.intersects_xy(polygons[poly[start]], x[candidates], y[candidates])
            hit[candidates[inside]] = poly[start]
    found = hit >= 0
    columns = {}
    pairs = (("subprefecture_id", "unit_id"), ("prefecture_id", "prefecture_id"), ("region_id", "region_id"))
    for col, src_col in pairs:
        values = np.full(len(x), None, dtype=object)
        values[found] = attrs[src_col].to_numpy()[hit[found]]
        columns[col] = values
    out = pd.DataFrame(columns)
    return out
