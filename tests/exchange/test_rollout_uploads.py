"""What the planner's page relies on: population tables matched row by row, scenario files refused with a code
that says why, and the covering variant reported in the totals and the plan files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from exchange import rollout as er
from geo import rollout as ro
from i18n import t_for

# --- population tables ----------------------------------------------------------------------------------


def test_every_bad_row_of_a_population_table_is_listed_with_its_reason():
    data = ("nom;préfecture;population\n"
            "Kaloum;Conakry;70 000\n"      # row 2: fine
            "Atlantide;;5\n"               # row 3: unknown
            "Touba;;100\n"                 # row 4: ambiguous (Gaoual and Mali)
            "Dixinn;Conakry;beaucoup\n"    # row 5: not a number
            "Matam;Conakry;10\n"           # row 6: duplicate of row 7
            "Matam;Conakry;11\n").encode()
    got = er.match_population_table(data, "pop.csv", level="subprefecture")
    assert not got.ok and got.rows == 6 and got.level == "subprefecture" and got.file_name == "pop.csv"
    problems = got.problems
    assert problems[["row", "code"]].values.tolist() == [
        [3, "unknown_unit"], [4, "ambiguous_name"], [5, "bad_number"], [6, "duplicate_unit"],
        [7, "duplicate_unit"]]
    assert problems.loc[problems["row"] == 3, "value"].item() == "Atlantide"
    assert problems.loc[problems["row"] == 5, "value"].item() == "beaucoup"
    assert set(problems["code"]) <= set(er.POPULATION_ROW_LABELS)
    assert got.table["unit_id"].tolist() == ["GN-C-KALOUM"]  # the only usable row
    # read_population_table refuses the file on the first kind of problem, with its rows
    with pytest.raises(er.PopulationTableError) as info:
        er.read_population_table(data, "pop.csv")
    assert info.value.code == "unknown_units" and list(info.value.rows) == [3]


def test_a_clean_population_table_matches_every_row():
    got = er.match_population_table(b"code,population\nGN-C,2000000\nGN-BF,300001\n", "p.csv",
                                    level="prefecture")
    assert got.ok and got.rows == 2 and got.level == "prefecture" and len(got.sha256) == 64
    assert got.table.set_index("unit_id")["population"].to_dict() == {"GN-C": 2_000_000, "GN-BF": 300_001}


def test_a_population_file_over_the_limit_says_so():
    with pytest.raises(er.PopulationTableError) as info:
        er.match_population_table(b"code,population\n" + b"GN-C,1\n" * 100, "p.csv", max_bytes=50)
    assert info.value.code == "unreadable" and info.value.reason == "too_large"


# --- scenario files -------------------------------------------------------------------------------------


def test_a_downloaded_scenario_reads_back_identical():
    scenario = ro.Scenario("Besoins", {"incidents_per_10000": 3.0, "population": 1.0},
                           directions={"distance_to_trained_km": "readiness"}, method="rank",
                           missing={"population": "impute_median"},
                           limits=ro.Limits(instructors=20, phases=2, budget_total=3e9), coverage_km=30.0,
                           level="subprefecture", covered=("GN-C-KALOUM",), include=("GN-KA-KANKAN-CENTRE",),
                           exclude=("GN-C-MATAM", "GN-C-DIXINN"))
    assert er.read_scenario(scenario.to_json()) == scenario
    assert er.read_scenario(b"\xef\xbb\xbf" + scenario.to_json().encode()) == scenario  # BOM from Notepad


@pytest.mark.parametrize("doc, code", [
    ('{"name": "x", "weights": {"population": 1}', "not_json"),
    ("[1, 2]", "not_object"),
    ('{"name": "x"}', "not_object"),
    ('{"name": "x", "weights": {"population": 1}, "colour": "red"}', "unknown_fields"),
    ('{"version": 9, "name": "x", "weights": {"population": 1}}', "version"),
    ('{"name": "  ", "weights": {"population": 1}}', "no_name"),
    ('{"name": "x", "weights": {"population": "high"}}', "bad_weights"),
    ('{"name": "x", "weights": {"population": 0}}', "bad_weights"),
    ('{"name": "x", "weights": {"rainfall": 1}}', "unknown_criteria"),
    ('{"name": "x", "weights": {"population": 1}, "method": "zscore"}', "bad_choice"),
    ('{"name": "x", "weights": {"population": 1}, "directions": {"population": "up"}}', "bad_choice"),
    ('{"name": "x", "weights": {"population": 1}, "missing": "guess"}', "bad_choice"),
    ('{"name": "x", "weights": {"population": 1}, "limits": {"phases": 0}}', "bad_limits"),
    ('{"name": "x", "weights": {"population": 1}, "limits": {"teachers": 3}}', "bad_limits"),
    ('{"name": "x", "weights": {"population": 1}, "coverage_km": -5}', "bad_coverage"),
    ('{"name": "x", "weights": {"population": 1}, "level": "region"}', "bad_units"),
    ('{"name": "x", "weights": {"population": 1}, "include": ["GN-C-MATAM"]}', "bad_units"),
    ('{"name": "x", "weights": {"population": 1}, "level": "prefecture", "exclude": "GN-C"}', "bad_units"),
    ('{"name": "x", "weights": {"population": 1}, "level": "prefecture", "covered": ["GN-C", 3]}', "bad_units"),
    ('{"name": "x", "weights": {"population": 1}, "level": "prefecture", "covered": ["GN-C-MATAM"]}',
     "unknown_units"),
])
def test_a_bad_scenario_file_is_refused_with_a_code(doc, code):
    with pytest.raises(er.ScenarioFileError) as info:
        er.read_scenario(doc.encode())
    assert info.value.code == code, info.value.detail
    assert code in er.SCENARIO_ERROR_LABELS


def test_a_huge_scenario_file_is_refused_before_parsing():
    with pytest.raises(er.ScenarioFileError) as info:
        er.read_scenario(b" " * 2000 + b"{}", max_bytes=1000)
    assert info.value.code == "too_large"


# --- covering in totals and files -------------------------------------------------------------------------


def _covering_result() -> er.RolloutResult:
    """Two clusters 40 km apart (as in tests/geo): B reaches A and C within 10 km, D reaches E."""
    table = pd.DataFrame({
        "unit_id": ["GN-C-KALOUM", "GN-C-DIXINN", "GN-C-MATAM", "GN-C-RATOMA", "GN-C-MATOTO"],
        "name": ["Kaloum", "Dixinn", "Matam", "Ratoma", "Matoto"], "level": "subprefecture",
        "prefecture_id": "GN-C", "lon": [-13.60, -13.655, -13.71, -13.24, -13.26], "lat": [9.6] * 5,
        "population": [1e4, 2e4, 3e4, 4e4, 5e4], "census_result": "final", "population_rule": "area",
        "incidents": [1.0] * 5, "need": [0.9, 0.8, 0.7, 0.2, 0.1]})
    scenario = ro.Scenario("Couverture", {"population": 1.0}, coverage_km=10)
    limits = ro.Limits(instructors=1, officers_per_instructor=20, phases=2, min_officers=20, max_officers=20)
    scores = ro.score(table.assign(population_score=table["need"]), [ro.Criterion("population_score", "x")])
    plan = ro.select(scores, limits, coverage_km=10, name=scenario.name)
    return er.RolloutResult("subprefecture", scenario, limits, table, scores, plan, None, "projections.csv")


def test_covering_totals_count_the_units_reached_through_a_neighbour():
    result = _covering_result()
    totals, phases = result.plan.totals, result.plan.phases
    assert totals["units"] == 2 and totals["neighbours_reached"] == 3
    assert totals["neighbour_population_reached"] == 1e4 + 3e4 + 5e4  # Kaloum, Matam (by Dixinn), Matoto
    assert totals["population_reached"] == totals["population"] + totals["neighbour_population_reached"]
    assert phases["neighbours_reached"].tolist() == [2, 1]
    flat = ro.select(result.scores, result.limits)
    assert flat.totals["neighbours_reached"] == 0 and flat.totals["neighbour_population_reached"] == 0


def test_plan_files_name_the_unit_that_reaches_each_neighbour():
    result = _covering_result()
    t = t_for("en")
    table = er.plan_table(result, t).set_index("unit_id")
    assert table.loc["GN-C-KALOUM", "reached_by_name"] == "Dixinn"
    assert table.loc["GN-C-MATOTO", "reached_by_name"] == "Ratoma"
    reached = er.reached_through_neighbours(result, t)
    assert sorted(reached["name"]) == ["Kaloum", "Matam", "Matoto"]
    shapes = json.loads(er.plan_bytes(result, "geojson", t)[0])
    props = {f["properties"]["unit_id"]: f["properties"] for f in shapes["features"]}
    assert set(props) == {"GN-C-DIXINN", "GN-C-RATOMA"}
    assert props["GN-C-DIXINN"]["neighbours_reached"] == 2
    assert props["GN-C-DIXINN"]["neighbours_reached_names"] == "Kaloum; Matam"
    assert props["GN-C-DIXINN"]["population_reached"] == 6e4
    settings = er._settings_table(result, t).set_index("setting")["value"]
    assert settings["coverage_km"] == 10 and settings["population_file"] == "projections.csv"
    assert settings["population_source"] == "census" and settings["population_known_units"] == "5/5"


def test_an_imported_population_is_named_as_the_source():
    result = _covering_result()
    imported = result.candidates.assign(census_result=er.IMPORTED, population_rule=er.IMPORTED)
    assert er.population_source(imported) == er.IMPORTED
    assert er.population_source(result.candidates) == "census"
    imported_result = er.RolloutResult(*[getattr(result, f) for f in ("level", "scenario", "limits")], imported,
                                       result.scores, result.plan, None, "projections.csv")
    settings = er._settings_table(imported_result, t_for("en")).set_index("setting")
    assert settings.loc["population_source", "value"] == er.IMPORTED
    assert settings.loc["population_source", "label"] == "imported population table"


def test_an_excel_population_table_is_read_like_a_csv():
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Sous-préfecture", "Préfecture", "Habitants"])
    sheet.append(["Kaloum", "Conakry", 70123])
    sheet.append(["Touba", "Gaoual", 12345])
    buffer = io.BytesIO()
    book.save(buffer)
    got = er.match_population_table(buffer.getvalue(), "pop.xlsx", level="subprefecture")
    assert got.ok and got.table.set_index("unit_id")["population"].to_dict() == {
        "GN-C-KALOUM": 70123, "GN-GA-TOUBA": 12345}
