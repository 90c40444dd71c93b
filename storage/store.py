"""The one repository the app talks to, on SQLite (default, offline) or PostgreSQL/PostGIS.

Frames in, frames out: callers never see SQL, and both backends return the same
dtypes and values for the same data, so layers and views stay backend-agnostic.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import platformdirs
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from storage import audit
from storage.imports import ImportsMixin
from storage.neighbourhoods import NeighbourhoodsMixin
from storage.plans import PlansMixin
from storage.programme import ProgrammeMixin
from storage.queries import IncidentQueriesMixin
from storage.roads import RoadsMixin
from storage.roles import acting, require_write
from storage.schema import TABLES, WRITABLE, import_batch, metadata
from storage.users import UsersMixin

ENV_URL = "PROXIMITE_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_CACHE_KB = 64 * 1024
# Columns the store fills itself; values in incoming frames are overridden.
MANAGED_COLUMNS = frozenset({"batch_id", "is_demo", "created_at", "version"})
DATETIME_DTYPE = "datetime64[us, UTC]"
# pandas >= 3 has a real default string dtype; older pandas keeps object columns.
STRING_DTYPE: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else object


def default_url() -> str:
    """Per-user SQLite file, so the app works offline with zero configuration."""
    folder = Path(platformdirs.user_data_dir("proximite"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'proximite.db'}"


def normalize_url(url: str | sa.URL) -> sa.URL:
    """Plain postgresql:// URLs would pick psycopg2, which is not a dependency."""
    u = sa.make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def open_store(url: str | None = None) -> Store:
    """Open (and migrate to head) the store named by `url`, $PROXIMITE_DATABASE_URL
    or the per-user default SQLite file, in that order."""
    store = Store(url or os.environ.get(ENV_URL) or default_url())
    try:
        store.migrate()
    except BaseException:
        store.dispose()
        raise
    return store


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """SQLite leaves FKs off by default; WAL + busy_timeout let the app read while writing."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
    # WAL + NORMAL is durable across application crashes (only an OS crash may lose the last commit)
    # and much faster for large imports; a 64 MB page cache keeps index inserts off the disk.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KB:d}")
    # Index builds after a large import sort in memory, with a helper thread on the second core.
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA threads=2")
    cur.close()


class Store(ImportsMixin, IncidentQueriesMixin, RoadsMixin, NeighbourhoodsMixin, ProgrammeMixin, PlansMixin,
            UsersMixin):
    """Repository over the schema in `storage.schema`; see module docstring."""

    url: str
    dialect: str
    engine: sa.Engine

    def __init__(self, url: str | sa.URL) -> None:
        u = normalize_url(url)
        self.dialect = u.get_backend_name()
        if self.dialect == "sqlite":
            # The pool hands a connection to one thread at a time (Streamlit is threaded).
            self.engine = sa.create_engine(u, connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        elif self.dialect == "postgresql":
            # UTC sessions make server-side now() and any raw SQL consistent with SQLite.
            self.engine = sa.create_engine(u, connect_args={"options": "-c timezone=UTC"})
        else:
            raise ValueError(f"unsupported database {u.drivername!r}: use sqlite or postgresql")
        self.url = u.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    # -- schema -----------------------------------------------------------------------------

    def migrate(self) -> None:
        """Upgrade to head in one transaction on our own connection (keeps SQLite pragmas)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # Two app processes starting together must not both create the schema.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('proximite'))"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()

    # -- queries ----------------------------------------------------------------------------

    def counts(self, *, demo: bool | None = None) -> dict[str, int]:
        """Rows per record table, in insert order; ``demo`` counts only demo (or only real) rows."""
        with self.engine.connect() as conn:
            out = {}
            for name in TABLES:
                t = _table(name)
                stmt = sa.select(sa.func.count()).select_from(t)
                if demo is not None:
                    stmt = stmt.where(t.c.is_demo == bool(demo))
                out[name] = conn.execute(stmt).scalar_one()
            return out

    def is_empty(self) -> bool:
        """True when no record table holds a row (import_batch alone does not count)."""
        with self.engine.connect() as conn:
            return not any(
                conn.execute(sa.select(sa.exists().select_from(_table(name)))).scalar_one()
                for name in TABLES
            )

    def read(
        self,
        table: str,
        *,
        columns: Sequence[str] | None = None,
        where: Mapping[str, object] | None = None,
        demo: bool | None = None,
    ) -> pd.DataFrame:
        """Rows of `table` ordered by primary key. `where` is equality per column (a list,
        tuple or set means IN, None means IS NULL); `demo` filters on is_demo."""
        t = _table(table)
        cols = list(t.c) if columns is None else [_column(t, c) for c in columns]
        stmt = sa.select(*cols)
        for name, value in (where or {}).items():
            c = _column(t, name)
            if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Series, pd.Index)):
                stmt = stmt.where(c.in_([_to_db(c, v) for v in value]))
            elif _missing(value):
                stmt = stmt.where(c.is_(None))
            else:
                stmt = stmt.where(c == _to_db(c, value))
        if demo is not None:
            if "is_demo" not in t.c:
                raise ValueError(f"table {table!r} has no is_demo column")
            stmt = stmt.where(t.c.is_demo == bool(demo))
        stmt = stmt.order_by(*t.primary_key.columns)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return pd.DataFrame(
            {c.name: _to_series([r[i] for r in rows], c) for i, c in enumerate(cols)},
            columns=[c.name for c in cols],
        )

    # -- writes -----------------------------------------------------------------------------

    def write(
        self,
        frames: Mapping[str, pd.DataFrame],
        *,
        kind: str,
        file_name: str | None = None,
        file_sha256: str | None = None,
        created_by: str | None = None,
        is_demo: bool = False,
        user: object = None,
    ) -> int:
        """Insert `frames` as one import batch, all or nothing; returns the batch id.

        Each frame's optional `id` column holds *local* keys; FK columns pointing at a
        table present in `frames` (with ids) are translated to the new database ids.
        FKs to tables absent from `frames` are taken as existing database ids.
        batch_id/is_demo/created_at/version are set by the store (frame values ignored).
        A bulk write across tables: `user` needs national rights (administrator, planner;
        None is the local system), else ``PermissionDenied``. Audited as an import.
        """
        who = acting(user, name=created_by)
        for name in frames:
            require_write(who, name)
        prepared = _prepare(frames)
        with self.engine.begin() as conn:
            batch_id = _insert_batch(
                conn, prepared, kind=kind, file_name=file_name, file_sha256=file_sha256,
                created_by=created_by if created_by is not None or user is None else who.name, is_demo=is_demo,
            )
            audit.record(conn, "import", username=who.name, batch_id=batch_id,
                         after={"kind": kind, "file_name": file_name, "rows": _sizes(prepared)})
            return batch_id

    def replace_demo(self, frames: Mapping[str, pd.DataFrame], *, user: object = None, **batch_kw: Any) -> int:
        """Swap all demo rows for `frames` in one transaction; real data is untouched.

        Needs national rights like :meth:`write`; audited as one import (rows removed and added).
        """
        who = acting(user, name=batch_kw.get("created_by"))
        for name in TABLES:
            require_write(who, name)
        batch_kw = {"kind": "demo", **batch_kw, "is_demo": True}
        prepared = _prepare(frames)
        with self.engine.begin() as conn:
            removed = {}
            for name in reversed(TABLES):  # children first; FKs without cascade would object
                t = _table(name)
                n = conn.execute(sa.delete(t).where(t.c.is_demo.is_(sa.true()))).rowcount
                if n:
                    removed[name] = int(n)
            conn.execute(sa.delete(import_batch).where(import_batch.c.is_demo.is_(sa.true())))
            batch_id = _insert_batch(conn, prepared, **batch_kw)
            audit.record(conn, "import", username=who.name, batch_id=batch_id, before={"rows": removed},
                         after={"kind": batch_kw["kind"], "file_name": batch_kw.get("file_name"),
                                "rows": _sizes(prepared)}, detail="demo data replaced")
            return batch_id


