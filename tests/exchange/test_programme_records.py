"""Programme records: validation codes on hand-made files, CSV/XLSX import into the store, review queue, export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

import storage.programme
from demo.generate import generate
from exchange.programme import (
    REASONS,
    ProgrammeFileError,
    describe,
    detect_columns,
    export_programme,
    import_programme,
    validate,
)
from exchange.readers import ReadError
from i18n import Translator
from i18n.reasons import MESSAGES
from storage import Store

TODAY = dt.date(2026, 6, 1)
XSS = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://x","clic")'


def _csv(lines: list[str], *, sep: str = ";", encoding: str = "cp1252") -> bytes:
    """Cells written as "a|b|c" become a CSV quoted as Excel does."""
    text = io.StringIO()
    csv.writer(text, delimiter=sep, lineterminator="\r\n").writerows(line.split("|") for line in lines)
    return text.getvalue().encode(encoding)


def _by_row(problems: pd.DataFrame) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for p in problems.itertuples(index=False):
        out.setdefault(int(p.row), []).append((p.field, p.code))
    return out


# -- stations: a French Excel CSV (";", Latin-1, decimal commas) -------------------------------------------------

STATIONS = [
    "Nom|Type|Latitude|Longitude|Commune|Préfecture|Téléphone",
    "Commissariat central de Kaloum|Commissariat|9,5149|-13,7105|Kaloum||620 00 00 01",  # 2 ok
    "Bateau de police|navire|9,5149|-13,7105|||",  # 3 kind unknown
    "Poste A|Poste de police|abc|-13,7105|||",  # 4 latitude not understood
    "Poste B|poste|48,8566|2,3522|||",  # 5 Paris
    "Poste C|poste|9,6604|-13,5916|Kaloum||",  # 6 in Ratoma, declared Kaloum (17 km)
    "Poste D|poste|9,535|-13,69|Kaloum||",  # 7 in Dixinn, 1 km from Kaloum: accepted as Kaloum
    "Poste E|poste|||Touba||",  # 8 two Touba
    "Poste F|poste|||Xyzzyville||",  # 9 unknown commune
    "Poste G|poste|||||",  # 10 nowhere
    "|poste|9,5149|-13,7105|||",  # 11 no name
    f"{'P' * 201}|poste|9,5149|-13,7105|||",  # 12 name too long
    "Commissariat central de Kaloum|commissariat|9,5149|-13,7105|||",  # 13 same as row 2
    "Poste H|poste|9,5149||||",  # 14 latitude without longitude
    f"{FORMULA} {XSS}|Brigade de gendarmerie|9,6604|-13,5916|||",  # 15 ok, text as typed
    "Poste I|poste|||Kaloum|Kankan|",  # 16 commune outside the prefecture given
    "Poste J|poste|95|-13,7105|||",  # 17 latitude out of range
    "Poste K|poste|9,5 E|-13,7105|||",  # 18 E on a latitude
    "Poste L|poste|||Touba|Gaoual|",  # 19 Touba resolved by its prefecture
]
STATION_PROBLEMS = {
    3: [("kind", "station_kind_unknown")],
    4: [("lat", "coord_unparseable")],
    5: [("point", "outside_guinea")],
    6: [("point", "outside_unit")],
    8: [("subprefecture", "unit_ambiguous")],
    9: [("subprefecture", "unit_unknown")],
    10: [("point", "no_location")],
    11: [("name", "value_missing")],
    12: [("name", "text_too_long")],
    13: [("name", "duplicate_record")],
    14: [("lon", "coord_missing")],
    16: [("subprefecture", "unit_mismatch")],
    17: [("lat", "coord_out_of_range")],
    18: [("lat", "coord_hemisphere_mismatch")],
}


def test_station_file_french_excel_csv(sqlite_store: Store) -> None:
    store = sqlite_store
    outcome = import_programme(store, "station", _csv(STATIONS), "commissariats.csv", created_by="saisie",
                               today=TODAY)
    assert _by_row(outcome.problems) == STATION_PROBLEMS
    assert (outcome.rows, outcome.imported, outcome.queued) == (18, 4, 14)
    assert outcome.mapping == {"name": "Nom", "kind": "Type", "lat": "Latitude", "lon": "Longitude",
                               "subprefecture": "Commune", "prefecture": "Préfecture", "contact": "Téléphone"}
    stored = store.read("station").set_index("name")
    assert stored.loc["Commissariat central de Kaloum", ["kind", "subprefecture_id", "contact"]].tolist() == [
        "commissariat", "GN-C-KALOUM", "620 00 00 01"]
    assert stored.loc["Poste D", "subprefecture_id"] == "GN-C-KALOUM"  # declared unit kept within the tolerance
    assert stored.loc["Poste L", ["prefecture_id", "subprefecture_id", "lon"]].tolist()[:2] == ["GN-GA", "GN-GA-TOUBA"]
    assert np.isnan(stored.loc["Poste L", "lon"])  # a unit is not a point
    assert stored.loc[f"{FORMULA} {XSS}", "kind"] == "brigade"  # stored exactly as typed

    queue = store.review_items(batch_id=outcome.batch_id)
    assert queue["kind"].unique().tolist() == ["station"]
    assert queue["source_row"].tolist() == sorted(STATION_PROBLEMS)
    assert queue["reasons"].tolist() == [[code for _, code in STATION_PROBLEMS[r]] for r in sorted(STATION_PROBLEMS)]
    assert queue.set_index("source_row").loc[4, "data"] == {
        "Nom": "Poste A", "Type": "Poste de police", "Latitude": "abc", "Longitude": "-13,7105", "Commune": None,
        "Préfecture": None, "Téléphone": None}
    batch = store.batches().iloc[0]
    assert (batch["kind"], batch["file_name"], batch["n_rows"], batch["n_imported"], batch["n_queued"]) == (
        "station", "commissariats.csv", 18, 4, 14)
    assert outcome.summary()["queued_by_reason"]["outside_unit"] == 1

    # Tolerance is a parameter: at 500 m the Dixinn point is refused.
    frame = pd.DataFrame({"name": ["Poste D"], "kind": ["poste"], "lat": [9.535], "lon": [-13.69],
                          "subprefecture": ["GN-C-KALOUM"]})
    assert validate("station", frame, tolerance_m=500)[1]["code"].tolist() == ["outside_unit"]
    assert validate("station", frame, tolerance_m=1500)[1].empty


# -- councils and meetings: UTF-8 with BOM, "," --------------------------------------------------------------------

COUNCILS = [
    "Nom du conseil|Commune|Quartier|Niveau|Date de création|Président|Membres|Dont femmes|Dont jeunes|Plan adopté le",
    "CLSPD de Kaloum|Kaloum|||12/03/2019|Maire|20|7|5|01/06/2020",  # 2 ok
    "CLSPD 3|Matam|||2019-01-01|maire|10|11|2|",  # 3 women above total
    "CLSPD 4|Dixinn|||2019-01-01|maire|10|2|12|",  # 4 youth above total
    "CLSPD 5|Ratoma|||01/01/2030|maire|10|2|2|",  # 5 future
    "CLSPD 6|Matoto|||01/06/2020|maire|10|2|2|01/01/2020",  # 6 plan before set up
    "CLSPD 7|Kankan|||2019-01-01|roi|10|2|2|",  # 7 chair unknown
    "CLSPD 8|Conakry|||2019-01-01|maire|10|2|2|",  # 8 no commune is called Conakry
    "CLSPD 9|Labé|||2019-01-01|maire|-3|||",  # 9 negative
    "CLSPD 10|Mamou|||2019-01-01|maire|12.5|||",  # 10 not whole
    "CLSPD 11|Kindia|||2019-01-01|maire|douze|||",  # 11 not a number
    "CLSPD 12|Siguiri|||2019-01-01|maire|99999999999|||",  # 12 too large
    "CLSPD 13|Boké|||31/02/2020|maire||||",  # 13 impossible date
    "CLSPD 14|Boffa|||01/01/1900|maire||||",  # 14 too old
    "CLSPD 15|Dubréka|||le jour d'après|maire||||",  # 15 not a date
    "CLSPD 16|Coyah||province|2019-01-01|maire||||",  # 16 unknown level
    "CLSPD 17|Kaloum|Quartier Inconnu|quartier|2019-01-01|chef de quartier||||",  # 17 no such neighbourhood
]
COUNCIL_PROBLEMS = {
    3: [("members_women", "women_above_total")],
    4: [("members_youth", "youth_above_total")],
    5: [("established_on", "date_future")],
    6: [("plan_adopted_on", "plan_before_established")],
    7: [("chair_role", "chair_role_unknown")],
    8: [("subprefecture", "unit_unknown")],
    9: [("members_total", "count_negative")],
    10: [("members_total", "count_not_integer")],
    11: [("members_total", "count_unparseable")],
    12: [("members_total", "count_too_large")],
    13: [("established_on", "date_impossible")],
    14: [("established_on", "date_too_old")],
    15: [("established_on", "date_unparseable")],
    16: [("unit_level", "unit_level_unknown")],
    17: [("neighbourhood", "unit_unknown")],
}

MEETINGS = [
    "Conseil|Date de la réunion|Participants|Dont femmes|Ordre du jour|Décisions",
    f"CLSPD de Kaloum|15/01/2026|18|6|{XSS}|{FORMULA}",  # 2 ok
    "CLSPD Kaloum|16/01/2026|18|6||",  # 3 ok: a word left out
    "CLSPD de Kaloum|15/01/2026|10|2||",  # 4 same council and day as row 2
    "CLSPD de Nulle Part|15/01/2026|10|2||",  # 5 unknown council
    "CLSPD Matam|15/01/2026|10|2||",  # 6 Matam Nord or Matam Sud
    "CLSPD de Kaloum||10|2||",  # 7 no date
    "CLSPD de Kaloum|17/01/2026|10|12||",  # 8 more women than participants
    "|18/01/2026|10|2||",  # 9 no council
]
MEETING_PROBLEMS = {
    4: [("held_on", "duplicate_record")],  # natural key: council and day
    5: [("council", "council_unknown")],
    6: [("council", "council_ambiguous")],
    7: [("held_on", "date_missing")],
    8: [("attendance_women", "women_above_total")],
    9: [("council", "value_missing")],
}


def test_council_and_meeting_files(sqlite_store: Store) -> None:
    store = sqlite_store
    councils = import_programme(store, "council", _csv(COUNCILS, sep=",", encoding="utf-8-sig"), "clspd.csv",
                                today=TODAY)
    assert _by_row(councils.problems) == COUNCIL_PROBLEMS
    stored = store.read("council").set_index("name")
    assert stored.loc["CLSPD de Kaloum", ["unit_level", "unit_id", "chair_role", "members_women"]].tolist() == [
        "subprefecture", "GN-C-KALOUM", "maire", 7]
    assert stored.loc["CLSPD de Kaloum", "plan_adopted_on"] == dt.date(2020, 6, 1)
    # A council's unit by name at any level: Kankan is Kankan Centre, Conakry is no commune.
    given = pd.DataFrame({"name": ["CLSPD de Kankan", "CLSPD de Conakry", "CLSPD de Landréah", "CLSPD de Cosa"],
                          "unit": ["Kankan", "Conakry", None, "NB-7"], "neighbourhood": [None, None, "Landreah", None],
                          "unit_level": [None, None, None, "quartier"]})
    neighbourhoods = {"neighbourhood": pd.DataFrame({"id": [3, 7], "name": ["Landréah", "Cosa"],
                                                     "alt_names": ["Landreya", None],
                                                     "subprefecture_id": ["GN-C-DIXINN", "GN-C-RATOMA"]})}
    valid, problems = validate("council", given, refs=neighbourhoods)
    assert valid[["unit_level", "unit_id", "subprefecture_id", "prefecture_id"]].values.tolist() == [
        ["subprefecture", "GN-KA-KANKAN-CENTRE", "GN-KA-KANKAN-CENTRE", "GN-KA"],
        ["neighbourhood", "NB-3", "GN-C-DIXINN", "GN-C"], ["neighbourhood", "NB-7", "GN-C-RATOMA", "GN-C"]]
    assert problems[["row", "field", "code", "value"]].values.tolist() == [[1, "unit_id", "council_unit_level",
                                                                            "Conakry"]]
    for name in ("CLSPD Matam Nord", "CLSPD Matam Sud"):
        store.add_record("council", {"name": name, "unit": "Matam"}, today=TODAY)

    meetings = import_programme(store, "council_meeting", _csv(MEETINGS, sep=",", encoding="utf-8"), "reunions.csv",
                                today=TODAY)
    assert _by_row(meetings.problems) == MEETING_PROBLEMS
    kaloum = int(stored.loc["CLSPD de Kaloum", "id"])
    got = store.read("council_meeting").sort_values("held_on")
    assert got["council_id"].tolist() == [kaloum, kaloum]
    assert (got["topics"].iloc[0], got["decisions"].iloc[0]) == (XSS, FORMULA)


def test_visits_women_days_and_trainings(sqlite_store: Store) -> None:
    store = sqlite_store
    for name, sub in (("Commissariat de Matam", "GN-C-MATAM"), ("Commissariat de Kaloum", "GN-C-KALOUM"),
                      ("Poste de Kaloum", "GN-C-KALOUM")):
        store.add_record("station", {"name": name, "kind": "poste", "subprefecture": sub})
    for name, sub in (("Lycée de Matam", "GN-C-MATAM"), ("Lycée 2 Octobre", "GN-C-KALOUM"),
                      ("Collège Sainte-Marie", "GN-C-DIXINN"), ("Collège Sainte-Marie", "GN-C-RATOMA")):
        store.add_record("school", {"name": name, "level": "lycée", "subprefecture": sub})
    for name, station in (("Sergent Camara", "Commissariat de Matam"), ("Sergent Camara", "Poste de Kaloum"),
                          ("Adjudant Bah", "Commissariat de Kaloum")):
        store.add_record("outreach_officer", {"name": name, "station": station})
    for name in ("Mamadou Diallo", "Alpha Diallo", "Fatoumata Camara"):
        store.add_record("instructor", {"name": name})

    visits = [
        "École|Agent|Date de la visite|Élèves touchés|Thèmes|Commune",
        "Lycée de Matam|Adjudant Bah|12/03/2026|120|drogues; citoyenneté|",  # 2 ok
        "Lycee de Matam|Sergent Camara|13/03/2026|80||Matam",  # 3 ok: officer narrowed by the commune
        "Collège Sainte-Marie|Adjudant Bah|14/03/2026|80||",  # 4 two schools of that name
        "Collège Sainte-Marie|Adjudant Bah|14/03/2026|80||Dixinn",  # 5 ok: the commune settles it
        "École Fantôme|Adjudant Bah|14/03/2026|80||",  # 6 unknown school
        "Lycée de Matam|Sergent Camara|14/03/2026|80||",  # 7 two officers of that name
        "Lycée de Matam|Brigadier Personne|14/03/2026|80||",  # 8 unknown officer
        "Lycée de Matam|Adjudant Bah|15/03/2026|||",  # 9 no students count
    ]
    outcome = import_programme(store, "school_visit", _csv(visits), "visites.csv", today=TODAY)
    assert _by_row(outcome.problems) == {4: [("school", "school_ambiguous")], 6: [("school", "school_unknown")],
                                         7: [("officer", "officer_ambiguous")], 8: [("officer", "officer_unknown")],
                                         9: [("students_reached", "value_missing")]}
    assert sorted(store.read("school_visit")["students_reached"]) == [80, 80, 120]

    days = [
        "Commissariat|Date|Nombre de femmes|Plaintes déposées",
        "Commissariat de Matam|08/03/2026|25|3",  # 2 ok
        "Commissariat|09/03/2026|25|",  # 3 ambiguous: every station is a "commissariat"... or none
        "Commissariat de Boké|09/03/2026|25|",  # 4 unknown
        "Commissariat de Matam|10/03/2026||",  # 5 no women count
    ]
    outcome = import_programme(store, "women_visit_day", _csv(days), "journees.csv", today=TODAY)
    assert _by_row(outcome.problems) == {3: [("station", "station_ambiguous")], 4: [("station", "station_unknown")],
                                         5: [("women_count", "value_missing")]}

    trainings = [
        "Communauté|Date de début|Date de fin|Module|Agents formés|Formateurs",
        "Kankan|03/03/2025|07/03/2025|VBG|40|Mamadou Diallo; Fatoumata Camara",  # 2 ok
        "Kankan|10/03/2025|07/03/2025|doctrine|40|",  # 3 ends before it starts
        "Kankan|10/03/2025|12/03/2025|natation|40|",  # 4 unknown module
        "Kankan|13/03/2025|14/03/2025|doctrine|40|Diallo",  # 5 two Diallo
        "Kankan|15/03/2025|16/03/2025|doctrine|40|Inconnu Total",  # 6 unknown instructor
        "Atlantis|17/03/2025|18/03/2025|doctrine|40|",  # 7 a community that is no unit, and no unit given
    ]
    outcome = import_programme(store, "training", _csv(trainings), "formations.csv", today=TODAY)
    assert _by_row(outcome.problems) == {3: [("end_on", "end_before_start")], 4: [("module", "module_unknown")],
                                         5: [("instructors", "instructor_ambiguous")],
                                         6: [("instructors", "instructor_unknown")], 7: [("unit", "value_missing")]}
    assert len(store.read("training_instructor")) == 2


def test_every_reason_code_has_a_message_and_is_exercised(sqlite_store: Store) -> None:
    assert set(REASONS) <= set(MESSAGES)
    seen = {code for problems in (STATION_PROBLEMS, COUNCIL_PROBLEMS, MEETING_PROBLEMS)
            for pairs in problems.values() for _, code in pairs}
    seen |= {"school_ambiguous", "school_unknown", "officer_ambiguous", "officer_unknown", "station_ambiguous",
             "station_unknown", "end_before_start", "module_unknown", "instructor_ambiguous", "instructor_unknown"}
    frame = pd.DataFrame({"name": ["École"], "level": ["université"], "subprefecture": ["Kaloum"]})
    seen |= set(validate("school", frame)[1]["code"])
    seen |= set(validate("council", pd.DataFrame({"name": ["CLSPD"], "unit": ["Conakry"]}))[1]["code"])
    assert seen == set(REASONS)


# -- XLSX, fatal errors, atomicity ---------------------------------------------------------------------------------


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_schools_with_numbers_and_dates(sqlite_store: Store) -> None:
    data = _xlsx([["Liste des écoles visitées"], [],
                  ["Nom de l'école", "Niveau", "Effectif", "Latitude", "Longitude"],
                  ["École primaire de Boulbinet", "Primaire", 640, 9.5149, -13.7105],
                  ["Lycée Donka", "Lycee", 1200.0, 9.535, -13.69],
                  ["Collège X", "université", 300, 9.5149, -13.7105]])
    outcome = import_programme(sqlite_store, "school", data, "ecoles.xlsx", today=TODAY)
    assert _by_row(outcome.problems) == {6: [("level", "school_level_unknown")]}
    stored = sqlite_store.read("school").set_index("name")
    assert stored[["level", "enrolment", "subprefecture_id"]].values.tolist() == [
        ["primary", 640, "GN-C-KALOUM"], ["high", 1200, "GN-C-DIXINN"]]


def test_fatal_errors_change_nothing(sqlite_store: Store) -> None:
    with pytest.raises(ReadError) as unreadable:
        import_programme(sqlite_store, "station", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "photo.csv")
    assert unreadable.value.code == "unknown_format"
    with pytest.raises(ProgrammeFileError) as columns:
        import_programme(sqlite_store, "council_meeting", _csv(["Conseil|Participants", "CLSPD|10"]), "r.csv")
    assert columns.value.code == "programme_columns_missing" and columns.value.fields == ("held_on",)
    assert sqlite_store.batches().empty and sqlite_store.review_items().empty


def test_import_is_atomic(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    good = import_programme(store, "instructor", _csv(["Nom", "Aïssatou Bah"]), "a.csv", today=TODAY)
    before = (store.counts(), store.batches(), store.review_items())

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # The records are written, then the review items fail: everything of the batch must be rolled back.
    monkeypatch.setattr(storage.programme, "_insert_review_items", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        import_programme(store, "instructor", _csv(["Nom", "Kadiatou Barry", "", "Ousmane Sylla"]), "b.csv",
                         today=TODAY)
    after = (store.counts(), store.batches(), store.review_items())
    assert after[0] == before[0]
    pd.testing.assert_frame_equal(after[1], before[1])
    assert after[2].empty and before[2].empty
    assert good.imported == 1


def test_dry_run_and_messages(sqlite_store: Store) -> None:
    outcome = import_programme(sqlite_store, "council", _csv(COUNCILS[:4], sep=","), "clspd.csv", today=TODAY,
                               dry_run=True)
    assert outcome.batch_id is None and sqlite_store.counts()["council"] == 0 and outcome.imported == 1
    fr, en = describe(outcome.problems, Translator("fr"), file_name="clspd.csv"), describe(outcome.problems,
                                                                                              Translator("en"))
    assert en == ["Row 3, Dont femmes: more women than the total (value: “11”)",
                  "Row 4, Dont jeunes: more young people than the total (value: “12”)"]
    assert fr[0].startswith("clspd.csv") and "3" in fr[0] and "Dont femmes" in fr[0]


# -- headers -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "headers", "expected"), [
    ("council_meeting", ["N°", "Conseil", "Date de la réunion", "Nombre de participants", "dont femmes", "Thèmes"],
     {"council": "Conseil", "held_on": "Date de la réunion", "attendance": "Nombre de participants",
      "attendance_women": "dont femmes", "topics": "Thèmes"}),
    ("school_visit", ["School", "Officer", "Visit date", "Students reached", "Topics"],
     {"school": "School", "officer": "Officer", "visited_on": "Visit date", "students_reached": "Students reached",
      "topics": "Topics"}),
    ("school_visit", ["ECOLE", "AGENT", "DATE", "ELEVES TOUCHES"],
     {"school": "ECOLE", "officer": "AGENT", "visited_on": "DATE", "students_reached": "ELEVES TOUCHES"}),
    ("women_visit_day", ["Commissariat", "Date de la journée", "Femmes reçues", "Plaintes deposees"],
     {"station": "Commissariat", "held_on": "Date de la journée", "women_count": "Femmes reçues",
      "complaints_after": "Plaintes deposees"}),
    ("training", ["Comunauté", "Date de debut", "Date de fin", "Module", "Policiers formés", "Formateurs"],
     {"community_name": "Comunauté", "start_on": "Date de debut", "end_on": "Date de fin", "module": "Module",
      "officers_trained": "Policiers formés", "instructors": "Formateurs"}),
])
def test_headers_detected_in_french_and_english(table: str, headers: list[str], expected: dict[str, str]) -> None:
    assert detect_columns(table, headers) == expected


# -- demo data and export ------------------------------------------------------------------------------------------


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Python values with None for every kind of missing value, so dtypes do not hide a difference."""
    out = frame.reset_index(drop=True).astype(object)
    return out.where(out.notna(), None)


