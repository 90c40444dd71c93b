"""Fixtures for the printed reports: a realistic hot-spot result over Conakry at H3 resolution 8."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely

from geo import boundaries, cells

#: Where the fixture puts its hot spot (Kaloum/Dixinn) and its cold spot (eastern Matoto).
HOT_CENTRE = (-13.690, 9.525)
COLD_CENTRE = (-13.555, 9.640)
XSS = "<img src=x onerror=alert(1)>"


def _ring_distance_km(lon: np.ndarray, lat: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    kx = 111.32 * np.cos(np.radians(centre[1]))
    return np.hypot((lon - centre[0]) * kx, (lat - centre[1]) * 110.57)


@pytest.fixture(scope="session")
def conakry_cells() -> gpd.GeoDataFrame:
    """Every res-8 hexagon of Conakry (about 700) with counts and Gi* bins that fall off with distance."""
    conakry = boundaries.load_units("prefecture").set_index("unit_id").loc["GN-C", "geometry"]
    ids = cells.polygon_to_cells(conakry, 8)
    lon, lat = cells.centers(ids)
    hot = _ring_distance_km(lon, lat, HOT_CENTRE)
    cold = _ring_distance_km(lon, lat, COLD_CENTRE)
    gi_bin = np.select([hot < 1.2, hot < 2.2, hot < 3.2, cold < 1.5, cold < 2.5, cold < 3.5],
                       [3, 2, 1, -3, -2, -1], default=0)
    count = np.round(40.0 * np.exp(-hot / 1.5)).astype(np.int64)
    count[np.argmin(hot)] = 1234  # a four-digit count exercises the thousands separator
    polygons = shapely.polygons([cells.boundary_lonlat(c) for c in ids])
    return gpd.GeoDataFrame({"cell": cells.to_str(ids), "count": count, "gi_bin": gi_bin, "lon": lon, "lat": lat},
                            geometry=polygons, crs="EPSG:4326")


@pytest.fixture(scope="session")
def top10(conakry_cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """The ten hottest cells as exchange.hotspots.top_hotspots shapes them, with awkward place names."""
    hot = conakry_cells[conakry_cells["gi_bin"] > 0].sort_values("count", ascending=False).head(10)
    units = ["Kaloum (Conakry)", "Nzérékoré", XSS, "Dixinn (Conakry)", "</script>", "Matam (Conakry)",
             "Ratoma – Hamdallaye", "Matoto (Conakry)", "Coyah", "Dubréka"]
    previous = np.array([1000.0, 30, 25, np.nan, 20, 12, 15, 10, 9, 8])
    count = hot["count"].to_numpy()
    return pd.DataFrame({
        "rank": np.arange(1, 11),
        "unit": units,
        "cell": hot["cell"].to_numpy(),
        "count": count,
        "previous": previous,
        "change": count - previous,
        "gi_z": np.linspace(9.876, 3.1, 10),
        "gi_bin": hot["gi_bin"].to_numpy(),
    })


@pytest.fixture(scope="session")
def generated_at() -> datetime:
    return datetime(2026, 11, 3, 14, 30)
