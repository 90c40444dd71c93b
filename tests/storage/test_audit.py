"""The audit log: one row per write path (with the row before and after), per import (batch and counts), per
undo and review change, written in the write's own transaction; filters and a formula-safe CSV export.
On SQLite and PostGIS."""

from __future__ import annotations

import datetime as dt
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

import geopandas as gpd
import shapely

from exchange.export import to_csv
from exchange.programme import validate
from storage import Store
from storage.programme import InvalidRecordError
from storage.roles import PermissionDenied, Viewer
from storage.users import User

TODAY = dt.date(2026, 6, 1)
KALOUM = {"lon": -13.7105, "lat": 9.5149}  # inside GN-C-KALOUM
CHIEF = Viewer(name="chef.kankan", role="commander", scopes=(("prefecture", "GN-KA"),))


def _log(store: Store, **where: object) -> list[dict]:
    """Audit rows oldest first, JSON decoded."""
    frame = store.audit_log(**where).sort_values("id")
    out = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        for key in ("before", "after"):
            row[key] = json.loads(row[key]) if row[key] is not None else None
        out.append(row)
    return out


def _incidents(n: int, *, lat: float = 9.5149) -> pd.DataFrame:
    return pd.DataFrame({"source_id": [f"A-{i}" for i in range(n)],
                         "occurred_at": pd.date_range("2026-02-01", periods=n, freq="D", tz="UTC"),
                         "category": "vol", "sensitive": False, "lon": -13.7105, "lat": [lat] * n,
                         "precision": "point", "region_id": "GN-C", "prefecture_id": "GN-C",
                         "subprefecture_id": "GN-C-KALOUM"})


def _no_review() -> pd.DataFrame:
    return pd.DataFrame({"source_row": [], "data": [], "reasons": []})


def test_add_update_delete_keep_the_row_before_and_after(store: Store) -> None:
    planner = User(7, "awa.conde", "Awa Condé", "planner")
    sid = store.add_record("station", {"name": "Poste de Boulbinet", "kind": "poste", **KALOUM}, today=TODAY,
                           user=planner)
    store.update_record("station", sid, {"name": "Poste de Boulbinet-Port", "contact": "+224 620"}, version=1,
                        today=TODAY, created_by='=HYPERLINK("http://x")')
    store.delete_record("station", sid, version=2, user=planner.viewer())
    create, update, delete = _log(store, table_name="station")
    batch = int(store.batches().iloc[0]["id"])
    assert (create["action"], create["username"], create["record_id"], create["batch_id"], create["before"]) == (
        "create", "awa.conde", sid, batch, None)
    assert create["after"]["name"] == "Poste de Boulbinet" and create["after"]["subprefecture_id"] == "GN-C-KALOUM"
    assert create["after"]["version"] == 1 and create["after"]["lon"] == pytest.approx(KALOUM["lon"])
    assert (update["action"], update["username"]) == ("update", '=HYPERLINK("http://x")')  # no user: the name given
    assert update["before"] == create["after"]
    changed = {k for k in update["after"] if update["after"][k] != update["before"][k]}
    assert changed == {"name", "contact", "version"}
    assert (delete["action"], delete["username"], delete["after"]) == ("delete", "awa.conde", None)
    assert delete["before"] == update["after"]
    # The CSV of the log is safe to open in a spreadsheet.
    text = to_csv(store.audit_log()).decode("utf-8-sig")
    assert '"\'=HYPERLINK(""http://x"")"' in text and ",=" not in text and '"=' not in text


def test_training_links_are_part_of_the_row(store: Store) -> None:
    ids = [store.add_record("instructor", {"name": n}) for n in ("Mamadou Diallo", "Ibrahima Sow")]
    tid = store.add_record("training", {"community_name": "Kankan", "start_on": "2025-03-03", "end_on": "2025-03-07",
                                        "module": "doctrine", "officers_trained": 40, "instructor_ids": ids[:1]},
                           today=TODAY)
    store.update_record("training", tid, {"instructor_ids": ids}, version=1, today=TODAY)
    update = _log(store, table_name="training", action="update")[0]
    assert (update["before"]["instructor_ids"], update["after"]["instructor_ids"]) == (ids[:1], sorted(ids))
    assert update["username"] == "system"


