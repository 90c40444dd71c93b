"""Incident reads for maps and exports: filters, extent, GROUP BY counts, and who may see what.

Authorization lives here, where data is read: a caller that may not see
sensitive incidents gets no row, coordinate or description of one, only
counts per cell or unit, and counts below the suppression threshold are
dropped so that no victim can be singled out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from storage.schema import metadata

incident = metadata.tables["incident"]

#: Default smallest count of sensitive incidents shown to users who may not see them individually.
SUPPRESSION_THRESHOLD = 5


@dataclass(frozen=True)
class Viewer:
    """Who is asking. The role model comes with access control; this is the part reads need now."""

    name: str = "default"
    can_see_sensitive: bool = False
    suppression_threshold: int = SUPPRESSION_THRESHOLD


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
        return out


POINT_COLUMNS = ("id", "occurred_at", "category", "sensitive", "severity", "description", "place_name", "lon",
                 "lat", "precision", "region_id", "prefecture_id", "subprefecture_id", "source_id", "flags",
                 "is_demo")


class IncidentQueriesMixin:
    """Read methods mixed into ``Store`` (expects ``self.engine``)."""

    engine: sa.Engine

    def incident_points(self, flt: IncidentFilter, viewer: Viewer, *, limit: int | None = None,
                        columns: Sequence[str] = POINT_COLUMNS) -> pd.DataFrame:
        """Individual incidents the viewer may see (sensitive ones only for those allowed), newest first."""
        conds = flt.where()
        if not viewer.can_see_sensitive:
            conds.append(incident.c.sensitive.is_(sa.false()))
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
        """Counts per ``by`` (``h3_r6``..``h3_r9``, ``region_id``, ``prefecture_id``, ``subprefecture_id``).

        Columns ``key``, ``count`` (what the viewer may see), ``sensitive`` (sensitive incidents;
        for viewers who may not see them, cells below the threshold are set to 0 and marked
        ``suppressed``). A single SQL GROUP BY.
        """
        allowed = {c.name for c in incident.c if c.name.startswith("h3_r")} | {"region_id", "prefecture_id",
                                                                                 "subprefecture_id"}
        if by not in allowed:
            raise ValueError(f"by must be one of {sorted(allowed)}, got {by!r}")
        key = incident.c[by]
        sens = sa.cast(incident.c.sensitive, sa.Integer)
        stmt = (sa.select(key.label("key"), sa.func.count().label("count"), sa.func.sum(sens).label("sensitive"))
                .where(*flt.where(), key.is_not(None)).group_by(key))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame(rows, columns=["key", "count", "sensitive"])
        frame["count"] = frame["count"].astype("int64")
        frame["sensitive"] = frame["sensitive"].fillna(0).astype("int64")
        frame["suppressed"] = False
        if not viewer.can_see_sensitive:
            small = (frame["sensitive"] > 0) & (frame["sensitive"] < viewer.suppression_threshold)
            frame["suppressed"] = small
            frame["count"] = frame["count"] - frame["sensitive"].where(small, 0)
            frame["sensitive"] = frame["sensitive"].where(~small, 0)
            frame = frame[frame["count"] > 0].reset_index(drop=True)
        return frame
