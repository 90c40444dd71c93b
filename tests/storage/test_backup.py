"""Backup and restore (storage.backup) on SQLite and PostGIS, and the ``backup``/``restore`` commands.

Every table of the metadata is compared row by row (same ids, same values, same dtypes)
between the store that was backed up and the fresh store it was restored into.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import geopandas as gpd
import shapely

from demo.generate import generate
from exchange.service import import_incidents
from storage import Store, open_store
from storage import backup as backup_module
from storage.backup import MANIFEST, RESTORE_ACTION, RESTORE_DETAIL, BackupError, backup, read_manifest, restore
from storage.schema import metadata
from tests.conftest import postgres_admin_url

CORPUS = Path(__file__).resolve().parents[1] / "exchange" / "corpus"
TODAY = date(2026, 11, 24)
MADINA = shapely.box(-13.665, 9.541, -13.660, 9.545)  # a neighbourhood of Matam
ROAD = shapely.LineString([(-13.70, 9.51), (-13.65, 9.55), (-13.60, 9.56)])

StoreFactory = Callable[[], Store]


# -- stores --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_frames() -> dict[str, pd.DataFrame]:
    return generate(seed=2014, n_incidents=2000, n_crashes=200)


@pytest.fixture(scope="module")
def pg_factory() -> Iterator[StoreFactory]:
    """Fresh PostGIS stores cloned from one database migrated once (CREATE DATABASE ... TEMPLATE)."""
    admin_url = postgres_admin_url()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    template = f"proximite_backup_tpl_{uuid.uuid4().hex[:12]}"
    made: list[tuple[str, Store]] = []
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{template}"')
        open_store(admin_url.set(database=template).render_as_string(hide_password=False)).dispose()

        def make() -> Store:
            name = f"proximite_backup_{uuid.uuid4().hex[:12]}"
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            store = open_store(admin_url.set(database=name).render_as_string(hide_password=False))
            made.append((name, store))
            return store

        yield make
    finally:
        for _, store in made:
            store.dispose()
        with admin.connect() as conn:
            for name in [*(n for n, _ in made), template]:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def sqlite_factory(tmp_path: Path) -> Iterator[StoreFactory]:
    made: list[Store] = []

    def make() -> Store:
        made.append(open_store(f"sqlite:///{tmp_path / f'store-{len(made)}.db'}"))
        return made[-1]

    yield make
    for store in made:
        store.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def make_store(request: pytest.FixtureRequest) -> StoreFactory:
    """Fresh stores of one backend per parameter."""
    return request.getfixturevalue(f"{'pg' if request.param == 'postgis' else 'sqlite'}_factory")


# -- data ----------------------------------------------------------------------------------------


def _real_rows(store: Store) -> dict[str, int]:
    """Real records of every kind next to the demo: an import with review items, a saved mapping, a
    neighbourhood, a road, programme records edited and deleted (a gap in the ids), an undone batch."""
    imported = import_incidents(store, CORPUS / "export_utf8_bom.csv", today=TODAY, created_by="agent.kaloum")
    assert imported.plan.summary()["imported"] > 0 and imported.plan.summary()["queued"] > 0
    store.save_mapping("incident", "Export « commissariat »", imported.mapping.to_json(), created_by="agent")
    store.add_neighbourhood("Madina", MADINA, created_by="agent", alt_names="Grand Marché|Madina Marché")
    road = gpd.GeoDataFrame({"name": ["Autoroute Fidel Castro"], "ref": ["N1"], "road_class": ["trunk"],
                             "length_m": [12_345.5]}, geometry=[ROAD], crs="EPSG:4326")
    store.write_roads(road, file_name="routes.geojson", file_sha256="ab" * 32, file_format="geojson")
    sid = store.add_record("station", {"name": "Poste de <b>Boulbinet</b> — « Kaloum »", "kind": "Poste de police",
                                       "lon": -13.7105, "lat": 9.5149}, created_by="agent", today=TODAY)
    store.update_record("station", sid, {"contact": "+224 620 00 00 00"}, version=1, today=TODAY)
    gone = store.add_record("instructor", {"name": "Formateur supprimé"}, today=TODAY)
    store.delete_record("instructor", gone, version=1)
    undone = store.add_record("instructor", {"name": "Formateur annulé"}, today=TODAY)
    batch = int(store.read("instructor", where={"id": undone})["batch_id"].iloc[0])
    assert store.undo_batch(batch) == 1
    _accounts_and_audit(store, batch)
    return {"instructor_gap": gone}


def _accounts_and_audit(store: Store, batch: int) -> None:
    """A user, their scope and an audit entry, when the schema has those tables (migration 0006)."""
    rows = {
        "app_user": {"username": "a.camara", "display_name": "Aïssatou Camara", "role": "administrator",
                     "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2VsZA$aGFzaA", "active": True,
                     "failed_logins": 2, "locked_until": datetime(2026, 11, 24, 8, 30, 0, 250000, tzinfo=UTC),
                     "last_login_at": datetime(2026, 11, 23, 17, 5, tzinfo=UTC)},
        "user_scope": {"level": "prefecture", "unit_id": "GN-C"},
        "audit_log": {"username": "a.camara", "action": "undo", "table_name": "instructor", "batch_id": batch,
                      "before": json.dumps({"name": "Formateur annulé", "n": 1}, ensure_ascii=False),
                      "after": None, "detail": "annulation « test »"},
    }
    if not {"app_user", "user_scope", "audit_log"} <= set(metadata.tables):
        return
    user, scope, audit = (metadata.tables[name] for name in ("app_user", "user_scope", "audit_log"))
    with store.engine.begin() as conn:
        user_id = conn.execute(user.insert().returning(user.c.id), _known(user, rows["app_user"])).scalar_one()
        conn.execute(scope.insert(), _known(scope, rows["user_scope"] | {"user_id": user_id}))
        conn.execute(audit.insert(), _known(audit, rows["audit_log"]))


def _known(t: sa.Table, values: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in values.items() if k in t.c}


def _populate(store: Store, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    store.replace_demo(frames, file_name="proximite demo --seed 2014")
    return _real_rows(store)


def _dump(store: Store) -> dict[str, pd.DataFrame]:
    return {t.name: store.read(t.name) for t in metadata.sorted_tables}


def _assert_same(expected: dict[str, pd.DataFrame], got: dict[str, pd.DataFrame]) -> None:
    assert list(got) == list(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, check_exact=True, obj=name)


def _sequences(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return backup_module._read_sequences(conn, list(metadata.sorted_tables))


def _restored(store: Store, restores: int = 1) -> dict[str, pd.DataFrame]:
    """A restored store's tables without the audit rows the restores added (checked to be exactly those)."""
    got = _dump(store)
    log = got["audit_log"]
    added = log.iloc[len(log) - restores:]
    assert added["action"].tolist() == [RESTORE_ACTION] * restores, added
    assert added["detail"].tolist() == [RESTORE_DETAIL] * restores, added
    return {**got, "audit_log": log.iloc[:len(log) - restores]}