# -- helpers ----------------------------------------------------------------------------------

_Prepared = list[tuple[sa.Table, list[object] | None, list[dict[str, object]]]]


def _sizes(prepared: _Prepared) -> dict[str, int]:
    """Rows per table of a prepared batch (what the audit log keeps of a bulk write)."""
    return {t.name: len(rows) for t, _, rows in prepared if rows}


def _table(name: str) -> sa.Table:
    if not isinstance(name, str) or name not in metadata.tables:
        raise ValueError(f"unknown table {name!r}; known: {', '.join(sorted(metadata.tables))}")
    return metadata.tables[name]


def _column(t: sa.Table, name: str) -> sa.Column:
    if name not in t.c:  # also rejects PostGIS's geom, which the metadata does not model
        raise ValueError(f"unknown column {name!r} in table {t.name!r}")
    return t.c[name]


def _prepare(frames: Mapping[str, pd.DataFrame]) -> _Prepared:
    """Validate names and convert frames to python rows *before* opening a transaction."""
    unknown = sorted(set(frames) - set(WRITABLE))
    if unknown:
        raise ValueError(f"unknown or read-only table(s): {', '.join(map(repr, unknown))}")
    out: _Prepared = []
    for name in WRITABLE:
        if name not in frames:
            continue
        df, t = frames[name], _table(name)
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"frames[{name!r}] must be a pandas DataFrame")
        if df.columns.has_duplicates:
            raise ValueError(f"duplicate columns in frames[{name!r}]")
        bad = [c for c in df.columns if c not in t.c]
        if bad:
            raise ValueError(f"unknown column(s) in table {name!r}: {', '.join(map(repr, bad))}")
        local_ids = None
        if "id" in df.columns and "id" in t.c:
            local_ids = _column_values(df["id"], t.c.id)
            if any(v is None for v in local_ids) or len(set(local_ids)) != len(local_ids):
                raise ValueError(f"frames[{name!r}].id must hold unique, non-missing local keys")
        keep = [c for c in df.columns if c != "id" and c not in MANAGED_COLUMNS]
        values = {c: _column_values(df[c], t.c[c]) for c in keep}
        rows = [{c: values[c][i] for c in keep} for i in range(len(df))]
        out.append((t, local_ids, rows))
    return out


