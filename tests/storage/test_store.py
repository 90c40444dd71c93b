"""Store behaviour, run on SQLite and PostGIS (see tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import platformdirs
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import h3

from storage import TABLES, Store, open_store
from storage.schema import POINT_TABLES, WRITABLE, include_object, metadata
from storage.store import ENV_URL, normalize_url

HEAD = "0007_local_plans"
UTC = dt.UTC
EVIL = "O'Brien'; DROP TABLE incident;--"


def _h3(lat: float, lon: float, res: int) -> int:
    return h3.str_to_int(h3.latlng_to_cell(lat, lon, res))


def sample_frames() -> dict[str, pd.DataFrame]:
    """A small literal dataset around Conakry. Local ids are deliberately not 1..n."""
    return {
        "station": pd.DataFrame({
            "id": [7, 3],
            "name": ["Commissariat central de Kaloum", "Poste de Matam"],
            "kind": ["commissariat", "poste"],
            "region_id": ["GN-C", "GN-C"],
            "prefecture_id": ["GN-C-KALOUM", "GN-C-MATAM"],
            "lon": [-13.7, -13.66],
            "lat": [9.6, 9.55],
            "contact": ["+224 620 00 00 01", None],
        }),
        "school": pd.DataFrame({
            "id": [42], "name": ["École primaire de Boulbinet"], "level": ["primary"],
            "region_id": ["GN-C"], "lon": [-13.69], "lat": [9.51], "enrolment": [640],
        }),
        "outreach_officer": pd.DataFrame({"id": [5], "name": ["Adjudant Camara"],
                                          "station_id": [3]}),
        "school_visit": pd.DataFrame({
            "id": [1, 2], "school_id": [42, 42], "officer_id": [5, 5],
            "visited_on": [dt.date(2024, 3, 4), dt.date(2024, 5, 6)],
            "students_reached": [120, 95], "topics": ["drogues", None],
        }),
        "women_visit_day": pd.DataFrame({
            "station_id": [7], "held_on": [dt.date(2024, 3, 8)], "women_count": [35],
            "topics": ["violences conjugales"], "complaints_after": [np.nan],
        }),
        "council": pd.DataFrame({
            "id": [9], "name": ["CLSPD de Kaloum"], "unit_level": ["subprefecture"],
            "unit_id": ["GN-C-KALOUM"], "region_id": ["GN-C"],
            "established_on": [dt.date(2019, 6, 1)], "chair_role": ["maire"],
            "chair_name": ["M. Diallo"], "members_total": [20], "members_women": [7],
            "members_youth": [5], "plan_adopted_on": [None],
        }),
        "council_meeting": pd.DataFrame({
            "council_id": [9], "held_on": [dt.date(2024, 2, 1)], "attendance": [18],
            "attendance_women": [6], "topics": ["éclairage public"], "decisions": ["patrouilles"],
        }),
        "instructor": pd.DataFrame({"id": [11, 12], "name": ["Cdt Bah", "Lt Soumah"]}),
        "training": pd.DataFrame({
            "id": [8], "community_name": ["Dixinn"], "region_id": ["GN-C"],
            "start_on": [dt.date(2024, 4, 1)], "end_on": [dt.date(2024, 4, 5)],
            "module": ["police de proximité"], "officers_trained": [25],
        }),
        "training_instructor": pd.DataFrame({"training_id": [8, 8], "instructor_id": [12, 11]}),
        "incident": pd.DataFrame({
            "source_id": ["a-1", "a-2", None],
            "occurred_at": [
                pd.Timestamp("2024-06-01T10:00:00+01:00"),  # -> 09:00 UTC
                pd.Timestamp("2024-06-02T23:30:00+00:00"),
                pd.Timestamp("2024-06-03T08:15:00+00:00"),
            ],
            "category": ["vol", "agression", "vol"],
            "sensitive": [False, True, False],
            "severity": pd.array([1, 3, None], dtype="Int64"),
            "description": ["Vol à l'arraché", None, "Cambriolage"],
            "lon": [-13.7, -13.67, np.nan],
            "lat": [9.6, 9.53, np.nan],
            "precision": ["point", "point", "prefecture"],
            "prefecture_id": ["GN-C-KALOUM", "GN-C-MATAM", "GN-C-DIXINN"],
            # Int64, not float64: H3 ids exceed 2**53 and would lose digits as floats.
            "h3_r7": pd.array([_h3(9.6, -13.7, 7), _h3(9.53, -13.67, 7), None], dtype="Int64"),
            "h3_r8": pd.array([_h3(9.6, -13.7, 8), _h3(9.53, -13.67, 8), None], dtype="Int64"),
        }),
        "road_crash": pd.DataFrame({
            "occurred_at": pd.to_datetime(["2024-01-05 17:45", "2024-02-11 07:10"]),  # naive=UTC
            "severity": ["fatal", "slight"], "killed": [1, 0], "injured": [2, 1],
            "vehicles": [2, np.nan], "road_name": ["Route Le Prince", None],
            "lon": [-13.65, -13.62], "lat": [9.58, 9.62],
            "h3_r8": [_h3(9.58, -13.65, 8), _h3(9.62, -13.62, 8)],
        }),
    }


def sample_size() -> dict[str, int]:
    frames = sample_frames()
    return {name: len(frames[name]) if name in frames else 0 for name in TABLES}


def _by_id(store: Store, table: str, column: str = "name") -> dict[int, object]:
    df = store.read(table, columns=["id", column])
    return dict(zip(df["id"], df[column], strict=True))


# -- migrations ---------------------------------------------------------------------------


def test_migrations_reach_head_and_are_idempotent(store: Store) -> None:
    assert store.schema_revision() == HEAD
    store.write(sample_frames(), kind="test")
    store.migrate()
    store.migrate()
    assert store.schema_revision() == HEAD
    again = open_store(store.engine.url.render_as_string(hide_password=False))
    try:
        assert again.schema_revision() == HEAD
        assert again.counts() == sample_size()
    finally:
        again.dispose()


def test_migrated_schema_matches_metadata(store: Store) -> None:
    """The frozen migration and storage/schema.py must describe the same database."""
    if store.dialect == "postgresql":
        pytest.importorskip("geoalchemy2")  # teaches reflection the geometry type
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(ctx, metadata) == []


def test_sqlite_pragmas(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


# -- writes -------------------------------------------------------------------------------


def test_round_trip_every_table_with_fk_remapping(store: Store) -> None:
    first = store.write(sample_frames(), kind="test")
    second = store.write(sample_frames(), kind="incidents", file_name="x.csv",
                         file_sha256="ab" * 32, created_by="agent")
    assert second != first
    assert store.counts() == {k: 2 * v for k, v in sample_size().items()}

    stations, schools = _by_id(store, "station"), _by_id(store, "school")
    officers = store.read("outreach_officer")
    assert [stations[s] for s in officers["station_id"]] == ["Poste de Matam"] * 2
    officer_station = dict(zip(officers["id"], officers["station_id"], strict=True))
    for batch in (first, second):
        visits = store.read("school_visit", where={"batch_id": batch})
        assert visits["students_reached"].tolist() == [120, 95]
        assert visits["visited_on"].tolist() == [dt.date(2024, 3, 4), dt.date(2024, 5, 6)]
        assert visits["topics"].isna().tolist() == [False, True]
        # FKs point at rows of the *same* batch, not at the local keys.
        school_ids = set(store.read("school", where={"batch_id": batch})["id"])
        officer_ids = set(store.read("outreach_officer", where={"batch_id": batch})["id"])
        assert set(visits["school_id"]) <= school_ids and set(visits["officer_id"]) <= officer_ids
        assert {schools[s] for s in visits["school_id"]} == {"École primaire de Boulbinet"}
        station_ids = set(store.read("station", where={"batch_id": batch})["id"])
        assert {officer_station[o] for o in visits["officer_id"]} <= station_ids

        wvd = store.read("women_visit_day", where={"batch_id": batch})
        assert [stations[s] for s in wvd["station_id"]] == ["Commissariat central de Kaloum"]
        assert wvd["complaints_after"].isna().all()

        council = store.read("council", where={"batch_id": batch})
        meeting = store.read("council_meeting", where={"batch_id": batch})
        assert meeting["council_id"].tolist() == council["id"].tolist()
        assert council["plan_adopted_on"].tolist() == [None]
        assert council["established_on"].tolist() == [dt.date(2019, 6, 1)]

        training = store.read("training", where={"batch_id": batch})
        links = store.read("training_instructor", where={"training_id": training["id"].tolist()})
        instructors = _by_id(store, "instructor")
        assert sorted(instructors[i] for i in links["instructor_id"]) == ["Cdt Bah", "Lt Soumah"]

    batches = store.read("import_batch")
    assert batches["id"].tolist() == [first, second]
    total = sum(len(df) for df in sample_frames().values())
    assert batches["n_rows"].tolist() == [total, total]
    assert batches["n_imported"].tolist() == [total, total]
    assert batches["n_queued"].tolist() == [0, 0]
    assert batches.loc[1, "file_name"] == "x.csv" and batches.loc[1, "created_by"] == "agent"
    assert not batches["is_demo"].any()


def test_values_and_types_round_trip(store: Store) -> None:
    store.write(sample_frames(), kind="test")
    inc = store.read("incident")
    assert inc["occurred_at"].dtype == "datetime64[us, UTC]"
    assert inc["occurred_at"].tolist() == [
        pd.Timestamp("2024-06-01T09:00:00Z"),
        pd.Timestamp("2024-06-02T23:30:00Z"),
        pd.Timestamp("2024-06-03T08:15:00Z"),
    ]
    assert inc["sensitive"].tolist() == [False, True, False]
    assert inc["severity"].dtype == "Int64"
    assert inc["severity"].isna().tolist() == [False, False, True]
    assert inc["description"][0] == "Vol à l'arraché"
    assert inc["h3_r8"][0] == _h3(9.6, -13.7, 8) and pd.isna(inc["h3_r8"][2])
    assert inc["lon"].dtype == "float64" and np.isnan(inc["lon"][2])
    assert (inc["is_demo"] == False).all() and (inc["version"] == 1).all()  # noqa: E712
    now = pd.Timestamp.now(tz="UTC")
    assert ((now - inc["created_at"]).abs() < pd.Timedelta(minutes=5)).all()

    crash = store.read("road_crash")
    assert crash["occurred_at"].tolist() == [pd.Timestamp("2024-01-05 17:45Z"),
                                             pd.Timestamp("2024-02-11 07:10Z")]
    assert crash["vehicles"].dtype == "Int64" and pd.isna(crash["vehicles"][1])


def test_insert_order_survives_large_batches(store: Store) -> None:
    """Returned ids must map back in parameter order, across insertmanyvalues pages."""
    n = 2500
    local = np.random.default_rng(0).permutation(np.arange(10_000, 10_000 + n))
    stations = pd.DataFrame({"id": local, "name": [f"S{k}" for k in local], "kind": "poste"})
    officers = pd.DataFrame({"name": [f"O{k}" for k in local[::-1]], "station_id": local[::-1]})
    store.write({"station": stations, "outreach_officer": officers}, kind="test")
    names = _by_id(store, "station")
    got = store.read("outreach_officer")
    assert [names[s][1:] for s in got["station_id"]] == [o[1:] for o in got["name"]]


def test_counts_and_is_empty(store: Store) -> None:
    assert store.is_empty()
    assert store.counts() == dict.fromkeys(TABLES, 0)
    assert list(store.counts()) == list(TABLES)
    store.write({"instructor": pd.DataFrame({"name": ["Seul"]})}, kind="test")
    assert not store.is_empty()
    assert store.counts()["instructor"] == 1


@pytest.mark.parametrize("bad", [-1, None], ids=["check-violation", "not-null-violation"])
def test_write_is_atomic(store: Store, bad: object) -> None:
    store.write(sample_frames(), kind="test")
    before, batches = store.counts(), len(store.read("import_batch"))
    frames = sample_frames()
    assert list(frames)[-1] != WRITABLE[-1]  # order of the mapping must not matter
    frames["school_visit"].loc[1, "students_reached"] = bad  # last table inserted
    with pytest.raises(sa.exc.IntegrityError):
        store.write(frames, kind="test")
    assert store.counts() == before
    assert len(store.read("import_batch")) == batches


def test_rejects_unknown_names_before_writing(store: Store) -> None:
    with pytest.raises(ValueError, match="nope"):
        store.write({"nope": pd.DataFrame({"a": [1]})}, kind="test")
    with pytest.raises(ValueError, match="import_batch"):
        store.write({"import_batch": pd.DataFrame({"kind": ["x"]})}, kind="test")
    bad = sample_frames()
    bad["station"]["colour"] = "blue"
    with pytest.raises(ValueError, match="colour"):
        store.write(bad, kind="test")
    dangling = sample_frames()
    dangling["school_visit"].loc[0, "school_id"] = 999
    with pytest.raises(ValueError, match="999"):
        store.write(dangling, kind="test")
    with pytest.raises(ValueError, match="severity"):
        store.write({"incident": sample_frames()["incident"].assign(severity=1.5)}, kind="test")
    lossy = sample_frames()["incident"].assign(h3_r9=[float(_h3(9.6, -13.7, 9)), np.nan, np.nan])
    with pytest.raises(ValueError, match="h3_r9"):
        store.write({"incident": lossy}, kind="test")
    assert store.is_empty() and store.read("import_batch").empty

    with pytest.raises(ValueError, match="nope"):
        store.read("nope")
    with pytest.raises(ValueError, match="geom"):
        store.read("station", columns=["geom"])
    with pytest.raises(ValueError, match="colour"):
        store.read("station", where={"colour": "blue"})


def test_replace_demo_keeps_real_rows(store: Store) -> None:
    real = store.write(sample_frames(), kind="incidents")
    store.replace_demo(sample_frames())
    demo = store.replace_demo(sample_frames(), created_by="seed")
    assert store.counts() == {k: 2 * v for k, v in sample_size().items()}
    assert store.counts(demo=True) == store.counts(demo=False) == sample_size()

    batches = store.read("import_batch")
    assert batches["id"].tolist() == [real, demo]
    assert batches["is_demo"].tolist() == [False, True]
    assert batches["kind"].tolist() == ["incidents", "demo"]
    for name, n in sample_size().items():
        assert len(store.read(name, demo=False)) == n
        demo_rows = store.read(name, demo=True)
        assert len(demo_rows) == n and (demo_rows["batch_id"] == demo).all()
    # Demo links were rebuilt against the new demo rows.
    demo_trainings = store.read("training", demo=True)["id"].tolist()
    assert len(store.read("training_instructor", where={"training_id": demo_trainings})) == 2
    assert len(store.read("training_instructor")) == 4


def test_read_subset_and_filters(store: Store) -> None:
    store.write(sample_frames(), kind="test")
    df = store.read("incident", columns=["category", "id"], where={"category": "vol"})
    assert list(df.columns) == ["category", "id"] and df["category"].tolist() == ["vol"] * 2
    assert len(store.read("incident", where={"category": ["vol", "agression"]})) == 3
    assert len(store.read("incident", where={"category": []})) == 0
    assert store.read("incident", where={"source_id": None})["category"].tolist() == ["vol"]
    assert len(store.read("incident", where={"severity": np.int64(3)})) == 1
    assert len(store.read("incident", where={"sensitive": True})) == 1
    assert store.read("incident", demo=True).empty
    assert list(store.read("station").columns) == [c.name for c in metadata.tables["station"].c]
    empty = store.read("incident", where={"category": "nothing"})
    assert empty.dtypes.equals(store.read("incident").dtypes)


def test_where_values_are_parameters(store: Store) -> None:
    frames = {"incident": sample_frames()["incident"].assign(category=["vol", EVIL, "vol"])}
    store.write(frames, kind="test")
    hit = store.read("incident", where={"category": EVIL})
    assert hit["category"].tolist() == [EVIL]
    assert store.read("incident", where={"description": EVIL}).empty
    assert len(store.read("incident", where={"category": [EVIL, "vol"]})) == 3
    assert store.counts()["incident"] == 3


# -- PostGIS ------------------------------------------------------------------------------


@pytest.mark.postgis
def test_postgis_generated_geometry(postgis_store: Store) -> None:
    postgis_store.write(sample_frames(), kind="test")
    with postgis_store.engine.connect() as conn:
        for table in POINT_TABLES:
            col = conn.execute(sa.text(
                "SELECT udt_name, is_generated FROM information_schema.columns "
                "WHERE table_name = :t AND column_name = 'geom'"), {"t": table}).one()
            assert tuple(col) == ("geometry", "ALWAYS")
            assert conn.execute(sa.text(
                "SELECT Find_SRID('public', :t, 'geom')"), {"t": table}).scalar_one() == 4326
            indexdef = conn.execute(sa.text(
                "SELECT indexdef FROM pg_indexes WHERE tablename = :t AND indexdef LIKE '%geom%'"),
                {"t": table}).scalar_one()
            assert "USING gist (geom)" in indexdef
            rows = conn.execute(sa.text(
                f"SELECT lon, lat, ST_X(geom), ST_Y(geom), ST_SRID(geom), geom IS NULL "
                f"FROM {table} ORDER BY id")).all()
            assert rows
            for lon, lat, x, y, srid, null in rows:
                if lon is None:
                    assert null
                else:
                    assert (x, y, srid) == (lon, lat, 4326)
        near = conn.execute(sa.text(
            "SELECT name FROM station WHERE ST_DWithin(geom::geography, "
            "ST_SetSRID(ST_MakePoint(-13.7, 9.6), 4326)::geography, 1000)")).scalars().all()
        assert near == ["Commissariat central de Kaloum"]
    assert "geom" not in postgis_store.read("station").columns


@pytest.mark.postgis
def test_backends_return_identical_frames(sqlite_store: Store, postgis_store: Store) -> None:
    for s in (sqlite_store, postgis_store):
        s.write(sample_frames(), kind="test", file_name="same.csv")
        s.replace_demo({"incident": sample_frames()["incident"]})
    for name in ("import_batch", *WRITABLE):
        a, b = sqlite_store.read(name), postgis_store.read(name)
        assert a.dtypes.equals(b.dtypes), name
        volatile = [c for c in ("created_at",) if c in a.columns]
        pd.testing.assert_frame_equal(a.drop(columns=volatile), b.drop(columns=volatile),
                                      check_exact=True, obj=name)


# -- opening ------------------------------------------------------------------------------


def test_open_store_honours_env_and_defaults(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    env_db = tmp_path / "env.db"
    monkeypatch.setenv(ENV_URL, f"sqlite:///{env_db}")
    with open_store() as s:
        assert s.dialect == "sqlite" and s.url.endswith("env.db")
        assert s.schema_revision() == HEAD
    assert env_db.exists()

    arg_db = tmp_path / "arg.db"
    with open_store(f"sqlite:///{arg_db}") as s:
        assert s.url.endswith("arg.db")
    assert arg_db.exists()

    monkeypatch.delenv(ENV_URL)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    expected = Path(platformdirs.user_data_dir("proximite")) / "proximite.db"
    assert tmp_path in expected.parents  # never touch the real user profile
    assert not expected.parent.exists()
    with open_store() as s:
        assert s.url == f"sqlite:///{expected}"
        assert s.is_empty()
    assert expected.exists()


def test_postgres_urls_are_normalised_and_hidden() -> None:
    assert normalize_url("postgresql://u:pw@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u:pw@h/db").drivername == "postgresql+psycopg"
    store = Store("postgresql://proximite:s3cret@127.0.0.1:1/db")  # no connection yet
    try:
        assert store.dialect == "postgresql"
        assert "s3cret" not in store.url and store.url.startswith("postgresql+psycopg://")
    finally:
        store.dispose()
    with pytest.raises(ValueError, match="unsupported"):
        Store("mysql://u@h/db")
