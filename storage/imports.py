"""Import batches, the review queue and saved column mappings (mixed into ``Store``).

An import is one transaction: the batch row, every accepted record (bulk path)
and every review item. Undo removes what a batch added and keeps the batch row,
marked undone, as history. Review items change under optimistic locking: a save
based on a stale version is refused, never silently overwritten.

Writes take an optional ``user`` (a :class:`storage.users.User` or a
:class:`storage.roles.Viewer`) and refuse, with ``PermissionDenied``, rows outside
its rights; without one they act as the local system writer (command line,
tests). Each import, undo and review change writes its audit row in its own
transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from storage import audit
from storage.bulk import bulk_insert, stage
from storage.roles import acting, require_write, require_write_rows, require_writer
from storage.schema import audit_log, column_mapping, import_batch, metadata, review_item

#: Characters a JSON string cannot hold as they are.
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


class StaleVersionError(RuntimeError):
    """Someone else saved this record since it was read; their change is kept, yours refused."""


class ImportsMixin:
    """Import-related repository methods; expects ``self.engine`` (see ``Store``)."""

    engine: sa.Engine

    def import_records(self, table: str, records: pd.DataFrame, review: pd.DataFrame, *, kind: str,
                       file_name: str | None, file_sha256: str | None, file_format: str | None = None,
                       mapping: str | None = None, created_by: str | None = None, user: object = None) -> int:
        """Store accepted ``records`` and queued ``review`` rows as one batch; returns its id.

        ``review`` has columns ``source_row``, ``data`` (dict of raw values) and
        ``reasons`` (list of codes). Nothing is written if anything fails, or if ``user``
        may not write every record (``PermissionDenied``).
        """
        target = metadata.tables[table]
        n_rows = len(records) + len(review)
        who = acting(user, name=created_by)
        require_write_rows(self.engine, who, table, records)
        created_by = created_by if created_by is not None or user is None else who.name
        # Records are converted (and on SQLite staged in a side database) before the transaction
        # opens, so the write lock is held only for the copy, the index rebuild and the review rows.
        with self.engine.connect() as conn, stage(conn, target, records) as rows, conn.begin():
            batch_id = conn.execute(
                import_batch.insert().returning(import_batch.c.id),
                {"kind": kind, "file_name": file_name, "file_sha256": file_sha256, "file_format": file_format,
                 "mapping": mapping, "created_by": created_by, "n_rows": n_rows,
                 "n_imported": len(records), "n_queued": len(review), "is_demo": False},
            ).scalar_one()
            rows.insert(conn, {"batch_id": batch_id})
            if len(review):
                conn.execute(review_item.insert(), [
                    {"batch_id": batch_id, "kind": kind, "source_row": _int_or_none(row.source_row),
                     "data": json.dumps(row.data, ensure_ascii=False, default=str),
                     "reasons": json.dumps(list(row.reasons))}
                    for row in review.itertuples(index=False)
                ])
            audit.record(conn, "import", username=who.name, table_name=table, batch_id=batch_id,
                         after={"kind": kind, "file_name": file_name, "file_sha256": file_sha256, "n_rows": n_rows,
                                "n_imported": len(records), "n_queued": len(review)})
        return int(batch_id)

    def batches(self, kind: str | None = None) -> pd.DataFrame:
        """Import batches, newest first (demo batches excluded)."""
        stmt = sa.select(import_batch).where(import_batch.c.is_demo.is_(sa.false()))
        if kind:
            stmt = stmt.where(import_batch.c.kind == kind)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(import_batch.c.id.desc())).mappings().all()
        return pd.DataFrame(rows, columns=[c.name for c in import_batch.c])

    def undo_batch(self, batch_id: int, *, user: object = None) -> int:
        """Remove every record and review item of a batch; the batch row stays, marked undone.

        ``user`` must be allowed to delete every record of the batch (``PermissionDenied``).
        """
        who = acting(user)
        require_writer(who)
        with self.engine.begin() as conn:
            batch = conn.execute(sa.select(import_batch).where(import_batch.c.id == batch_id)).mappings().first()
            if batch is None:
                raise KeyError(f"unknown import batch {batch_id}")
            if batch["undone_at"] is not None:
                return 0
            held = audit.batch_summary(conn, batch_id)
            for name in held["rows"]:
                if name != review_item.name:
                    t = metadata.tables[name]
                    require_write(who, name, stored=[t.c.batch_id == batch_id], conn=conn)
            removed = 0
            for table in reversed(metadata.sorted_tables):  # the audit log keeps its rows: history stays
                if "batch_id" in table.c and table is not review_item and table is not audit_log:
                    removed += conn.execute(sa.delete(table).where(table.c.batch_id == batch_id)).rowcount
            conn.execute(sa.delete(review_item).where(review_item.c.batch_id == batch_id))
            conn.execute(import_batch.update().where(import_batch.c.id == batch_id)
                         .values(undone_at=datetime.now(UTC)))
            audit.record(conn, "undo", username=who.name, batch_id=batch_id, before=held,
                         detail=f"{removed} records removed")
        return removed

    def review_items(self, *, status: str | None = "open", batch_id: int | None = None,
                     kind: str | None = None) -> pd.DataFrame:
        """Review queue rows with ``data`` and ``reasons`` decoded."""
        stmt = sa.select(review_item)
        if status:
            stmt = stmt.where(review_item.c.status == status)
        if batch_id is not None:
            stmt = stmt.where(review_item.c.batch_id == batch_id)
        if kind:
            stmt = stmt.where(review_item.c.kind == kind)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(review_item.c.id)).mappings().all()
        frame = pd.DataFrame(rows, columns=[c.name for c in review_item.c])
        frame["data"] = [json.loads(v) for v in frame["data"]]
        frame["reasons"] = [json.loads(v) for v in frame["reasons"]]
        return frame

    def update_review_item(self, item_id: int, *, version: int, data: dict, reasons: Iterable[str],
                           user: object = None) -> int:
        """Save corrected values that still do not pass; returns the new version."""
        who = acting(user)
        require_writer(who, review_item.name)
        values = {"data": json.dumps(data, ensure_ascii=False), "reasons": json.dumps(list(reasons))}
        with self.engine.begin() as conn:
            before = _item_state(conn, item_id)
            new_version = self._bump(conn, item_id, version, values)
            audit.record(conn, "update", username=who.name, table_name=review_item.name, record_id=item_id,
                         batch_id=before["batch_id"] if before else None, before=before,
                         after=_item_state(conn, item_id))
        return new_version

    def resolve_review_item(self, item_id: int, *, version: int, table: str | None = None,
                            record: pd.DataFrame | None = None, status: str = "resolved",
                            resolved_by: str | None = None, user: object = None) -> int:
        """Close an item: insert its corrected ``record`` (into the item's batch) or discard it.

        ``user`` must be allowed to write ``record`` (``PermissionDenied``); the audit row keeps
        the item before and after and the record added.
        """
        who = acting(user, name=resolved_by)
        require_writer(who, table or review_item.name)
        resolved_by = resolved_by if resolved_by is not None or user is None else who.name
        adds = record is not None and table is not None
        with self.engine.begin() as conn:
            item = conn.execute(sa.select(review_item).where(review_item.c.id == item_id)).mappings().first()
            if item is None:
                raise KeyError(f"unknown review item {item_id}")
            if adds:
                require_write(who, table, frame=record, conn=conn)
            before = _item_state(conn, item_id)
            new_version = self._bump(conn, item_id, version, {"status": status, "resolved_by": resolved_by,
                                                              "resolved_at": datetime.now(UTC)})
            if adds:
                bulk_insert(conn, metadata.tables[table], record.assign(batch_id=item["batch_id"]))
                conn.execute(import_batch.update().where(import_batch.c.id == item["batch_id"])
                             .values(n_imported=import_batch.c.n_imported + len(record),
                                     n_queued=import_batch.c.n_queued - 1))
            after = _item_state(conn, item_id)
            if adds:
                after["records_added"] = {table: record.to_dict("records")}
            audit.record(conn, "update", username=who.name, table_name=review_item.name, record_id=item_id,
                         batch_id=item["batch_id"], before=before, after=after, detail=status)
        return new_version

    @staticmethod
    def _bump(conn: sa.Connection, item_id: int, version: int, values: dict) -> int:
        result = conn.execute(
            review_item.update()
            .where(review_item.c.id == item_id, review_item.c.version == version)
            .values(**values, version=version + 1)
        )
        if result.rowcount != 1:
            raise StaleVersionError(f"review item {item_id} changed since version {version}")
        return version + 1

    def save_mapping(self, kind: str, name: str, mapping: str, created_by: str | None = None) -> None:
        """Save (or replace) a named column mapping for files of ``kind``."""
        with self.engine.begin() as conn:
            conn.execute(sa.delete(column_mapping).where(column_mapping.c.kind == kind,
                                                         column_mapping.c.name == name))
            conn.execute(column_mapping.insert(), {"kind": kind, "name": name, "mapping": mapping,
                                                   "created_by": created_by})

    def mappings(self, kind: str) -> dict[str, str]:
        """Saved mappings of ``kind`` by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(column_mapping.c.name, column_mapping.c.mapping)
                                .where(column_mapping.c.kind == kind).order_by(column_mapping.c.name)).all()
        return {name: text for name, text in rows}

    def incident_keys(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Category, resolution-9 cell and time of stored point incidents in ``[start, end]`` (duplicate checks)."""
        inc = metadata.tables["incident"]
        when = inc.c.occurred_at
        if self.engine.dialect.name == "sqlite":  # stored text, parsed below in one vectorized call, not per row
            when = sa.type_coerce(when, sa.String)
        stmt = (sa.select(inc.c.category, inc.c.h3_r9, when)
                .where(inc.c.occurred_at.between(start, end), inc.c.precision == "point"))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        names = ["category", "h3_r9", "occurred_at"]
        # Columns first: a frame built from a million Row objects takes seconds longer.
        frame = pd.DataFrame(dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else [], columns=names)
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True, format="ISO8601")
        return frame

    def existing_values(self, table: str, column: str, values: Iterable[str]) -> set[str]:
        """Which of ``values`` already appear in ``table.column`` (e.g. source ids).

        One query whatever the number of values, the whole list bound as one parameter (a JSON
        array on SQLite, an array on PostgreSQL) and joined through the column's index: a
        million ids cost a fraction of a second instead of a thousand ``IN (...)`` queries.
        """
        t = metadata.tables[table]
        col = t.c[column]
        wanted = [v if isinstance(v, str) else str(v) for v in values if v is not None]
        if not wanted:
            return set()
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            given = sa.bindparam("wanted", wanted, type_=ARRAY(col.type))
            stmt = sa.select(col).where(col == sa.any_(given))
        else:
            listed = sa.func.json_each(sa.bindparam("wanted", _json_array(wanted), type_=sa.Text))
            given = listed.table_valued("value").alias("given")
            stmt = sa.select(col).join_from(given, t, col == given.c.value)
        with self.engine.connect() as conn:
            return set(conn.execute(stmt).scalars())


def _json_array(texts: list[str]) -> str:
    """A JSON array of strings: a plain join when none needs escaping (ids never do), else ``json.dumps``."""
    if _JSON_ESCAPED.search("".join(texts)) is None:
        return '["' + '","'.join(texts) + '"]'
    return json.dumps(texts, ensure_ascii=False)


def _int_or_none(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _item_state(conn: sa.Connection, item_id: int) -> dict | None:
    """A review item as the audit log keeps it (raw values and reasons decoded)."""
    row = conn.execute(sa.select(review_item).where(review_item.c.id == item_id)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["data"], out["reasons"] = json.loads(row["data"]), json.loads(row["reasons"])
    return out
