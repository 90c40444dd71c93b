"""Whole-store backup and restore: one portable file that either backend can read.

A backup is a ZIP holding ``manifest.json`` and one Parquet file per table of
``storage.schema.metadata``, in foreign-key order. Every table is handled from
the metadata alone (its columns and SQL types), so tables added by later
migrations are backed up without touching this module. The manifest records
the app version, the schema revision, when the file was made and, per table,
the row count, the SHA-256 of its Parquet file and the highest id ever handed
out (so a restore never reuses the ids of deleted rows).

What is *not* in the file: PostGIS's generated ``geom`` columns (not modelled by
the metadata; PostgreSQL recomputes them from ``lon``/``lat`` or ``wkb``) and
the Alembic bookkeeping (the manifest's revision stands for it).

A restore checks everything it can before writing (ZIP safety, manifest,
schema revision, checksums, Parquet schemas), then replaces the whole store in
one transaction: either every table holds the file's rows, with their primary
keys, or nothing changed. Errors carry a stable ``code`` the command line
turns into a sentence in the user's language.

A restore is itself written to the restored audit log, in the same transaction
and after the file's own rows: who restored which file (name, SHA-256 of the
whole file) and how many rows per table, so the history reads on across it. It
needs an administrator (the command line is the trusted local system).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import hashlib
import json
import os
import re
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from storage import audit
from storage.roles import acting, require_admin
from storage.schema import metadata

if TYPE_CHECKING:
    from storage.store import Store

FORMAT = "proximite-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Rows fetched, converted and inserted at a time: bounds memory on large tables.
CHUNK_ROWS = 20_000
#: ZIP safety on read: entries, manifest size, and the largest unpacked/packed ratio of an entry
#: (Parquet entries are stored as they are, so a legitimate backup stays near 1).
MAX_MEMBERS = 1_000
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_RATIO = 100
#: Below this size an entry may compress as well as it likes (a small manifest, an empty table).
RATIO_FREE_BYTES = 1024 * 1024
#: How long a PostgreSQL restore waits for the app's open transactions before giving up.
PG_LOCK_TIMEOUT = "30s"
_MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
#: How a restore appears in the audit log: an ``import`` (of a whole store from a file) whose ``detail`` is
#: ``restore``. The schema's audit actions have no ``restore`` of their own yet: adding one needs a migration
#: of the ``audit_log`` CHECK constraint, and then only these two constants change.
RESTORE_ACTION = "import"
RESTORE_DETAIL = "restore"


class BackupError(ValueError):
    """A backup that cannot be written or restored; nothing in the store was changed.

    ``code`` is stable (for translated messages): ``unreadable``, ``bad_zip``, ``zip_unsafe``,
    ``not_a_backup``, ``format_too_new``, ``checksum``, ``schema_newer``, ``schema_older``,
    ``schema_mismatch``, ``bad_table``, ``not_empty``. ``detail`` says what exactly, in English.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class TableEntry:
    """One table of a backup, as listed in its manifest."""

    name: str
    file: str
    rows: int
    sha256: str
    sequence: int | None
    columns: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "rows": self.rows, "sha256": self.sha256,
                "sequence": self.sequence, "columns": [{"name": n, "type": k} for n, k in self.columns]}


