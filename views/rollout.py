"""Rollout planner page ("Planification"): which communities get community policing next.

Weighted criteria (sliders) rank the candidate units, each score shown as its
contributions; random weight changes show how stable each rank is; an exact
mixed-integer programme (PuLP + CBC) chooses the units per phase under the
instructors and the budget, optionally as a maximal covering (a trained
community also reaches its neighbours). Population is the 2014 census unless a
table is uploaded. Scenarios are saved by name in the session, downloaded as
JSON, loaded back from that file and compared side by side.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import folium

from exchange import rollout as rx
from geo import rollout as ro
from geo.boundaries import load_display, load_outline
from geo.population import CENSUS_RULE, POPULATION_RULE_LABELS, RULES
from i18n import N_, Translator
from i18n.reasons import reason_text
from layers import basemap, boundaries
from layers.base import Legend, esc
from layers.mapframe import TileConfig, finish, make_map
from storage.roles import Viewer
from views.common import current_viewer, demo_notice, get_store, has_demo, md_text, store_counts, translator
from views.incident_filters import unit_label, unit_options

LEVELS = {"prefecture": N_("Prefectures"), "subprefecture": N_("Sub-prefectures")}
PHASE_COLORS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
_SCENARIOS = "rollout_scenarios"
PHASE_COLUMNS = {"phase": N_("Phase"), "units": N_("Units"), "officers": N_("Officers to train"),
                 "cost": N_("Cost (GNF)"), "population": N_("Population"),
                 "population_reached": N_("Population reached"),
                 "neighbours_reached": N_("Units reached through a neighbour"),
                 "neighbour_population_reached": N_("Population reached through neighbours"),
                 "incidents": N_("Incidents"), "incident_share": N_("Share of incidents"),
                 "capacity_used": N_("Instructor capacity used"), "budget_used": N_("Budget used")}
PLAN_COLUMNS = {"phase": N_("Phase"), "unit_id": N_("Id"), "name": N_("Unit"), "prefecture": N_("Prefecture"),
                "rank": N_("Rank"), "rank_min": N_("Best rank (weights ±20 %)"),
                "rank_max": N_("Worst rank (weights ±20 %)"), "score": N_("Score"), "reason": N_("Why"),
                "binding_limits": N_("Binding limits"), "officers": N_("Officers to train"),
                "cost_gnf": N_("Cost (GNF)"), "population": N_("Population"), "incidents": N_("Incidents"),
                "reached_phase": N_("Reached in phase"), "reached_by": N_("Reached by (id)"),
                "reached_by_name": N_("Reached by")}

# --- uploads: same limits and messages as the other upload points of the app ---------------------------
MAX_UPLOAD_MB = 20
POPULATION_TYPES = ["csv", "txt", "tsv", "xlsx"]
#: A scenario is a few hundred bytes; anything near this is not one.
MAX_SCENARIO_BYTES = 1_000_000
_POPULATION = "ro_population"  # session: ((file name, sha256, level), PopulationImport) of the last table read
_POP_NONCE = "ro_pop_nonce"  # bumped to empty the population uploader ("back to the census")
_SCENARIO_FILE = "ro_scenario_file"
_SCENARIO_STATUS = "ro_scenario_status"  # (file id, "ok"|"error", details) of the last scenario file loaded
_MISSING_LOADED = "ro_missing_loaded"  # a loaded scenario's missing-value rule per criterion
PER_CRITERION = "per_criterion"
#: Headers of the table of population rows that did not match: file, row, value as written, why.
POPULATION_PROBLEM_COLUMNS = (N_("File"), N_("Row"), N_("Value"), N_("Why"))
IMPORTED_SHARED = {"area": N_("imported table {file}, prefecture figures shared out by area"),
                   "equal": N_("imported table {file}, prefecture figures shared out equally")}
#: Messages of scenario files the page cannot show, on top of the reader's.
SCENARIO_PAGE_ERRORS = {"outside_page": N_("The scenario has values this page cannot set.")}
SCENARIO_NOTES = {
    "scaled": N_("Weights were scaled to the page's 0–5 range; weights are relative, so the ranking is the same."),
    "no_limits": N_("The file has no limits: the limits on the page are unchanged."),
    "per_criterion": N_("Missing values follow the file's rule for each criterion."),
}

#: Limit inputs: session key -> (Limits field, factor from the input's unit to the field's, min, max, whole, default).
#: One table for the inputs and for checking a loaded scenario, so both agree on what the page can show.
LIMIT_INPUTS: dict[str, tuple[str, float, float, float, bool, float]] = {
    "ro_instructors": ("instructors", 1.0, 0, 1000, True, 51),
    "ro_per_instructor": ("officers_per_instructor", 1.0, 1, 500, True, 25),
    "ro_phases": ("phases", 1.0, 1, 5, True, 3),
    "ro_budget": ("budget_per_phase", 1e6, 0, 1_000_000, True, 1500),
    "ro_budget_total": ("budget_total", 1e6, 0, 10_000_000, True, 0),
    "ro_fixed": ("cost_fixed", 1e6, 0.0, 10_000.0, False, 50.0),
    "ro_cost_officer": ("cost_per_officer", 1e6, 0.0, 1000.0, False, 1.0),
    "ro_per_10000": ("officers_per_10000", 1.0, 0.1, 100.0, False, 10.0),
    "ro_min_officers": ("min_officers", 1.0, 1, 1000, True, 10),
    "ro_max_officers": ("max_officers", 1.0, 0, 10_000, True, 250),
}
#: Limits where None (no limit) is entered as 0.
_ZERO_IS_NONE = ("budget_per_phase", "budget_total", "max_officers")
COVER_KM = (0.0, 500.0, 25.0)  # min, max, default of the covering distance input
WEIGHT_MAX = 5.0


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def _candidates(store_url: str, version: tuple, level: str, start: date, end: date, rule: str = "area",
                population_key: str = "", _population: pd.DataFrame | None = None,
                viewer: Viewer | None = None) -> pd.DataFrame:
    """The candidate table, counted for ``viewer`` (sensitive reports in whole fives for a planner); an
    imported population is keyed by its file's hash (the frame is not hashed)."""
    return rx.candidate_table(get_store(), level, start=start, end=end, population_rule=rule,
                              population_table=_population, viewer=viewer)