def test_refused_or_failed_writes_leave_no_trace(store: Store) -> None:
    with pytest.raises(InvalidRecordError):
        store.add_record("council", {"name": "CLSPD", "unit": "Kaloum", "members_total": 2, "members_women": 5},
                         today=TODAY)
    with pytest.raises(PermissionDenied):
        store.add_record("station", {"name": "Poste", "kind": "poste", **KALOUM}, today=TODAY, user=CHIEF)
    bad = _incidents(3)
    bad.loc[2, "lat"] = 123.0  # violates the latitude CHECK: the whole import rolls back, its audit row too
    with pytest.raises(Exception):  # noqa: B017 - driver-specific integrity error
        store.import_records("incident", bad, _no_review(), kind="incidents", file_name="x.csv", file_sha256=None)
    assert store.audit_log().empty and store.counts()["incident"] == 0


def test_imports_record_batch_and_counts_and_undo_keeps_history(store: Store) -> None:
    review = pd.DataFrame({"source_row": [9], "data": [{"date": "31/02/2026"}], "reasons": [["date_impossible"]]})
    batch = store.import_records("incident", _incidents(4), review, kind="incidents", file_name="registre.csv",
                                 file_sha256="ab" * 32, created_by="agent.k")
    (entry,) = _log(store, action="import")
    assert (entry["username"], entry["table_name"], entry["batch_id"], entry["record_id"]) == (
        "agent.k", "incident", batch, None)
    assert entry["after"] == {"kind": "incidents", "file_name": "registre.csv", "file_sha256": "ab" * 32,
                              "n_rows": 5, "n_imported": 4, "n_queued": 1}
    assert store.undo_batch(batch, user=Viewer(name="admin", role="administrator")) == 4
    undo = _log(store, action="undo")[0]
    assert (undo["username"], undo["batch_id"], undo["detail"]) == ("admin", batch, "4 records removed")
    assert undo["before"]["rows"] == {"incident": 4, "review_item": 1}
    assert [e["action"] for e in _log(store, batch_id=batch)] == ["import", "undo"]  # history outlives the rows
    assert store.undo_batch(batch) == 0 and len(_log(store, action="undo")) == 1  # nothing done, nothing logged


def test_every_bulk_path_is_an_import(store: Store) -> None:
    valid, problems = validate("instructor", pd.DataFrame({"name": ["Fatoumata Camara", "Sekou Touré"]}),
                               refs=store.programme_refs("instructor"), today=TODAY)
    assert problems.empty
    store.write_programme("instructor", valid, _no_review(), file_name="formateurs.xlsx")
    road = gpd.GeoDataFrame({"name": ["RN1"], "length_m": [1500.0]},
                            geometry=[shapely.LineString([(-13.70, 9.51), (-13.69, 9.52)])], crs="EPSG:4326")
    store.write_roads(road, file_name="routes.geojson")
    hoods = gpd.GeoDataFrame({"name": ["Boulbinet"]}, geometry=[shapely.box(-13.7125, 9.5120, -13.7085, 9.5160)],
                             crs="EPSG:4326")
    store.write_neighbourhoods(hoods, file_name="quartiers.gpkg")
    drawn = store.add_neighbourhood("Sandervalia", shapely.box(-13.7080, 9.5120, -13.7050, 9.5150),
                                    user=Viewer(name="planner", role="planner"))
    store.write({"instructor": pd.DataFrame({"name": ["Lt Soumah"]})}, kind="test")
    store.replace_demo({"instructor": pd.DataFrame({"name": ["Démo"]})})
    store.replace_demo({"instructor": pd.DataFrame({"name": ["Démo 2", "Démo 3"]})})
    log = _log(store)
    assert [(e["action"], e["table_name"]) for e in log] == [
        ("import", "instructor"), ("import", "road"), ("import", "neighbourhood"), ("create", "neighbourhood"),
        ("import", None), ("import", None), ("import", None)]
    assert log[0]["after"]["n_imported"] == 2 and log[1]["after"]["length_km"] == 1.5
    assert log[2]["after"]["file_name"] == "quartiers.gpkg"
    assert (log[3]["username"], log[3]["batch_id"], log[3]["after"]["name"]) == ("planner", drawn, "Sandervalia")
    assert log[3]["after"]["wkb"].endswith("bytes>")  # geometry summarised, not dumped
    assert log[4]["after"]["rows"] == {"instructor": 1}
    assert (log[6]["before"], log[6]["after"]["rows"], log[6]["detail"]) == (
        {"rows": {"instructor": 1}}, {"instructor": 2}, "demo data replaced")


