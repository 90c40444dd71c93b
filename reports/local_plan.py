"""The local security plan as a printable A4 document, in French or English.

Cover, diagnosis (figures, a map of the unit's hot spots and black spots, the
council's own findings), priorities (map with rank numbers and table), action
plan (one table per year of the period and the budget per year), signatures,
and the data sources. Greys and hatching only, so a black-and-white printer
keeps everything readable. Inputs are plain dicts and frames so this module
stays free of storage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

import geopandas as gpd
import shapely

from exchange.hotspots import hexagons
from exchange.plans import (
    KIND_LABELS,
    PLAN_STATUS_LABELS,
    PRIORITY_THEMES,
    RAISED_BY_LABELS,
    SCOPE_NOTES,
    STATUS_LABELS,
)
from geo.boundaries import ATTRIBUTION, CENSUS_SOURCE
from geo.plans import actions_in_year, budget_by_year, plan_years
from geo.taxonomy import default_taxonomy
from i18n import N_, Translator
from reports.mapimage import LegendEntry, LineLayer, PointLayer, PolygonLayer, render_map
from reports.pdf import PdfDocument, Signatory

TITLE = N_("Local security plan")
LEVEL_LABELS = {"subprefecture": N_("Commune / sub-prefecture"), "neighbourhood": N_("Neighbourhood")}
NOTE_TITLES = {"perceived_insecurity": N_("Perceived insecurity"),
               "consultations": N_("Consultations and safety walks"),
               "existing_responses": N_("Existing responses")}
CENSUS_LABELS = {"final": N_("final result"), "preliminary": N_("preliminary result")}
RULE_LABELS = {"area": N_("area"), "equal": N_("equal shares")}
TREND_LABELS = {"rising": N_("rising"), "falling": N_("falling"), "stable": N_("stable")}
#: Signature lines printed on a draft, to be signed at the adoption meeting.
DEFAULT_SIGNERS = (N_("Mayor, chair of the council"), N_("Police station commander"),
                   N_("Women's representative"), N_("Youth representative"))
_UNIT = {"facecolor": "none", "edgecolor": "#000000", "linewidth": 1.2}


def _unit_frame(shape: shapely.Geometry) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["unit"]}, geometry=[shape], crs="EPSG:4326")


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and str(value).strip() != ""


def _date(t: Translator, value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return t.d(pd.Timestamp(value).date(), "medium")


def category_label(code: str | None, t: Translator) -> str:
    """A priority's category in words: the incident taxonomy's label, or one of the plan's own themes."""
    if not _filled(code):
        return "–"
    if code in PRIORITY_THEMES:
        return t(PRIORITY_THEMES[code])
    return default_taxonomy().label(code, t.lang)


def _raised_by(code: str | None, t: Translator) -> str:
    label = RAISED_BY_LABELS.get(code) if isinstance(code, str) else None
    return t(label) if label else "–"


def diagnosis_map(diagnosis: Mapping[str, Any], shape: shapely.Geometry, t: Translator, *, demo: bool) -> bytes:
    """The unit, its significant hot spot cells (numbered) and its black spots."""
    layers: list = [PolygonLayer(_unit_frame(shape), **_UNIT)]
    legend = [LegendEntry(t("Plan unit"), color="none", edgecolor="#000000", linewidth=1.2)]
    top = diagnosis["hotspots"]["top"]
    if top:
        cells = hexagons(pd.DataFrame({"cell": [h["cell"] for h in top]}))
        layers.append(PolygonLayer(cells, facecolor="#404040", hatch="////", hatchcolor="#ffffff",
                                   edgecolor="#000000", linewidth=0.4))
        layers.append(PointLayer(cells, color="#000000", size=9, labels=[str(h["rank"]) for h in top]))
        legend.append(LegendEntry(t("Hot spot (Gi*), with its rank"), color="#404040", hatch="////",
                                  hatchcolor="#ffffff"))
    return render_map(layers, size_mm=(180, 100), context_level="subprefecture", labels=True, legend=legend,
                      bounds=shapely.bounds(shape).tolist(), watermark=t("DEMO DATA") if demo else None)


