"""Black spots from the store: the demo's planted black spots come first; files and CLI keep their promises."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import geopandas as gpd

from cli.main import app
from demo.crashes import PLANTED_BLACKSPOTS
from demo.generate import generate
from exchange.blackspots import NoRoadNetwork, run_blackspots, to_file
from geo.blackspots import SeverityWeights
from storage import Store, open_store
from storage.roads import CrashFilter

REQUIRED = {"rank", "road", "place", "fatal", "serious", "slight", "killed", "injured", "epdo", "trend"}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Store:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('black') / 'demo.db'}")
    store.replace_demo(generate(seed=2014, n_incidents=200))
    yield store
    store.dispose()


def _distance_m(lon, lat, lon0, lat0):
    return np.hypot((np.asarray(lon) - lon0) * 111_320 * np.cos(np.radians(lat0)), (np.asarray(lat) - lat0) * 110_570)


def _planted(row) -> str | None:
    """The planted black spot within 1 km of a ranked spot's centre, if any."""
    for spot in PLANTED_BLACKSPOTS:
        if _distance_m(row["lon"], row["lat"], spot["lon"], spot["lat"]) < 1_000:
            return spot["name"]
    return None


@pytest.mark.parametrize("method", ["cells", "roads"])
def test_planted_black_spots_come_first(demo_store, method):
    result = run_blackspots(demo_store, method=method)
    table = result.table
    assert result.n_crashes == 1200 and result.n_demo == 1200
    assert {_planted(table.iloc[0]), _planted(table.iloc[1])} == {s["name"] for s in PLANTED_BLACKSPOTS}
    # the first spot elsewhere scores far below them
    elsewhere = table[[_planted(r) is None for _, r in table.iterrows()]]
    assert elsewhere["epdo"].iloc[0] < 0.5 * table["epdo"].iloc[1]
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["epdo"].is_monotonic_decreasing
    assert REQUIRED <= set(table.columns)
    assert set(table["trend"]) <= {"increasing", "decreasing", "no trend"}
    assert table["place"].iloc[:2].str.endswith("Coyah").all()
    if method == "roads":
        assert result.road_batch is not None and result.unassigned["beyond_tolerance"] < 0.01 * 1200
        assert table["crashes"].sum() + sum(result.unassigned.values()) == 1200
        assert (table.geometry.geom_type == "LineString").all() and "segment_id" in table.columns
        assert (table["length_m"] <= 500 + 1e-6).all()
    else:
        assert table["crashes"].sum() == 1200 and (table.geometry.geom_type == "Polygon").all()
        assert table["cell"].str.match(r"^88[0-9a-f]{13}$").all()


def test_filters_weights_and_top(demo_store):
    coyah = CrashFilter(units=(("prefecture", "GN-CO"),))
    weights = SeverityWeights(fatal=50, serious=2, slight=1)
    result = run_blackspots(demo_store, coyah, method="roads", segment_m=250, tolerance_m=30, weights=weights,
                            top=5, period="quarter")
    table = result.table
    assert len(table) == 5 and (table["prefecture_id"] == "GN-CO").all()
    expected = table["fatal"] * 50 + table["serious"] * 2 + table["slight"]
    np.testing.assert_allclose(table["epdo"], expected)
    assert (table["length_m"] <= 250 + 1e-6).all()
    assert result.params["tolerance_m"] == 30 and result.weights == weights
    nothing = run_blackspots(demo_store, CrashFilter(include_demo=False))
    assert nothing.n_crashes == 0 and nothing.table.empty
    with pytest.raises(NoRoadNetwork):  # the demo network is demo data too
        run_blackspots(demo_store, CrashFilter(include_demo=False), method="roads")


