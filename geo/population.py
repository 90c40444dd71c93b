"""2014 census population per administrative unit, and a stated rule for sub-prefectures.

The RGPH 2014 (Institut National de la Statistique) publishes population per
prefecture only, *final* for some prefectures and *preliminary* for others; the
flag travels with every figure (``census_result``). Regions are the sums of their
prefectures (flag ``mixed`` when their prefectures disagree).

Sub-prefectures have no census figure, yet per-capita rates per sub-prefecture
are asked for. :func:`population` therefore shares each prefecture's total out
among its sub-prefectures by a rule that is chosen explicitly and written next to
every figure (column ``population_rule``):

``"area"`` (default)
    Proportional to the sub-prefecture's area (equal-area, from the units'
    ``area_km2``). Area is the only attribute known for every unit and it keeps
    large rural sub-prefectures from being credited with as many people as a
    tiny one. Its bias: people are not spread evenly, so dense urban communes
    (Kankan Centre, Kindia Centre, the Conakry communes...) are *undercounted*
    and vast rural ones overcounted; a rate per inhabitant is inflated in towns.
``"equal"``
    Every sub-prefecture of a prefecture gets the same share. Biased the other
    way for large sub-prefectures; useful as a check of how much a rate depends
    on the rule.

Shares are rounded with the largest-remainder method (:func:`apportion`), so the
sub-prefectures of a prefecture always add up exactly to its census total.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from geo.boundaries import LEVELS, Level, load_population, load_units
from i18n import N_

Rule = Literal["area", "equal"]
RULES: tuple[Rule, ...] = ("area", "equal")
#: Value of ``population_rule`` for figures taken straight from the census (regions, prefectures).
CENSUS_RULE = "census"
#: Display labels of ``population_rule`` (translate with ``t(POPULATION_RULE_LABELS[rule])``).
POPULATION_RULE_LABELS: dict[str, str] = {
    CENSUS_RULE: N_("2014 census figure"),
    "area": N_("prefecture census shared out by area"),
    "equal": N_("prefecture census shared out equally"),
}
#: ``census_result`` of a total whose parts are partly final, partly preliminary.
MIXED = "mixed"
#: Display labels of ``census_result`` (fit the catalog's "{flag} results" phrases).
CENSUS_RESULT_LABELS: dict[str, str] = {
    "final": N_("final"),
    "preliminary": N_("preliminary"),
    MIXED: N_("partly final, partly preliminary"),
}
#: Equal-area CRS used when units carry no ``area_km2`` (Africa Albers Equal Area Conic, as geo.build).
EQUAL_AREA = "ESRI:102022"

COLUMNS = ["unit_id", "level", "name", "prefecture_id", "region_id", "population", "census_result",
           "population_rule"]


def apportion(totals: pd.Series, groups: np.ndarray | pd.Series, weights: np.ndarray | pd.Series) -> np.ndarray:
    """Share each group's integer total among its rows in proportion to ``weights``, exactly.

    Largest-remainder (Hamilton) method: every row gets the floor of its quota,
    and the units still missing go to the rows with the largest fractional parts
    (ties to the earlier row, so the result is deterministic). The rows of a
    group therefore sum to the group's total exactly.

    Parameters
    ----------
    totals
        Non-negative whole numbers indexed by group key; NaN for an unknown total.
    groups
        Group key of every row (each must be in ``totals``).
    weights
        Non-negative finite weight of every row.

    Returns
    -------
    numpy.ndarray
        float64 aligned with ``groups``: whole numbers, NaN where the group's total is unknown.
    """
    keys = np.asarray(groups, dtype=object)
    w = np.asarray(weights, dtype=float)
    if keys.shape != w.shape or keys.ndim != 1:
        raise ValueError("groups and weights must be 1-D and of the same length")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    missing = pd.Index(pd.unique(keys)).difference(totals.index)
    if len(missing):
        raise ValueError(f"no total for group(s) {sorted(map(str, missing))}")
    tot = pd.to_numeric(totals, errors="coerce").astype(float)
    known = tot.dropna()
    if (known < 0).any() or (known != np.floor(known)).any():
        raise ValueError("totals must be non-negative whole numbers")
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=float)
    codes, uniques = pd.factorize(keys)
    group_total = tot.reindex(uniques).to_numpy()
    wsum = np.bincount(codes, weights=w, minlength=len(uniques))
    empty = (wsum == 0) & (np.nan_to_num(group_total) > 0)
    if empty.any():
        raise ValueError(f"group(s) {sorted(map(str, uniques[empty]))} have a total but zero weight")
    with np.errstate(invalid="ignore", divide="ignore"):
        quota = np.where(wsum[codes] > 0, group_total[codes] * w / wsum[codes], 0.0)
    base = np.floor(quota)
    frac = quota - base
    short = np.rint(group_total - np.bincount(codes, weights=np.nan_to_num(base), minlength=len(uniques)))
    short = np.clip(np.nan_to_num(short), 0, None)
    # rank rows within their group by decreasing remainder (ties: input order)
    order = np.lexsort((np.arange(n), -np.nan_to_num(frac), codes))
    first = np.r_[0, np.flatnonzero(np.diff(codes[order])) + 1]
    group_start = np.empty(len(uniques), dtype=np.int64)
    group_start[codes[order][first]] = first
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - group_start[codes[order]]
    out = base + (rank < short[codes])
    out[np.isnan(group_total[codes])] = np.nan
    return out


def _check_level(level: str) -> Level:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return level  # type: ignore[return-value]


def _census_by_prefecture(census: pd.DataFrame) -> pd.DataFrame:
    needed = {"iso_code", "population_2014", "census_result"}
    if not needed <= set(census.columns):
        raise ValueError(f"census table lacks column(s) {sorted(needed - set(census.columns))}")
    if census["iso_code"].duplicated().any():
        raise ValueError("census table has duplicate prefecture codes")
    return census.set_index("iso_code")[["population_2014", "census_result"]]


def _combined_flag(flags: pd.Series) -> str | float:
    values = set(flags.dropna())
    if not values:
        return np.nan
    return values.pop() if len(values) == 1 else MIXED


def _areas_km2(units: pd.DataFrame) -> np.ndarray:
    """Equal-area size of each unit: the stored ``area_km2``, else computed in an equal-area CRS."""
    if "area_km2" in units.columns:
        area = pd.to_numeric(units["area_km2"], errors="coerce").to_numpy(float)
        if np.isfinite(area).all():
            return area
    if "geometry" not in units.columns or getattr(units, "crs", None) is None:
        raise ValueError("units need an area_km2 column or a geometry with a CRS for rule 'area'")
    return units.geometry.to_crs(EQUAL_AREA).area.to_numpy() / 1e6


def population(level: Level, rule: Rule = "area", *, units: pd.DataFrame | None = None,
               census: pd.DataFrame | None = None) -> pd.DataFrame:
    """2014 census population of every unit of ``level``.

    Regions and prefectures get the census figures (``population_rule`` =
    ``"census"``); sub-prefectures get their prefecture's total shared out by
    ``rule`` (see the module docstring for why ``"area"`` is the default and how
    it is biased), carrying the prefecture's ``census_result``.

    Parameters
    ----------
    level
        ``"region"``, ``"prefecture"`` or ``"subprefecture"``.
    rule
        ``"area"`` or ``"equal"``; used for sub-prefectures only.
    units, census
        The boundary units (default :func:`geo.boundaries.load_units`) and the
        census table per prefecture (default :func:`geo.boundaries.load_population`);
        given explicitly in tests.

    Returns
    -------
    pandas.DataFrame
        One row per unit, in the units' order: ``unit_id``, ``level``, ``name``,
        ``prefecture_id``, ``region_id``, ``population`` (float64, whole numbers;
        NaN when the census lacks the prefecture), ``census_result``
        (``final``/``preliminary``/``mixed``), ``population_rule``.
    """
    level = _check_level(level)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    units = load_units() if units is None else units
    by_pref = _census_by_prefecture(load_population() if census is None else census)
    here = units[units["level"].astype(str) == level].reset_index(drop=True)
    out = pd.DataFrame({
        "unit_id": here["unit_id"].to_numpy(object),
        "level": level,
        "name": here["name"].to_numpy(object),
        "prefecture_id": here["prefecture_id"].to_numpy(object) if level != "region" else None,
        "region_id": here["region_id"].to_numpy(object),
    })
    if level == "prefecture":
        out["population"] = by_pref["population_2014"].reindex(out["unit_id"]).to_numpy(float)
        out["census_result"] = by_pref["census_result"].reindex(out["unit_id"]).to_numpy(object)
        out["population_rule"] = CENSUS_RULE
    elif level == "region":
        prefs = units.loc[units["level"].astype(str) == "prefecture", ["unit_id", "region_id"]]
        pref_pop = by_pref["population_2014"].reindex(prefs["unit_id"]).to_numpy(float)
        grouped = pd.DataFrame({"region_id": prefs["region_id"].to_numpy(object), "pop": pref_pop,
                                "flag": by_pref["census_result"].reindex(prefs["unit_id"]).to_numpy(object)})
        per_region = grouped.groupby("region_id")
        # a region missing any prefecture's figure has no total (not a silent undercount)
        total = per_region["pop"].sum(min_count=1).where(per_region["pop"].count() == per_region.size())
        out["population"] = total.reindex(out["unit_id"]).to_numpy(float)
        out["census_result"] = per_region["flag"].agg(_combined_flag).reindex(out["unit_id"]).to_numpy(object)
        out["population_rule"] = CENSUS_RULE
    else:
        weights = _areas_km2(here) if rule == "area" else np.ones(len(here))
        totals = by_pref["population_2014"].reindex(pd.unique(out["prefecture_id"]))
        out["population"] = apportion(totals, out["prefecture_id"].to_numpy(object), weights)
        out["census_result"] = by_pref["census_result"].reindex(out["prefecture_id"]).to_numpy(object)
        out["population_rule"] = rule
    return out[COLUMNS]


def national_population(census: pd.DataFrame | None = None) -> dict[str, object]:
    """Guinea's 2014 census total: ``population`` (NaN if any prefecture lacks a figure), flag and rule."""
    by_pref = _census_by_prefecture(load_population() if census is None else census)
    pops = pd.to_numeric(by_pref["population_2014"], errors="coerce")
    total = float(pops.sum()) if pops.notna().all() and len(pops) else np.nan
    return {"population": total, "census_result": _combined_flag(by_pref["census_result"]),
            "population_rule": CENSUS_RULE}
