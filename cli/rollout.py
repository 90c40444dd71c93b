"""``proximite rollout``: rank the units, choose the communities to train per phase, write the plan.

Registered in :mod:`cli.main` (``app.command("rollout", help=HELP)(rollout_command)``). Limits come
from the options, else from the scenario file's ``limits``, else from :class:`geo.rollout.Limits`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, t_for

if TYPE_CHECKING:
    from storage import Store

def _translator() -> Translator:
    lang = os.environ.get("PROXIMITE_LANG", DEFAULT_LANGUAGE)
    return t_for(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


t = _translator()  # option help, built when the command is registered
HELP = t("National rollout plan: rank the units, choose the communities to train in each phase under the limits, "
         "and write the plan (CSV or XLSX, and GeoJSON).")


def _store() -> Store:
    from storage import open_store

    try:
        return open_store()
    except Exception as exc:  # any driver or connection error: say which store and why
        typer.echo(t("Cannot open the database {url}: {error}", url=os.environ.get("PROXIMITE_DATABASE_URL", "-"),
                     error=exc), err=True)
        raise typer.Exit(2) from exc


def rollout_command(
    out: Annotated[Path, typer.Option("--out", help=t("Output file (.csv or .xlsx; the GeoJSON of the selected "
                                                      "units is written next to it)."))],
    level: Annotated[str | None, typer.Option(help=t("prefecture or subprefecture (default: the scenario's, else "
                                                     "subprefecture)."))] = None,
    weights: Annotated[Path | None, typer.Option(help=t("Scenario file (JSON as saved by the planner page: weights, "
                                                        "directions, method, limits, units); options given here "
                                                        "take precedence."))] = None,
    instructors: Annotated[int | None, typer.Option(min=0, help=t("Instructors available."))] = None,
    budget: Annotated[float | None, typer.Option(min=0, help=t("Total budget (GNF)."))] = None,
    budget_per_phase: Annotated[float | None, typer.Option(min=0, help=t("Budget per phase (GNF)."))] = None,
    phases: Annotated[int | None, typer.Option(min=1, max=20, help=t("Number of phases."))] = None,
    officers_per_instructor: Annotated[int | None, typer.Option(
        min=1, help=t("Officers an instructor trains per phase."))] = None,
    cost_fixed: Annotated[float | None, typer.Option(min=0, help=t("Fixed cost per community (GNF)."))] = None,
    cost_per_officer: Annotated[float | None, typer.Option(min=0, help=t("Cost per officer trained (GNF)."))
                                ] = None,
    covered: Annotated[list[str] | None, typer.Option(help=t("Unit already covered (id or name; repeatable)."))
                       ] = None,
    include: Annotated[list[str] | None, typer.Option(help=t("Unit that must be chosen (repeatable)."))] = None,
    exclude: Annotated[list[str] | None, typer.Option(help=t("Unit that must not be chosen (repeatable)."))] = None,
    trained_as_covered: Annotated[bool, typer.Option(
        "--trained-as-covered", help=t("Count the units with officers already trained as covered."))] = False,
    coverage_km: Annotated[float | None, typer.Option(
        min=0, help=t("Coverage variant: a trained community also reaches units within this distance (km)."))
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help=t("First day (YYYY-MM-DD)."))] = None,
    end: Annotated[str | None, typer.Option("--to", help=t("Last day (YYYY-MM-DD)."))] = None,
    population: Annotated[Path | None, typer.Option(help=t("Population table (CSV or XLSX, units by id or name) "
                                                           "instead of the 2014 census."))] = None,
    population_rule: Annotated[str, typer.Option(help=t("Sharing of prefecture populations among sub-prefectures: "
                                                        "area or equal."))] = "area",
    draws: Annotated[int, typer.Option(min=0, max=10_000, help=t("Weight draws for the rank ranges (0: none)."))
                     ] = 500,
) -> None:
    """Invalid options, unreadable files and impossible limits exit with status 2 and say why."""
    from dataclasses import replace

    t = _translator()  # messages in the language of this run

    from exchange.rollout import (
        LEVELS,
        NOTE_LABELS,
        POPULATION_ERROR_LABELS,
        POPULATION_ROW_LABELS,
        PopulationTableError,
        candidate_table,
        match_population_table,
        plan_rollout,
        plan_to_files,
    )
    from geo import rollout as ro

    def fail(message: str) -> typer.Exit:
        typer.echo(message, err=True)
        return typer.Exit(2)

    try:
        if out.suffix.lower() not in (".csv", ".xlsx", ".geojson", ".json"):
            raise ValueError(f"{out}: use a .csv, .xlsx or .geojson file name")
        scenario = ro.Scenario.load(weights) if weights is not None else ro.Scenario.default()
        scenario.criteria()  # unknown criteria fail here, before any work
        level = level or scenario.level or "subprefecture"
        if level not in LEVELS:
            raise ValueError(f"--level must be one of {', '.join(LEVELS)}")
        given = {"instructors": instructors, "budget_total": budget, "budget_per_phase": budget_per_phase,
                 "phases": phases, "officers_per_instructor": officers_per_instructor, "cost_fixed": cost_fixed,
                 "cost_per_officer": cost_per_officer}
        limits = replace(scenario.limits or ro.Limits(), **{k: v for k, v in given.items() if v is not None})
    except OSError as exc:
        raise fail(t("Cannot read {file}: {error}", file=weights, error=exc.strerror or exc)) from exc
    except ValueError as exc:
        raise fail(t("Invalid option: {error}", error=exc)) from exc
    table = None
    if population is not None:
        try:
            matched = match_population_table(population, population.name, level=level)
        except PopulationTableError as exc:
            raise fail(t("Cannot use {file}: {reason}", file=population.name,
                         reason=t(POPULATION_ERROR_LABELS[exc.code])) + f" ({exc.detail})") from exc
        if not matched.ok:  # every row that does not fit, so the file can be corrected in one go
            lines = [t("Cannot use {file}: {count} of {rows} rows do not fit (the census is not replaced):",
                       file=population.name, count=t.n(len(matched.problems)), rows=t.n(matched.rows))]
            lines += ["  " + t("row {row}: {value}: {reason}", row=row, value=repr(value),
                               reason=t(POPULATION_ROW_LABELS[code]))
                      for row, value, code in matched.problems[["row", "value", "code"]].itertuples(index=False)]
            raise fail("\n".join(lines))
        table = matched.table
    store = _store()
    try:
        candidates = candidate_table(store, level, start=start, end=end, population_rule=population_rule,
                                     population_table=table)
        done = list(covered) if covered else None  # None: the scenario's lists
        if trained_as_covered:
            done = [*(scenario.covered if done is None else done),
                    *candidates.loc[candidates["trained"], "unit_id"].tolist()]
        result = plan_rollout(candidates, scenario, limits, covered=done, include=include or None,
                              exclude=exclude or None, coverage_km=coverage_km, draws=draws,
                              population_file=population.name if population is not None else None)
    except ro.InfeasiblePlan as exc:
        raise fail(t("No plan meets the limits ({limit}): {error}", limit=t(ro.LIMIT_LABELS[exc.limit]),
                     error=exc)) from exc
    except ValueError as exc:
        raise fail(t("Invalid option: {error}", error=exc)) from exc
    files = plan_to_files(result, out, t)
    plan = result.plan
    for code in candidates.attrs.get("notes", []):
        typer.echo(t(NOTE_LABELS[code], n=candidates.attrs.get("threshold", "")))
    if result.scores.dropped:
        typer.echo(t("Criteria without any value, left out: {keys}.", keys=", ".join(result.scores.dropped)))
    typer.echo(t("Scenario {name}: plan {status}, solved in {seconds} s ({solver}).", name=scenario.name,
                 status=t(ro.STATUS_LABELS[plan.status]), seconds=t.n(plan.seconds, 2), solver=plan.solver))
    for row in plan.phases.itertuples(index=False):
        names = plan.units.loc[plan.units["phase"] == row.phase, "name"].astype(str).tolist()
        shown = ", ".join(names[:6]) + (" …" if len(names) > 6 else "")
        typer.echo("  " + t("Phase {phase}: {units} units, {officers} officers, {cost} GNF, {population} "
                            "inhabitants — {names}", phase=row.phase, units=t.n(row.units), officers=t.n(row.officers),
                            cost=t.n(row.cost), population=t.n(row.population), names=shown or "–"))
    totals = plan.totals
    share = totals["incident_share"]
    typer.echo(t("Total: {units} units, {officers} officers, {cost} GNF; {population} inhabitants reached; "
                 "{share} of the incidents in the units trained.", units=t.n(totals["units"]),
                 officers=t.n(totals["officers"]), cost=t.n(totals["cost"]),
                 population=t.n(totals["population_reached"]),
                 share=t.pct(share, 1) if share == share else "–"))
    if plan.coverage_km is not None:
        typer.echo(t("Reached through a trained neighbour: {units} more units, {population} inhabitants.",
                     units=t.n(totals["neighbours_reached"]), population=t.n(totals["neighbour_population_reached"])))
    typer.echo(t("Written: {files}", files=", ".join(str(f) for f in files)))