def _insert_batch(conn: sa.Connection, prepared: _Prepared, *, kind: str,
                  file_name: str | None = None, file_sha256: str | None = None,
                  created_by: str | None = None, is_demo: bool = False) -> int:
    n = sum(len(rows) for _, _, rows in prepared)
    batch_id = conn.execute(
        import_batch.insert().returning(import_batch.c.id),
        {"kind": kind, "file_name": file_name, "file_sha256": file_sha256,
         "created_by": created_by, "n_rows": n, "n_imported": n, "n_queued": 0,
         "is_demo": bool(is_demo)},
    ).scalar_one()
    id_maps: dict[str, dict[object, int]] = {}
    for t, local_ids, rows in prepared:
        if not rows:
            if local_ids is not None:
                id_maps[t.name] = {}  # children may not point at keys of an empty frame
            continue
        _remap_foreign_keys(t, rows, id_maps)
        record = "batch_id" in t.c
        for row in rows:
            if record:
                row["batch_id"], row["is_demo"] = batch_id, bool(is_demo)
            _fill_defaults(t, row)
        if local_ids is None:
            conn.execute(t.insert(), rows)
            continue
        # sort_by_parameter_order: returned ids come back in the order of `rows`.
        result = conn.execute(t.insert().returning(t.c.id, sort_by_parameter_order=True), rows)
        id_maps[t.name] = dict(zip(local_ids, result.scalars().all(), strict=True))
    return int(batch_id)


