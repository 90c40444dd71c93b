"""Synthetic road crashes along a few national corridors, plus planted black spots.

Corridors are polylines through real town centres (they are also the demo road
network, see :mod:`demo.roads`), weighted by length and a traffic factor;
Conakry's urban roads carry the most traffic. Crashes lie on the road with a
GPS error of a few metres, so they snap to the network like surveyed crashes;
the black spots are Gaussian blobs moved onto the nearest road.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import shapely

from .common import CRASH_HOURS, Window
from .places import TOWNS, in_guinea, metres_to_degrees, sample_blob, with_units

KM36 = (-13.490, 9.700)

#: Black spots planted in the crash data (size at the default 1200 crashes).
PLANTED_BLACKSPOTS: list[dict] = [
    {"name": "Carrefour du Km 36", "road_name": "RN1", "lon": KM36[0], "lat": KM36[1],
     "sigma_m": 250, "n": 100, "trend": "stable"},
    {"name": "Descente de Coyah", "road_name": "RN1", "lon": -13.362, "lat": 9.731,
     "sigma_m": 300, "n": 80, "trend": "stable"},
]
MAX_PLANTED_SHARE = 0.5

#: (road name, waypoints, traffic factor per km).
CORRIDORS: list[tuple[str, list[tuple[float, float]], float]] = [
    ("Autoroute Fidel Castro", [(-13.705, 9.513), (-13.672, 9.533), (-13.645, 9.553),
                                (-13.615, 9.565), (-13.575, 9.585), (-13.530, 9.620), KM36], 12.0),
    ("Route Le Prince", [(-13.668, 9.550), (-13.645, 9.575), (-13.625, 9.600), (-13.600, 9.630),
                         (-13.570, 9.665), (-13.520, 9.690), KM36], 10.0),
    ("Route du Niger", [(-13.708, 9.512), (-13.680, 9.532), (-13.660, 9.547)], 8.0),
    ("RN1", [KM36, TOWNS["GN-CO"], TOWNS["GN-KD"], TOWNS["GN-MM"]], 2.0),
    ("RN1", [TOWNS["GN-MM"], TOWNS["GN-DB"], TOWNS["GN-KO"], TOWNS["GN-KA"]], 0.6),
    ("RN5", [TOWNS["GN-MM"], TOWNS["GN-DL"], TOWNS["GN-PI"], TOWNS["GN-LA"]], 1.0),
    ("RN2", [TOWNS["GN-MM"], TOWNS["GN-FA"], TOWNS["GN-KS"], TOWNS["GN-GU"], TOWNS["GN-MC"],
             TOWNS["GN-NZ"]], 0.6),
    ("RN6", [TOWNS["GN-KA"], TOWNS["GN-SI"]], 1.0),
    ("RN3", [KM36, TOWNS["GN-DU"], TOWNS["GN-BF"], TOWNS["GN-BK"]], 0.8),
]
#: Standard deviation of the GPS error of a crash position (metres, each axis).
GPS_SIGMA_M = 12.0
SEVERITY_SHARES = {"fatal": 0.10, "serious": 0.30, "slight": 0.60}

DESCRIPTIONS = {
    1: ("Sortie de route d'un camion", "Piéton heurté par un véhicule",
        "Renversement d'un taxi-brousse", "Chute d'une moto-taxi"),
    2: ("Collision entre une moto-taxi et un taxi", "Collision frontale entre deux véhicules",
        "Collision entre un camion et un minibus"),
    3: ("Carambolage",),
}

COLUMNS = ["id", "occurred_at", "severity", "killed", "injured", "vehicles", "road_name",
           "description", "lon", "lat", "region_id", "prefecture_id", "subprefecture_id",
           "h3_r7", "h3_r8", "h3_r9"]


def corridor_lines() -> dict[str, shapely.LineString]:
    """One polyline per road name: the corridors of a road chained end to end (RN1 has two)."""
    parts: dict[str, list[list[tuple[float, float]]]] = {}
    for road, pts, _ in CORRIDORS:
        parts.setdefault(road, []).append(pts)
    out = {}
    for road, lines in parts.items():
        merged = shapely.line_merge(shapely.MultiLineString(lines))
        if not isinstance(merged, shapely.LineString):
            raise AssertionError(f"demo corridors of {road} do not chain into one line")
        out[road] = merged
    return out


def _onto_roads(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move points to the nearest demo road (plus GPS error); returns x, y and the road names."""
    if len(x) == 0:
        return x, y, np.zeros(0, dtype=object)
    lines = corridor_lines()
    names = np.array(list(lines), dtype=object)
    geoms = np.array(list(lines.values()), dtype=object)
    pts = shapely.points(x, y)
    _, hit = shapely.STRtree(geoms).query_nearest(pts, all_matches=False)
    on = shapely.line_interpolate_point(geoms[hit], shapely.line_locate_point(geoms[hit], pts))
    ox, oy = shapely.get_x(on), shapely.get_y(on)
    dx, dy = metres_to_degrees(GPS_SIGMA_M, oy)
    px, py = ox + rng.normal(size=len(ox)) * dx, oy + rng.normal(size=len(oy)) * dy
    ok = in_guinea(px, py)
    return np.where(ok, px, ox), np.where(ok, py, oy), names[hit]