# --- population ---------------------------------------------------------------------------------------


def _back_to_census() -> None:
    """Empty the population uploader (a new key) and forget the table read from it."""
    st.session_state[_POP_NONCE] = st.session_state.get(_POP_NONCE, 0) + 1
    st.session_state.pop(_POPULATION, None)


def _read_population(t: Translator, name: str, data: bytes, level: str) -> rx.PopulationImport | None:
    """The uploaded table matched to the units (kept in the session: one read per file), or None with an error."""
    key = (name, hashlib.sha256(data).hexdigest(), level)
    cached = st.session_state.get(_POPULATION)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        imported = rx.match_population_table(data, name, level=level, max_bytes=MAX_UPLOAD_MB * 1_000_000)
    except rx.PopulationTableError as exc:
        reason = t(rx.POPULATION_ERROR_LABELS[exc.code])
        if exc.reason:
            reason += " " + reason_text(t, exc.reason)
        st.error(t("{file} cannot be used as a population table: {reason}", file=md_text(name), reason=reason)
                 + f" ({md_text(exc.detail)})")
        return None
    st.session_state[_POPULATION] = (key, imported)
    return imported


def _population(t: Translator, level: str) -> tuple[str, rx.PopulationImport | None]:
    """Sharing rule and population upload; returns the rule and the imported table when every row matched."""
    rule = "area"
    if level == "subprefecture":
        rule = st.radio(t("Sub-prefecture population"), RULES, horizontal=True, key="ro_pop_rule",
                        format_func=lambda r: t(POPULATION_RULE_LABELS[r]),
                        help=t("The 2014 census counts prefectures only: their population is shared out among "
                               "their sub-prefectures by this rule (also for an imported table of prefectures)."))
    nonce = st.session_state.get(_POP_NONCE, 0)
    upload = st.file_uploader(t("Population table (CSV or Excel: a column with the unit id or name, and a "
                                "population column)"), type=POPULATION_TYPES,
                              key="ro_pop_file" + (f"_{nonce}" if nonce else ""),
                              help=t("Replaces the 2014 census, for example with projections. Names are matched "
                                     "without accents or case; add a prefecture column where a sub-prefecture name "
                                     "exists twice."))
    if upload is None:
        return rule, None
    st.button(t("Back to the 2014 census"), key="ro_pop_census", on_click=_back_to_census)
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_MB * 1_000_000:
        st.error(t("{file} is larger than {n} MB.", file=md_text(upload.name), n=MAX_UPLOAD_MB))
        return rule, None
    imported = _read_population(t, upload.name, data, level)
    if imported is None:
        return rule, None
    if not imported.ok:
        bad = imported.problems["row"].nunique()
        st.error(t("{file} is not used: {bad} of {rows} rows do not match a unit with a usable figure. Correct "
                   "them and upload the file again; meanwhile the 2014 census is used.", file=md_text(upload.name),
                   bad=t.n(bad), rows=t.n(imported.rows)))
        problems = imported.problems
        columns = [upload.name, problems["row"].to_numpy(), problems["value"].to_numpy(object),
                   [t(rx.POPULATION_ROW_LABELS[c]) for c in problems["code"]]]
        st.dataframe(pd.DataFrame({t(h): v for h, v in zip(POPULATION_PROBLEM_COLUMNS, columns, strict=True)}),
                     hide_index=True, width="stretch")
        st.caption(t("Rows matched: {matched} of {rows} ({level}).", matched=t.n(imported.rows - bad),
                     rows=t.n(imported.rows), level=t(LEVELS[imported.level])))
        return rule, None
    return rule, imported


