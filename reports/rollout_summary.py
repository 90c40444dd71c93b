"""PDF summary of a rollout plan for a planning meeting: map of phases, totals, the chosen units and why.

A4, black-and-white friendly (phases told apart by grey level and hatching), in
the translator's language. Inputs are the plain frames of ``geo.rollout.Plan``
so this module stays free of storage and of the solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

import geopandas as gpd

from geo.boundaries import ATTRIBUTION
from i18n import N_, Translator
from reports.mapimage import LegendEntry, PolygonLayer, render_map
from reports.pdf import PdfDocument

#: Phase fills, dark to light so they stay apart in greyscale; hatching doubles the cue.
PHASE_FILLS = ("#08306b", "#2171b5", "#6baed6", "#c6dbef", "#deebf7")
PHASE_HATCHES = ("////", "\\\\\\\\", "..", None, None)
#: Units reached through a trained neighbour (covering variant): light grey, dotted, so they never pass for trained.
REACHED_FILL, REACHED_HATCH = "#e6e6e6", "xx"
TITLE = N_("Community policing rollout plan")


def rollout_summary(*, scenario: str, level_label: str, units: gpd.GeoDataFrame, phases: pd.DataFrame,
                    plan: pd.DataFrame, parameters: Sequence[tuple[str, str]], notes: Sequence[str],
                    t: Translator, generated_at: datetime, demo: bool,
                    reached: pd.DataFrame | None = None) -> bytes:
    """The plan as a PDF.

    ``units``: the candidate units' shapes (EPSG:4326) with ``unit_id`` and ``phase`` (NaN = not
    chosen); ``phases``: one row per phase (phase, units, officers, cost, population, incident share);
    ``plan``: the chosen units in order with columns phase, name, prefecture, rank, score, officers,
    cost_gnf, reason (already in words); ``parameters``/``notes``: translated (label, value) pairs
    and sentences. ``reached`` (covering variant only): the units reached through a trained
    neighbour, with columns reached_phase, name, prefecture, reached_by_name, population; ``units``
    then also has a boolean ``reached`` column for the map.
    """
    doc = PdfDocument(t, title=t(TITLE), generated_at=generated_at,
                      footer_note=t(ATTRIBUTION))
    doc.title(t(TITLE))
    subtitle = t("Scenario “{name}” · {level}", name=scenario, level=level_label)
    if demo:
        subtitle += " · " + t("DEMO DATA")
    doc.subtitle(subtitle)
    chosen = units[units["phase"].notna()]
    via = (units["reached"].fillna(False).astype(bool) if "reached" in units.columns
           else pd.Series(False, index=units.index))
    layers = [PolygonLayer(units[units["phase"].isna() & ~via], facecolor="#ffffff", edgecolor="#999999",
                           linewidth=0.2)]
    if via.any():
        layers.append(PolygonLayer(units[via], facecolor=REACHED_FILL, hatch=REACHED_HATCH, hatchcolor="#666666",
                                   edgecolor="#999999", linewidth=0.2))
    legend = []
    for i, phase in enumerate(sorted(int(p) for p in chosen["phase"].unique())):
        part = chosen[chosen["phase"] == phase]
        fill, hatch = PHASE_FILLS[min(i, len(PHASE_FILLS) - 1)], PHASE_HATCHES[min(i, len(PHASE_HATCHES) - 1)]
        layers.append(PolygonLayer(part, facecolor=fill, hatch=hatch, hatchcolor="#ffffff", edgecolor="#333333",
                                   linewidth=0.3))
        legend.append(LegendEntry(t("phase {p}", p=phase), color=fill, hatch=hatch, hatchcolor="#ffffff"))
    if via.any():
        legend.append(LegendEntry(t("reached through a neighbour"), color=REACHED_FILL, hatch=REACHED_HATCH,
                                  hatchcolor="#666666", edgecolor="#999999"))
    legend.append(LegendEntry(t("not chosen"), color="#ffffff", edgecolor="#999999"))
    png = render_map(layers, size_mm=(180, 110), context_level="prefecture", labels=True, legend=legend,
                     legend_title=t("Rollout phases"), watermark=t("DEMO DATA") if demo else None)
    doc.image(png, width_mm=180, caption=t("Units chosen per phase."))
    doc.heading(t("Totals per phase"))
    headers = [t("Phase"), t("Units"), t("Officers to train"), t("Cost (GNF)"), t("Population"),
               t("Share of incidents")]
    rows = [[int(r.phase), int(r.units), _whole(r.officers), _whole(r.cost), _whole(r.population),
             t.pct(float(r.incident_share))] for r in phases.itertuples(index=False)]
    if reached is not None:
        headers += [t("Units reached through a neighbour"), t("Population reached")]
        rows = [row + [int(r.neighbours_reached), _whole(r.population_reached)]
                for row, r in zip(rows, phases.itertuples(index=False), strict=True)]
    doc.table(headers, rows, digits=0)
    doc.heading(t("Chosen units"))
    doc.table([t("Phase"), t("Unit"), t("Prefecture"), t("Rank"), t("Score"), t("Officers to train"),
               t("Cost (GNF)"), t("Why")],
              [[int(r.phase), r.name, r.prefecture, int(r.rank), float(r.score), _whole(r.officers),
                _whole(r.cost_gnf), r.reason]
               for r in plan.itertuples(index=False)],
              align=["R", "L", "L", "R", "R", "R", "R", "L"], digits=2, size=7.5)
    if reached is not None and not reached.empty:
        doc.heading(t("Units reached through a neighbour"))
        doc.table([t("Phase"), t("Unit"), t("Prefecture"), t("Reached by"), t("Population")],
                  [[int(r.reached_phase), r.name, r.prefecture, r.reached_by_name, _whole(r.population)]
                   for r in reached.itertuples(index=False)],
                  align=["R", "L", "L", "L", "R"], digits=0, size=7.5)
    doc.heading(t("Parameters"))
    doc.key_values(list(parameters))
    if notes:
        doc.note(list(notes), title=t("Data caveats"))
    return doc.output()


def _whole(value: object) -> object:
    """Counts and money print without decimals; unknown stays unknown (printed as a dash)."""
    return int(value) if isinstance(value, (int, float)) and value == value else value
