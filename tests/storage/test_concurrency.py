"""Several app processes writing to one database at the same time (multi-user deployment).

Real OS processes (multiprocessing, spawn), each with its own engine and pool, as two
Streamlit servers behind one PostGIS would be. They start together on a barrier and
write at the same time: programme records one by one (``Store.add_record``) around an
incident file import (``exchange.service.import_incidents``, one bulk transaction).
Nothing may be lost, no batch may be torn, no deadlock or serialization error may reach
the caller. A second test races two processes saving the same records under optimistic
locking: exactly one save per record wins, the other gets ``StaleVersionError``.

The SQLite variant checks the embedded default: SQLite serialises writers, and the
store's ``PRAGMA busy_timeout`` (``storage.store.SQLITE_BUSY_TIMEOUT_MS``, 10 s) makes a
writer wait for the lock instead of failing at once with "database is locked". A write
transaction here holds the lock for milliseconds (a large import for a few seconds), so
10 s is ample for a handful of concurrent users; several app processes on one SQLite
file work, but PostGIS is the deployment for many users.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import sys
import traceback
import types
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from storage import StaleVersionError, Store, open_store
from storage.store import SQLITE_BUSY_TIMEOUT_MS

TODAY = date(2026, 6, 1)
N_RECORDS = 150
N_INCIDENTS = 300
N_RACES = 10
TIMEOUT = 240
#: Inland points (Conakry's Ratoma, Kindia, Labé, Kankan) with room for a jitter of ±0.01°.
PLACES = [(9.6604, -13.5916, "Ratoma"), (10.0565, -12.8665, "Kindia"), (11.3182, -12.2833, "Labé"),
          (10.3714, -9.2682, "Kankan")]
CATEGORIES = ["Vol simple", "Coups et blessures", "Conflit foncier"]


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _incident_csv(path: Path, tag: str, n: int) -> Path:
    """A clean file of ``n`` reports with ids unique to ``tag`` (no duplicate with the other writer)."""
    rng = np.random.default_rng(sum(map(ord, tag)))
    place = rng.integers(0, len(PLACES), n)
    lat = np.array([PLACES[p][0] for p in place]) + rng.uniform(-0.01, 0.01, n)
    lon = np.array([PLACES[p][1] for p in place]) + rng.uniform(-0.01, 0.01, n)
    day = [date(2025, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 365, n)]
    pd.DataFrame({
        "id": [f"{tag}-{i:04d}" for i in range(n)],
        "date": [d.isoformat() for d in day],
        "heure": [f"{h:02d}:{m:02d}" for h, m in zip(rng.integers(0, 24, n), rng.integers(0, 60, n), strict=True)],
        "categorie": [CATEGORIES[i % len(CATEGORIES)] for i in range(n)],
        "latitude": lat.round(5), "longitude": lon.round(5),
        "lieu": [PLACES[p][2] for p in place],
        "description": [f"Rapport {i} du poste {tag}" for i in range(n)],
    }).to_csv(path, index=False)
    return path


# -- worker processes (module level: spawn pickles them by name) -----------------------------------


def _writer(url: str, tag: str, csv: str, n_records: int, barrier: Any, results: Any) -> None:
    """Add ``n_records`` instructors one by one, importing the incident file a quarter of the way through."""
    try:
        from exchange.service import import_incidents

        store = open_store(url)
        try:
            ids, imported = [], None
            barrier.wait(timeout=TIMEOUT)
            for i in range(n_records):
                ids.append(store.add_record("instructor", {"name": f"Formateur {tag}-{i:03d}"}, created_by=tag,
                                            today=TODAY))
                if i == n_records // 4:
                    result = import_incidents(store, Path(csv), created_by=tag, today=TODAY)
                    imported = (result.batch_id, result.plan.summary()["imported"], result.plan.summary()["queued"])
            results.put((tag, "ok", {"ids": ids, "import": imported}))
        finally:
            store.dispose()
    except BaseException:  # report everything: the parent asserts that no error surfaced
        results.put((tag, "error", traceback.format_exc()))


def _racer(url: str, tag: str, training_ids: list[int], instructor_id: int, officers: int, barrier: Any,
           results: Any) -> None:
    """Save every training at version 1, in step with the other racer (one barrier per record)."""
    try:
        store = open_store(url)
        try:
            outcomes = []
            for tid in training_ids:
                barrier.wait(timeout=TIMEOUT)
                try:
                    store.update_record("training", tid, {"officers_trained": officers,
                                                          "instructor_ids": [instructor_id]}, version=1, today=TODAY)
                    outcomes.append("won")
                except StaleVersionError:
                    outcomes.append("stale")
            results.put((tag, "ok", outcomes))
        finally:
            store.dispose()
    except BaseException:
        results.put((tag, "error", traceback.format_exc()))


def _run_together(target: Any, args_by_tag: dict[str, tuple]) -> dict[str, Any]:
    """Start one spawned process per tag on a shared barrier; return each one's result, failing on errors."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(len(args_by_tag)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, results), name=f"writer-{tag}")
             for tag, args in args_by_tag.items()]
    # Spawn re-runs ``__main__`` in each child; after Streamlit's AppTest ran in this process that is one
    # of its generated scripts, so hide it while starting (the workers live in this importable module).
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        for p in procs:
            p.start()
    finally:
        sys.modules["__main__"] = main
    out: dict[str, Any] = {}
    try:
        for _ in procs:
            tag, status, payload = results.get(timeout=TIMEOUT)
            assert status == "ok", f"process {tag} failed:\n{payload}"
            out[tag] = payload
    except queue.Empty:
        pytest.fail(f"no result within {TIMEOUT} s (deadlock?)")
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
                p.join()
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return out


