"""Incident reads for maps and exports: filters, extent, GROUP BY counts, and who may see what.

Authorization lives here, where data is read: a caller that may not see
sensitive incidents gets no row, coordinate or description of one, only
counts per cell or unit, in whole multiples of the suppression threshold
(rounded down: fewer than the threshold is none), so that no victim can be
singled out, not even by subtracting two figures (two extents, two periods,
two sets of categories) that differ by a few reports. A commander with scopes sees
sensitive incidents of their units only (elsewhere: suppressed counts), and
the viewer role gets no individual incident at all. Roles are defined in
:mod:`storage.roles`; ``Viewer`` is re-exported here for existing callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from storage.roles import SUPPRESSION_THRESHOLD, Viewer, scope_where
from storage.schema import metadata

incident = metadata.tables["incident"]

__all__ = ["POINT_COLUMNS", "SUPPRESSION_THRESHOLD", "IncidentFilter", "IncidentQueriesMixin", "Viewer",
           "sensitive_visible"]


@dataclass(frozen=True)
class IncidentFilter:
    """What a map or export shows: period, categories, units (any level), extent, demo rows."""

    start: datetime | None = None
    end: datetime | None = None
    categories: tuple[str, ...] = ()
    units: tuple[tuple[str, str], ...] = ()  # (level, unit_id) pairs; any match keeps a row
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    include_demo: bool = True
    point_only: bool = False  # only true points (not unit centroids from place names)
    cells_r9: tuple[int, ...] = ()  # stored H3 resolution-9 cells (signed, as in h3_r9): an area

    def where(self) -> list[sa.ColumnElement[bool]]:
        """SQL conditions (bound parameters only)."""
        out: list[sa.ColumnElement[bool]] = []
        if self.start is not None:
            out.append(incident.c.occurred_at >= self.start)
        if self.end is not None:
            out.append(incident.c.occurred_at < self.end)
        if self.categories:
            out.append(incident.c.category.in_(list(self.categories)))
        if self.units:
            column = {"region": incident.c.region_id, "prefecture": incident.c.prefecture_id,
                      "subprefecture": incident.c.subprefecture_id}
            out.append(sa.or_(*(column[level] == uid for level, uid in self.units)))
        if self.bbox is not None:
            west, south, east, north = self.bbox
            out.append(incident.c.lon.between(west, east))
            out.append(incident.c.lat.between(south, north))
        if not self.include_demo:
            out.append(incident.c.is_demo.is_(sa.false()))
        if self.point_only:
            out.append(incident.c.precision == "point")
        if self.cells_r9:
            out.append(incident.c.h3_r9.in_([int(c) for c in self.cells_r9]))
        return out


POINT_COLUMNS = ("id", "occurred_at", "category", "sensitive", "severity", "description", "place_name", "lon",
                 "lat", "precision", "region_id", "prefecture_id", "subprefecture_id", "source_id", "flags",
                 "is_demo")


def sensitive_visible(viewer: Viewer) -> sa.ColumnElement[bool] | None:
    """SQL condition on ``incident`` for the rows ``viewer`` may see individually, or None for all rows."""
    if viewer.sees_sensitive_everywhere:
        return None
    if viewer.can_see_sensitive:  # a commander with scopes: their units' sensitive incidents only
        return sa.or_(incident.c.sensitive.is_(sa.false()), scope_where(viewer, incident))
    return incident.c.sensitive.is_(sa.false())


class IncidentQueriesMixin:
    """Read methods mixed into ``Store`` (expects ``self.engine``)."""

    engine: sa.Engine

    def incident_points(self, flt: IncidentFilter, viewer: Viewer, *, limit: int | None = None,
                        columns: Sequence[str] = POINT_COLUMNS) -> pd.DataFrame:
        """Individual incidents the viewer may see, newest first.

        Sensitive ones only for those allowed (a scoped commander: inside the scope); the
        viewer role gets an empty frame (same columns): it sees counts only.
        """
        unknown = [c for c in columns if c not in incident.c]
        if unknown:
            raise ValueError(f"unknown incident column(s): {', '.join(map(repr, unknown))}")
        conds = flt.where()
        visible = sensitive_visible(viewer)
        if visible is not None:
            conds.append(visible)
        if not viewer.can_see_points:
            conds.append(sa.false())  # same query shape and dtypes, no row
        stmt = sa.select(*(incident.c[c] for c in columns)).where(*conds).order_by(incident.c.occurred_at.desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame(rows, columns=list(columns))
        if "occurred_at" in frame:
            frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
        return frame

    def incident_counts(self, flt: IncidentFilter, viewer: Viewer, *, by: str) -> pd.DataFrame:
        """Counts per ``by`` (``h3_r6``..``h3_r9``, ``region_id``, ``prefecture_id``, ``subprefecture_id``,
        ``category``).

        Columns ``key``, ``count`` (what the viewer may see), ``sensitive`` and ``suppressed``.
        Sensitive incidents the viewer may not see individually (all of them for most roles,
        those outside the scope for a scoped commander) count in whole multiples of the
        threshold, rounded down: 0-4 give 0, 5-9 give 5, 12 gives 10 (threshold 5). A key
        that lost some is marked ``suppressed``; keys left with nothing are dropped. Since
        every figure of hidden reports is a multiple of the threshold, so is the difference
        of any two: subtraction never yields one to four reports. A single SQL GROUP BY.
        """
        allowed = {c.name for c in incident.c if c.name.startswith("h3_r")} | {"region_id", "prefecture_id",
                                                                                 "subprefecture_id", "category"}
        if by not in allowed:
            raise ValueError(f"by must be one of {sorted(allowed)}, got {by!r}")
        key = incident.c[by]
        sens = sa.cast(incident.c.sensitive, sa.Integer)
        visible = sensitive_visible(viewer)
        hidden = sa.literal(0) if visible is None else sa.case((visible, 0), else_=1)
        stmt = (sa.select(key.label("key"), sa.func.count().label("count"), sa.func.sum(sens).label("sensitive"),
                          sa.func.sum(hidden).label("hidden"))
                .where(*flt.where(), key.is_not(None)).group_by(key))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame(rows, columns=["key", "count", "sensitive", "hidden"])
        for name in ("count", "sensitive", "hidden"):
            frame[name] = pd.to_numeric(frame[name]).fillna(0).astype("int64")
        step = int(viewer.suppression_threshold)
        drop = frame["hidden"] % step  # what rounding down to a multiple of the threshold leaves out
        frame["count"] = frame["count"] - drop
        frame["sensitive"] = frame["sensitive"] - drop
        frame["suppressed"] = (drop > 0).to_numpy(dtype=bool)
        return frame[frame["count"] > 0].drop(columns="hidden").reset_index(drop=True)