def test_no_road_network_is_a_clear_error(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        store.write({"road_crash": pd.DataFrame({
            "occurred_at": pd.to_datetime(["2026-01-05"], utc=True), "severity": ["fatal"],
            "lon": [-13.5], "lat": [9.7]})}, kind="test")
        with pytest.raises(NoRoadNetwork):
            run_blackspots(store, method="roads")
        assert len(run_blackspots(store, method="cells").table) == 1
        with pytest.raises(ValueError, match="method"):
            run_blackspots(store, method="lines")
    finally:
        store.dispose()


def test_files(demo_store, tmp_path):
    result = run_blackspots(demo_store, method="roads", top=20)
    to_file(result, tmp_path / "bs.csv")
    csv = pd.read_csv(tmp_path / "bs.csv", encoding="utf-8-sig")
    assert len(csv) == 20 and REQUIRED | {"segment_id"} <= set(csv.columns) and "geometry" not in csv.columns
    to_file(result, tmp_path / "bs.geojson")
    back = gpd.read_file(tmp_path / "bs.geojson")
    assert len(back) == 20 and (back.geometry.geom_type == "LineString").all()
    cells = run_blackspots(demo_store, method="cells", k=1, top=3)
    to_file(cells, tmp_path / "cells.geojson")
    doc = json.loads((tmp_path / "cells.geojson").read_text())
    assert doc["features"][0]["geometry"]["type"] == "Polygon"
    assert {"cell", "gi_z", "gi_bin"} <= set(doc["features"][0]["properties"])
    with pytest.raises(ValueError, match="csv"):
        to_file(result, tmp_path / "bs.xlsx")


# --- command line ------------------------------------------------------------------------------------------


def _run(store: Store, *args: str):
    env = {"PROXIMITE_DATABASE_URL": str(store.engine.url)}
    return CliRunner().invoke(app, list(args), env=env)


def test_cli_blackspots(demo_store, tmp_path):
    out = tmp_path / "roads.csv"
    done = _run(demo_store, "blackspots", "--from", "2024-11-01", "--to", "2026-10-31", "--method", "roads",
                "--segment", "500", "--tolerance", "50", "--weights", "fatal=10,serious=5,slight=1", "--top", "10",
                "--out", str(out))
    assert done.exit_code == 0, done.output
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert len(table) == 10 and REQUIRED | {"segment_id"} <= set(table.columns)
    assert {_planted(table.iloc[0]), _planted(table.iloc[1])} == {s["name"] for s in PLANTED_BLACKSPOTS}
    assert "Coyah" in done.output
    cells = tmp_path / "cells.geojson"
    done = _run(demo_store, "blackspots", "--unit", "Coyah", "--resolution", "8", "--k", "1", "--out", str(cells))
    assert done.exit_code == 0, done.output
    written = gpd.read_file(cells)
    coyah = demo_store.crashes(CrashFilter(units=(("prefecture", "GN-CO"),)))
    assert written["crashes"].sum() == len(coyah) and written["prefecture_id"].iloc[0] == "GN-CO"
    for bad in (["--weights", "fatal=x"], ["--method", "lines"], ["--unit", "Atlantis"], ["--period", "week"]):
        done = _run(demo_store, "blackspots", *bad, "--out", str(tmp_path / "x.csv"))
        assert done.exit_code == 2, bad


def test_cli_roads_import(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    try:
        lines = tmp_path / "routes.geojson"
        gpd.GeoDataFrame({"nom": ["RN1", None]}, geometry=gpd.GeoSeries.from_wkt(
            ["LINESTRING (-13.49 9.70, -13.38 9.72)", "LINESTRING (2 48, 2.1 48.1)"]), crs=4326).to_file(lines)
        done = _run(store, "roads", "import", str(lines), "--json")
        assert done.exit_code == 0, done.output
        summary = json.loads(done.output)
        assert summary["imported"] == 1 and summary["dropped"] == {"road_outside_guinea": 1}
        assert summary["batch_id"] == store.road_network_batch()
        done = _run(store, "roads", "import", str(lines))
        assert done.exit_code == 0 and ("12,3 km" in done.output or "12.3 km" in done.output)
        points = tmp_path / "points.geojson"
        gpd.GeoDataFrame(geometry=gpd.GeoSeries.from_wkt(["POINT (-13.5 9.7)"]), crs=4326).to_file(points)
        done = _run(store, "roads", "import", str(points))
        assert done.exit_code == 2 and "points.geojson" in done.output and "(Point)" in done.output
        assert _run(store, "roads", "import", str(tmp_path / "missing.geojson")).exit_code == 2
        # no crashes and a network: an empty file, not an error; no network: exit 2
        done = _run(store, "blackspots", "--method", "roads", "--out", str(tmp_path / "empty.csv"))
        assert done.exit_code == 0, done.output
        store.undo_batch(store.road_network_batch())
        store.undo_batch(store.road_network_batch())
        done = _run(store, "blackspots", "--method", "roads", "--out", str(tmp_path / "none.csv"))
        assert done.exit_code == 2
    finally:
        store.dispose()
