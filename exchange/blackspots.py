"""Road-safety black spots from stored crashes: ranked table with geometry, as a frame or a file.

Shared by ``proximite blackspots`` and the commander's page. Crashes come from the
store (:class:`storage.roads.CrashFilter`); method ``"cells"`` needs nothing else,
method ``"roads"`` uses the road network in use (the latest imported one, else the
demo one) and fails with :class:`NoRoadNetwork` when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import geopandas as gpd

from exchange.export import to_csv
from geo.blackspots import METHODS, SeverityWeights, on_cells, on_segments, rank
from storage import Store
from storage.roads import CrashFilter

#: Degrees added around the crashes' extent when fetching roads, per metre of tolerance: a degree of
#: longitude is at least 100 km in Guinea (12.7° N at most), so this margin covers the tolerance.
_DEG_PER_M = 1.0 / 100_000


class NoRoadNetwork(LookupError):
    """Method "roads" was asked for but no road network is stored (import one with ``proximite roads import``)."""


@dataclass(frozen=True)
class BlackspotResult:
    """Ranked black spots: ``table`` (GeoDataFrame, EPSG:4326, best first, one row per spot with crashes;
    geometry: hexagon or segment line) and what produced it."""

    table: gpd.GeoDataFrame
    method: str
    weights: SeverityWeights
    flt: CrashFilter
    n_crashes: int
    n_demo: int
    unassigned: dict[str, int]
    params: dict[str, object] = field(default_factory=dict)
    road_batch: int | None = None


def run_blackspots(store: Store, flt: CrashFilter | None = None, *, method: str = "cells", resolution: int = 8,
                   segment_m: float = 500.0, tolerance_m: float = 50.0, weights: SeverityWeights | None = None,
                   k: int | None = None, fdr: bool = False, top: int | None = None,
                   period: str = "month") -> BlackspotResult:
    """Black spots of the crashes matching ``flt`` by H3 cell (``resolution``, optional Gi* with ``k``)
    or by road segment (``segment_m``, ``tolerance_m``), ranked, with place and trend per ``period``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    flt = flt or CrashFilter()
    weights = weights or SeverityWeights()
    crashes = store.crashes(flt)
    batch = None
    if method == "roads":
        batch = store.road_network_batch(include_demo=flt.include_demo)
        if batch is None:
            raise NoRoadNetwork("no road network is stored: import one first (proximite roads import FILE)")
        located = crashes[["lon", "lat"]].dropna()
        bbox = None
        if len(located):
            margin = float(tolerance_m) * _DEG_PER_M + 1e-6
            bbox = (located["lon"].min() - margin, located["lat"].min() - margin,
                    located["lon"].max() + margin, located["lat"].max() + margin)
        roads = store.road_network(batch_id=batch, bbox=bbox)
        spots = on_segments(crashes, roads, segment_m, tolerance_m, weights)
    else:
        spots = on_cells(crashes, resolution, weights, k, fdr=fdr)
    table = rank(spots, crashes, top=top, period=period, start=flt.start, end=flt.end)
    if method == "cells":
        table["cell"] = table["spot"]  # hex id, as in the hotspots files
    else:
        table.insert(table.columns.get_loc("spot") + 1, "segment_id", table["spot"])
    return BlackspotResult(table, method, weights, flt, len(crashes), int(crashes["is_demo"].sum()),
                           dict(spots.unassigned), dict(spots.params), batch)


def to_file(result: BlackspotResult, path: str | Path) -> None:
    """CSV (no geometry; safe to open in a spreadsheet) or GeoJSON (hexagons or segment lines) by extension."""
    path = Path(path)
    lower = path.name.lower()
    table = result.table.copy()
    for name in table.columns:
        if table[name].dtype == np.uint64:
            table[name] = table[name].astype(str)
    if lower.endswith(".csv"):
        path.write_bytes(to_csv(table.drop(columns="geometry")))
    elif lower.endswith((".geojson", ".json")):
        path.write_text(table.to_json(drop_id=True, ensure_ascii=False), encoding="utf-8")
    else:
        raise ValueError(f"{path}: use a .csv or .geojson file name")
