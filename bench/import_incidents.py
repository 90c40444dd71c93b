"""Benchmark: import N generated incident rows from a CSV into a fresh SQLite store.

    .venv/bin/python bench/import_incidents.py 100000 1000000
    .venv/bin/python bench/import_incidents.py --no-adbc 1000000   # the path without adbc-driver-sqlite

Goes through the same steps as ``proximite import incidents`` (``exchange.service``)
and prints the time of each: read the file, check it (duplicate lookups in the
store, validation, placement, units and H3 cells), write it (stage, copy, rebuild
the indexes, commit); then rows per second, the process's CPU time (all threads:
compare it with the wall time on a busy machine) and peak memory (max RSS). Rows are
random points inside Guinea with ISO dates, taxonomy labels and unique ids, like
a large police register.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exchange.readers import read_table  # noqa: E402
from exchange.service import KIND, plan_file, resolve_mapping  # noqa: E402
from geo.boundaries import load_outline  # noqa: E402
from geo.taxonomy import default_taxonomy  # noqa: E402
from storage import bulk, open_store  # noqa: E402


def make_csv(n: int, path: Path, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    country = load_outline().set_index("kind").at["country", "geometry"]
    minx, miny, maxx, maxy = country.bounds
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < n:
        x = rng.uniform(minx, maxx, n)
        y = rng.uniform(miny, maxy, n)
        keep = shapely.contains_xy(country, x, y)
        lon, lat = np.r_[lon, x[keep]], np.r_[lat, y[keep]]
    labels = default_taxonomy().table["label_fr"].to_numpy()
    days = rng.integers(0, 700, n)
    frame = pd.DataFrame({
        "numero": [f"B-{i:08d}" for i in range(n)],
        "date": (pd.Timestamp("2024-11-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
        "categorie": labels[rng.integers(0, len(labels), n)],
        "latitude": np.round(lat[:n], 6),
        "longitude": np.round(lon[:n], 6),
        "description": "Signalement de test",
    })
    frame.to_csv(path, index=False)


def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "incidents.csv"
        make_csv(n, csv)
        store = open_store(f"sqlite:///{folder}/bench.db")
        times = {}
        cpu = time.process_time()
        start = time.perf_counter()
        raw = read_table(csv)
        times["read"] = time.perf_counter() - start
        mark = time.perf_counter()
        mapping = resolve_mapping(store, raw)
        plan = plan_file(store, raw, mapping, today=date(2026, 11, 24))
        times["validate+place+cells"] = time.perf_counter() - mark
        mark = time.perf_counter()
        store.import_records("incident", plan.records, plan.review, kind=KIND, file_name=raw.file_name,
                             file_sha256=raw.sha256, file_format=raw.format, mapping=mapping.to_json())
        times["write+index"] = time.perf_counter() - mark
        total = time.perf_counter() - start
        cpu = time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        summary = plan.summary()
        print(f"{n:>9,} rows: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
              + f"; total {total:.2f} s = {n / total:,.0f} rows/s (CPU {cpu:.2f} s); peak RSS {peak:,.0f} MB; "
              f"imported {summary['imported']:,}, queued {summary['queued']:,}", flush=True)
        store.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", type=int, default=[100_000], help="file sizes to import, one run each")
    parser.add_argument("--no-adbc", action="store_true", help="write without adbc-driver-sqlite (fallback path)")
    args = parser.parse_args()
    if args.no_adbc:
        bulk._adbc_sqlite = None
    for rows in args.rows:
        run(rows)
