"""Home page ("Accueil"): what Proximité is for, and what the store holds."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from i18n import N_
from views.common import demo_notice, get_store, store_counts, translator

TABLE_LABELS = {
    "incident": N_("Incident reports"),
    "road_crash": N_("Road crashes"),
    "station": N_("Police stations and posts"),
    "council": N_("Local security councils (CLSPD)"),
    "council_meeting": N_("Council meetings"),
    "school": N_("Schools"),
    "outreach_officer": N_("Police-at-school officers"),
    "school_visit": N_("School visits"),
    "women_visit_day": N_("Women's visitation days"),
    "instructor": N_("Instructors"),
    "training": N_("Trainings"),
}


def render() -> None:
    t = translator()
    st.title(t("Proximité — community policing in Guinea"))
    st.markdown(t(
        "Proximité puts community policing on maps: administrative units, incident reports, "
        "local security councils, school outreach, women's visitation days, trainings and road safety. "
        "Councils plan, planners choose where to go next, commanders review hotspots."
    ))
    demo_notice(t)
    store = get_store()
    counts = store_counts(store.url)
    table = pd.DataFrame(
        [{t("Records"): t(label), t("Count"): t.n(counts.get(name, 0))} for name, label in TABLE_LABELS.items()]
    )
    st.subheader(t("What the database holds"))
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(t("Storage: {url}", url=store.url))
