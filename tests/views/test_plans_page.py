"""The local security plan page, driven through Streamlit's AppTest on the demo data (no browser).

Drawing on the map needs a browser (tests/e2e/test_plan_flow.py); here the same
workflow runs through the page's forms: create, take a hot spot as a priority,
add an action, adopt, record progress, make a new version and compare.
"""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from exchange.plans import plan_unit
from storage import open_store


@pytest.fixture(scope="module")
def demo_url(demo_app_url: str) -> str:
    return demo_app_url


def _page(lang: str) -> None:
    import streamlit as st

    from views import plans

    st.session_state["lang"] = lang
    plans.render()


def _by_label(widgets, label: str):
    hits = [w for w in widgets if w.label == label]
    assert hits, f"no widget labelled {label!r} among {[w.label for w in widgets]}"
    return hits[0]


def _click(at: AppTest, label: str) -> AppTest:
    return _by_label(at.button, label).click().run()


def test_council_goes_from_diagnosis_to_adopted_plan_and_follows_it_up(demo_url):
    at = AppTest.from_function(_page, args=("en",), default_timeout=180).run()
    assert not at.exception, at.exception
    _by_label(at.selectbox, "Commune, sub-prefecture or neighbourhood").set_value("subprefecture:GN-C-MATAM")
    at = _click(at, "Create the plan")
    assert not at.exception, at.exception
    store = open_store(demo_url)
    plans = store.plans()
    assert plans["is_demo"].tolist().count(True) == 1  # the demo plan of Kaloum, loaded on first start
    plans = plans[~plans["is_demo"]]
    assert len(plans) == 1 and plans["unit_id"].iloc[0] == "GN-C-MATAM"
    assert plans["title"].iloc[0].startswith("Local security plan of Matam")
    plan_id = int(plans["id"].iloc[0])

    # Diagnosis figures on the page are the service's, and a hot spot becomes a priority.
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Incidents reported"].replace(",", "")) > 0
    _by_label(at.text_input, "Priority").set_value("Marché <b>central</b>")
    at = _click(at, "Add as a priority")
    assert not at.exception, at.exception
    priorities = store.plan_priorities(plan_id)
    assert priorities["title"].tolist() == ["Marché <b>central</b>"]
    assert priorities["source"].iloc[0] == "hotspot" and priorities["kind"].iloc[0] == "area"

    # An action linked to it.
    new = f"pl_new_action_{plan_id}"
    at.selectbox(key=f"{new}_prio").set_value(int(priorities["id"].iloc[0]))
    at.text_input(key=f"{new}_title").set_value("Joint foot patrols on market days")
    at.text_input(key=f"{new}_resp").set_value("Matam police station")
    at.number_input(key=f"{new}_budget").set_value(12_000_000.0)
    at.text_input(key=f"{new}_ind").set_value("Thefts reported per month")
    at.number_input(key=f"{new}_baseline").set_value(20.0)
    at.number_input(key=f"{new}_target").set_value(10.0)
    at = _click(at, "Add the action")
    assert not at.exception, at.exception
    actions = store.plan_actions(plan_id)
    assert actions["title"].tolist() == ["Joint foot patrols on market days"]
    assert actions["budget_gnf"].iloc[0] == 12_000_000.0

    # Adoption needs the council's confirmation and a signatory.
    at = _click(at, "Adopt the plan")
    assert any("Tick the box" in e.value for e in at.error)
    assert store.plan(plan_id)["status"] == "draft"
    _by_label(at.checkbox, "The council adopted this plan in session").check()
    at = _click(at, "Adopt the plan")
    assert any("Name at least one signatory" in e.value for e in at.error)
    assert store.plan(plan_id)["status"] == "draft"

    at.text_input(key="pl_sign_name_0").set_value("Mariama Camara")
    at.text_input(key="pl_sign_name_4").set_value("Fatoumata Bah")
    at.text_input(key="pl_sign_role_4").set_value("Présidente des femmes du marché")
    at = _click(at, "Adopt the plan")
    assert not at.exception, at.exception
    plan = store.plan(plan_id)
    assert plan["status"] == "adopted"
    assert plan["signatories"] == [{"name": "Mariama Camara", "role": "Mayor, chair of the council"},
                                   {"name": "Fatoumata Bah", "role": "Présidente des femmes du marché"}]
    frozen = plan["diagnosis"]
    assert frozen["unit"]["unit_id"] == "GN-C-MATAM" and frozen["incidents"]["total"] > 0
    assert any("Adopted on" in s.value for s in at.success)

    # Follow-up: a value half-way to the target shows as 50 % progress.
    at.number_input(key="pl_fu_value").set_value(15.0)
    at.selectbox(key="pl_fu_status").set_value("in_progress")
    at = _click(at, "Record")
    assert not at.exception, at.exception
    followups = store.plan_followups(plan_id)
    assert followups["indicator_value"].tolist() == [15.0] and followups["status"].tolist() == ["in_progress"]

    # A new version is a draft copy; the versions tab compares them.
    at = _click(at, "Make a new version to change the plan")
    assert not at.exception, at.exception
    series = store.plans(series_id=plan_id).sort_values("version_no")
    assert series["status"].tolist() == ["adopted", "draft"]
    assert store.plan_actions(int(series["id"].iloc[1]))["origin_id"].tolist() == actions["id"].tolist()
    assert any("unchanged" in str(df.value.to_csv()) for df in at.dataframe)


