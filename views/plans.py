"""Local security plan page ("Plan local de sécurité"): from the diagnosis to an adopted, printed plan.

A council chooses its unit and period, reads the diagnosis computed from the
data and writes its own findings, draws its priorities on the map (or takes a
hot spot), lists the actions, adopts the plan (then frozen; changes make a new
version) and follows the actions up. Every write names the version it was read
at, so a second person saving over a first gets a clear message and keeps
their text. The storage layer decides who may write (a council member: only
their own units' plans); the page only mirrors it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import folium.plugins
import shapely

from exchange import plan_files as pf
from exchange import plans as xp
from exchange.hotspots import hexagons
from exchange.readers import ReadError
from exchange.vector import LayerFileError
from geo.boundaries import load_display, load_outline, unit_names
from geo.plans import (
    SHAPE_MESSAGES,
    action_progress,
    actions_in_year,
    budget_by_year,
    check_priority_shape,
    compare_items,
    plan_progress,
    plan_years,
)
from i18n import N_, Translator, t_for
from i18n.reasons import reason_text
from layers import basemap, boundaries
from layers import priorities as priority_layer
from layers.mapframe import TileConfig, finish, make_map
from reports.local_plan import DEFAULT_SIGNERS, category_label, plan_pdf
from storage.imports import StaleVersionError
from storage.plans import NOTE_SECTIONS, RAISED_BY, PlanError
from storage.roles import ADMINISTRATOR, COMMANDER, PLANNER, PermissionDenied, Viewer
from views.common import current_viewer, demo_notice, flash, get_store, md_text, show_flashes, taxonomy, translator

#: Messages for :class:`storage.plans.PlanError` codes.
PLAN_ERRORS = {
    "plan_frozen": N_("This version is adopted and frozen: make a new version to change it."),
    "plan_incomplete": N_("A plan needs at least one priority and one action before it is adopted."),
    "signatories_missing": N_("Name at least one signatory."),
    "draft_exists": N_("A draft version of this plan already exists: open it from the plan list."),
    "already_draft": N_("This version is still a draft: edit it."),
    "plan_not_adopted": N_("Follow-up is recorded on the adopted version."),
    "followup_empty": N_("Give a status, a value or a note."),
    "title_missing": N_("A title is needed."),
    "responsible_missing": N_("Name the body responsible for the action."),
    "dates_missing": N_("Give a start and an end date."),
    "dates_reversed": N_("The end date is before the start date."),
    "period_reversed": N_("The plan period ends before it starts."),
    "budget_negative": N_("The budget cannot be negative."),
    "rank_invalid": N_("The rank must be a whole number from 1."),
    "not_a_number": N_("A number is expected."),
    "text_too_long": N_("The text is too long."),
    "priority_not_in_plan": N_("That priority belongs to another plan."),
}
NOTE_LABELS = {"perceived_insecurity": N_("Perceived insecurity (what residents fear, where, when)"),
               "consultations": N_("Results of consultations and safety walks"),
               "existing_responses": N_("Existing responses (patrols, committees, services)")}
TREND_WORDS = {"rising": N_("rising"), "falling": N_("falling"), "stable": N_("stable")}
STALE = N_("Someone else saved this since you opened it. Nothing was overwritten: your text is still in the "
           "form. Reload the saved version, compare, and save again.")
_PLAN = "pl_plan"
#: Blank signature lines offered after the usual ones.
EXTRA_SIGNERS = 2
_DIAG = "pl_diagnosis"


# --- helpers -------------------------------------------------------------------------------------------


def _refused(t: Translator, exc: Exception) -> None:
    """One clear message for a refused write."""
    if isinstance(exc, StaleVersionError):
        st.error(t(STALE))
    elif isinstance(exc, PlanError):
        st.error(t(PLAN_ERRORS.get(exc.code, N_("The change was refused."))))
    elif isinstance(exc, PermissionDenied):
        st.error(t("You may not change the plans of this unit."))
    else:
        st.error(t("The change was refused."))


def _units(viewer: Viewer) -> dict[str, str]:
    """Units a new plan may be made for: ``"<level>:<id>"`` -> label."""
    names = unit_names()
    subs = load_display("subprefecture", "low").drop(columns="geometry").sort_values("name")
    hoods = get_store().neighbourhoods()
    out: dict[str, str] = {}
    for row in subs.itertuples(index=False):
        if viewer.edits_everywhere or viewer.covers({"subprefecture": row.unit_id, "prefecture": row.prefecture_id,
                                                     "region": row.region_id}):
            out[f"subprefecture:{row.unit_id}"] = f"{row.name} ({names.get(('prefecture', row.prefecture_id), '')})"
    for row in hoods.itertuples(index=False):
        inside = viewer.covers({"subprefecture": row.subprefecture_id, "neighbourhood": row.unit_id})
        if viewer.edits_everywhere or inside:
            commune = names.get(("subprefecture", row.subprefecture_id), row.subprefecture_id)
            out[f"neighbourhood:{row.unit_id}"] = f"{row.name} — {commune}"
    return out


def _may_create(viewer: Viewer) -> bool:
    return viewer.can_write and viewer.can_edit_table("security_plan")


def _plan_label(t: Translator, row: dict[str, Any]) -> str:
    code = row["status"]
    status = t(xp.PLAN_STATUS_LABELS.get(code, code))
    return f"{row['unit_name']} — {row['title']} (v{int(row['version_no'])}, {status})"


def _diagnosis(t: Translator, plan: dict[str, Any], viewer: Viewer, *, refresh: bool = False) -> dict[str, Any]:
    """The frozen diagnosis of an adopted version, else the one computed now (kept for the session)."""
    if plan["status"] != "draft" and plan.get("diagnosis"):
        return plan["diagnosis"]
    cache = st.session_state.setdefault(_DIAG, {})
    key = (plan["id"], viewer.name, t.lang, dt.date.today().isoformat())
    if refresh or key not in cache:
        with st.spinner(t("Computing the diagnosis from the data…")):
            cache[key] = xp.diagnosis(get_store(), plan, viewer, as_of=dt.date.today(), lang=t.lang)
    return cache[key]


@st.cache_data(show_spinner=False, max_entries=32)
def _shape_wkb(level: str, unit_id: str, subprefecture_id: str, store_url: str) -> bytes:
    plan = {"unit_level": level, "unit_id": unit_id, "subprefecture_id": subprefecture_id}
    return xp.unit_shape(plan, get_store()).wkb


def _shape(plan: dict[str, Any]) -> shapely.Geometry:
    """The plan's unit outline (cached as WKB: a geometry is not a cache value Streamlit can copy)."""
    return shapely.from_wkb(_shape_wkb(plan["unit_level"], plan["unit_id"], plan["subprefecture_id"],
                                       get_store().url))


