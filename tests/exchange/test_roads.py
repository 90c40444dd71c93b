"""Reading road layers: GeoJSON, GeoPackage, zipped Shapefile; drops counted by reason; clear errors."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import geopandas as gpd
import shapely

from exchange.readers import ReadError
from exchange.roads import DROP_REASONS, RoadFileError, import_roads, read_roads, reason_text
from geo.blackspots import line_lengths_m
from i18n import Translator
from i18n.reasons import MESSAGES
from storage import open_store

A = [(-13.60, 9.60), (-13.50, 9.70)]
B = [(-13.40, 9.60), (-13.30, 9.70)]


def _feature(geometry, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _line(coords) -> dict:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def _geojson(features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_geojson_with_every_kind_of_bad_feature():
    data = _geojson([
        _feature(_line(A), nom="Route de Coyah", numero="RN1", highway="trunk"),  # 1 kept
        _feature(None, nom="sans géométrie"),  # 2 geometry_missing
        _feature(_line([]), nom="vide"),  # 3 geometry_empty
        _feature(_line(A[:1]), nom="un seul point"),  # 4 geometry_invalid
        _feature({"type": "Point", "coordinates": list(A[0])}, nom="borne"),  # 5 not_a_line
        _feature({"type": "MultiLineString", "coordinates": [[list(c) for c in A], [list(c) for c in B]]},
                 nom="double", numero=3),  # 6 kept twice
        _feature(_line([A[0], A[0]]), nom="nulle"),  # 7 zero_length
        _feature(_line([(2.0, 48.0), (2.1, 48.1)]), nom="Paris"),  # 8 road_outside_guinea
        _feature(_line([(-14.2, 8.6), (-13.6, 9.6)]), nom="depuis la mer"),  # 9 cut at the limit
        _feature(_line([(-13.2, 9.8), (-13.2, 9.9), (-13.1, 9.9)]), nom=""),  # 10 kept, no name
    ])
    layer = read_roads(data, "routes.geojson")
    roads, report = layer.roads, layer.report
    assert roads["source_row"].tolist() == [1, 6, 6, 9, 10]
    assert roads["name"].tolist()[:4] == ["Route de Coyah", "double", "double", "depuis la mer"]
    assert roads["name"].isna().tolist()[4]
    assert roads["ref"].tolist()[:3] == ["RN1", "3", "3"]
    assert roads["road_class"][0] == "trunk"
    assert report.columns == {"name": "nom", "ref": "numero", "road_class": "highway"}
    assert report.dropped == {"geometry_missing": 1, "not_a_line": 1, "geometry_empty": 1, "geometry_invalid": 1,
                              "zero_length": 1, "road_outside_guinea": 1}
    assert report.examples == {"geometry_missing": (2,), "not_a_line": (5,), "geometry_empty": (3,),
                               "geometry_invalid": (4,), "zero_length": (7,), "road_outside_guinea": (8,)}
    assert (report.features, report.kept, report.clipped) == (10, 5, 1)
    assert report.file_format == "geojson" and "clipped_to_guinea" in report.notes
    assert (roads.geometry.geom_type == "LineString").all() and roads.crs.equals("EPSG:4326")
    assert roads.geometry[1].equals(shapely.LineString(A)) and roads.geometry[2].equals(shapely.LineString(B))
    cut = roads.geometry[3]
    assert cut.length < shapely.LineString([(-14.2, 8.6), (-13.6, 9.6)]).length and cut.coords[-1] == (-13.6, 9.6)
    np.testing.assert_allclose(roads["length_m"], line_lengths_m(roads.geometry.to_numpy()))
    assert roads["length_m"][0] == pytest.approx(15_500, rel=0.02)
    assert report.length_km == pytest.approx(roads["length_m"].sum() / 1000)
    summary = report.summary()
    json.dumps(summary)
    assert summary["imported"] == 5 and summary["dropped_rows"]["zero_length"] == [7]


def test_geopackage_picks_the_line_layer_and_reprojects(tmp_path: Path):
    path = tmp_path / "reseau.gpkg"
    gpd.GeoDataFrame({"nom": ["poste"]}, geometry=[shapely.Point(A[0])], crs=4326).to_file(
        path, layer="postes", driver="GPKG")
    lines = gpd.GeoDataFrame({"Nom_Route": ["RN1", "RN3"], "Classe": ["nationale", "nationale"]},
                             geometry=[shapely.LineString(A), shapely.MultiLineString([A, B])], crs=4326)
    lines.to_crs(32628).to_file(path, layer="routes", driver="GPKG")
    layer = read_roads(path)
    assert layer.report.layer == "routes" and layer.report.file_format == "gpkg"
    assert set(layer.report.notes) >= {"other_layers_ignored", "reprojected"}
    assert layer.report.source_crs == "EPSG:32628"
    assert layer.roads["name"].tolist() == ["RN1", "RN3", "RN3"]
    assert layer.roads["road_class"].tolist() == ["nationale"] * 3
    np.testing.assert_allclose(np.asarray(layer.roads.geometry[0].coords), np.asarray(A), atol=1e-9)
    named = read_roads(path, layer="routes")
    assert len(named.roads) == 3
    with pytest.raises(RoadFileError) as err:
        read_roads(path, layer="postes")
    assert err.value.code == "not_a_line_layer"
    with pytest.raises(ReadError, match="pistes"):
        read_roads(path, layer="pistes")


def test_zipped_shapefile(tmp_path: Path):
    folder = tmp_path / "shp"
    folder.mkdir()
    gpd.GeoDataFrame({"NOM": ["Route du Niger", None], "NUMERO": [2.0, 5.0], "TYPE": ["urbaine", "piste"]},
                     geometry=[shapely.LineString(A), shapely.LineString(B)], crs=4326).to_file(
        folder / "routes.shp", driver="ESRI Shapefile")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"export/{file.name}")
    layer = read_roads(buffer.getvalue(), "routes.zip")
    assert layer.report.file_format == "shapefile" and layer.report.layer == "routes"
    assert layer.roads["ref"].tolist() == ["2", "5"]  # numbers read as floats come back as "2", not "2.0"
    assert layer.roads["name"][0] == "Route du Niger" and layer.roads["road_class"].tolist() == ["urbaine", "piste"]
    assert layer.roads.geometry[1].equals(shapely.LineString(B))


def test_points_are_not_a_road_network():
    data = _geojson([_feature({"type": "Point", "coordinates": list(c)}, nom="x") for c in A])
    with pytest.raises(RoadFileError) as err:
        read_roads(data, "points.geojson")
    assert err.value.code == "not_a_line_layer" and "Point" in err.value.detail
    text = reason_text(Translator("fr"), err.value.code)
    assert text and text != err.value.code


@pytest.mark.parametrize("data, error, code", [
    (_geojson([_feature(_line([(2.0, 48.0), (2.1, 48.1)]))]), RoadFileError, "no_roads_kept"),
    (b"date;categorie\n2026-01-01;vol\n", ReadError, "unknown_format"),
    (b"", ReadError, "empty_file"),
    (b"PK\x03\x04 not really a zip", ReadError, "bad_zip"),
    (b"{not json", ReadError, "unreadable"),
])
def test_clear_errors(data, error, code):
    with pytest.raises(error) as err:
        read_roads(data, "x")
    assert err.value.code == code


def test_every_code_has_a_message():
    t = Translator("en")
    for code in (*DROP_REASONS, "not_a_line_layer", "no_roads_kept", "reprojected", "clipped_to_guinea",
                 "crs_missing_assumed_wgs84", "other_layers_ignored"):
        assert code in MESSAGES and reason_text(t, code) != code
    assert reason_text(t, "bad_zip") == "damaged ZIP archive"  # falls back to the import messages


def test_import_stores_one_undoable_batch(tmp_path: Path):
    store = open_store(f"sqlite:///{tmp_path / 'roads.db'}")
    try:
        layer, batch = import_roads(store, _geojson([_feature(_line(A), name="RN1"), _feature(None)]), "r.geojson",
                                    created_by="agent")
        stored = store.road_network()
        assert store.road_network_batch() == batch and stored["name"].tolist() == ["RN1"]
        assert stored.geometry[0].equals(layer.roads.geometry[0])
        batches = store.batches(kind="roads")
        assert batches[["n_rows", "n_imported"]].iloc[0].tolist() == [2, 1]
        assert batches["file_sha256"][0] == layer.report.sha256
        store.undo_batch(batch)
        assert store.road_network_batch() is None
    finally:
        store.dispose()