def _population_text(t: Translator, candidates: pd.DataFrame, file: str | None) -> str:
    """Where the population of ``candidates`` comes from, in words (page, PDF)."""
    rules = set(candidates["population_rule"].dropna().astype(str))
    shared = next((r for r in RULES if r in rules), None)
    if rx.population_source(candidates) == rx.IMPORTED:
        if shared:
            return t(IMPORTED_SHARED[shared], file=file or "–")
        return t("imported table {file}", file=file or "–")
    return t(POPULATION_RULE_LABELS[shared or CENSUS_RULE])


def _population_summary(t: Translator, slot: Any, candidates: pd.DataFrame,
                        imported: rx.PopulationImport | None) -> None:
    known, total = int(candidates["population"].notna().sum()), len(candidates)
    if imported is not None:
        slot.success(t("Population from {file}: {rows} rows matched ({level}); {known} of {total} candidate units "
                       "have a figure.", file=md_text(imported.file_name), rows=t.n(imported.rows),
                       level=t(LEVELS[imported.level]), known=t.n(known), total=t.n(total)))
    slot.caption(t("Population used: {source}.", source=md_text(_population_text(
        t, candidates, imported.file_name if imported else None))))
    for code in candidates.attrs.get("notes", []):
        slot.caption(t(rx.NOTE_LABELS[code], n=candidates.attrs.get("threshold", "")))
    if known < total:
        slot.warning(t("{n} candidate units have no population figure: their rates per inhabitant are unknown and "
                       "the missing-value rule applies to them.", n=t.n(total - known)))


# --- loading a saved scenario -------------------------------------------------------------------------


def _limit_inputs(limits: ro.Limits) -> tuple[dict[str, Any], list[str]]:
    """Input values for ``limits`` and, in English, the limits the page's inputs cannot hold."""
    values: dict[str, Any] = {}
    issues: list[str] = []
    for key, (name, factor, low, high, whole, _default) in LIMIT_INPUTS.items():
        raw = getattr(limits, name)
        if raw is None:
            values[key] = 0
            continue
        if raw == 0 and name in _ZERO_IS_NONE:
            issues.append(f"{name} = 0 (0 means no limit on this page)")
            continue
        value = raw / factor
        if whole and value != round(value):
            issues.append(f"{name} = {raw:g} is not a whole number" + (" of millions" if factor != 1 else ""))
            continue
        if not low <= value <= high:
            issues.append(f"{name} = {raw:g} is outside {low * factor:g}..{high * factor:g}")
            continue
        values[key] = int(round(value)) if whole else float(value)
    return values, issues


def _scenario_inputs(scenario: ro.Scenario) -> tuple[dict[str, Any], list[str]]:
    """Session values of every input the scenario sets, and the notes to show.

    Raises :class:`exchange.rollout.ScenarioFileError` (``outside_page``) before
    anything is set when a value cannot be shown by the page's inputs.
    """
    values: dict[str, Any] = {"ro_name": scenario.name, "ro_method": scenario.method}
    notes: list[str] = []
    weights = {c.key: float(scenario.weights.get(c.key, 0.0)) for c in ro.DEFAULT_CRITERIA}
    top = max(weights.values())
    scale = WEIGHT_MAX / top if top > WEIGHT_MAX else 1.0
    if scale != 1.0:
        notes.append("scaled")
    for crit in ro.DEFAULT_CRITERIA:
        values[f"ro_w_{crit.key}"] = round(weights[crit.key] * scale, 6)
        values[f"ro_d_{crit.key}"] = scenario.directions.get(crit.key, crit.direction)
    missing = scenario.missing
    if isinstance(missing, str):
        values["ro_missing"], values[_MISSING_LOADED] = missing, None
    else:
        used = {missing.get(k, "exclude") for k, w in weights.items() if w > 0}
        if len(used) == 1:
            values["ro_missing"], values[_MISSING_LOADED] = used.pop(), None
        else:
            values["ro_missing"], values[_MISSING_LOADED] = PER_CRITERION, dict(missing)
            notes.append("per_criterion")
    issues: list[str] = []
    if scenario.limits is None:
        notes.append("no_limits")
    else:
        limit_values, issues = _limit_inputs(scenario.limits)
        values.update(limit_values)
    if scenario.level is not None:  # a file without a level (older) keeps the page's level and units
        values["ro_level"] = scenario.level
        values.update({f"ro_{name}": [f"{scenario.level}:{u}" for u in getattr(scenario, name)]
                       for name in ro.UNIT_CHOICES})
    values["ro_cover"] = scenario.coverage_km is not None
    if scenario.coverage_km is not None:
        low, high, _ = COVER_KM
        if low <= scenario.coverage_km <= high:
            values["ro_cover_km"] = float(scenario.coverage_km)
        else:
            issues.append(f"coverage_km = {scenario.coverage_km:g} is outside {low:g}..{high:g}")
    if issues:
        raise rx.ScenarioFileError("outside_page", "; ".join(issues))
    return values, notes


