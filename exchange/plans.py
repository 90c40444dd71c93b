"""Local security plans, the service: a plan's unit, its diagnosis from the data, exports and progress.

The diagnosis gathers what the store knows about the plan's unit (incidents by
category and trend, hot spots, road crashes and black spots, programme
coverage, population) into one JSON-ready dict: the page shows it, the PDF
prints it and adoption freezes it with the plan. Everything is read for the
viewer given, so a council member's diagnosis holds counts only, with small
sensitive counts suppressed, exactly as on the map.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from exchange.blackspots import run_blackspots
from exchange.export import to_csv, to_xlsx
from exchange.hotspots import hexagons, places, run_hotspots
from geo import cells, indicators
from geo.boundaries import get_unit, load_units
from geo.emerging import mann_kendall
from geo.neighbourhoods import row_id
from geo.plans import action_progress, plan_progress
from geo.taxonomy import default_taxonomy
from i18n import N_, Translator
from storage import Store
from storage.programme import ProgrammeFilter
from storage.queries import IncidentFilter
from storage.roads import CrashFilter
from storage.roles import Viewer

#: Months of data the diagnosis covers, split into periods of ``STEP_MONTHS``.
DIAGNOSIS_MONTHS = 12
STEP_MONTHS = 3
#: Top hot spots and black spots listed in a diagnosis.
TOP = 5
#: Stored H3 resolution that stands for a neighbourhood (cells of about 0.1 km²).
AREA_RES = 9
#: What the figures of a diagnosis cover, by its ``scope_note`` ("subprefecture": diagnoses frozen before
#: neighbourhoods had their own figures).
SCOPE_NOTES = {
    "neighbourhood": N_("Incidents, road crashes and hot spots are those located by GPS inside the neighbourhood "
                        "(H3 cells of about 0.1 km² whose centre lies in it); reports placed by a place name are "
                        "left out. Population and programme coverage are those of the commune / sub-prefecture."),
    "subprefecture": N_("Incident and crash figures are those of the commune / sub-prefecture around the "
                        "neighbourhood (reports are located to communes)."),
}
#: Units smaller than this get finer hot spot cells (H3 resolution 9, about 0.1 km²).
SMALL_UNIT_KM2 = 60.0
TREND_P = 0.1

PRIORITY_COLUMNS = {"rank": N_("Rank"), "title": N_("Priority"), "category": N_("Category"),
                    "raised_by": N_("Raised by"), "kind": N_("Shape"), "description": N_("Description")}
ACTION_COLUMNS = {"priority": N_("Priority"), "title": N_("Action"), "responsible": N_("Responsible"),
                  "partners": N_("Partners"), "start_on": N_("Start"), "end_on": N_("End"),
                  "budget_gnf": N_("Budget (GNF)"), "funding_source": N_("Source of funds"),
                  "indicator": N_("Indicator"), "baseline": N_("Baseline"), "target": N_("Target"),
                  "status": N_("Status")}
RAISED_BY_LABELS = {"women": N_("Women's group"), "youth": N_("Youth"),
                    "neighbourhood_leaders": N_("Neighbourhood leaders"), "police": N_("Police"),
                    "council": N_("Council"), "schools": N_("Schools"), "traders": N_("Traders"),
                    "religious_leaders": N_("Religious leaders"), "other": N_("Other")}
STATUS_LABELS = {"planned": N_("Planned"), "in_progress": N_("In progress"), "done": N_("Done"),
                 "delayed": N_("Delayed"), "cancelled": N_("Cancelled")}
PLAN_STATUS_LABELS = {"draft": N_("Draft"), "adopted": N_("Adopted"), "superseded": N_("Superseded")}
#: Themes of a priority besides the incident categories of the taxonomy.
PRIORITY_THEMES = {"road_safety": N_("Road safety"), "lighting": N_("Public lighting"),
                   "youth": N_("Youth and idleness"), "gbv": N_("Violence against women and girls"),
                   "other": N_("Other")}
KIND_LABELS = {"area": N_("Area"), "line": N_("Line"), "point": N_("Point")}


def plan_unit(level: str, unit_id: str, store: Store | None = None) -> dict[str, Any]:
    """What :meth:`Store.create_plan` needs about a sub-prefecture/commune or a stored neighbourhood."""
    if level == "subprefecture":
        unit = get_unit(unit_id, "subprefecture")
        return {"unit_level": level, "unit_id": unit_id, "unit_name": str(unit["name"]),
                "region_id": unit["region_id"], "prefecture_id": unit["prefecture_id"], "subprefecture_id": unit_id}
    if level == "neighbourhood":
        if store is None:
            raise ValueError("a neighbourhood is read from the store")
        hoods = store.neighbourhoods()
        hit = hoods[hoods["id"] == row_id(unit_id)]
        if hit.empty:
            raise KeyError(f"unknown neighbourhood {unit_id}")
        row = hit.iloc[0]
        return {"unit_level": level, "unit_id": unit_id, "unit_name": str(row["name"]),
                "region_id": row["region_id"], "prefecture_id": row["prefecture_id"],
                "subprefecture_id": row["subprefecture_id"]}
    raise ValueError(f"level must be subprefecture or neighbourhood, got {level!r}")


def unit_shape(plan: Mapping[str, Any], store: Store | None = None) -> shapely.Geometry:
    """The plan's unit in EPSG:4326 (full-detail boundary, or the stored neighbourhood)."""
    if plan["unit_level"] == "neighbourhood":
        if store is None:
            raise ValueError("a neighbourhood is read from the store")
        hoods = store.neighbourhoods()
        hit = hoods[hoods["id"] == row_id(plan["unit_id"])]
        if hit.empty:
            raise KeyError(f"unknown neighbourhood {plan['unit_id']}")
        return hit.geometry.iloc[0]
    units = load_units("subprefecture")
    return units.loc[units["unit_id"] == plan["subprefecture_id"]].geometry.iloc[0]