def test_demo_records_pass_unchanged_and_repeat_as_duplicates() -> None:
    frames = generate(seed=2014)
    refs = {name: frames[name] for name in ("station", "council", "school", "outreach_officer", "instructor")}
    for table in ("station", "school", "council", "women_visit_day"):
        given = frames[table].drop(columns=["id", "unit_level"], errors="ignore")
        valid, problems = validate(table, given, refs={k: v for k, v in refs.items() if k != table},
                                   today=dt.date(2026, 12, 31))
        assert problems.empty, (table, problems.head())
        expected = frames[table].drop(columns="id")
        pd.testing.assert_frame_equal(_plain(valid[expected.columns]), _plain(expected))
        again = validate(table, given, refs=refs | {table: frames[table]}, today=dt.date(2026, 12, 31))[1]
        assert len(again) == len(given) and set(again["code"]) == {"duplicate_record"}


def test_export_is_formula_safe_and_imports_back(sqlite_store: Store) -> None:
    store = sqlite_store
    council = store.add_record("council", {"name": FORMULA, "unit": "Kaloum"}, today=TODAY)
    store.add_record("council_meeting", {"council_id": council, "held_on": "2026-01-15", "topics": "-2+3",
                                         "decisions": XSS}, today=TODAY)
    frames = store.programme_frames()
    text = export_programme(frames, "council_meeting", "csv").decode("utf-8-sig")
    assert "'-2+3" in text and f"'{FORMULA}".replace('"', '""') in text and XSS in text
    assert "batch_id" not in text.splitlines()[0]

    sheet = openpyxl.load_workbook(io.BytesIO(export_programme(frames, "council", "xlsx"))).active
    header = [c.value for c in sheet[1]]
    name_cell = sheet.cell(row=2, column=header.index("name") + 1)
    assert name_cell.value == f"'{FORMULA}" and name_cell.data_type == "s"

    # Re-importing the export doubles nothing: every row is the same council and day.
    again = import_programme(store, "council_meeting", export_programme(frames, "council_meeting", "xlsx"),
                             "export.xlsx", today=TODAY)
    assert again.imported == 0 and again.problems["code"].tolist() == ["duplicate_record"]
    with pytest.raises(ValueError, match="fmt"):
        export_programme(frames, "council", "pdf")
