"""Benchmark: kernel density surface (geo.kde) over Conakry and over all Guinea, bandwidth 500 m.

    .venv/bin/python bench/kde.py                   # 100k and 1M over Conakry, 1M over Guinea, scipy at 10k
    .venv/bin/python bench/kde.py --guinea-cell 1000
    .venv/bin/python bench/kde.py --no-scipy        # skip the scipy.stats.gaussian_kde comparison

Points are generated (a few Gaussian clusters plus a uniform background; over
Guinea, uniform inside the country polygon plus town clusters). The Guinea
points run twice: with a coarse cell (``--guinea-cell``, default 500 m) and with
the default quarter-bandwidth cell, which the 4-million-cell cap coarsens.
Each stage is timed on its own, best of 3 (first calls warm pyproj and the FFT
up and are not counted):

  project   lon/lat -> UTM metres (pyproj)
  binning   linear binning onto the grid (kernel margin included)
  fft       convolution with the discretized Gaussian (scipy.signal.fftconvolve)
  total     geo.kde.density_surface end to end (the three above plus grid fitting)
  levels    mass levels 95/90/75/50/25 % (one sort of the grid)
  image     Web-Mercator RGBA raster, at most 1 million pixels (to_mercator_rgba)
  png       PNG data URL as the map layer embeds it (layers.density.png_data_url)

scipy's gaussian_kde is evaluated on the same Conakry grid for 10,000 points only
(it costs points x grid cells; 1 million points would take hours). Its kernel
follows the data's covariance, so its bandwidth factor is set to give a 500 m
standard deviation on average over both axes: a timing comparison, not an
identical surface.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve
from scipy.stats import gaussian_kde

import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo import kde  # noqa: E402
from geo.boundaries import load_outline  # noqa: E402
from geo.crs import WGS84, transformer, utm_epsg_for  # noqa: E402
from layers.density import png_data_url  # noqa: E402

BANDWIDTH = 500.0
CONAKRY = (-13.75, 9.45, -13.50, 9.70)
#: (lon, lat, sd in degrees, share): Kaloum, Madina, Matoto, Ratoma
CONAKRY_CLUSTERS = [(-13.70, 9.51, 0.006, 0.15), (-13.66, 9.55, 0.01, 0.2), (-13.60, 9.59, 0.012, 0.15),
                    (-13.64, 9.62, 0.015, 0.15)]
#: Town clusters for the country run: Conakry, Kindia, Labé, Kankan, Nzérékoré
TOWNS = [(-13.66, 9.55, 0.03, 0.15), (-12.86, 10.06, 0.02, 0.05), (-12.28, 11.32, 0.02, 0.05),
         (-9.31, 10.38, 0.02, 0.05), (-8.82, 7.75, 0.02, 0.05)]


def best_of(fn, repeat: int = 3):
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def conakry_points(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lon, lat = [], []
    for cx, cy, sd, share in CONAKRY_CLUSTERS:
        m = int(n * share)
        lon.append(rng.normal(cx, sd, m))
        lat.append(rng.normal(cy, sd, m))
    rest = n - sum(a.size for a in lon)
    lon.append(rng.uniform(CONAKRY[0], CONAKRY[2], rest))
    lat.append(rng.uniform(CONAKRY[1], CONAKRY[3], rest))
    return np.concatenate(lon), np.concatenate(lat)


def guinea_points(n: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    country = load_outline().set_index("kind").at["country", "geometry"]
    n_bg = n - sum(int(n * share) for *_, share in TOWNS)
    minx, miny, maxx, maxy = country.bounds
    lon, lat = np.empty(0), np.empty(0)
    while lon.size < n_bg:
        x, y = rng.uniform(minx, maxx, n_bg), rng.uniform(miny, maxy, n_bg)
        keep = shapely.contains_xy(country, x, y)
        lon, lat = np.r_[lon, x[keep]], np.r_[lat, y[keep]]
    parts_lon, parts_lat = [lon[:n_bg]], [lat[:n_bg]]
    for cx, cy, sd, share in TOWNS:
        m = int(n * share)
        parts_lon.append(rng.normal(cx, sd, m))
        parts_lat.append(rng.normal(cy, sd, m))
    return np.concatenate(parts_lon), np.concatenate(parts_lat)


def run(lon: np.ndarray, lat: np.ndarray, cell: float | None) -> tuple[dict[str, float | str], kde.DensitySurface]:
    """Stages timed separately with the module's own helpers, then the public call end to end."""
    row: dict[str, float | str] = {}
    west, south, east, north = float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
    epsg = utm_epsg_for(west, south, east, north)
    row["project"], (x, y) = best_of(lambda: transformer(WGS84, epsg).transform(lon, lat))
    x, y = np.asarray(x), np.asarray(y)
    w = np.ones(lon.size)
    pad = kde.PAD_BANDWIDTHS * BANDWIDTH
    box = (x.min() - pad, y.min() - pad, x.max() + pad, y.max() + pad)
    used, (x0, y0, nx, ny), radius = kde._fit_grid(box, cell or BANDWIDTH / kde.CELLS_PER_BANDWIDTH, BANDWIDTH,
                                                    "gaussian", kde.MAX_CELLS)
    gx0, gy0 = x0 - radius * used, y0 - radius * used
    nxp, nyp = nx + 2 * radius, ny + 2 * radius
    row["binning"], binned = best_of(lambda: kde._linear_binning(x, y, w, gx0, gy0, used, nxp, nyp))
    kernel = kde._kernel(BANDWIDTH, used, radius, "gaussian")
    row["fft"], _ = best_of(lambda: fftconvolve(binned, kernel, mode="valid"))
    row["total"], surface = best_of(lambda: kde.density_surface(lon, lat, bandwidth=BANDWIDTH, cell=cell))
    fields = {f: getattr(surface, f) for f in surface.__dataclass_fields__}
    # A fresh copy each round: mass_levels caches its sort on the surface.
    row["levels"], levels = best_of(lambda: kde.DensitySurface(**fields).mass_levels(kde.DEFAULT_FRACTIONS))
    row["image"], image = best_of(lambda: surface.to_mercator_rgba(kde.YLORRD, np.sort(levels)))
    row["png"], url = best_of(lambda: png_data_url(image))
    ny_, nx_ = surface.shape
    row["grid (cells)"] = f"{nx_} x {ny_} @ {surface.cell:g} m"
    row["image (pixels)"] = f"{image.rgba.shape[1]} x {image.rgba.shape[0]}"
    row["png size"] = f"{len(url) / 1024:,.0f} KiB"
    row["mass / points"] = f"{surface.mass / lon.size:.4f}"
    return row, surface


