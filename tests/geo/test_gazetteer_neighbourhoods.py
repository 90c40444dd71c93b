"""Neighbourhoods users added, in the gazetteer and the geocoder, and through an incident import."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

import shapely

from geo.gazetteer import Gazetteer
from geo.geocode import PLACED_COLUMNS, PRECISION_OF_LEVEL, Geocoder
from storage import Store
from storage.schema import PRECISIONS

PLACES = pd.DataFrame({
    "unit_id": ["NB-1", "NB-2", "NB-3", "NB-4"],
    "name": ["Camayenne", "Madina", "Madina", "Sandervalia"],
    "alt_names": ["Camayène Plage|Corniche Nord", None, None, None],
    "subprefecture_id": ["GN-C-DIXINN", "GN-C-MATAM", "GN-C-KALOUM", "GN-C-KALOUM"],
    "label_lon": [-13.6790, -13.6625, -13.7120, -13.7080],
    "label_lat": [9.5400, 9.5431, 9.5145, 9.5120],
})


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.default().with_places(PLACES)


def test_with_places_returns_a_new_gazetteer(gaz: Gazetteer) -> None:
    base = Gazetteer.default()
    assert len(gaz) == len(base) + 4 and len(base) == 382
    assert base.search("Camayenne") == [] or base.search("Camayenne")[0].level != "neighbourhood"
    units = gaz.units("neighbourhood")
    assert units["unit_id"].tolist() == ["NB-1", "NB-2", "NB-3", "NB-4"]
    assert units["prefecture_id"].tolist() == ["GN-C"] * 4 and units["region_id"].tolist() == ["GN-C"] * 4
    assert gaz.with_places(PLACES.iloc[0:0]) is gaz


@pytest.mark.parametrize("query", ["Camayenne", "CAMAYÈNE", "camayene", "Camayéne", "Kamayenne", "Camayène Plage",
                                   "corniche nord"])
def test_neighbourhood_found_by_accent_insensitive_fuzzy_name(gaz: Gazetteer, query: str) -> None:
    hits = gaz.search(query)
    assert hits and hits[0].unit_id == "NB-1" and hits[0].level == "neighbourhood"
    assert hits[0].subprefecture_id == "GN-C-DIXINN" and hits[0].prefecture_id == "GN-C"
    assert hits[0].score >= 85


def test_level_and_within_filters(gaz: Gazetteer) -> None:
    madina = [h for h in gaz.search("Madina") if h.score == 100]
    assert {h.unit_id for h in madina} == {"NB-2", "NB-3"}
    assert [h.unit_id for h in gaz.search("Madina", within="GN-C-MATAM") if h.score == 100] == ["NB-2"]
    assert {h.level for h in gaz.search("Madina", level="neighbourhood")} == {"neighbourhood"}
    assert all(h.level != "neighbourhood" for h in gaz.search("Kaloum"))  # nothing added called Kaloum
    assert gaz.search("Kaloum")[0].subprefecture_id == "GN-C-KALOUM"  # a sub-prefecture is its own
    assert gaz.lineage("neighbourhood", "NB-4") == {"region": "GN-C", "prefecture": "GN-C",
                                                    "subprefecture": "GN-C-KALOUM", "neighbourhood": "NB-4"}


def test_bad_places_are_refused(gaz: Gazetteer) -> None:
    with pytest.raises(ValueError, match="missing columns"):
        Gazetteer.default().with_places(PLACES.drop(columns="label_lat"))
    with pytest.raises(ValueError, match="GN-NOWHERE"):
        Gazetteer.default().with_places(PLACES.assign(subprefecture_id="GN-NOWHERE"))
    with pytest.raises(ValueError, match="unique"):
        Gazetteer.default().with_places(pd.concat([PLACES, PLACES.iloc[:1]]))
    with pytest.raises(ValueError, match="already"):
        gaz.with_places(PLACES.iloc[:1])
    with pytest.raises(ValueError, match="without a name"):
        Gazetteer.default().with_places(PLACES.assign(name=["A", " ", "C", "D"]))


def test_geocoder_places_a_neighbourhood_at_its_point(gaz: Gazetteer) -> None:
    rows = pd.DataFrame({
        "commune": [None, "Matam", "Kaloum", None, "Dixinn", None, None],
        "place": ["Camayène", "Madina", "madina", "Madina", "Quartier inconnu", "Sandervalia", None],
    })
    placed = Geocoder(gaz).place_many(rows)
    assert list(placed.columns) == list(PLACED_COLUMNS)
    assert placed["unit_id"].tolist()[:3] == ["NB-1", "NB-2", "NB-3"]
    assert placed["level"].tolist()[:3] == ["neighbourhood"] * 3
    assert placed["precision"].tolist()[:3] == ["subprefecture"] * 3
    np.testing.assert_allclose(placed[["lon", "lat"]].to_numpy()[:3], PLACES[["label_lon", "label_lat"]].to_numpy()[:3])
    assert placed["subprefecture_id"].tolist()[:3] == ["GN-C-DIXINN", "GN-C-MATAM", "GN-C-KALOUM"]
    assert placed["error"][3] == "place_ambiguous"  # two Madina, no commune to choose
    assert placed["unit_id"][4] == "GN-C-DIXINN" and placed["precision"][4] == "subprefecture"  # commune kept
    assert placed["unit_id"][5] == "NB-4"
    assert placed["error"][6] == "no_location" and np.isnan(placed["lon"][6])
    # vendored units keep their old behaviour: a prefecture has no sub-prefecture
    pref = Geocoder(gaz).place_many(pd.DataFrame({"prefecture": ["Kankan"]})).iloc[0]
    assert (pref["level"], pref["precision"], pref["subprefecture_id"]) == ("prefecture", "prefecture", None)


def test_every_precision_the_geocoder_gives_is_storable() -> None:
    assert set(PRECISION_OF_LEVEL.values()) <= set(PRECISIONS)


def test_incident_without_coordinates_imports_at_the_neighbourhood(sqlite_store: Store) -> None:
    from exchange.service import import_incidents

    sqlite_store.add_neighbourhood("Camayenne", shapely.box(-13.684, 9.535, -13.676, 9.545), created_by="test")
    stored = sqlite_store.neighbourhoods().iloc[0]
    csv = ("date;categorie;commune;quartier;description\n"
           "12/03/2026;vol;Dixinn;Camayène;vol de téléphone\n"
           "13/03/2026;vol;;CAMAYENNE;vol de moto\n"
           "14/03/2026;vol;Dixinn;Nulle Part;inconnu\n").encode()
    result = import_incidents(sqlite_store, csv, "registre.csv", today=date(2026, 11, 24))
    assert result.plan.summary()["imported"] == 3
    got = sqlite_store.read("incident", where={"batch_id": result.batch_id})
    np.testing.assert_allclose(got[["lon", "lat"]].to_numpy()[:2], [[stored["label_lon"], stored["label_lat"]]] * 2)
    assert got["precision"].tolist() == ["subprefecture"] * 3
    assert got["subprefecture_id"].tolist() == ["GN-C-DIXINN"] * 3
    assert got["flags"].tolist() == ["geocoded_by_name"] * 3
    commune = Gazetteer.default().units("subprefecture").set_index("unit_id").loc["GN-C-DIXINN"]
    assert (got["lon"][2], got["lat"][2]) == (commune["label_lon"], commune["label_lat"])  # unknown quartier
    assert got["h3_r9"].nunique() == 2
