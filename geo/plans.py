"""Local security plans, the pure part: priority shapes, action timing, progress and version differences.

A council draws its priorities on the map: an area (a market, a neighbourhood
block), a line (a road stretch) or a point (a crossroads). Shapes arrive from
leaflet-draw as GeoJSON and must be closed, valid and inside or touching the
plan's unit; what can be repaired is repaired and said, what cannot is refused
with reason codes the page translates. Progress is read from dated follow-up
entries, never from the frozen adopted plan itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import shapely
from shapely.errors import GEOSException
from shapely.geometry import shape as shape_from_mapping

from geo.crs import transformer, utm_epsg
from i18n import N_

#: Reason codes of :func:`check_priority_shape`, for the page to translate.
SHAPE_MESSAGES: dict[str, str] = {
    "geometry_missing": N_("No shape was drawn."),
    "geometry_invalid": N_("The shape could not be read."),
    "mixed_geometry": N_("Draw one area, one line or one point at a time."),
    "too_few_points": N_("An area needs at least three corners and a line two points."),
    "coordinates_out_of_range": N_("The shape has coordinates outside longitude -180..180 / latitude -90..90."),
    "geometry_degenerate": N_("The shape has no length or no area."),
    "outside_unit": N_("The shape lies outside the plan's unit: draw it inside or touching the unit."),
    "ring_closed": N_("The area's outline was not closed; it was closed."),
    "geometry_repaired": N_("The outline crossed itself; it was repaired."),
    "extends_outside_unit": N_("Part of the shape lies outside the unit."),
}
#: How far outside its unit a shape may lie and still "touch" it (digitizing slack), in metres.
TOUCH_TOLERANCE_M = 100.0
#: Share of a shape outside its unit above which a warning is given.
OUTSIDE_WARNING_SHARE = 0.25
_KINDS = {0: "point", 4: "point", 1: "line", 5: "line", 3: "area", 6: "area"}
#: Statuses that end an action (an ended action is never late).
CLOSED_STATUSES = ("done", "cancelled")


@dataclass(frozen=True)
class PriorityShape:
    """A checked shape: ``geometry`` (EPSG:4326) and ``kind`` when ``errors`` is empty."""

    geometry: shapely.Geometry | None
    kind: str | None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors and self.geometry is not None


def _read(geometry: Any) -> tuple[shapely.Geometry | None, list[str], list[str]]:
    """A shapely geometry from shapely, GeoJSON (geometry or Feature) or WKT, closing open rings."""
    if geometry is None:
        return None, ["geometry_missing"], []
    if isinstance(geometry, shapely.Geometry):
        return geometry, [], []
    if isinstance(geometry, str):
        try:
            return shapely.from_wkt(geometry), [], []
        except GEOSException:
            return None, ["geometry_invalid"], []
    if not isinstance(geometry, Mapping):
        raise TypeError(f"geometry must be shapely, a GeoJSON mapping or WKT, not {type(geometry).__name__}")
    data = geometry.get("geometry") if geometry.get("type") == "Feature" else geometry
    if not data:
        return None, ["geometry_missing"], []
    warnings: list[str] = []
    data = dict(data)
    try:
        if data.get("type") in ("Polygon", "MultiPolygon"):
            polygons = data["coordinates"] if data["type"] == "MultiPolygon" else [data["coordinates"]]
            closed = []
            for polygon in polygons:
                rings = []
                for ring in polygon:
                    ring = [list(map(float, p[:2])) for p in ring]
                    if ring and ring[0] != ring[-1]:
                        ring.append(ring[0])
                        warnings.append("ring_closed")
                    if len(ring) < 4:
                        return None, ["too_few_points"], []
                    rings.append(ring)
                closed.append(rings)
            data["coordinates"] = closed if data["type"] == "MultiPolygon" else closed[0]
        elif data.get("type") == "LineString" and len(data.get("coordinates") or ()) < 2:
            return None, ["too_few_points"], []
        return shape_from_mapping(data), [], sorted(set(warnings))
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, GEOSException):
        return None, ["geometry_invalid"], []


def _metric(geom: shapely.Geometry, epsg: int) -> shapely.Geometry:
    to_metres = transformer(4326, epsg)
    return shapely.transform(geom, lambda xy: np.column_stack(to_metres.transform(xy[:, 0], xy[:, 1])))


def check_priority_shape(geometry: Any, unit: shapely.Geometry | None = None) -> PriorityShape:
    """Check one drawn priority: readable, one kind, valid (repaired if possible), inside or touching ``unit``.

    ``unit`` is the plan's unit in EPSG:4326 (None skips the location check). Touching
    allows :data:`TOUCH_TOLERANCE_M` of slack; a shape mostly outside gets a warning.
    """
    geom, errors, warnings = _read(geometry)
    if errors:
        return PriorityShape(None, None, tuple(errors))
    geom = shapely.force_2d(geom)
    kind = _KINDS.get(int(shapely.get_type_id(geom)))
    if kind is None:
        return PriorityShape(None, None, ("mixed_geometry",))
    if geom.is_empty:
        return PriorityShape(None, None, ("geometry_missing",))
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all() or (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        return PriorityShape(None, None, ("coordinates_out_of_range",))
    if kind == "area" and not geom.is_valid:
        fixed = shapely.make_valid(geom)
        parts = [p for p in shapely.get_parts(fixed) if shapely.get_type_id(p) in (3, 6)] \
            if shapely.get_type_id(fixed) == 7 else [fixed]
        fixed = shapely.union_all(parts) if parts else shapely.Polygon()
        if fixed.is_empty or shapely.get_type_id(fixed) not in (3, 6):  # an outline that collapses to a line
            return PriorityShape(None, None, ("geometry_degenerate",))
        geom = fixed
        warnings.append("geometry_repaired")
    epsg = utm_epsg(*shapely.get_coordinates(shapely.centroid(geom))[0])
    metric = _metric(geom, epsg)
    if (kind == "area" and metric.area < 1.0) or (kind == "line" and metric.length < 1.0):
        return PriorityShape(None, None, ("geometry_degenerate",))
    if unit is not None and not unit.is_empty:
        unit_m = _metric(unit, epsg)
        if metric.distance(unit_m) > TOUCH_TOLERANCE_M:
            return PriorityShape(None, kind, ("outside_unit",), tuple(warnings))
        if kind != "point":
            size = metric.area if kind == "area" else metric.length
            inside = metric.intersection(unit_m)
            inside_size = inside.area if kind == "area" else inside.length
            if size > 0 and 1 - inside_size / size > OUTSIDE_WARNING_SHARE:
                warnings.append("extends_outside_unit")
    return PriorityShape(geom, kind, (), tuple(dict.fromkeys(warnings)))


# --- timing and money ---------------------------------------------------------------------------------


def _days(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce").dt.normalize()


def plan_years(start: dt.date, end: dt.date) -> list[int]:
    """Calendar years a plan period touches (a three-year plan: three years)."""
    return list(range(start.year, end.year + 1))


def actions_in_year(actions: pd.DataFrame, year: int) -> pd.DataFrame:
    """Actions running at some time in ``year`` (the annual view of a longer plan)."""
    start, end = _days(actions["start_on"]), _days(actions["end_on"])
    keep = (start <= pd.Timestamp(year, 12, 31)) & (end >= pd.Timestamp(year, 1, 1))
    return actions[keep.to_numpy()]


def budget_by_year(actions: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Each action's budget spread over ``years`` in proportion to its days in each (three-year view).

    One row per action (index as ``actions``), one column per year; budgets left blank stay blank.
    """
    start, end = _days(actions["start_on"]), _days(actions["end_on"])
    span = ((end - start).dt.days + 1).to_numpy(dtype=float)
    budget = pd.to_numeric(actions["budget_gnf"], errors="coerce").to_numpy(dtype=float)
    out = {}
    for year in years:
        lo = np.maximum(start.to_numpy(), np.datetime64(f"{year}-01-01"))
        hi = np.minimum(end.to_numpy(), np.datetime64(f"{year}-12-31"))
        days = np.clip((hi - lo).astype("timedelta64[D]").astype(float) + 1, 0, None)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[year] = np.where(span > 0, budget * days / span, np.nan)
    return pd.DataFrame(out, index=actions.index)


