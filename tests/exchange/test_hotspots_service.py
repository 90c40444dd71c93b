"""Hotspots from the store: the demo's planted clusters are found, files have the promised columns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demo.generate import generate
from demo.incidents import PLANTED_HOTSPOTS
from exchange.hotspots import UnitNotFound, resolve_units, run_hotspots
from storage import Store, open_store
from storage.queries import IncidentFilter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Store:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('hot') / 'demo.db'}")
    store.replace_demo(generate(7, n_incidents=6000, n_crashes=200))
    return store


def _distance_m(lon, lat, lon0, lat0):
    return np.hypot((lon - lon0) * 111_320 * np.cos(np.radians(lat0)), (lat - lat0) * 110_570)


@pytest.mark.parametrize("spot", [s for s in PLANTED_HOTSPOTS if s["trend"] != "diminishing"][:3],
                         ids=lambda s: s["name"])
def test_planted_clusters_are_the_top_hotspots(demo_store, spot):
    from geo.boundaries import locate

    pref = locate([spot["lon"]], [spot["lat"]])["prefecture_id"].iloc[0]
    result = run_hotspots(demo_store, IncidentFilter(units=(("prefecture", pref),)), resolution=8, k=1, fdr=True)
    table = result.table
    top = table.sort_values("gi_z", ascending=False).head(3)
    assert (top["gi_bin"] == 3).all()
    assert (_distance_m(top["lon"], top["lat"], spot["lon"], spot["lat"]) < 3 * spot["sigma_m"] + 500).all()
    assert {"cell", "count", "gi_z", "gi_p", "gi_bin"} <= set(table.columns)
    assert (table["count"] == 0).any(), "empty cells belong to the study area"


def test_units_by_id_or_name_and_errors():
    assert resolve_units(["GN-KA", "Nzérékoré", "kaloum"]) == (("prefecture", "GN-KA"), ("region", "GN-N"),
                                                             ("subprefecture", "GN-C-KALOUM"))
    with pytest.raises(UnitNotFound, match="ambiguous"):
        resolve_units(["Touba"])
    with pytest.raises(UnitNotFound):
        resolve_units(["Atlantis"])


def test_cli_writes_csv_and_geojson(demo_store, tmp_path):
    env = {"PROXIMITE_DATABASE_URL": str(demo_store.engine.url), "PATH": "/usr/bin:/bin", "PROXIMITE_LANG": "en"}
    for name in ("hot.csv", "hot.geojson"):
        done = subprocess.run([sys.executable, "-m", "cli.main", "hotspots", "--unit", "GN-C", "--resolution", "8",
                               "--k", "1", "--fdr", "--out", str(tmp_path / name)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "hot spots" in done.stdout
    table = pd.read_csv(tmp_path / "hot.csv")
    assert list(table.columns[:5]) == ["cell", "count", "gi_z", "gi_p", "gi_bin"]
    assert table["cell"].str.fullmatch(r"88[0-9a-f]{13}").all()
    import geopandas as gpd

    assert len(gpd.read_file(tmp_path / "hot.geojson")) == len(table)
    bad = subprocess.run([sys.executable, "-m", "cli.main", "hotspots", "--unit", "Touba", "--out",
                          str(tmp_path / "x.csv")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "ambiguous" in bad.stderr
