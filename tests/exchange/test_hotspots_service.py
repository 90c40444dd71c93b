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


def _near(table, spot, radius_m):
    return table[_distance_m(table["lon"], table["lat"], spot["lon"], spot["lat"]) < radius_m]


def test_previous_period_has_the_same_length():
    from datetime import UTC, datetime

    from exchange.hotspots import previous_filter

    flt = IncidentFilter(start=datetime(2026, 3, 1, tzinfo=UTC), end=datetime(2026, 5, 1, tzinfo=UTC),
                         categories=("vol",))
    prev = previous_filter(flt)
    assert (prev.start, prev.end) == (datetime(2025, 12, 30, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))  # 61 days
    assert prev.categories == ("vol",)
    assert previous_filter(IncidentFilter()) is None


def test_top_hotspots_name_places_and_compare_with_the_previous_period(demo_store):
    from exchange.hotspots import top_hotspots

    result = run_hotspots(demo_store, IncidentFilter(units=(("prefecture", "GN-KA"),)), resolution=8, k=1, fdr=True)
    previous = result.table["count"].to_numpy() // 2
    top = top_hotspots(result, previous, n=5)
    assert list(top["rank"]) == [1, 2, 3, 4, 5]
    assert top["gi_z"].is_monotonic_decreasing and (top["gi_bin"] > 0).all()
    assert (top["change"] == top["count"] - top["count"] // 2).all()
    assert top["unit"].str.contains("Kankan").all()
    assert top_hotspots(result, None, n=3)["previous"].isna().all()


def test_periods_are_aligned_on_the_end():
    from datetime import UTC, datetime

    from exchange.hotspots import periods_ending

    end = datetime(2026, 11, 1, 12, tzinfo=UTC)
    months = periods_ending(end, datetime(2025, 11, 1, tzinfo=UTC), "month")
    assert len(months) == 12 and months[-1][1] == end and months[0][0] == datetime(2025, 11, 1, 12, tzinfo=UTC)
    assert all(a[1] == b[0] for a, b in zip(months[:-1], months[1:], strict=True))
    weeks = periods_ending(end, None, "week", limit=10)
    assert len(weeks) == 10 and all((b - a).days == 7 for a, b in weeks)
    with pytest.raises(ValueError):
        periods_ending(end, None, "year")


def test_emerging_hotspots_find_the_planted_trends(demo_store):
    from exchange.hotspots import run_emerging

    result = run_emerging(demo_store, IncidentFilter(), resolution=7, k=1, step="month")
    assert len(result.periods) == 24  # the demo spans 24 months
    table = result.table
    emerging = next(s for s in PLANTED_HOTSPOTS if s["trend"] == "emerging")
    diminishing = next(s for s in PLANTED_HOTSPOTS if s["trend"] == "diminishing")
    near_emerging = _near(table, emerging, 2000).sort_values("count", ascending=False)
    near_diminishing = _near(table, diminishing, 2000).sort_values("count", ascending=False)
    assert str(near_emerging["category"].iloc[0]) in {"intensifying hot spot", "new hot spot",
                                                       "consecutive hot spot"}
    assert str(near_diminishing["category"].iloc[0]) in {"diminishing hot spot", "historical hot spot"}
    assert near_emerging["trend_z"].iloc[0] > 0 > near_diminishing["trend_z"].iloc[0]
    assert (table["count"] >= table["last"]).all()


def test_study_area_limit_and_placed_by_name(demo_store):
    from exchange.hotspots import StudyAreaTooLarge, placed_by_name

    with pytest.raises(StudyAreaTooLarge) as err:
        run_hotspots(demo_store, IncidentFilter(), resolution=9, k=1, max_cells=10_000)
    assert err.value.cells > 10_000
    everyone = demo_store.incident_points(IncidentFilter(), _all_viewer(), columns=("id", "precision"))
    expected = int((everyone["precision"] != "point").sum())
    assert placed_by_name(demo_store, IncidentFilter(), _all_viewer()) == expected > 0


def _all_viewer():
    from storage.queries import Viewer

    return Viewer(can_see_sensitive=True)


def test_tables_export_to_csv_and_geojson(demo_store):
    import json

    from exchange.hotspots import to_bytes

    table = run_hotspots(demo_store, IncidentFilter(units=(("subprefecture", "GN-C-KALOUM"),)), resolution=8).table
    csv, mime = to_bytes(table, "csv")
    assert mime == "text/csv" and csv.startswith(b"\xef\xbb\xbfcell,count,gi_z")
    geo = json.loads(to_bytes(table, "geojson")[0])
    assert len(geo["features"]) == len(table)
    assert geo["features"][0]["geometry"]["type"] == "Polygon"
    with pytest.raises(ValueError):
        to_bytes(table, "xlsx")