def run_scipy(surface: kde.DensitySurface, lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """gaussian_kde at the surface's cell centres; returns (seconds, ours-vs-scipy peak ratio)."""
    x, y = transformer(WGS84, surface.epsg).transform(lon, lat)
    data = np.vstack([x, y])
    sd = math.sqrt(math.sqrt(np.linalg.det(np.cov(data))))  # geometric mean of the axes' spreads
    estimator = gaussian_kde(data, bw_method=BANDWIDTH / sd)
    gx, gy = surface.centres()
    gxx, gyy = np.meshgrid(gx, gy)
    grid = np.vstack([gxx.ravel(), gyy.ravel()])
    t = time.perf_counter()
    dens = estimator(grid) * lon.size * 1e6  # per m² and per point -> events per km²
    seconds = time.perf_counter() - t
    return seconds, float(surface.values.max() / dens.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-scipy", action="store_true", help="skip the scipy gaussian_kde comparison")
    parser.add_argument("--guinea-cell", type=float, default=500.0, help="cell (m) of the coarse whole-Guinea run")
    args = parser.parse_args()

    guinea = guinea_points(1_000_000)
    runs: dict[str, tuple[np.ndarray, np.ndarray, float | None]] = {
        "Conakry 100k": (*conakry_points(100_000), None),
        "Conakry 1M": (*conakry_points(1_000_000), None),
        f"Guinea 1M @ {args.guinea_cell:g} m": (*guinea, args.guinea_cell),
        "Guinea 1M, default cell": (*guinea, None),  # 125 m asked, coarsened to fit MAX_CELLS
    }
    rows, surfaces = {}, {}
    for name, (lon, lat, cell) in runs.items():
        rows[name], surfaces[name] = run(lon, lat, cell)

    if not args.no_scipy:
        lon, lat = conakry_points(10_000, seed=3)
        ours_t, ours = best_of(lambda: kde.density_surface(lon, lat, bandwidth=BANDWIDTH))
        scipy_t, ratio = run_scipy(ours, lon, lat)
        rows["Conakry 10k"] = {"total": ours_t, "scipy gaussian_kde": scipy_t,
                               "grid (cells)": f"{ours.shape[1]} x {ours.shape[0]} @ {ours.cell:g} m",
                               "speed-up vs scipy": f"{scipy_t / ours_t:,.0f}x",
                               "peak ours / scipy": f"{ratio:.3f}"}

    keys = list(dict.fromkeys(k for r in rows.values() for k in r))
    width = max(len(k) for k in keys)
    print(f"bandwidth {BANDWIDTH:g} m, Gaussian kernel; best of 3 (scipy: one run)\n")
    print(f"{'stage':<{width}}  " + "  ".join(f"{name:>22}" for name in rows))
    for key in keys:
        cells = []
        for r in rows.values():
            v = r.get(key, "-")
            cells.append(f"{v * 1000:>19,.1f} ms" if isinstance(v, float) else f"{v:>22}")
        print(f"{key:<{width}}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
