"""Local security plans of the councils (mixed into ``Store``): versions, priorities, actions, follow-up.

A plan is drafted, then adopted (date, signatories, the diagnosis figures
frozen with it); an adopted version is never changed again: a later change is
a new draft version of the same series, copied from it and compared with it.
Follow-up (dated status and indicator values) is added to the adopted version
and carried to the next one when that is adopted.

Who may write is decided by :mod:`storage.roles`: a council member only in the
plans of their own units (child rows are placed by their plan). Every save
names the version it was read at; a stale save raises ``StaleVersionError`` and
writes nothing, so the page keeps the user's text and says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import geopandas as gpd
import shapely

from storage import audit
from storage.imports import StaleVersionError
from storage.roles import VIEWER, Viewer, acting, require_write, require_writer, scope_where
from storage.schema import ACTION_STATUSES, PLAN_LEVELS, metadata

security_plan = metadata.tables["security_plan"]
plan_priority = metadata.tables["plan_priority"]
plan_action = metadata.tables["plan_action"]
plan_followup = metadata.tables["plan_followup"]

#: Sections of the diagnosis the council writes itself (keys of ``notes``).
NOTE_SECTIONS = ("perceived_insecurity", "consultations", "existing_responses")
#: Who raised a priority.
RAISED_BY = ("women", "youth", "neighbourhood_leaders", "police", "council", "schools", "traders",
             "religious_leaders", "other")
PRIORITY_FIELDS = ("rank", "title", "category", "description", "raised_by", "source", "h3_cell")
ACTION_FIELDS = ("priority_id", "title", "responsible", "partners", "start_on", "end_on", "budget_gnf",
                 "funding_source", "indicator", "baseline", "target", "status")
PLAN_COLUMNS = ("id", "series_id", "version_no", "title", "unit_level", "unit_id", "unit_name", "region_id",
                "prefecture_id", "subprefecture_id", "period_start", "period_end", "status", "adopted_on",
                "created_by", "created_at", "updated_at", "version", "is_demo")
MAX_TEXT = 5000


class PlanError(ValueError):
    """A plan change refused by the workflow's rules; ``code`` says which (the page translates it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _text(value: object, limit: int = 300) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if len(text) > limit:
        raise PlanError("text_too_long", f"text longer than {limit} characters")
    return text or None


