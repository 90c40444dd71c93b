"""Priorities imported from a file: Proximité's own export reads back, QGIS/Google Earth files work, and
every feature that does not fit is set aside with its number and reasons while nothing is half stored."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import shapely

from exchange.plan_files import (
    PriorityFileError,
    import_priorities,
    read_priority_file,
    set_aside_table,
)
from exchange.plans import plan_unit, priorities_geojson
from exchange.readers import ReadError
from geo.boundaries import load_units
from i18n import Translator
from storage.plans import PlanError

SQUARE = shapely.box(-13.664, 9.542, -13.662, 9.544)  # inside Matam
ROAD = shapely.LineString([(-13.660, 9.545), (-13.652, 9.548)])
MARKET = shapely.Point(-13.657, 9.546)
KANKAN = shapely.Point(-9.306, 10.385)


@pytest.fixture
def matam() -> shapely.Geometry:
    units = load_units("subprefecture")
    return units.loc[units["unit_id"] == "GN-C-MATAM"].geometry.iloc[0]


def _plan(store, title: str = "Plan de Matam") -> int:
    return store.create_plan(plan_unit("subprefecture", "GN-C-MATAM"), title=title,
                             period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31))


def _feature(geometry, **properties) -> dict:
    return {"type": "Feature", "properties": properties,
            "geometry": None if geometry is None else shapely.geometry.mapping(geometry)}


def _collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def test_the_priorities_export_of_a_plan_reads_back_into_another(store, matam):
    first = _plan(store)
    store.add_priority(first, {"title": "Marché <b>Madina</b>", "category": "vol", "raised_by": "women",
                               "description": "Vols à l'arraché"}, SQUARE, kind="area")
    store.add_priority(first, {"title": "Route Le Prince", "category": "road_safety", "raised_by": "youth"}, ROAD,
                       kind="line")
    store.add_priority(first, {"title": "Carrefour"}, MARKET, kind="point")
    exported = priorities_geojson(store.plan(first), store.plan_priorities(first), Translator("fr"))

    read = read_priority_file(exported, "priorites.geojson", unit=matam)
    assert (read.features, len(read.ready), read.set_aside) == (3, 3, ())
    assert read.columns["title"] == "title" and read.columns["raised_by"] == "raised_by"
    second = _plan(store, "Plan de Matam 2")
    import_priorities(store, second, read)
    got = store.plan_priorities(second)
    assert got["title"].tolist() == ["Marché <b>Madina</b>", "Route Le Prince", "Carrefour"]
    assert got["category"].fillna("").tolist() == ["vol", "road_safety", ""]
    assert got["raised_by"].fillna("").tolist() == ["women", "youth", ""]  # French labels read back to codes
    assert got["kind"].tolist() == ["area", "line", "point"] and got["rank"].tolist() == [1, 2, 3]
    assert got["source"].tolist() == ["imported"] * 3
    assert all(a.equals_exact(b, 1e-9) for a, b in zip(got.geometry, [SQUARE, ROAD, MARKET], strict=True))
    import_priorities(store, second, read)  # again: after the plan's own, never at the same rank
    assert store.plan_priorities(second)["rank"].tolist() == [1, 2, 3, 4, 5, 6]


def test_features_that_do_not_fit_are_set_aside_with_every_reason(matam):
    data = _collection(
        _feature(SQUARE, titre="Gare routière", categorie="Vol simple", souleve_par="Jeunes", rang=2),
        _feature(MARKET, titre=None, categorie="piraterie"),
        _feature(KANKAN, titre="Marché de Kankan"),
        _feature(None, titre="Sans forme"),
        _feature(ROAD, titre="Route", rang="0", souleve_par="les voisins"),
        _feature(shapely.box(-13.664, 9.542, -13.664, 9.544), titre="Plat"),
    )
    read = read_priority_file(data, "qgis.geojson", unit=matam)
    assert [f.feature for f in read.ready] == [1]
    assert read.ready[0].values == {"title": "Gare routière", "category": "vol", "raised_by": "youth", "rank": 2,
                                    "source": "imported"}
    reasons = {a.feature: a.codes for a in read.set_aside}
    assert reasons == {2: ("title_missing", "category_unknown"), 3: ("outside_unit",), 4: ("geometry_missing",),
                       5: ("raised_by_unknown", "rank_invalid"), 6: ("geometry_degenerate",)}
    table = set_aside_table(Translator("fr"), read)
    assert table.columns.tolist() == ["Élément", "Titre", "Pourquoi"]
    assert table["Élément"].tolist() == [2, 3, 4, 5, 6]
    why = dict(zip(table["Élément"], table["Pourquoi"], strict=True))
    assert "Catégorie non reconnue" in why[2] and "(piraterie)" in why[2] and "Pas de titre" in why[2]
    assert "en dehors de l'unité" in why[3] and "(les voisins)" in why[5]


def test_a_google_earth_kml_gives_its_placemarks_named(matam):
    kml = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>Priorités</name>
<Placemark><name>Marché Madina</name><description>Éclairage la nuit</description>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
{" ".join(f"{x},{y},0" for x, y in SQUARE.exterior.coords)}
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>Carrefour</name><Point><coordinates>{MARKET.x},{MARKET.y},0</coordinates></Point></Placemark>
</Folder></Document></kml>""".encode()
    read = read_priority_file(kml, "doc.kml", unit=matam)
    assert read.file_format == "kml" and read.set_aside == ()
    assert [(f.values["title"], f.kind) for f in read.ready] == [("Marché Madina", "area"), ("Carrefour", "point")]
    assert read.ready[0].values["description"] == "Éclairage la nuit"


def test_files_that_cannot_give_priorities_say_why(matam):
    with pytest.raises(ReadError) as not_vector:
        read_priority_file(b"titre;lat;lon\nMarch\xe9;9.5;-13.6\n", "priorites.geojson", unit=matam)
    assert not_vector.value.code == "unknown_format"
    with pytest.raises(PriorityFileError) as unsafe:
        read_priority_file(b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x "y">]><kml><Document/></kml>',
                           "a.kml", unit=matam)
    assert unsafe.value.code == "kml_unsafe"
    with pytest.raises(ReadError) as empty:
        read_priority_file(b"  \n", "vide.geojson", unit=matam)
    assert empty.value.code == "empty_file"


def test_adding_several_priorities_is_all_or_nothing(store):
    plan_id = _plan(store)
    with pytest.raises(PlanError):
        store.add_priorities(plan_id, [({"title": "Marché"}, SQUARE, "area", ()),
                                       ({"title": "  "}, MARKET, "point", ())])
    assert store.plan_priorities(plan_id).empty


def test_a_geopackage_in_utm_is_converted_and_says_so(matam, tmp_path):
    import geopandas as gpd

    path = tmp_path / "priorites.gpkg"
    gpd.GeoDataFrame({"nom": ["Marché Madina"], "theme": ["Éclairage public"]}, geometry=[SQUARE],
                     crs="EPSG:4326").to_crs("EPSG:32628").to_file(path, layer="priorites")
    read = read_priority_file(path.read_bytes(), "priorites.gpkg", unit=matam)
    assert read.file_format == "gpkg" and "reprojected" in read.notes
    (feature,) = read.ready
    assert feature.values["title"] == "Marché Madina" and feature.values["category"] == "lighting"
    assert feature.geometry.equals_exact(SQUARE, 1e-6)
