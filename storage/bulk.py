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


def _column(series: pd.Series, column: sa.Column, dialect: str) -> list[object]:
    """One column as a list of driver-native values (None for missing)."""
    kind = column.type
    if isinstance(kind, sa.DateTime):
        ts = pd.to_datetime(series, utc=True)
        text = ts.dt.strftime(_SQLITE_DATETIME if dialect == "sqlite" else "%Y-%m-%d %H:%M:%S.%f+00")
        return text.where(ts.notna(), None).tolist()
    if isinstance(kind, sa.Date):
        d = pd.to_datetime(series)
        return d.dt.strftime("%Y-%m-%d").where(d.notna(), None).tolist()
    if isinstance(kind, sa.Boolean):
        values = series.astype("boolean")
        out = values.astype(object).where(values.notna(), None)
        return [None if v is None else (int(v) if dialect == "sqlite" else bool(v)) for v in out]
    if isinstance(kind, sa.Integer):
        values = series.astype("Int64")
        return values.astype(object).where(values.notna(), None).tolist()
    if isinstance(kind, sa.Float):
        values = pd.to_numeric(series, errors="raise").astype("float64")
        arr = values.to_numpy(dtype=object)
        arr[np.isnan(values.to_numpy())] = None
        return arr.tolist()
    values = series.astype(object)
    return values.where(values.notna(), None).map(lambda v: v if v is None or isinstance(v, str) else str(v)).tolist()


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
    if dialect == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in names)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({quoted}) VALUES ({marks})", rows)
    return len(rows)
