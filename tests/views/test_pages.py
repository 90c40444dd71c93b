"""Every page runs without exception in both languages (Streamlit AppTest, no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["views.home", "views.map", "views.programme", "views.activities", "views.hotspots", "views.neighbourhoods",
         "views.rollout", "views.plans", "views.imports", "views.review", "views.admin", "views.auth", "views.about"]
TITLES = {
    ("views.home", "fr"): "Proximité — la police de proximité en Guinée",
    ("views.home", "en"): "Proximité — community policing in Guinea",
    ("views.map", "fr"): "Carte",
    ("views.map", "en"): "Map",
    ("views.programme", "fr"): "Programme de police de proximité",
    ("views.programme", "en"): "Community policing programme",
    ("views.activities", "fr"): "Activités du programme",
    ("views.activities", "en"): "Programme activities",
    ("views.neighbourhoods", "fr"): "Quartiers",
    ("views.neighbourhoods", "en"): "Neighbourhoods",
    ("views.rollout", "fr"): "Planification",
    ("views.rollout", "en"): "Rollout planner",
    ("views.plans", "fr"): "Plan local de sécurité",
    ("views.plans", "en"): "Local security plan",
    ("views.admin", "fr"): "Administration",
    ("views.admin", "en"): "Administration",
    ("views.auth", "fr"): "Se connecter",
    ("views.auth", "en"): "Log in",
    ("views.hotspots", "fr"): "Points chauds",
    ("views.hotspots", "en"): "Hot spots",
    ("views.imports", "fr"): "Importer des incidents",
    ("views.imports", "en"): "Import incidents",
    ("views.review", "fr"): "Lignes à vérifier",
    ("views.review", "en"): "Rows to review",
    ("views.about", "fr"): "À propos et crédits",
    ("views.about", "en"): "About and credits",
}


@pytest.fixture(scope="module", autouse=True)
def demo_store(demo_app_url: str) -> str:
    """One SQLite store with the demo data for the whole module (the app loads it on first start)."""
    return demo_app_url


def _page(module: str, lang: str, session: dict | None = None) -> None:
    import importlib

    import streamlit as st

    st.session_state["lang"] = lang
    for key, value in (session or {}).items():
        st.session_state.setdefault(key, value)
    page = importlib.import_module(module)
    (page.render_login if module == "views.auth" else page.render)()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("module", PAGES)
def test_page_runs_in_both_languages(module, lang):
    at = AppTest.from_function(_page, args=(module, lang), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value == TITLES[(module, lang)]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("level", ["region", "prefecture", "subprefecture"])
def test_map_page_at_every_level_with_a_search(lang, level):
    at = AppTest.from_function(_page, args=("views.map", lang, {"map_level": level, "map_query": "nzerekore"}),
                               default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.radio(key="map_level").value == level
    choice = at.selectbox(key="map_choice")
    assert "Nzérékoré" in str(choice.value)
    at.text_input(key="map_query").set_value("xqzwv").run()
    assert not at.exception
    assert any("xqzwv" in i.value for i in at.info)


def test_home_shows_demo_notice_and_counts():
    at = AppTest.from_function(_page, args=("views.home", "fr"), default_timeout=60).run()
    assert any("démonstration" in w.value for w in at.warning)
    counts = at.dataframe[0].value
    assert (counts.iloc[:, 1] != "0").all()


def test_app_switches_language_from_the_sidebar():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value == TITLES[("views.home", "fr")]
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception, at.exception
    assert at.title[0].value == TITLES[("views.home", "en")]


def test_hotspot_page_shows_the_planted_clusters_and_their_trends():
    at = AppTest.from_function(_page, args=("views.hotspots", "en", {"hot_bandwidth": 1000}),
                               default_timeout=120).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Hot spot hexagons"].replace(",", "")) > 0
    top = at.dataframe[0].value
    assert len(top) == 10 and top["Gi* z-score"].is_monotonic_decreasing
    assert {"Nzérékoré Centre", "Matam (Conakry)"} <= set(top["Place"])
    assert not [w for w in at.warning if "hexagons" in w.value]
    at = AppTest.from_function(_page, args=("views.hotspots", "en", {"hot_view": "emerging"}),
                               default_timeout=120).run()
    assert not at.exception, at.exception
    summary = at.dataframe[0].value
    assert "Intensifying hot spot" in set(summary["Pattern"])


def test_hotspot_page_refuses_a_huge_study_area_with_a_clear_message():
    at = AppTest.from_function(_page, args=("views.hotspots", "fr", {"hot_res": 9}), default_timeout=120).run()
    assert not at.exception, at.exception
    assert any("hexagones" in w.value for w in at.warning)


@pytest.mark.parametrize("method", ["cells", "roads"])
def test_hotspot_page_ranks_the_planted_black_spots(method):
    at = AppTest.from_function(_page, args=("views.hotspots", "fr", {"hot_view": "blackspots", "bs_method": method}),
                               default_timeout=120).run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value
    assert list(table["Rang"][:3]) == [1, 2, 3]
    assert table["Lieu"].head(2).str.contains("Coyah").all()  # Km 36 and the Coyah descent
    assert table["Score"].is_monotonic_decreasing


def test_programme_dashboard_recomputes_the_programme_figures_from_records():
    from demo.programme import PROGRAMME_FIGURES

    at = AppTest.from_function(_page, args=("views.programme", "en"), default_timeout=120).run()
    assert not at.exception, at.exception
    metrics = {m.label: int(m.value.replace(",", "")) for m in at.metric}
    assert metrics == {"Instructors": PROGRAMME_FIGURES["instructors"],
                       "Officers trained": PROGRAMME_FIGURES["officers_trained"],
                       "Communities trained": PROGRAMME_FIGURES["communities"],
                       "Police-at-school officers": PROGRAMME_FIGURES["school_officers"],
                       "Students reached": PROGRAMME_FIGURES["students"],
                       "Women at visitation days": PROGRAMME_FIGURES["women"],
                       "Visitation days": PROGRAMME_FIGURES["visitation_days"]}
    table = at.dataframe[-1].value
    assert len(table) >= 34 and "Officers trained per 10,000 inhabitants" in table.columns


def test_activities_page_saves_a_council_and_refuses_bad_counts():
    at = AppTest.from_function(_page, args=("views.activities", "en", {"rec_table": "council"}),
                               default_timeout=60).run()
    assert not at.exception, at.exception
    at.text_input(key="rec_council_name_0").set_value("CLSPD <b>Kaloum</b>")
    at.selectbox(key="rec_council_subprefecture_0").set_value("GN-C-KALOUM")
    at.number_input(key="rec_council_members_total_0").set_value(10)
    at.number_input(key="rec_council_members_women_0").set_value(12)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert any("Not saved" in e.value for e in at.error)
    at.number_input(key="rec_council_members_women_0").set_value(4)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert any("saved" in s.value for s in at.success), [e.value for e in at.error]
    recorded = next(df.value for df in at.dataframe if "Name" in df.value.columns)
    assert "CLSPD <b>Kaloum</b>" in set(recorded["Name"])


def test_rollout_page_plans_two_scenarios_and_compares_them():
    at = AppTest.from_function(_page, args=("views.rollout", "en"), default_timeout=180).run()
    assert not at.exception, at.exception
    at.button(key="ro_run").click().run()
    assert not at.exception, at.exception
    assert any("optimal" in s.value for s in at.success)
    plan = at.dataframe[1].value
    assert plan["Phase"].dropna().astype(int).between(1, 3).all()
    at.text_input(key="ro_name").set_value("No incidents weight")
    at.slider(key="ro_w_incidents_per_10000").set_value(0.0)
    at.button(key="ro_run").click().run()
    assert not at.exception, at.exception
    assert any("Compare scenarios" in h.value for h in at.subheader)


def test_rollout_page_prints_a_pdf_summary():
    import io

    from pypdf import PdfReader

    from exchange import rollout as rx
    from i18n import t_for
    from views import rollout as page

    at = AppTest.from_function(_page, args=("views.rollout", "fr"), default_timeout=180).run()
    at.button(key="ro_run").click().run()
    at.button(key="ro_pdf_prepare").click().run()
    assert not at.exception, at.exception
    assert any(b.proto.label == "Télécharger le résumé PDF" for b in at.get("download_button"))
    result = next(iter(at.session_state["rollout_scenarios"].values()))
    t = t_for("fr")
    reader = PdfReader(io.BytesIO(page._pdf(t, result, "prefecture", rx.plan_table(result, t))))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "Plan de déploiement de la police de proximité" in text and "Conakry" in text
    assert reader.pages[0].images, "the map image is missing"
