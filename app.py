"""Proximité: Streamlit entry point. Frames the app and routes; the pages live in ``views/``.

Menus follow the session's role (``views.auth``); the data layer enforces the same
rules, so a page missing from a menu is a convenience, not the protection.
"""

from __future__ import annotations

import streamlit as st

from i18n import LANGUAGES
from storage.roles import ADMINISTRATOR, COMMANDER, COUNCIL_MEMBER, PLANNER, VIEWER
from views import (
    about,
    activities,
    admin,
    auth,
    home,
    hotspots,
    imports,
    neighbourhoods,
    plans,
    programme,
    review,
    rollout,
    state,
)
from views import map as map_view
from views.common import ensure_demo_loaded, get_store, translator

EVERYONE = frozenset({ADMINISTRATOR, PLANNER, COMMANDER, COUNCIL_MEMBER, VIEWER})
#: Page -> roles that see it in the menu.
ACCESS = {
    "accueil": EVERYONE,
    "carte": EVERYONE,
    "programme": EVERYONE,
    "activites": frozenset({ADMINISTRATOR, PLANNER, COUNCIL_MEMBER}),
    "points-chauds": frozenset({ADMINISTRATOR, PLANNER, COMMANDER}),
    "quartiers": frozenset({ADMINISTRATOR, PLANNER, COUNCIL_MEMBER}),
    "plan-local": EVERYONE,
    "planification": frozenset({ADMINISTRATOR, PLANNER}),
    "importer": frozenset({ADMINISTRATOR, PLANNER, COMMANDER}),
    "verification": frozenset({ADMINISTRATOR, PLANNER, COMMANDER}),
    "administration": frozenset({ADMINISTRATOR}),
    "a-propos": EVERYONE,
}


def main() -> None:
    st.set_page_config(page_title="Proximité", page_icon="🗺️", layout="wide")
    state.init()
    with st.sidebar:
        st.radio("Langue / Language", list(LANGUAGES), key=state.LANG, format_func=LANGUAGES.get,
                 horizontal=True)
    t = translator()
    store = get_store()
    with st.spinner(t("Preparing the demo data (first start)…")):
        ensure_demo_loaded(store, store.url)
    role = auth.role_of_session()
    with st.sidebar:
        auth.sidebar(t)
    pages = {
        "accueil": st.Page(home.render, title=t("Home"), icon=":material/home:", url_path="accueil",
                           default=True),
        "carte": st.Page(map_view.render, title=t("Map"), icon=":material/map:", url_path="carte"),
        "programme": st.Page(programme.render, title=t("Programme"), icon=":material/groups:",
                             url_path="programme"),
        "activites": st.Page(activities.render, title=t("Activities"), icon=":material/edit_note:",
                             url_path="activites"),
        "points-chauds": st.Page(hotspots.render, title=t("Hot spots"), icon=":material/local_fire_department:",
                                 url_path="points-chauds"),
        "plan-local": st.Page(plans.render, title=t("Local security plan"), icon=":material/assignment:",
                              url_path="plan-local"),
        "planification": st.Page(rollout.render, title=t("Rollout planner"), icon=":material/route:",
                                 url_path="planification"),
        "quartiers": st.Page(neighbourhoods.render, title=t("Neighbourhoods"), icon=":material/holiday_village:",
                             url_path="quartiers"),
        "importer": st.Page(imports.render, title=t("Import"), icon=":material/upload_file:", url_path="importer"),
        "verification": st.Page(review.render, title=t("Review"), icon=":material/fact_check:",
                                url_path="verification"),
        "administration": st.Page(admin.render, title=t("Administration"), icon=":material/admin_panel_settings:",
                                  url_path="administration"),
        "a-propos": st.Page(about.render, title=t("About"), icon=":material/info:", url_path="a-propos"),
    }
    allowed = [page for key, page in pages.items() if role in ACCESS[key]]
    if auth.current_user() is None:  # in local mode the same page creates the first administrator
        allowed.append(st.Page(auth.render_login, title=t("Log in"), icon=":material/login:", url_path="connexion"))
    st.navigation(allowed).run()


if __name__ == "__main__":
    main()