# --- follow-up ----------------------------------------------------------------------------------------


def action_progress(actions: pd.DataFrame, followups: pd.DataFrame, *, today: dt.date) -> pd.DataFrame:
    """Where each action stands: latest status and indicator value from the follow-up, progress, lateness.

    ``actions`` needs id, status, end_on, baseline, target; ``followups`` action_id, recorded_on,
    status, indicator_value (and id to order entries of one day). ``progress`` is
    (value - baseline) / (target - baseline) clipped to 0..1 (blank without a target or a
    value; 1 for a done action without an indicator). Late: end passed and not done or cancelled.
    """
    out = actions[["id"]].copy()
    ordered = followups.sort_values(["recorded_on", "id"] if "id" in followups else ["recorded_on"])
    status_rows = ordered[ordered["status"].notna()].groupby("action_id").last()
    value_rows = ordered[ordered["indicator_value"].notna()].groupby("action_id").last()
    last_rows = ordered.groupby("action_id").last()
    ids = actions["id"]
    latest = ids.map(status_rows["status"]).astype(object).to_numpy()
    out["status"] = np.where(pd.isna(latest), actions["status"].astype(object).to_numpy(), latest)
    out["value"] = pd.to_numeric(ids.map(value_rows["indicator_value"]), errors="coerce").to_numpy(dtype=float)
    out["last_update"] = ids.map(last_rows["recorded_on"]).to_numpy()
    base = pd.to_numeric(actions["baseline"], errors="coerce").to_numpy(dtype=float)
    target = pd.to_numeric(actions["target"], errors="coerce").to_numpy(dtype=float)
    value = out["value"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(np.isfinite(target) & np.isfinite(base) & (target != base), (value - base) / (target - base),
                         np.nan)
    share = np.clip(share, 0.0, 1.0)
    done_no_indicator = (out["status"].to_numpy() == "done") & ~np.isfinite(share)
    share[done_no_indicator] = 1.0
    out["progress"] = share
    end = _days(actions["end_on"]).to_numpy()
    out["late"] = (end < np.datetime64(pd.Timestamp(today).normalize())) & ~out["status"].isin(CLOSED_STATUSES)
    return out.reset_index(drop=True)


def plan_progress(progress: pd.DataFrame, budget: pd.Series | None = None) -> dict[str, float | int]:
    """Summary of :func:`action_progress` for one plan: counts per status, late, shares done and achieved."""
    n = len(progress)
    status = progress["status"]
    open_ = n - int((status == "cancelled").sum())
    measured = progress["progress"].dropna()
    return {
        "actions": n, "done": int((status == "done").sum()), "in_progress": int((status == "in_progress").sum()),
        "planned": int((status == "planned").sum()), "delayed": int((status == "delayed").sum()),
        "cancelled": int((status == "cancelled").sum()), "late": int(progress["late"].sum()),
        "share_done": float((status == "done").sum() / open_) if open_ else float("nan"),
        "mean_progress": float(measured.mean()) if len(measured) else float("nan"),
        "budget_gnf": float(pd.to_numeric(budget, errors="coerce").sum()) if budget is not None else float("nan"),
    }


# --- versions -----------------------------------------------------------------------------------------

#: Fields compared between two versions, per kind of item.
COMPARED = {
    "priority": ("rank", "title", "category", "description", "raised_by", "kind", "wkb"),
    "action": ("title", "responsible", "partners", "start_on", "end_on", "budget_gnf", "funding_source", "indicator",
               "baseline", "target", "status", "priority_id"),
}


def _same(a: object, b: object) -> bool:
    if (a is None or (isinstance(a, float) and np.isnan(a))) and (b is None or (isinstance(b, float) and np.isnan(b))):
        return True
    if isinstance(a, float | int) and isinstance(b, float | int):
        return float(a) == float(b)
    return a == b


def compare_items(old: pd.DataFrame, new: pd.DataFrame, kind: str,
                  priority_origin: Mapping[int, int] | None = None) -> pd.DataFrame:
    """What changed between two versions' priorities or actions: added, removed, changed (with fields), same.

    Items of ``new`` are matched to ``old`` by ``origin_id`` (the id they were copied from).
    For actions, ``priority_origin`` maps the new version's priority ids to the old ones so a
    re-linked action shows as changed and a copied link does not.
    """
    fields = COMPARED[kind]
    old_by_id = {int(r["id"]): r for r in old.to_dict("records")}
    rows = []
    matched: set[int] = set()
    for item in new.to_dict("records"):
        origin = item.get("origin_id")
        before = old_by_id.get(int(origin)) if origin is not None and not pd.isna(origin) else None
        if before is None:
            rows.append({"item": kind, "title": item["title"], "change": "added", "fields": ""})
            continue
        matched.add(int(before["id"]))
        changed = []
        for name in fields:
            a, b = before.get(name), item.get(name)
            if name == "priority_id" and priority_origin is not None and b is not None and not pd.isna(b):
                b = priority_origin.get(int(b), b)
            if not _same(a, b):
                changed.append(name)
        rows.append({"item": kind, "title": item["title"], "change": "changed" if changed else "same",
                     "fields": ", ".join(changed)})
    for oid, before in old_by_id.items():
        if oid not in matched:
            rows.append({"item": kind, "title": before["title"], "change": "removed", "fields": ""})
    return pd.DataFrame(rows, columns=["item", "title", "change", "fields"])
