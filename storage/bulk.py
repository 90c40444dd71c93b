"""Fast appends of large frames: columns converted once, rows staged, then one ``INSERT ... SELECT``.

``Store.write`` converts row by row, which is fine for hundreds of records but
not for a million-row import. Here every column is converted once with
pandas/pyarrow, and the rows reach the target table through a staging table and
a single ``INSERT ... SELECT`` inside the caller's transaction, so an import
stays all-or-nothing:

* SQLite with ``adbc-driver-sqlite`` installed (:func:`stage`, before the
  transaction opens): ADBC writes the Arrow columns into a throwaway side
  database in C, without a Python object per value; the transaction attaches it
  and copies from it.
* SQLite otherwise (:func:`bulk_insert`, or no ADBC): ``executemany`` into a
  TEMP table without constraints. Both beat ``executemany`` straight into the
  real table, where SQLite re-runs per row what one statement runs once (the
  AUTOINCREMENT counter update, the lookup table of the ``IN (...)`` CHECK).
* PostgreSQL: ``COPY``.

Columns missing in every row are not staged at all, and a load that at least
doubles a table rebuilds its secondary indexes once instead of updating them
row by row (see ``REBUILD_INDEXES_FROM``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

try:  # optional fast path, see the module docstring
    import adbc_driver_sqlite.dbapi as _adbc_sqlite
except ImportError:  # pragma: no cover - exercised when the extra is absent
    _adbc_sqlite = None

#: From this many new rows (and at least half the rows already there), the table's secondary
#: indexes are dropped before the load and rebuilt after it, in the same transaction: building an
#: index once by sorting is several times faster than a million random insertions into it.
REBUILD_INDEXES_FROM = 50_000
#: From this many rows, :func:`stage` writes them to a side database with ADBC (when installed);
#: below, opening and attaching a file costs more than it saves.
SIDE_DATABASE_FROM = 20_000
#: Rows converted to Python values at a time on the paths that need them (TEMP table, COPY).
CHUNK_ROWS = 100_000
#: Page cache for a large SQLite load: about what a row and its index entries take, up to a ceiling.
CACHE_KIB_PER_ROW = 0.5
CACHE_KIB_MAX = 1024 * 1024


class StagedRows:
    """Rows of one frame, converted for ``table`` and waiting to be appended by :meth:`insert`.

    Made by :func:`stage` (or :func:`bulk_insert`): either ``columns`` (Arrow arrays
    named as ``table``'s columns) or ``source``, an attached side table holding
    columns ``names``.
    """

    def __init__(self, table: sa.Table, n: int, *, columns: Mapping[str, pa.Array] | None = None,
                 names: list[str] | None = None, source: str | None = None) -> None:
        if (columns is None) == (source is None):
            raise ValueError("give the rows either as columns or as an attached source table")
        self.table, self.n, self.source = table, n, source
        self.names = list(columns) if columns is not None else list(names or [])
        self._columns = dict(columns) if columns is not None else None

    def insert(self, conn: sa.Connection, constants: Mapping[str, object] | None = None) -> int:
        """Append the rows inside ``conn``'s open transaction; ``constants`` fill columns alike in every row.

        Constants (e.g. the new batch id) are bound once in the statement instead of once per row.
        """
        constants = dict(constants or {})
        clash = [c for c in constants if c in self.names or c not in self.table.c]
        if clash:
            raise ValueError(f"constant column(s) {clash} are staged already or unknown in {self.table.name}")
        if not self.n:
            return 0
        if not self.names:
            raise ValueError(f"no column to insert into {self.table.name}")
        with _page_cache_for(conn, self.n):
            rebuild = _drop_indexes(conn, self.table, self.n)
            if self.source is not None:
                _insert_select(conn, self.table, self.names, self.source, constants)
            elif conn.dialect.name == "postgresql":
                _copy(conn, self.table, self.names, _rows(self._columns or {}, self.n), constants)
            else:
                _via_temp_table(conn, self.table, self.names, _rows(self._columns or {}, self.n), constants)
            for ix in rebuild:
                ix.create(conn)
        return self.n


@contextlib.contextmanager
def stage(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> Iterator[StagedRows]:
    """Convert ``frame`` (columns named as ``table``'s, no ``id``) before the write transaction opens.

    Use as ``with stage(conn, table, frame) as rows, conn.begin(): rows.insert(conn, {...})``.
    Bad values raise here, before anything is written. On SQLite with ADBC, ``conn``
    must not be in a transaction (a database cannot be attached inside one); the
    side database is detached and deleted on exit. Elsewhere the rows wait in memory.
    """
    columns = _arrow_columns(frame, table, conn.dialect.name)
    n = len(frame)
    if (_adbc_sqlite is None or conn.dialect.name != "sqlite" or n < SIDE_DATABASE_FROM
            or conn.in_transaction()):
        yield StagedRows(table, n, columns=columns)
        return
    fd, path = tempfile.mkstemp(prefix="proximite-stage-", suffix=".db")
    os.close(fd)
    alias = f"stage_{uuid.uuid4().hex[:12]}"
    attached = False
    names = list(columns)
    try:
        _write_side_database(path, pa.table(columns))
        del columns
        conn.exec_driver_sql(f'ATTACH DATABASE ? AS "{alias}"', (path,))
        attached = True
        conn.commit()  # ends SQLAlchemy's autobegun transaction; ATTACH opened none in SQLite
        yield StagedRows(table, n, names=names, source=f'"{alias}".rows')
    finally:
        if attached:
            try:
                if conn.in_transaction():
                    conn.rollback()
                conn.exec_driver_sql(f'DETACH DATABASE "{alias}"')
                conn.commit()
            except sa.exc.DBAPIError:
                conn.invalidate()  # never hand a connection with a stray attachment back to the pool
        with contextlib.suppress(OSError):
            os.unlink(path)


def bulk_insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame,
                constants: Mapping[str, object] | None = None) -> int:
    """Append ``frame`` (columns named as ``table``'s, no ``id``) inside the open transaction."""
    staged = StagedRows(table, len(frame), columns=_arrow_columns(frame, table, conn.dialect.name))
    return staged.insert(conn, constants)


# -- conversion ---------------------------------------------------------------------------------


def _arrow_columns(frame: pd.DataFrame, table: sa.Table, dialect: str) -> dict[str, pa.Array]:
    unknown = [c for c in frame.columns if c not in table.c or c == "id"]
    if unknown:
        raise ValueError(f"unknown column(s) for {table.name}: {unknown}")
    if frame.columns.has_duplicates:
        raise ValueError(f"duplicate columns in the frame for {table.name}")
    columns = {name: _arrow_column(frame[name], table.c[name], dialect) for name in frame.columns}
    # A column missing in every row is left to the table (NULL): nothing to stage, bind or copy. Not when
    # the table has a default for it (the default must apply as the row path applies it) or it is the last.
    empty = [name for name, values in columns.items() if len(values) and values.null_count == len(values)
             and table.c[name].nullable and table.c[name].default is None and table.c[name].server_default is None]
    for name in empty[: len(columns) - 1]:
        del columns[name]
    return columns


def _arrow_column(series: pd.Series, column: sa.Column, dialect: str) -> pa.Array:
    """One column as an Arrow array of what the driver stores (text datetimes on SQLite), nulls for missing."""
    kind = column.type
    try:
        if isinstance(kind, sa.DateTime):
            # Naive values are taken as UTC; SQLite keeps SQLAlchemy's naive-UTC text, which Arrow writes
            # ("YYYY-MM-DD HH:MM:SS.ffffff") in one vectorized cast.
            ts = pd.to_datetime(series, utc=True).dt.tz_localize(None)
            text = pc.cast(pa.array(ts.to_numpy("datetime64[us]"), from_pandas=True), pa.string())
            return text if dialect == "sqlite" else pc.binary_join_element_wise(text, "+00", "")
        if isinstance(kind, sa.Date):
            days = pd.to_datetime(series).to_numpy("datetime64[D]")
            return pc.cast(pa.array(days, from_pandas=True), pa.string())
        if isinstance(kind, sa.Boolean):
            values = pa.array(series.astype("boolean"))
            return pc.cast(values, pa.int64()) if dialect == "sqlite" else values
        if isinstance(kind, sa.Integer):
            return pa.array(series.astype("Int64")).cast(pa.int64())
        if isinstance(kind, sa.Float):
            numbers = pd.to_numeric(series, errors="raise").to_numpy(dtype=float, na_value=np.nan)
            return pa.array(numbers, from_pandas=True)
    except (TypeError, ValueError, OverflowError, pa.ArrowException) as e:
        raise ValueError(f"{column.table.name}.{column.name}: {e}") from e
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return pa.array(series.array, from_pandas=True).cast(pa.large_string())
    values = series.to_numpy(dtype=object)
    try:
        return pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers, dates... in a text column: their str()
        missing = pd.isna(values)
        text = np.array([v if isinstance(v, str) else str(v) for v in values], dtype=object)
        return pa.array(text, type=pa.large_string(), mask=missing)


def _rows(columns: Mapping[str, pa.Array], n: int) -> Iterator[tuple[object, ...]]:
    """Rows as tuples of driver-native values, converted a chunk at a time so memory stays flat."""
    for start in range(0, n, CHUNK_ROWS):
        yield from zip(*(_python_values(values.slice(start, CHUNK_ROWS)) for values in columns.values()), strict=True)


def _python_values(values: pa.Array) -> list[object]:
    """An Arrow column as driver-native Python values (None for nulls), converted in one pass."""
    if pa.types.is_integer(values.type) or pa.types.is_boolean(values.type):
        native = pc.fill_null(values, False if pa.types.is_boolean(values.type) else 0).to_numpy(zero_copy_only=False)
    else:
        native = values.to_numpy(zero_copy_only=False)
    if not values.null_count:
        return native.tolist()
    out = native.astype(object)
    out[values.is_null().to_numpy(zero_copy_only=False)] = None
    return out.tolist()


# -- loading ------------------------------------------------------------------------------------


def _write_side_database(path: str, data: pa.Table) -> None:
    """ADBC bulk ingest into table ``rows`` of a new database nobody else reads until it is attached."""
    with _adbc_sqlite.connect(path, autocommit=True) as side, side.cursor() as cur:
        cur.execute("PRAGMA journal_mode=OFF")  # a throwaway file: no journal, no fsync
        cur.execute("PRAGMA synchronous=OFF")
        cur.adbc_ingest("rows", data, mode="create")


def _quoted(conn: sa.Connection, names: list[str]) -> str:
    return ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)


def _insert_select(conn: sa.Connection, table: sa.Table, names: list[str], source: str,
                   constants: Mapping[str, object]) -> None:
    """One statement copies every staged row (in staging order, so ids follow the frame's order)."""
    target = _quoted(conn, [*names, *constants])
    picked = ", ".join([_quoted(conn, names), *("?" for _ in constants)])
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({target}) SELECT {picked} FROM {source} ORDER BY rowid",
                         tuple(constants.values()))


def _via_temp_table(conn: sa.Connection, table: sa.Table, names: list[str], rows: Iterator[tuple[object, ...]],
                    constants: Mapping[str, object]) -> None:
    """``executemany`` into a TEMP table without types or constraints, then :func:`_insert_select`."""
    temp = f"_stage_{uuid.uuid4().hex[:12]}"
    conn.exec_driver_sql(f'CREATE TEMP TABLE "{temp}" ({_quoted(conn, names)})')
    try:
        marks = ", ".join("?" for _ in names)
        # The DB-API cursor takes the rows as an iterator: no list of a million tuples in memory.
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.executemany(f'INSERT INTO temp."{temp}" ({_quoted(conn, names)}) VALUES ({marks})', rows)
        finally:
            cursor.close()
        _insert_select(conn, table, names, f'temp."{temp}"', constants)
    finally:
        conn.exec_driver_sql(f'DROP TABLE temp."{temp}"')


def _copy(conn: sa.Connection, table: sa.Table, names: list[str], rows: Iterator[tuple[object, ...]],
          constants: Mapping[str, object]) -> None:
    fixed = tuple(constants.values())
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({_quoted(conn, [*names, *constants])}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row + fixed)


@contextlib.contextmanager
def _page_cache_for(conn: sa.Connection, n: int) -> Iterator[None]:
    """On SQLite, a page cache that holds a large load's new pages for the index rebuilds, then the usual one.

    The rebuilds scan the new rows once per index: from memory, instead of from pages
    already spilled to the WAL. Only the memory the load touches is taken.
    """
    if conn.dialect.name != "sqlite" or n < REBUILD_INDEXES_FROM:
        yield
        return
    usual = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()  # KiB when negative, else pages
    current = -usual if usual < 0 else usual * conn.exec_driver_sql("PRAGMA page_size").scalar_one() / 1024
    wanted = min(CACHE_KIB_MAX, n * CACHE_KIB_PER_ROW)
    if current >= wanted:
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size=-{int(wanted)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(usual)}")


def _drop_indexes(conn: sa.Connection, table: sa.Table, n: int) -> list[sa.Index]:
    """Drop the secondary indexes when ``n`` new rows at least double the table (see REBUILD_INDEXES_FROM)."""
    if n < REBUILD_INDEXES_FROM:
        return []
    existing = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    if n * 2 < existing:
        return []
    rebuild = [ix for ix in table.indexes if not ix.unique]
    for ix in rebuild:
        ix.drop(conn)
    return rebuild