def test_review_changes_are_audited(store: Store) -> None:
    review = pd.DataFrame({"source_row": [4, 5], "data": [{"lieu": "Toubaa"}, {"lieu": "?"}],
                           "reasons": [["place_not_found"], ["place_not_found"]]})
    batch = store.import_records("incident", _incidents(0), review, kind="incidents", file_name="f.csv",
                                 file_sha256=None)
    first, second = store.review_items(batch_id=batch)["id"].astype(int).tolist()
    v2 = store.update_review_item(first, version=1, data={"lieu": "Touba"}, reasons=["place_ambiguous"],
                                  user=User(3, "agent.b", None, "planner"))
    store.resolve_review_item(first, version=v2, table="incident", record=_incidents(1), resolved_by="agent.c")
    store.resolve_review_item(second, version=1, status="discarded")
    edit, resolve, discard = _log(store, table_name="review_item")
    assert (edit["username"], edit["before"]["data"], edit["after"]["data"]) == (
        "agent.b", {"lieu": "Toubaa"}, {"lieu": "Touba"})
    assert (edit["before"]["version"], edit["after"]["version"]) == (1, 2)
    assert (resolve["username"], resolve["detail"], resolve["after"]["status"]) == ("agent.c", "resolved", "resolved")
    assert resolve["after"]["records_added"]["incident"][0]["source_id"] == "A-0"
    assert (discard["detail"], discard["after"]["status"], discard["batch_id"]) == ("discarded", "discarded", batch)


def test_programme_review_resubmission_is_audited(store: Store) -> None:
    review = pd.DataFrame({"source_row": [2], "data": [{"name": ""}], "reasons": [["required"]]})
    batch = store.write_programme("instructor", pd.DataFrame(), review, file_name="f.csv")
    item = int(store.review_items(batch_id=batch)["id"].iloc[0])
    new_id = store.resubmit_review_item(item, {"name": "Mariama Barry"}, version=1, resolved_by="agent.d",
                                        today=TODAY)
    resolved, created = _log(store)[-2:]
    assert (resolved["table_name"], resolved["record_id"], resolved["after"]["status"]) == ("review_item", item,
                                                                                           "resolved")
    assert (created["action"], created["table_name"], created["record_id"], created["after"]["name"]) == (
        "create", "instructor", new_id, "Mariama Barry")
    assert created["username"] == "agent.d"


def test_filters_and_export_events(store: Store) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)  # in the past: the export below is "now"
    store.create_user("fatou", "mot-de-passe-long", "planner")
    store.authenticate("fatou", "faux-mot-de-passe", now=t0)
    store.authenticate("fatou", "mot-de-passe-long", now=t0 + timedelta(hours=2))
    store.record_audit("export", user=User(1, "fatou", None, "planner"), table_name="incident",
                       detail="incidents.csv: 12 rows")
    assert [e["action"] for e in _log(store, username="fatou")] == ["login_failed", "login", "export"]
    window = _log(store, start=t0 - timedelta(minutes=1), end=t0 + timedelta(hours=1))
    assert [e["action"] for e in window] == ["login_failed"]
    # A bound in another time zone is converted, not read as UTC: t0 + 1 h 30 written in Conakry's neighbour
    # zone (UTC+1) is t0 + 30 min wall time + 1 h.
    plus_one = (t0 + timedelta(minutes=90)).astimezone(dt.timezone(timedelta(hours=1)))
    assert [e["action"] for e in _log(store, start=plus_one, username="fatou")] == ["login", "export"]
    naive = (t0 + timedelta(minutes=90)).replace(tzinfo=None)  # naive bounds are UTC
    assert [e["action"] for e in _log(store, end=naive, username="fatou")] == ["login_failed"]
    assert len(store.audit_log(limit=2)) == 2
    frame = store.audit_log()
    assert frame["at"].dtype == "datetime64[us, UTC]" and str(frame["batch_id"].dtype) == "Int64"
    with pytest.raises(ValueError, match="unknown audit action"):
        store.record_audit("read")
