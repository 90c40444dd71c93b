"""Synthetic incidents: a population-weighted, town-biased background plus planted hotspots.

The planted clusters (:data:`PLANTED_HOTSPOTS`) are what the hotspot analysis
must find in the demo; one of them is emerging (most incidents in the last
three months, growing month over month) and one is diminishing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.cells import STORED_RESOLUTIONS
from geo.taxonomy import Taxonomy

from .common import Window
from .places import (
    CONAKRY,
    TOWN_SIGMA_M,
    Geo,
    sample_blob,
    sample_in_units,
    short_name,
    with_units,
)

#: Clusters planted in the incidents: centre, spread, size (at 8000 incidents) and trend.
PLANTED_HOTSPOTS: list[dict] = [
    {"name": "Marché de Madina", "lon": -13.657, "lat": 9.546, "sigma_m": 400, "n": 400,
     "trend": "stable"},
    {"name": "Grand marché de Kankan", "lon": -9.303, "lat": 10.386, "sigma_m": 450, "n": 300,
     "trend": "stable"},
    {"name": "Grand marché de Nzérékoré", "lon": -8.818, "lat": 7.754, "sigma_m": 400, "n": 320,
     "trend": "emerging"},
    {"name": "Gare routière de Kindia", "lon": -12.862, "lat": 10.058, "sigma_m": 500, "n": 300,
     "trend": "diminishing"},
]
TRENDS = ("stable", "emerging", "diminishing")

#: Target shares of the incident table.
SENSITIVE_SHARE = 0.10
AREA_PRECISION_SHARE = 0.10
#: Share of an emerging cluster that predates its last three months.
EMERGING_BASELINE = 0.12
#: Planted clusters never take more than this share of the incidents (small runs).
MAX_PLANTED_SHARE = 0.5

#: Relative frequency of each category among sensitive / non-sensitive codes.
CATEGORY_WEIGHTS = {
    "vol": 24, "vol_arme": 5, "cambriolage": 9, "vol_betail": 4, "escroquerie": 7,
    "agression": 14, "homicide": 1, "stupefiants": 6, "trouble_ordre": 8,
    "conflit_foncier": 6, "conflit_communautaire": 3, "autre": 5,
    "violence_conjugale": 40, "viol": 20, "mariage_force": 12, "mgf": 10,
    "maltraitance_enfant": 18,
}
#: Categories of the market/transport clusters.
HOTSPOT_WEIGHTS = {"vol": 50, "escroquerie": 14, "vol_arme": 8, "agression": 16,
                   "trouble_ordre": 8, "stupefiants": 4}
SEVERITY_BASE = {"homicide": 3, "vol_arme": 3, "viol": 3, "mgf": 3, "agression": 2,
                 "cambriolage": 2, "violence_conjugale": 2, "maltraitance_enfant": 2,
                 "mariage_force": 2, "conflit_communautaire": 2, "vol_betail": 2}

DESCRIPTIONS = {
    "vol": ("Vol de téléphone portable", "Vol de moto", "Vol à l'étalage", "Vol de sac"),
    "vol_arme": ("Braquage d'un commerçant", "Attaque à main armée d'un taxi-moto"),
    "cambriolage": ("Cambriolage d'une boutique", "Cambriolage d'un domicile"),
    "vol_betail": ("Vol de bœufs", "Vol de chèvres"),
    "escroquerie": ("Escroquerie au transfert d'argent", "Abus de confiance"),
    "agression": ("Rixe entre jeunes", "Coups et blessures"),
    "homicide": ("Décès suspect signalé",),
    "stupefiants": ("Saisie de chanvre indien", "Vente de drogue signalée"),
    "trouble_ordre": ("Attroupement et troubles", "Tapage nocturne"),
    "conflit_foncier": ("Litige sur une parcelle", "Conflit de limites de champ"),
    "conflit_communautaire": ("Tension entre quartiers", "Conflit entre éleveurs et agriculteurs"),
}
SENSITIVE_DESCRIPTION = "Cas orienté vers le point focal VBG (détails non saisis)"
LANDMARKS = ("près du marché", "gare routière", "carrefour", "quartier", "près de l'école",
             "bord de route")

COLUMNS = ["id", "source_id", "occurred_at", "category", "sensitive", "severity", "description",
           "place_name", "lon", "lat", "precision", "region_id", "prefecture_id",
           "subprefecture_id", "h3_r6", "h3_r7", "h3_r8", "h3_r9"]


def category_probabilities(taxonomy: Taxonomy, weights: dict[str, float],
                           sensitive_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Codes and probabilities with sensitive codes summing to ``sensitive_share``
    (codes unknown to ``weights`` get a small default weight)."""
    codes = np.array(taxonomy.codes, dtype=object)
    sens = np.array([taxonomy.is_sensitive(c) for c in codes])
    w = np.array([weights.get(c, 3.0) for c in codes], dtype=float)
    p = np.zeros(len(codes))
    if sens.any() and sensitive_share > 0:
        p[sens] = sensitive_share * w[sens] / w[sens].sum()
    if (~sens).any():
        p[~sens] = (1 - p.sum()) * w[~sens] / w[~sens].sum()
    if p.sum() <= 0:  # e.g. a taxonomy of sensitive codes only, asked for none
        p = w
    return codes, p / p.sum()


