"""Counts per H3 cell at any display resolution from the counts the database groups by.

The store groups by the stored resolutions (6 to 9); coarser display
resolutions sum their children's counts here. Suppressed counts were already
removed by the store, so sums never reveal them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import cells

STORED = cells.STORED_RESOLUTIONS


def source_resolution(res: int) -> int:
    """The stored resolution to group by for a display resolution."""
    if res > max(STORED):
        raise ValueError(f"resolution {res} is finer than the finest stored ({max(STORED)})")
    return max(res, min(STORED))


def rollup(counts: pd.DataFrame, res: int) -> pd.DataFrame:
    """Sum ``count`` and ``sensitive`` of ``counts`` (keys as signed int64 cells) up to ``res``."""
    if counts.empty:
        return counts.copy()
    keys = counts["key"].astype("int64").to_numpy().view(np.uint64)
    up = cells.parents(keys, res).view(np.int64)
    out = (counts.assign(key=up)
           .groupby("key", as_index=False)
           .agg(count=("count", "sum"), sensitive=("sensitive", "sum"), suppressed=("suppressed", "any")))
    return out