def _after_restore(counters: dict[str, int], restores: int = 1) -> dict[str, int]:
    """Id counters of a restored store: the file's, plus the audit rows of the restores."""
    return counters | {"audit_log": counters.get("audit_log", 0) + restores}


# -- round trips -----------------------------------------------------------------------------------


def test_round_trip_every_table_row_by_row(make_store: StoreFactory, demo_frames: dict[str, pd.DataFrame],
                                           tmp_path: Path) -> None:
    source = make_store()
    _populate(source, demo_frames)
    before = _dump(source)
    # Not vacuous: every kind of value the schema holds is present.
    assert len(before["incident"]) > 2000 and before["incident"]["h3_r9"].max() > 2**59  # big integers
    assert before["incident"]["is_demo"].any() and not before["incident"]["is_demo"].all()
    assert len(before["review_item"]) > 0 and len(before["column_mapping"]) == 1
    assert len(before["neighbourhood"]) == 1 and len(before["road"]) == 9
    assert before["import_batch"]["undone_at"].notna().sum() == 1
    assert before["station"]["version"].max() == 2
    if "app_user" in before:
        assert len(before["app_user"]) == len(before["user_scope"]) == 1 and len(before["audit_log"]) >= 1

    file = tmp_path / "sauvegarde.zip"
    manifest = backup(source, file)
    assert manifest.schema_revision == source.schema_revision()
    assert manifest.rows() == {name: len(frame) for name, frame in before.items()}
    assert [e.name for e in manifest.tables] == [t.name for t in metadata.sorted_tables]
    with zipfile.ZipFile(file) as archive:
        listed = json.loads(archive.read(MANIFEST))
        assert listed["app_version"] and listed["dialect"] == source.dialect
        for entry in manifest.tables:
            assert hashlib.sha256(archive.read(entry.file)).hexdigest() == entry.sha256
        columns = pq.read_schema(io.BytesIO(archive.read("tables/incident.parquet")))
    assert "geom" not in columns.names  # PostGIS's generated column is never written
    assert columns.field("h3_r9").type == pa.int64() and columns.field("occurred_at").type == pa.timestamp("us", "UTC")

    target = make_store()
    restored = restore(target, file)
    assert restored.rows() == manifest.rows()
    _assert_same(before, _restored(target))
    # Id counters continue where the source's stopped (deleted ids are not handed out again).
    assert _sequences(target) == _after_restore(_sequences(source))
    new = target.add_record("instructor", {"name": "Nouveau formateur"}, today=TODAY)
    assert new == _sequences(source)["instructor"] + 1 > before["instructor"]["id"].max() + 1
    if target.dialect == "postgresql":  # generated geometries rebuilt from lon/lat and wkb
        with target.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FILTER (WHERE geom IS NULL AND lon IS NOT NULL), "
                                        "count(geom) FROM incident").one() == (0, before["incident"]["lon"].count())
            assert conn.exec_driver_sql("SELECT count(geom) FROM road").scalar_one() == 9