def test_pdf_of_the_plan_is_prepared_in_french(demo_url):
    store = open_store(demo_url)
    assert len(store.plans()) >= 1
    at = AppTest.from_function(_page, args=("fr",), default_timeout=180).run()
    assert not at.exception, at.exception
    at = _by_label(at.button, "Préparer le PDF").click().run()
    assert not at.exception, at.exception
    pdf = [b for b in at.get("download_button") if b.proto.label == "Télécharger le plan (PDF)"]
    assert pdf, "no PDF download offered"


def test_a_second_editor_gets_a_conflict_and_keeps_their_text(demo_url):
    store = open_store(demo_url)
    plan_id = store.create_plan(plan_unit("subprefecture", "GN-C-KALOUM"), title="Plan de Kaloum",
                                period_start=date(2027, 1, 1), period_end=date(2027, 12, 31))
    first = AppTest.from_function(_page, args=("fr",), default_timeout=180)
    second = AppTest.from_function(_page, args=("fr",), default_timeout=180)
    for at in (first, second):
        at.session_state["pl_plan"] = plan_id
        at.run()
        assert not at.exception, at.exception
    key = f"pl_note_{plan_id}_consultations"
    first.text_area(key=key).input("Marche exploratoire avec les femmes du marché, 3 mars")
    first = _by_label(first.button, "Enregistrer les constats").click().run()
    assert not first.exception, first.exception
    mine = "Consultation des jeunes du quartier Hafia, 5 mars"
    second.text_area(key=key).input(mine)
    second = _by_label(second.button, "Enregistrer les constats").click().run()
    assert any("Quelqu'un d'autre a enregistré" in e.value for e in second.error)
    assert second.text_area(key=key).value == mine  # the second person's text is still there
    assert store.plan(plan_id)["notes"]["consultations"] == "Marche exploratoire avec les femmes du marché, 3 mars"
    second = _by_label(second.button, "Recharger la version enregistrée").click().run()
    assert second.text_area(key=key).value == "Marche exploratoire avec les femmes du marché, 3 mars"


