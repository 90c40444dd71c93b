"""``proximite`` command line: demo data, store information, boundary build, running the app.

Every command works on the store named by ``PROXIMITE_DATABASE_URL`` (default:
a SQLite file in the user's data folder). Messages follow ``PROXIMITE_LANG``
(``fr`` by default, or ``en``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from cli import backup as backup_cli
from cli import rollout as rollout_cli
from cli.users import audit_app, users_app
from i18n import LANGUAGES, t_for

t = t_for(os.environ.get("PROXIMITE_LANG", "fr") if os.environ.get("PROXIMITE_LANG", "fr") in LANGUAGES else "fr")
ROOT = Path(__file__).resolve().parent.parent

app = typer.Typer(help=t("Proximité: security mapping and planning for community policing in Guinea."),
                  no_args_is_help=True, add_completion=False)
boundaries_app = typer.Typer(help=t("Administrative boundaries (maintainers)."), no_args_is_help=True)
app.add_typer(boundaries_app, name="boundaries")
import_app = typer.Typer(help=t("Import records from files."), no_args_is_help=True)
app.add_typer(import_app, name="import")
roads_app = typer.Typer(help=t("Road networks for the black-spot analysis by road segment."), no_args_is_help=True)
app.add_typer(roads_app, name="roads")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")


def _store():
    from storage import open_store

    try:
        return open_store()
    except Exception as exc:  # any driver or connection error: say which store and why
        typer.echo(t("Cannot open the database {url}: {error}", url=os.environ.get("PROXIMITE_DATABASE_URL", "-"),
                     error=exc), err=True)
        raise typer.Exit(2) from exc


@app.command(help=t("(Re)generate the demo data; real records are left untouched."))
def demo(
    seed: Annotated[int, typer.Option(help=t("Random seed: the same seed gives the same data."))] = 2014,
    incidents: Annotated[int, typer.Option(min=0, help=t("Number of demo incidents."))] = 8000,
) -> None:
    """Regenerate demo rows only (``replace_demo`` keeps real records)."""
    from demo.generate import generate, summary
    from demo.plans import add_demo_plan

    store = _store()
    start = time.perf_counter()
    frames = generate(seed, n_incidents=incidents)
    store.replace_demo(frames, kind="demo", file_name=f"proximite demo --seed {seed}")
    add_demo_plan(store)
    figures = summary(frames)
    typer.echo(t("Demo data written to {url} in {seconds} s (seed {seed}).", url=store.url,
                 seconds=t.n(time.perf_counter() - start, 1), seed=seed))
    for table, rows in frames.items():
        typer.echo(f"  {table:<20} {t.n(len(rows)):>10}")
    typer.echo(t("Programme figures: {instructors} instructors, {officers_trained} officers trained in "
                 "{communities} communities; {school_officers} officers reached {students} students; "
                 "{women} women in {visitation_days} visitation days.",
                 **{k: t.n(v) for k, v in figures.items()}))


@import_app.command("incidents", help=t("Import incident reports (CSV, XLSX, GeoJSON, GeoPackage, zipped "
                                         "Shapefile, KoboToolbox, ODK, ACLED/UCDP)."))
def import_incidents_command(
    file: Annotated[Path, typer.Argument(help=t("File to import."))],
    mapping: Annotated[str | None, typer.Option(help=t("Name of a saved column mapping."))] = None,
    as_json: Annotated[bool, typer.Option("--json", help=t("Print the summary as JSON."))] = False,
    dry_run: Annotated[bool, typer.Option(help=t("Check the file without writing anything."))] = False,
    user: Annotated[str | None, typer.Option(help=t("Who imports (recorded with the batch)."))] = None,
) -> None:
    """Fatal errors (unreadable file, unknown format, no usable columns) exit with status 2."""
    import json

    from exchange.readers import ReadError
    from exchange.service import MappingError, import_incidents
    from i18n.reasons import reason_text

    if not file.is_file():
        typer.echo(t("Cannot read {file}: no such file.", file=file), err=True)
        raise typer.Exit(2)
    store = _store()
    try:
        result = import_incidents(store, file, file.name, mapping_name=mapping, dry_run=dry_run,
                                  created_by=user or os.environ.get("USER"))
    except ReadError as exc:
        typer.echo(t("Cannot import {file}: {reason}", file=file.name, reason=reason_text(t, exc.code))
                   + f" ({exc.detail})", err=True)
        raise typer.Exit(2) from exc
    except MappingError as exc:
        typer.echo(t("Cannot import {file}: {reason}", file=file.name, reason=reason_text(t, exc.code))
                   + f" ({exc.detail})", err=True)
        raise typer.Exit(2) from exc
    summary = result.plan.summary() | {"batch_id": result.batch_id, "file": file.name, "format": result.raw.format}
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    typer.echo(t("{file}: {rows} rows read, {imported} imported, {queued} sent to review.", file=file.name,
                 rows=t.n(summary["rows"]), imported=t.n(summary["imported"]), queued=t.n(summary["queued"])))
    for code, count in summary["queued_by_reason"].items():
        typer.echo(f"  {t.n(count):>8}  {reason_text(t, code)}")
    for code, count in summary["flags"].items():
        typer.echo(f"  {t.n(count):>8}  {reason_text(t, code)}")
    if result.batch_id is not None:
        typer.echo(t("Batch {batch}: undo with the import page if needed.", batch=result.batch_id))


@app.command("hotspots", help=t("Getis-Ord Gi* hot and cold spots of incidents on H3 cells, to CSV or GeoJSON."))
def hotspots_command(
    out: Annotated[Path, typer.Option("--out", help=t("Output file (.csv or .geojson)."))],
    start: Annotated[str | None, typer.Option("--from", help=t("First day (YYYY-MM-DD)."))] = None,
    end: Annotated[str | None, typer.Option("--to", help=t("Last day (YYYY-MM-DD)."))] = None,
    category: Annotated[list[str] | None, typer.Option(help=t("Category code (repeatable)."))] = None,
    unit: Annotated[list[str] | None, typer.Option(help=t("Unit id or name, any level (repeatable)."))] = None,
    resolution: Annotated[int, typer.Option(min=5, max=9, help=t("H3 resolution."))] = 8,
    k: Annotated[int, typer.Option(min=1, max=5, help=t("Neighbourhood: rings of cells around each cell."))] = 1,
    fdr: Annotated[bool, typer.Option("--fdr", help=t("False discovery rate correction of the bins."))] = False,
) -> None:
    """Only true points count (rows placed by name are left out: their cell is a unit centroid)."""
    from datetime import UTC, datetime, timedelta

    from exchange.hotspots import UnitNotFound, resolve_units, run_hotspots, to_file
    from storage.queries import IncidentFilter

    try:
        first = datetime.fromisoformat(start).replace(tzinfo=UTC) if start else None
        last = datetime.fromisoformat(end).replace(tzinfo=UTC) + timedelta(days=1) if end else None
        units = resolve_units(unit or [])
    except (ValueError, UnitNotFound) as exc:
        typer.echo(t("Invalid option: {error}", error=exc), err=True)
        raise typer.Exit(2) from exc
    flt = IncidentFilter(start=first, end=last, categories=tuple(category or ()), units=units)
    result = run_hotspots(_store(), flt, resolution=resolution, k=k, fdr=fdr)
    try:
        to_file(result, str(out))
    except ValueError as exc:
        typer.echo(t("Invalid option: {error}", error=exc), err=True)
        raise typer.Exit(2) from exc
    table = result.table
    typer.echo(t("{cells} cells written to {file}: {hot} hot spots, {cold} cold spots (95 % confidence or more).",
                 cells=t.n(len(table)), file=out, hot=t.n(int((table["gi_bin"] >= 2).sum())),
                 cold=t.n(int((table["gi_bin"] <= -2).sum()))))


@roads_app.command("import", help=t("Import a road network (GeoJSON, GeoPackage or zipped Shapefile of lines)."))
def roads_import_command(
    file: Annotated[Path, typer.Argument(help=t("File to import."))],
    layer: Annotated[str | None, typer.Option(help=t("Layer to read (default: the first line layer)."))] = None,
    as_json: Annotated[bool, typer.Option("--json", help=t("Print the summary as JSON."))] = False,
    user: Annotated[str | None, typer.Option(help=t("Who imports (recorded with the batch)."))] = None,
) -> None:
    """One batch; the latest network imported is the one ``blackspots --method roads`` uses."""
    import json

    from exchange.readers import ReadError
    from exchange.roads import RoadFileError, import_roads, reason_text

    if not file.is_file():
        typer.echo(t("Cannot read {file}: no such file.", file=file), err=True)
        raise typer.Exit(2)
    store = _store()
    try:
        result, batch_id = import_roads(store, file, file.name, layer=layer, created_by=user or os.environ.get("USER"))
    except (ReadError, RoadFileError) as exc:
        typer.echo(t("Cannot import {file}: {reason}", file=file.name, reason=reason_text(t, exc.code))
                   + f" ({exc.detail})", err=True)
        raise typer.Exit(2) from exc
    report = result.report
    if as_json:
        typer.echo(json.dumps(report.summary() | {"batch_id": batch_id}, ensure_ascii=False))
        return
    typer.echo(t("{file}: features read: {features}; roads imported: {roads} ({km} km).", file=file.name,
                 features=t.n(report.features), roads=t.n(report.kept), km=t.n(report.length_km, 1)))
    columns = ", ".join(f"{target} = {source}" for target, source in report.columns.items() if source)
    typer.echo(t("Columns used: {columns}", columns=columns or "–"))
    for code, count in report.dropped.items():
        rows = ", ".join(str(r) for r in report.examples.get(code, ()))
        typer.echo(f"  {t.n(count):>8}  {reason_text(t, code)} " + t("(features {rows})", rows=rows))
    for code in report.notes:
        typer.echo(f"  {reason_text(t, code)}")
    typer.echo(t("Batch {batch}: undo with the import page if needed.", batch=batch_id))


@app.command("blackspots", help=t("Road-safety black spots: crashes weighted by severity on H3 cells or road "
                                  "segments, ranked, to CSV or GeoJSON."))
def blackspots_command(
    out: Annotated[Path, typer.Option("--out", help=t("Output file (.csv or .geojson)."))],
    start: Annotated[str | None, typer.Option("--from", help=t("First day (YYYY-MM-DD)."))] = None,
    end: Annotated[str | None, typer.Option("--to", help=t("Last day (YYYY-MM-DD)."))] = None,
    unit: Annotated[list[str] | None, typer.Option(help=t("Unit id or name, any level (repeatable)."))] = None,
    method: Annotated[str, typer.Option(help=t("cells (H3) or roads (segments of the road network)."))] = "cells",
    resolution: Annotated[int, typer.Option(min=5, max=10, help=t("H3 resolution."))] = 8,
    segment: Annotated[float, typer.Option(min=50, max=100_000, help=t("Segment length in metres (roads)."))] = 500,
    tolerance: Annotated[float, typer.Option(min=1, max=1000,
                                             help=t("Largest distance from a crash to its road, in metres."))] = 50,
    weights: Annotated[str, typer.Option(help=t("Severity weights, e.g. fatal=10,serious=5,slight=1."))] = "",
    top: Annotated[int | None, typer.Option(min=1, help=t("Keep only the N first black spots."))] = None,
    k: Annotated[int | None, typer.Option(min=1, max=5, help=t("Add Gi* with this neighbourhood (cells)."))] = None,
    period: Annotated[str, typer.Option(help=t("Trend periods: month or quarter."))] = "month",
) -> None:
    """One row per cell or segment with crashes, best first (rank, score, counts by severity, place, trend)."""
    from datetime import UTC, datetime, timedelta

    from exchange.blackspots import NoRoadNetwork, run_blackspots, to_file
    from exchange.hotspots import UnitNotFound, resolve_units
    from geo.blackspots import METHODS, PERIODS, TREND_LABELS, SeverityWeights
    from storage.roads import CrashFilter

    try:
        if method not in METHODS:
            raise ValueError(f"--method must be one of {', '.join(METHODS)}")
        if period not in PERIODS:
            raise ValueError(f"--period must be one of {', '.join(PERIODS)}")
        first = datetime.fromisoformat(start).replace(tzinfo=UTC) if start else None
        last = datetime.fromisoformat(end).replace(tzinfo=UTC) + timedelta(days=1) if end else None
        scheme = SeverityWeights.parse(weights) if weights.strip() else SeverityWeights()
        units = resolve_units(unit or [])
        if not out.name.lower().endswith((".csv", ".geojson", ".json")):
            raise ValueError(f"{out}: use a .csv or .geojson file name")
    except (ValueError, UnitNotFound) as exc:
        typer.echo(t("Invalid option: {error}", error=exc), err=True)
        raise typer.Exit(2) from exc
    flt = CrashFilter(start=first, end=last, units=units)
    try:
        result = run_blackspots(_store(), flt, method=method, resolution=resolution, segment_m=segment,
                                tolerance_m=tolerance, weights=scheme, k=k, top=top, period=period)
    except NoRoadNetwork as exc:
        typer.echo(t("No road network is stored: import one with “proximite roads import FILE”."), err=True)
        raise typer.Exit(2) from exc
    to_file(result, out)
    table = result.table
    typer.echo(t("Black spots written to {file}: {spots} (crashes: {crashes}; weights {weights}).",
                 spots=t.n(len(table)), file=out, crashes=t.n(result.n_crashes), weights=str(scheme)))
    if method == "roads" and result.unassigned.get("beyond_tolerance"):
        typer.echo(t("Crashes more than {m} m from every road, left out of the segments: {n}.",
                     n=t.n(result.unassigned["beyond_tolerance"]), m=t.n(tolerance)))
    if result.unassigned.get("no_coordinates"):
        typer.echo(t("Crashes without coordinates: {n}.", n=t.n(result.unassigned["no_coordinates"])))
    if result.n_demo:
        typer.echo(t("Demo crashes (synthetic data) included: {n}.", n=t.n(result.n_demo)))
    for row in table.head(5).itertuples(index=False):
        typer.echo("  " + t("{rank}. {road} — {place}: crashes {crashes} (fatal {fatal}), score {score}, {trend}",
                            rank=row.rank, road=row.road or "–", place=row.place or "–", crashes=t.n(row.crashes),
                            fatal=t.n(row.fatal), score=t.n(row.epdo, 1), trend=t(TREND_LABELS[row.trend])))


@app.command(help=t("Show the database in use, its schema version and what it holds."))
def info() -> None:
    """Which store the environment selects, and whether its schema is current."""
    store = _store()
    typer.echo(t("Database: {url}", url=store.url))
    typer.echo(t("Schema revision: {rev}", rev=store.schema_revision()))
    for table, rows in store.counts().items():
        typer.echo(f"  {table:<20} {t.n(rows):>10}")


app.command("backup", help=t("Back up the whole database (SQLite or PostGIS) to one file."))(backup_cli.backup_command)
app.command("restore", help=t("Replace the whole database with a backup (asks first)."))(backup_cli.restore_command)
app.command("rollout", help=rollout_cli.HELP)(rollout_cli.rollout_command)


@app.command(help=t("Start the web application."))
def run(port: Annotated[int, typer.Option(help=t("Port to listen on."))] = 8501) -> None:
    """Convenience wrapper around ``streamlit run app.py``."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port)]
    raise typer.Exit(subprocess.call(cmd, cwd=ROOT))


@boundaries_app.command("build", help=t("Rebuild data/boundaries from the geoBoundaries sources and the 2014 census."))
def boundaries_build(
    source: Annotated[Path, typer.Argument(help=t("Folder with the geoBoundaries files."))] = ROOT.parent / "shared"
    / "data" / "boundaries",
    population: Annotated[Path, typer.Option(help=t("Folder with the census table."))] = ROOT.parent / "shared"
    / "data" / "population",
) -> None:
    """Maintainers only: the app reads the vendored result."""
    from geo.build import build

    report = build(source, population, ROOT / "data" / "boundaries")
    typer.echo(t("{regions} regions, {prefectures} prefectures, {subprefectures} sub-prefectures; "
                 "smallest overlap with the assigned prefecture {share}; difference with the source "
                 "prefectures {km2} km².", regions=report.regions, prefectures=report.prefectures,
                 subprefectures=report.subprefectures, share=t.pct(report.min_overlap_share, 2),
                 km2=t.n(report.adm2_difference_km2, 1)))


if __name__ == "__main__":
    app()