@pytest.mark.postgis
def test_cross_backend_sqlite_to_postgis_to_sqlite(sqlite_factory: StoreFactory, pg_factory: StoreFactory,
                                                    demo_frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    lite = sqlite_factory()
    _populate(lite, demo_frames)
    original = _dump(lite)
    first = backup(lite, tmp_path / "from-sqlite.zip")

    pg = pg_factory()
    restore(pg, tmp_path / "from-sqlite.zip")
    _assert_same(original, _restored(pg))
    second = backup(pg, tmp_path / "from-postgis.zip")
    # Same values give the same Parquet bytes, whichever backend they were read from (the audit log
    # differs by the restore's own row).
    assert ([(e.name, e.rows, e.sha256) for e in second.tables if e.name != "audit_log"]
            == [(e.name, e.rows, e.sha256) for e in first.tables if e.name != "audit_log"])
    assert (first.dialect, second.dialect) == ("sqlite", "postgresql")

    back = sqlite_factory()
    restore(back, tmp_path / "from-postgis.zip")
    _assert_same(original, _restored(back, restores=2))
    assert _sequences(back) == _after_restore(_sequences(lite), restores=2)


def test_restore_replaces_a_store_holding_other_rows(sqlite_factory: StoreFactory, tmp_path: Path) -> None:
    source = sqlite_factory()
    store_rows = {"instructor": pd.DataFrame({"id": [1, 2], "name": ["Aïssatou Bah", "Mamadou Diallo"]})}
    source.write(store_rows, kind="test")
    backup(source, tmp_path / "b.zip")
    target = sqlite_factory()
    _real_rows(target)
    restore(target, tmp_path / "b.zip")
    _assert_same(_dump(source), _restored(target))
    # replace=False refuses a store that holds anything, and leaves it as it is.
    with pytest.raises(BackupError) as refused:
        restore(target, tmp_path / "b.zip", replace=False)
    assert refused.value.code == "not_empty" and "instructor" in refused.value.detail
    empty = sqlite_factory()
    restore(empty, tmp_path / "b.zip", replace=False)
    _assert_same(_dump(source), _restored(empty))


# -- refusals: nothing changes ------------------------------------------------------------------


def _rewrite(src: Path, dst: Path, change: Callable[[str, bytes], bytes | None],
             extra: dict[str, bytes] | None = None) -> None:
    """Copy a backup entry by entry through ``change`` (None drops the entry); CRCs are recomputed."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for info in a.infolist():
            data = change(info.filename, a.read(info))
            if data is not None:
                b.writestr(info.filename, data, compress_type=info.compress_type)
        for name, data in (extra or {}).items():
            b.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)


def _altered_incident(name: str, data: bytes) -> bytes:
    if name != "tables/incident.parquet":
        return data
    table = pq.read_table(io.BytesIO(data))
    description = table.column("description").to_pylist()
    description[0] = "falsifié"
    table = table.set_column(table.schema.get_field_index("description"), "description",
                             pa.array(description, type=pa.large_string()))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _manifest_with(**changes: object) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name != MANIFEST:
            return data
        return json.dumps(json.loads(data) | changes).encode()
    return change


def _flip_byte(src: Path, dst: Path) -> None:
    """Damage one byte inside a stored entry without fixing the ZIP's CRC."""
    raw = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as archive:
        info = archive.getinfo("tables/incident.parquet")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0xFF
    dst.write_bytes(bytes(raw))


REFUSALS = {
    "altered_table": ("checksum", lambda s, d: _rewrite(s, d, _altered_incident)),
    "damaged_bytes": ("bad_zip", _flip_byte),
    "future_schema": ("schema_newer", lambda s, d: _rewrite(s, d, _manifest_with(schema_revision="9999_future"))),
    "older_schema": ("schema_older", lambda s, d: _rewrite(s, d, _manifest_with(schema_revision="0004_roads"))),
    "future_format": ("format_too_new", lambda s, d: _rewrite(s, d, _manifest_with(format_version=99))),
    "path_traversal": ("zip_unsafe", lambda s, d: _rewrite(s, d, lambda n, b: b, {"../../etc/evil": b"x"})),
    "absolute_path": ("zip_unsafe", lambda s, d: _rewrite(s, d, lambda n, b: b, {"/tmp/evil": b"x"})),
    "zip_bomb": ("zip_unsafe", lambda s, d: _rewrite(s, d, lambda n, b: b, {"tables/bomb.parquet": bytes(4 << 20)})),
    "missing_table": ("not_a_backup", lambda s, d: _rewrite(s, d, lambda n, b: None if "road." in n else b)),
    "no_manifest": ("not_a_backup", lambda s, d: _rewrite(s, d, lambda n, b: None if n == MANIFEST else b)),
    "not_a_zip": ("bad_zip", lambda s, d: d.write_bytes(b"id;nom\n1;pas une sauvegarde\n")),
}


@pytest.fixture(scope="module")
def small_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup of a SQLite store with real rows only (quick to make and to restore)."""
    folder = tmp_path_factory.mktemp("small")
    with open_store(f"sqlite:///{folder / 'source.db'}") as store:
        _real_rows(store)
        backup(store, folder / "small.zip")
    return folder / "small.zip"


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_files_are_refused_and_the_store_is_untouched(case: str, small_backup: Path, tmp_path: Path,
                                                          sqlite_factory: StoreFactory) -> None:
    code, make_bad = REFUSALS[case]
    bad = tmp_path / f"{case}.zip"
    make_bad(small_backup, bad)
    store = sqlite_factory()
    store.write({"instructor": pd.DataFrame({"id": [1], "name": ["Déjà là"]})}, kind="test")
    before, counters = _dump(store), _sequences(store)
    with pytest.raises(BackupError) as refused:
        restore(store, bad)
    assert refused.value.code == code, refused.value
    _assert_same(before, _dump(store))
    assert _sequences(store) == counters


@pytest.mark.postgis
def test_future_schema_and_altered_file_refused_on_postgis(small_backup: Path, tmp_path: Path,
                                                           pg_factory: StoreFactory) -> None:
    store = pg_factory()
    _real_rows(store)
    before, counters = _dump(store), _sequences(store)
    for case in ("future_schema", "altered_table"):
        code, make_bad = REFUSALS[case]
        make_bad(small_backup, tmp_path / f"{case}.zip")
        with pytest.raises(BackupError, match="upgrade Proximité" if case == "future_schema" else "SHA-256") as err:
            restore(store, tmp_path / f"{case}.zip")
        assert err.value.code == code
    _assert_same(before, _dump(store))
    assert _sequences(store) == counters


def test_read_manifest_verifies_without_a_database(small_backup: Path, tmp_path: Path) -> None:
    manifest = read_manifest(small_backup, verify=True)
    assert manifest.rows()["incident"] > 0 and manifest.created_at.tzinfo is not None
    _rewrite(small_backup, tmp_path / "altered.zip", _altered_incident)
    assert read_manifest(tmp_path / "altered.zip").total_rows == manifest.total_rows  # structure only
    with pytest.raises(BackupError, match="SHA-256"):
        read_manifest(tmp_path / "altered.zip", verify=True)


def test_restore_is_all_or_nothing(make_store: StoreFactory, small_backup: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after several tables were emptied and loaded leaves every table and counter as it was."""
    store = make_store()
    _real_rows(store)
    store.write({"instructor": pd.DataFrame({"id": [1, 2], "name": ["Reste A", "Reste B"]})}, kind="test")
    before, counters = _dump(store), _sequences(store)
    loaded: list[str] = []
    real_insert = backup_module._insert_rows

    def failing(conn: sa.Connection, t: sa.Table, rows: list[dict[str, object]]) -> None:
        if t.name == "road":  # after import_batch, incident, instructor, review_item... are in
            raise RuntimeError("disk full")
        real_insert(conn, t, rows)
        loaded.append(t.name)

    monkeypatch.setattr(backup_module, "_insert_rows", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        restore(store, small_backup)
    assert {"import_batch", "incident", "review_item"} <= set(loaded)
    _assert_same(before, _dump(store))
    assert _sequences(store) == counters


# -- command line --------------------------------------------------------------------------------


def test_cli_backup_then_restore_with_confirmation(tmp_path: Path) -> None:
    from cli.main import app

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"PROXIMITE_DATABASE_URL": url}
    with open_store(url) as store:
        store.write({"instructor": pd.DataFrame({"id": [1], "name": ["Avant"]})}, kind="test")
    done = runner.invoke(app, ["backup", str(tmp_path / "s.zip")], env=env)
    assert done.exit_code == 0, done.output
    with open_store(url) as store:
        store.write({"instructor": pd.DataFrame({"id": [1], "name": ["Après"]})}, kind="test")
    no = runner.invoke(app, ["restore", str(tmp_path / "s.zip")], env=env, input="n\n")
    assert no.exit_code == 1
    with open_store(url) as store:
        assert store.read("instructor")["name"].tolist() == ["Avant", "Après"]
    yes = runner.invoke(app, ["restore", str(tmp_path / "s.zip"), "--yes"], env=env)
    assert yes.exit_code == 0, yes.output
    with open_store(url) as store:
        assert store.read("instructor")["name"].tolist() == ["Avant"]
    _rewrite(tmp_path / "s.zip", tmp_path / "future.zip", _manifest_with(schema_revision="9999_future"))
    refused = runner.invoke(app, ["restore", str(tmp_path / "future.zip"), "--yes"], env=env)
    assert refused.exit_code == 2 and "9999_future" in refused.output
    missing = runner.invoke(app, ["restore", str(tmp_path / "absent.zip"), "--yes"], env=env)
    assert missing.exit_code == 2


def test_datetimes_are_kept_to_the_microsecond_in_utc(sqlite_factory: StoreFactory, tmp_path: Path) -> None:
    """Known answer: an aware datetime given in UTC+1 comes back as the same instant in UTC."""
    store = sqlite_factory()
    when = datetime(2026, 3, 1, 23, 30, 15, 123456, tzinfo=UTC)
    store.write({"road_crash": pd.DataFrame({"occurred_at": [pd.Timestamp(when).tz_convert("Etc/GMT-1")],
                                             "severity": ["fatal"], "lon": [-13.7], "lat": [9.5]})}, kind="test")
    backup(store, tmp_path / "t.zip")
    target = sqlite_factory()
    restore(target, tmp_path / "t.zip")
    assert target.read("road_crash")["occurred_at"].tolist() == [pd.Timestamp(when)]
