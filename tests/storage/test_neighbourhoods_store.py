"""Neighbourhoods in the store, on SQLite and PostGIS (see tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import geopandas as gpd
import shapely

from geo.neighbourhoods import NeighbourhoodError, parents
from storage import Store
from storage.neighbourhoods import NEIGHBOURHOOD_COLUMNS, PLACE_COLUMNS, neighbourhood_rows

MADINA = shapely.box(-13.665, 9.541, -13.660, 9.545)  # Matam
KOLOMA = shapely.MultiPolygon([shapely.box(-13.600, 9.650, -13.595, 9.655),
                               shapely.box(-13.590, 9.650, -13.585, 9.655, ccw=False)])  # Ratoma, two parts
STRADDLING = shapely.box(-13.6851, 9.5301, -13.6791, 9.5361)  # Dixinn / Matam
KIPE_3D = shapely.Polygon([(-13.64, 9.60, 5.0), (-13.63, 9.60, 5.0), (-13.63, 9.61, 6.0), (-13.64, 9.60, 5.0)])


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["Madina", " Koloma  II ", "Kipé"],
                             "alt_names": ["Grand Marché|Madina Marché", None, "  "]},
                            geometry=[MADINA, KOLOMA, KIPE_3D], crs="EPSG:4326")


def test_write_read_back_and_undo(store: Store) -> None:
    batch = store.write_neighbourhoods(_frame(), file_name="quartiers.geojson", file_sha256="cd" * 32,
                                       file_format="geojson", n_rows=5, created_by="agent")
    batches = store.batches(kind="neighbourhoods")
    assert batches["id"].tolist() == [batch]
    assert batches[["n_rows", "n_imported", "n_queued"]].iloc[0].tolist() == [5, 3, 0]
    got = store.neighbourhoods()
    assert list(got.columns) == [*NEIGHBOURHOOD_COLUMNS, "geometry"] and got.crs.equals("EPSG:4326")
    assert got["name"].tolist() == ["Madina", "Koloma II", "Kipé"]  # blanks squeezed
    assert got["unit_id"].tolist() == [f"NB-{i}" for i in got["id"]]
    assert got["alt_names"][0] == "Grand Marché|Madina Marché" and pd.isna(got["alt_names"][2])
    assert got["subprefecture_id"].tolist() == ["GN-C-MATAM", "GN-C-RATOMA", "GN-C-RATOMA"]
    assert set(got["prefecture_id"]) == {"GN-C"} and set(got["region_id"]) == {"GN-C"}
    assert (got["batch_id"] == batch).all() and not got["is_demo"].any()
    expected = shapely.force_2d(np.asarray(_frame().geometry.array))
    assert all(a.equals_exact(b, 0) for a, b in zip(got.geometry, expected, strict=True))
    assert got.geometry.iloc[1].geom_type == "MultiPolygon" and not shapely.has_z(got.geometry.to_numpy()).any()
    np.testing.assert_allclose(got["area_km2"][:2], [0.242799, 0.606842], rtol=1e-4)
    assert got.dtypes["area_km2"] == "float64" and got.dtypes["source_row"] == "Int64"
    rows = store.read("neighbourhood")
    assert rows[["min_lon", "min_lat", "max_lon", "max_lat"]].iloc[0].tolist() == list(MADINA.bounds)

    assert store.neighbourhoods(subprefecture_id="GN-C-RATOMA")["name"].tolist() == ["Koloma II", "Kipé"]
    assert store.neighbourhoods(subprefecture_id=["GN-C-MATAM", "GN-C-KALOUM"])["name"].tolist() == ["Madina"]
    assert store.neighbourhoods(batch_id=batch + 1).empty
    assert store.undo_batch(batch) == 3
    empty = store.neighbourhoods()
    assert empty.empty and list(empty.columns) == [*NEIGHBOURHOOD_COLUMNS, "geometry"]


def test_bbox_query_same_answer_on_both_backends(store: Store) -> None:
    store.write_neighbourhoods(_frame())
    assert store.neighbourhoods(bbox=(-13.70, 9.50, -13.62, 9.56))["name"].tolist() == ["Madina"]
    assert store.neighbourhoods(bbox=(-13.585, 9.655, -13.5, 9.7))["name"].tolist() == ["Koloma II"]  # corner
    assert store.neighbourhoods(bbox=(-12.0, 9.0, -11.0, 10.0)).empty
    assert len(store.neighbourhoods(bbox=(-15.0, 7.0, -7.0, 13.0))) == 3
    with pytest.raises(ValueError, match="bbox"):
        store.neighbourhoods(bbox=(-13.0, 9.0, -14.0, 10.0))


def test_add_a_drawn_shape(store: Store) -> None:
    drawn = {"type": "Feature", "properties": {},
             "geometry": {"type": "Polygon", "coordinates": [list(map(list, STRADDLING.exterior.coords))]}}
    batch = store.add_neighbourhood("Belle-Vue", drawn, created_by="maire")
    got = store.neighbourhoods()
    assert got["name"].tolist() == ["Belle-Vue"] and got["flags"].tolist() == ["straddles_communes"]
    assert got["subprefecture_id"][0] == "GN-C-DIXINN" and 0.45 < got["overlap_share"][0] < 0.55
    batches = store.batches(kind="neighbourhoods")
    assert batches["file_format"].tolist() == ["drawn"] and batches["created_by"].tolist() == ["maire"]
    with pytest.raises(NeighbourhoodError) as err:  # same name, same commune, any spelling
        store.add_neighbourhood("BELLE VUE", STRADDLING.buffer(0.001))
    assert err.value.codes == ("neighbourhood_exists",)
    store.add_neighbourhood("Belle-Vue", MADINA)  # the same name in another commune is another quartier
    with pytest.raises(NeighbourhoodError) as err:
        store.add_neighbourhood(" ", shapely.box(-14.6, 9.0, -14.5, 9.1))
    assert err.value.codes == ("neighbourhood_outside_guinea", "name_missing")
    assert store.undo_batch(batch) == 1
    assert store.neighbourhoods()["subprefecture_id"].tolist() == ["GN-C-MATAM"]


def test_places_for_the_gazetteer_and_names_taken(store: Store) -> None:
    assert list(store.neighbourhood_places().columns) == list(PLACE_COLUMNS)
    store.write_neighbourhoods(_frame())
    places = store.neighbourhood_places()
    assert list(places.columns) == list(PLACE_COLUMNS)
    stored = store.neighbourhoods()
    assert places["unit_id"].tolist() == stored["unit_id"].tolist()
    np.testing.assert_array_equal(places[["label_lon", "label_lat"]], stored[["label_lon", "label_lat"]])
    inside = shapely.contains_xy(stored.geometry.to_numpy(), places["label_lon"], places["label_lat"])
    assert inside.all()
    taken = store.neighbourhood_names_taken([("MADINA", "GN-C-MATAM"), ("Madina", "GN-C-KALOUM"),
                                             ("kipe", "GN-C-RATOMA")])
    assert taken == {("madina", "GN-C-MATAM"), ("kipe", "GN-C-RATOMA")}


def test_stored_row_gives_its_parents(store: Store) -> None:
    store.write_neighbourhoods(_frame())
    row = store.neighbourhoods().iloc[0]
    assert [(p.level, p.unit_id) for p in parents(row)] == [
        ("subprefecture", "GN-C-MATAM"), ("prefecture", "GN-C"), ("region", "GN-C")]


def test_rows_are_checked_before_writing(store: Store) -> None:
    bad_geometry = _frame().set_geometry([MADINA, shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), MADINA])
    with pytest.raises(ValueError, match=r"row\(s\) \[1\]"):
        store.write_neighbourhoods(bad_geometry)
    nameless = _frame().assign(name=["Madina", None, ""])
    with pytest.raises(ValueError, match=r"name; row\(s\) \[1, 2\]"):
        store.write_neighbourhoods(nameless)
    at_sea = _frame().set_geometry([MADINA, shapely.box(-14.6, 9.0, -14.5, 9.1), MADINA])
    with pytest.raises(ValueError, match="overlap Guinea"):
        store.write_neighbourhoods(at_sea)
    with pytest.raises(ValueError, match="EPSG:4326"):
        store.write_neighbourhoods(_frame().to_crs(32628))
    with pytest.raises(TypeError):
        neighbourhood_rows(pd.DataFrame({"name": ["x"]}))
    assert store.counts()["neighbourhood"] == 0 and store.batches(kind="neighbourhoods").empty


@pytest.mark.postgis
def test_postgis_generated_geometry(postgis_store: Store) -> None:
    postgis_store.write_neighbourhoods(_frame())
    with postgis_store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT name, ST_GeometryType(geom), ST_SRID(geom), ST_Area(geom::geography) / 1e6, "
            "ST_Contains(geom, ST_SetSRID(ST_MakePoint(label_lon, label_lat), 4326)) FROM neighbourhood ORDER BY id"
        )).all()
        indexdef = conn.execute(sa.text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'neighbourhood' AND indexdef LIKE '%geom%'")
        ).scalar_one()
    assert [r[1] for r in rows] == ["ST_Polygon", "ST_MultiPolygon", "ST_Polygon"]
    assert {r[2] for r in rows} == {4326} and all(r[4] for r in rows)
    stored = postgis_store.neighbourhoods()
    np.testing.assert_allclose([r[3] for r in rows], stored["area_km2"], rtol=5e-3)  # geodesic vs UTM
    assert "USING gist (geom)" in indexdef


@pytest.mark.postgis
def test_backends_return_identical_frames(sqlite_store: Store, postgis_store: Store) -> None:
    for s in (sqlite_store, postgis_store):
        s.write_neighbourhoods(_frame(), file_name="same.geojson")
        s.add_neighbourhood("Belle-Vue", STRADDLING)
    a, b = sqlite_store.neighbourhoods(), postgis_store.neighbourhoods()
    assert a.dtypes.equals(b.dtypes)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"), check_exact=True)
    assert all(x.equals_exact(y, 0) for x, y in zip(a.geometry, b.geometry, strict=True))
    pd.testing.assert_frame_equal(sqlite_store.neighbourhood_places(), postgis_store.neighbourhood_places())
