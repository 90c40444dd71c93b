"""The rollout planner page (AppTest, no browser): an uploaded population table is used or its bad rows listed,
a saved scenario loads back into the inputs (or changes nothing), and the covering option reports the units
reached through a neighbour in the page, the files and the PDF."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo import rollout as ro
from geo.population import population

REACHED = "within reach of a trained community"


@pytest.fixture(scope="module", autouse=True)
def demo_store(demo_app_url: str) -> str:
    """One SQLite store with the demo data for the whole module (the app loads it on first start)."""
    return demo_app_url


def _page(lang: str, session: dict | None = None) -> None:
    import streamlit as st

    from views import rollout

    st.session_state["lang"] = lang
    for key, value in (session or {}).items():
        st.session_state.setdefault(key, value)
    rollout.render()


def _app(lang: str = "en", session: dict | None = None) -> AppTest:
    at = AppTest.from_function(_page, args=(lang, session), default_timeout=180).run()
    assert not at.exception, at.exception
    return at


def _plan(at: AppTest) -> pd.DataFrame:
    """The plan table: the one dataframe with a unit id and a reason per row."""
    return next(d.value for d in at.dataframe if {"Id", "Why"} <= set(d.value.columns))


def _run_plan(at: AppTest) -> pd.DataFrame:
    at.button(key="ro_run").click().run()
    assert not at.exception, at.exception
    assert any("optimal" in s.value for s in at.success), [e.value for e in at.error]
    return _plan(at).set_index("Id")


def _text(elements) -> str:
    return " | ".join(e.value for e in elements)


# --- population table ---------------------------------------------------------------------------------


def test_an_uploaded_population_table_replaces_the_census_and_can_be_undone():
    census = population("prefecture").set_index("unit_id")["population"]
    doubled = "Préfecture;Population\n" + "".join(
        f"{name};{int(v) * 2}\n" for name, v in zip(population("prefecture")["name"], census, strict=True))
    at = _app()
    assert _run_plan(at).at["GN-C", "Population"] == census["GN-C"]
    at.file_uploader(key="ro_pop_file").upload("projections 2025.csv", doubled.encode(), "text/csv").run()
    assert not at.exception, at.exception
    assert "34 rows matched (Prefectures); 34 of 34 candidate units have a figure" in _text(at.success)
    assert "imported table projections 2025.csv" in _text(at.caption)
    plan = _run_plan(at)
    assert plan.at["GN-C", "Population"] == 2 * census["GN-C"]
    assert plan.at["GN-KA", "Population"] == 2 * census["GN-KA"]
    result = at.session_state["rollout_scenarios"]["Scenario 1"]
    assert result.population_file == "projections 2025.csv" and result.population_source == "imported"
    # back to the census: the uploader empties and the census figures return
    at.button(key="ro_pop_census").click().run()
    assert not at.exception, at.exception
    assert not at.file_uploader(key="ro_pop_file_1").value
    assert _run_plan(at).at["GN-C", "Population"] == census["GN-C"]


def test_bad_population_rows_are_listed_and_the_census_is_kept():
    data = b"unit_id;population\nGN-C;100\nGN-XX;5\nGN-KA;beaucoup\n"
    at = _app(session={"ro_level": "prefecture"})
    at.file_uploader(key="ro_pop_file").upload("pop.csv", data, "text/csv").run()
    assert not at.exception, at.exception
    assert "pop.csv is not used: 2 of 3 rows do not match" in _text(at.error)
    problems = next(d.value for d in at.dataframe if "Row" in d.value.columns)
    assert problems["Row"].tolist() == [3, 4]
    assert problems["Value"].tolist() == ["GN-XX", "beaucoup"]
    assert problems["Why"].tolist() == ["no unit of this name or id",
                                        "the population is not a number of zero or more"]
    assert set(problems["File"]) == {"pop.csv"}
    assert "Rows matched: 1 of 3 (Prefectures)." in _text(at.caption)
    assert "2014 census figure" in _text(at.caption)
    census = population("prefecture").set_index("unit_id")["population"]
    assert _run_plan(at).at["GN-C", "Population"] == census["GN-C"]  # not the file's 100


def test_a_population_file_over_the_limit_is_refused(monkeypatch):
    import views.rollout

    monkeypatch.setattr(views.rollout, "MAX_UPLOAD_MB", 0.0001)  # 100 bytes
    at = _app()
    at.file_uploader(key="ro_pop_file").upload("big.csv", b"code;population\n" + b"GN-C;1\n" * 40,
                                               "text/csv").run()
    assert not at.exception, at.exception
    assert "big.csv is larger than" in _text(at.error)


# --- saved scenarios ------------------------------------------------------------------------------------


def test_loading_a_saved_scenario_sets_the_inputs():
    scenario = ro.Scenario("Zones rurales", {"incidents_per_10000": 4.5, "population": 1.0},
                           directions={"distance_to_trained_km": "readiness"}, method="rank",
                           missing="impute_median",
                           limits=ro.Limits(instructors=20, phases=2, budget_per_phase=9e8, budget_total=1.5e9),
                           coverage_km=60.0)
    at = _app()
    at.file_uploader(key="ro_scenario_file").upload("zones.json", scenario.to_json().encode(),
                                                    "application/json").run()
    assert not at.exception, at.exception
    assert "Scenario “Zones rurales” loaded from zones.json" in _text(at.success)
    assert at.slider(key="ro_w_incidents_per_10000").value == 4.5
    assert at.slider(key="ro_w_sensitive_per_10000").value == 0.0  # not in the file: weight 0
    assert at.selectbox(key="ro_d_distance_to_trained_km").value == "readiness"
    assert at.radio(key="ro_method").value == "rank" and at.radio(key="ro_missing").value == "impute_median"
    assert at.number_input(key="ro_instructors").value == 20 and at.number_input(key="ro_phases").value == 2
    assert at.number_input(key="ro_budget").value == 900 and at.number_input(key="ro_budget_total").value == 1500
    assert at.checkbox(key="ro_cover").value and at.number_input(key="ro_cover_km").value == 60.0
    assert at.text_input(key="ro_name").value == "Zones rurales"
    # the plan made from the loaded inputs is the file's scenario
    _run_plan(at)
    result = at.session_state["rollout_scenarios"]["Zones rurales"]
    assert result.scenario.weights["incidents_per_10000"] == 4.5 and result.scenario.method == "rank"
    assert result.limits.budget_total == 1.5e9 and result.plan.coverage_km == 60.0


def test_a_scenario_downloaded_from_the_page_loads_back():
    at = _app()
    at.slider(key="ro_w_population").set_value(3.5)
    at.number_input(key="ro_instructors").set_value(33)
    _run_plan(at)
    saved = next(b for b in at.get("download_button") if b.proto.label == "Scenario (JSON)")
    assert saved
    data = at.session_state["rollout_scenarios"]["Scenario 1"].scenario.to_json().encode()
    fresh = _app()
    fresh.file_uploader(key="ro_scenario_file").upload("s.json", data, "application/json").run()
    assert not fresh.exception, fresh.exception
    assert fresh.slider(key="ro_w_population").value == 3.5
    assert fresh.number_input(key="ro_instructors").value == 33


def test_a_scenario_brings_its_level_and_units_and_an_older_file_keeps_the_pages():
    scenario = ro.Scenario("Préfectures", {"population": 1.0}, level="prefecture", covered=("GN-C",),
                           include=("GN-KA", "GN-LA"), exclude=("GN-SI",))
    at = _app()
    at.file_uploader(key="ro_scenario_file").upload("p.json", scenario.to_json().encode(), "application/json").run()
    assert not at.exception, at.exception
    assert at.radio(key="ro_level").value == "prefecture"
    assert at.multiselect(key="ro_covered").value == ["prefecture:GN-C"]
    assert at.multiselect(key="ro_include").value == ["prefecture:GN-KA", "prefecture:GN-LA"]
    assert at.multiselect(key="ro_exclude").value == ["prefecture:GN-SI"]
    _run_plan(at)
    result = at.session_state["rollout_scenarios"]["Préfectures"]
    assert (result.level, result.scenario.include, result.scenario.exclude) == ("prefecture", ("GN-KA", "GN-LA"),
                                                                                ("GN-SI",))
    from pypdf import PdfReader

    from exchange import rollout as rx
    from i18n import t_for
    from views import rollout as page

    t = t_for("en")
    pdf = PdfReader(io.BytesIO(page._pdf(t, result, "prefecture", rx.plan_table(result, t))))
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "Already covered Conakry" in text and "Must be chosen Kankan, Labé" in text
    assert "Must not be chosen Siguiri" in text
    older = {"name": "Ancien", "weights": {"population": 2}}  # saved before scenarios carried units
    at.file_uploader(key="ro_scenario_file").upload("a.json", json.dumps(older).encode(), "application/json").run()
    assert not at.exception, at.exception
    assert at.radio(key="ro_level").value == "prefecture"
    assert at.multiselect(key="ro_include").value == ["prefecture:GN-KA", "prefecture:GN-LA"]


def test_weights_above_the_slider_range_are_scaled_and_keep_their_ratios():
    doc = {"name": "Grand", "weights": {"incidents_per_10000": 30, "population": 10}}
    at = _app()
    at.file_uploader(key="ro_scenario_file").upload("g.json", json.dumps(doc).encode(), "application/json").run()
    assert not at.exception, at.exception
    assert at.slider(key="ro_w_incidents_per_10000").value == 5.0
    assert at.slider(key="ro_w_population").value == pytest.approx(5 / 3, abs=1e-6)
    assert "scaled" in _text(at.caption) and "limits on the page are unchanged" in _text(at.caption)


@pytest.mark.parametrize("body, reason", [
    (b'{"name": "x", "weights": {"incidents_per_10000": "high"}}', "weights are not numbers"),
    (b'{"name": "x", "weights": {"incidents_per_10000": 1}', "not JSON text"),
    (b'{"name": "x", "weights": {"rainfall": 1}}', "criteria that the planner does not know"),
    (b'{"name": "x", "weights": {"population": 1}, "limits": {"phases": 9}}', "values this page cannot set"),
])
def test_a_malformed_scenario_gives_its_reason_and_changes_nothing(body, reason):
    at = _app()
    at.slider(key="ro_w_incidents_per_10000").set_value(2.5)
    at.text_input(key="ro_name").set_value("Mine")
    at.number_input(key="ro_instructors").set_value(12).run()
    before = {k: at.session_state[k] for k in ("ro_w_incidents_per_10000", "ro_w_population", "ro_name",
                                               "ro_instructors", "ro_phases", "ro_method", "ro_cover")}
    at.file_uploader(key="ro_scenario_file").upload("bad.json", body, "application/json").run()
    assert not at.exception, at.exception
    errors = _text(at.error)
    assert "bad.json was not loaded" in errors and reason in errors and "Nothing was changed." in errors
    assert {k: at.session_state[k] for k in before} == before
    assert not at.success or all("loaded" not in s.value for s in at.success)


def test_the_scenario_error_goes_through_the_translation_layer():
    at = _app("fr")
    at.file_uploader(key="ro_scenario_file").upload("mauvais.json", b"[1]", "application/json").run()
    assert not at.exception, at.exception
    from exchange.rollout import SCENARIO_ERROR_LABELS
    from i18n import t_for

    assert t_for("fr")(SCENARIO_ERROR_LABELS["not_object"]) in _text(at.error)


# --- maximal covering -----------------------------------------------------------------------------------


def test_covering_reports_the_units_reached_through_a_neighbour():
    from exchange import rollout as rx
    from i18n import t_for
    from views import rollout as page

    at = _app(session={"ro_instructors": 10, "ro_phases": 2})
    plain = _run_plan(at)
    assert not (plain["Why"] == REACHED).any()
    at.checkbox(key="ro_cover").check().run()
    at.number_input(key="ro_cover_km").set_value(80.0)
    at.text_input(key="ro_name").set_value("Covering").run()
    plan = _run_plan(at)
    reached = plan[plan["Why"] == REACHED]
    assert len(reached) >= 1
    trained = set(plan.loc[plan["Phase"].notna(), "Unit"])
    assert reached["Reached by"].notna().all() and set(reached["Reached by"]) <= trained
    # every unit within reach of a newly trained one counts, whatever else kept it out (here: none)
    via = plan[plan["Phase"].isna() & (plan["Reached in phase"].fillna(0) >= 1)]
    assert set(via.index) == set(reached.index)
    metrics = {m.label: int(m.value.replace(",", "")) for m in at.metric}
    assert metrics["Units reached through a neighbour"] == len(via)
    assert metrics["Population reached through neighbours"] == int(via["Population"].sum())
    assert metrics["Population reached in all"] == (metrics["Population of the units trained"]
                                                     + metrics["Population reached through neighbours"])
    # files and the printed summary carry it too
    result = at.session_state["rollout_scenarios"]["Covering"]
    t = t_for("en")
    shapes = json.loads(rx.plan_bytes(result, "geojson", t)[0])
    assert sum(f["properties"]["neighbours_reached"] for f in shapes["features"]) == len(reached)
    csv = pd.read_csv(io.BytesIO(rx.plan_bytes(result, "csv", t)[0]), encoding="utf-8-sig")
    assert set(csv.loc[csv["reason"] == REACHED, "reached_by_name"]) == set(reached["Reached by"])

    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(page._pdf(t, result, "prefecture", rx.plan_table(result, t))))
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "Units reached through a neighbour" in text and "Maximal covering 80 km" in text
    assert "Population source 2014 census figure" in text
    assert reached["Unit"].iloc[0] in text


def test_a_scenario_with_a_missing_value_rule_per_criterion_keeps_it():
    doc = {"name": "Mixte", "weights": {"incidents_per_10000": 2, "population": 1},
           "missing": {"population": "impute_median"}}
    at = _app()
    at.file_uploader(key="ro_scenario_file").upload("m.json", json.dumps(doc).encode(), "application/json").run()
    assert not at.exception, at.exception
    assert at.radio(key="ro_missing").value == "per_criterion"
    assert "rule for each criterion" in _text(at.caption)
    _run_plan(at)
    result = at.session_state["rollout_scenarios"]["Mixte"]
    assert result.scores.missing == {"incidents_per_10000": "exclude", "population": "impute_median"}


@pytest.mark.parametrize(("level", "rule", "said", "not_said"), [
    ("prefecture", "census", "recensement de 2014 par préfecture, résultats définitifs ou provisoires", "superficie"),
    ("subprefecture", "area", "selon leur superficie", "définitifs"),
    ("subprefecture", "equal", "part égale de sa préfecture", "superficie"),
])
def test_the_pdf_population_note_follows_the_level_and_rule(level, rule, said, not_said):
    from i18n import Translator
    from views.rollout import _population_note

    candidates = pd.DataFrame({"unit_id": ["A", "B"], "population": [1000.0, None],
                               "census_result": ["final", "preliminary"], "population_rule": [rule, rule]})
    note = _population_note(Translator("fr"), candidates, level, None)
    assert said in note and not_said not in note