@dataclass(frozen=True)
class Manifest:
    """What a backup holds: where it came from and, per table in insert order, rows and checksum."""

    app_version: str
    schema_revision: str
    created_at: dt.datetime
    dialect: str
    tables: tuple[TableEntry, ...]

    @property
    def total_rows(self) -> int:
        return sum(entry.rows for entry in self.tables)

    def rows(self) -> dict[str, int]:
        """Rows per table, in insert order."""
        return {entry.name: entry.rows for entry in self.tables}

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "app_version": self.app_version,
                "schema_revision": self.schema_revision, "created_at": self.created_at.isoformat(),
                "dialect": self.dialect, "tables": [entry.to_json() for entry in self.tables]}

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        """Validate the manifest's structure strictly: a restore trusts nothing it did not check."""
        try:
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise BackupError("not_a_backup", f"{MANIFEST} does not describe a {FORMAT} file")
            version = data["format_version"]
            if not isinstance(version, int) or version < 1:
                raise BackupError("not_a_backup", f"bad format_version {version!r}")
            if version > FORMAT_VERSION:
                raise BackupError("format_too_new", f"backup format {version}; this version of Proximité reads "
                                                    f"up to {FORMAT_VERSION}")
            tables = []
            for item in data["tables"]:
                sequence = item["sequence"]
                entry = TableEntry(
                    name=_checked_str(item["name"], "table name"), file=_checked_str(item["file"], "file"),
                    rows=_checked_int(item["rows"], "rows"), sha256=_checked_str(item["sha256"], "sha256"),
                    sequence=None if sequence is None else _checked_int(sequence, "sequence"),
                    columns=tuple((_checked_str(c["name"], "column"), _checked_str(c["type"], "type"))
                                  for c in item["columns"]))
                if not _SAFE_NAME.match(entry.name) or entry.file != f"tables/{entry.name}.parquet":
                    raise BackupError("not_a_backup", f"bad table entry {entry.name!r} -> {entry.file!r}")
                if not re.fullmatch(r"[0-9a-f]{64}", entry.sha256):
                    raise BackupError("not_a_backup", f"bad checksum for table {entry.name!r}")
                tables.append(entry)
            if len({t.name for t in tables}) != len(tables):
                raise BackupError("not_a_backup", "a table is listed twice")
            created = dt.datetime.fromisoformat(_checked_str(data["created_at"], "created_at"))
            return cls(app_version=_checked_str(data["app_version"], "app_version"),
                       schema_revision=_checked_str(data["schema_revision"], "schema_revision"),
                       created_at=created if created.tzinfo else created.replace(tzinfo=dt.UTC),
                       dialect=_checked_str(data["dialect"], "dialect"), tables=tuple(tables))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, BackupError):
                raise
            raise BackupError("not_a_backup", f"malformed {MANIFEST} ({type(exc).__name__}: {exc})") from exc


# -- column codecs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Codec:
    """How one SQL type travels: its Arrow type, and converters for values Arrow cannot take as they are."""

    kind: str
    arrow: pa.DataType
    dump: Callable[[object], object] | None = None
    load: Callable[[object], object] | None = None


def _json_dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_INTEGER = _Codec("integer", pa.int64())  # every integer width, H3 cells included, as signed int64
_FLOAT = _Codec("float", pa.float64())
_BOOLEAN = _Codec("boolean", pa.bool_())
_TIMESTAMP_UTC = _Codec("timestamp_utc", pa.timestamp("us", tz="UTC"))  # naive SQLite values are UTC
_TIMESTAMP = _Codec("timestamp", pa.timestamp("us"))
_DATE = _Codec("date", pa.date32())
_TIME = _Codec("time", pa.time64("us"))
_INTERVAL = _Codec("interval", pa.duration("us"))
_TEXT = _Codec("text", pa.large_string())
_BINARY = _Codec("binary", pa.large_binary(), dump=bytes)  # drivers may hand out memoryviews
_JSON = _Codec("json", pa.large_string(), dump=_json_dump, load=json.loads)
_DECIMAL = _Codec("decimal", pa.large_string(), dump=str, load=decimal.Decimal)  # exact, any precision