def _number(value: object, name: str) -> float | None:
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise PlanError("not_a_number", f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(out):
        raise PlanError("not_a_number", f"{name} must be a finite number")
    return out


def _date(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PlanError("date_invalid", f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None


def _priority_values(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(PRIORITY_FIELDS))
    if unknown:
        raise ValueError(f"unknown priority field(s): {', '.join(unknown)}")
    out: dict[str, Any] = {}
    if "rank" in values:
        rank = _number(values["rank"], "rank")
        if rank is None or rank < 1 or rank != int(rank):
            raise PlanError("rank_invalid", "the rank must be a whole number from 1")
        out["rank"] = int(rank)
    if "title" in values:
        out["title"] = _text(values["title"], 200)
        if not out["title"]:
            raise PlanError("title_missing", "a priority needs a title")
    for name, limit in (("category", 60), ("source", 20), ("h3_cell", 20)):
        if name in values:
            out[name] = _text(values[name], limit)
    if "description" in values:
        out["description"] = _text(values["description"], MAX_TEXT)
    if "raised_by" in values:
        raised = _text(values["raised_by"], 40)
        if raised is not None and raised not in RAISED_BY:
            raise PlanError("raised_by_invalid", f"raised_by must be one of {', '.join(RAISED_BY)}")
        out["raised_by"] = raised
    return out


def _action_values(values: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    unknown = sorted(set(values) - set(ACTION_FIELDS))
    if unknown:
        raise ValueError(f"unknown action field(s): {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for name, limit in (("title", 300), ("responsible", 200), ("partners", 300), ("funding_source", 200),
                        ("indicator", 300)):
        if name in values:
            out[name] = _text(values[name], limit)
    for name in ("budget_gnf", "baseline", "target"):
        if name in values:
            out[name] = _number(values[name], name)
    if out.get("budget_gnf") is not None and out["budget_gnf"] < 0:
        raise PlanError("budget_negative", "the budget cannot be negative")
    for name in ("start_on", "end_on"):
        if name in values:
            out[name] = _date(values[name], name)
    if "status" in values:
        if values["status"] not in ACTION_STATUSES:
            raise PlanError("status_invalid", f"status must be one of {', '.join(ACTION_STATUSES)}")
        out["status"] = values["status"]
    if "priority_id" in values:
        pid = values["priority_id"]
        out["priority_id"] = None if pid is None or (isinstance(pid, float) and np.isnan(pid)) else int(pid)
    merged = {**(current or {}), **out}
    if not merged.get("title"):
        raise PlanError("title_missing", "an action needs a title")
    if not merged.get("responsible"):
        raise PlanError("responsible_missing", "an action needs a responsible body")
    if merged.get("start_on") is None or merged.get("end_on") is None:
        raise PlanError("dates_missing", "an action needs a start and an end date")
    if _date(merged["start_on"], "start_on") > _date(merged["end_on"], "end_on"):
        raise PlanError("dates_reversed", "the action ends before it starts")
    return out


def _bbox_values(geometry: shapely.Geometry) -> dict[str, Any]:
    west, south, east, north = shapely.bounds(geometry)
    return {"wkb": shapely.to_wkb(geometry), "min_lon": float(west), "min_lat": float(south),
            "max_lon": float(east), "max_lat": float(north)}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PlansMixin:
    """Plan methods; expects ``self.engine`` (see ``Store``)."""

    engine: sa.Engine

    # -- reads ------------------------------------------------------------------------------

    def plans(self, viewer: Viewer | None = None, *, unit_id: str | None = None, series_id: int | None = None,
              status: str | Iterable[str] | None = None, mine: bool = False) -> pd.DataFrame:
        """Plans (every version) newest first, with :data:`PLAN_COLUMNS` plus ``editable`` for ``viewer``.

        Plans are public documents once adopted: the viewer role reads adopted and superseded
        versions only; ``mine`` keeps the plans of the viewer's own units.
        """
        viewer = viewer or Viewer()
        c = security_plan.c
        stmt = sa.select(*(c[name] for name in PLAN_COLUMNS))
        if unit_id is not None:
            stmt = stmt.where(c.unit_id == unit_id)
        if series_id is not None:
            stmt = stmt.where(c.series_id == int(series_id))
        if status is not None:
            stmt = stmt.where(c.status.in_([status] if isinstance(status, str) else list(status)))
        if viewer.role == VIEWER:
            stmt = stmt.where(c.status != "draft")
        inside = scope_where(viewer, security_plan) if viewer.scopes else sa.false()
        if mine:
            stmt = stmt.where(inside)
        stmt = stmt.add_columns(sa.case((inside, 1), else_=0).label("in_scope"))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(c.updated_at.desc().nulls_last(), c.id.desc())).all()
        frame = pd.DataFrame(rows, columns=[*PLAN_COLUMNS, "in_scope"])
        may = viewer.can_edit_table("security_plan") and viewer.can_write
        frame["editable"] = (frame["status"] == "draft") & may & (viewer.edits_everywhere | (frame["in_scope"] == 1))
        return frame.drop(columns="in_scope")

    def plan(self, plan_id: int, viewer: Viewer | None = None) -> dict[str, Any]:
        """One plan version as a dict: its columns, ``notes`` and ``diagnosis`` (dicts), ``signatories`` (list).

        Raises ``KeyError`` when it does not exist or the viewer may not read it (a draft, for the viewer role).
        """
        viewer = viewer or Viewer()
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(security_plan).where(security_plan.c.id == int(plan_id))).mappings().first()
        if row is None or (row["status"] == "draft" and viewer.role == VIEWER):
            raise KeyError(f"unknown plan {plan_id}")
        out = dict(row)
        out["notes"] = json.loads(out["notes"]) if out["notes"] else {}
        out["diagnosis"] = json.loads(out["diagnosis"]) if out["diagnosis"] else None
        out["signatories"] = json.loads(out["signatories"]) if out["signatories"] else []
        return out

    def plan_priorities(self, plan_ids: int | Iterable[int]) -> gpd.GeoDataFrame:
        """Priorities of one or several plan versions, by plan and rank, as a GeoDataFrame (EPSG:4326)."""
        ids = [int(plan_ids)] if isinstance(plan_ids, int | np.integer) else [int(i) for i in plan_ids]
        c = plan_priority.c
        names = ["id", "plan_id", "origin_id", *PRIORITY_FIELDS, "kind", "flags", "version", "wkb"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*(c[n] for n in names)).where(c.plan_id.in_(ids))
                                .order_by(c.plan_id, c.rank, c.id)).all()
        frame = pd.DataFrame(rows, columns=names)
        geometry = shapely.from_wkb([bytes(v) for v in frame["wkb"]]) if len(frame) else np.zeros(0, dtype=object)
        frame["wkb"] = [bytes(v) for v in frame["wkb"]]
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")

    def plan_actions(self, plan_ids: int | Iterable[int]) -> pd.DataFrame:
        """Actions of one or several plan versions, by plan, start date and id."""
        ids = [int(plan_ids)] if isinstance(plan_ids, int | np.integer) else [int(i) for i in plan_ids]
        c = plan_action.c
        names = ["id", "plan_id", "origin_id", *ACTION_FIELDS, "version"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*(c[n] for n in names)).where(c.plan_id.in_(ids))
                                .order_by(c.plan_id, c.start_on, c.id)).all()
        frame = pd.DataFrame(rows, columns=names)
        for name in ("budget_gnf", "baseline", "target"):
            frame[name] = pd.to_numeric(frame[name]).astype(float)
        frame["priority_id"] = frame["priority_id"].astype("Int64")
        return frame

    def plan_followups(self, plan_ids: int | Iterable[int]) -> pd.DataFrame:
        """Follow-up entries of one or several plan versions, oldest first."""
        ids = [int(plan_ids)] if isinstance(plan_ids, int | np.integer) else [int(i) for i in plan_ids]
        c = plan_followup.c
        names = ["id", "plan_id", "action_id", "recorded_on", "status", "indicator_value", "note", "created_by"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*(c[n] for n in names)).where(c.plan_id.in_(ids))
                                .order_by(c.recorded_on, c.id)).all()
        frame = pd.DataFrame(rows, columns=names)
        frame["indicator_value"] = pd.to_numeric(frame["indicator_value"]).astype(float)
        return frame

    # -- the plan itself --------------------------------------------------------------------

    def create_plan(self, unit: Mapping[str, Any], *, title: str, period_start: dt.date, period_end: dt.date,
                    notes: Mapping[str, str] | None = None, is_demo: bool = False, user: object = None) -> int:
        """A new draft plan (version 1 of a new series) for ``unit``; returns its id.

        ``unit`` gives unit_level, unit_id, unit_name and the region/prefecture/sub-prefecture
        ids it lies in (:func:`exchange.plans.plan_unit` builds it from the boundaries).
        ``is_demo`` marks the demo plan, removed by :meth:`delete_demo_plans`.
        """
        who = acting(user)
        level = unit.get("unit_level")
        if level not in PLAN_LEVELS:
            raise PlanError("unit_level_invalid", f"unit_level must be one of {', '.join(PLAN_LEVELS)}")
        row = {k: unit.get(k) for k in ("unit_level", "unit_id", "unit_name", "region_id", "prefecture_id",
                                        "subprefecture_id")}
        if not row["unit_id"] or not row["unit_name"]:
            raise PlanError("unit_missing", "a plan needs a unit")
        start, end = _date(period_start, "period_start"), _date(period_end, "period_end")
        if start > end:
            raise PlanError("period_reversed", "the plan period ends before it starts")
        title = _text(title, 200)
        if not title:
            raise PlanError("title_missing", "a plan needs a title")
        row.update(title=title, period_start=start, period_end=end, status="draft", version_no=1, is_demo=is_demo,
                   notes=json.dumps(_notes(notes or {}), ensure_ascii=False), created_by=who.name,
                   updated_at=_now())
        require_write(who, "security_plan", frame=pd.DataFrame([row]))
        with self.engine.begin() as conn:
            plan_id = int(conn.execute(security_plan.insert().returning(security_plan.c.id), row).scalar_one())
            conn.execute(security_plan.update().where(security_plan.c.id == plan_id).values(series_id=plan_id))
            audit.record(conn, "create", username=who.name, table_name="security_plan", record_id=plan_id,
                         after=audit.snapshot(conn, "security_plan", plan_id))
        return plan_id

    def delete_demo_plans(self, *, user: object = None) -> int:
        """Remove the demo plans (every version, with their priorities, actions and follow-up); returns how many."""
        who = acting(user)
        require_write(who, "security_plan")
        with self.engine.begin() as conn:
            n = conn.execute(sa.delete(security_plan).where(security_plan.c.is_demo.is_(sa.true()))).rowcount
            if n:
                audit.record(conn, "delete", username=who.name, table_name="security_plan",
                             detail=f"{n} demo plan version(s) removed")
        return int(n)

    def update_plan(self, plan_id: int, values: Mapping[str, Any], *, version: int, user: object = None) -> int:
        """Change a draft's title, period or diagnosis notes, read at ``version``; returns the new version.

        Raises ``StaleVersionError`` when someone saved the plan since (nothing written; the
        caller keeps the user's text), ``PlanError("plan_frozen")`` for an adopted version.
        """
        who = acting(user)
        unknown = sorted(set(values) - {"title", "period_start", "period_end", "notes"})
        if unknown:
            raise ValueError(f"unknown plan field(s): {', '.join(unknown)}")
        row: dict[str, Any] = {}
        if "title" in values:
            row["title"] = _text(values["title"], 200)
            if not row["title"]:
                raise PlanError("title_missing", "a plan needs a title")
        for name in ("period_start", "period_end"):
            if name in values:
                row[name] = _date(values[name], name)
        if "notes" in values:
            row["notes"] = json.dumps(_notes(values["notes"]), ensure_ascii=False)
        with self.engine.begin() as conn:
            current = self._draft(conn, who, plan_id)
            start = row.get("period_start", current["period_start"])
            end = row.get("period_end", current["period_end"])
            if _date(start, "period_start") > _date(end, "period_end"):
                raise PlanError("period_reversed", "the plan period ends before it starts")
            before = audit.snapshot(conn, "security_plan", plan_id)
            done = conn.execute(security_plan.update()
                                .where(security_plan.c.id == plan_id, security_plan.c.version == version,
                                       security_plan.c.status == "draft")
                                .values(**row, updated_at=_now(), version=version + 1))
            if done.rowcount != 1:
                raise StaleVersionError(f"plan {plan_id} changed since version {version}")
            audit.record(conn, "update", username=who.name, table_name="security_plan", record_id=plan_id,
                         before=before, after=audit.snapshot(conn, "security_plan", plan_id))
        return version + 1

    def delete_plan(self, plan_id: int, *, version: int, user: object = None) -> None:
        """Delete a draft version (its priorities and actions go with it); adopted versions stay for ever."""
        who = acting(user)
        with self.engine.begin() as conn:
            self._draft(conn, who, plan_id)
            before = audit.snapshot(conn, "security_plan", plan_id)
            done = conn.execute(sa.delete(security_plan).where(security_plan.c.id == plan_id,
                                                               security_plan.c.version == version))
            if done.rowcount != 1:
                raise StaleVersionError(f"plan {plan_id} changed since version {version}")
            audit.record(conn, "delete", username=who.name, table_name="security_plan", record_id=plan_id,
                         before=before)

    def plan_content(self, plan_id: int) -> str:
        """A fingerprint of a version's priorities and actions (ids and record versions).

        Item edits leave the plan's own version alone (so two people can work on
        different items); adoption compares this instead, so a council adopts the
        items it was shown, not ones changed meanwhile.
        """
        with self.engine.connect() as conn:
            return _content(conn, int(plan_id))

    def adopt_plan(self, plan_id: int, *, version: int, adopted_on: dt.date,
                   signatories: Iterable[Mapping[str, str]], diagnosis: Mapping[str, Any] | None = None,
                   content: str | None = None, user: object = None) -> None:
        """Adopt a draft: date, signatories and the diagnosis figures are frozen with it.

        It needs at least one priority, one action and one signatory. ``content``
        (:meth:`plan_content` as shown to the council) makes a change to the items since
        then a :class:`StaleVersionError`. The version adopted before it in the same
        series becomes ``superseded`` and its follow-up entries are carried to the
        matching actions of this version.
        """
        who = acting(user)
        people = [{"name": _text(p.get("name"), 200), "role": _text(p.get("role"), 200) or ""}
                  for p in signatories]
        people = [p for p in people if p["name"]]
        if not people:
            raise PlanError("signatories_missing", "an adopted plan needs at least one signatory")
        day = _date(adopted_on, "adopted_on")
        with self.engine.begin() as conn:
            current = self._draft(conn, who, plan_id)
            n_priorities = conn.execute(sa.select(sa.func.count()).select_from(plan_priority)
                                        .where(plan_priority.c.plan_id == plan_id)).scalar_one()
            n_actions = conn.execute(sa.select(sa.func.count()).select_from(plan_action)
                                     .where(plan_action.c.plan_id == plan_id)).scalar_one()
            if not n_priorities or not n_actions:
                raise PlanError("plan_incomplete", "a plan needs at least one priority and one action to be adopted")
            if content is not None and _content(conn, plan_id) != content:
                raise StaleVersionError(f"the priorities or actions of plan {plan_id} changed since they were shown")
            before = audit.snapshot(conn, "security_plan", plan_id)
            done = conn.execute(security_plan.update()
                                .where(security_plan.c.id == plan_id, security_plan.c.version == version,
                                       security_plan.c.status == "draft")
                                .values(status="adopted", adopted_on=day,
                                        signatories=json.dumps(people, ensure_ascii=False),
                                        diagnosis=audit.to_json(diagnosis) if diagnosis is not None else None,
                                        updated_at=_now(), version=version + 1))
            if done.rowcount != 1:
                raise StaleVersionError(f"plan {plan_id} changed since version {version}")
            previous = conn.execute(sa.select(security_plan.c.id).where(
                security_plan.c.series_id == current["series_id"], security_plan.c.status == "adopted",
                security_plan.c.id != plan_id)).scalars().all()
            for old_id in previous:
                conn.execute(security_plan.update().where(security_plan.c.id == old_id)
                             .values(status="superseded", updated_at=_now(), version=security_plan.c.version + 1))
                _carry_followups(conn, old_id, plan_id)
            audit.record(conn, "update", username=who.name, table_name="security_plan", record_id=plan_id,
                         before=before, after=audit.snapshot(conn, "security_plan", plan_id), detail="adopt")

    def new_plan_version(self, plan_id: int, *, user: object = None) -> int:
        """A new draft copied from an adopted (or superseded) version, to change it; returns its id.

        Only one draft per series at a time (``PlanError("draft_exists")``).
        """
        who = acting(user)
        require_writer(who, "security_plan")
        with self.engine.begin() as conn:
            source = conn.execute(sa.select(security_plan).where(security_plan.c.id == plan_id)).mappings().first()
            if source is None:
                raise KeyError(f"unknown plan {plan_id}")
            require_write(who, "security_plan", stored=[security_plan.c.id == plan_id], conn=conn)
            if source["status"] == "draft":
                raise PlanError("already_draft", "this version is still a draft: edit it")
            series = source["series_id"]
            # Two people asking at once: the second waits here, then finds the first one's draft.
            conn.execute(sa.select(security_plan.c.id).where(security_plan.c.id == series).with_for_update())
            draft = conn.execute(sa.select(security_plan.c.id).where(security_plan.c.series_id == series,
                                                                      security_plan.c.status == "draft")).first()
            if draft is not None:
                raise PlanError("draft_exists", f"plan series {series} already has a draft (version id {draft[0]})")
            last = conn.execute(sa.select(sa.func.max(security_plan.c.version_no))
                                .where(security_plan.c.series_id == series)).scalar_one()
            keep = ("series_id", "title", "unit_level", "unit_id", "unit_name", "region_id", "prefecture_id",
                    "subprefecture_id", "period_start", "period_end", "notes", "is_demo")
            row = {k: source[k] for k in keep}
            row.update(version_no=int(last) + 1, status="draft", created_by=who.name, updated_at=_now())
            new_id = int(conn.execute(security_plan.insert().returning(security_plan.c.id), row).scalar_one())
            priority_map = {}
            old_priorities = conn.execute(sa.select(plan_priority).where(plan_priority.c.plan_id == plan_id)
                                          .order_by(plan_priority.c.id)).mappings().all()
            for p in old_priorities:
                values = {k: v for k, v in p.items() if k not in ("id", "plan_id", "origin_id", "created_at",
                                                                  "version")}
                priority_map[p["id"]] = int(conn.execute(
                    plan_priority.insert().returning(plan_priority.c.id),
                    {**values, "plan_id": new_id, "origin_id": p["id"]}).scalar_one())
            old_actions = conn.execute(sa.select(plan_action).where(plan_action.c.plan_id == plan_id)
                                       .order_by(plan_action.c.id)).mappings().all()
            for a in old_actions:
                values = {k: v for k, v in a.items() if k not in ("id", "plan_id", "origin_id", "created_at",
                                                                  "version")}
                values["priority_id"] = priority_map.get(a["priority_id"])
                conn.execute(plan_action.insert(), {**values, "plan_id": new_id, "origin_id": a["id"]})
            audit.record(conn, "create", username=who.name, table_name="security_plan", record_id=new_id,
                         after=audit.snapshot(conn, "security_plan", new_id), detail=f"new version of plan {plan_id}")
        return new_id

    # -- priorities and actions ------------------------------------------------------------

    def add_priority(self, plan_id: int, values: Mapping[str, Any], geometry: shapely.Geometry, *, kind: str,
                     flags: Iterable[str] = (), user: object = None) -> int:
        """Add a priority (its shape checked by :func:`geo.plans.check_priority_shape`) to a draft."""
        return self.add_priorities(plan_id, [(values, geometry, kind, tuple(flags))], user=user)[0]

    def add_priorities(self, plan_id: int,
                       items: Iterable[tuple[Mapping[str, Any], shapely.Geometry, str, Iterable[str]]], *,
                       user: object = None) -> list[int]:
        """Add priorities ``(values, geometry, kind, flags)`` to a draft, all or none; returns their ids.

        A priority without a rank comes after the others, in the order given.
        """
        who = acting(user)
        rows = []
        for values, geometry, kind, flags in items:
            row = _priority_values(values)
            if not row.get("title"):
                raise PlanError("title_missing", "a priority needs a title")
            rows.append({**row, **_bbox_values(geometry), "kind": kind, "flags": "|".join(flags) or None})
        ids: list[int] = []
        with self.engine.begin() as conn:
            self._draft(conn, who, plan_id)
            top = int(conn.execute(sa.select(sa.func.max(plan_priority.c.rank))
                                   .where(plan_priority.c.plan_id == plan_id)).scalar_one() or 0)
            for row in rows:
                if "rank" not in row:
                    top += 1
                    row["rank"] = top
                new_id = int(conn.execute(plan_priority.insert().returning(plan_priority.c.id),
                                          {**row, "plan_id": plan_id}).scalar_one())
                audit.record(conn, "create", username=who.name, table_name="plan_priority", record_id=new_id,
                             after=audit.snapshot(conn, "plan_priority", new_id))
                ids.append(new_id)
            _touch(conn, plan_id)
        return ids

    def update_priority(self, priority_id: int, values: Mapping[str, Any], *, version: int,
                        geometry: shapely.Geometry | None = None, kind: str | None = None,
                        user: object = None) -> int:
        """Change a draft's priority read at ``version`` (and its shape if given); returns the new version."""
        who = acting(user)
        row = _priority_values(values)
        if geometry is not None:
            row.update(_bbox_values(geometry), kind=kind)
        return self._update_child(plan_priority, priority_id, row, version, who)

    def delete_priority(self, priority_id: int, *, version: int, user: object = None) -> None:
        """Remove a draft's priority (its actions stay, unlinked)."""
        self._delete_child(plan_priority, priority_id, version, acting(user))

    def add_action(self, plan_id: int, values: Mapping[str, Any], *, user: object = None) -> int:
        """Add an action to a draft; it may point at one of the draft's priorities."""
        who = acting(user)
        row = _action_values(values)
        with self.engine.begin() as conn:
            self._draft(conn, who, plan_id)
            self._check_priority_link(conn, plan_id, row.get("priority_id"))
            new_id = int(conn.execute(plan_action.insert().returning(plan_action.c.id),
                                      {**row, "plan_id": plan_id}).scalar_one())
            _touch(conn, plan_id)
            audit.record(conn, "create", username=who.name, table_name="plan_action", record_id=new_id,
                         after=audit.snapshot(conn, "plan_action", new_id))
        return new_id

    def update_action(self, action_id: int, values: Mapping[str, Any], *, version: int, user: object = None) -> int:
        """Change a draft's action read at ``version``; returns the new version."""
        who = acting(user)
        with self.engine.connect() as conn:
            current = conn.execute(sa.select(plan_action).where(plan_action.c.id == action_id)).mappings().first()
        if current is None:
            raise KeyError(f"unknown action {action_id}")
        row = _action_values(values, dict(current))
        with self.engine.begin() as conn:
            self._check_priority_link(conn, current["plan_id"], row.get("priority_id"))
        return self._update_child(plan_action, action_id, row, version, who)

    def delete_action(self, action_id: int, *, version: int, user: object = None) -> None:
        """Remove an action from a draft."""
        self._delete_child(plan_action, action_id, version, acting(user))

    # -- follow-up --------------------------------------------------------------------------

    def record_followup(self, action_id: int, *, recorded_on: dt.date, status: str | None = None,
                        indicator_value: float | None = None, note: str | None = None, user: object = None) -> int:
        """Add a dated status and/or indicator value to an action of the adopted version; returns its id."""
        who = acting(user)
        require_writer(who, "plan_followup")
        if status is not None and status not in ACTION_STATUSES:
            raise PlanError("status_invalid", f"status must be one of {', '.join(ACTION_STATUSES)}")
        value = _number(indicator_value, "indicator_value")
        note = _text(note, MAX_TEXT)
        if status is None and value is None and not note:
            raise PlanError("followup_empty", "a follow-up entry needs a status, a value or a note")
        day = _date(recorded_on, "recorded_on")
        with self.engine.begin() as conn:
            plan_id = conn.execute(sa.select(plan_action.c.plan_id).where(plan_action.c.id == action_id)).scalar()
            if plan_id is None:
                raise KeyError(f"unknown action {action_id}")
            status_now = conn.execute(sa.select(security_plan.c.status)
                                      .where(security_plan.c.id == plan_id)).scalar_one()
            if status_now != "adopted":
                raise PlanError("plan_not_adopted", "follow-up is recorded on the adopted version of a plan")
            row = {"plan_id": plan_id, "action_id": action_id, "recorded_on": day, "status": status,
                   "indicator_value": value, "note": note, "created_by": who.name}
            require_write(who, "plan_followup", frame=pd.DataFrame([row]), conn=conn)
            new_id = int(conn.execute(plan_followup.insert().returning(plan_followup.c.id), row).scalar_one())
            audit.record(conn, "create", username=who.name, table_name="plan_followup", record_id=new_id,
                         after=audit.snapshot(conn, "plan_followup", new_id))
        return new_id

    # -- helpers ----------------------------------------------------------------------------

    def _draft(self, conn: sa.Connection, who: Viewer, plan_id: int) -> Mapping[str, Any]:
        """The plan row, after checking it exists, ``who`` may write it and it is still a draft.

        The row is locked (PostgreSQL) until the transaction ends, so an item edit and
        an adoption of the same plan run one after the other: nothing changes an
        adopted version, and adoption sees the items it checks.
        """
        require_writer(who, "security_plan")
        row = conn.execute(sa.select(security_plan).where(security_plan.c.id == int(plan_id))
                           .with_for_update()).mappings().first()
        if row is None:
            raise KeyError(f"unknown plan {plan_id}")
        require_write(who, "security_plan", stored=[security_plan.c.id == int(plan_id)], conn=conn)
        if row["status"] != "draft":
            raise PlanError("plan_frozen", f"plan {plan_id} is {row['status']}: make a new version to change it")
        return row

    def _check_priority_link(self, conn: sa.Connection, plan_id: int, priority_id: int | None) -> None:
        if priority_id is None:
            return
        owner = conn.execute(sa.select(plan_priority.c.plan_id).where(plan_priority.c.id == priority_id)).scalar()
        if owner != plan_id:
            raise PlanError("priority_not_in_plan", f"priority {priority_id} is not a priority of plan {plan_id}")

    def _update_child(self, table: sa.Table, item_id: int, row: Mapping[str, Any], version: int, who: Viewer) -> int:
        with self.engine.begin() as conn:
            plan_id = conn.execute(sa.select(table.c.plan_id).where(table.c.id == item_id)).scalar()
            if plan_id is None:
                raise KeyError(f"unknown {table.name} {item_id}")
            self._draft(conn, who, plan_id)
            before = audit.snapshot(conn, table.name, item_id)
            done = conn.execute(table.update().where(table.c.id == item_id, table.c.version == version)
                                .values(**row, version=version + 1))
            if done.rowcount != 1:
                raise StaleVersionError(f"{table.name} {item_id} changed since version {version}")
            _touch(conn, plan_id)
            audit.record(conn, "update", username=who.name, table_name=table.name, record_id=item_id,
                         before=before, after=audit.snapshot(conn, table.name, item_id))
        return version + 1

    def _delete_child(self, table: sa.Table, item_id: int, version: int, who: Viewer) -> None:
        with self.engine.begin() as conn:
            plan_id = conn.execute(sa.select(table.c.plan_id).where(table.c.id == item_id)).scalar()
            if plan_id is None:
                raise KeyError(f"unknown {table.name} {item_id}")
            self._draft(conn, who, plan_id)
            before = audit.snapshot(conn, table.name, item_id)
            done = conn.execute(sa.delete(table).where(table.c.id == item_id, table.c.version == version))
            if done.rowcount != 1:
                raise StaleVersionError(f"{table.name} {item_id} changed since version {version}")
            _touch(conn, plan_id)
            audit.record(conn, "delete", username=who.name, table_name=table.name, record_id=item_id, before=before)