def _load_scenario_file() -> None:
    """Uploader callback (runs before the page, so the inputs can still be set): all of the file or nothing."""
    upload = st.session_state.get(_SCENARIO_FILE)
    if upload is None:
        st.session_state.pop(_SCENARIO_STATUS, None)
        return
    try:
        scenario = rx.read_scenario(upload.getvalue(), max_bytes=MAX_SCENARIO_BYTES)
        values, notes = _scenario_inputs(scenario)
    except rx.ScenarioFileError as exc:
        st.session_state[_SCENARIO_STATUS] = (upload.file_id, "error", (upload.name, exc.code, exc.detail))
        return
    for key, value in values.items():
        if key == _MISSING_LOADED and value is None:
            st.session_state.pop(key, None)
        else:
            st.session_state[key] = value
    st.session_state[_SCENARIO_STATUS] = (upload.file_id, "ok", (upload.name, scenario.name, notes))


def _scenario_loader(t: Translator) -> None:
    upload = st.file_uploader(t("Saved scenario (JSON, as downloaded from this page)"), type=["json"],
                              key=_SCENARIO_FILE, on_change=_load_scenario_file,
                              help=t("Sets the weights, directions, normalization, missing-value rule, limits, "
                                     "covering, level and units chosen of the file (a file without a level keeps "
                                     "the units chosen below)."))
    status = st.session_state.get(_SCENARIO_STATUS)
    if upload is None or status is None or status[0] != upload.file_id:
        return
    if status[1] == "error":
        name, code, detail = status[2]
        label = rx.SCENARIO_ERROR_LABELS.get(code) or SCENARIO_PAGE_ERRORS[code]
        st.error(t("{file} was not loaded: {reason}", file=md_text(name), reason=t(label))
                 + f" ({md_text(detail)}) " + t("Nothing was changed."))
        return
    name, scenario_name, notes = status[2]
    st.success(t("Scenario “{name}” loaded from {file}: press “Plan the rollout” to see its plan.",
                 name=md_text(scenario_name), file=md_text(name)))
    for note in notes:
        st.caption(t(SCENARIO_NOTES[note]))


# --- inputs -------------------------------------------------------------------------------------------


def _criteria(t: Translator) -> tuple[ro.Criterion, ...]:
    """Weight sliders and direction choices for every default criterion."""
    out = []
    for crit in ro.DEFAULT_CRITERIA:
        cols = st.columns([3, 1])
        weight = cols[0].slider(t(crit.label_id), 0.0, WEIGHT_MAX, float(crit.weight), 0.5, key=f"ro_w_{crit.key}")
        direction = cols[1].selectbox(t("Counts as"), ro.DIRECTIONS, index=ro.DIRECTIONS.index(crit.direction),
                                      key=f"ro_d_{crit.key}", format_func=lambda d: t(ro.DIRECTION_LABELS[d]))
        out.append(replace(crit, weight=weight, direction=direction))
    return tuple(out)


def _missing_rule(t: Translator) -> str | dict[str, str]:
    """The missing-value rule: one for all criteria, or a loaded scenario's rule per criterion."""
    loaded = st.session_state.get(_MISSING_LOADED)
    options = list(ro.MISSING_RULES) + ([PER_CRITERION] if loaded else [])
    choice = st.radio(t("Missing values"), options, horizontal=True, key="ro_missing",
                      format_func=lambda m: t("as in the loaded scenario, per criterion") if m == PER_CRITERION
                      else t(ro.MISSING_LABELS[m]))
    return dict(loaded) if choice == PER_CRITERION and loaded else str(choice)