def _codec(column: sa.Column) -> _Codec:
    """The codec of a column, from its SQL type (order matters: Float is a Numeric, Enum a String...)."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return _BOOLEAN
    if isinstance(kind, sa.Integer):
        return _INTEGER
    if isinstance(kind, sa.Float):
        return _FLOAT
    if isinstance(kind, sa.Numeric):
        return _FLOAT if not kind.asdecimal else _DECIMAL
    if isinstance(kind, sa.DateTime):
        return _TIMESTAMP_UTC if kind.timezone else _TIMESTAMP
    if isinstance(kind, sa.Date):
        return _DATE
    if isinstance(kind, sa.Time):
        return _TIME
    if isinstance(kind, sa.Interval):
        return _INTERVAL
    if isinstance(kind, sa.JSON):
        return _JSON
    if isinstance(kind, sa.Uuid):
        return _Codec("uuid", pa.large_string(), dump=str, load=uuid.UUID if kind.as_uuid else None)
    if isinstance(kind, sa.String):  # Text, Unicode, Enum
        return _TEXT
    if isinstance(kind, sa.LargeBinary):
        return _BINARY
    raise TypeError(f"{column.table.name}.{column.name}: no backup codec for SQL type {kind!r}")


def _to_arrow(values: Sequence[object], column: sa.Column, codec: _Codec) -> pa.Array:
    if codec.dump is not None:
        values = [None if v is None else codec.dump(v) for v in values]
    try:
        return pa.array(values, type=codec.arrow, from_pandas=False)
    except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
        raise BackupError("bad_table", f"{column.table.name}.{column.name}: value not representable as "
                                       f"{codec.arrow} ({exc})") from exc


def _from_arrow(values: pa.Array, codec: _Codec) -> list[object]:
    out = values.to_pylist()
    if codec.load is not None:
        out = [None if v is None else codec.load(v) for v in out]
    return out


# -- backup ------------------------------------------------------------------------------------------


def backup(store: Store, path: str | os.PathLike[str]) -> Manifest:
    """Write every table of ``store`` to the backup file ``path`` (replaced atomically); returns its manifest.

    All tables are read in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction
    on SQLite's WAL), so a backup taken while the app writes is consistent.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"folder {target.parent} does not exist")
    tables = list(metadata.sorted_tables)
    codecs = {t.name: [_codec(c) for c in t.c] for t in tables}  # unsupported types fail before any work
    revision = store.schema_revision()
    if revision is None:
        raise BackupError("schema_mismatch", "the database has no schema yet: nothing to back up")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        entries = []
        with zipfile.ZipFile(tmp, "w") as archive, _snapshot(store) as conn:
            sequences = _read_sequences(conn, tables)
            for t in tables:
                data, rows = _dump_table(conn, t, codecs[t.name])
                entry = TableEntry(name=t.name, file=f"tables/{t.name}.parquet", rows=rows,
                                   sha256=hashlib.sha256(data).hexdigest(), sequence=sequences.get(t.name),
                                   columns=tuple((c.name, k.kind) for c, k in zip(t.c, codecs[t.name], strict=True)))
                # Parquet is compressed already: stored entries keep the ZIP's unpacked/packed ratio near 1.
                archive.writestr(zipfile.ZipInfo(entry.file, date_time=_zip_time()), data,
                                 compress_type=zipfile.ZIP_STORED)
                entries.append(entry)
            manifest = Manifest(app_version=_app_version(), schema_revision=revision,
                                created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
                                dialect=store.dialect, tables=tuple(entries))
            archive.writestr(zipfile.ZipInfo(MANIFEST, date_time=_zip_time()),
                             json.dumps(manifest.to_json(), ensure_ascii=False, indent=1),
                             compress_type=zipfile.ZIP_DEFLATED)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return manifest


@contextlib.contextmanager
def _snapshot(store: Store) -> Iterator[sa.Connection]:
    """A read-only connection that sees one consistent state of the whole database."""
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield conn
        return
    with store.engine.connect() as conn:
        # pysqlite opens no transaction for SELECTs on its own; without one, each table would be read
        # at a different moment. A deferred BEGIN pins the WAL snapshot at the first read.
        conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()


def _dump_table(conn: sa.Connection, t: sa.Table, codecs: list[_Codec]) -> tuple[bytes, int]:
    """One table as Parquet bytes, ordered by primary key, fetched and converted CHUNK_ROWS at a time."""
    columns = list(t.c)
    schema = pa.schema([pa.field(c.name, k.arrow) for c, k in zip(columns, codecs, strict=True)])
    sink = pa.BufferOutputStream()
    rows = 0
    stmt = sa.select(*columns).order_by(*t.primary_key.columns)
    result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(stmt)
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for part in result.partitions(CHUNK_ROWS):
            values = list(zip(*part, strict=True))
            arrays = [_to_arrow(v, c, k) for v, c, k in zip(values, columns, codecs, strict=True)]
            writer.write_batch(pa.record_batch(arrays, schema=schema))
            rows += len(part)
    return sink.getvalue().to_pybytes(), rows