def _notes(notes: Mapping[str, Any]) -> dict[str, str]:
    unknown = sorted(set(notes) - set(NOTE_SECTIONS))
    if unknown:
        raise ValueError(f"unknown note section(s): {', '.join(unknown)}")
    return {k: _text(notes.get(k), MAX_TEXT) or "" for k in NOTE_SECTIONS}


def _touch(conn: sa.Connection, plan_id: int) -> None:
    """Mark the plan as changed (for lists), without bumping its version: item edits and the plan's own
    text do not conflict."""
    conn.execute(security_plan.update().where(security_plan.c.id == plan_id).values(updated_at=_now()))


def _carry_followups(conn: sa.Connection, old_plan: int, new_plan: int) -> None:
    """Copy the follow-up of ``old_plan``'s actions onto the actions of ``new_plan`` copied from them."""
    pairs = dict(conn.execute(sa.select(plan_action.c.origin_id, plan_action.c.id)
                              .where(plan_action.c.plan_id == new_plan, plan_action.c.origin_id.is_not(None))).all())
    if not pairs:
        return
    rows = conn.execute(sa.select(plan_followup).where(plan_followup.c.plan_id == old_plan,
                                                       plan_followup.c.action_id.in_(list(pairs)))
                        .order_by(plan_followup.c.id)).mappings().all()
    copies = [{**{k: v for k, v in r.items() if k not in ("id", "plan_id", "action_id")},
               "plan_id": new_plan, "action_id": pairs[r["action_id"]]} for r in rows]
    if copies:
        conn.execute(plan_followup.insert(), copies)


def _content(conn: sa.Connection, plan_id: int) -> str:
    """See :meth:`PlansMixin.plan_content`: read in ``conn`` so adoption checks it in its own transaction."""
    parts = []
    for name, table in (("p", plan_priority), ("a", plan_action)):
        rows = conn.execute(sa.select(table.c.id, table.c.version).where(table.c.plan_id == plan_id)
                            .order_by(table.c.id)).all()
        parts += [f"{name}{row_id}.{version}" for row_id, version in rows]
    return hashlib.sha256(" ".join(parts).encode()).hexdigest()[:16]
