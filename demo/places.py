"""Where demo records go: town centres, unit weights and vectorized point sampling.

Points are drawn in batches and kept with ``shapely.contains_xy`` against the
(prepared) sub-prefecture polygons, so no per-point Python loop is needed; the
units written to a record always come from :func:`geo.boundaries.locate` on its
final coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

import shapely

from geo.boundaries import load_units, locate
from geo.cells import points_to_cells, to_db

#: Chef-lieu of each prefecture (approximate town centre, lon/lat). Conakry's is Kaloum.
TOWNS: dict[str, tuple[float, float]] = {
    "GN-BF": (-14.033, 10.183), "GN-BK": (-14.300, 10.933), "GN-FR": (-13.583, 10.367),
    "GN-GA": (-13.200, 11.750), "GN-KN": (-13.300, 12.483), "GN-C": (-13.712, 9.509),
    "GN-DB": (-11.117, 10.750), "GN-DI": (-10.717, 11.300), "GN-FA": (-10.742, 10.041),
    "GN-KS": (-10.100, 9.183), "GN-KA": (-9.306, 10.385), "GN-KE": (-9.017, 9.267),
    "GN-KO": (-9.883, 10.650), "GN-MD": (-8.683, 10.633), "GN-SI": (-9.167, 11.417),
    "GN-CO": (-13.383, 9.717), "GN-DU": (-13.523, 9.790), "GN-FO": (-13.083, 9.433),
    "GN-KD": (-12.863, 10.057), "GN-TE": (-13.043, 10.905), "GN-KB": (-11.900, 11.583),
    "GN-LA": (-12.283, 11.317), "GN-LE": (-12.700, 11.417), "GN-ML": (-12.300, 12.083),
    "GN-TO": (-11.683, 11.450), "GN-DL": (-12.250, 10.700), "GN-MM": (-12.083, 10.383),
    "GN-PI": (-12.400, 11.050), "GN-BE": (-8.683, 8.683), "GN-GU": (-10.133, 8.567),
    "GN-LO": (-8.533, 7.800), "GN-MC": (-9.467, 8.550), "GN-NZ": (-8.818, 7.756),
    "GN-YO": (-9.250, 7.567),
}

#: Approximate share of Conakry's population living in each commune (used as weights only).
CONAKRY_COMMUNES: dict[str, float] = {
    "GN-C-KALOUM": 0.04, "GN-C-DIXINN": 0.08, "GN-C-MATAM": 0.10,
    "GN-C-RATOMA": 0.39, "GN-C-MATOTO": 0.39,
}
CONAKRY = "GN-C"

#: Neighbourhoods of Conakry's communes, for station and school names.
CONAKRY_QUARTERS: dict[str, tuple[str, ...]] = {
    "GN-C-KALOUM": ("Boulbinet", "Almamya", "Sandervalia", "Coronthie", "Tumbo"),
    "GN-C-DIXINN": ("Landréah", "Belle-Vue", "Camayenne", "Dixinn-Port", "Cameroun"),
    "GN-C-MATAM": ("Madina", "Bonfi", "Coléah", "Boussoura", "Hermakono"),
    "GN-C-RATOMA": ("Hamdallaye", "Bambeto", "Kipé", "Nongo", "Taouyah", "Koloma", "Cosa",
                    "Sonfonia", "Lambanyi", "Kaporo"),
    "GN-C-MATOTO": ("Enta", "Sangoyah", "Gbessia", "Dabompa", "Yimbaya", "Tombolia",
                    "Kissosso", "Matoto-Marché"),
}

#: Incident rate per inhabitant relative to the countryside (1.0).
CAPITAL_RATE = 5.0
TOWN_RATE = 4.0
#: Share of a prefecture's population living in its chef-lieu.
TOWN_SHARE = 0.30
#: Spread of activity around a town centre.
TOWN_SIGMA_M = 1800.0

#: Planted clusters are Gaussian blobs truncated at this many sigmas (a compact, findable core).
BLOB_CUTOFF = 2.5

M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class Geo:
    """Sub-prefecture polygons and attributes in positional order, plus town lookups."""

    units: pd.DataFrame  # unit_id, name, short, prefecture_id, region_id, weight, is_urban
    geoms: np.ndarray  # prepared shapely polygons
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy
    rep: np.ndarray  # (n, 2) representative point, always inside its unit
    pos: dict[str, int]
    centre: dict[str, str]  # prefecture_id -> sub-prefecture holding the chef-lieu
    town_xy: np.ndarray  # (n, 2) town centre for urban units, representative point otherwise
    prefecture_name: dict[str, str]

    def idx(self, unit_ids: list[str] | np.ndarray) -> np.ndarray:
        return np.array([self.pos[u] for u in unit_ids], dtype=np.int64)


def short_name(name: str) -> str:
    """``"Kankan Centre"`` -> ``"Kankan"`` (the town the unit is named after)."""
    return name[: -len(" Centre")] if name.endswith(" Centre") else name


@lru_cache(maxsize=1)
def load_geo() -> Geo:
    subs = load_units("subprefecture").reset_index(drop=True)
    prefs = load_units("prefecture").set_index("unit_id")
    geoms = subs.geometry.to_numpy()
    shapely.prepare(geoms)
    rep = shapely.get_coordinates(shapely.point_on_surface(geoms))
    pos = {u: i for i, u in enumerate(subs["unit_id"])}

    town_ids = list(TOWNS)
    hit = locate([TOWNS[p][0] for p in town_ids], [TOWNS[p][1] for p in town_ids])
    centre = {p: s for p, s in zip(town_ids, hit["subprefecture_id"], strict=True)
              if isinstance(s, str)}
    for p in prefs.index:  # a town that misses its unit falls back to the "<name> Centre" unit
        if p not in centre:
            cands = subs[(subs["prefecture_id"] == p) & subs["unit_id"].str.endswith("-CENTRE")]
            centre[p] = cands["unit_id"].iloc[0] if len(cands) else subs.loc[
                subs["prefecture_id"] == p, "unit_id"].iloc[0]

    town_xy = rep.copy()
    for p, s in centre.items():
        if p in TOWNS and hit["subprefecture_id"].iloc[town_ids.index(p)] == s:
            town_xy[pos[s]] = TOWNS[p]

    is_urban = subs["unit_id"].isin(set(centre.values()) | set(CONAKRY_COMMUNES)).to_numpy()
    pop = subs["prefecture_id"].map(prefs["population_2014"]).fillna(0.0).to_numpy()
    n_rural = subs.loc[~is_urban].groupby("prefecture_id").size()
    rural_split = subs["prefecture_id"].map(n_rural).fillna(1).to_numpy()
    weight = np.where(is_urban, pop * TOWN_SHARE * TOWN_RATE, pop * (1 - TOWN_SHARE) / rural_split)
    capital = subs["unit_id"].map(CONAKRY_COMMUNES).to_numpy(dtype=float, na_value=np.nan)
    weight = np.where(np.isfinite(capital), pop * CAPITAL_RATE * capital, weight)

    units = pd.DataFrame({
        "unit_id": subs["unit_id"].to_numpy(dtype=object),
        "name": subs["name"].to_numpy(dtype=object),
        "short": [short_name(n) for n in subs["name"]],
        "prefecture_id": subs["prefecture_id"].to_numpy(dtype=object),
        "region_id": subs["region_id"].to_numpy(dtype=object),
        "weight": weight,
        "is_urban": is_urban,
    })
    return Geo(units=units, geoms=geoms, bounds=shapely.bounds(geoms), rep=rep, pos=pos,
               centre=centre, town_xy=town_xy, prefecture_name=prefs["name"].to_dict())


def metres_to_degrees(sigma_m: np.ndarray | float, lat: np.ndarray | float) -> tuple:
    """(dlon, dlat) in degrees for a distance in metres at latitude ``lat``."""
    dlat = np.asarray(sigma_m, dtype=float) / M_PER_DEG
    return dlat / np.cos(np.radians(lat)), dlat


def sample_in_units(rng: np.random.Generator, geo: Geo, unit_idx: np.ndarray,
                    centre: np.ndarray | None = None, sigma_m: np.ndarray | float = 0.0,
                    rounds: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """One point inside each given unit: uniform in the polygon, or Gaussian around
    ``centre`` (n, 2) with ``sigma_m`` when a centre is given. Batches are redrawn until
    every point lies in its unit; a rare leftover takes the unit's representative point."""
    unit_idx = np.asarray(unit_idx, dtype=np.int64)
    n = len(unit_idx)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    sigma = np.broadcast_to(np.asarray(sigma_m, dtype=float), (n,))
    pending = np.arange(n)
    for _ in range(rounds):
        if not pending.size:
            break
        u = unit_idx[pending]
        if centre is None:
            b = geo.bounds[u]
            px, py = rng.uniform(b[:, 0], b[:, 2]), rng.uniform(b[:, 1], b[:, 3])
        else:
            cx, cy = centre[pending, 0], centre[pending, 1]
            dx, dy = metres_to_degrees(sigma[pending], cy)
            px, py = cx + rng.normal(size=len(u)) * dx, cy + rng.normal(size=len(u)) * dy
        ok = shapely.contains_xy(geo.geoms[u], px, py)
        x[pending[ok]], y[pending[ok]] = px[ok], py[ok]
        pending = pending[~ok]
    if pending.size:
        x[pending], y[pending] = geo.rep[unit_idx[pending], 0], geo.rep[unit_idx[pending], 1]
    return x, y


