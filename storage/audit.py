"""The audit log: who did what, when, with the row before and after (mixed into ``Store``).

Writers call :func:`record` on the connection of their own transaction, so a
change and its audit row are committed (or rolled back) together: there is no
change without its trace and no trace of a change that did not happen. Rows are
only ever added. ``before``/``after`` are JSON text of the row (dates as ISO
strings, binary geometry summarised by its size); imports store the batch id
and counts, not every row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.roles import Viewer, acting, require_admin
from storage.schema import AUDIT_ACTIONS, audit_log, metadata

AUDIT_COLUMNS = tuple(c.name for c in audit_log.c)
_MAX_NAME = audit_log.c.username.type.length


def _plain(value: Any) -> Any:
    """A JSON-ready version of one stored value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (datetime, pd.Timestamp)):  # SQLite gives naive UTC, PostgreSQL aware: one form
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (np.floating, Decimal)):
        return _plain(float(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [_plain(v) for v in value]
    return str(value)


def to_json(value: Any) -> str | None:
    """JSON text of a row or summary (None stays None)."""
    if value is None:
        return None
    return json.dumps(_plain(value), ensure_ascii=False, sort_keys=True)


def snapshot(conn: sa.Connection, table: str, record_id: int) -> dict[str, Any] | None:
    """One stored row as a JSON-ready dict (a training with its ``instructor_ids``), or None."""
    t = metadata.tables[table]
    row = conn.execute(sa.select(t).where(t.c.id == record_id)).mappings().first()
    if row is None:
        return None
    out = {k: _plain(v) for k, v in row.items()}
    if table == "training":
        links = metadata.tables["training_instructor"]
        out["instructor_ids"] = list(conn.execute(sa.select(links.c.instructor_id)
                                                  .where(links.c.training_id == record_id)
                                                  .order_by(links.c.instructor_id)).scalars())
    return out


def record(conn: sa.Connection, action: str, *, username: str, table_name: str | None = None,
           record_id: int | None = None, batch_id: int | None = None, before: Any = None, after: Any = None,
           detail: str | None = None, at: datetime | None = None) -> int:
    """Add one audit row on ``conn`` (inside the caller's transaction); returns its id."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: expected {', '.join(AUDIT_ACTIONS)}")
    values = {"at": at or datetime.now(UTC), "username": str(username or "?")[:_MAX_NAME], "action": action,
              "table_name": table_name, "record_id": None if record_id is None else int(record_id),
              "batch_id": None if batch_id is None else int(batch_id), "before": to_json(before),
              "after": to_json(after), "detail": detail}
    return int(conn.execute(audit_log.insert().returning(audit_log.c.id), values).scalar_one())


def batch_summary(conn: sa.Connection, batch_id: int) -> dict[str, Any]:
    """What an import batch holds now: its kind and file, and rows per table (one count per table)."""
    batch = metadata.tables["import_batch"]
    row = conn.execute(sa.select(batch.c.kind, batch.c.file_name, batch.c.n_rows, batch.c.n_imported,
                                 batch.c.n_queued).where(batch.c.id == batch_id)).mappings().first()
    out: dict[str, Any] = dict(row) if row is not None else {}
    counts = {}
    for t in metadata.sorted_tables:
        if "batch_id" in t.c and t is not audit_log:
            n = conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.batch_id == batch_id)).scalar_one()
            if n:
                counts[t.name] = int(n)
    out["rows"] = counts
    return out


def _utc(value: datetime | date) -> datetime:
    """An aware UTC datetime (naive values are taken as UTC; a date is its midnight): SQLite compares text."""
    ts = pd.Timestamp(value)
    return (ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)).to_pydatetime()


class AuditMixin:
    """Audit log reads and app-level events (exports); expects ``self.engine`` (see ``Store``)."""

    engine: sa.Engine

    def record_audit(self, action: str, *, user: Any = None, table_name: str | None = None,
                     record_id: int | None = None, batch_id: int | None = None, before: Any = None,
                     after: Any = None, detail: str | None = None) -> int:
        """Log an event the store does not see itself (an export, a page's download); returns the row id."""
        who = acting(user)
        with self.engine.begin() as conn:
            return record(conn, action, username=who.name, table_name=table_name, record_id=record_id,
                          batch_id=batch_id, before=before, after=after, detail=detail)

    def audit_log(self, *, start: datetime | None = None, end: datetime | None = None,
                  username: str | None = None, action: str | None = None, table_name: str | None = None,
                  record_id: int | None = None, batch_id: int | None = None, limit: int | None = None,
                  viewer: Viewer | None = None) -> pd.DataFrame:
        """Audit rows, newest first, filtered by period (``end`` exclusive), user, action, table, record, batch.

        ``before``/``after`` stay JSON text (``json.loads`` them to compare). Only
        administrators may read it: pass the app user's ``viewer``; None is the
        local system (command line). Export with ``exchange.export.to_csv``.
        """
        require_admin(acting(viewer))
        c = audit_log.c
        conds = []
        if start is not None:
            conds.append(c.at >= _utc(start))
        if end is not None:
            conds.append(c.at < _utc(end))
        for column, value in (("username", username), ("action", action), ("table_name", table_name),
                              ("record_id", record_id), ("batch_id", batch_id)):
            if value is not None:
                conds.append(c[column] == value)
        stmt = sa.select(audit_log).where(*conds).order_by(c.id.desc())
        if limit is not None:
            stmt = stmt.limit(int(limit))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
        frame["at"] = pd.to_datetime(frame["at"], utc=True).astype("datetime64[us, UTC]")
        for name in ("id", "record_id", "batch_id"):
            frame[name] = pd.array(frame[name].tolist(), dtype="Int64" if name != "id" else "int64")
        return frame
