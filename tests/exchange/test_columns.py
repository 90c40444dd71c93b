"""detect_mapping / ColumnMapping on the corpus and on synonym lists."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from exchange.columns import FIELDS, SYNONYMS, ColumnMapping, detect_flavour, detect_mapping
from exchange.readers import read_table

CORPUS = Path(__file__).resolve().parent / "corpus"

KOBO = {
    "source_id": "_uuid",
    "date": "date_incident",
    "category": "type_incident",
    "latitude": "_gps_latitude",
    "longitude": "_gps_longitude",
    "description": "description",
}
VECTOR = {"longitude": "__lon", "latitude": "__lat"}

EXPECTED = {
    "registre_matam_cp1252.csv": (
        "generic",
        {
            "source_id": "N°",
            "date": "Date des faits",
            "time": "Heure",
            "category": "Nature des faits",
            "neighbourhood": "Quartier",
            "commune": "Commune",
            "latitude": "Latitude",
            "longitude": "Longitude",
            "description": "Observations",
        },
    ),
    "export_utf8_bom.csv": (
        "generic",
        {
            "source_id": "id",
            "date": "date",
            "time": "heure",
            "category": "categorie",
            "latitude": "latitude",
            "longitude": "longitude",
            "place": "lieu",
            "commune": "commune",
            "description": "description",
        },
    ),
    "lieux_sans_gps.csv": (
        "generic",
        {
            "date": "date",
            "category": "categorie",
            "place": "lieu",
            "prefecture": "prefecture",
            "description": "observations",
        },
    ),
    "export_excel_unicode.txt": (
        "generic",
        {
            "source_id": "N°",
            "date": "Date",
            "category": "Catégorie",
            "prefecture": "Préfecture",
            "commune": "Sous-préfecture",
            "description": "Description",
        },
    ),
    "entete_fusionnee.xlsx": (
        "generic",
        {
            "source_id": "N°",
            "date": "Date",
            "category": "Catégorie",
            "latitude": "Latitude",
            "longitude": "Longitude",
            "place": "Lieu",
            "description": "Description",
        },
    ),
    "kobo_export.csv": ("kobo", KOBO),
    "kobo_export.xlsx": ("kobo", KOBO),
    "odk_briefcase.csv": (
        "odk",
        {
            "source_id": "KEY",
            "date": "incident-date",
            "category": "incident-type",
            "description": "incident-description",
            "latitude": "incident-location-Latitude",
            "longitude": "incident-location-Longitude",
        },
    ),
    "acled_guinea.csv": (
        "acled",
        {
            "source_id": "event_id_cnty",
            "date": "event_date",
            "category": "event_type",
            "latitude": "latitude",
            "longitude": "longitude",
            "place": "location",
            "commune": "admin3",
            "prefecture": "admin2",
            "region": "admin1",
            "description": "notes",
        },
    ),
    "ucdp_ged.csv": (
        "ucdp",
        {
            "source_id": "id",
            "date": "date_start",
            "category": "type_of_violence",
            "latitude": "latitude",
            "longitude": "longitude",
            "place": "where_coordinates",
            "prefecture": "adm_2",
            "region": "adm_1",
            "description": "source_headline",
        },
    ),
    "incidents.geojson": (
        "generic",
        {
            **VECTOR,
            "source_id": "id",
            "date": "date",
            "category": "categorie",
            "place": "lieu",
            "severity": "gravite",
            "description": "description",
        },
    ),
    "incidents.gpkg": (
        "generic",
        {
            **VECTOR,
            "source_id": "ref",
            "date": "date_faits",
            "time": "heure",
            "category": "categorie",
            "commune": "commune",
            "description": "description",
        },
    ),
    "incidents_shp.zip": (
        "generic",
        {
            **VECTOR,
            "source_id": "ref",
            "date": "date",
            "category": "categorie",
            "commune": "commune",
        },
    ),
    "en_tete_seulement.csv": (
        "generic",
        {
            "date": "date",
            "category": "categorie",
            "place": "lieu",
            "latitude": "latitude",
            "longitude": "longitude",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_mapping(name):
    flavour, fields = EXPECTED[name]
    table = read_table(CORPUS / name)
    mapping = detect_mapping(list(table.frame.columns), table.frame.head(20))
    assert mapping.flavour == flavour
    assert mapping.fields == fields
    assert set(mapping.confidence) == set(mapping.fields)
    assert all(c == 1.0 for c in mapping.confidence.values()), mapping.confidence
    assert mapping.missing_required() == []
    assert len(set(mapping.fields.values())) == len(mapping.fields)
    # Without a sample the names alone give the same answer for these files.
    assert detect_mapping(list(table.frame.columns)).fields == fields


SYNONYM_CASES = [(name, f) for f, names in SYNONYMS.items() for name in names]


@pytest.mark.parametrize(("name", "field"), SYNONYM_CASES)
def test_every_synonym_maps_exactly(name, field):
    mapping = detect_mapping([name])
    assert mapping.fields == {field: name}
    assert mapping.confidence[field] == 1.0


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("Date de l'incident", "date"),
        ("DATE DES FAITS", "date"),
        ("date_incident", "date"),
        ("Event Date", "date"),
        ("Jour", "date"),
        ("HEURE", "time"),
        ("Time", "time"),
        ("Catégorie", "category"),
        ("CATEGORIE", "category"),
        ("Type d’incident", "category"),
        ("Nature des faits", "category"),
        ("Infraction", "category"),
        ("event_type", "category"),
        ("Latitude", "latitude"),
        ("LAT", "latitude"),
        ("gps_latitude", "latitude"),
        ("Longitude", "longitude"),
        ("Lng", "longitude"),
        ("LONG", "longitude"),
        ("Localité", "place"),
        ("Lieu", "place"),
        ("Village", "place"),
        ("Secteur", "place"),
        ("Where", "place"),
        ("Quartier", "neighbourhood"),
        ("Neighborhood", "neighbourhood"),
        ("Sous-Préfecture", "commune"),
        ("SOUS PREFECTURE", "commune"),
        ("S/P", "commune"),
        ("ADM_3", "commune"),
        ("Préfecture", "prefecture"),
        ("admin2", "prefecture"),
        ("Région", "region"),
        ("ADMIN1", "region"),
        ("Résumé", "description"),
        ("Commentaire", "description"),
        ("Notes", "description"),
        ("Gravité", "severity"),
        ("Niveau", "severity"),
        ("N°", "source_id"),
        ("Numéro", "source_id"),
        ("Référence", "source_id"),
        ("No.", "source_id"),
        ("instanceID", "source_id"),
    ],
)
def test_french_and_english_spellings(name, field):
    assert detect_mapping([name]).fields.get(field) == name


def test_fuzzy_matches_get_lower_confidence():
    mapping = detect_mapping(["Catégories", "Observation générale", "Quartiers"])
    assert mapping.fields == {
        "category": "Catégories",
        "description": "Observation générale",
        "neighbourhood": "Quartiers",
    }
    assert set(mapping.confidence.values()) == {0.7}


@pytest.mark.parametrize(
    "name",
    [
        "Altitude",
        "_gps_altitude",
        "Date de naissance",
        "Téléphone",
        "age",
        "Précision",
        "Nom du déclarant",
        "Sexe",
    ],
)
def test_look_alikes_are_not_mapped(name):
    assert detect_mapping([name]).fields == {}


def test_one_column_never_gets_two_fields():
    mapping = detect_mapping(["date", "Date", "DATE des faits"])
    assert mapping.fields == {"date": "date"}
    with pytest.raises(ValueError, match="more than one field"):
        ColumnMapping({"date": "x", "time": "x"})


def test_exact_beats_fuzzy_and_specific_synonym_beats_generic():
    mapping = detect_mapping(["Type", "Nature des faits", "Date de saisie", "Date des faits"])
    assert mapping.fields == {"category": "Nature des faits", "date": "Date des faits"}


def test_kobo_geopoint_string_is_found_by_its_values():
    columns = [
        "_uuid",
        "_submission_time",
        "date_incident",
        "type_incident",
        "localisation",
        "remarque",
    ]
    sample = pd.DataFrame({c: ["x"] for c in columns})
    sample["localisation"] = ["9.5412 -13.6773 12.0 5.0"]
    mapping = detect_mapping(columns, sample)
    assert mapping.flavour == "kobo"
    assert mapping.fields["geopoint"] == "localisation" and mapping.confidence["geopoint"] == 1.0
    assert mapping.missing_required() == []


def test_geopoint_values_win_over_a_place_like_name():
    sample = pd.DataFrame({"lieu": ["10.3852 -9.3057", "9.5 -13.6 0 0"], "date": ["x", "y"]})
    mapping = detect_mapping(["date", "lieu"], sample)
    assert mapping.fields == {"date": "date", "geopoint": "lieu"}


def test_geopoint_name_with_other_values_is_not_a_geopoint():
    sample = pd.DataFrame({"gps": ["oui", "non"]})
    assert "geopoint" not in detect_mapping(["gps"], sample).fields
    assert detect_mapping(["gps"]).fields == {"geopoint": "gps"}  # no sample: trust the name


def test_split_coordinates_are_preferred_over_the_geopoint():
    columns = [
        "gps",
        "_gps_latitude",
        "_gps_longitude",
        "_gps_altitude",
        "_gps_precision",
        "_index",
    ]
    sample = pd.DataFrame(
        {
            "gps": ["9.5 -13.6 1 2"],
            "_gps_latitude": ["9.5"],
            "_gps_longitude": ["-13.6"],
            "_gps_altitude": ["1"],
            "_gps_precision": ["2"],
            "_index": ["1"],
        }
    )
    mapping = detect_mapping(columns, sample)
    assert mapping.fields == {"latitude": "_gps_latitude", "longitude": "_gps_longitude"}


def test_kobo_group_paths_and_system_columns():
    columns = [
        "start",
        "end",
        "today",
        "grp_incident/date_incident",
        "grp_incident/categorie",
        "grp_lieu/quartier",
        "_grp_lieu_position_latitude",
        "_grp_lieu_position_longitude",
        "_notes",
        "_id",
        "_uuid",
        "_index",
    ]
    mapping = detect_mapping(columns)
    assert mapping.flavour == "kobo"
    assert mapping.fields == {
        "source_id": "_uuid",
        "date": "grp_incident/date_incident",
        "category": "grp_incident/categorie",
        "neighbourhood": "grp_lieu/quartier",
        "latitude": "_grp_lieu_position_latitude",
        "longitude": "_grp_lieu_position_longitude",
    }


def test_prefixed_latitude_longitude_pair():
    mapping = detect_mapping(["Localisation Latitude", "Localisation Longitude", "Date"])
    assert mapping.fields == {
        "latitude": "Localisation Latitude",
        "longitude": "Localisation Longitude",
        "date": "Date",
    }
    assert mapping.confidence["latitude"] == mapping.confidence["longitude"] == 0.9


def test_group_prefixes_outside_kobo_and_odk_are_trusted_less():
    mapping = detect_mapping(["section_a/date", "section_a/nature"])
    assert mapping.fields == {"date": "section_a/date", "category": "section_a/nature"}
    assert mapping.confidence == {"date": 0.9, "category": 0.9}


def test_odk_without_submission_date_is_recognised_by_its_layout():
    columns = [
        "KEY",
        "meta-instanceID",
        "grp-date",
        "grp-nature",
        "grp-pos-Latitude",
        "grp-pos-Longitude",
        "grp-pos-Accuracy",
    ]
    mapping = detect_mapping(columns)
    assert mapping.flavour == "odk"
    assert mapping.fields == {
        "source_id": "KEY",
        "date": "grp-date",
        "category": "grp-nature",
        "latitude": "grp-pos-Latitude",
        "longitude": "grp-pos-Longitude",
    }


def test_acled_without_event_type_uses_sub_event_type():
    columns = ["event_id_cnty", "event_date", "sub_event_type", "admin1", "latitude", "longitude"]
    mapping = detect_mapping(columns)
    assert mapping.flavour == "acled" and mapping.fields["category"] == "sub_event_type"
    assert "fatalities" not in mapping.fields.values()


@pytest.mark.parametrize(
    ("columns", "flavour"),
    [
        (["_uuid", "a"], "kobo"),
        (["_submission_time"], "kobo"),
        (["KEY", "SubmissionDate"], "odk"),
        (["event_id_cnty"], "acled"),
        (["event_date", "event_type", "admin1"], "acled"),
        (["id", "type_of_violence", "date_start"], "ucdp"),
        (["date", "KEY"], "generic"),
        (["date", "lieu"], "generic"),
    ],
)
def test_detect_flavour(columns, flavour):
    assert detect_flavour(columns) == flavour


def test_json_round_trip():
    mapping = detect_mapping(["Catégories", "date", "latitude", "longitude", "lieu"])
    again = ColumnMapping.from_json(mapping.to_json())
    assert again == mapping
    assert list(again.fields) == [f for f in FIELDS if f in again.fields]  # canonical order
    text = ColumnMapping({"place": "Lieu-dit « Bonfi »"}, "generic", {"place": 1.0}).to_json()
    assert "« Bonfi »" in text and ColumnMapping.from_json(text).fields == {
        "place": "Lieu-dit « Bonfi »"
    }


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"fields": []}',
        '{"fields": {"colour": "x"}}',
        '{"fields": {"date": "x"}, "flavour": "excel"}',
        '{"fields": {"date": "x"}, "confidence": {"date": 2}}',
        '{"fields": {"date": "x"}, "confidence": {"time": 1}}',
        '{"fields": {"date": "x", "time": "x"}}',
        '{"fields": {"date": ""}}',
    ],
)
def test_from_json_rejects_bad_input(text):
    with pytest.raises(ValueError):
        ColumnMapping.from_json(text)


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({}, ["date", "category", "location"]),
        ({"date": "d", "category": "c", "latitude": "y", "longitude": "x"}, []),
        ({"date": "d", "category": "c", "geopoint": "g"}, []),
        ({"date": "d", "category": "c", "place": "p"}, []),
        ({"date": "d", "category": "c", "neighbourhood": "q"}, []),
        ({"date": "d", "category": "c", "commune": "p"}, []),
        ({"date": "d", "category": "c", "prefecture": "p"}, []),
        ({"date": "d", "category": "c", "region": "r"}, ["location"]),
        ({"date": "d", "category": "c", "latitude": "y"}, ["longitude"]),
        ({"category": "c", "longitude": "x"}, ["date", "latitude"]),
        ({"date": "d", "latitude": "y", "place": "p"}, ["category"]),
    ],
)
def test_missing_required(fields, missing):
    assert ColumnMapping(fields).missing_required() == missing