# --- choosing or creating a plan ----------------------------------------------------------------------


def _new_plan(t: Translator, viewer: Viewer) -> None:
    units = _units(viewer)
    if not units:
        st.info(t("No unit is open to you for a new plan."))
        return
    with st.form("pl_new"):
        unit = st.selectbox(t("Commune, sub-prefecture or neighbourhood"), list(units), format_func=units.get)
        year = dt.date.today().year + 1
        cols = st.columns(2)
        start_year = cols[0].number_input(t("First year"), min_value=2015, max_value=2100, value=year, step=1)
        years = cols[1].radio(t("Plan period"), [1, 3], index=1, horizontal=True,
                              format_func=lambda n: t("annual plan (1 year)") if n == 1 else t("three-year plan"))
        title = st.text_input(t("Title (blank: a title is made from the unit and the years)"))
        if not st.form_submit_button(t("Create the plan"), type="primary"):
            return
    level, unit_id = unit.split(":", 1)
    store = get_store()
    info = xp.plan_unit(level, unit_id, store)
    first, last = int(start_year), int(start_year) + int(years) - 1
    span = str(first) if first == last else f"{first}–{last}"
    title = title.strip() or t("Local security plan of {unit} {years}", unit=info["unit_name"], years=span)
    try:
        plan_id = store.create_plan(info, title=title, period_start=dt.date(first, 1, 1),
                                    period_end=dt.date(last, 12, 31), user=viewer)
    except (PlanError, PermissionDenied) as exc:
        _refused(t, exc)
        return
    st.session_state[_PLAN] = plan_id
    flash("success", t("Plan created: {title}.", title=title))
    st.rerun()


def _choose(t: Translator, viewer: Viewer) -> int | None:
    plans = get_store().plans(viewer)
    if _may_create(viewer):
        with st.expander(t("New plan"), expanded=plans.empty):
            _new_plan(t, viewer)
    if plans.empty:
        st.info(t("No local security plan yet."))
        return None
    rows = {int(r["id"]): r for r in plans.to_dict("records")}
    ids = list(rows)
    current = st.session_state.get(_PLAN)
    if current not in rows:
        mine = [i for i in ids if rows[i]["editable"]]
        current = (mine or ids)[0]
    choice = st.selectbox(t("Plan"), ids, index=ids.index(current), format_func=lambda i: _plan_label(t, rows[i]))
    st.session_state[_PLAN] = choice
    return int(choice)


# --- the five steps -----------------------------------------------------------------------------------


