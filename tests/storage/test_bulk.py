"""Bulk appends (storage.bulk): every path stores what the row-by-row ``Store.write`` stores, in order, atomically."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import h3

from storage import Store, bulk
from storage.schema import import_batch, metadata
from storage.store import SQLITE_CACHE_KB

INCIDENT = metadata.tables["incident"]
#: Columns the store fills itself, different between two writes of the same rows.
BOOKKEEPING = ["id", "batch_id", "created_at"]
UTC = dt.UTC


def _h3(lat: float, lon: float, res: int) -> int:
    return h3.str_to_int(h3.latlng_to_cell(lat, lon, res))


def _incidents(n: int, seed: int = 0) -> pd.DataFrame:
    """Every column type of the incident table, with missing values, quotes, accents and 63-bit H3 ids."""
    rng = np.random.default_rng(seed)
    lon = -13.7 + rng.uniform(0, 0.2, n)
    lat = 9.5 + rng.uniform(0, 0.2, n)
    lon[::7] = np.nan
    cell = pd.array([_h3(9.6, -13.7, 9) + 2**30 * i for i in range(n)], dtype="Int64")  # > 2**53: no float round trip
    cell[::5] = pd.NA
    severity = pd.array(rng.integers(1, 4, n), dtype="Int64")
    severity[::3] = pd.NA
    when = pd.Series(pd.to_datetime("2026-01-01", utc=True) + pd.to_timedelta(rng.integers(0, 10**12, n), unit="us"))
    return pd.DataFrame({
        "source_id": pd.Series([None if i % 4 == 0 else f"S-{i}" for i in range(n)], dtype=object),
        "occurred_at": when,
        "category": np.where(np.arange(n) % 2 == 0, "vol", "viol"),
        "sensitive": np.arange(n) % 2 == 1,
        "severity": severity,
        "description": [["Vol à l'arraché", "=HYPERLINK(\"x\")", None, "ligne\nsuivante", ""][i % 5] for i in range(n)],
        "place_name": [None] * n,
        "lon": lon, "lat": lat,
        "precision": ["point"] * n,
        "region_id": ["GN-C"] * n, "prefecture_id": pd.Series(["GN-C", None] * (n // 2) + ["GN-C"] * (n % 2)),
        "subprefecture_id": ["GN-C-KALOUM"] * n,
        "h3_r9": cell,
        "source_row": np.arange(2, n + 2),
        "flags": [None] * (n - 1) + ["swapped_coordinates"],
        "geocode_score": np.where(np.arange(n) % 3 == 0, np.nan, 87.5),
    })


def _empty_review() -> pd.DataFrame:
    return pd.DataFrame({"source_row": [], "data": [], "reasons": []})


def _stored(store: Store, batch_id: int) -> pd.DataFrame:
    return store.read("incident", where={"batch_id": batch_id}).drop(columns=BOOKKEEPING).reset_index(drop=True)


def _reference(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows through the row-by-row path (``Store.write``), read back."""
    return _stored(store, store.write({"incident": frame}, kind="reference"))


