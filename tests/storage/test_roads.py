"""Road networks and crash reads in the store, on SQLite and PostGIS (see tests/conftest.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import geopandas as gpd
import shapely

from storage import Store
from storage.roads import CrashFilter, road_rows

UTC = dt.UTC


def _roads() -> gpd.GeoDataFrame:
    """Three short roads near Conakry; one crosses a query box, one only touches its corner."""
    return gpd.GeoDataFrame({
        "name": ["Autoroute Fidel Castro", None, "Route Le Prince"],
        "ref": [None, "RN1", "  "],
        "road_class": ["trunk", "trunk", None],
        "length_m": [5_000.0, 12_000.0, 3_000.0],
    }, geometry=[
        shapely.LineString([(-13.70, 9.51), (-13.65, 9.55), (-13.60, 9.56)]),
        shapely.LineString([(-13.49, 9.70), (-13.38, 9.72)]),
        shapely.LineString([(-13.66, 9.55, 12.0), (-13.62, 9.60, 15.0)]),  # Z is dropped
    ], crs="EPSG:4326")


def _crashes() -> pd.DataFrame:
    return pd.DataFrame({
        "occurred_at": pd.to_datetime(["2026-01-05 17:45", "2026-02-11 07:10", "2026-03-01 00:00",
                                       "2026-03-15 12:00"], utc=True),
        "severity": ["fatal", "slight", "serious", "slight"], "killed": [1, 0, 0, 0], "injured": [2, 1, 3, 1],
        "road_name": ["RN1", None, "RN3", "RN1"],
        "lon": [-13.38, -13.65, -13.49, np.nan], "lat": [9.72, 9.55, 9.70, np.nan],
        "region_id": ["GN-D", "GN-C", "GN-D", None], "prefecture_id": ["GN-CO", "GN-C", "GN-CO", None],
        "subprefecture_id": ["GN-CO-COYAH-CENTRE", "GN-C-MATOTO", "GN-CO-MANEAH", None],
    })


def test_write_and_read_back_a_network(store: Store) -> None:
    roads = _roads()
    batch = store.write_roads(roads, file_name="routes.geojson", file_sha256="ab" * 32, file_format="geojson",
                              n_rows=4, created_by="agent")
    batches = store.batches(kind="roads")
    assert batches["id"].tolist() == [batch]
    assert batches[["n_rows", "n_imported", "n_queued"]].iloc[0].tolist() == [4, 3, 0]
    assert batches["file_format"][0] == "geojson"
    got = store.road_network()
    assert store.road_network_batch() == batch
    assert list(got.columns) == ["id", "name", "ref", "road_class", "length_m", "batch_id", "is_demo", "geometry"]
    assert got.crs.equals("EPSG:4326")
    assert got["name"].tolist()[:1] == ["Autoroute Fidel Castro"] and pd.isna(got["name"][1])
    assert got["ref"][1] == "RN1" and pd.isna(got["ref"][2])  # blank text is stored as missing
    assert got["length_m"].tolist() == [5_000.0, 12_000.0, 3_000.0]
    assert (got["batch_id"] == batch).all() and not got["is_demo"].any()
    expected = shapely.force_2d(np.asarray(roads.geometry.array))
    assert all(a.equals_exact(b, 0) for a, b in zip(got.geometry, expected, strict=True))
    assert not shapely.has_z(got.geometry.to_numpy()).any()
    rows = store.read("road")
    assert rows[["min_lon", "min_lat", "max_lon", "max_lat"]].iloc[0].tolist() == [-13.70, 9.51, -13.60, 9.56]


def test_bbox_query(store: Store) -> None:
    store.write_roads(_roads())
    box = (-13.63, 9.50, -13.50, 9.70)  # crosses road 0's box, contains part of road 2, misses RN1
    assert store.road_network(bbox=box)["ref"].fillna("").tolist() == ["", ""]
    assert store.road_network(bbox=(-13.49, 9.72, -13.0, 10.0))["ref"].tolist() == ["RN1"]  # corner touches
    assert store.road_network(bbox=(-12.0, 9.0, -11.0, 10.0)).empty
    assert len(store.road_network(bbox=(-15.0, 7.0, -7.0, 13.0))) == 3
    with pytest.raises(ValueError, match="bbox"):
        store.road_network(bbox=(-13.0, 9.0, -14.0, 10.0))


def test_latest_network_undo_and_demo_fallback(store: Store) -> None:
    assert store.road_network_batch() is None
    assert store.road_network().empty and list(store.road_network().columns)[-1] == "geometry"
    demo_roads = road_rows(_roads().iloc[:1])
    store.replace_demo({"road": demo_roads})
    demo_batch = store.road_network_batch()
    assert demo_batch is not None and store.road_network()["is_demo"].all()
    assert store.road_network_batch(include_demo=False) is None
    first = store.write_roads(_roads())
    second = store.write_roads(_roads().iloc[1:])
    assert store.road_network_batch() == second
    assert len(store.road_network()) == 2 and len(store.road_network(batch_id=first)) == 3
    assert store.undo_batch(second) == 2
    assert store.road_network_batch() == first
    assert store.undo_batch(first) == 3
    assert store.road_network_batch() == demo_batch
    assert store.counts()["road"] == 1
    store.replace_demo({})
    assert store.road_network_batch() is None and store.counts()["road"] == 0


def test_write_is_checked_and_atomic(store: Store) -> None:
    bad = _roads()
    bad.loc[1, "geometry"] = shapely.Point(-13.5, 9.7)
    with pytest.raises(ValueError, match="LineString"):
        store.write_roads(bad)
    with pytest.raises(ValueError, match="EPSG:4326"):
        store.write_roads(_roads().to_crs(32628))
    with pytest.raises(ValueError, match="length_m"):
        store.write_roads(_roads().drop(columns="length_m"))
    far = _roads()
    far.loc[0, "geometry"] = shapely.LineString([(200.0, 9.0), (201.0, 9.0)])
    with pytest.raises(ValueError, match="longitude"):
        store.write_roads(far)
    assert store.counts()["road"] == 0 and store.batches(kind="roads").empty


def test_crash_filter(store: Store) -> None:
    store.write({"road_crash": _crashes()}, kind="crashes")
    store.replace_demo({"road_crash": _crashes().iloc[:1]})
    everything = store.crashes()
    assert len(everything) == 5
    assert everything["occurred_at"].dtype == "datetime64[us, UTC]"
    assert everything["occurred_at"].is_monotonic_increasing
    assert everything["killed"].dtype == "Int64" and everything["lon"].dtype == "float64"
    real = CrashFilter(include_demo=False)
    assert len(store.crashes(real)) == 4
    march = CrashFilter(start=dt.datetime(2026, 3, 1, tzinfo=UTC), end=dt.datetime(2026, 3, 15, 12, tzinfo=UTC),
                        include_demo=False)
    assert store.crashes(march)["severity"].tolist() == ["serious"]  # start inclusive, end exclusive
    coyah = CrashFilter(units=(("prefecture", "GN-CO"), ("subprefecture", "GN-C-MATOTO")), include_demo=False)
    assert len(store.crashes(coyah)) == 3
    box = CrashFilter(bbox=(-13.5, 9.6, -13.3, 9.8), include_demo=False)
    assert store.crashes(box)["road_name"].tolist() == ["RN1", "RN3"]
    assert store.crashes(CrashFilter(severities=("fatal",)))["is_demo"].tolist() == [False, True]
    assert list(store.crashes(columns=["id", "severity"]).columns) == ["id", "severity"]
    with pytest.raises(ValueError, match="severity"):
        CrashFilter(severities=("deadly",))
    with pytest.raises(ValueError, match="colour"):
        store.crashes(columns=["colour"])


def test_postgis_generated_line_geometry(postgis_store: Store) -> None:
    postgis_store.write_roads(_roads())
    with postgis_store.engine.connect() as conn:
        kind, srid = conn.execute(sa.text(
            "SELECT GeometryType(geom), ST_SRID(geom) FROM road ORDER BY id LIMIT 1")).one()
        assert (kind, srid) == ("LINESTRING", 4326)
        metres = conn.execute(sa.text("SELECT ST_Length(geom::geography) FROM road ORDER BY id")).scalars().all()
        index = conn.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_road_geom'")).scalar()
    assert "USING gist (geom)" in index
    assert metres[1] == pytest.approx(12_200, rel=0.02)  # RN1 piece, about 12.2 km
