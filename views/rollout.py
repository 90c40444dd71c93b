"""Rollout planner page ("Planification"): which communities get community policing next.

Weighted criteria (sliders) rank the candidate units, each score shown as its
contributions; random weight changes show how stable each rank is; an exact
mixed-integer programme (PuLP + CBC) chooses the units per phase under the
instructors and the budget. Scenarios are saved by name in the session and can
be downloaded as JSON and compared side by side.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import folium

from exchange import rollout as rx
from geo import rollout as ro
from geo.boundaries import load_display, load_outline
from i18n import N_, Translator
from layers import basemap, boundaries
from layers.base import Legend, esc
from layers.mapframe import TileConfig, finish, make_map
from views.common import demo_notice, get_store, has_demo, store_counts, translator
from views.incident_filters import unit_label, unit_options

LEVELS = {"prefecture": N_("Prefectures"), "subprefecture": N_("Sub-prefectures")}
PHASE_COLORS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
_SCENARIOS = "rollout_scenarios"
PHASE_COLUMNS = {"phase": N_("Phase"), "units": N_("Units"), "officers": N_("Officers to train"),
                 "cost": N_("Cost (GNF)"), "population": N_("Population"),
                 "population_reached": N_("Population reached"), "incidents": N_("Incidents"),
                 "incident_share": N_("Share of incidents"), "capacity_used": N_("Instructor capacity used"),
                 "budget_used": N_("Budget used")}
PLAN_COLUMNS = {"phase": N_("Phase"), "unit_id": N_("Id"), "name": N_("Unit"), "prefecture": N_("Prefecture"),
                "rank": N_("Rank"), "rank_min": N_("Best rank (weights ±20 %)"),
                "rank_max": N_("Worst rank (weights ±20 %)"), "score": N_("Score"), "reason": N_("Why"),
                "binding_limits": N_("Binding limits"), "officers": N_("Officers to train"),
                "cost_gnf": N_("Cost (GNF)"), "population": N_("Population"), "incidents": N_("Incidents"),
                "reached_phase": N_("Reached in phase"), "reached_by": N_("Reached by")}


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def _candidates(store_url: str, version: tuple, level: str, start: date, end: date) -> pd.DataFrame:
    return rx.candidate_table(get_store(), level, start=start, end=end)


def _criteria(t: Translator) -> tuple[ro.Criterion, ...]:
    """Weight sliders and direction choices for every default criterion."""
    out = []
    for crit in ro.DEFAULT_CRITERIA:
        cols = st.columns([3, 1])
        weight = cols[0].slider(t(crit.label_id), 0.0, 5.0, float(crit.weight), 0.5, key=f"ro_w_{crit.key}")
        direction = cols[1].selectbox(t("Counts as"), ro.DIRECTIONS, index=ro.DIRECTIONS.index(crit.direction),
                                      key=f"ro_d_{crit.key}", format_func=lambda d: t(ro.DIRECTION_LABELS[d]))
        out.append(replace(crit, weight=weight, direction=direction))
    return tuple(out)


def _limits(t: Translator) -> ro.Limits:
    cols = st.columns(4)
    instructors = cols[0].number_input(t("Instructors available"), 0, 1000, 51, key="ro_instructors")
    per = cols[1].number_input(t("Officers per instructor per phase"), 1, 500, 25, key="ro_per_instructor")
    phases = cols[2].number_input(t("Phases (e.g. years)"), 1, 5, 3, key="ro_phases")
    budget = cols[3].number_input(t("Budget per phase (million GNF)"), 0, 1_000_000, 1500, step=100,
                                  key="ro_budget")
    cols = st.columns(4)
    fixed = cols[0].number_input(t("Fixed cost per community (million GNF)"), 0.0, 10_000.0, 50.0, key="ro_fixed")
    per_officer = cols[1].number_input(t("Cost per officer trained (million GNF)"), 0.0, 1000.0, 1.0,
                                       key="ro_cost_officer")
    per_10000 = cols[2].number_input(t("Officers to train per 10,000 inhabitants"), 0.1, 100.0, 10.0,
                                     key="ro_per_10000")
    return ro.Limits(instructors=int(instructors), officers_per_instructor=int(per), phases=int(phases),
                     budget_per_phase=float(budget) * 1e6 if budget else None, cost_fixed=float(fixed) * 1e6,
                     cost_per_officer=float(per_officer) * 1e6, officers_per_10000=float(per_10000))


def _units_picker(t: Translator, label: str, key: str, level: str) -> list[str]:
    options = {k: v for k, v in unit_options().items() if k.startswith(level + ":")}
    chosen = st.multiselect(label, list(options), key=key, format_func=lambda k: unit_label(t, options, k))
    return [k.split(":", 1)[1] for k in chosen]


def _map(t: Translator, result: rx.RolloutResult, level: str) -> None:
    units = result.plan.units
    shapes = load_display(level, "medium")[["unit_id", "name", "geometry"]].merge(
        units[["unit_id", "phase", "reason", "rank"]], on="unit_id", how="left")
    tiles = TileConfig.from_env()
    m = make_map(t, tiles=tiles, attributions=(t(boundaries.ATTRIBUTION),))
    basemap.build(load_outline(), t=t, land_fill=0.35 if tiles.url else 1.0).add_to(m)
    shapes["label"] = [esc(f"{n} — " + (t("phase {p}", p=int(p)) if pd.notna(p) else t(ro.REASON_LABELS[r]))
                           + " · " + t("rank {r}", r=int(k) if pd.notna(k) else "–"))
                       if isinstance(r, str) else esc(n)
                       for n, p, r, k in zip(shapes["name"], shapes["phase"], shapes["reason"], shapes["rank"],
                                             strict=True)]
    shapes["color"] = [PHASE_COLORS[min(int(p) - 1, len(PHASE_COLORS) - 1)] if pd.notna(p) else "#f0f0f0"
                       for p in shapes["phase"]]
    folium.GeoJson(
        shapes[["label", "color", "geometry"]].to_json(drop_id=True),
        style_function=lambda f: {"fillColor": f["properties"]["color"], "color": "#555", "weight": 0.5,
                                  "fillOpacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(m)
    phases = sorted(int(p) for p in units["phase"].dropna().unique())
    Legend(t("Rollout phases"), [(PHASE_COLORS[min(p - 1, len(PHASE_COLORS) - 1)], t("phase {p}", p=p))
                                 for p in phases] + [("#f0f0f0", t("not chosen"))]).add_to(m)
    st_folium(finish(m), key="rollout_map", height=520, use_container_width=True, returned_objects=[])


def _result(t: Translator, result: rx.RolloutResult, level: str) -> None:
    plan = result.plan
    st.success(t("Plan {status}: {n} units chosen in {phases} phases ({seconds} s).",
                 status=t(ro.STATUS_LABELS.get(plan.status, plan.status)),
                 n=int(plan.units["selected"].sum()), phases=result.limits.phases,
                 seconds=t.n(plan.seconds, 2)))
    phases = plan.phases.rename(columns=lambda c: t(PHASE_COLUMNS.get(c, c)))
    st.dataframe(phases, hide_index=True, width="stretch")
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


def _pdf(t: Translator, result: rx.RolloutResult, level: str, table: pd.DataFrame) -> bytes:
    from reports.rollout_summary import rollout_summary

    units = load_display(level, "low")[["unit_id", "geometry"]].merge(
        result.plan.units[["unit_id", "phase"]], on="unit_id", how="left")
    chosen = table[table["phase"].notna()]
    limits = result.limits
    parameters = [
        (t("Instructors available"), t.n(limits.instructors)),
        (t("Officers per instructor per phase"), t.n(limits.officers_per_instructor)),
        (t("Phases (e.g. years)"), t.n(limits.phases)),
        (t("Budget per phase (million GNF)"),
         t.n(limits.budget_per_phase / 1e6) if limits.budget_per_phase else "–"),
        (t("Fixed cost per community (million GNF)"), t.n(limits.cost_fixed / 1e6)),
        (t("Cost per officer trained (million GNF)"), t.n(limits.cost_per_officer / 1e6, 1)),
        (t("Officers to train per 10,000 inhabitants"), t.n(limits.officers_per_10000, 1)),
        (t("Criteria and weights"), "; ".join(_weight_text(t, c) for c in result.scores.criteria if c.weight)),
        (t("Plan"), t(ro.STATUS_LABELS.get(result.plan.status, result.plan.status))),
    ]
    notes = [t("Population: 2014 census per prefecture; sub-prefectures receive a share by area (a stated "
               "rule that undercounts towns). Empty cells are unknown, not zero."),
             t("Costs and officers per 10,000 inhabitants are planning assumptions set on the page.")]
    return rollout_summary(scenario=result.scenario.name, level_label=t(LEVELS[level]), units=units,
                           phases=result.plan.phases, plan=chosen, parameters=parameters, notes=notes, t=t,
                           generated_at=datetime.now(UTC), demo=has_demo(get_store().url))


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
    with st.spinner(t("Assembling the indicators…")):
        candidates = _candidates(get_store().url, tuple(sorted(store_counts(get_store().url).items())), level,
                                 start, end)
    with st.expander(t("Criteria and weights"), expanded=False):
        criteria = _criteria(t)
        method = st.radio(t("Normalization"), ro.METHODS, horizontal=True, key="ro_method",
                          format_func=lambda m: t(ro.METHOD_LABELS[m]))
        missing = st.radio(t("Missing values"), ro.MISSING_RULES, horizontal=True, key="ro_missing",
                           format_func=lambda m: t(ro.MISSING_LABELS[m]))
    with st.expander(t("Limits and constraints"), expanded=True):
        limits = _limits(t)
        covered = _units_picker(t, t("Already covered"), "ro_covered", level)
        include = _units_picker(t, t("Must be chosen"), "ro_include", level)
        exclude = _units_picker(t, t("Must not be chosen"), "ro_exclude", level)
    name = st.text_input(t("Scenario name"), value=t("Scenario 1"), key="ro_name")
    scenario = ro.Scenario(name=name, weights={c.key: c.weight for c in criteria},
                           directions={c.key: c.direction for c in criteria}, method=method, missing=missing,
                           limits=limits)
    if st.button(t("Plan the rollout"), type="primary", key="ro_run"):
        try:
            with st.spinner(t("Solving…")):
                result = rx.plan_rollout(candidates, scenario, limits, covered=covered, include=include,
                                         exclude=exclude, draws=300)
        except ro.InfeasiblePlan as exc:
            st.error(t("No plan fits the limits ({limit}): {detail}",
                       limit=t(ro.LIMIT_LABELS.get(exc.limit, exc.limit)), detail=str(exc)))
            return
        st.session_state.setdefault(_SCENARIOS, {})[name] = result
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
