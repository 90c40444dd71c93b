"""Programme records (stations, councils, schools, officers, trainings...): filtered reads and editing.

Mixed into ``Store``. Every write goes through :func:`exchange.programme.validate`,
the same checks a file import runs, so a record typed in a form and a row of a
spreadsheet are held to one standard. A new record is stored as a batch of one
(kind ``"<table>:entry"``) and is undone like an import; edits and deletions are
refused when the record changed since it was read (``version``), so two people
editing the same council never overwrite each other silently.

Records that point at demo records are refused (a demo school, station or
council is "unknown" to validation): regenerating the demo data replaces every
demo row, which would otherwise delete or orphan real records.

Every write takes an optional ``user`` (a :class:`storage.users.User` or a
:class:`storage.roles.Viewer`): a write outside its role or units is refused with
``PermissionDenied`` before anything is stored (an edit is checked where the
record was and where it goes). Without a user the write is the local system's
(command line, tests). Each write adds its audit row, with the record before and
after, in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from storage import audit
from storage.imports import StaleVersionError
from storage.roles import acting, require_write, require_writer
from storage.schema import import_batch, metadata, review_item

#: The programme's tables, parents before children (insert order).
PROGRAMME_TABLES: tuple[str, ...] = ("station", "council", "council_meeting", "school", "outreach_officer",
                                     "school_visit", "women_visit_day", "instructor", "training",
                                     "training_instructor")
#: Tables a record can be added to, edited in or deleted from one at a time (links go with their training).
ENTRY_TABLES: tuple[str, ...] = tuple(t for t in PROGRAMME_TABLES if t != "training_instructor")
#: Tables whose rows carry their own administrative units.
UNIT_TABLES = ("station", "council", "school", "training")
#: Dated child records and their date column(s); trainings count when they overlap the period.
DATED: dict[str, tuple[str, str]] = {"council_meeting": ("held_on", "held_on"),
                                     "school_visit": ("visited_on", "visited_on"),
                                     "women_visit_day": ("held_on", "held_on"),
                                     "training": ("start_on", "end_on")}
#: Child table -> (foreign key column, parent table) used to cut children to the units of their parent.
CHILD_OF: dict[str, tuple[str, str]] = {"council_meeting": ("council_id", "council"),
                                        "school_visit": ("school_id", "school"),
                                        "women_visit_day": ("station_id", "station")}
#: Suffix of the batch kind of a record entered by hand.
ENTRY_KIND = ":entry"
#: Columns the store manages; values given for them are refused rather than ignored.
MANAGED = frozenset({"id", "batch_id", "is_demo", "created_at", "version"})
_LEVEL_COLUMNS = {"region": "region_id", "prefecture": "prefecture_id", "subprefecture": "subprefecture_id"}
#: Columns of the stored rows validation needs to resolve references and spot duplicates.
REF_COLUMNS: dict[str, tuple[str, ...]] = {
    "station": ("id", "name", "kind", "region_id", "prefecture_id", "subprefecture_id"),
    "council": ("id", "name", "unit_level", "unit_id", "region_id", "prefecture_id", "subprefecture_id",
                "established_on"),
    "school": ("id", "name", "region_id", "prefecture_id", "subprefecture_id"),
    "outreach_officer": ("id", "name", "station_id"),
    "instructor": ("id", "name"),
    "council_meeting": ("id", "council_id", "held_on"),
    "school_visit": ("id", "school_id", "officer_id", "visited_on"),
    "women_visit_day": ("id", "station_id", "held_on"),
    "training": ("id", "community_name", "region_id", "prefecture_id", "subprefecture_id", "start_on", "module"),
}
#: Stored tables validation of each table reads (parents, and the table itself for duplicates).
REFS_NEEDED: dict[str, tuple[str, ...]] = {
    "station": ("station",),
    "council": ("council", "neighbourhood"),
    "council_meeting": ("council", "council_meeting"),
    "school": ("school",),
    "outreach_officer": ("station", "outreach_officer"),
    "school_visit": ("school", "outreach_officer", "station", "school_visit"),
    "women_visit_day": ("station", "women_visit_day"),
    "instructor": ("instructor",),
    "training": ("instructor", "training"),
}


class InvalidRecordError(ValueError):
    """A record that does not pass validation; ``problems`` has columns row, field, code, value."""

    def __init__(self, table: str, problems: pd.DataFrame) -> None:
        self.table, self.problems = table, problems
        listed = "; ".join(f"{p.field}: {p.code}" for p in problems.itertuples(index=False))
        super().__init__(f"invalid {table} record: {listed}")


class RecordInUseError(ValueError):
    """A record other records still point at (e.g. a school with visits); nothing was deleted."""

    def __init__(self, table: str, record_id: int, dependents: Mapping[str, int]) -> None:
        self.table, self.record_id, self.dependents = table, record_id, dict(dependents)
        listed = ", ".join(f"{n} {name}" for name, n in self.dependents.items())
        super().__init__(f"{table} {record_id} is still referenced by {listed}: delete or move those first")


@dataclass(frozen=True)
class ProgrammeFilter:
    """What the programme views show: a period (end exclusive), units at any level, demo rows or not.

    ``start``/``end`` may be dates or datetimes; records are dated by day, so a datetime
    ``end`` that is not midnight still includes its own day.
    """

    start: date | datetime | None = None
    end: date | datetime | None = None
    units: tuple[tuple[str, str], ...] = ()  # (level, unit_id) pairs; any match keeps a record
    include_demo: bool = True

    def __post_init__(self) -> None:
        units = tuple((str(level), str(uid)) for level, uid in self.units)
        unknown = sorted({level for level, _ in units} - set(_LEVEL_COLUMNS))
        if unknown:
            raise ValueError(f"unknown unit level {', '.join(unknown)}: expected {', '.join(_LEVEL_COLUMNS)}")
        object.__setattr__(self, "units", units)
        first, last = self.days()
        if first is not None and last is not None and last < first:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    def days(self) -> tuple[date | None, date | None]:
        """First day of the period and the first day after it (None when open)."""
        return _day(self.start, upper=False), _day(self.end, upper=True)

    def unit_where(self, table: sa.Table) -> list[sa.ColumnElement[bool]]:
        if not self.units:
            return []
        return [sa.or_(*(table.c[_LEVEL_COLUMNS[level]] == uid for level, uid in self.units))]

    def demo_where(self, table: sa.Table) -> list[sa.ColumnElement[bool]]:
        return [] if self.include_demo else [table.c.is_demo.is_(sa.false())]

    def period_where(self, table: sa.Table) -> list[sa.ColumnElement[bool]]:
        if table.name not in DATED:
            return []
        first, after = self.days()
        begin, finish = (table.c[c] for c in DATED[table.name])
        out = []
        if first is not None:
            out.append(finish >= first)
        if after is not None:
            out.append(begin < after)
        return out


def _day(value: date | datetime | None, *, upper: bool) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        when = value.astimezone(UTC) if value.tzinfo is not None else value
        day = when.date()
        if upper and when.time() != datetime.min.time():
            day += timedelta(days=1)  # the end's own day has begun: it is in the period
        return day
    if isinstance(value, date):
        return value
    raise TypeError(f"period bounds must be dates or datetimes, got {type(value).__name__}")


def _tables(names: Iterable[str]) -> dict[str, sa.Table]:
    return {n: metadata.tables[n] for n in names}


class ProgrammeMixin:
    """Programme reads and single-record writes; expects ``self.engine`` (see ``Store``)."""

    engine: sa.Engine

    # -- reads ------------------------------------------------------------------------------

    def programme_frames(self, flt: ProgrammeFilter | None = None) -> dict[str, pd.DataFrame]:
        """Every programme table cut to ``flt``, keyed by table name (columns and dtypes as ``Store.read``).

        Dated children (meetings, visits, women's days, trainings) are cut to the period
        (a training counts when it overlaps it); stations, councils, schools and trainings
        to the units, and meetings, visits and women's days to the units of their council,
        school or station. Parents are never cut by the period, so every kept child finds
        its parent: officers are those of the kept stations plus any who made a kept visit,
        instructors are all kept, links are those of the kept trainings.
        """
        flt = flt or ProgrammeFilter()
        t = _tables(PROGRAMME_TABLES)
        own = {name: flt.unit_where(t[name]) + flt.demo_where(t[name]) for name in UNIT_TABLES}

        def ids(name: str) -> sa.Select:
            return sa.select(t[name].c.id).where(*own[name], *flt.period_where(t[name]))

        where: dict[str, list[sa.ColumnElement[bool]]] = dict(own)
        where["training"] = own["training"] + flt.period_where(t["training"])
        for child, (fk, parent) in CHILD_OF.items():
            cut = [t[child].c[fk].in_(ids(parent))] if flt.units else []
            where[child] = cut + flt.period_where(t[child]) + flt.demo_where(t[child])
        officer = t["outreach_officer"]
        where["outreach_officer"] = flt.demo_where(officer)
        if flt.units:  # the kept stations' officers, and whoever made a kept visit
            visited = sa.select(t["school_visit"].c.officer_id).where(*where["school_visit"])
            where["outreach_officer"].append(sa.or_(officer.c.station_id.in_(ids("station")),
                                                    officer.c.id.in_(visited)))
        where["instructor"] = flt.demo_where(t["instructor"])
        links = t["training_instructor"]
        where["training_instructor"] = [links.c.training_id.in_(ids("training"))] if where["training"] else []
        with self.engine.connect() as conn:
            return {name: _select_frame(conn, t[name], where[name]) for name in PROGRAMME_TABLES}

    def programme_refs(self, table: str) -> dict[str, pd.DataFrame]:
        """Stored real (not demo) rows that validating ``table`` needs: its parents and its own rows."""
        _check_entry_table(table)
        out: dict[str, pd.DataFrame] = {}
        with self.engine.connect() as conn:
            for name in REFS_NEEDED[table]:
                if name not in metadata.tables:  # e.g. neighbourhoods, added by a later migration
                    continue
                t = metadata.tables[name]
                wanted = REF_COLUMNS.get(name) or tuple(c for c in ("id", "name", "alt_names", "subprefecture_id")
                                                        if c in t.c)
                cols = [t.c[c] for c in wanted]
                conds = [t.c.is_demo.is_(sa.false())] if "is_demo" in t.c else []
                out[name] = _select_frame(conn, t, conds, cols)
        return out

    # -- single-record writes ---------------------------------------------------------------

    def add_record(self, table: str, values: Mapping[str, Any], *, created_by: str | None = None,
                   today: date | None = None, allow_duplicate: bool = False, user: object = None) -> int:
        """Validate and store one record as its own undoable batch (kind ``"<table>:entry"``); returns its id.

        ``values`` uses the field names of :func:`exchange.programme.validate` (the table's columns,
        references by id or name such as ``"school"``, units by id or name, ``"instructor_ids"`` for a
        training). Raises :class:`InvalidRecordError` (nothing written) when it does not pass.
        """
        _check_entry_table(table)
        _check_fields(values)
        who = acting(user, name=created_by)
        require_writer(who, table)
        created_by = created_by if created_by is not None or user is None else who.name
        valid = self._validated(table, values, today=today, allow_duplicate=allow_duplicate)
        with self.engine.begin() as conn:
            require_write(who, table, frame=valid, conn=conn)
            batch_id = _new_batch(conn, kind=f"{table}{ENTRY_KIND}", created_by=created_by, n_imported=1, n_queued=0)
            new_id = _insert_records(conn, table, valid, batch_id)[0]
            audit.record(conn, "create", username=who.name, table_name=table, record_id=new_id, batch_id=batch_id,
                         after=audit.snapshot(conn, table, new_id))
            return new_id

    def update_record(self, table: str, record_id: int, values: Mapping[str, Any], *, version: int,
                      created_by: str | None = None, today: date | None = None,
                      allow_duplicate: bool = False, user: object = None) -> int:
        """Change fields of one record read at ``version``; returns the new version.

        Fields not in ``values`` keep their stored value; a new point without new units
        recomputes the units from the point. Raises ``KeyError`` for an unknown id,
        ``StaleVersionError`` when the record changed since ``version`` (nothing written) and
        :class:`InvalidRecordError` when the result does not pass. Who edited is kept in the
        audit log (``user``, else ``created_by``), the record itself has no "edited by" column.
        """
        _check_entry_table(table)
        _check_fields(values)
        who = acting(user, name=created_by)
        require_writer(who, table)
        t = metadata.tables[table]
        if not who.edits_everywhere:  # where the record is, before validation says anything about it
            with self.engine.connect() as conn:
                require_write(who, table, stored=[t.c.id == record_id], conn=conn)
        current = self._current(table, record_id, version)
        merged = _merge(table, current, values, self._links(record_id) if table == "training" else None)
        valid = self._validated(table, merged, today=today, allow_duplicate=allow_duplicate, exclude_id=record_id)
        row = _record_rows(table, valid)[0]
        with self.engine.begin() as conn:
            require_write(who, table, frame=valid, stored=[t.c.id == record_id], conn=conn)
            before = audit.snapshot(conn, table, record_id)
            done = conn.execute(t.update().where(t.c.id == record_id, t.c.version == version)
                                .values(**row, version=version + 1))
            if done.rowcount != 1:
                raise StaleVersionError(f"{table} {record_id} changed since version {version}")
            if table == "training":
                links = metadata.tables["training_instructor"]
                conn.execute(sa.delete(links).where(links.c.training_id == record_id))
                _insert_links(conn, [record_id], valid)
            audit.record(conn, "update", username=who.name, table_name=table, record_id=record_id,
                         before=before, after=audit.snapshot(conn, table, record_id))
        return version + 1

    def delete_record(self, table: str, record_id: int, *, version: int, user: object = None,
                      created_by: str | None = None) -> None:
        """Delete one record read at ``version`` (meetings of a council and links of a training go with it).

        Raises ``KeyError`` for an unknown id, ``StaleVersionError`` when it changed since
        ``version``, :class:`RecordInUseError` when other records still point at it and
        ``PermissionDenied`` when ``user`` may not delete it.
        """
        _check_entry_table(table)
        who = acting(user, name=created_by)
        require_writer(who, table)
        t = metadata.tables[table]
        with self.engine.begin() as conn:
            stored = conn.execute(sa.select(t.c.version).where(t.c.id == record_id)).scalar()
            if stored is None:
                raise KeyError(f"unknown {table} record {record_id}")
            if stored != version:
                raise StaleVersionError(f"{table} {record_id} changed since version {version}")
            require_write(who, table, stored=[t.c.id == record_id], conn=conn)
            before = audit.snapshot(conn, table, record_id)
            dependents = {}
            for child, fk in _blocking_references(t):
                n = conn.execute(sa.select(sa.func.count()).select_from(child).where(fk == record_id)).scalar_one()
                if n:
                    dependents[child.name] = int(n)
            if dependents:
                raise RecordInUseError(table, record_id, dependents)
            done = conn.execute(sa.delete(t).where(t.c.id == record_id, t.c.version == version))
            if done.rowcount != 1:
                raise StaleVersionError(f"{table} {record_id} changed since version {version}")
            audit.record(conn, "delete", username=who.name, table_name=table, record_id=record_id, before=before)

    # -- imports ----------------------------------------------------------------------------

    def write_programme(self, table: str, records: pd.DataFrame, review: pd.DataFrame, *,
                        kind: str | None = None, file_name: str | None = None, file_sha256: str | None = None,
                        file_format: str | None = None, mapping: str | None = None,
                        created_by: str | None = None, user: object = None) -> int:
        """Store validated ``records`` and queued ``review`` rows as one batch, all or nothing; returns its id.

        ``records`` is the ``valid`` frame of :func:`exchange.programme.validate`; ``review`` has
        columns ``source_row``, ``data`` (dict of raw values) and ``reasons`` (list of codes). The
        review items get the batch's kind (default: the table name). ``user`` must be allowed
        to write every record (``PermissionDenied``, nothing written).
        """
        _check_entry_table(table)
        kind = kind or table
        who = acting(user, name=created_by)
        require_writer(who, table)
        created_by = created_by if created_by is not None or user is None else who.name
        with self.engine.begin() as conn:
            require_write(who, table, frame=records, conn=conn)
            batch_id = _new_batch(conn, kind=kind, created_by=created_by, n_imported=len(records),
                                  n_queued=len(review), file_name=file_name, file_sha256=file_sha256,
                                  file_format=file_format, mapping=mapping)
            if len(records):
                _insert_records(conn, table, records, batch_id)
            _insert_review_items(conn, batch_id, kind, review)
            audit.record(conn, "import", username=who.name, table_name=table, batch_id=batch_id,
                         after={"kind": kind, "file_name": file_name, "file_sha256": file_sha256,
                                "n_rows": len(records) + len(review), "n_imported": len(records),
                                "n_queued": len(review)})
        return batch_id

    def resubmit_review_item(self, item_id: int, values: Mapping[str, Any], *, version: int,
                             resolved_by: str | None = None, today: date | None = None, user: object = None) -> int:
        """Store a corrected programme row from the review queue in the item's batch; returns the record id.

        ``values`` may be keyed by field names or by the file's column names (translated
        through the batch's saved mapping). Raises :class:`InvalidRecordError` while it
        still does not pass (the item stays open), ``StaleVersionError`` if the item
        changed since ``version`` and ``PermissionDenied`` if ``user`` may not write the record.
        """
        who = acting(user, name=resolved_by)
        require_writer(who)
        resolved_by = resolved_by if resolved_by is not None or user is None else who.name
        with self.engine.connect() as conn:
            item = conn.execute(sa.select(review_item).where(review_item.c.id == item_id)).mappings().first()
            if item is None:
                raise KeyError(f"unknown review item {item_id}")
            mapping = conn.execute(sa.select(import_batch.c.mapping)
                                   .where(import_batch.c.id == item["batch_id"])).scalar()
        table = str(item["kind"]).removesuffix(ENTRY_KIND)
        _check_entry_table(table)
        from exchange.programme import FIELDS  # see _validated

        columns = {col: field for field, col in (json.loads(mapping) if mapping else {}).items()}
        # The file's other columns (notes, ids...) were never fields: they stay in the item, not in the record.
        fields = {columns.get(k, k): v for k, v in values.items() if columns.get(k, k) in FIELDS[table]}
        valid = self._validated(table, fields, today=today, allow_duplicate=False)
        with self.engine.begin() as conn:
            require_write(who, table, frame=valid, conn=conn)
            done = conn.execute(review_item.update()
                                .where(review_item.c.id == item_id, review_item.c.version == version,
                                       review_item.c.status == "open")
                                .values(status="resolved", resolved_by=resolved_by, resolved_at=datetime.now(UTC),
                                        version=version + 1))
            if done.rowcount != 1:
                raise StaleVersionError(f"review item {item_id} changed since version {version}")
            new_id = _insert_records(conn, table, valid, int(item["batch_id"]))[0]
            conn.execute(import_batch.update().where(import_batch.c.id == item["batch_id"])
                         .values(n_imported=import_batch.c.n_imported + 1, n_queued=import_batch.c.n_queued - 1))
            audit.record(conn, "update", username=who.name, table_name=review_item.name, record_id=item_id,
                         batch_id=int(item["batch_id"]),
                         before={"status": item["status"], "version": item["version"],
                                 "data": json.loads(item["data"]), "reasons": json.loads(item["reasons"])},
                         after={"status": "resolved", "version": version + 1, "resolved_by": resolved_by},
                         detail="resolved")
            audit.record(conn, "create", username=who.name, table_name=table, record_id=new_id,
                         batch_id=int(item["batch_id"]), after=audit.snapshot(conn, table, new_id),
                         detail=f"from review item {item_id}")
        return new_id

    # -- helpers ----------------------------------------------------------------------------

    def _validated(self, table: str, values: Mapping[str, Any], *, today: date | None, allow_duplicate: bool,
                   exclude_id: int | None = None) -> pd.DataFrame:
        # Validation lives with the import (exchange builds on storage, so it is imported here, late).
        from exchange.programme import validate

        frame = pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in values.items()}, index=[0])
        valid, problems = validate(table, frame, refs=self.programme_refs(table), today=today,
                                   check_duplicates=not allow_duplicate, exclude_id=exclude_id)
        if len(problems):
            raise InvalidRecordError(table, problems)
        return valid

    def _current(self, table: str, record_id: int, version: int) -> dict[str, Any]:
        t = metadata.tables[table]
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == record_id)).mappings().first()
        if row is None:
            raise KeyError(f"unknown {table} record {record_id}")
        if row["version"] != version:
            raise StaleVersionError(f"{table} {record_id} changed since version {version}")
        return dict(row)

    def _links(self, training_id: int) -> list[int]:
        links = metadata.tables["training_instructor"]
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(links.c.instructor_id).where(links.c.training_id == training_id)
                                     .order_by(links.c.instructor_id)).scalars())


# -- module helpers -------------------------------------------------------------------------

#: Fields that travel together: giving one of them in an edit replaces the stored others.
_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"unit", "unit_id", "unit_level", "neighbourhood", "region", "prefecture", "subprefecture",
               "region_id", "prefecture_id", "subprefecture_id"}),
    frozenset({"lon", "lat", "geopoint"}),
    frozenset({"council", "council_id"}), frozenset({"school", "school_id"}),
    frozenset({"station", "station_id"}), frozenset({"officer", "officer_id"}),
    frozenset({"instructors", "instructor_ids"}),
)


def _check_entry_table(table: str) -> None:
    if table not in ENTRY_TABLES:
        hint = " (links are set with a training's instructor_ids)" if table == "training_instructor" else ""
        raise ValueError(f"not a programme record table: {table!r}{hint}; expected one of {', '.join(ENTRY_TABLES)}")


def _check_fields(values: Mapping[str, Any]) -> None:
    if not isinstance(values, Mapping):
        raise TypeError(f"values must be a mapping of field names to values, got {type(values).__name__}")
    managed = sorted(set(values) & MANAGED)
    if managed:
        raise ValueError(f"field(s) {', '.join(managed)} are managed by the store and cannot be set")


def _merge(table: str, current: Mapping[str, Any], values: Mapping[str, Any],
           links: list[int] | None) -> dict[str, Any]:
    """The stored record as validation input, overlaid with ``values`` (see :data:`_GROUPS`)."""
    merged = {k: v for k, v in current.items() if k not in MANAGED}
    if table == "council":
        # A sub-prefecture council's unit is its subprefecture_id; a neighbourhood's is its own id.
        if merged.get("unit_level") != "neighbourhood":
            merged.pop("unit_id", None)
    if links is not None:
        merged["instructor_ids"] = links
    moved_point = bool(set(values) & _GROUPS[1])
    for group in _GROUPS:
        if set(values) & group or (group is _GROUPS[0] and moved_point):
            for name in group:
                merged.pop(name, None)
    merged.update(values)
    return merged


def _select_frame(conn: sa.Connection, t: sa.Table, where: list[sa.ColumnElement[bool]],
                  columns: list[sa.Column] | None = None) -> pd.DataFrame:
    # Same conversion as Store.read, so both backends give the same dtypes (imported late: store imports us).
    from storage.store import _to_series

    cols = list(t.c) if columns is None else columns
    rows = conn.execute(sa.select(*cols).where(*where).order_by(*t.primary_key.columns)).all()
    return pd.DataFrame({c.name: _to_series([r[i] for r in rows], c) for i, c in enumerate(cols)},
                        columns=[c.name for c in cols])


def _new_batch(conn: sa.Connection, *, kind: str, created_by: str | None, n_imported: int, n_queued: int,
               **extra: Any) -> int:
    return int(conn.execute(
        import_batch.insert().returning(import_batch.c.id),
        {"kind": kind, "created_by": created_by, "n_rows": n_imported + n_queued, "n_imported": n_imported,
         "n_queued": n_queued, "is_demo": False, **extra},
    ).scalar_one())


def _record_rows(table: str, records: pd.DataFrame) -> list[dict[str, object]]:
    """Driver-ready rows of the table's columns (``instructor_ids`` and other extras left out)."""
    from storage.store import _column_values

    t = metadata.tables[table]
    keep = [c for c in records.columns if c in t.c and c not in MANAGED]
    values = {c: _column_values(records[c], t.c[c]) for c in keep}
    return [{c: values[c][i] for c in keep} for i in range(len(records))]


def _insert_records(conn: sa.Connection, table: str, records: pd.DataFrame, batch_id: int) -> list[int]:
    t = metadata.tables[table]
    rows = [{**row, "batch_id": batch_id, "is_demo": False} for row in _record_rows(table, records)]
    if not rows:
        return []
    # sort_by_parameter_order: the ids come back in the order of the rows, so links can follow them.
    ids = [int(i) for i in conn.execute(t.insert().returning(t.c.id, sort_by_parameter_order=True), rows).scalars()]
    if table == "training":
        _insert_links(conn, ids, records)
    return ids


def _insert_links(conn: sa.Connection, training_ids: list[int], records: pd.DataFrame) -> None:
    if "instructor_ids" not in records.columns:
        return
    pairs = [{"training_id": tid, "instructor_id": int(i)}
             for tid, chosen in zip(training_ids, records["instructor_ids"], strict=True)
             for i in dict.fromkeys(chosen if isinstance(chosen, (list, tuple)) else [])]
    if pairs:
        conn.execute(metadata.tables["training_instructor"].insert(), pairs)


def _insert_review_items(conn: sa.Connection, batch_id: int, kind: str, review: pd.DataFrame) -> None:
    if not len(review):
        return
    conn.execute(review_item.insert(), [
        {"batch_id": batch_id, "kind": kind, "source_row": None if pd.isna(row.source_row) else int(row.source_row),
         "data": json.dumps(row.data, ensure_ascii=False, default=str), "reasons": json.dumps(list(row.reasons))}
        for row in review.itertuples(index=False)
    ])


def _blocking_references(t: sa.Table) -> list[tuple[sa.Table, sa.Column]]:
    """(child table, FK column) pairs pointing at ``t`` that do not cascade on delete."""
    out = []
    for child in metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is t and (fk.ondelete or "").upper() != "CASCADE":
                out.append((child, fk.parent))
    return out