def _read_sequences(conn: sa.Connection, tables: Sequence[sa.Table]) -> dict[str, int]:
    """Highest id each table's counter has handed out (ids of deleted rows included)."""
    out: dict[str, int] = {}
    if conn.dialect.name == "postgresql":
        for t in tables:
            col = t.autoincrement_column
            if col is None:
                continue
            value = conn.execute(sa.text("SELECT pg_sequence_last_value(CAST(pg_get_serial_sequence(:t, :c) "
                                         "AS regclass))"), {"t": t.name, "c": col.name}).scalar()
            if value is not None:
                out[t.name] = int(value)
        return out
    has_sequences = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").first()
    if has_sequences:
        known = {t.name for t in tables}
        for name, seq in conn.exec_driver_sql("SELECT name, seq FROM sqlite_sequence"):
            if name in known and seq is not None:
                out[name] = int(seq)
    return out


def _app_version() -> str:
    try:
        return importlib_metadata.version("proximite")
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = dt.datetime.now(dt.UTC)
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)


# -- reading a backup --------------------------------------------------------------------------------


def read_manifest(path: str | os.PathLike[str], *, verify: bool = False) -> Manifest:
    """The manifest of the backup at ``path``, after the ZIP safety checks; ``verify`` also checks every
    table's checksum and Parquet row count. Raises :class:`BackupError`."""
    with _open_backup(path) as (archive, manifest):
        if verify:
            for entry in manifest.tables:
                _parquet(archive, entry)
        return manifest


@contextlib.contextmanager
def _open_backup(path: str | os.PathLike[str]) -> Iterator[tuple[zipfile.ZipFile, Manifest]]:
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise BackupError("unreadable", f"{path}: no such file") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise BackupError("bad_zip", f"{path}: not a readable ZIP archive ({exc})") from exc
    except OSError as exc:
        raise BackupError("unreadable", f"{path}: {exc.strerror or exc}") from exc
    with archive:
        infos = archive.infolist()
        _check_zip_safety(infos)
        by_name = {info.filename: info for info in infos}
        if MANIFEST not in by_name:
            raise BackupError("not_a_backup", f"no {MANIFEST} in the archive")
        raw = _read_member(archive, by_name[MANIFEST], limit=MAX_MANIFEST_BYTES)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BackupError("not_a_backup", f"{MANIFEST} is not valid JSON ({exc})") from exc
        manifest = Manifest.from_json(data)
        expected = {MANIFEST, *(entry.file for entry in manifest.tables)}
        missing, extra = sorted(expected - set(by_name)), sorted(set(by_name) - expected)
        if missing or extra:
            raise BackupError("not_a_backup", f"archive entries do not match the manifest (missing: {missing}, "
                                              f"unexpected: {extra})")
        yield archive, manifest