def priorities_map(priorities: gpd.GeoDataFrame, shape: shapely.Geometry, t: Translator, *, demo: bool) -> bytes:
    """The unit and its priorities: areas hatched, lines thick, points as markers, all numbered by rank."""
    layers: list = [PolygonLayer(_unit_frame(shape), **_UNIT)]
    legend = [LegendEntry(t("Plan unit"), color="none", edgecolor="#000000", linewidth=1.2)]
    kinds = priorities["kind"].to_numpy() if len(priorities) else []
    areas = priorities[kinds == "area"] if len(priorities) else priorities
    lines = priorities[kinds == "line"] if len(priorities) else priorities
    if len(areas):
        layers.append(PolygonLayer(areas, facecolor="#bdbdbd", hatch="\\\\\\\\", hatchcolor="#525252",
                                   edgecolor="#000000", linewidth=0.6))
        legend.append(LegendEntry(t("Priority area"), color="#bdbdbd", hatch="\\\\\\\\", hatchcolor="#525252"))
    if len(lines):
        layers.append(LineLayer(lines, color="#000000", width=2.2, linestyle="--"))
        legend.append(LegendEntry(t("Priority stretch (road, path)"), kind="line", color="#000000",
                                  edgecolor="#000000", linewidth=2.2))
    if len(priorities):
        layers.append(PointLayer(priorities, color="#000000", size=10,
                                 labels=[str(int(r)) for r in priorities["rank"]]))
        legend.append(LegendEntry(t("Priority (number = rank)"), kind="point", color="#000000", size=8))
    box = shapely.bounds(shapely.union_all([shape, *priorities.geometry.to_numpy()])) if len(priorities) \
        else shapely.bounds(shape)
    return render_map(layers, size_mm=(180, 110), context_level="subprefecture", labels=True, legend=legend,
                      bounds=box.tolist(), watermark=t("DEMO DATA") if demo else None)


def _diagnosis(doc: PdfDocument, plan: Mapping[str, Any], diagnosis: Mapping[str, Any], shape: shapely.Geometry,
               t: Translator, demo: bool) -> None:
    doc.heading(t("1. Local security diagnosis"))
    doc.paragraph(t("Figures from {start} to {end}, computed by Proximité from the records of the unit.",
                    start=_date(t, diagnosis["start"]), end=_date(t, diagnosis["end"])), size=8.5, italic=True)
    scope = SCOPE_NOTES.get(diagnosis.get("scope_note") or "")
    if scope:
        doc.paragraph(t(scope), size=8.5, italic=True)
    inc, crashes, prog = diagnosis["incidents"], diagnosis["crashes"], diagnosis["programme"]
    population = diagnosis.get("population")
    pairs = [
        (t("Population (estimate)"), t("{n} inhabitants (2014 census, {result}, shared by {rule})",
                                       n=t.n(round(population)),
                                       result=t(CENSUS_LABELS.get(diagnosis.get("census_result"), "–")),
                                       rule=t(RULE_LABELS.get(diagnosis.get("population_rule"), "–")))
         if population else "–"),
        (t("Incidents reported"), t.n(inc["total"])),
        (t("Incidents per 10,000 inhabitants"), t.n(inc["per_10000"], 1) if inc.get("per_10000") else "–"),
        (t("Road crashes"), t("{n} ({fatal} fatal, {serious} serious); {killed} killed, {injured} injured",
                              n=t.n(crashes["total"]), fatal=t.n(crashes["fatal"]), serious=t.n(crashes["serious"]),
                              killed=t.n(crashes["killed"]), injured=t.n(crashes["injured"]))),
        (t("Council"), t("{n} council(s), {m} meeting(s) in the period", n=t.n(prog.get("councils") or 0),
                         m=t.n(prog.get("meetings") or 0))),
        (t("Police at school"), t("{n} school(s) visited, {s} students reached",
                                  n=t.n(prog.get("schools_visited") or 0), s=t.n(prog.get("students_reached") or 0))),
        (t("Women's visitation days"), t("{n} day(s), {w} women", n=t.n(prog.get("women_days") or 0),
                                         w=t.n(prog.get("women") or 0))),
        (t("Officers trained in community policing"), t.n(prog.get("officers_trained") or 0)),
    ]
    doc.key_values(pairs)
    if inc.get("suppressed"):
        doc.paragraph(t("Counts of sensitive incidents below {n} are not shown, so that no victim can be "
                        "identified.", n=inc.get("threshold", 5)), size=8, italic=True)
    doc.image(diagnosis_map(diagnosis, shape, t, demo=demo), width_mm=180,
              caption=t("Hot spots of the period inside the unit (Getis-Ord Gi*, 95 % confidence or more)."))
    periods = diagnosis["periods"]
    headers = [t("Category")] + [f"{_date(t, a)} – {_date(t, b)}" for a, b in periods] + [t("Total"), t("Trend")]
    rows = [[c["label"], *c["counts"], c["total"], t(TREND_LABELS.get(c["trend"], c["trend"]))]
            for c in inc["by_category"]]
    doc.heading(t("Incidents by category and period"), level=2)
    if rows:
        n = len(periods)
        widths = [48.0] + [20.0] * n + [16.0, 20.0]
        doc.table(headers, rows, widths_mm=widths if sum(widths) <= doc.width_mm else None, digits=0)
    else:
        doc.paragraph(t("No incident recorded in the period."))
    if diagnosis["hotspots"]["top"]:
        doc.heading(t("Hot spots"), level=2)
        doc.table([t("Rank"), t("Place"), t("Incidents"), t("z-score")],
                  [[h["rank"], h["place"], h["count"], h["gi_z"]] for h in diagnosis["hotspots"]["top"]],
                  widths_mm=[15, 105, 30, 30])
    if crashes["blackspots"]:
        doc.heading(t("Road black spots"), level=2)
        doc.table([t("Rank"), t("Place"), t("Crashes"), t("Fatal"), t("Score (EPDO)")],
                  [[b["rank"], b["place"], b["crashes"], b["fatal"], b["epdo"]] for b in crashes["blackspots"]],
                  widths_mm=[15, 95, 25, 20, 25], digits=0)
    notes = plan.get("notes") or {}
    for key, label in NOTE_TITLES.items():
        doc.heading(t(label), level=2)
        doc.paragraph(notes.get(key) or t("(to be completed by the council)"), size=9)