def _number(col: Any, label: str, key: str, **kwargs: Any) -> float:
    """A number input with the range and default of :data:`LIMIT_INPUTS`."""
    _name, _factor, low, high, whole, default = LIMIT_INPUTS[key]
    if whole:
        return col.number_input(label, int(low), int(high), int(default), key=key, **kwargs)
    return col.number_input(label, float(low), float(high), float(default), key=key, **kwargs)


def _limits(t: Translator) -> ro.Limits | None:
    """Limits from the inputs; None (with the reason shown) when they contradict each other."""
    cols = st.columns(4)
    instructors = _number(cols[0], t("Instructors available"), "ro_instructors")
    per = _number(cols[1], t("Officers per instructor per phase"), "ro_per_instructor")
    phases = _number(cols[2], t("Phases (e.g. years)"), "ro_phases")
    budget = _number(cols[3], t("Budget per phase (million GNF)"), "ro_budget", step=100)
    cols = st.columns(4)
    fixed = _number(cols[0], t("Fixed cost per community (million GNF)"), "ro_fixed")
    per_officer = _number(cols[1], t("Cost per officer trained (million GNF)"), "ro_cost_officer")
    per_10000 = _number(cols[2], t("Officers to train per 10,000 inhabitants"), "ro_per_10000")
    total = _number(cols[3], t("Total budget (million GNF, 0 = no limit)"), "ro_budget_total", step=100)
    cols = st.columns(4)
    low = _number(cols[0], t("Fewest officers per community"), "ro_min_officers")
    high = _number(cols[1], t("Most officers per community (0 = no limit)"), "ro_max_officers")
    if high and high < low:
        st.error(t("The most officers per community is below the fewest."))
        return None
    return ro.Limits(instructors=int(instructors), officers_per_instructor=int(per), phases=int(phases),
                     budget_per_phase=float(budget) * 1e6 if budget else None,
                     budget_total=float(total) * 1e6 if total else None, cost_fixed=float(fixed) * 1e6,
                     cost_per_officer=float(per_officer) * 1e6, officers_per_10000=float(per_10000),
                     min_officers=int(low), max_officers=int(high) if high else None)


def _covering(t: Translator) -> float | None:
    """The maximal-covering option: the distance in km, or None when off."""
    cols = st.columns([3, 1])
    on = cols[0].checkbox(t("Maximal covering: a trained community also covers the units within a distance"),
                          key="ro_cover",
                          help=t("The plan then maximizes the need reached, counting the neighbours a trained "
                                 "community covers. Distance between the units' central points (geodesic)."))
    low, high, default = COVER_KM
    km = cols[1].number_input(t("Covering distance (km)"), low, high, default, step=5.0, key="ro_cover_km",
                              disabled=not on)
    return float(km) if on else None


def _units_picker(t: Translator, label: str, key: str, level: str) -> list[str]:
    options = {k: v for k, v in unit_options().items() if k.startswith(level + ":")}
    chosen = st.multiselect(label, list(options), key=key, format_func=lambda k: unit_label(t, options, k))
    return [k.split(":", 1)[1] for k in chosen]


# --- results ------------------------------------------------------------------------------------------


def _km(t: Translator, km: float) -> str:
    """A distance in the user's number format, without a useless ".0"."""
    return t.n(km, 0 if float(km).is_integer() else 1)


def _phase_color(phase: float) -> str:
    return PHASE_COLORS[min(int(phase) - 1, len(PHASE_COLORS) - 1)]