def _diagnosis_tab(t: Translator, plan: dict[str, Any], viewer: Viewer, editable: bool) -> dict[str, Any]:
    refresh = editable and st.button(t("Recompute the figures"), key="pl_refresh")
    dg = _diagnosis(t, plan, viewer, refresh=refresh)
    if plan["status"] != "draft":
        st.caption(t("Figures frozen when the plan was adopted."))
    st.caption(t("Data from {start} to {end}.", start=t.d(dt.date.fromisoformat(dg["start"])),
                 end=t.d(dt.date.fromisoformat(dg["end"]))))
    scope = xp.SCOPE_NOTES.get(dg.get("scope_note") or "")
    if scope:
        st.caption(t(scope))
    inc, crashes, prog = dg["incidents"], dg["crashes"], dg["programme"]
    cols = st.columns(5)
    cols[0].metric(t("Population (estimate)"), t.n(dg["population"]) if dg.get("population") else "–")
    cols[1].metric(t("Incidents reported"), t.n(inc["total"]))
    cols[2].metric(t("Incidents per 10,000 inhabitants"), t.n(inc["per_10000"], 1) if inc.get("per_10000") else "–")
    cols[3].metric(t("Road crashes"), t.n(crashes["total"]), help=t("{fatal} fatal, {killed} killed",
                                                                     fatal=crashes["fatal"], killed=crashes["killed"]))
    cols[4].metric(t("Hot spots"), t.n(dg["hotspots"]["hot"]))
    if inc.get("suppressed"):
        st.caption(t("Counts of sensitive incidents below {n} are not shown, so that no victim can be identified.",
                     n=inc.get("threshold", 5)))
    if inc["by_category"]:
        periods = [f"{t.d(dt.date.fromisoformat(a))} – {t.d(dt.date.fromisoformat(b))}" for a, b in dg["periods"]]
        table = pd.DataFrame([[c["label"], *c["counts"], c["total"], t(TREND_WORDS.get(c["trend"], c["trend"]))]
                              for c in inc["by_category"]],
                             columns=[t("Category"), *periods, t("Total"), t("Trend")])
        st.dataframe(table, hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        st.markdown("**" + t("Hot spots") + "**")
        if dg["hotspots"]["top"]:
            st.dataframe(pd.DataFrame([[h["rank"], h["place"], h["count"], round(h["gi_z"], 2)]
                                       for h in dg["hotspots"]["top"]],
                                      columns=[t("Rank"), t("Place"), t("Incidents"), t("z-score")]),
                         hide_index=True, width="stretch")
        else:
            st.caption(t("No significant hot spot in the period."))
    with right:
        st.markdown("**" + t("Road black spots") + "**")
        if crashes["blackspots"]:
            st.dataframe(pd.DataFrame([[b["rank"], b["place"], b["crashes"], b["fatal"], b["epdo"]]
                                       for b in crashes["blackspots"]],
                                      columns=[t("Rank"), t("Place"), t("Crashes"), t("Fatal"), t("Score (EPDO)")]),
                         hide_index=True, width="stretch")
        else:
            st.caption(t("No road crash recorded in the period."))
    st.markdown("**" + t("Community policing in the unit") + "**")
    st.markdown("\n".join([
        "- " + t("{n} council(s), {m} meeting(s) in the period", n=t.n(prog.get("councils") or 0),
                 m=t.n(prog.get("meetings") or 0)),
        "- " + t("{n} school(s) visited, {s} students reached", n=t.n(prog.get("schools_visited") or 0),
                 s=t.n(prog.get("students_reached") or 0)),
        "- " + t("{n} day(s), {w} women", n=t.n(prog.get("women_days") or 0), w=t.n(prog.get("women") or 0)),
        "- " + t("{n} officer(s) trained", n=t.n(prog.get("officers_trained") or 0)),
    ]))
    _notes(t, plan, viewer, editable)
    return dg


def _read_at(prefix: str, version: int) -> int:
    """The version a form's text was first read at. Saves are checked against it, not against what a later
    rerun reads, so a second editor's save is refused instead of silently overwriting the first one's."""
    return int(st.session_state.setdefault(f"{prefix}_read_at", int(version)))


def _forget(prefix: str) -> None:
    """Drop a form's kept text and read version, so it is filled again from what is stored."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{prefix}_")]:
        del st.session_state[key]


def _save(t: Translator, prefix: str, write, done: str) -> None:
    """Run ``write`` (a save read at :func:`_read_at`); on success start the form afresh, on refusal keep the
    user's text and offer to reload the stored version."""
    try:
        write()
    except (StaleVersionError, PlanError, PermissionDenied) as exc:
        _refused(t, exc)
        st.session_state[f"{prefix}_stale"] = True
    else:
        _forget(prefix)
        flash("success", done)
        st.rerun()


def _offer_reload(t: Translator, prefix: str) -> None:
    if st.session_state.get(f"{prefix}_stale") and st.button(t("Reload the saved version"), key=f"{prefix}_reload"):
        _forget(prefix)
        st.rerun()


def _notes(t: Translator, plan: dict[str, Any], viewer: Viewer, editable: bool) -> None:
    st.subheader(t("The council's findings"))
    prefix = f"pl_note_{plan['id']}"
    keys = {s: f"{prefix}_{s}" for s in NOTE_SECTIONS}
    if not editable:
        for section in NOTE_SECTIONS:
            st.markdown("**" + t(NOTE_LABELS[section]) + "**")
            st.text(plan["notes"].get(section) or "–")
        return
    read_at = _read_at(prefix, plan["version"])
    for section, key in keys.items():
        st.session_state.setdefault(key, plan["notes"].get(section, ""))
    with st.form(f"pl_notes_{plan['id']}"):
        for section, key in keys.items():
            st.text_area(t(NOTE_LABELS[section]), key=key, height=110)
        saved = st.form_submit_button(t("Save the findings"))
    if saved:
        notes = {s: st.session_state[k] for s, k in keys.items()}
        _save(t, prefix, lambda: get_store().update_plan(plan["id"], {"notes": notes}, version=read_at, user=viewer),
              t("Findings saved."))
    _offer_reload(t, prefix)


def _categories(t: Translator) -> dict[str, str]:
    codes = {code: taxonomy().label(code, t.lang) for code in taxonomy().codes}
    return {**{k: t(v) for k, v in xp.PRIORITY_THEMES.items()}, **codes}


def _priority_map(t: Translator, plan: dict[str, Any], priorities, dg: dict[str, Any], editable: bool) -> dict:
    shape = _shape(plan)
    west, south, east, north = shape.bounds
    tiles = TileConfig.from_env()
    m = make_map(t, tiles=tiles, attributions=(t(boundaries.ATTRIBUTION),), bounds=((south, west), (north, east)))
    basemap.build(load_outline(), t=t, land_fill=0.35 if tiles.url else 1.0).add_to(m)
    subs = load_display("subprefecture", "high")
    subs = subs[subs["prefecture_id"] == plan["prefecture_id"]]
    boundaries.build(subs, t=t, level="subprefecture", labels=True, interactive=False).add_to(m)
    top = dg["hotspots"]["top"]
    cells = hexagons(pd.DataFrame({"cell": [h["cell"] for h in top], "rank": [h["rank"] for h in top],
                                   "count": [h["count"] for h in top]})) if top else None
    priority_layer.build(priorities, t=t, unit=shape, hotspots=cells,
                         category_label=lambda code: category_label(code, t)).add_to(m)
    if editable:
        folium.plugins.Draw(
            export=False, position="topleft",
            draw_options={"polyline": {"shapeOptions": {"weight": 5}}, "circle": False, "circlemarker": False,
                          "marker": True, "rectangle": True, "polygon": {"allowIntersection": False}},
            edit_options={"edit": False, "remove": True},
        ).add_to(m)
    return st_folium(finish(m), key=f"pl_map_{plan['id']}", height=520, use_container_width=True,
                     returned_objects=["last_active_drawing"]) or {}


def _priority_fields(t: Translator, prefix: str, current: dict[str, Any] | None = None) -> dict[str, Any]:
    current = current or {}
    cats = _categories(t)
    cat_keys = [None, *cats]
    raised = [None, *RAISED_BY]
    values = {"title": st.text_input(t("Priority"), value=current.get("title") or "", key=f"{prefix}_title")}
    cols = st.columns(3)
    values["category"] = cols[0].selectbox(t("Category"), cat_keys, key=f"{prefix}_cat",
                                           index=cat_keys.index(current.get("category"))
                                           if current.get("category") in cat_keys else 0,
                                           format_func=lambda k: "–" if k is None else cats[k])
    values["raised_by"] = cols[1].selectbox(t("Raised by"), raised, key=f"{prefix}_raised",
                                            index=raised.index(current.get("raised_by"))
                                            if current.get("raised_by") in raised else 0,
                                            format_func=lambda k: "–" if k is None else t(xp.RAISED_BY_LABELS[k]))
    if current:
        values["rank"] = cols[2].number_input(t("Rank"), min_value=1, step=1, value=int(current["rank"]),
                                              key=f"{prefix}_rank")
    values["description"] = st.text_area(t("Description"), value=current.get("description") or "",
                                         key=f"{prefix}_desc", height=80)
    return values


def _priority_import(t: Translator, plan: dict[str, Any], viewer: Viewer) -> None:
    """Priorities from a file (an earlier plan's GeoJSON, QGIS, Google Earth): read and checked, shown with the
    features set aside and why, stored only when confirmed."""
    turn = st.session_state.get("pl_import_turn", 0)  # a new uploader after an import, so it starts empty
    with st.expander(t("Import priorities from a file"), expanded=False):
        st.caption(t("GeoJSON (such as the priorities file of an earlier plan), GeoPackage, zipped Shapefile or "
                     "KML/KMZ. A title column (title, titre, name, nom) names each priority; category, raised by, "
                     "rank and description columns are read when present. Each shape is checked like a drawn one."))
        upload = st.file_uploader(t("Priorities file"), type=["geojson", "json", "gpkg", "zip", "kml", "kmz"],
                                  key=f"pl_import_{plan['id']}_{turn}")
        if upload is None:
            return
        try:
            result = pf.read_priority_file(upload.getvalue(), upload.name, unit=_shape(plan))
        except (ReadError, LayerFileError) as exc:
            st.error(t("Cannot import {file}: {reason}", file=md_text(upload.name), reason=pf.file_error_text(t, exc)))
            return
        st.markdown(t("{file}: {n} feature(s), {ready} ready to import, {aside} set aside.", file=md_text(upload.name),
                      n=t.n(result.features), ready=t.n(len(result.ready)), aside=t.n(len(result.set_aside))))
        for code in result.notes:  # converted coordinates, other layers left out...
            st.caption(reason_text(t, code))
        for feature in result.ready:
            for code in feature.warnings:
                st.caption(t("Feature {n} ({title}): {message}", n=feature.feature,
                             title=md_text(feature.values["title"]), message=pf.feature_message(t, code)))
        if result.set_aside:
            st.warning(t("These features are not imported: correct them in the file and upload it again."))
            st.dataframe(pf.set_aside_table(t, result), hide_index=True, width="stretch")
        if result.ready and st.button(t("Import the {n} priority(ies) that fit", n=t.n(len(result.ready))),
                                      key=f"pl_import_go_{plan['id']}", type="primary"):
            try:
                pf.import_priorities(get_store(), plan["id"], result, user=viewer)
            except (PlanError, PermissionDenied) as exc:
                _refused(t, exc)
            else:
                st.session_state["pl_import_turn"] = turn + 1
                flash("success", t("{n} priority(ies) imported from {file}.", n=t.n(len(result.ready)),
                                   file=md_text(upload.name)))
                st.rerun()


def _priorities_tab(t: Translator, plan: dict[str, Any], viewer: Viewer, editable: bool, dg: dict[str, Any]) -> None:
    store = get_store()
    priorities = store.plan_priorities(plan["id"])
    if editable:
        st.caption(t("Draw an area (polygon or rectangle), a road stretch (line) or a point (marker) with the tools "
                     "at the top left of the map, then describe it below. Or take a hot spot of the diagnosis."))
    out = _priority_map(t, plan, priorities, dg, editable)
    if editable:
        drawing = out.get("last_active_drawing")
        left, right = st.columns(2)
        with left:
            st.markdown("**" + t("Save the drawn priority") + "**")
            if not drawing or not drawing.get("geometry"):
                st.caption(t("Nothing drawn yet."))
            else:
                with st.form(f"pl_draw_{plan['id']}"):
                    values = _priority_fields(t, "pl_new_priority")
                    submitted = st.form_submit_button(t("Check and save"), type="primary")
                if submitted:
                    check = check_priority_shape(drawing, _shape(plan))
                    for code in check.warnings:
                        st.warning(t(SHAPE_MESSAGES[code]))
                    if not check.ok:
                        for code in check.errors:
                            st.error(t(SHAPE_MESSAGES[code]))
                    else:
                        try:
                            store.add_priority(plan["id"], {**values, "source": "drawn"}, check.geometry,
                                               kind=check.kind, flags=check.warnings, user=viewer)
                        except (PlanError, PermissionDenied, StaleVersionError) as exc:
                            _refused(t, exc)
                        else:
                            flash("success", t("Priority saved."))
                            st.rerun()
        with right:
            st.markdown("**" + t("Take a hot spot as a priority") + "**")
            top = dg["hotspots"]["top"]
            if not top:
                st.caption(t("No significant hot spot in the period."))
            else:
                spots = {h["cell"]: h for h in top}
                with st.form(f"pl_hot_{plan['id']}"):
                    cell = st.selectbox(t("Hot spot"), list(spots), format_func=lambda c: t(
                        "no. {rank}: {place}, {n} incidents", rank=spots[c]["rank"], place=spots[c]["place"],
                        n=spots[c]["count"]))
                    title = st.text_input(t("Priority"), key="pl_hot_title")
                    if st.form_submit_button(t("Add as a priority")):
                        name = title.strip() or t("Hot spot no. {rank}", rank=spots[cell]["rank"])
                        try:
                            store.add_priority(plan["id"], {"title": name, "source": "hotspot", "h3_cell": cell},
                                               xp.hotspot_shape(cell), kind="area", user=viewer)
                        except (PlanError, PermissionDenied) as exc:
                            _refused(t, exc)
                        else:
                            flash("success", t("Priority saved."))
                            st.rerun()
        _priority_import(t, plan, viewer)
    if priorities.empty:
        st.info(t("No priority yet."))
        return
    shown = xp.priorities_frame(priorities, t)
    cats = _categories(t)
    st.dataframe(pd.DataFrame({t("Rank"): shown["rank"], t("Priority"): shown["title"],
                               t("Category"): [cats.get(c, "–") if c else "–" for c in priorities["category"]],
                               t("Raised by"): shown["raised_by"], t("Shape"): shown["kind"],
                               t("Description"): shown["description"]}),
                 hide_index=True, width="stretch")
    if editable:
        _edit_priority(t, priorities, viewer)


def _edit_priority(t: Translator, priorities, viewer: Viewer) -> None:
    rows = {int(r["id"]): r for r in priorities.drop(columns="geometry").to_dict("records")}
    with st.expander(t("Change or remove a priority")):
        pid = st.selectbox(t("Priority"), list(rows), key="pl_edit_priority",
                           format_func=lambda i: f"{rows[i]['rank']}. {rows[i]['title']}")
        row = rows[pid]
        prefix = f"pl_p{pid}"
        read_at = _read_at(prefix, row["version"])
        with st.form(f"pl_edit_priority_{pid}"):
            values = _priority_fields(t, prefix, row)
            cols = st.columns(2)
            save = cols[0].form_submit_button(t("Save"))
            remove = cols[1].form_submit_button(t("Remove this priority"))
        if remove:
            _save(t, prefix, lambda: get_store().delete_priority(pid, version=read_at, user=viewer),
                  t("Priority removed."))
        elif save:
            _save(t, prefix, lambda: get_store().update_priority(pid, values, version=read_at, user=viewer),
                  t("Priority saved."))
        _offer_reload(t, prefix)


def _action_fields(t: Translator, prefix: str, plan: dict[str, Any], priorities,
                   current: dict[str, Any] | None = None) -> dict[str, Any]:
    current = current or {}
    options = [None, *[int(i) for i in priorities["id"]]]
    titles = dict(zip(priorities["id"], priorities["rank"].astype(str) + ". " + priorities["title"], strict=True))
    linked = current.get("priority_id")
    linked = None if linked is None or pd.isna(linked) else int(linked)
    values: dict[str, Any] = {
        "priority_id": st.selectbox(t("Priority"), options, index=options.index(linked) if linked in options else 0,
                                    key=f"{prefix}_prio", format_func=lambda i: "–" if i is None else titles[i]),
        "title": st.text_input(t("Action"), value=current.get("title") or "", key=f"{prefix}_title")}
    cols = st.columns(2)
    values["responsible"] = cols[0].text_input(t("Responsible"), value=current.get("responsible") or "",
                                               key=f"{prefix}_resp")
    values["partners"] = cols[1].text_input(t("Partners"), value=current.get("partners") or "", key=f"{prefix}_part")
    cols = st.columns(4)
    start = pd.Timestamp(current.get("start_on") or plan["period_start"]).date()
    end = pd.Timestamp(current.get("end_on") or dt.date(pd.Timestamp(plan["period_start"]).year, 12, 31)).date()
    values["start_on"] = cols[0].date_input(t("Start"), value=start, key=f"{prefix}_start", format="DD/MM/YYYY")
    values["end_on"] = cols[1].date_input(t("End"), value=end, key=f"{prefix}_end", format="DD/MM/YYYY")
    budget = current.get("budget_gnf")
    values["budget_gnf"] = cols[2].number_input(t("Budget (GNF)"), min_value=0.0, step=100_000.0, format="%.0f",
                                                value=None if budget is None or pd.isna(budget) else float(budget),
                                                key=f"{prefix}_budget")
    values["funding_source"] = cols[3].text_input(t("Source of funds"), value=current.get("funding_source") or "",
                                                  key=f"{prefix}_source")
    cols = st.columns([2, 1, 1, 1])
    values["indicator"] = cols[0].text_input(t("Indicator"), value=current.get("indicator") or "",
                                             key=f"{prefix}_ind")
    for col, name, label in ((cols[1], "baseline", t("Baseline")), (cols[2], "target", t("Target"))):
        value = current.get(name)
        values[name] = col.number_input(label, value=None if value is None or pd.isna(value) else float(value),
                                        key=f"{prefix}_{name}")
    statuses = list(xp.STATUS_LABELS)
    values["status"] = cols[3].selectbox(t("Status"), statuses, key=f"{prefix}_status",
                                         index=statuses.index(current.get("status") or "planned"),
                                         format_func=lambda s: t(xp.STATUS_LABELS[s]))
    return values


def _actions_tab(t: Translator, plan: dict[str, Any], viewer: Viewer, editable: bool) -> None:
    store = get_store()
    priorities = store.plan_priorities(plan["id"])
    actions = store.plan_actions(plan["id"])
    if editable:
        with st.expander(t("Add an action"), expanded=actions.empty):
            with st.form(f"pl_add_action_{plan['id']}"):
                values = _action_fields(t, f"pl_new_action_{plan['id']}", plan, priorities)
                if st.form_submit_button(t("Add the action"), type="primary"):
                    try:
                        store.add_action(plan["id"], values, user=viewer)
                    except (PlanError, PermissionDenied) as exc:
                        _refused(t, exc)
                    else:
                        flash("success", t("Action added."))
                        st.rerun()
    if actions.empty:
        st.info(t("No action yet."))
        return
    years = plan_years(pd.Timestamp(plan["period_start"]).date(), pd.Timestamp(plan["period_end"]).date())
    view = st.radio(t("View"), [None, *years], horizontal=True, key=f"pl_year_{plan['id']}",
                    format_func=lambda y: t("Whole period") if y is None else t("Year {year}", year=y))
    shown = actions if view is None else actions_in_year(actions, view)
    st.dataframe(xp.actions_table(shown, priorities, t), hide_index=True, width="stretch")
    if len(years) > 1:
        spread = budget_by_year(actions, years)
        st.markdown("**" + t("Budget per year (GNF)") + "**")
        st.dataframe(pd.DataFrame({str(y): [spread[y].sum(min_count=1)] for y in years}
                                  | {t("Total"): [spread.to_numpy().sum()]}).round(0),
                     hide_index=True)
    if editable:
        rows = {int(r["id"]): r for r in actions.to_dict("records")}
        with st.expander(t("Change or remove an action")):
            aid = st.selectbox(t("Action"), list(rows), key="pl_edit_action", format_func=lambda i: rows[i]["title"])
            row = rows[aid]
            prefix = f"pl_a{aid}"
            read_at = _read_at(prefix, row["version"])
            with st.form(f"pl_edit_action_{aid}"):
                values = _action_fields(t, prefix, plan, priorities, row)
                cols = st.columns(2)
                save = cols[0].form_submit_button(t("Save"))
                remove = cols[1].form_submit_button(t("Remove this action"))
            if remove:
                _save(t, prefix, lambda: store.delete_action(aid, version=read_at, user=viewer), t("Action removed."))
            elif save:
                _save(t, prefix, lambda: store.update_action(aid, values, version=read_at, user=viewer),
                      t("Action saved."))
            _offer_reload(t, prefix)


def _adoption_tab(t: Translator, plan: dict[str, Any], viewer: Viewer, editable: bool, may_write: bool) -> None:
    store = get_store()
    if plan["status"] == "draft":
        if not editable:
            st.info(t("This draft has not been adopted yet."))
            return
        st.caption(t("Adoption freezes this version with its diagnosis figures; later changes make a new version."))
        # Adoption is checked against what the previous run showed (the page the council looked at), not
        # against what this run reads: a change made meanwhile by someone else is refused, not adopted unseen.
        shown_key = f"pl_adopt_{plan['id']}_shown"
        now = (int(plan["version"]), store.plan_content(plan["id"]))
        seen = st.session_state.get(shown_key, now)
        st.session_state[shown_key] = now
        items = (len(store.plan_priorities(plan["id"])), store.plan_actions(plan["id"]))
        st.markdown(t("This version holds {p} priority(ies) and {a} action(s), for a budget of {b} GNF.",
                      p=t.n(items[0]), a=t.n(len(items[1])), b=t.n(float(items[1]["budget_gnf"].sum()))))
        roles = [t(r) for r in DEFAULT_SIGNERS] + [""] * EXTRA_SIGNERS
        with st.form(f"pl_adopt_{plan['id']}"):
            day = st.date_input(t("Adopted on"), value=dt.date.today(), format="DD/MM/YYYY", key="pl_adopt_day")
            st.markdown("**" + t("Signatories") + "**")
            signers = []
            for i, role in enumerate(roles):
                cols = st.columns(2)
                name = cols[0].text_input(t("Name"), key=f"pl_sign_name_{i}")
                job = cols[1].text_input(t("Role"), value=role, key=f"pl_sign_role_{i}")
                signers.append({"name": name, "role": job})
            confirm = st.checkbox(t("The council adopted this plan in session"), key="pl_adopt_confirm")
            submitted = st.form_submit_button(t("Adopt the plan"), type="primary")
        if submitted:
            if not confirm:
                st.error(t("Tick the box to confirm the council's decision."))
                return
            signers = [p for p in signers if p["name"].strip()]
            try:
                store.adopt_plan(plan["id"], version=seen[0], content=seen[1], adopted_on=day, signatories=signers,
                                 diagnosis=_diagnosis(t, plan, viewer), user=viewer)
            except StaleVersionError:
                st.error(t("The plan was changed by someone else since this page was shown: nothing was adopted. "
                           "Check its priorities and actions, then adopt again."))
            except (PlanError, PermissionDenied) as exc:
                _refused(t, exc)
            else:
                flash("success", t("Plan adopted. It is now frozen; follow its actions in the follow-up step."))
                st.rerun()
        return
    st.success(t("Adopted on {day}.", day=t.d(pd.Timestamp(plan["adopted_on"]).date())))
    st.dataframe(pd.DataFrame(plan["signatories"]).rename(columns={"name": t("Name"), "role": t("Role")}),
                 hide_index=True)
    if plan["status"] == "superseded":
        st.info(t("A later version of this plan was adopted since."))
    if may_write and st.button(t("Make a new version to change the plan"), key="pl_new_version"):
        try:
            new_id = store.new_plan_version(plan["id"], user=viewer)
        except (PlanError, PermissionDenied) as exc:
            _refused(t, exc)
        else:
            st.session_state[_PLAN] = new_id
            flash("success", t("New draft version created."))
            st.rerun()


def _followup_tab(t: Translator, plan: dict[str, Any], viewer: Viewer, may_write: bool) -> None:
    if plan["status"] == "draft":
        st.info(t("Follow-up starts once the plan is adopted."))
        return
    store = get_store()
    actions = store.plan_actions(plan["id"])
    followups = store.plan_followups(plan["id"])
    progress = action_progress(actions, followups, today=dt.date.today())
    summary = plan_progress(progress, actions["budget_gnf"])
    cols = st.columns(4)
    cols[0].metric(t("Actions"), summary["actions"])
    cols[1].metric(t("Done"), summary["done"])
    cols[2].metric(t("Late"), summary["late"])
    cols[3].metric(t("Indicators: progress towards target"), t.pct(summary["mean_progress"])
                   if pd.notna(summary["mean_progress"]) else "–")
    table = xp.actions_table(actions, store.plan_priorities(plan["id"]), t, progress)
    table[t("Late")] = [t("yes") if late else "" for late in progress["late"]]
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={t("Progress"): st.column_config.ProgressColumn(t("Progress"), min_value=0.0,
                                                                               max_value=1.0, format="percent")})
    measured = followups.dropna(subset=["indicator_value"])
    if len(measured):
        titles = dict(zip(actions["id"], actions["title"], strict=True))
        chart = measured.assign(action=measured["action_id"].map(titles),
                                day=pd.to_datetime(measured["recorded_on"]))
        st.line_chart(chart.pivot_table(index="day", columns="action", values="indicator_value", aggfunc="last"))
    if plan["status"] != "adopted" or not may_write:
        return
    rows = {int(r["id"]): r for r in actions.to_dict("records")}
    with st.form(f"pl_followup_{plan['id']}"):
        st.markdown("**" + t("Record progress") + "**")
        aid = st.selectbox(t("Action"), list(rows), format_func=lambda i: rows[i]["title"], key="pl_fu_action")
        cols = st.columns(3)
        day = cols[0].date_input(t("Date"), value=dt.date.today(), format="DD/MM/YYYY", key="pl_fu_day")
        statuses = [None, *xp.STATUS_LABELS]
        status = cols[1].selectbox(t("Status"), statuses, key="pl_fu_status",
                                   format_func=lambda s: t("(unchanged)") if s is None else t(xp.STATUS_LABELS[s]))
        value = cols[2].number_input(t("Indicator value"), value=None, key="pl_fu_value")
        note = st.text_area(t("Note"), height=70, key="pl_fu_note")
        if st.form_submit_button(t("Record")):
            try:
                store.record_followup(aid, recorded_on=day, status=status, indicator_value=value, note=note,
                                      user=viewer)
            except (PlanError, PermissionDenied) as exc:
                _refused(t, exc)
            else:
                flash("success", t("Progress recorded."))
                st.rerun()


