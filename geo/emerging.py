"""Emerging hot spots: Gi* per period plus a Mann-Kendall trend, classified like ArcGIS.

ArcGIS Pro's *Emerging Hot Spot Analysis* (Space Time Pattern Mining) computes Gi*
for every cell and time step, tests the trend of each cell's z-scores with
Mann-Kendall, and names the pattern of each cell. This module does the same on
H3 cells with the spatial neighbourhood of a :class:`geo.hotspots.Weights` (no
temporal neighbours: each period is analysed on its own).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from geo.hotspots import Weights, _as_values, _bh_masks, _bins, _check_alpha, _gi_z

HOT_PATTERNS: tuple[str, ...] = (
    "new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating", "historical",
)
#: Category labels, "no pattern" first, then the hot spot patterns, then their cold counterparts.
CATEGORIES: tuple[str, ...] = (
    ("no pattern",)
    + tuple(f"{p} hot spot" for p in HOT_PATTERNS)
    + tuple(f"{p} cold spot" for p in HOT_PATTERNS)
)


def mann_kendall(series) -> tuple[np.ndarray, np.ndarray]:
    """Mann-Kendall trend test of each row of ``series`` (n_cells, n_periods), vectorized.

    S = sum over i < j of sign(x_j - x_i); its variance under no trend, corrected for
    ties, is [T(T-1)(2T+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18 over tie groups of size t_g;
    z = (S - sign(S)) / sqrt(var) (continuity correction) and p is two-sided normal.
    Returns ``(z, p)``; a row without variation (all values tied) gets z = 0, p = 1.
    """
    x = _as_values(series, "series", ndim=2)
    if x.shape[1] < 2:
        raise ValueError(f"series needs at least 2 periods, got {x.shape[1]}")
    return _mann_kendall_t(np.ascontiguousarray(x.T))


def _mann_kendall_t(xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann-Kendall on period-major data (periods x cells): one vector operation per pair."""
    n_periods, n_cells = xt.shape
    s = np.zeros(n_cells)
    ties = np.ones((n_periods, n_cells))  # size of the tie group of each value
    for i in range(n_periods - 1):
        for j in range(i + 1, n_periods):
            d = xt[j] - xt[i]
            s += np.sign(d)
            same = d == 0
            ties[i] += same
            ties[j] += same
    # each member of a tie group of size t adds (t-1)(2t+5): t of them add t(t-1)(2t+5)
    tie_term = ((ties - 1) * (2 * ties + 5)).sum(axis=0)
    var = (n_periods * (n_periods - 1) * (2 * n_periods + 5) - tie_term) / 18.0
    z = np.zeros(n_cells)
    ok = var > 0
    np.divide(s - np.sign(s), np.sqrt(np.where(ok, var, 1.0)), out=z, where=ok)
    return z, 2.0 * ndtr(-np.abs(z))


def emerging_hotspots(values, weights: Weights, *, alpha: float = 0.05, fdr: bool = False) -> pd.DataFrame:
    """Emerging hot spot category of each cell from per-period values (n_cells, n_periods).

    Gi* is computed for each period (as :func:`geo.hotspots.gi_star`). A cell is a *hot*
    (*cold*) spot in a period when its Gi* p < ``alpha`` and z > 0 (z < 0); with
    ``fdr=True``, when it is a Benjamini-Hochberg discovery at ``alpha`` among that
    period's cells. The trend is Mann-Kendall on the cell's Gi* z-series, significant
    when its p < ``alpha``. "90 %" means at least 90 % of the periods (11 of 12).

    Categories (ArcGIS's definitions; the first that applies wins):

    * final period hot and hot in >= 90 % of periods:
      **intensifying** (significant increasing trend), **diminishing** (significant
      decreasing trend), otherwise **persistent**;
    * final period hot, hot in < 90 % of periods:
      **oscillating** if significantly cold in some earlier period; otherwise
      **new** if the final period is the only hot one; **consecutive** if the hot
      periods form one uninterrupted run (at least 2) ending in the final period;
      otherwise **sporadic** (on-and-off hot, never cold);
    * final period not hot (nor cold) and hot in >= 90 % of periods: **historical**;
    * the same for cold spots with hot and cold (and the trend direction) swapped
      ("intensifying cold spot": significant decreasing trend);
    * otherwise **no pattern**.

    ArcGIS leaves the precedence of *new*/*consecutive* vs *oscillating* implicit; here a
    cell that was ever significantly of the opposite sign is oscillating (as in R's sfdep).
    ArcGIS requires at least 10 periods; fewer are accepted, but with few periods the
    trend test has little power.

    Returns a frame aligned with ``weights.cells``: ``cell``, ``category`` (categorical
    with :data:`CATEGORIES`), ``trend_z``, ``trend_p``, ``n_hot``, ``n_cold`` and
    ``final_bin`` (the Gi* bin, -3..3, of the final period, FDR-corrected if ``fdr``).
    """
    if not isinstance(weights, Weights):
        raise ValueError(f"weights must be a Weights instance, got {type(weights).__name__}")
    x = _as_values(values, "values", weights.n, ndim=2)
    alpha = _check_alpha(alpha)
    n_periods = x.shape[1]
    if n_periods < 2:
        raise ValueError(f"values needs at least 2 periods (columns), got {n_periods}")
    z, p, _ = _gi_z(np.ascontiguousarray(x.T), weights)
    return _classify_t(z, p, weights.cells, alpha, bool(fdr))


def classify_emerging(z, p, *, cells=None, alpha: float = 0.05, fdr: bool = False) -> pd.DataFrame:
    """The categories of :func:`emerging_hotspots` from per-period Gi* ``z`` and ``p``
    (both n_cells x n_periods), e.g. computed with another neighbourhood. Same columns;
    ``cell`` is ``cells`` when given, else the row number."""
    z = _as_values(z, "z", ndim=2)
    p = _as_values(p, "p", z.shape[0], ndim=2)
    if p.shape != z.shape:
        raise ValueError(f"p has shape {p.shape} but z has shape {z.shape}")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("p must lie between 0 and 1")
    alpha = _check_alpha(alpha)
    n_cells, n_periods = z.shape
    if n_periods < 2:
        raise ValueError(f"z needs at least 2 periods (columns), got {n_periods}")
    if cells is None:
        cells = np.arange(n_cells, dtype=np.int64)
    else:
        cells = np.asarray(cells)
        if cells.shape != (n_cells,):
            raise ValueError(f"cells must have one entry per row of z ({n_cells}), got shape {cells.shape}")
    return _classify_t(np.ascontiguousarray(z.T), np.ascontiguousarray(p.T), cells, alpha, bool(fdr))


def _classify_t(z: np.ndarray, p: np.ndarray, cells: np.ndarray, alpha: float, fdr: bool) -> pd.DataFrame:
    """The frame of :func:`classify_emerging` from period-major z and p (periods x cells)."""
    n_cells = z.shape[1]
    final_bin = _bins(z[-1:], p[-1:], fdr)[0]
    significant = _bh_masks(p, (alpha,))[0] if fdr else p < alpha
    hot = significant & (z > 0)
    cold = significant & (z < 0)
    trend_z, trend_p = _mann_kendall_t(z) if n_cells else (np.zeros(0), np.ones(0))
    up = (trend_p < alpha) & (trend_z > 0)
    down = (trend_p < alpha) & (trend_z < 0)
    code = np.zeros(n_cells, dtype=np.int8)
    k = len(HOT_PATTERNS)
    _classify(code, hot, cold, up, down, offset=1)
    _classify(code, cold, hot, down, up, offset=1 + k)
    category = pd.Categorical.from_codes(code, categories=list(CATEGORIES))
    return pd.DataFrame({
        "cell": cells,
        "category": category,
        "trend_z": trend_z,
        "trend_p": trend_p,
        "n_hot": hot.sum(axis=0).astype(np.int64),
        "n_cold": cold.sum(axis=0).astype(np.int64),
        "final_bin": final_bin,
    })


def _classify(code: np.ndarray, hot: np.ndarray, cold: np.ndarray, up: np.ndarray, down: np.ndarray,
              *, offset: int) -> None:
    """Write the hot-spot pattern codes (``offset + index in HOT_PATTERNS``) into ``code``.

    ``hot`` and ``cold`` are periods x cells. Called a second time with hot/cold and
    up/down swapped for the cold patterns; the two never overlap (the final period is
    hot or cold, not both, and "historical" requires the final period to be neither).
    """
    n_periods = hot.shape[0]
    n_hot = hot.sum(axis=0)
    final = hot[-1]
    mostly = n_hot * 10 >= 9 * n_periods  # at least 90 % of periods, in integers
    ever_opposite = cold.any(axis=0)
    run = np.zeros(hot.shape[1], dtype=np.int64)  # hot periods in a row, ending in the final one
    alive = np.ones(hot.shape[1], dtype=bool)
    for t in range(n_periods - 1, -1, -1):
        alive &= hot[t]
        run += alive
    idx = {name: offset + i for i, name in enumerate(HOT_PATTERNS)}
    rules = [
        (final & mostly & up, "intensifying"),
        (final & mostly & down, "diminishing"),
        (final & mostly & ~up & ~down, "persistent"),
        (final & ~mostly & ever_opposite, "oscillating"),
        (final & ~mostly & ~ever_opposite & (n_hot == 1), "new"),
        (final & ~mostly & ~ever_opposite & (n_hot >= 2) & (run == n_hot), "consecutive"),
        (final & ~mostly & ~ever_opposite & (n_hot >= 2) & (run < n_hot), "sporadic"),
        (~final & ~cold[-1] & mostly, "historical"),
    ]
    for mask, name in rules:
        code[mask] = idx[name]
