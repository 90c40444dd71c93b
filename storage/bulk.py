"""Fast appends of large frames: column-wise conversion, then executemany (SQLite) or COPY (PostgreSQL).

``Store.write`` converts row by row, which is fine for hundreds of records but
not for a million-row import. Here every column is converted once with
pandas/numpy into driver-native values and handed to the driver in one call,
inside the caller's transaction (so an import stays all-or-nothing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

# SQLAlchemy's SQLite DateTime storage format: what ``Store.read`` parses back.
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
#: From this many new rows (and at least half the rows already there), the table's secondary
#: indexes are dropped before the load and rebuilt after it, in the same transaction: building an
#: index once by sorting is several times faster than a million random insertions into it.
REBUILD_INDEXES_FROM = 50_000


def _nullable(values: np.ndarray, missing: np.ndarray) -> list[object]:
    """An object array as a list with None where ``missing``."""
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


def _column(series: pd.Series, column: sa.Column, dialect: str) -> list[object]:
    """One column as a list of driver-native values (None for missing), converted in one pass."""
    kind = column.type
    if isinstance(kind, sa.DateTime):
        ts = pd.to_datetime(series, utc=True)
        text = ts.dt.strftime(_SQLITE_DATETIME if dialect == "sqlite" else "%Y-%m-%d %H:%M:%S.%f+00")
        return _nullable(text.to_numpy(dtype=object), ts.isna().to_numpy())
    if isinstance(kind, sa.Date):
        d = pd.to_datetime(series)
        return _nullable(d.dt.strftime("%Y-%m-%d").to_numpy(dtype=object), d.isna().to_numpy())
    if isinstance(kind, sa.Boolean):
        values = series.astype("boolean")
        native = values.fillna(False).to_numpy(dtype=bool)
        return _nullable(native.astype(np.int64) if dialect == "sqlite" else native, values.isna().to_numpy())
    if isinstance(kind, sa.Integer):
        values = series.astype("Int64")
        return _nullable(values.fillna(0).to_numpy(dtype=np.int64), values.isna().to_numpy())
    if isinstance(kind, sa.Float):
        values = pd.to_numeric(series, errors="raise").to_numpy(dtype=float)
        return _nullable(values, np.isnan(values))
    missing = series.isna().to_numpy()
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return _nullable(series.to_numpy(dtype=object), missing)
    values = series.to_numpy(dtype=object)
    return _nullable(np.array([v if isinstance(v, str) else str(v) for v in values], dtype=object), missing)


def bulk_insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> int:
    """Append ``frame`` (columns named as ``table``'s, no ``id``) inside the open transaction."""
    if frame.empty:
        return 0
    unknown = [c for c in frame.columns if c not in table.c]
    if unknown:
        raise ValueError(f"unknown column(s) for {table.name}: {unknown}")
    dialect = conn.dialect.name
    names = list(frame.columns)
    columns = [_column(frame[name], table.c[name], dialect) for name in names]
    rows = list(zip(*columns, strict=True))
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    rebuild = []
    if len(rows) >= REBUILD_INDEXES_FROM:
        existing = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if len(rows) * 2 >= existing:
            rebuild = [ix for ix in table.indexes if not ix.unique]
            for ix in rebuild:
                ix.drop(conn)
    if dialect == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in names)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({quoted}) VALUES ({marks})", rows)
    for ix in rebuild:
        ix.create(conn)
    return len(rows)