@pytest.fixture(params=["side database", "temp table"])
def sqlite_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both SQLite paths, whatever the size of the test frames."""
    if request.param == "side database":
        if bulk._adbc_sqlite is None:
            pytest.skip("adbc-driver-sqlite is not installed")
        monkeypatch.setattr(bulk, "SIDE_DATABASE_FROM", 1)
    else:
        monkeypatch.setattr(bulk, "_adbc_sqlite", None)
        monkeypatch.setattr(bulk, "CHUNK_ROWS", 37)  # several chunks, the last one short
    return request.param


def test_sqlite_paths_store_what_the_row_path_stores(sqlite_store: Store, sqlite_path: str) -> None:
    frame = _incidents(203)
    batch = sqlite_store.import_records("incident", frame, _empty_review(), kind="incidents", file_name="a.csv",
                                        file_sha256="0" * 64)
    got = _stored(sqlite_store, batch)
    pd.testing.assert_frame_equal(got, _reference(sqlite_store, frame))
    # Known answers too (the reference could share a bug): order, big integers, text, missing values.
    assert got["source_row"].tolist() == list(range(2, 205))
    assert got["h3_r9"].tolist()[1:3] == [_h3(9.6, -13.7, 9) + 2**30, _h3(9.6, -13.7, 9) + 2**31]
    text = got["description"].head(5)
    assert text.isna().tolist() == [False, False, True, False, False]
    assert text.dropna().tolist() == ["Vol à l'arraché", "=HYPERLINK(\"x\")", "ligne\nsuivante", ""]
    assert got["occurred_at"].tolist() == frame["occurred_at"].tolist()
    assert got["lon"].isna().sum() == len(range(0, 203, 7))


def test_postgis_copy_stores_what_the_row_path_stores(postgis_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 37)
    frame = _incidents(203)
    batch = postgis_store.import_records("incident", frame, _empty_review(), kind="incidents", file_name="a.csv",
                                         file_sha256="0" * 64)
    got = _stored(postgis_store, batch)
    pd.testing.assert_frame_equal(got, _reference(postgis_store, frame))
    assert got["source_row"].tolist() == list(range(2, 205))


def test_naive_datetimes_are_utc_and_ids_follow_the_frame(sqlite_store: Store, sqlite_path: str) -> None:
    frame = _incidents(50).assign(occurred_at=pd.date_range("2026-03-01 10:15:30.123456", periods=50, freq="h"))
    batch = sqlite_store.import_records("incident", frame, _empty_review(), kind="incidents", file_name=None,
                                        file_sha256=None)
    got = sqlite_store.read("incident", where={"batch_id": batch})
    assert got["occurred_at"].iloc[0] == pd.Timestamp("2026-03-01 10:15:30.123456", tz="UTC")
    assert got["id"].is_monotonic_increasing and got["source_row"].tolist() == list(range(2, 52))
    with sqlite_store.engine.connect() as conn:  # SQLAlchemy's text form, so SQL range filters keep working
        text = conn.exec_driver_sql("SELECT occurred_at FROM incident ORDER BY id LIMIT 1").scalar_one()
    assert text == "2026-03-01 10:15:30.123456"


def test_a_failed_import_leaves_the_store_unchanged(sqlite_store: Store, sqlite_path: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "staging"))
    (tmp_path / "staging").mkdir()
    good = sqlite_store.import_records("incident", _incidents(30), _empty_review(), kind="incidents",
                                       file_name=None, file_sha256=None)
    bad = _incidents(40)
    bad.loc[33, "lat"] = 200.0  # passes conversion, violates the table's CHECK inside the transaction
    with pytest.raises(sa.exc.IntegrityError):
        sqlite_store.import_records("incident", bad, _empty_review(), kind="incidents", file_name=None,
                                    file_sha256=None)
    assert sqlite_store.counts()["incident"] == 30
    assert sqlite_store.batches()["id"].tolist() == [good]
    assert not list((tmp_path / "staging").iterdir())  # side databases deleted
    with sqlite_store.engine.connect() as conn:  # and none left attached to a pooled connection
        assert not [row[1] for row in conn.exec_driver_sql("PRAGMA database_list") if row[1] not in ("main", "temp")]
    again = sqlite_store.import_records("incident", _incidents(40), _empty_review(), kind="incidents",
                                        file_name=None, file_sha256=None)
    assert len(sqlite_store.read("incident", where={"batch_id": again})) == 40


def test_bad_values_are_refused_before_anything_is_written(store: Store) -> None:
    frame = _incidents(10).astype({"geocode_score": object})
    frame.loc[4, "geocode_score"] = "high"
    with pytest.raises(ValueError, match="incident.geocode_score"):
        store.import_records("incident", frame, _empty_review(), kind="incidents", file_name=None, file_sha256=None)
    with pytest.raises(ValueError, match="unknown column"):
        store.import_records("incident", _incidents(3).assign(colour="red"), _empty_review(), kind="incidents",
                             file_name=None, file_sha256=None)
    assert store.counts()["incident"] == 0 and store.batches().empty


def test_large_loads_rebuild_the_indexes(sqlite_store: Store, sqlite_path: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 100)
    monkeypatch.setattr(bulk, "CACHE_KIB_PER_ROW", 1000)  # 150 rows: a 150 MB page cache during the load
    dropped: list[str] = []
    cache_during: list[int] = []
    drop = sa.Index.drop

    def spy(ix: sa.Index, bind: sa.Connection, **kw: object) -> None:
        dropped.append(ix.name)
        cache_during.append(bind.exec_driver_sql("PRAGMA cache_size").scalar_one())
        drop(ix, bind, **kw)

    monkeypatch.setattr(sa.Index, "drop", spy)

    def indexes() -> set[str]:
        with sqlite_store.engine.connect() as conn:
            return {ix["name"] for ix in sa.inspect(conn).get_indexes("incident")}

    expected = {ix.name for ix in INCIDENT.indexes}
    assert indexes() == expected
    sqlite_store.import_records("incident", _incidents(150), _empty_review(), kind="incidents", file_name=None,
                                file_sha256=None)
    assert set(dropped) == expected and indexes() == expected
    assert set(cache_during) == {-150_000}
    with sqlite_store.engine.connect() as conn:  # the pooled connection is handed back with its usual cache
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -SQLITE_CACHE_KB
    dropped.clear()
    sqlite_store.import_records("incident", _incidents(60), _empty_review(), kind="incidents", file_name=None,
                                file_sha256=None)  # below the threshold: indexes kept, no rebuild
    assert not dropped and indexes() == expected


def test_constants_are_bound_once_and_checked(sqlite_store: Store) -> None:
    with sqlite_store.engine.begin() as conn:
        batch = conn.execute(import_batch.insert().returning(import_batch.c.id),
                             {"kind": "x", "is_demo": False}).scalar_one()
        assert bulk.bulk_insert(conn, INCIDENT, _incidents(5), {"batch_id": batch, "is_demo": True}) == 5
        with pytest.raises(ValueError, match="staged already or unknown"):
            bulk.bulk_insert(conn, INCIDENT, _incidents(5).assign(batch_id=batch), {"batch_id": batch})
        with pytest.raises(ValueError, match="staged already or unknown"):
            bulk.bulk_insert(conn, INCIDENT, _incidents(5), {"colour": "red"})
    got = sqlite_store.read("incident")
    assert got["batch_id"].tolist() == [batch] * 5 and got["is_demo"].all()


def test_stage_inside_a_transaction_falls_back_to_memory(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database cannot be attached inside a transaction: ``stage`` must not try."""
    monkeypatch.setattr(bulk, "SIDE_DATABASE_FROM", 1)
    with sqlite_store.engine.begin() as conn, bulk.stage(conn, INCIDENT, _incidents(8)) as rows:
        assert rows.source is None
        assert rows.insert(conn) == 8
    assert sqlite_store.counts()["incident"] == 8


def test_existing_values_finds_exactly_the_stored_ones(store: Store) -> None:
    odd = ['a"quote', "back\\slash", "tab\there", "é-accent", "S-12"]
    frame = _incidents(30).assign(source_id=[*odd, *(f"K-{i}" for i in range(25))])
    store.import_records("incident", frame, _empty_review(), kind="incidents", file_name=None, file_sha256=None)
    asked = [*odd, "absent", None, *(f"K-{i}" for i in range(0, 5000, 3))]  # > 900: once needed chunks
    expected = {*odd, *(f"K-{i}" for i in range(0, 25, 3))}
    assert store.existing_values("incident", "source_id", asked) == expected
    assert store.existing_values("incident", "source_id", iter(["K-1", "nope"])) == {"K-1"}
    assert store.existing_values("incident", "source_id", []) == set()
