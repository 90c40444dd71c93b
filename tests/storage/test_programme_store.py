"""Programme records in the store: filtered reads, single-record entry, editing under optimistic locking, undo."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

import pandas as pd
import pytest

from storage import StaleVersionError, Store
from storage.programme import (
    PROGRAMME_TABLES,
    InvalidRecordError,
    ProgrammeFilter,
    RecordInUseError,
)

TODAY = dt.date(2026, 6, 1)
KALOUM = {"lon": -13.7105, "lat": 9.5149}  # inside GN-C-KALOUM
RATOMA = {"lon": -13.5916, "lat": 9.6604}  # inside GN-C-RATOMA
KANKAN = {"lon": -9.2682, "lat": 10.3714}  # inside GN-KA-KANKAN-CENTRE
D = dt.date


def _units(sub: str) -> dict[str, str]:
    pref = "GN-C" if sub.startswith("GN-C-") else "GN-KA"
    return {"region_id": "GN-C" if pref == "GN-C" else "GN-K", "prefecture_id": pref, "subprefecture_id": sub}


def _fixture() -> dict[str, pd.DataFrame]:
    """Two towns (Kaloum, Kankan) with every kind of record, dated around the first half of 2025."""
    kal, kan = _units("GN-C-KALOUM"), _units("GN-KA-KANKAN-CENTRE")
    return {
        "station": pd.DataFrame([{"id": 1, "name": "Commissariat de Kaloum", "kind": "commissariat", **kal, **KALOUM},
                                 {"id": 2, "name": "Commissariat de Kankan", "kind": "commissariat", **kan, **KANKAN}]),
        "council": pd.DataFrame([{"id": 1, "name": "CLSPD de Kaloum", "unit_level": "subprefecture",
                                  "unit_id": "GN-C-KALOUM", **kal, "members_total": 20, "members_women": 6},
                                 {"id": 2, "name": "CLSPD de Kankan", "unit_level": "subprefecture",
                                  "unit_id": "GN-KA-KANKAN-CENTRE", **kan}]),
        "council_meeting": pd.DataFrame({"id": [1, 2, 3], "council_id": [1, 1, 2],
                                         "held_on": [D(2025, 1, 10), D(2025, 6, 1), D(2025, 3, 1)]}),
        "school": pd.DataFrame([{"id": 1, "name": "École primaire de Boulbinet", "level": "primary", **kal, **KALOUM},
                                {"id": 2, "name": "Lycée de Kankan", "level": "high", **kan, **KANKAN}]),
        "outreach_officer": pd.DataFrame({"id": [1, 2, 3], "name": ["Agent 1", "Agent 2", "Agent 3"],
                                          "station_id": pd.array([1, 2, None], dtype="Int64")}),
        "school_visit": pd.DataFrame({"id": [1, 2, 3], "school_id": [1, 2, 1], "officer_id": [1, 1, 3],
                                      "visited_on": [D(2025, 2, 1), D(2025, 4, 1), D(2024, 12, 1)],
                                      "students_reached": [100, 200, 50]}),
        "women_visit_day": pd.DataFrame({"id": [1, 2], "station_id": [1, 2],
                                         "held_on": [D(2025, 3, 8), D(2025, 7, 1)], "women_count": [12, 30]}),
        "instructor": pd.DataFrame({"id": [1, 2], "name": ["Formateur 1", "Formateur 2"]}),
        "training": pd.DataFrame([{"id": 1, "community_name": "Kaloum", **kal, "start_on": D(2024, 12, 28),
                                   "end_on": D(2025, 1, 3), "module": "doctrine", "officers_trained": 30},
                                  {"id": 2, "community_name": "Kankan", **kan, "start_on": D(2025, 5, 1),
                                   "end_on": D(2025, 5, 5), "module": "vbg", "officers_trained": 25}]),
        "training_instructor": pd.DataFrame({"training_id": [1, 2, 2], "instructor_id": [1, 1, 2]}),
    }


def _ids_by_name(store: Store, table: str, column: str = "name") -> dict[object, int]:
    frame = store.read(table, columns=["id", column])
    return dict(zip(frame[column], frame["id"], strict=True))


def _kept(frames: dict[str, pd.DataFrame], table: str, column: str) -> list:
    return sorted(frames[table][column].tolist())


def test_programme_frames_cut_to_period_units_and_demo(store: Store) -> None:
    store.write(_fixture(), kind="test")
    demo = {"station": pd.DataFrame([{"id": 1, "name": "Démo", "kind": "poste", **_units("GN-C-KALOUM"),
                                      **KALOUM}]),
            "women_visit_day": pd.DataFrame({"id": [1], "station_id": [1], "held_on": [D(2025, 2, 2)],
                                             "women_count": [5]})}
    store.replace_demo(demo)
    frames = store.programme_frames()
    assert set(frames) == set(PROGRAMME_TABLES)
    assert len(frames["station"]) == 3 and len(frames["women_visit_day"]) == 3

    real = store.programme_frames(ProgrammeFilter(include_demo=False))
    assert _kept(real, "station", "name") == ["Commissariat de Kaloum", "Commissariat de Kankan"]
    assert _kept(real, "women_visit_day", "women_count") == [12, 30]

    # Period [2025-01-01, 2025-05-01): meetings/visits/days inside it; trainings overlapping it; parents whole.
    period = ProgrammeFilter(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 5, 1, tzinfo=UTC),
                             include_demo=False)
    frames = store.programme_frames(period)
    assert _kept(frames, "council_meeting", "held_on") == [D(2025, 1, 10), D(2025, 3, 1)]
    assert _kept(frames, "school_visit", "visited_on") == [D(2025, 2, 1), D(2025, 4, 1)]
    assert _kept(frames, "women_visit_day", "held_on") == [D(2025, 3, 8)]
    assert _kept(frames, "training", "community_name") == ["Kaloum"]  # Dec 28 - Jan 3 overlaps; May 1 is after
    assert len(frames["training_instructor"]) == 1
    assert len(frames["school"]) == 2 and len(frames["outreach_officer"]) == 3 and len(frames["instructor"]) == 2

    # An end in the middle of a day keeps that day.
    midday = ProgrammeFilter(start=D(2025, 1, 1), end=datetime(2025, 5, 1, 12, tzinfo=UTC), include_demo=False)
    assert _kept(store.programme_frames(midday), "training", "community_name") == ["Kaloum", "Kankan"]

    # Units: Kankan's records, children through their parents; an officer from elsewhere kept for his visit.
    kankan = store.programme_frames(ProgrammeFilter(start=D(2025, 1, 1), end=D(2025, 5, 1),
                                                    units=(("prefecture", "GN-KA"),), include_demo=False))
    assert _kept(kankan, "station", "name") == ["Commissariat de Kankan"]
    assert _kept(kankan, "council", "name") == ["CLSPD de Kankan"]
    assert _kept(kankan, "council_meeting", "held_on") == [D(2025, 3, 1)]
    assert _kept(kankan, "school", "name") == ["Lycée de Kankan"]
    assert _kept(kankan, "school_visit", "visited_on") == [D(2025, 4, 1)]
    assert kankan["women_visit_day"].empty and kankan["training"].empty and kankan["training_instructor"].empty
    assert _kept(kankan, "outreach_officer", "name") == ["Agent 1", "Agent 2"]
    # Same dtypes as Store.read, whatever the backend.
    assert kankan["council_meeting"].dtypes.equals(store.read("council_meeting").dtypes)


def test_filter_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown unit level"):
        ProgrammeFilter(units=(("commune", "GN-C-KALOUM"),))
    with pytest.raises(ValueError, match="before it starts"):
        ProgrammeFilter(start=D(2025, 2, 1), end=D(2025, 1, 1))
    assert hash(ProgrammeFilter(units=[("region", "GN-C")])) == hash(ProgrammeFilter(units=(("region", "GN-C"),)))


def test_add_update_delete_with_versions_and_undo(store: Store) -> None:
    sid = store.add_record("station", {"name": "Poste de <b>Boulbinet</b>", "kind": "Poste de police", **KALOUM},
                           created_by="agent.k", today=TODAY)
    row = store.read("station", where={"id": sid}).iloc[0]
    assert (row["name"], row["kind"], row["subprefecture_id"], row["version"]) == (
        "Poste de <b>Boulbinet</b>", "poste", "GN-C-KALOUM", 1)
    batch = store.batches().iloc[0]
    assert (batch["kind"], batch["created_by"], batch["n_imported"]) == ("station:entry", "agent.k", 1)
    assert row["batch_id"] == batch["id"]

    # A new point without units: the units follow the point.
    v2 = store.update_record("station", sid, {"name": "Poste de Ratoma", **RATOMA}, version=1, today=TODAY)
    assert v2 == 2
    row = store.read("station", where={"id": sid}).iloc[0]
    assert (row["name"], row["kind"], row["subprefecture_id"], row["version"]) == (
        "Poste de Ratoma", "poste", "GN-C-RATOMA", 2)

    with pytest.raises(StaleVersionError):
        store.update_record("station", sid, {"name": "Écrasé"}, version=1, today=TODAY)
    with pytest.raises(InvalidRecordError) as bad:
        store.update_record("station", sid, {"kind": "navire"}, version=2, today=TODAY)
    assert bad.value.problems[["field", "code"]].values.tolist() == [["kind", "station_kind_unknown"]]
    assert store.read("station", where={"id": sid}).iloc[0]["name"] == "Poste de Ratoma"
    with pytest.raises(KeyError):
        store.update_record("station", sid + 99, {"name": "x"}, version=1)

    with pytest.raises(StaleVersionError):
        store.delete_record("station", sid, version=1)
    assert store.undo_batch(int(batch["id"])) == 1
    assert store.read("station").empty
    with pytest.raises(KeyError):
        store.delete_record("station", sid, version=2)


def test_invalid_entry_writes_nothing(store: Store) -> None:
    with pytest.raises(InvalidRecordError) as bad:
        store.add_record("council", {"name": "CLSPD de Kaloum", "unit": "Kaloum", "members_total": 10,
                                     "members_women": 12, "established_on": "31/02/2020"}, today=TODAY)
    assert sorted(bad.value.problems["code"]) == ["date_impossible", "women_above_total"]
    assert "women_above_total" in str(bad.value)
    assert store.counts()["council"] == 0 and store.batches().empty


def test_references_delete_in_use_and_cascades(sqlite_store: Store) -> None:
    store = sqlite_store
    store.write(_fixture(), kind="test")
    school = _ids_by_name(store, "school")["École primaire de Boulbinet"]
    version = int(store.read("school", where={"id": school}).iloc[0]["version"])
    with pytest.raises(RecordInUseError) as used:
        store.delete_record("school", school, version=version)
    assert used.value.dependents == {"school_visit": 2}
    assert store.counts()["school"] == 2

    # A visit by names: the school by a close spelling, the officer by name.
    vid = store.add_record("school_visit", {"school": "Ecole primaire Boulbinet", "officer": "agent 2",
                                            "visited_on": "15/05/2026", "students_reached": "1 250"}, today=TODAY)
    visit = store.read("school_visit", where={"id": vid}).iloc[0]
    assert (visit["school_id"], visit["officer_id"], visit["students_reached"]) == (school, 2, 1250)
    # The same visit again is a duplicate unless allowed.
    with pytest.raises(InvalidRecordError, match="duplicate_record"):
        store.add_record("school_visit", {"school_id": school, "officer_id": 2, "visited_on": D(2026, 5, 15),
                                          "students_reached": 10}, today=TODAY)
    store.add_record("school_visit", {"school_id": school, "officer_id": 2, "visited_on": D(2026, 5, 15),
                                      "students_reached": 10}, today=TODAY, allow_duplicate=True)

    # Deleting a council takes its meetings along (the schema cascades).
    council = _ids_by_name(store, "council")["CLSPD de Kaloum"]
    store.delete_record("council", council, version=1)
    assert sorted(store.read("council_meeting")["council_id"].tolist()) == [2]


def test_training_with_instructors(store: Store) -> None:
    for name in ("Mamadou Diallo", "Fatoumata Camara", "Ibrahima Sow"):
        store.add_record("instructor", {"name": name})
    ids = _ids_by_name(store, "instructor")
    tid = store.add_record("training", {"community_name": "Kankan", "start_on": "2025-03-03", "end_on": "07/03/2025",
                                        "module": "Violences basées sur le genre", "officers_trained": 40,
                                        "instructors": "Mamadou Diallo; fatoumata camara"}, today=TODAY)
    training = store.read("training", where={"id": tid}).iloc[0]
    assert (training["module"], training["subprefecture_id"]) == ("vbg", "GN-KA-KANKAN-CENTRE")
    links = store.read("training_instructor", where={"training_id": tid})
    assert sorted(links["instructor_id"]) == sorted([ids["Mamadou Diallo"], ids["Fatoumata Camara"]])

    store.update_record("training", tid, {"instructor_ids": [ids["Ibrahima Sow"]]}, version=1, today=TODAY)
    assert store.read("training_instructor", where={"training_id": tid})["instructor_id"].tolist() == [
        ids["Ibrahima Sow"]]
    assert store.read("training", where={"id": tid}).iloc[0]["officers_trained"] == 40  # untouched fields kept

    with pytest.raises(InvalidRecordError, match="instructor_unknown"):
        store.add_record("training", {"community_name": "Kankan", "start_on": D(2025, 4, 1), "end_on": D(2025, 4, 2),
                                      "module": "doctrine", "officers_trained": 5, "instructors": ["Personne"]},
                         today=TODAY)
    store.delete_record("training", tid, version=2)
    assert store.read("training_instructor").empty


def test_demo_parents_are_not_referenced(sqlite_store: Store) -> None:
    store = sqlite_store
    store.replace_demo({"council": _fixture()["council"]})
    with pytest.raises(InvalidRecordError, match="council_unknown"):
        store.add_record("council_meeting", {"council": "CLSPD de Kaloum", "held_on": D(2025, 1, 1)}, today=TODAY)


def test_entry_table_and_fields_are_checked(sqlite_store: Store) -> None:
    with pytest.raises(ValueError, match="instructor_ids"):
        sqlite_store.add_record("training_instructor", {"training_id": 1, "instructor_id": 1})
    with pytest.raises(ValueError, match="managed by the store"):
        sqlite_store.add_record("instructor", {"name": "A", "is_demo": True})
    with pytest.raises(ValueError, match="unknown field"):
        sqlite_store.add_record("instructor", {"nom": "A"})


def test_review_item_resubmitted_into_its_batch(sqlite_store: Store) -> None:
    store = sqlite_store
    store.write({"instructor": _fixture()["instructor"]}, kind="test")
    review = pd.DataFrame({"source_row": [4], "data": [{"Nom": ""}], "reasons": [["value_missing"]]})
    batch = store.write_programme("instructor", pd.DataFrame({"name": ["Aïssatou Bah"]}), review,
                                  mapping='{"name": "Nom"}', file_name="formateurs.csv")
    item = store.review_items(batch_id=batch).iloc[0]
    assert item["kind"] == "instructor"
    with pytest.raises(InvalidRecordError):
        store.resubmit_review_item(int(item["id"]), {"Nom": "  "}, version=int(item["version"]))
    new_id = store.resubmit_review_item(int(item["id"]), {"Nom": "Kadiatou Barry"}, version=int(item["version"]),
                                        resolved_by="lead")
    assert store.read("instructor", where={"id": new_id}).iloc[0]["batch_id"] == batch
    info = store.batches().set_index("id").loc[batch]
    assert (info["n_imported"], info["n_queued"]) == (2, 0)
    assert store.review_items(batch_id=batch).empty  # resolved
    with pytest.raises(StaleVersionError):
        store.resubmit_review_item(int(item["id"]), {"Nom": "Autre"}, version=int(item["version"]))
    assert store.undo_batch(batch) == 2


def test_demo_programme_figures_read_back_from_the_store(sqlite_store: Store) -> None:
    from demo.generate import generate
    from demo.programme import PROGRAMME_FIGURES, summary

    frames = generate(seed=2014, n_incidents=0, n_crashes=0)
    sqlite_store.replace_demo({name: frames[name] for name in PROGRAMME_TABLES})
    assert summary(sqlite_store.programme_frames()) == PROGRAMME_FIGURES
    assert summary(sqlite_store.programme_frames(ProgrammeFilter(include_demo=False)))["students"] == 0