def _versions(t: Translator, plan: dict[str, Any], viewer: Viewer) -> None:
    store = get_store()
    series = store.plans(viewer, series_id=plan["series_id"]).sort_values("version_no")
    st.dataframe(pd.DataFrame({t("Version"): series["version_no"],
                               t("Status"): [t(xp.PLAN_STATUS_LABELS[s]) for s in series["status"]],
                               t("Adopted on"): series["adopted_on"]}), hide_index=True)
    if len(series) < 2:
        st.caption(t("Only one version so far."))
        return
    ids = series["id"].astype(int).tolist()
    numbers = dict(zip(ids, series["version_no"], strict=True))
    cols = st.columns(2)
    old = cols[0].selectbox(t("Compare version"), ids, index=len(ids) - 2, format_func=lambda i: f"v{numbers[i]}")
    new = cols[1].selectbox(t("with version"), ids, index=len(ids) - 1, format_func=lambda i: f"v{numbers[i]}")
    old_p, new_p = store.plan_priorities(old), store.plan_priorities(new)
    origin = dict(zip(new_p["id"], new_p["origin_id"], strict=True))
    table = pd.concat([compare_items(old_p.drop(columns="geometry"), new_p.drop(columns="geometry"), "priority"),
                       compare_items(store.plan_actions(old), store.plan_actions(new), "action",
                                     {int(k): int(v) for k, v in origin.items() if pd.notna(v)})])
    words = {"added": t("added"), "removed": t("removed"), "changed": t("changed"), "same": t("unchanged"),
             "priority": t("Priority"), "action": t("Action")}
    table = table.assign(item=table["item"].map(words), change=table["change"].map(words))
    st.dataframe(table.rename(columns={"item": t("Item"), "title": t("Title"), "change": t("Change"),
                                       "fields": t("Fields changed")}), hide_index=True, width="stretch")