def _check_zip_safety(infos: Sequence[zipfile.ZipInfo]) -> None:
    """Refuse paths leaving the archive, duplicates, encryption and decompression bombs, before reading."""
    if len(infos) > MAX_MEMBERS:
        raise BackupError("zip_unsafe", f"{len(infos)} entries (at most {MAX_MEMBERS})")
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts or "\x00" in name):
            raise BackupError("zip_unsafe", f"entry {name!r} points outside the archive")
        if name in seen:
            raise BackupError("zip_unsafe", f"entry {name!r} appears twice")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise BackupError("zip_unsafe", f"entry {name!r} is encrypted")
        if info.file_size > RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise BackupError("zip_unsafe", f"entry {name!r} unpacks to {info.file_size:,} bytes from "
                                            f"{info.compress_size:,} (over {MAX_RATIO}x)")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, limit: int | None = None) -> bytes:
    """An entry's bytes, never more than its declared size (a lying header then fails the ZIP's CRC)."""
    if limit is not None and info.file_size > limit:
        raise BackupError("zip_unsafe", f"entry {info.filename!r} is {info.file_size:,} bytes (at most {limit:,})")
    try:
        with archive.open(info) as fh:
            data = fh.read(info.file_size + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise BackupError("bad_zip", f"entry {info.filename!r} is damaged ({exc})") from exc
    if len(data) != info.file_size:
        raise BackupError("bad_zip", f"entry {info.filename!r} does not have its declared size")
    return data


def _parquet(archive: zipfile.ZipFile, entry: TableEntry) -> pq.ParquetFile:
    """The table's Parquet file once its checksum, row count and decoded size are checked."""
    data = _read_member(archive, archive.getinfo(entry.file))
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise BackupError("checksum", f"table {entry.name!r}: SHA-256 differs from the manifest (damaged or "
                                      "altered file)")
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        meta = parquet.metadata
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except (pa.ArrowException, OSError) as exc:
        raise BackupError("bad_table", f"table {entry.name!r}: not a readable Parquet file ({exc})") from exc
    if meta.num_rows != entry.rows:
        raise BackupError("checksum", f"table {entry.name!r}: {meta.num_rows} rows, the manifest says {entry.rows}")
    if unpacked > RATIO_FREE_BYTES and unpacked > MAX_RATIO * len(data):
        raise BackupError("zip_unsafe", f"table {entry.name!r} decodes to {unpacked:,} bytes from {len(data):,}")
    return parquet


# -- restore -----------------------------------------------------------------------------------------


def restore(store: Store, path: str | os.PathLike[str], *, replace: bool = True, by: Any = None) -> Manifest:
    """Replace everything in ``store`` with the backup at ``path``, all or nothing; returns its manifest.

    The store is migrated first; the backup must come from exactly that schema revision
    (a newer one is refused: upgrade Proximité first). Primary keys are kept and id counters
    (SQLite's ``sqlite_sequence``, PostgreSQL sequences) continue after the highest id. With
    ``replace=False`` a store holding any row is refused instead of emptied. ``by`` is the
    administrator restoring (None: the local system, named e.g. ``cli:<login>`` with
    :func:`storage.roles.acting`); anyone else gets ``PermissionDenied`` before anything is read.
    The restore is recorded in the restored audit log (see the module docstring).
    """
    actor = acting(by)
    require_admin(actor)
    with _open_backup(path) as (archive, manifest):
        digest = file_sha256(path)
        store.migrate()
        _check_revision(manifest.schema_revision, store.schema_revision())
        tables = list(metadata.sorted_tables)
        entries = {entry.name: entry for entry in manifest.tables}
        if set(entries) != {t.name for t in tables}:
            raise BackupError("schema_mismatch", f"tables differ from this schema: file has "
                                                 f"{sorted(set(entries))}, schema has {sorted(t.name for t in tables)}")
        # Everything is checked before the write transaction opens; Parquet is decoded table by table inside it.
        files = {}
        for t in tables:
            files[t.name] = _parquet(archive, entries[t.name])
            _check_columns(t, files[t.name].schema_arrow)
        with store.engine.begin() as conn:
            _begin_restore(conn, tables, replace=replace)
            tops = {t.name: _insert_table(conn, t, files[t.name]) for t in tables}
            # Last, once every row is in: PostgreSQL's setval is not undone by a rollback.
            for t in tables:
                _set_sequence(conn, t, max(tops[t.name] or 0, entries[t.name].sequence or 0))
            # After the counters: the audit row takes the next id after the file's own history.
            audit.record(conn, RESTORE_ACTION, username=actor.name, detail=RESTORE_DETAIL,
                         after=restore_summary(manifest, Path(path).name, digest))
    return manifest


def restore_summary(manifest: Manifest, file_name: str, sha256: str) -> dict[str, Any]:
    """What the audit log keeps of a restore: the file, where it came from, and rows per table."""
    return {"kind": RESTORE_DETAIL, "file_name": file_name, "sha256": sha256,
            "backup_created_at": manifest.created_at.isoformat(), "backup_app_version": manifest.app_version,
            "backup_dialect": manifest.dialect, "schema_revision": manifest.schema_revision,
            "total_rows": manifest.total_rows, "rows": manifest.rows()}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of the whole backup file, read in blocks (it may be large)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise BackupError("unreadable", f"{path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def _check_revision(found: str, head: str | None) -> None:
    if found == head:
        return
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS_DIR))
    try:
        ScriptDirectory.from_config(cfg).get_revision(found)
    except (CommandError, KeyError, ValueError) as exc:  # alembic's ResolutionError is a CommandError
        raise BackupError("schema_newer", f"the backup comes from schema revision {found!r}, unknown to this "
                                          f"version of Proximité (schema {head!r}): upgrade Proximité, then "
                                          "restore") from exc
    raise BackupError("schema_older", f"the backup comes from the older schema revision {found!r}; this store is "
                                      f"at {head!r}: restore it with the version of Proximité that made it, upgrade "
                                      "that store, then back it up again")