def _priorities(doc: PdfDocument, priorities: gpd.GeoDataFrame, shape: shapely.Geometry, t: Translator,
                demo: bool) -> None:
    if len(priorities) and doc.remaining_mm < 140:  # the heading goes with its map
        doc.page_break()
    doc.heading(t("2. Priorities"))
    if not len(priorities):
        doc.paragraph(t("No priority yet."))
        return
    doc.image(priorities_map(priorities, shape, t, demo=demo), width_mm=180,
              caption=t("Priorities of the plan; the number is the rank."))
    rows = [[int(r["rank"]), r["title"], category_label(r.get("category"), t), _raised_by(r.get("raised_by"), t),
             t(KIND_LABELS.get(r["kind"], r["kind"])), r.get("description") or ""]
            for r in priorities.to_dict("records")]
    doc.table([t("Rank"), t("Priority"), t("Category"), t("Raised by"), t("Shape"), t("Description")], rows,
              widths_mm=[12, 38, 25, 27, 16, 62], align=["R", "L", "L", "L", "L", "L"])


def _actions(doc: PdfDocument, plan: Mapping[str, Any], actions: pd.DataFrame, priorities: pd.DataFrame,
             t: Translator) -> None:
    doc.heading(t("3. Action plan"))
    if actions.empty:
        doc.paragraph(t("No action yet."))
        return
    ranks = dict(zip(priorities["id"], priorities["rank"], strict=True))
    years = plan_years(pd.Timestamp(plan["period_start"]).date(), pd.Timestamp(plan["period_end"]).date())
    for year in years:
        part = actions_in_year(actions, year)
        doc.heading(t("Year {year}", year=year), level=2)
        if part.empty:
            doc.paragraph(t("No action in {year}.", year=year), size=8.5)
            continue
        rows = []
        for a in part.to_dict("records"):
            indicator = a["indicator"] if _filled(a.get("indicator")) else "–"
            if _filled(a.get("indicator")) and (pd.notna(a.get("baseline")) or pd.notna(a.get("target"))):
                indicator = t("{indicator}: {baseline} → {target}", indicator=a["indicator"],
                              baseline=t.n(a["baseline"]) if pd.notna(a.get("baseline")) else "–",
                              target=t.n(a["target"]) if pd.notna(a.get("target")) else "–")
            priority = ranks.get(a["priority_id"]) if pd.notna(a.get("priority_id")) else None
            rows.append([str(int(priority)) if priority is not None else "–", a["title"],
                         a["responsible"] + (f" ({a['partners']})" if _filled(a.get("partners")) else ""),
                         f"{_date(t, a['start_on'])} – {_date(t, a['end_on'])}",
                         a["budget_gnf"], indicator, t(STATUS_LABELS.get(a["status"], a["status"]))])
        doc.table([t("Prio."), t("Action"), t("Responsible (partners)"), t("Dates"), t("Budget (GNF)"),
                   t("Indicator: baseline → target"), t("Status")], rows,
                  widths_mm=[11, 40, 30, 27, 20, 35, 17], align=["C", "L", "L", "L", "R", "L", "L"], digits=0)
    if len(years) > 1:
        doc.heading(t("Budget per year (GNF)"), level=2)
        spread = budget_by_year(actions, years)
        sources = actions["funding_source"].fillna(t("not stated"))
        table = spread.groupby(sources.to_numpy()).sum(min_count=1)
        rows = [[source, *row.tolist(), row.sum()] for source, row in table.iterrows()]
        rows.append([t("Total"), *spread.sum(min_count=1).tolist(), spread.to_numpy().sum()])
        doc.table([t("Source of funds"), *[str(y) for y in years], t("Total")], rows, digits=0)
        doc.paragraph(t("An action spanning several years is counted in each year in proportion to its days."),
                      size=7.5, italic=True)