def _downloads(t: Translator, plan: dict[str, Any], viewer: Viewer) -> None:
    store = get_store()
    st.subheader(t("Print and export"))
    priorities = store.plan_priorities(plan["id"])
    actions = store.plan_actions(plan["id"])
    stem = f"plan-local-{plan['unit_id']}-v{int(plan['version_no'])}".lower()
    cols = st.columns(4)
    lang = cols[0].radio(t("Language of the PDF"), ["fr", "en"], horizontal=True, key="pl_pdf_lang",
                         format_func=lambda code: {"fr": "Français", "en": "English"}[code])
    if cols[0].button(t("Prepare the PDF"), key="pl_pdf_prepare", type="primary"):
        with st.spinner(t("Drawing the maps and the plan…")):
            dg = _diagnosis(t, plan, viewer)
            pdf = plan_pdf(plan, diagnosis=dg, priorities=priorities, actions=actions, shape=_shape(plan),
                           t=t_for(lang), generated_at=dt.datetime.now(dt.UTC), signatories=plan["signatories"])
        cols[0].download_button(t("Download the plan (PDF)"), pdf, file_name=f"{stem}.pdf", mime="application/pdf",
                                key="pl_pdf")
    cols[1].download_button(t("Priorities (GeoJSON)"), xp.priorities_geojson(plan, priorities, t),
                            file_name=f"{stem}-priorites.geojson", mime="application/geo+json", key="pl_geojson",
                            disabled=priorities.empty)
    for col, fmt in zip(cols[2:], ("csv", "xlsx"), strict=True):
        data, mime = xp.actions_bytes(actions, priorities, fmt, t)
        col.download_button(t("Actions ({fmt})", fmt=fmt.upper()), data, file_name=f"{stem}-actions.{fmt}",
                            mime=mime, key=f"pl_{fmt}", disabled=actions.empty)


