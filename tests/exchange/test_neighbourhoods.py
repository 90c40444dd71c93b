"""Neighbourhood files (GeoJSON, GeoPackage, zipped Shapefile, KML, KMZ) and drawn shapes, near Conakry."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import geopandas as gpd
import shapely
from shapely.geometry import mapping

from exchange.neighbourhoods import (
    NeighbourhoodFileError,
    ReadError,
    check_drawn,
    import_neighbourhoods,
    issue_text,
    read_neighbourhoods,
    shape_messages,
)
from geo.boundaries import load_units
from geo.neighbourhoods import assign_subprefectures, check_shape, clean_polygons, parents
from i18n import Translator
from storage import Store

MADINA = shapely.box(-13.665, 9.541, -13.660, 9.545)  # inside Matam
STRADDLING = shapely.box(-13.6851, 9.5301, -13.6791, 9.5361)  # on the Dixinn / Matam border, about half each
KOLOMA = shapely.MultiPolygon([shapely.box(-13.600, 9.650, -13.595, 9.655),
                               shapely.box(-13.590, 9.650, -13.585, 9.655)])  # two parts in Ratoma
BOWTIE = shapely.Polygon([(-13.58, 9.66), (-13.57, 9.67), (-13.57, 9.66), (-13.58, 9.67), (-13.58, 9.66)])
AT_SEA = shapely.box(-14.6, 9.0, -14.5, 9.1)
BAMAKO = shapely.box(-8.01, 12.61, -8.0, 12.62)  # Mali
COAST = shapely.box(-13.725, 9.495, -13.705, 9.505)  # Kaloum, about four fifths over the sea
EN = Translator("en")


def _frame(name_column: str = "nom_quartier") -> gpd.GeoDataFrame:
    """Features 1..7: good, straddling, multi-part, bow-tie, at sea, in Mali, without a name."""
    return gpd.GeoDataFrame({
        name_column: ["Madina", "Belle-Vue", "Koloma", "Hamdallayé", "Large", "Bamako", None],
        "autre_nom": ["Madina Marché;Grand Marché", None, None, None, None, None, None],
    }, geometry=[MADINA, STRADDLING, KOLOMA, BOWTIE, AT_SEA, BAMAKO, shapely.box(-13.6, 9.6, -13.59, 9.61)],
        crs="EPSG:4326")


def _geojson(frame: gpd.GeoDataFrame) -> bytes:
    return frame.to_json().encode()


def _gpkg(frame: gpd.GeoDataFrame, tmp_path: Path) -> bytes:
    path = tmp_path / "quartiers.gpkg"
    frame.to_file(path, driver="GPKG", layer="quartiers")
    return path.read_bytes()


def _zipped_shapefile(frame: gpd.GeoDataFrame, tmp_path: Path) -> bytes:
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.rename(columns={"nom_quartier": "quartier"}).to_file(folder / "quartiers.shp")  # 10-character names
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, f"donnees/{part.name}")
    return buf.getvalue()


def _ring(geom: shapely.Polygon) -> str:
    return " ".join(f"{x},{y},0" for x, y in geom.exterior.coords)


def _placemark(name: object, geom: shapely.Geometry) -> str:
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    body = "".join(f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{_ring(p)}</coordinates></LinearRing>"
                   f"</outerBoundaryIs></Polygon>" for p in polys)
    if len(polys) > 1:
        body = f"<MultiGeometry>{body}</MultiGeometry>"
    label = f"<name>{name}</name>" if isinstance(name, str) else ""
    return f"<Placemark>{label}{body}</Placemark>"


def _kml(frame: gpd.GeoDataFrame, name_column: str = "nom_quartier", doctype: str = "") -> bytes:
    """The features in two folders, as Google Earth saves them."""
    marks = [_placemark(n, g) for n, g in zip(frame[name_column], frame.geometry, strict=True)]
    folders = (f"<Folder><name>Conakry</name>{''.join(marks[:3])}</Folder>"
               f"<Folder><name>Autres</name>{''.join(marks[3:])}</Folder>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<kml xmlns="http://www.opengis.net/kml/2.2">'
            f"<Document><name>Quartiers</name>{folders}</Document></kml>").encode()


def _kmz(frame: gpd.GeoDataFrame) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", _kml(frame))
    return buf.getvalue()


def _naive_assignment(geom: shapely.Geometry) -> tuple[str | None, float]:
    """Reference: every sub-prefecture, both shapes projected to UTM 28N first, then intersected."""
    subs = load_units("subprefecture").to_crs(32628)
    shape = gpd.GeoSeries([geom], crs=4326).to_crs(32628).iloc[0]
    areas = np.array([shapely.intersection(shape, s).area for s in subs.geometry])
    if areas.max() <= 0:
        return None, 0.0
    return subs["unit_id"].iloc[int(areas.argmax())], float(areas.max() / areas.sum())


# --- formats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shapefile", "kml", "kmz"])
def test_every_format_gives_the_same_neighbourhoods(fmt: str, tmp_path: Path) -> None:
    frame = _frame()
    data = {"geojson": lambda: _geojson(frame), "gpkg": lambda: _gpkg(frame, tmp_path),
            "shapefile": lambda: _zipped_shapefile(frame, tmp_path), "kml": lambda: _kml(frame),
            "kmz": lambda: _kmz(frame)}[fmt]()
    result = read_neighbourhoods(data, f"quartiers.{fmt}")
    got, report = result.neighbourhoods, result.report
    assert report.file_format == fmt and report.features == 7 and report.kept == 4
    assert got["name"].tolist() == ["Madina", "Belle-Vue", "Koloma", "Hamdallayé"]
    assert got["source_row"].tolist() == [1, 2, 3, 4]
    assert got["subprefecture_id"].tolist() == ["GN-C-MATAM", "GN-C-DIXINN", "GN-C-RATOMA", "GN-C-RATOMA"]
    assert set(got["prefecture_id"]) == {"GN-C"} and set(got["region_id"]) == {"GN-C"}
    assert report.dropped == {"name_missing": 1, "neighbourhood_outside_guinea": 2}
    assert report.flagged == {"geometry_repaired": 1, "straddles_communes": 1}
    assert [(i.feature, i.code) for i in report.issues] == [
        (2, "straddles_communes"), (4, "geometry_repaired"), (5, "neighbourhood_outside_guinea"),
        (6, "neighbourhood_outside_guinea"), (7, "name_missing")]
    assert got.crs.equals("EPSG:4326") and not shapely.has_z(got.geometry.to_numpy()).any()
    # one unit per feature: the two-part quartier stays one MultiPolygon, the bow-tie becomes two triangles
    assert got.geometry.iloc[2].geom_type == "MultiPolygon" and len(got.geometry.iloc[2].geoms) == 2
    assert got.geometry.iloc[3].geom_type == "MultiPolygon" and got.geometry.is_valid.all()
    np.testing.assert_allclose(got.geometry.iloc[3].area, 0.5 * 0.01 * 0.01, rtol=1e-9)
    np.testing.assert_allclose(got.geometry.iloc[2].area, KOLOMA.area, rtol=1e-9)
    if fmt in ("kml", "kmz"):
        assert report.layers == ("Conakry", "Autres")  # every folder read, features numbered on
    else:
        assert got["alt_names"].iloc[0] == "Madina Marché|Grand Marché"


def test_kml_with_a_doctype_is_refused_before_gdal_reads_it() -> None:
    doctype = '<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    with pytest.raises(NeighbourhoodFileError) as err:
        read_neighbourhoods(_kml(_frame(), doctype=doctype), "piege.kml")
    assert err.value.code == "kml_unsafe"


def test_utf16_kml_inside_a_kmz_is_not_handed_to_gdal() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("doc.kml", _kml(_frame()).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
                         .encode("utf-16"))
    with pytest.raises(ReadError) as err:
        read_neighbourhoods(buf.getvalue(), "q.kmz")
    assert err.value.code == "unknown_format"


def test_every_code_has_a_sentence() -> None:
    from exchange.neighbourhoods import DROP_REASONS, ERROR_CODES, FLAG_CODES
    from geo.neighbourhoods import SHAPE_ERRORS, SHAPE_WARNINGS
    from i18n.reasons import MESSAGES

    codes = {*DROP_REASONS, *FLAG_CODES, *ERROR_CODES, *SHAPE_ERRORS, *SHAPE_WARNINGS, "neighbourhood_exists"}
    assert sorted(codes - set(MESSAGES)) == []


def test_reprojected_geopackage_lands_in_the_same_units(tmp_path: Path) -> None:
    utm = _frame().to_crs(32628)
    result = read_neighbourhoods(_gpkg(utm, tmp_path), "quartiers.gpkg")
    assert "reprojected" in result.report.notes and result.report.source_crs.endswith("32628")
    assert result.neighbourhoods["subprefecture_id"].tolist()[:2] == ["GN-C-MATAM", "GN-C-DIXINN"]
    np.testing.assert_allclose(result.neighbourhoods.geometry.iloc[0].bounds, MADINA.bounds, atol=1e-9)


def test_assignment_matches_a_naive_reference() -> None:
    shapes = [MADINA, STRADDLING, KOLOMA, COAST, AT_SEA]
    got = assign_subprefectures(clean_polygons(shapes).geometry)
    for row, shape in zip(got.itertuples(), shapes, strict=True):
        unit, share = _naive_assignment(shape)
        assert row.subprefecture_id == unit
        np.testing.assert_allclose(row.overlap_share, share, atol=1e-4)
    assert 0.45 < got["overlap_share"][1] < 0.55  # about half in Dixinn
    assert got["overlap_share"][3] == 1.0 and got["inside_share"][3] < 0.3  # the sea is not another commune
    # the label point is inside the shape and inside the sub-prefecture it joined
    from geo.boundaries import locate

    found = locate(got["label_lon"][:4], got["label_lat"][:4])
    assert found["subprefecture_id"].tolist() == got["subprefecture_id"][:4].tolist()
    assert shapely.contains_xy(STRADDLING, got["label_lon"][1], got["label_lat"][1])


def test_partly_outside_multipart_and_same_name_merge() -> None:
    frame = gpd.GeoDataFrame({"name": ["Boulbinet", "Sangoyah", "Sangoyah"]}, geometry=[
        COAST, shapely.box(-13.600, 9.650, -13.595, 9.655), shapely.box(-13.590, 9.650, -13.585, 9.655)],
        crs="EPSG:4326")
    result = read_neighbourhoods(_geojson(frame), "q.geojson")
    got, report = result.neighbourhoods, result.report
    assert got["name"].tolist() == ["Boulbinet", "Sangoyah"] and report.kept == 2
    assert got["flags"].tolist() == ["partly_outside_guinea", "merged_same_name"]
    assert got.geometry.iloc[1].geom_type == "MultiPolygon"  # both rows of Sangoyah, one unit
    np.testing.assert_allclose(got["area_km2"].iloc[1], 0.303420 + 0.303422, rtol=1e-4)
    merged = [i for i in report.issues if i.code == "merged_same_name"]
    assert [(i.feature, i.other) for i in merged] == [(3, 2)]
    assert issue_text(EN, merged[0]) == ("Feature 3 (Sangoyah): merged with feature 2, which has the same name "
                                         "in the same commune")
    coast = next(i for i in report.issues if i.code == "partly_outside_guinea")
    assert issue_text(EN, coast) == ("Feature 1 (Boulbinet): partly outside Guinea: only 22 % of its area lies "
                                     "inside the country")


def test_non_polygon_features_and_empty_and_unreadable_are_dropped_with_reasons() -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"quartier": "Kipé"}, "geometry": mapping(MADINA)},
        {"type": "Feature", "properties": {"quartier": "Borne"}, "geometry": {"type": "Point",
                                                                             "coordinates": [-13.6, 9.6]}},
        {"type": "Feature", "properties": {"quartier": "Rien"}, "geometry": None},
        {"type": "Feature", "properties": {"quartier": "Plat"},
         "geometry": {"type": "Polygon", "coordinates": [[[-13.6, 9.6], [-13.59, 9.6], [-13.58, 9.6],
                                                          [-13.6, 9.6]]]}},
    ]}
    result = read_neighbourhoods(json.dumps(doc).encode(), "q.geojson")
    assert result.neighbourhoods["name"].tolist() == ["Kipé"]
    assert result.report.columns["name"] == "quartier"
    assert result.report.dropped == {"geometry_missing": 1, "not_a_polygon": 1, "polygon_degenerate": 1}
    assert issue_text(EN, result.report.issues[0]) == "Feature 2 (Borne): not a polygon (point or line)"


def test_file_level_errors() -> None:
    points = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(-13.6, 9.6)], crs="EPSG:4326")
    with pytest.raises(NeighbourhoodFileError) as err:
        read_neighbourhoods(_geojson(points), "p.geojson")
    assert err.value.code == "not_a_polygon_layer"
    outside = gpd.GeoDataFrame({"name": ["Large"]}, geometry=[AT_SEA], crs="EPSG:4326")
    with pytest.raises(NeighbourhoodFileError) as err:
        read_neighbourhoods(_geojson(outside), "o.geojson")
    assert err.value.code == "no_neighbourhoods_kept" and "neighbourhood_outside_guinea: 1" in err.value.detail
    with pytest.raises(ReadError) as err:
        read_neighbourhoods(b"date;categorie\n2024-01-01;vol\n", "x.csv")
    assert err.value.code == "unknown_format"


# --- name column ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Nom_Quartier", "QUARTIER", "name", "NOM", "Secteur", "district", "NOM_QRT",
                                    "Quartier_1"])
def test_name_column_is_found(header: str) -> None:
    frame = gpd.GeoDataFrame({"code": ["Q1"], "population": [1200], header: ["Madina"]}, geometry=[MADINA],
                             crs="EPSG:4326")
    result = read_neighbourhoods(_geojson(frame), "q.geojson")
    assert result.report.columns["name"] == header and result.neighbourhoods["name"].tolist() == ["Madina"]


def test_no_name_column_is_an_error_unless_named() -> None:
    frame = gpd.GeoDataFrame({"code": ["Q1"], "libelle_court": ["Madina"]}, geometry=[MADINA], crs="EPSG:4326")
    with pytest.raises(NeighbourhoodFileError) as err:
        read_neighbourhoods(_geojson(frame), "q.geojson")
    assert err.value.code == "no_name_column"
    result = read_neighbourhoods(_geojson(frame), "q.geojson", name_column="libelle_court")
    assert result.neighbourhoods["name"].tolist() == ["Madina"]


# --- drawn shapes --------------------------------------------------------------------------------------


def _geojson_polygon(coords: list[tuple[float, float]]) -> dict:
    return {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [coords]}}


def test_drawn_shape_checks() -> None:
    good = check_drawn("Madina", _geojson_polygon(list(MADINA.exterior.coords)))
    assert good.ok and good.warnings == () and good.subprefecture_id == "GN-C-MATAM"
    assert good.geometry.equals(MADINA) and good.area_km2 == pytest.approx(0.2428, rel=1e-3)
    open_ring = check_drawn("Madina", _geojson_polygon(list(MADINA.exterior.coords)[:-1]))
    assert open_ring.errors == ("drawn_not_closed",)
    line = check_shape("Madina", shapely.LineString(list(MADINA.exterior.coords)[:-1]))
    assert line.errors == ("drawn_not_closed",)
    closed_line = check_shape("Madina", shapely.LineString(list(MADINA.exterior.coords)))
    assert closed_line.ok and closed_line.geometry.equals(MADINA)
    bowtie = check_shape("Hamdallayé", BOWTIE)
    assert bowtie.ok and bowtie.warnings == ("geometry_repaired",) and bowtie.geometry.is_valid
    assert check_shape("", MADINA).errors == ("name_missing",)
    assert check_shape("Large", AT_SEA).errors == ("neighbourhood_outside_guinea",)
    assert check_shape(None, AT_SEA).errors == ("neighbourhood_outside_guinea", "name_missing")
    assert check_shape("Borne", shapely.Point(-13.6, 9.6)).errors == ("not_a_polygon",)
    straddling = check_shape("Belle-Vue", STRADDLING.wkt)
    assert straddling.ok and straddling.warnings == ("straddles_communes",)
    errors, warnings = shape_messages(EN, straddling)
    assert errors == [] and warnings == ["straddles communes: only 51 % of its area lies in Dixinn, the commune "
                                         "it joins"]
    errors, _ = shape_messages(EN, open_ring)
    assert errors == ["the outline is not closed: finish the shape on its first point"]


def test_drawn_duplicate_and_file_reimport_against_the_store(sqlite_store: Store) -> None:
    result, batch = import_neighbourhoods(sqlite_store, _geojson(_frame()), "quartiers.geojson", created_by="agent")
    assert batch is not None and len(sqlite_store.neighbourhoods()) == 4
    assert sqlite_store.batches(kind="neighbourhoods")["n_rows"].tolist() == [7]
    again = check_drawn("MADINA", MADINA, store=sqlite_store)
    assert again.errors == ("neighbourhood_exists",)
    assert check_drawn("Madina", MADINA).ok  # without the store nothing is known
    with pytest.raises(NeighbourhoodFileError) as err:  # everything is there already
        import_neighbourhoods(sqlite_store, _geojson(_frame()), "quartiers.geojson")
    assert "neighbourhood_exists: 4" in err.value.detail
    sqlite_store.undo_batch(batch)
    second, _ = import_neighbourhoods(sqlite_store, _geojson(_frame()), "quartiers.geojson", dry_run=True)
    assert second.report.kept == 4


def test_parents_of_a_stored_row() -> None:
    row = {"subprefecture_id": "GN-C-MATAM", "prefecture_id": "GN-C", "region_id": "GN-C"}
    chain = parents(row)
    assert [(p.level, p.unit_id, p.name) for p in chain] == [
        ("subprefecture", "GN-C-MATAM", "Matam"), ("prefecture", "GN-C", "Conakry"), ("region", "GN-C", "Conakry")]
    assert [p.unit_id for p in parents({"subprefecture_id": "GN-KA-KANKAN-CENTRE"})] == [
        "GN-KA-KANKAN-CENTRE", "GN-KA", "GN-K"]
    with pytest.raises(ValueError, match="does not contain"):
        parents({**row, "prefecture_id": "GN-KA"})
    with pytest.raises(KeyError):
        parents({"subprefecture_id": "GN-NOWHERE"})
