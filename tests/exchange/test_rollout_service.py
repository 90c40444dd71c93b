"""Rollout service: the candidate table agrees with the records it is built from, population tables are read
with clear errors, plans are written as files, and ``proximite rollout`` keeps its promises."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import geopandas as gpd

from cli.main import app
from demo.generate import generate
from exchange import rollout as er
from geo import rollout as ro
from geo.blackspots import SeverityWeights
from geo.indicators import unit_indicators
from geo.population import population
from i18n import t_for
from storage import Store, open_store
from storage.queries import Viewer

START, END = "2025-11-01", "2026-10-31"


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return generate(seed=2014, n_incidents=2000)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, frames) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('rollout') / 'demo.db'}"
    store = open_store(url)
    store.replace_demo(frames)
    store.dispose()
    return url


@pytest.fixture(scope="module")
def store(demo_db) -> Store:
    store = open_store(demo_db)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def subs(store) -> pd.DataFrame:
    return er.candidate_table(store, "subprefecture", start=START, end=END)


def _in_period(frame: pd.DataFrame) -> pd.DataFrame:
    when = pd.to_datetime(frame["occurred_at"], utc=True)
    return frame[(when >= pd.Timestamp(START, tz="UTC")) & (when < pd.Timestamp(END, tz="UTC") + pd.Timedelta(days=1))]


def test_candidate_table_counts_match_the_records(subs, frames):
    assert len(subs) == 340 and list(subs.columns) == er.CANDIDATE_COLUMNS
    assert subs["unit_id"].is_unique and subs.attrs["notes"] == []
    table = subs.set_index("unit_id")
    incidents = _in_period(frames["incident"])
    want = incidents.groupby("subprefecture_id").size()
    got = table["incidents"]
    assert got[got > 0].sort_index().astype(int).to_dict() == want.sort_index().to_dict()
    sensitive = incidents[incidents["sensitive"]].groupby("subprefecture_id").size()
    assert table.loc[sensitive.index, "sensitive"].astype(int).tolist() == sensitive.tolist()
    crashes = _in_period(frames["road_crash"])
    epdo = pd.Series(SeverityWeights().of(crashes["severity"]), index=crashes.index).groupby(
        crashes["subprefecture_id"]).sum()
    np.testing.assert_allclose(table.loc[epdo.index, "crash_epdo"], epdo)
    assert table["crash_epdo"].sum() == pytest.approx(epdo.sum())  # no crash lost or invented
    pop = population("subprefecture").set_index("unit_id")["population"]
    np.testing.assert_array_equal(table["population"], pop.reindex(table.index))
    np.testing.assert_allclose(table["incidents_per_10000"], table["incidents"] / table["population"] * 1e4)


def test_programme_indicators_are_cumulative_up_to_the_end(subs, frames):
    table = subs.set_index("unit_id")
    # the demo's trainings ended before 2020: they still count as officers already trained
    assert table["officers_trained"].sum() == 2245
    assert table["trained"].sum() == 7
    direct = unit_indicators("subprefecture", frames, today=END, end=END).set_index("unit_id")
    np.testing.assert_allclose(table["distance_to_trained_km"], direct["distance_to_trained_km"])
    np.testing.assert_allclose(table["share_with_council"], direct["share_with_council"])
    reached = direct["students_reached"] + direct["women"]
    np.testing.assert_allclose(table["outreach_per_1000"], reached / direct["population"] * 1000)


def test_hot_spots_per_unit_are_shares_of_its_cells(subs):
    share = subs["hotspot_share"]
    assert share.between(0, 1).all() and (share > 0).sum() >= 2
    assert ((subs["hot_cells"] > 0) == (share > 0)).all()
    # the unit with the most incidents holds hot cells (a hot cell may also sit next to a cluster, with no
    # incident of its own: Gi* counts the neighbours)
    assert share[subs["incidents"].idxmax()] > 0


def test_a_viewer_who_may_not_see_sensitive_reports_gets_them_in_whole_fives(store):
    exact = er.candidate_table(store, "prefecture", start=START, end=END)
    table = er.candidate_table(store, "prefecture", start=START, end=END, viewer=Viewer(role="planner"))
    assert (table["sensitive"] % 5 == 0).all() and (table["sensitive"] <= exact["sensitive"]).all()
    assert (exact["sensitive"] - table["sensitive"] < 5).all() and (exact["sensitive"] % 5 != 0).any()
    assert "sensitive_rounded" in table.attrs["notes"] and "sensitive_rounded" not in exact.attrs["notes"]
    assert (table["incidents"] == exact["incidents"] - (exact["sensitive"] - table["sensitive"])).all()


def test_an_empty_store_gives_unknown_indicators_with_notes(tmp_path):
    empty = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        table = er.candidate_table(empty, "prefecture", end=END)
    finally:
        empty.dispose()
    assert {"no_incidents", "no_crashes", "no_trained_community"} <= set(table.attrs["notes"])
    assert table[["incidents", "crash_epdo", "hotspot_share", "distance_to_trained_km"]].isna().all().all()
    assert table["population"].notna().all()
    result = ro.Scenario.default().score(table)  # the unknown criteria are dropped, the rest still ranks
    assert {"incidents_per_10000", "crash_epdo_per_10000", "distance_to_trained_km"} <= set(result.dropped)
    assert result.table["rank"].notna().all()


# --- population tables --------------------------------------------------------------------------------


def test_population_table_by_name_with_french_numbers_and_accents():
    data = ("Sous-préfecture;Préfecture;Population\n"
            "KALOUM;Conakry;\"70 123\"\n"
            "Dixinn;Conakry;135 000\n"
            "Touba;Gaoual;12,345\n"
            "N'zerekore Centre;Nzérékoré;\n").encode()
    table = er.read_population_table(data, "pop.csv", level="subprefecture")
    got = table.set_index("unit_id")
    assert set(table["level"]) == {"subprefecture"}
    assert got.loc["GN-C-KALOUM", "population"] == 70123 and got.loc["GN-C-DIXINN", "population"] == 135000
    assert got.loc["GN-GA-TOUBA", "population"] == 12345  # Touba of Gaoual, not of Mali
    assert np.isnan(got.loc["GN-NZ-NZEREKORE-CENTRE", "population"])  # blank stays missing
    assert set(table["census_result"]) == {er.IMPORTED}
    full = er.unit_population("subprefecture", table=table).set_index("unit_id")
    assert len(full) == 340 and full["population"].notna().sum() == 3


def test_a_prefecture_table_is_shared_out_to_subprefectures_exactly():
    data = b"code,population\nGN-C,2000000\nGN-BF,300001\n"
    table = er.read_population_table(data, "pop.csv", level="subprefecture")
    assert set(table["level"]) == {"prefecture"}
    subs = er.unit_population("subprefecture", "area", table)
    per_prefecture = subs.groupby("prefecture_id")["population"].sum(min_count=1)
    assert per_prefecture["GN-C"] == 2_000_000 and per_prefecture["GN-BF"] == 300_001
    assert subs.loc[subs["prefecture_id"] == "GN-KA", "population"].isna().all()  # not in the table
    equal = er.unit_population("subprefecture", "equal", table)
    conakry = equal.loc[equal["prefecture_id"] == "GN-C", "population"]
    assert conakry.max() - conakry.min() <= 1


@pytest.mark.parametrize("data, code, rows", [
    ("nom,population\nTouba,100\n", "ambiguous_names", [2]),
    ("nom,population\nKaloum,100\nAtlantide,5\nKaloum-Ville,3\n", "unknown_units", [3, 4]),
    ("unit_id,population\nGN-C-KALOUM,100\nGN-C-KALOUM,200\n", "duplicate_units", [2, 3]),
    ("unit_id,population\nGN-C-KALOUM,beaucoup\nGN-C-DIXINN,-4\n", "bad_numbers", [2, 3]),
    ("unit_id,habitants_2014\n", "empty", []),
    ("unit_id,total\nGN-C-KALOUM,4\n", "no_population_column", []),
    ("colonne,population\nx,4\n", "no_unit_column", []),
    ("", "unreadable", []),
])
def test_population_table_errors_are_clear(data, code, rows):
    with pytest.raises(er.PopulationTableError) as info:
        er.read_population_table(data.encode(), "pop.csv")
    assert info.value.code == code and list(info.value.rows) == rows
    assert code in er.POPULATION_ERROR_LABELS


# --- plans and files ----------------------------------------------------------------------------------


def test_plan_rollout_and_files(subs, tmp_path):
    scenario = ro.Scenario("Test", {"incidents_per_10000": 2, "population": 1, "officers_per_10000": 1},
                           method="rank")
    limits = ro.Limits(instructors=10, phases=2, budget_total=1.2e9)
    result = er.plan_rollout(subs, scenario, limits, covered=["Kaloum"], include=["GN-C-DIXINN"],
                             exclude=["Matam"], draws=50)
    plan = result.plan.units.set_index("unit_id")
    assert plan.loc["GN-C-KALOUM", "reason"] == "already_covered"
    assert plan.loc["GN-C-DIXINN", "reason"] == "must_include"
    assert plan.loc["GN-C-MATAM", "reason"] == "excluded"
    assert result.plan.totals["cost"] <= 1.2e9 and result.plan.status == "optimal"
    files = er.plan_to_files(result, tmp_path / "plan.csv")
    assert [f.name for f in files] == ["plan.csv", "plan.geojson"]
    csv = pd.read_csv(files[0], encoding="utf-8-sig")
    assert len(csv) == 340 and {"phase", "rank_min", "rank_max", "reason", "contrib_population"} <= set(csv.columns)
    reason = t_for("fr")(ro.REASON_LABELS["must_include"])
    assert csv.loc[csv["unit_id"] == "GN-C-DIXINN", "reason"].tolist() == [reason]
    shapes = gpd.read_file(files[1])
    assert len(shapes) == int(plan["selected"].sum()) and shapes.crs.to_epsg() == 4326
    assert set(shapes["phase"]) <= {1, 2} and "sensitive" not in shapes.columns
    workbook = pd.read_excel(er.plan_to_files(result, tmp_path / "plan.xlsx")[0], sheet_name=None)
    assert list(workbook) == ["plan", "phases", "settings"]
    assert workbook["phases"]["phase"].astype(str).tolist() == ["1", "2", "total"]
    with pytest.raises(ValueError, match="use a .csv"):
        er.plan_to_files(result, tmp_path / "plan.pdf")


def test_the_scenario_of_a_plan_reproduces_it_units_included(subs):
    """The result's scenario holds the level, limits, covering and unit ids used: planning again from its
    JSON alone gives the same plan; unit lists given to the call take precedence over the scenario's."""
    scenario = ro.Scenario("Test", {"incidents_per_10000": 2, "population": 1}, method="rank")
    limits = ro.Limits(instructors=10, phases=2, budget_total=1.2e9)
    first = er.plan_rollout(subs, scenario, limits, covered=["Kaloum"], include=["Dixinn"], exclude=["Matam"],
                            draws=0)
    saved = first.scenario
    assert (saved.level, saved.covered, saved.include, saved.exclude) == (
        "subprefecture", ("GN-C-KALOUM",), ("GN-C-DIXINN",), ("GN-C-MATAM",))
    again = er.plan_rollout(subs, er.read_scenario(saved.to_json()), draws=0)
    pd.testing.assert_frame_equal(again.plan.units, first.plan.units)
    assert again.limits == limits
    freed = er.plan_rollout(subs, saved, exclude=[], draws=0).plan.units.set_index("unit_id")
    assert freed.loc["GN-C-MATAM", "reason"] != "excluded" and freed.loc["GN-C-KALOUM", "reason"] == "already_covered"
    prefectures = ro.Scenario("P", {"population": 1}, level="prefecture", include=("GN-C",))
    with pytest.raises(ValueError, match="lists prefecture units"):
        er.plan_rollout(subs, prefectures, draws=0)