def _remap_foreign_keys(t: sa.Table, rows: list[dict[str, object]],
                        id_maps: Mapping[str, Mapping[object, int]]) -> None:
    """Translate local keys into new ids, following the FKs declared in the metadata."""
    for fk in t.foreign_keys:
        col, parent = fk.parent.name, fk.column.table.name
        if parent not in id_maps or col not in rows[0]:
            continue
        mapping = id_maps[parent]
        missing = sorted({r[col] for r in rows if r[col] is not None and r[col] not in mapping})
        if missing:
            raise ValueError(
                f"{t.name}.{col}: local key(s) {missing[:10]} not found in frames[{parent!r}].id"
            )
        for r in rows:
            if r[col] is not None:
                r[col] = mapping[r[col]]


def _fill_defaults(t: sa.Table, row: dict[str, object]) -> None:
    """A missing value in a NOT NULL column with a default means 'use the default'."""
    for name, value in row.items():
        c = t.c[name]
        if value is None and not c.nullable and c.default is not None and c.default.is_scalar:
            row[name] = c.default.arg


def _missing(v: object) -> bool:
    return v is None or (pd.api.types.is_scalar(v) and bool(pd.isna(v)))


def _column_values(series: pd.Series, c: sa.Column) -> list[object]:
    """One frame column as plain python values of the column's type (None for NaN/NaT/NA)."""
    if isinstance(c.type, sa.DateTime):
        try:
            # Naive values are taken as UTC; aware ones are converted. SQLite keeps naive UTC.
            s = pd.to_datetime(series, utc=True)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{c.table.name}.{c.name}: not a datetime column ({e})") from e
        return [None if pd.isna(v) else v.to_pydatetime() for v in s]
    return [_to_db(c, v) for v in series.astype(object)]


def _to_db(c: sa.Column, v: object) -> object:
    """Coerce one value (numpy scalar, Timestamp, str, ...) to what the DB driver expects."""
    if _missing(v):
        return None
    t = c.type
    try:
        if isinstance(t, sa.Boolean):
            if isinstance(v, (bool, np.bool_, int, np.integer)) and v in (0, 1):
                return bool(v)
            raise ValueError("not a boolean")
        if isinstance(t, sa.Integer):
            if isinstance(v, (bool, np.bool_)):
                raise ValueError("boolean in integer column")
            if isinstance(v, (float, np.floating)):
                if not float(v).is_integer():
                    raise ValueError("not an integer")
                if abs(v) > 2**53:  # e.g. H3 ids in a float64 column: digits already lost
                    raise ValueError("float too large to be an exact integer; use Int64 dtype")
                return int(v)
            return int(v)  # ints, numpy ints, numeric strings
        if isinstance(t, sa.Float):
            f = float(v)
            return None if math.isnan(f) else f
        if isinstance(t, sa.DateTime):
            ts = pd.Timestamp(v)
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            return ts.to_pydatetime()
        if isinstance(t, sa.Date):
            if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
                return v
            return pd.Timestamp(v).date()
        if isinstance(t, sa.String):  # also Text
            return v if isinstance(v, str) else str(v)
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"{c.table.name}.{c.name}: bad value {v!r} ({e})") from e
    return v


def _to_series(values: Iterable[object], c: sa.Column) -> pd.Series:
    """Fixed dtype per SQL type, so both backends (and empty results) yield identical frames."""
    values = list(values)
    t = c.type
    if isinstance(t, sa.DateTime):
        # SQLite returns naive UTC, PostgreSQL aware datetimes: utc=True unifies both.
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype(DATETIME_DTYPE)
    if isinstance(t, sa.Date):
        return pd.Series(values, dtype=object)
    if isinstance(t, sa.Boolean):
        return pd.Series(values, dtype="boolean" if c.nullable else "bool")
    if isinstance(t, sa.Integer):
        return pd.Series(values, dtype="Int64" if c.nullable else "int64")
    if isinstance(t, sa.Float):
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if isinstance(t, sa.String):
        return pd.Series(values, dtype=STRING_DTYPE)
    return pd.Series(values, dtype=object)