def _segments() -> pd.DataFrame:
    rows = []
    for road, pts, factor in CORRIDORS:
        for (ax, ay), (bx, by) in zip(pts[:-1], pts[1:], strict=True):
            dx, dy = metres_to_degrees(1.0, (ay + by) / 2)
            km = np.hypot((bx - ax) / dx, (by - ay) / dy) / 1000
            rows.append((road, ax, ay, bx, by, km * factor))
    return pd.DataFrame(rows, columns=["road", "ax", "ay", "bx", "by", "weight"])


def _along_corridors(rng: np.random.Generator, n: int, rounds: int = 80):
    seg = _segments()
    p = (seg["weight"] / seg["weight"].sum()).to_numpy()
    which = rng.choice(len(seg), size=n, p=p)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    pending = np.arange(n)
    for _ in range(rounds):
        if not pending.size:
            break
        s = seg.iloc[which[pending]]
        t = rng.random(len(pending))
        cy = s["ay"].to_numpy() + t * (s["by"].to_numpy() - s["ay"].to_numpy())
        cx = s["ax"].to_numpy() + t * (s["bx"].to_numpy() - s["ax"].to_numpy())
        dx, dy = metres_to_degrees(GPS_SIGMA_M, cy)
        px = cx + rng.normal(size=len(pending)) * dx
        py = cy + rng.normal(size=len(pending)) * dy
        ok = in_guinea(px, py)
        x[pending[ok]], y[pending[ok]] = px[ok], py[ok]
        pending = pending[~ok]
    if pending.size:  # fall back to the segment's start (a town centre, on land)
        s = seg.iloc[which[pending]]
        x[pending], y[pending] = s["ax"].to_numpy(), s["ay"].to_numpy()
    return x, y, seg["road"].to_numpy()[which]


def make_crashes(rng: np.random.Generator, window: Window, n: int) -> pd.DataFrame:
    total = sum(b["n"] for b in PLANTED_BLACKSPOTS)
    scale = min(1.0, MAX_PLANTED_SHARE * n / total) if total else 0.0
    sizes = [int(round(b["n"] * scale)) for b in PLANTED_BLACKSPOTS]
    xs, ys, roads = [], [], []
    for spot, k in zip(PLANTED_BLACKSPOTS, sizes, strict=True):
        x, y = sample_blob(rng, spot["lon"], spot["lat"], spot["sigma_m"], k)
        x, y, road = _onto_roads(rng, x, y)
        xs.append(x), ys.append(y), roads.append(road)
    x, y, road = _along_corridors(rng, n - sum(sizes))
    xs.append(x), ys.append(y), roads.append(road)
    x, y, road = np.concatenate(xs), np.concatenate(ys), np.concatenate(roads)

    m = len(x)
    levels = np.array(list(SEVERITY_SHARES), dtype=object)
    severity = rng.choice(levels, size=m, p=np.array(list(SEVERITY_SHARES.values())))
    fatal, serious = severity == "fatal", severity == "serious"
    killed = np.where(fatal, 1 + rng.poisson(0.6, size=m), 0)
    injured = np.where(fatal, rng.poisson(1.5, size=m),
                       1 + rng.poisson(np.where(serious, 1.2, 0.8), size=m))
    vehicles = 1 + rng.binomial(3, 0.3, size=m)
    pick = rng.random(m)
    description = []
    for v, r, rd in zip(vehicles, pick, road, strict=True):
        options = DESCRIPTIONS[min(int(v), 3)]
        text = options[int(r * len(options))]
        text = f"{text} ({v} véhicules)" if v >= 3 else text
        description.append(f"[Démo] {text} — {rd}.")

    df = pd.DataFrame({
        "occurred_at": window.timestamps(rng, rng.random(m) * window.days, CRASH_HOURS),
        "severity": severity, "killed": killed.astype(np.int64),
        "injured": injured.astype(np.int64), "vehicles": vehicles.astype(np.int64),
        "road_name": road, "description": description, "lon": x, "lat": y,
    })
    df = df.sort_values("occurred_at", kind="stable").reset_index(drop=True)
    df = with_units(df, (7, 8, 9))
    df["id"] = np.arange(1, len(df) + 1, dtype=np.int64)
    return df[COLUMNS]