def test_resolve_units_by_id_or_name(subs):
    assert er.resolve_units(["gn-c-kaloum", "Dixinn, Matam"], subs) == ["GN-C-KALOUM", "GN-C-DIXINN", "GN-C-MATAM"]
    with pytest.raises(ValueError, match="ambiguous"):
        er.resolve_units(["Touba"], subs)
    with pytest.raises(ValueError, match="no unit named"):
        er.resolve_units(["Atlantide"], subs)


# --- command line -------------------------------------------------------------------------------------


def _run(demo_db: str, *args: str):
    return CliRunner().invoke(app, ["rollout", *args], env={"PROXIMITE_DATABASE_URL": demo_db,
                                                          "PROXIMITE_LANG": "en"})


def test_cli_writes_the_plan_and_refuses_impossible_limits(demo_db, tmp_path):
    weights = tmp_path / "scenario.json"
    weights.write_text(json.dumps({"name": "Besoins", "weights": {"incidents_per_10000": 3, "population": 1},
                                   "directions": {"distance_to_trained_km": "readiness"}}), encoding="utf-8")
    out = tmp_path / "plan.csv"
    done = _run(demo_db, "--level", "prefecture", "--weights", str(weights), "--instructors", "51", "--budget",
                "4.5e9", "--phases", "3", "--from", START, "--to", END, "--include", "Conakry", "--out", str(out),
                "--draws", "20")
    assert done.exit_code == 0, done.output
    assert out.is_file() and out.with_suffix(".geojson").is_file()
    plan = pd.read_csv(out, encoding="utf-8-sig")
    assert len(plan) == 34 and plan.loc[plan["unit_id"] == "GN-C", "phase"].notna().all()
    assert "Besoins" in done.output and "Phase 1" in done.output
    refused = _run(demo_db, "--level", "prefecture", "--include", "GN-C", "--instructors", "2", "--out",
                   str(tmp_path / "no.csv"), "--draws", "0")
    assert refused.exit_code == 2 and "GN-C" in refused.output and not (tmp_path / "no.csv").exists()
    bad = _run(demo_db, "--level", "region", "--out", str(out))
    assert bad.exit_code == 2 and "--level" in bad.output