# -- the checks -------------------------------------------------------------------------------------


def _assert_nothing_lost(store: Store, results: dict[str, Any], n_records: int) -> None:
    instructors = store.read("instructor", columns=["id", "name", "batch_id"])
    expected = {f"Formateur {tag}-{i:03d}" for tag in results for i in range(n_records)}
    assert len(instructors) == len(expected) == n_records * len(results)
    assert set(instructors["name"]) == expected
    returned = [i for r in results.values() for i in r["ids"]]
    assert sorted(returned) == sorted(instructors["id"]) and len(set(returned)) == len(returned)
    # Each record is its own batch of one; each import is one batch holding exactly its rows.
    batches = store.batches()
    entries = batches[batches["kind"] == "instructor:entry"]
    assert len(entries) == len(expected) and instructors["batch_id"].is_unique
    assert set(instructors["batch_id"]) == set(entries["id"])
    incidents = store.read("incident", columns=["id", "source_id", "batch_id"])
    for tag, result in results.items():
        batch_id, imported, queued = result["import"]
        assert (imported, queued) == (N_INCIDENTS, 0)
        mine = incidents[incidents["batch_id"] == batch_id]
        assert len(mine) == imported and set(mine["source_id"]) == {f"{tag}-{i:04d}" for i in range(N_INCIDENTS)}
        row = batches[batches["id"] == batch_id].iloc[0]
        assert (row["n_imported"], row["n_queued"], row["created_by"]) == (N_INCIDENTS, 0, tag)
    assert len(incidents) == N_INCIDENTS * len(results)


@pytest.fixture
def csv_files(tmp_path: Path) -> dict[str, str]:
    return {tag: str(_incident_csv(tmp_path / f"{tag}.csv", tag, N_INCIDENTS)) for tag in ("A", "B")}


@pytest.mark.postgis
def test_two_processes_writing_at_once_lose_nothing_postgis(postgis_store: Store, csv_files: dict[str, str]) -> None:
    url = _url(postgis_store)
    results = _run_together(_writer, {tag: (url, tag, csv, N_RECORDS) for tag, csv in csv_files.items()})
    _assert_nothing_lost(postgis_store, results, N_RECORDS)
    # The ids really interleave: both processes wrote while the other was writing.
    a, b = sorted(results["A"]["ids"]), sorted(results["B"]["ids"])
    assert a[0] < b[-1] and b[0] < a[-1]


@pytest.mark.postgis
def test_optimistic_locking_one_winner_per_record_postgis(postgis_store: Store) -> None:
    store = postgis_store
    teachers = {tag: store.add_record("instructor", {"name": f"Formateur {tag}"}, today=TODAY) for tag in "ABC"}
    first = date(2025, 1, 1)
    trainings = [store.add_record("training", {"community_name": "Kankan", "start_on": first + timedelta(7 * k),
                                               "end_on": first + timedelta(7 * k + 2), "module": "doctrine",
                                               "officers_trained": 10, "instructor_ids": [teachers["C"]]},
                                  today=TODAY)
                 for k in range(N_RACES)]
    officers = {"A": 111, "B": 222}
    url = _url(store)
    results = _run_together(_racer, {tag: (url, tag, trainings, teachers[tag], officers[tag]) for tag in "AB"})
    rows = store.read("training", where={"id": trainings}).set_index("id")
    links = store.read("training_instructor", where={"training_id": trainings})
    for k, tid in enumerate(trainings):
        outcome = {tag: results[tag][k] for tag in "AB"}
        assert sorted(outcome.values()) == ["stale", "won"], (tid, outcome)
        winner = next(tag for tag, o in outcome.items() if o == "won")
        # The winner's whole save is there (fields and links, one transaction), nothing of the loser's.
        assert rows.loc[tid, "version"] == 2 and rows.loc[tid, "officers_trained"] == officers[winner]
        assert links[links["training_id"] == tid]["instructor_id"].tolist() == [teachers[winner]]


def test_two_processes_writing_at_once_lose_nothing_sqlite(tmp_path: Path, csv_files: dict[str, str]) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with open_store(url) as store:  # migrate once, as the first app process would
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
    results = _run_together(_writer, {tag: (url, tag, csv, N_RECORDS // 2) for tag, csv in csv_files.items()})
    with open_store(url) as store:
        _assert_nothing_lost(store, results, N_RECORDS // 2)
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"


@pytest.fixture(autouse=True)
def _no_stray_processes() -> Iterator[None]:
    yield
    assert not mp.active_children()