def _periods(end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Consecutive periods of :data:`STEP_MONTHS` ending at ``end`` (exclusive), oldest first."""
    n = DIAGNOSIS_MONTHS // STEP_MONTHS
    edges = [end - pd.DateOffset(months=STEP_MONTHS * i) for i in range(n, -1, -1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _data_end(store: Store, flt: IncidentFilter, viewer: Viewer, as_of: dt.date) -> pd.Timestamp:
    """End (exclusive, UTC) of the diagnosis: the first of the month after the newest report up to ``as_of``,
    so the periods are whole calendar months."""
    cut = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1)
    newest = store.incident_points(replace(flt, start=None, end=cut.to_pydatetime()), viewer, limit=1,
                                   columns=("occurred_at",))
    last = newest["occurred_at"].iloc[0] if len(newest) else cut - pd.Timedelta(days=1)
    return pd.Timestamp(last.year, last.month, 1, tz="UTC") + pd.DateOffset(months=1)


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def incident_trends(store: Store, flt: IncidentFilter, viewer: Viewer,
                    periods: list[tuple[pd.Timestamp, pd.Timestamp]]) -> tuple[pd.DataFrame, bool]:
    """Incidents per category per period (one GROUP BY per period) with change and Mann-Kendall trend.

    Returns the table (category, p0..pN-1, total, change, trend) and whether some small
    sensitive counts were suppressed for this viewer.
    """
    counts = {}
    suppressed = False
    for i, (start, end) in enumerate(periods):
        part = store.incident_counts(replace(flt, start=start.to_pydatetime(), end=end.to_pydatetime()), viewer,
                                     by="category")
        counts[f"p{i}"] = part.set_index("key")["count"]
        suppressed |= bool(part["suppressed"].any())
    table = pd.DataFrame(counts).fillna(0).astype("int64")
    for i in range(len(periods)):
        if f"p{i}" not in table:
            table[f"p{i}"] = 0
    table = table[[f"p{i}" for i in range(len(periods))]]
    table["total"] = table.sum(axis=1)
    last, previous = table[f"p{len(periods) - 1}"], table[f"p{len(periods) - 2}"]
    table["change"] = last - previous
    if len(table):
        z, p = mann_kendall(table[[f"p{i}" for i in range(len(periods))]].to_numpy(float))
        table["trend"] = np.where(p < TREND_P, np.where(z > 0, "rising", "falling"), "stable")
    else:
        table["trend"] = pd.Series(dtype=object)
    table = table.sort_values(["total", "p0"], ascending=False)
    return table.rename_axis("category").reset_index(), suppressed


def _sees_sensitive_in(viewer: Viewer, plan: Mapping[str, Any]) -> bool:
    return viewer.sees_sensitive_everywhere or (bool(viewer.can_see_sensitive) and viewer.covers(
        {"subprefecture": plan["subprefecture_id"], "prefecture": plan["prefecture_id"],
         "region": plan.get("region_id")}))


def diagnosis(store: Store, plan: Mapping[str, Any], viewer: Viewer, *, as_of: dt.date,
              lang: str = "fr") -> dict[str, Any]:
    """The figures of a plan's unit over the :data:`DIAGNOSIS_MONTHS` up to the newest data (JSON-ready).

    A neighbourhood's incidents and crashes are the GPS-located ones in the
    :data:`AREA_RES` cells whose centre lies in it (reports placed by a name sit at a
    unit's point, not where they happened); its hot spots are the sub-prefecture's
    Gi* cells centred in it (the statistic needs the surroundings); population and
    programme coverage stay the sub-prefecture's. ``scope_note`` says so.
    """
    sub = plan["subprefecture_id"]
    units = (("subprefecture", sub),)
    hood = unit_shape(plan, store) if plan["unit_level"] == "neighbourhood" else None
    area = tuple(int(c) for c in cells.to_db(cells.area_cells(hood, AREA_RES))) if hood is not None else ()
    flt = IncidentFilter(units=units, cells_r9=area, point_only=hood is not None)
    end = _data_end(store, flt, viewer, as_of)
    periods = _periods(end)
    start = periods[0][0]
    trends, suppressed = incident_trends(store, flt, viewer, periods)
    taxonomy = default_taxonomy()
    total = int(trends["total"].sum())
    sensitive_codes = set(taxonomy.sensitive_codes)
    sensitive = int(trends.loc[trends["category"].isin(sensitive_codes), "total"].sum())

    area_km2 = float(get_unit(sub, "subprefecture").get("area_km2", np.nan))
    resolution = 9 if np.isfinite(area_km2) and area_km2 < SMALL_UNIT_KM2 else 8
    period_flt = IncidentFilter(units=units, start=start.to_pydatetime(), end=end.to_pydatetime())
    hot = run_hotspots(store, period_flt, resolution=resolution, k=1, fdr=True, viewer=viewer)
    table = hot.table
    if hood is not None:  # Gi* over the sub-prefecture, reported for the cells centred in the neighbourhood
        table = table[shapely.contains_xy(hood, table["lon"].to_numpy(), table["lat"].to_numpy())]
    # A significant cell without any incident is the halo of a neighbour's cluster: a council acts where
    # incidents happen, so the list keeps hot cells that hold some.
    hot_rows = table[(table["gi_bin"] > 0) & (table["count"] > 0)].sort_values(["gi_z", "count"],
                                                                                ascending=False).head(TOP)
    hotspots = [{"rank": i + 1, "cell": r["cell"], "count": int(r["count"]), "gi_z": float(r["gi_z"]),
                 "gi_bin": int(r["gi_bin"]), "lon": float(r["lon"]), "lat": float(r["lat"]), "place": place}
                for i, (r, place) in enumerate(zip(hot_rows.to_dict("records"),
                                                   places(hot_rows["lon"].to_numpy(), hot_rows["lat"].to_numpy())
                                                   if len(hot_rows) else [], strict=True))]

    crash_flt = CrashFilter(units=units, start=start.to_pydatetime(), end=end.to_pydatetime(), cells_r9=area)
    crashes = store.crashes(crash_flt)
    severity = crashes["severity"].value_counts() if len(crashes) else pd.Series(dtype="int64")
    black = run_blackspots(store, crash_flt, method="cells", resolution=8, top=TOP) if len(crashes) else None
    blackspots = []
    if black is not None:
        for i, r in enumerate(black.table.head(TOP).to_dict("records")):
            blackspots.append({"rank": i + 1, "place": r.get("place") or r.get("subprefecture") or "",
                               "crashes": int(r.get("crashes", 0)), "fatal": int(r.get("fatal", 0)),
                               "epdo": _plain(r.get("epdo")), "trend": r.get("trend") or ""})

    frames = store.programme_frames(ProgrammeFilter(units=units))
    row = indicators.unit_indicators("subprefecture", frames, today=(end - pd.Timedelta(days=1)).date(),
                                     start=start.date(), end=(end - pd.Timedelta(days=1)).date())
    row = row[row["unit_id"] == sub]
    programme = {name: _plain(row[name].iloc[0]) if len(row) else None
                 for name in ("population", "census_result", "population_rule", "councils",
                              "units_with_active_council", "meetings", "schools_visited", "school_visits",
                              "students_reached", "women_days", "women", "officers_trained", "officers_per_10000",
                              "distance_to_trained_km")}
    population = programme.pop("population") if hood is None else None  # a neighbourhood's is not known
    return {
        "unit": {k: plan.get(k) for k in ("unit_level", "unit_id", "unit_name", "subprefecture_id", "prefecture_id")},
        "scope_note": "neighbourhood" if hood is not None else None,
        "start": start.date().isoformat(), "end": (end - pd.Timedelta(days=1)).date().isoformat(),
        "periods": [[a.date().isoformat(), (b - pd.Timedelta(days=1)).date().isoformat()] for a, b in periods],
        "population": population, "census_result": programme.pop("census_result"),
        "population_rule": programme.pop("population_rule"),
        "incidents": {
            "total": total, "per_10000": (total / population * 10_000) if population else None,
            "sensitive": sensitive,
            # Whether small sensitive counts are cut for this viewer here: said whenever it may happen, since a
            # category cut to nothing leaves no trace to report.
            "suppressed": suppressed or not _sees_sensitive_in(viewer, plan),
            "threshold": int(viewer.suppression_threshold),
            "by_category": [{"category": r["category"], "label": taxonomy.label(r["category"], lang)
                             if r["category"] in taxonomy.codes else r["category"],
                             "counts": [int(r[f"p{i}"]) for i in range(len(periods))], "total": int(r["total"]),
                             "change": int(r["change"]), "trend": r["trend"]} for r in trends.to_dict("records")],
        },
        "hotspots": {"resolution": resolution, "cells": int(len(table)), "hot": int((table["gi_bin"] > 0).sum()),
                     "top": hotspots},
        "crashes": {"total": int(len(crashes)), "fatal": int(severity.get("fatal", 0)),
                    "serious": int(severity.get("serious", 0)), "slight": int(severity.get("slight", 0)),
                    "killed": int(pd.to_numeric(crashes["killed"], errors="coerce").fillna(0).sum())
                    if len(crashes) else 0,
                    "injured": int(pd.to_numeric(crashes["injured"], errors="coerce").fillna(0).sum())
                    if len(crashes) else 0,
                    "blackspots": blackspots},
        "programme": programme,
        "demo": sum(store.counts(demo=True).values()) > 0,
    }


def hotspot_shape(cell: str) -> shapely.Geometry:
    """The hexagon of an H3 cell (hex id), to make a priority from a hot spot."""
    return hexagons(pd.DataFrame({"cell": [cell]})).geometry.iloc[0]


# --- exports ------------------------------------------------------------------------------------------


def priorities_frame(priorities: gpd.GeoDataFrame, t: Translator) -> gpd.GeoDataFrame:
    """Priorities with readable values (raised by, shape) for files and tables, geometry kept."""
    out = priorities[["rank", "title", "category", "raised_by", "kind", "description", "geometry"]].copy()
    out["raised_by"] = [t(RAISED_BY_LABELS[v]) if v in RAISED_BY_LABELS else (v or "") for v in out["raised_by"]]
    out["kind"] = [t(KIND_LABELS.get(v, v)) for v in out["kind"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def priorities_geojson(plan: Mapping[str, Any], priorities: gpd.GeoDataFrame, t: Translator) -> bytes:
    """GeoJSON of the priorities, each feature carrying the plan's unit, version and status."""
    out = priorities_frame(priorities, t)
    out.insert(0, "plan", plan["title"])
    out.insert(1, "unit", plan["unit_name"])
    out.insert(2, "plan_version", int(plan["version_no"]))
    out.insert(3, "plan_status", plan["status"])
    return out.to_json(drop_id=True, ensure_ascii=False, na="null").encode("utf-8")


def actions_table(actions: pd.DataFrame, priorities: pd.DataFrame, t: Translator,
                  progress: pd.DataFrame | None = None) -> pd.DataFrame:
    """The action plan with translated headers and values, each action named with its priority."""
    titles = dict(zip(priorities["id"], priorities["rank"].astype(str) + ". " + priorities["title"], strict=True))
    out = pd.DataFrame({"priority": [titles.get(p, "") if pd.notna(p) else "" for p in actions["priority_id"]]})
    for name in list(ACTION_COLUMNS)[1:]:
        out[name] = actions[name].to_numpy()
    status = progress["status"].to_numpy() if progress is not None else actions["status"].to_numpy()
    out["status"] = [t(STATUS_LABELS.get(s, s)) for s in status]
    columns = {k: t(v) for k, v in ACTION_COLUMNS.items()}
    if progress is not None:
        out["value"] = progress["value"].to_numpy()
        out["progress"] = progress["progress"].to_numpy()
        columns.update(value=t("Latest value"), progress=t("Progress"))
    return out.rename(columns=columns)


def actions_bytes(actions: pd.DataFrame, priorities: pd.DataFrame, fmt: str, t: Translator) -> tuple[bytes, str]:
    """The action plan as formula-safe ``csv`` or ``xlsx``."""
    table = actions_table(actions, priorities, t)
    if fmt == "csv":
        return to_csv(table), "text/csv"
    if fmt == "xlsx":
        return to_xlsx({t("Actions"): table}), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    raise ValueError(f"format must be csv or xlsx, got {fmt!r}")


# --- follow-up across plans ---------------------------------------------------------------------------


def plans_overview(store: Store, viewer: Viewer, *, today: dt.date) -> pd.DataFrame:
    """One row per adopted plan (current versions): unit, period, actions by status, late, share done, budget."""
    plans = store.plans(viewer, status="adopted")
    if plans.empty:
        return pd.DataFrame(columns=["plan_id", "unit_name", "title", "period_start", "period_end", "version_no",
                                     "adopted_on", "actions", "done", "in_progress", "late", "share_done",
                                     "mean_progress", "budget_gnf"])
    ids = plans["id"].astype(int).tolist()
    actions = store.plan_actions(ids)
    followups = store.plan_followups(ids)
    rows = []
    for plan in plans.to_dict("records"):
        own = actions[actions["plan_id"] == plan["id"]]
        progress = action_progress(own, followups[followups["plan_id"] == plan["id"]], today=today)
        summary = plan_progress(progress, own["budget_gnf"])
        rows.append({"plan_id": plan["id"], "unit_name": plan["unit_name"], "title": plan["title"],
                     "period_start": plan["period_start"], "period_end": plan["period_end"],
                     "version_no": plan["version_no"], "adopted_on": plan["adopted_on"],
                     **{k: summary[k] for k in ("actions", "done", "in_progress", "late", "share_done",
                                                "mean_progress", "budget_gnf")}})
    return pd.DataFrame(rows)