def test_cli_takes_the_level_and_units_of_a_saved_scenario(demo_db, tmp_path):
    saved = tmp_path / "saved.json"
    saved.write_text(ro.Scenario("Ouest", {"population": 1}, level="prefecture", include=("GN-KA",),
                                 exclude=("GN-C",)).to_json(), encoding="utf-8")
    out = tmp_path / "plan.csv"
    done = _run(demo_db, "--weights", str(saved), "--instructors", "51", "--phases", "2", "--out", str(out),
                "--draws", "0")
    assert done.exit_code == 0, done.output
    plan = pd.read_csv(out, encoding="utf-8-sig").set_index("unit_id")
    assert len(plan) == 34  # the scenario's level
    assert pd.notna(plan.loc["GN-KA", "phase"]) and pd.isna(plan.loc["GN-C", "phase"])
    free = _run(demo_db, "--weights", str(saved), "--include", "GN-C", "--exclude", "GN-KA", "--out", str(out),
                "--draws", "0")
    assert free.exit_code == 0, free.output  # the command line's lists replace the file's
    plan = pd.read_csv(out, encoding="utf-8-sig").set_index("unit_id")
    assert pd.isna(plan.loc["GN-KA", "phase"]) and pd.notna(plan.loc["GN-C", "phase"])
    clash = _run(demo_db, "--weights", str(saved), "--exclude", "GN-KA", "--out", str(out), "--draws", "0")
    assert clash.exit_code == 2 and "both included and excluded" in clash.output  # the file's include stays
    other = _run(demo_db, "--weights", str(saved), "--level", "subprefecture", "--out", str(out), "--draws", "0")
    assert other.exit_code == 2 and "prefecture units" in other.output


@pytest.mark.parametrize("lang, heading, unknown, not_number", [
    ("en", "2 of 3 rows do not fit", "row 3: 'Atlantide': no unit of this name or id", "row 4: 'beaucoup': "),
    ("fr", "2 des 3 lignes ne conviennent pas", "ligne 3 : 'Atlantide' : aucune unité de ce nom",
     "ligne 4 : 'beaucoup' : "),
])
def test_cli_lists_every_population_row_that_does_not_fit(demo_db, tmp_path, lang, heading, unknown, not_number):
    table = tmp_path / "population.csv"
    table.write_text("nom;population\nKaloum;70 000\nAtlantide;5\nDixinn;beaucoup\n", encoding="utf-8")
    out = tmp_path / "plan.csv"
    done = CliRunner().invoke(app, ["rollout", "--level", "subprefecture", "--population", str(table),
                                    "--out", str(out), "--draws", "0"],
                              env={"PROXIMITE_DATABASE_URL": demo_db, "PROXIMITE_LANG": lang})
    assert done.exit_code == 2 and not out.exists()
    assert "population.csv" in done.output and heading in done.output
    assert unknown in done.output and not_number in done.output  # which row, as written, why
    assert "Kaloum" not in done.output  # the row that fits is not listed