def _check_columns(t: sa.Table, schema: pa.Schema) -> None:
    wanted, found = [c.name for c in t.c], list(schema.names)
    if sorted(wanted) != sorted(found):
        raise BackupError("schema_mismatch", f"table {t.name!r}: columns {found} differ from this schema's {wanted}")


def _begin_restore(conn: sa.Connection, tables: Sequence[sa.Table], *, replace: bool) -> None:
    """Take the write lock, then empty every table (or check that it is empty)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{PG_LOCK_TIMEOUT}'")
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
        # Locks every table at once (app writers wait for the restore) and empties them in one statement.
        conn.exec_driver_sql(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
        if replace:
            conn.exec_driver_sql(f"TRUNCATE TABLE {names}")
    else:
        # IMMEDIATE takes SQLite's write lock now, so no other writer slips in between the checks and the load.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # checked at commit, whatever the load order
        if replace:
            for t in reversed(tables):
                conn.execute(sa.delete(t))
    if not replace:
        busy = [t.name for t in tables if conn.execute(sa.select(sa.exists().select_from(t))).scalar_one()]
        if busy:
            raise BackupError("not_empty", f"the store already holds rows in {', '.join(busy)}")


def _insert_table(conn: sa.Connection, t: sa.Table, parquet: pq.ParquetFile) -> int | None:
    """Insert one table's rows as they are (ids included); returns its highest autoincrement id."""
    codecs = {c.name: _codec(c) for c in t.c}
    names = list(codecs)
    counter = t.autoincrement_column
    tops: list[int] = []
    try:
        for batch in parquet.iter_batches(batch_size=CHUNK_ROWS, columns=names):
            if not batch.num_rows:
                continue
            arrays = {name: batch.column(name).cast(codecs[name].arrow, safe=True) for name in names}
            if counter is not None and (top := pc.max(arrays[counter.name]).as_py()) is not None:
                tops.append(top)
            values = [_from_arrow(arrays[name], codecs[name]) for name in names]
            _insert_rows(conn, t, [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)])
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise BackupError("bad_table", f"table {t.name!r}: {exc}") from exc
    return max(tops, default=None)


def _insert_rows(conn: sa.Connection, t: sa.Table, rows: list[dict[str, object]]) -> None:
    """One executemany (SQLAlchemy applies each column's bind processing, as for the app's own writes)."""
    conn.execute(t.insert(), rows)


def _set_sequence(conn: sa.Connection, t: sa.Table, last: int) -> None:
    """Make the table's id counter continue after ``last`` (the highest id restored or ever handed out)."""
    col = t.autoincrement_column
    if col is None:
        return
    if conn.dialect.name == "postgresql":
        seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": col.name}).scalar()
        if seq is None:
            return
        # setval cannot go below 1: an empty table restarts at 1 (is_called false).
        conn.execute(sa.text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
                     {"s": seq, "v": max(last, 1), "called": last >= 1})
        return
    if not t.dialect_options["sqlite"]["autoincrement"]:
        return
    updated = conn.exec_driver_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (last, t.name)).rowcount
    if not updated and last:
        conn.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (t.name, last))


def _checked_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    return value


def _checked_int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"{what} must be a non-negative integer, not {value!r}")
    return value