def test_adopting_a_plan_changed_meanwhile_is_refused_until_the_council_has_seen_it(demo_url):
    import shapely

    store = open_store(demo_url)
    plan_id = store.create_plan(plan_unit("subprefecture", "GN-C-KALOUM"), title="Plan de Kaloum 2028",
                                period_start=date(2028, 1, 1), period_end=date(2028, 12, 31))
    store.add_priority(plan_id, {"title": "Port"}, shapely.Point(-13.71, 9.51), kind="point")
    aid = store.add_action(plan_id, {"title": "Patrouilles", "responsible": "Commissariat", "budget_gnf": 1_000_000,
                                     "start_on": "2028-01-01", "end_on": "2028-06-30"})
    at = AppTest.from_function(_page, args=("fr",), default_timeout=180)
    at.session_state["pl_plan"] = plan_id
    at.run()
    assert any("1 priorité(s) et 1 action(s), pour un budget de 1 000 000 GNF" in m.value.replace("\u202f", " ")
               for m in at.markdown), [m.value for m in at.markdown]
    store.update_action(aid, {"budget_gnf": 90_000_000}, version=1)  # someone else, while the council looks
    at.text_input(key="pl_sign_name_0").set_value("Mariama Camara")
    _by_label(at.checkbox, "Le conseil a adopté ce plan en séance").check()
    at = _click(at, "Adopter le plan")
    assert any("modifié par quelqu'un d'autre" in e.value for e in at.error), [e.value for e in at.error]
    assert store.plan(plan_id)["status"] == "draft"
    assert any("90 000 000 GNF" in m.value.replace("\u202f", " ") for m in at.markdown)  # now shown
    at = _click(at, "Adopter le plan")
    assert not at.exception, at.exception
    assert store.plan(plan_id)["status"] == "adopted"
    assert store.plan_actions(plan_id)["budget_gnf"].tolist() == [90_000_000.0]


def test_priorities_come_from_a_file_and_what_does_not_fit_is_listed(demo_url):
    import json

    import shapely

    store = open_store(demo_url)
    plan_id = store.create_plan(plan_unit("subprefecture", "GN-C-MATAM"), title="Plan importé",
                                period_start=date(2028, 1, 1), period_end=date(2028, 12, 31))
    features = [
        {"type": "Feature", "properties": {"titre": "Marché <img src=x onerror=alert(1)>", "categorie": "Vol simple"},
         "geometry": shapely.geometry.mapping(shapely.box(-13.664, 9.542, -13.662, 9.544))},
        {"type": "Feature", "properties": {"titre": "Carrefour", "rang": 1},
         "geometry": {"type": "Point", "coordinates": [-13.657, 9.546]}},
        {"type": "Feature", "properties": {"titre": "À Kankan"},
         "geometry": {"type": "Point", "coordinates": [-9.306, 10.385]}},
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    at = AppTest.from_function(_page, args=("fr",), default_timeout=180)
    at.session_state["pl_plan"] = plan_id
    at.run()
    assert not at.exception, at.exception
    at.file_uploader(key=f"pl_import_{plan_id}_0").upload("priorites.geojson", data, "application/geo+json").run()
    assert not at.exception, at.exception
    assert any("3 élément(s), 2 prêt(s) à importer, 1 mis de côté" in m.value for m in at.markdown)
    aside = next(d.value for d in at.dataframe if "Élément" in d.value.columns)
    assert aside["Élément"].tolist() == [3] and aside["Titre"].tolist() == ["À Kankan"]
    assert "en dehors de l'unité" in aside["Pourquoi"].iloc[0]
    assert store.plan_priorities(plan_id).empty  # nothing stored before the user confirms
    at = _click(at, "Importer les priorités conformes (2)")
    assert not at.exception, at.exception
    got = store.plan_priorities(plan_id)
    assert got["title"].tolist() == ["Carrefour", "Marché <img src=x onerror=alert(1)>"]  # ranked first, then the rest
    assert got["category"].fillna("").tolist() == ["", "vol"] and got["rank"].tolist() == [1, 2]
    assert any("2 priorité(s) importée(s) depuis priorites.geojson" in s.value for s in at.success)
