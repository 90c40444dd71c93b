"""Benchmark: hot spots on N generated incidents over the whole of Guinea at H3 resolution 8.

    .venv/bin/python bench/hotspots.py 100000 1000000
    .venv/bin/python bench/hotspots.py 100000 --no-esda     # skip the PySAL comparison

Incidents are random points inside the country polygon plus five planted clusters
(one appears only in the last three months, one fades after six), with a month
0..11 each. Stages, each timed on its own (best of 5 for ours, one run for PySAL):

  (a) points -> res-8 cells (geo.cells.points_to_cells)
  (s) study area: every res-8 cell whose centre is in Guinea (once per resolution, cacheable)
  (b) counts on the study-area cells (zero cells included)
  (c) k=1 weights
  (d) Gi* with FDR bins
  (e) emerging hot spots over 12 monthly periods (monthly counts + Gi* x 12 + Mann-Kendall)
  pipeline = (b) + (c) + (d): from stored incident cells to Gi* bins with FDR

PySAL: libpysal W from k-ring neighbour dicts (h3-py loop, the usual recipe) and
libpysal Graph.build_h3, each followed by esda.G_Local(star=True, transform="B",
permutations=0) on the same cells and counts; z-scores are checked to agree.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo import cells  # noqa: E402
from geo.boundaries import load_outline  # noqa: E402
from geo.emerging import emerging_hotspots  # noqa: E402
from geo.hotspots import Weights, counts_on_cells, gi_star, study_area_cells  # noqa: E402

RES = 8
MONTHS = 12
#: (lon, lat, share of incidents, months active): Conakry, Kankan (new), Nzerekore, Labe (fading), Kindia
CLUSTERS = [
    (-13.68, 9.55, 0.03, range(12)),
    (-9.31, 10.38, 0.02, range(9, 12)),
    (-8.82, 7.75, 0.02, range(12)),
    (-12.28, 11.32, 0.02, range(6)),
    (-12.86, 10.06, 0.01, range(12)),
]
SIGMA_DEG = 0.015  # about 1.6 km


def make_incidents(n: int, country, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_bg = n - sum(int(n * share) for _, _, share, _ in CLUSTERS)
    minx, miny, maxx, maxy = country.bounds
    lon, lat = np.empty(0), np.empty(0)
    while lon.size < n_bg:
        x = rng.uniform(minx, maxx, n_bg)
        y = rng.uniform(miny, maxy, n_bg)
        keep = shapely.contains_xy(country, x, y)
        lon, lat = np.r_[lon, x[keep]], np.r_[lat, y[keep]]
    lon, lat = lon[:n_bg], lat[:n_bg]
    month = rng.integers(0, MONTHS, n_bg)
    parts = [(lon, lat, month)]
    for cx, cy, share, active in CLUSTERS:
        m = int(n * share)
        parts.append((rng.normal(cx, SIGMA_DEG, m), rng.normal(cy, SIGMA_DEG, m),
                      rng.choice(np.asarray(active), m)))
    lon, lat, month = (np.concatenate(v) for v in zip(*parts, strict=True))
    return lon, lat, month


def best_of(fn, repeat: int = 5):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def monthly_counts(study: np.ndarray, event_cells: np.ndarray, month: np.ndarray) -> np.ndarray:
    return np.column_stack([counts_on_cells(study, event_cells[month == m]) for m in range(MONTHS)])


def run_esda(study: np.ndarray, counts: np.ndarray, z_ours: np.ndarray) -> dict[str, float | str]:
    import esda
    import libpysal
    from libpysal.graph import Graph

    import h3

    out: dict[str, float | str] = {}
    ids = cells.to_str(study)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        present = set(ids)
        neighbours = {i: [j for j in h3.grid_disk(i, 1) if j != i and j in present] for i in ids}
        w = libpysal.weights.W(neighbours, id_order=ids, silence_warnings=True)
        out["libpysal W (k-ring dicts)"] = time.perf_counter() - t
        t = time.perf_counter()
        ref = esda.G_Local(counts.astype(float), w, star=True, transform="B", permutations=0)
        out["esda G_Local on W"] = time.perf_counter() - t
        out["max |z - esda Zs| (W)"] = float(np.abs(ref.Zs - z_ours).max())
        del w, neighbours, ref
        t = time.perf_counter()
        graph = Graph.build_h3(ids, order=1, weight="binary")
        out["libpysal Graph.build_h3"] = time.perf_counter() - t
        # build_h3 drops cells without any neighbour (tiny islands): run esda on the cells it kept
        kept = np.asarray(graph.unique_ids)
        out["cells dropped by build_h3"] = f"{len(ids) - kept.size}"
        where = {c: i for i, c in enumerate(ids)}
        rows = np.fromiter((where[c] for c in kept), dtype=np.int64, count=kept.size)
        t = time.perf_counter()
        ref = esda.G_Local(counts[rows].astype(float), graph, star=True, transform="B", permutations=0)
        out["esda G_Local on Graph"] = time.perf_counter() - t
        if kept.size == len(ids):
            out["max |z - esda Zs| (Graph)"] = float(np.abs(ref.Zs - z_ours[rows]).max())
    return out


def run(n: int, study: np.ndarray, country, with_esda: bool) -> dict[str, float | str]:
    lon, lat, month = make_incidents(n, country)
    row: dict[str, float | str] = {}
    row["(a) points -> cells"], event_cells = best_of(lambda: cells.points_to_cells(lon, lat, RES))
    row["(b) counts on study cells"], counts = best_of(lambda: counts_on_cells(study, event_cells))
    row["(c) k=1 weights"], w = best_of(lambda: Weights.from_kring(study, 1))
    row["(d) Gi* + FDR bins"], gi = best_of(lambda: gi_star(counts, w, fdr=True))
    row["pipeline (b)+(c)+(d)"] = row["(b) counts on study cells"] + row["(c) k=1 weights"] + row["(d) Gi* + FDR bins"]
    row["(e1) monthly counts x12"], monthly = best_of(lambda: monthly_counts(study, event_cells, month))
    row["(e2) emerging (12 periods)"], em = best_of(lambda: emerging_hotspots(monthly, w, fdr=True))
    row["events in study area"] = f"{int(counts.sum()):,}"
    row["cells with |bin| = 3"] = f"{int((np.abs(gi.bin) == 3).sum()):,}"
    found = em["category"].value_counts()
    row["emerging (non-empty)"] = ", ".join(f"{k}: {v}" for k, v in found.items() if v and k != "no pattern")
    if with_esda:
        row.update(run_esda(study, counts, gi.z))
        ours = row["(c) k=1 weights"] + row["(d) Gi* + FDR bins"]
        theirs = row["libpysal W (k-ring dicts)"] + row["esda G_Local on W"]
        graph = row["libpysal Graph.build_h3"] + row["esda G_Local on Graph"]
        row["speed-up (c)+(d) vs W+esda"] = f"{theirs / ours:.0f}x"
        row["speed-up (c)+(d) vs Graph+esda"] = f"{graph / ours:.0f}x"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--no-esda", action="store_true", help="skip the libpysal/esda comparison")
    parser.add_argument("--esda-max", type=int, default=10**9,
                        help="run the PySAL comparison only for sizes up to this many incidents")
    args = parser.parse_args()

    country = load_outline().set_index("kind").at["country", "geometry"]
    t_study, study = best_of(lambda: study_area_cells(country, RES), repeat=1)
    print(f"study area: whole Guinea at res {RES}: {study.size:,} cells "
          f"({t_study:.2f} s, once per resolution)")
    rows = {n: run(n, study, country, not args.no_esda and n <= args.esda_max) for n in args.sizes}

    keys = list(dict.fromkeys(k for r in rows.values() for k in r))
    width = max(len(k) for k in keys)
    print(f"\n{'stage':<{width}}  " + "  ".join(f"{f'{n:,} incidents':>18}" for n in rows))
    for key in keys:
        cells_ = []
        for r in rows.values():
            v = r.get(key, "-")
            if isinstance(v, float):
                v = f"{v:.2e}" if key.startswith("max |z") else f"{v * 1000:,.0f} ms"
            cells_.append(f"{v:>18}")
        line = f"{key:<{width}}  " + "  ".join(cells_)
        print(line if not key.startswith("emerging (") else f"{key:<{width}}  " + " | ".join(
            str(r.get(key, "-")) for r in rows.values()))


if __name__ == "__main__":
    main()
