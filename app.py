"""Proximité: Streamlit entry point. Frames the app and routes; the pages live in ``views/``."""

from __future__ import annotations

import streamlit as st

from i18n import LANGUAGES
from views import about, activities, home, hotspots, imports, neighbourhoods, programme, review, state
from views import map as map_view
from views.common import ensure_demo_loaded, get_store, translator


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
    pages = [
        st.Page(home.render, title=t("Home"), icon=":material/home:", url_path="accueil", default=True),
        st.Page(map_view.render, title=t("Map"), icon=":material/map:", url_path="carte"),
        st.Page(programme.render, title=t("Programme"), icon=":material/groups:", url_path="programme"),
        st.Page(activities.render, title=t("Activities"), icon=":material/edit_note:", url_path="activites"),
        st.Page(hotspots.render, title=t("Hot spots"), icon=":material/local_fire_department:",
                url_path="points-chauds"),
        st.Page(neighbourhoods.render, title=t("Neighbourhoods"), icon=":material/holiday_village:",
                url_path="quartiers"),
        st.Page(imports.render, title=t("Import"), icon=":material/upload_file:", url_path="importer"),
        st.Page(review.render, title=t("Review"), icon=":material/fact_check:", url_path="verification"),
        st.Page(about.render, title=t("About"), icon=":material/info:", url_path="a-propos"),
    ]
    st.navigation(pages).run()


if __name__ == "__main__":
    main()