def trend_positions(rng: np.random.Generator, window: Window, trend: str, n: int) -> np.ndarray:
    """Fractional day positions for a cluster with the given trend."""
    u = rng.random(n)
    days = window.days
    if trend == "stable":
        return u * days
    if trend == "diminishing":  # density falls linearly to zero at the end of the window
        return days * (1 - np.sqrt(u))
    if trend == "emerging":  # linear ramp over the last three months (monthly counts ~1:3:5)
        start = window.month_start(3)
        pos = start + (days - start) * np.sqrt(u)
        early = rng.random(n) < EMERGING_BASELINE
        pos[early] = rng.random(early.sum()) * start
        return pos
    raise ValueError(f"unknown trend {trend!r}; expected one of {TRENDS}")


def planted_sizes(n_incidents: int, planted: list[dict]) -> list[int]:
    total = sum(h["n"] for h in planted)
    scale = min(1.0, MAX_PLANTED_SHARE * n_incidents / total) if total else 0.0
    return [int(round(h["n"] * scale)) for h in planted]


def make_incidents(rng: np.random.Generator, geo: Geo, taxonomy: Taxonomy, window: Window,
                   n: int) -> pd.DataFrame:
    sizes = planted_sizes(n, PLANTED_HOTSPOTS)
    n_bg = n - sum(sizes)
    parts = []

    # planted clusters
    codes_h, p_h = category_probabilities(taxonomy, HOTSPOT_WEIGHTS, 0.0)
    for spot, k in zip(PLANTED_HOTSPOTS, sizes, strict=True):
        x, y = sample_blob(rng, spot["lon"], spot["lat"], spot["sigma_m"], k)
        parts.append(pd.DataFrame({
            "lon": x, "lat": y, "day": trend_positions(rng, window, spot["trend"], k),
            "category": rng.choice(codes_h, size=k, p=p_h), "place_name": spot["name"],
            "precision": "point",
        }))

    # background: units weighted by population, towns favoured; points near the town centre
    units = geo.units
    n_sens = SENSITIVE_SHARE * n  # every sensitive case is in the background
    codes, p = category_probabilities(taxonomy, CATEGORY_WEIGHTS,
                                      min(0.5, n_sens / n_bg) if n_bg else 0.0)
    unit = rng.choice(len(units), size=n_bg, p=units["weight"] / units["weight"].sum())
    capital = (units["prefecture_id"].to_numpy() == CONAKRY)[unit]
    town = units["is_urban"].to_numpy()[unit] & ~capital
    x, y = sample_in_units(rng, geo, unit)  # uniform: countryside and Conakry's communes
    if town.any():
        tx, ty = sample_in_units(rng, geo, unit[town], centre=geo.town_xy[unit[town]],
                                 sigma_m=TOWN_SIGMA_M)
        x[town], y[town] = tx, ty
    area = rng.random(n_bg) < min(1.0, AREA_PRECISION_SHARE * n / max(n_bg, 1))
    x[area], y[area] = geo.rep[unit[area], 0], geo.rep[unit[area], 1]
    category = rng.choice(codes, size=n_bg, p=p)
    if "vol" in codes:  # no cattle theft in the capital
        category[capital & (category == "vol_betail")] = "vol"
    landmark = rng.choice(LANDMARKS, size=n_bg)
    names = units["name"].to_numpy()[unit]
    shorts = units["short"].to_numpy()[unit]
    sensitive = np.isin(category, taxonomy.sensitive_codes)
    place = np.where(area | sensitive, names,
                     [f"{s} ({m})" for s, m in zip(shorts, landmark, strict=True)])
    parts.append(pd.DataFrame({
        "lon": x, "lat": y, "day": rng.random(n_bg) * window.days, "category": category,
        "place_name": place, "precision": np.where(area, "subprefecture", "point"),
    }))

    df = pd.concat(parts, ignore_index=True)
    df["occurred_at"] = window.timestamps(rng, df["day"].to_numpy())
    df = df.sort_values("occurred_at", kind="stable").reset_index(drop=True)
    df["sensitive"] = np.isin(df["category"].to_numpy(), taxonomy.sensitive_codes)
    df["severity"] = _severity(rng, df["category"].to_numpy())
    df["description"] = _descriptions(rng, df, taxonomy)
    df = with_units(df, STORED_RESOLUTIONS)
    df["id"] = np.arange(1, len(df) + 1, dtype=np.int64)
    df["source_id"] = [f"DEMO-{i:06d}" for i in df["id"]]
    return df[COLUMNS]


def _severity(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    base = np.array([SEVERITY_BASE.get(c, 1) for c in category], dtype=np.int64)
    sev = np.clip(base + rng.choice([-1, 0, 0, 0, 1], size=len(base)), 1, 3)
    sev[category == "homicide"] = 3
    return sev.astype(np.int16)


def _descriptions(rng: np.random.Generator, df: pd.DataFrame, taxonomy: Taxonomy) -> list[str]:
    pick = rng.random(len(df))
    out = []
    for cat, sens, place, r in zip(df["category"], df["sensitive"], df["place_name"], pick,
                                   strict=True):
        if sens:
            text = SENSITIVE_DESCRIPTION
        else:
            options = DESCRIPTIONS.get(cat) or (taxonomy.label(cat, "fr"),)
            text = options[int(r * len(options))]
        out.append(f"[Démo] {text} — {short_name(place)}.")
    return out
