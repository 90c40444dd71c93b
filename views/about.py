"""About page ("À propos"): sources, licences and the census figures behind every rate."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.boundaries import CENSUS_SOURCE, load_population
from layers.boundaries import ATTRIBUTION
from views.common import translator


def render() -> None:
    t = translator()
    st.title(t("About and credits"))
    st.subheader(t("Data sources"))
    population = t("Population")
    st.markdown(f"- {t(ATTRIBUTION)}\n- {population}: {CENSUS_SOURCE}.")
    st.markdown(t(
        "Census figures are final for the Boké, Faranah, Kindia, Mamou and Nzérékoré regions and "
        "preliminary for Conakry and the Kankan and Labé regions; every rate shows which."
    ))
    pop = load_population()
    table = pd.DataFrame({
        t("Prefecture"): pop["prefecture"],
        t("Region"): pop["region"],
        t("Population 2014"): pop["population_2014"].map(t.n),
        t("Census result"): pop["census_result"].map(lambda r: t("final") if r == "final" else t("preliminary")),
    })
    st.dataframe(table, hide_index=True, width="stretch")
    st.subheader(t("Software"))
    st.markdown(t(
        "Proximité is free software. Maps use Leaflet, served by the application itself so that "
        "it works without internet; basemap tiles are optional."
    ))
    st.info(t("Demo data is synthetic. It reproduces the programme's published totals "
              "but describes no real event or person."))
