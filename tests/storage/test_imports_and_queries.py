"""Import batches, undo, the review queue (optimistic locking) and incident reads, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from geo import cells
from storage import StaleVersionError, Store
from storage.queries import IncidentFilter, Viewer


def _incidents(n: int, *, sensitive_every: int = 0, lon0: float = -13.70, lat0: float = 9.52) -> pd.DataFrame:
    lon = [lon0 + 0.0001 * i for i in range(n)]
    lat = [lat0] * n
    c8 = cells.to_db(cells.points_to_cells(lon, lat, 8))
    c9 = cells.to_db(cells.points_to_cells(lon, lat, 9))
    sens = [bool(sensitive_every) and i % sensitive_every == 0 for i in range(n)]
    return pd.DataFrame({
        "source_id": [f"S-{i}" for i in range(n)],
        "occurred_at": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
        "category": ["viol" if s else "vol" for s in sens],
        "sensitive": sens,
        "severity": pd.array([2] * n, dtype="Int64"),
        "description": ["=HYPERLINK(\"x\") <b>'quoted'</b>"] * n,
        "place_name": ["Kaloum"] * n,
        "lon": lon, "lat": lat, "precision": ["point"] * n,
        "region_id": ["GN-C"] * n, "prefecture_id": ["GN-C"] * n, "subprefecture_id": ["GN-C-KALOUM"] * n,
        "h3_r8": pd.array(c8, dtype="Int64"), "h3_r9": pd.array(c9, dtype="Int64"),
        "source_row": range(2, n + 2), "flags": [None] * n, "geocode_score": [float("nan")] * n,
    })


def _review(rows: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"source_row": rows, "data": [{"date": "31/02/2024", "lieu": "Kaloum"} for _ in rows],
                         "reasons": [["date_impossible"] for _ in rows]})


def test_import_round_trip_and_undo(store: Store) -> None:
    batch = store.import_records("incident", _incidents(50), _review([7, 9]), kind="incidents",
                                 file_name="registre.csv", file_sha256="ab" * 32, file_format="csv", mapping="{}")
    got = store.read("incident", where={"batch_id": batch})
    assert len(got) == 50 and got["source_id"].iloc[0] == "S-0"
    assert got["occurred_at"].iloc[1] == pd.Timestamp("2026-01-01 01:00", tz="UTC")
    assert (got["h3_r8"].astype("int64") == _incidents(50)["h3_r8"].astype("int64")).all()
    assert got["description"].iloc[0] == "=HYPERLINK(\"x\") <b>'quoted'</b>"
    info = store.batches("incidents").iloc[0]
    assert (info["n_rows"], info["n_imported"], info["n_queued"]) == (52, 50, 2)
    queue = store.review_items(batch_id=batch)
    assert queue["reasons"].tolist() == [["date_impossible"], ["date_impossible"]]
    assert queue["data"].iloc[0]["lieu"] == "Kaloum"

    assert store.undo_batch(batch) == 50
    assert store.read("incident", where={"batch_id": batch}).empty
    assert store.review_items(batch_id=batch).empty
    assert store.batches("incidents").iloc[0]["undone_at"] is not None
    assert store.undo_batch(batch) == 0


def test_failed_import_changes_nothing(store: Store) -> None:
    bad = _incidents(10)
    bad.loc[9, "lat"] = 123.0  # violates the latitude CHECK on the last row
    with pytest.raises(Exception):  # noqa: B017 - driver-specific integrity error
        store.import_records("incident", bad, _review([3]), kind="incidents", file_name="x.csv", file_sha256=None)
    assert store.counts()["incident"] == 0
    assert store.batches().empty and store.review_items().empty


def test_review_item_resolution_and_stale_version(store: Store) -> None:
    batch = store.import_records("incident", _incidents(1), _review([4]), kind="incidents", file_name="f.csv",
                                 file_sha256=None)
    item = store.review_items(batch_id=batch).iloc[0]
    v2 = store.update_review_item(int(item["id"]), version=int(item["version"]), data={"date": "28/02/2024"},
                                  reasons=["category_unknown"])
    with pytest.raises(StaleVersionError):
        store.update_review_item(int(item["id"]), version=int(item["version"]), data={"x": 1}, reasons=[])
    fixed = _incidents(1).assign(source_id="S-fixed")
    store.resolve_review_item(int(item["id"]), version=v2, table="incident", record=fixed)
    assert store.review_items(batch_id=batch).empty
    assert store.review_items(status="resolved", batch_id=batch)["data"].iloc[0] == {"date": "28/02/2024"}
    assert set(store.read("incident", where={"batch_id": batch})["source_id"]) == {"S-0", "S-fixed"}
    info = store.batches("incidents").iloc[0]
    assert (info["n_imported"], info["n_queued"]) == (2, 0)


def test_saved_mappings_and_existing_values(store: Store) -> None:
    store.save_mapping("incidents", "Matam", '{"fields": {"date": "Date"}}')
    store.save_mapping("incidents", "Matam", '{"fields": {"date": "Jour"}}')
    assert store.mappings("incidents") == {"Matam": '{"fields": {"date": "Jour"}}'}
    store.import_records("incident", _incidents(3), _review([]), kind="incidents", file_name="f", file_sha256=None)
    assert store.existing_values("incident", "source_id", ["S-1", "S-9", None]) == {"S-1"}
    keys = store.incident_keys(datetime(2025, 12, 31, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    assert len(keys) == 3 and set(keys["category"]) == {"vol"}


def test_sensitive_points_never_reach_a_viewer_without_access(store: Store) -> None:
    store.import_records("incident", _incidents(40, sensitive_every=10), _review([]), kind="incidents",
                         file_name="f", file_sha256=None)
    everyone, allowed = Viewer(), Viewer(can_see_sensitive=True)
    assert not store.incident_points(IncidentFilter(), everyone)["sensitive"].any()
    assert store.incident_points(IncidentFilter(), allowed)["sensitive"].sum() == 4
    counts = store.incident_counts(IncidentFilter(), everyone, by="h3_r8")
    total = store.incident_counts(IncidentFilter(), allowed, by="h3_r8")
    assert total["count"].sum() == 40 and total["sensitive"].sum() == 4
    # 4 sensitive reports spread over cells: each cell holds fewer than 5, so all are suppressed
    assert counts["sensitive"].sum() == 0 and counts["count"].sum() == 36 and counts["suppressed"].any()
    lenient = Viewer(suppression_threshold=1)
    assert store.incident_counts(IncidentFilter(), lenient, by="h3_r8")["sensitive"].sum() == 4


def test_filters_are_parameters_not_sql(store: Store) -> None:
    store.import_records("incident", _incidents(5), _review([]), kind="incidents", file_name="f", file_sha256=None)
    evil = "vol'; DROP TABLE incident; --"
    assert store.incident_points(IncidentFilter(categories=(evil,)), Viewer()).empty
    assert store.incident_points(IncidentFilter(units=(("prefecture", evil),)), Viewer()).empty
    assert store.counts()["incident"] == 5
    box = IncidentFilter(bbox=(-13.7001, 9.5, -13.6995, 9.6))
    assert len(store.incident_points(box, Viewer())) == 5
    period = IncidentFilter(start=datetime(2026, 1, 1, 2, tzinfo=UTC), end=datetime(2026, 1, 1, 4, tzinfo=UTC))
    assert len(store.incident_points(period, Viewer())) == 2