def _overview(t: Translator, viewer: Viewer) -> None:
    if viewer.role not in (ADMINISTRATOR, PLANNER, COMMANDER, None, "system"):
        return
    with st.expander(t("Progress of all adopted plans")):
        table = xp.plans_overview(get_store(), viewer, today=dt.date.today())
        if table.empty:
            st.caption(t("No adopted plan yet."))
            return
        st.dataframe(pd.DataFrame({
            t("Unit"): table["unit_name"], t("Plan"): table["title"], t("Version"): table["version_no"],
            t("Adopted on"): table["adopted_on"], t("Actions"): table["actions"], t("Done"): table["done"],
            t("In progress"): table["in_progress"], t("Late"): table["late"],
            t("Share done"): table["share_done"], t("Indicators: progress towards target"): table["mean_progress"],
            t("Budget (GNF)"): table["budget_gnf"]}), hide_index=True, width="stretch",
            column_config={t("Share done"): st.column_config.ProgressColumn(t("Share done"), min_value=0.0,
                                                                            max_value=1.0, format="percent")})


def render() -> None:
    t = translator()
    st.title(t("Local security plan"))
    with st.container():  # always one element, flash or not: the tabs below keep their place and their open tab
        show_flashes()
    st.caption(t("The Local Security and Crime Prevention Council draws up its plan here: diagnosis from the "
                 "data, priorities on the map, actions, adoption, then follow-up."))
    demo_notice(t)
    viewer = current_viewer()
    _overview(t, viewer)
    plan_id = _choose(t, viewer)
    if plan_id is None:
        return
    store = get_store()
    try:
        plan = store.plan(plan_id, viewer)
    except KeyError:
        st.session_state.pop(_PLAN, None)
        st.error(t("This plan no longer exists."))
        return
    listed = store.plans(viewer, series_id=plan["series_id"])
    row = listed[listed["id"] == plan_id]
    editable = bool(row["editable"].iloc[0]) if len(row) else False
    may_write = _may_create(viewer) and (viewer.edits_everywhere or viewer.covers(
        {"subprefecture": plan["subprefecture_id"], "prefecture": plan["prefecture_id"],
         "region": plan["region_id"], "neighbourhood": plan["unit_id"] if plan["unit_level"] == "neighbourhood"
         else None}))
    code = plan["status"]
    status = t(xp.PLAN_STATUS_LABELS.get(code, code))
    st.markdown(f"### {md_text(plan['title'])}")
    st.caption(t("{unit} · {start} – {end} · version {n} · {status}", unit=plan["unit_name"],
                 start=t.d(pd.Timestamp(plan["period_start"]).date()),
                 end=t.d(pd.Timestamp(plan["period_end"]).date()), n=int(plan["version_no"]), status=status))
    if plan["status"] == "draft" and not editable:
        st.info(t("You can read this plan; only the council of its unit can change it."))
    tabs = st.tabs([t("1. Diagnosis"), t("2. Priorities"), t("3. Action plan"), t("4. Adoption"),
                    t("5. Follow-up"), t("Versions")])
    with tabs[0]:
        dg = _diagnosis_tab(t, plan, viewer, editable)
    with tabs[1]:
        _priorities_tab(t, plan, viewer, editable, dg)
    with tabs[2]:
        _actions_tab(t, plan, viewer, editable)
    with tabs[3]:
        _adoption_tab(t, plan, viewer, editable, may_write)
    with tabs[4]:
        _followup_tab(t, plan, viewer, may_write)
    with tabs[5]:
        _versions(t, plan, viewer)
    _downloads(t, plan, viewer)
