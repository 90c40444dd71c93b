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

from i18n import LANGUAGES, t_for

t = t_for(os.environ.get("PROXIMITE_LANG", "fr") if os.environ.get("PROXIMITE_LANG", "fr") in LANGUAGES else "fr")
ROOT = Path(__file__).resolve().parent.parent

app = typer.Typer(help=t("Proximité: security mapping and planning for community policing in Guinea."),
                  no_args_is_help=True, add_completion=False)
boundaries_app = typer.Typer(help=t("Administrative boundaries (maintainers)."), no_args_is_help=True)
app.add_typer(boundaries_app, name="boundaries")


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

    store = _store()
    start = time.perf_counter()
    frames = generate(seed, n_incidents=incidents)
    store.replace_demo(frames, kind="demo", file_name=f"proximite demo --seed {seed}")
    figures = summary(frames)
    typer.echo(t("Demo data written to {url} in {seconds} s (seed {seed}).", url=store.url,
                 seconds=t.n(time.perf_counter() - start, 1), seed=seed))
    for table, rows in frames.items():
        typer.echo(f"  {table:<20} {t.n(len(rows)):>10}")
    typer.echo(t("Programme figures: {instructors} instructors, {officers_trained} officers trained in "
                 "{communities} communities; {school_officers} officers reached {students} students; "
                 "{women} women in {visitation_days} visitation days.",
                 **{k: t.n(v) for k, v in figures.items()}))


@app.command(help=t("Show the database in use, its schema version and what it holds."))
def info() -> None:
    """Which store the environment selects, and whether its schema is current."""
    store = _store()
    typer.echo(t("Database: {url}", url=store.url))
    typer.echo(t("Schema revision: {rev}", rev=store.schema_revision()))
    for table, rows in store.counts().items():
        typer.echo(f"  {table:<20} {t.n(rows):>10}")


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