def sample_blob(rng: np.random.Generator, lon: float, lat: float, sigma_m: float, n: int,
                rounds: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """``n`` Gaussian points around (lon, lat), cut at :data:`BLOB_CUTOFF` sigmas and
    redrawn until each lies inside Guinea."""
    x, y = np.full(n, lon, dtype=float), np.full(n, lat, dtype=float)
    pending = np.arange(n)
    dx, dy = metres_to_degrees(sigma_m, lat)
    for _ in range(rounds):
        if not pending.size:
            break
        u, v = rng.normal(size=(2, len(pending)))
        px, py = lon + u * dx, lat + v * dy
        ok = (u * u + v * v <= BLOB_CUTOFF**2) & in_guinea(px, py)
        x[pending[ok]], y[pending[ok]] = px[ok], py[ok]
        pending = pending[~ok]
    return x, y  # leftovers stay on the (inland) centre


@lru_cache(maxsize=1)
def _tree() -> shapely.STRtree:
    return shapely.STRtree(load_geo().geoms)


def in_guinea(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Whether each point lies in some sub-prefecture (a query, so batches entirely
    outside the country are fine)."""
    src, _ = _tree().query(shapely.points(x, y), predicate="intersects")
    inside = np.zeros(len(x), dtype=bool)
    inside[src] = True
    return inside


def with_units(frame: pd.DataFrame, cells: tuple[int, ...] = ()) -> pd.DataFrame:
    """Add region/prefecture/sub-prefecture ids from each row's lon/lat (and H3 columns)."""
    loc = locate(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    if loc["subprefecture_id"].isna().any():
        raise AssertionError("demo point outside Guinea")
    frame = frame.copy()
    for col in ("region_id", "prefecture_id", "subprefecture_id"):
        frame[col] = loc[col].to_numpy(dtype=object)
    for res in cells:
        frame[f"h3_r{res}"] = to_db(points_to_cells(frame["lon"], frame["lat"], res))
    return frame