def _map(t: Translator, result: rx.RolloutResult, level: str) -> None:
    units = result.plan.units
    names = units.set_index("unit_id")["name"]
    shapes = load_display(level, "medium")[["unit_id", "name", "geometry"]].merge(
        units[["unit_id", "phase", "reason", "rank", "reached_phase", "reached_by"]], on="unit_id", how="left")
    tiles = TileConfig.from_env()
    m = make_map(t, tiles=tiles, attributions=(t(boundaries.ATTRIBUTION),))
    basemap.build(load_outline(), t=t, land_fill=0.35 if tiles.url else 1.0).add_to(m)
    via = (shapes["reason"] == "reached").fillna(False).to_numpy(bool)
    labels, colors = [], []
    for n, p, r, k, q, by, v in zip(shapes["name"], shapes["phase"], shapes["reason"], shapes["rank"],
                                    shapes["reached_phase"], shapes["reached_by"], via, strict=True):
        rank = " · " + t("rank {r}", r=int(k) if pd.notna(k) else "–")
        if not isinstance(r, str):
            labels.append(esc(n))
        elif pd.notna(p):
            labels.append(esc(f"{n} — " + t("phase {p}", p=int(p)) + rank))
        elif v:
            labels.append(esc(f"{n} — " + t("reached through {unit} (phase {p})", unit=names.get(by, by),
                                             p=int(q)) + rank))
        else:
            labels.append(esc(f"{n} — " + t(ro.REASON_LABELS[r]) + rank))
        colors.append(_phase_color(p) if pd.notna(p) else _phase_color(q) if v else "#f0f0f0")
    shapes["label"], shapes["color"] = labels, colors
    shapes["opacity"] = [0.35 if v else 0.8 for v in via]
    shapes["dash"] = ["4 3" if v else "" for v in via]
    folium.GeoJson(
        shapes[["label", "color", "opacity", "dash", "geometry"]].to_json(drop_id=True),
        style_function=lambda f: {"fillColor": f["properties"]["color"], "color": "#555", "weight": 0.5,
                                  "fillOpacity": f["properties"]["opacity"],
                                  "dashArray": f["properties"]["dash"] or None},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(m)
    phases = sorted(int(p) for p in units["phase"].dropna().unique())
    entries = [(_phase_color(p), t("phase {p}", p=p)) for p in phases]
    if via.any():
        entries.append(("#c6dbef", t("reached through a neighbour (light shade of its phase)")))
    Legend(t("Rollout phases"), entries + [("#f0f0f0", t("not chosen"))]).add_to(m)
    st_folium(finish(m), key="rollout_map", height=520, use_container_width=True, returned_objects=[])


def _coverage(t: Translator, result: rx.RolloutResult) -> None:
    """Covering variant: what the trained communities reach, and through whom."""
    totals = result.plan.totals
    st.caption(t("Maximal covering within {km} km: a trained community also reaches the units whose central point "
                 "lies within that distance.", km=_km(t, result.plan.coverage_km)))
    cols = st.columns(5)
    cols[0].metric(t("Units trained"), t.n(totals["units"]))
    cols[1].metric(t("Units reached through a neighbour"), t.n(totals["neighbours_reached"]))
    cols[2].metric(t("Population of the units trained"), t.n(totals["population"]))
    cols[3].metric(t("Population reached through neighbours"), t.n(totals["neighbour_population_reached"]))
    cols[4].metric(t("Population reached in all"), t.n(totals["population_reached"]))
    reached = rx.reached_through_neighbours(result, t)
    if reached.empty:
        st.info(t("No unit is reached through a neighbour at this distance: every unit reached is trained."))
        return
    st.markdown("**" + t("Units reached through a neighbour") + "**")
    shown = reached.drop(columns=["reached_by"])
    st.dataframe(shown.rename(columns=lambda c: t(PLAN_COLUMNS.get(c, c))), hide_index=True, width="stretch")


def _result(t: Translator, result: rx.RolloutResult, level: str) -> None:
    plan = result.plan
    st.success(t("Plan {status}: {n} units chosen in {phases} phases ({seconds} s).",
                 status=t(ro.STATUS_LABELS.get(plan.status, plan.status)),
                 n=int(plan.units["selected"].sum()), phases=result.limits.phases,
                 seconds=t.n(plan.seconds, 2)))
    st.caption(t("Population used: {source}.", source=md_text(_population_text(t, result.candidates,
                                                                                result.population_file))))
    phases = plan.phases
    if plan.coverage_km is None:
        phases = phases.drop(columns=["neighbours_reached", "neighbour_population_reached"], errors="ignore")
    st.dataframe(phases.rename(columns=lambda c: t(PHASE_COLUMNS.get(c, c))), hide_index=True, width="stretch")
    if plan.coverage_km is not None:
        _coverage(t, result)
    _map(t, result, level)
    table = rx.plan_table(result, t)
    labels = {f"contrib_{c.key}": t("Score: {criterion}", criterion=t(c.label_id)) for c in result.scores.criteria}
    st.dataframe(table.rename(columns=lambda c: labels.get(c) or t(PLAN_COLUMNS.get(c, c))), hide_index=True,
                 width="stretch")
    unit = st.selectbox(t("Explain a unit's score"), table["unit_id"], key="ro_explain",
                        format_func=lambda u: table.set_index("unit_id").at[u, "name"])
    breakdown = result.scores.breakdown(unit)
    chart = pd.DataFrame({t("Contribution to the score"): breakdown["contribution"].to_numpy()},
                         index=[t(label) for label in breakdown["label_id"]])
    st.bar_chart(chart, horizontal=True, height=280)
    cols = st.columns(4)
    for col, fmt in zip(cols[:3], ("csv", "xlsx", "geojson"), strict=True):
        data, mime = rx.plan_bytes(result, fmt, t)
        col.download_button(t("Plan ({fmt})", fmt=fmt.upper()), data, file_name=f"proximite-deploiement.{fmt}",
                            mime=mime, key=f"ro_dl_{fmt}")
    if cols[3].button(t("Prepare the PDF summary"), key="ro_pdf_prepare"):
        with st.spinner(t("Drawing the map and the summary…")):
            pdf = _pdf(t, result, level, table)
        cols[3].download_button(t("Download the PDF summary"), pdf, file_name="proximite-deploiement.pdf",
                                mime="application/pdf", key="ro_pdf")


def _weight_text(t: Translator, crit: ro.Criterion) -> str:
    return t("{criterion}: weight {weight} ({direction})", criterion=t(crit.label_id), weight=t.n(crit.weight, 1),
             direction=t(ro.DIRECTION_LABELS[crit.direction]))


def _population_note(t: Translator, candidates: pd.DataFrame, level: str, population_file: str | None) -> str:
    """The PDF's caveat on the population figures, for the source and the level actually used."""
    if rx.population_source(candidates) == rx.IMPORTED:
        return t("Population: imported table {file} ({known} of {total} units with a figure); a unit it does not "
                 "give has an unknown population, never zero.", file=population_file or "–",
                 known=t.n(int(candidates["population"].notna().sum())), total=t.n(len(candidates)))
    if level == "prefecture":  # the census's own units: nothing is shared out
        return t("Population: 2014 census per prefecture, final or preliminary results as published. Empty cells "
                 "are unknown, not zero.")
    if "equal" in set(candidates["population_rule"].astype(str)):
        return t("Population: 2014 census per prefecture; sub-prefectures receive equal shares of their "
                 "prefecture (a stated rule that overcounts small sub-prefectures). Empty cells are unknown, not "
                 "zero.")
    return t("Population: 2014 census per prefecture; sub-prefectures receive a share by area (a stated "
             "rule that undercounts towns). Empty cells are unknown, not zero.")


def _unit_names(result: rx.RolloutResult, ids: tuple[str, ...]) -> str:
    """Names of the scenario's units of one list, for the PDF's parameters ("–" when none)."""
    names = result.candidates.set_index("unit_id")["name"]
    return ", ".join(str(names.get(uid, uid)) for uid in ids) or "–"


def _pdf(t: Translator, result: rx.RolloutResult, level: str, table: pd.DataFrame) -> bytes:
    from reports.rollout_summary import rollout_summary

    units = load_display(level, "low")[["unit_id", "geometry"]].merge(
        result.plan.units[["unit_id", "phase", "reason"]], on="unit_id", how="left")
    units["reached"] = units["reason"] == "reached"
    chosen = table[table["phase"].notna()]
    limits, km = result.limits, result.plan.coverage_km
    parameters = [
        (t("Instructors available"), t.n(limits.instructors)),
        (t("Officers per instructor per phase"), t.n(limits.officers_per_instructor)),
        (t("Phases (e.g. years)"), t.n(limits.phases)),
        (t("Budget per phase (million GNF)"),
         t.n(limits.budget_per_phase / 1e6) if limits.budget_per_phase else "–"),
        (t("Total budget (million GNF, 0 = no limit)"),
         t.n(limits.budget_total / 1e6) if limits.budget_total else "–"),
        (t("Fixed cost per community (million GNF)"), t.n(limits.cost_fixed / 1e6)),
        (t("Cost per officer trained (million GNF)"), t.n(limits.cost_per_officer / 1e6, 1)),
        (t("Officers to train per 10,000 inhabitants"), t.n(limits.officers_per_10000, 1)),
        (t("Criteria and weights"), "; ".join(_weight_text(t, c) for c in result.scores.criteria if c.weight)),
        (t("Population source"), _population_text(t, result.candidates, result.population_file)),
        (t("Maximal covering"), t("{km} km", km=_km(t, km)) if km is not None else t("not used")),
        *[(label, _unit_names(result, getattr(result.scenario, name)))
          for name, label in (("covered", t("Already covered")), ("include", t("Must be chosen")),
                              ("exclude", t("Must not be chosen")))],
        (t("Plan"), t(ro.STATUS_LABELS.get(result.plan.status, result.plan.status))),
    ]
    notes = [_population_note(t, result.candidates, result.level, result.population_file),
             t("Costs and officers per 10,000 inhabitants are planning assumptions set on the page.")]
    if km is not None:
        notes.append(t("Maximal covering: a trained community also reaches the units whose central point lies "
                       "within {km} km of its own (geodesic distance); those units are reached, not trained.",
                       km=_km(t, km)))
    reached = rx.reached_through_neighbours(result, t) if km is not None else None
    return rollout_summary(scenario=result.scenario.name, level_label=t(LEVELS[level]), units=units,
                           phases=result.plan.phases, plan=chosen, parameters=parameters, notes=notes, t=t,
                           generated_at=datetime.now(UTC), demo=has_demo(get_store().url), reached=reached)


def render() -> None:
    t = translator()
    st.title(t("Rollout planner"))
    demo_notice(t)
    st.caption(t("Rank the candidate units on weighted criteria, see how stable each rank is, and choose the "
                 "communities per phase that cover the most need within the instructors and the budget."))
    cols = st.columns([1, 2])
    level = cols[0].radio(t("Candidate units"), list(LEVELS), key="ro_level", horizontal=True,
                          format_func=lambda lv: t(LEVELS[lv]))
    period = cols[1].date_input(t("Data period"), value=(date.today() - timedelta(days=365), date.today()),
                                key="ro_period", format="DD/MM/YYYY")
    start, end = (period if isinstance(period, (list, tuple)) and len(period) == 2
                  else (date.today() - timedelta(days=365), date.today()))
    with st.expander(t("Population"), expanded=False):
        rule, imported = _population(t, level)
        summary = st.container()
    with st.spinner(t("Assembling the indicators…")):
        candidates = _candidates(get_store().url, tuple(sorted(store_counts(get_store().url).items())), level,
                                 start, end, rule, imported.sha256 if imported else "",
                                 imported.table if imported else None, current_viewer())
    _population_summary(t, summary, candidates, imported)
    with st.expander(t("Load a saved scenario"), expanded=False):
        _scenario_loader(t)
    with st.expander(t("Criteria and weights"), expanded=False):
        criteria = _criteria(t)
        method = st.radio(t("Normalization"), ro.METHODS, horizontal=True, key="ro_method",
                          format_func=lambda m: t(ro.METHOD_LABELS[m]))
        missing = _missing_rule(t)
    with st.expander(t("Limits and constraints"), expanded=True):
        limits = _limits(t)
        coverage_km = _covering(t)
        covered = _units_picker(t, t("Already covered"), "ro_covered", level)
        include = _units_picker(t, t("Must be chosen"), "ro_include", level)
        exclude = _units_picker(t, t("Must not be chosen"), "ro_exclude", level)
    if limits is None:
        return
    name = st.text_input(t("Scenario name"), value=t("Scenario 1"), key="ro_name")
    if not name.strip():
        st.warning(t("Give the scenario a name."))
        return
    scenario = ro.Scenario(name=name, weights={c.key: c.weight for c in criteria},
                           directions={c.key: c.direction for c in criteria}, method=method, missing=missing,
                           limits=limits, coverage_km=coverage_km, level=level, covered=tuple(covered),
                           include=tuple(include), exclude=tuple(exclude))
    if st.button(t("Plan the rollout"), type="primary", key="ro_run"):
        try:
            with st.spinner(t("Solving…")):
                result = rx.plan_rollout(candidates, scenario, limits, covered=covered, include=include,
                                         exclude=exclude, draws=300,
                                         population_file=imported.file_name if imported else None)
        except ro.InfeasiblePlan as exc:
            st.error(t("No plan fits the limits ({limit}): {detail}",
                       limit=t(ro.LIMIT_LABELS.get(exc.limit, exc.limit)), detail=str(exc)))
            return
        except ValueError as exc:  # every weight 0, a must-include unit without population...
            st.error(t("No plan can be made with these settings: {detail}", detail=md_text(exc)))
            return
        st.session_state.setdefault(_SCENARIOS, {})[name] = result
        st.session_state["ro_shown"] = name  # show the plan just made, not the one shown before
    results: dict[str, rx.RolloutResult] = st.session_state.get(_SCENARIOS, {})
    if not results:
        st.info(t("Set the weights and limits, then plan the rollout."))
        return
    shown = st.selectbox(t("Scenario shown"), list(results), index=len(results) - 1, key="ro_shown")
    _result(t, results[shown], level)
    st.download_button(t("Scenario (JSON)"), results[shown].scenario.to_json(),
                       file_name=f"proximite-scenario-{shown}.json", mime="application/json", key="ro_json")
    if len(results) >= 2:
        st.subheader(t("Compare scenarios"))
        units, totals = ro.compare({k: r.plan for k, r in results.items()})
        st.dataframe(totals, hide_index=True, width="stretch")
        st.dataframe(units, hide_index=True, width="stretch")