def plan_pdf(plan: Mapping[str, Any], *, diagnosis: Mapping[str, Any], priorities: gpd.GeoDataFrame,
             actions: pd.DataFrame, shape: shapely.Geometry, t: Translator, generated_at: datetime,
             signatories: Sequence[Mapping[str, str]] = ()) -> bytes:
    """The whole plan as PDF bytes (see the module docstring); ``diagnosis`` from :func:`exchange.plans.diagnosis`
    (the frozen one for an adopted plan)."""
    demo = bool(diagnosis.get("demo"))
    doc = PdfDocument(t, title=f"{t(TITLE)} – {plan['unit_name']}", generated_at=generated_at,
                      footer_note=t(ATTRIBUTION))
    doc.title(t(TITLE))
    doc.subtitle(f"{plan['unit_name']} · {_date(t, plan['period_start'])} – {_date(t, plan['period_end'])}")
    status = t(PLAN_STATUS_LABELS.get(plan["status"], plan["status"]))
    pairs = [(t("Plan"), plan["title"]), (t("Unit"), f"{plan['unit_name']} ({t(LEVEL_LABELS[plan['unit_level']])})"),
             (t("Period"), f"{_date(t, plan['period_start'])} – {_date(t, plan['period_end'])}"),
             (t("Version"), t("version {n} · {status}", n=int(plan["version_no"]), status=status))]
    if plan.get("adopted_on"):
        pairs.append((t("Adopted on"), _date(t, plan["adopted_on"])))
    doc.key_values(pairs)
    if plan["status"] == "draft":
        doc.note(t("Draft: this plan has not been adopted yet."))
    if demo:
        doc.note(t("DEMO DATA: the figures of this document come from synthetic demonstration data."))
    _diagnosis(doc, plan, diagnosis, shape, t, demo)
    _priorities(doc, priorities, shape, t, demo)
    _actions(doc, plan, actions, priorities, t)
    doc.heading(t("4. Adoption and signatures"))
    if plan["status"] != "draft" and signatories:
        doc.paragraph(t("Adopted by the Local Security and Crime Prevention Council on {day}.",
                        day=_date(t, plan.get("adopted_on"))))
        doc.signatures([Signatory(s["name"], s.get("role", "")) for s in signatories])
    else:
        doc.signatures([Signatory("", t(role)) for role in DEFAULT_SIGNERS], per_row=2)
    doc.heading(t("5. Data sources"))
    doc.bullets([t(ATTRIBUTION), t("Population: {source}.", source=CENSUS_SOURCE),
                 t("Incidents, road crashes and programme activities: records entered or imported in Proximité."),
                 t("Hot spots: Getis-Ord Gi* on H3 cells (resolution {r}), neighbours at distance 1, "
                   "false discovery rate correction.", r=diagnosis["hotspots"]["resolution"]),
                 t("Road black spots: crashes weighted by severity (fatal 10, serious 5, slight 1).")])
    return doc.output()
