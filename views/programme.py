"""Programme dashboard ("Programme"): the community-policing programme recomputed from its records.

Headline figures, trends per month, a coverage map with the programme layers
and indicators per unit: all from the stored records of the chosen period and
units, nothing typed in. Planners read the gaps here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import folium

from exchange.export import to_csv
from geo import indicators
from geo.boundaries import LEVELS, load_display, load_outline
from i18n import N_, Translator
from layers import basemap, boundaries, councils, incidents, schools, stations, trainings, women_days
from layers.mapframe import TileConfig, finish, make_map
from storage.programme import ProgrammeFilter
from views.common import demo_notice, get_store, has_demo, store_counts, translator
from views.incident_filters import unit_label, unit_options

#: Headline figures in display order (keys of geo.indicators.headline).
HEADLINES = {
    "instructors": N_("Instructors"),
    "officers_trained": N_("Officers trained"),
    "communities": N_("Communities trained"),
    "school_officers": N_("Police-at-school officers"),
    "students": N_("Students reached"),
    "women": N_("Women at visitation days"),
    "visitation_days": N_("Visitation days"),
}
LAYERS = {
    "councils": N_("Council coverage"),
    "schools": N_("School outreach"),
    "women_days": N_("Women's visitation days"),
    "trainings": N_("Trainings"),
    "stations": N_("Police stations"),
}
SERIES = {
    "students_reached": N_("Students reached"),
    "school_visits": N_("School visits"),
    "women": N_("Women at visitation days"),
    "women_days": N_("Visitation days"),
    "meetings": N_("Council meetings"),
    "officers_trained": N_("Officers trained"),
}
INDICATOR_COLUMNS = {
    "name": N_("Unit"),
    "population": N_("Population 2014"),
    "share_with_council": N_("Sub-prefectures with a council"),
    "share_with_active_council": N_("Sub-prefectures with an active council"),
    "women_share": N_("Women in councils"),
    "youth_share": N_("Youth in councils"),
    "students_reached": N_("Students reached"),
    "students_per_1000_inhabitants": N_("Students reached per 1,000 inhabitants"),
    "stations_with_women_days": N_("Stations holding women's days"),
    "officers_trained": N_("Officers trained"),
    "officers_per_10000": N_("Officers trained per 10,000 inhabitants"),
    "distance_to_trained_km": N_("Distance to a trained community (km)"),
    "distance_to_station_km": N_("Distance to a station (km)"),
}
ACTIVE_DAYS = 365


def _version() -> tuple:
    return tuple(sorted(store_counts(get_store().url).items()))


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _frames(store_url: str, version: tuple, flt: ProgrammeFilter) -> dict[str, pd.DataFrame]:
    return get_store().programme_frames(flt)


@dataclass(frozen=True)
class Choice:
    """Units (read from the store) and the period (first and last day, applied by geo.indicators)."""

    flt: ProgrammeFilter
    start: date | None
    end: date | None
    active_days: int

    @property
    def today(self) -> date:
        """The day statuses are judged on: today, or the period's last day if earlier."""
        return min(date.today(), self.end) if self.end else date.today()


def _filter(t: Translator) -> Choice:
    cols = st.columns([2, 3, 1])
    period = cols[0].date_input(t("Period"), value=(date(2014, 1, 1), date.today()), key="prog_period",
                                format="DD/MM/YYYY")
    options = unit_options()
    chosen = cols[1].multiselect(t("Units"), list(options), key="prog_units", placeholder=t("All of Guinea"),
                                 format_func=lambda k: unit_label(t, options, k))
    active_days = cols[2].number_input(t("Active council: met within (days)"), 30, 1095, ACTIVE_DAYS, step=30,
                                       key="prog_active_days")
    start = end = None
    if isinstance(period, (list, tuple)) and len(period) == 2:
        start, end = period
    units = tuple(tuple(k.split(":", 1)) for k in chosen)
    return Choice(ProgrammeFilter(units=units), start, end, int(active_days))


def _headlines(t: Translator, frames: dict[str, pd.DataFrame], choice: Choice) -> None:
    figures = indicators.headline(indicators.filter_period(frames, start=choice.start, end=choice.end))
    items = list(HEADLINES.items())
    for row in (items[:4], items[4:]):  # two rows: long French labels stay readable
        for col, (key, label) in zip(st.columns(4), row, strict=False):
            col.metric(t(label), t.n(figures.get(key, 0)))


def _trends(t: Translator, frames: dict[str, pd.DataFrame], choice: Choice) -> None:
    series = indicators.monthly_series(frames, start=choice.start or date(2014, 1, 1),
                                       end=choice.end or date.today())
    if series.empty:
        st.info(t("No dated activity in this period."))
        return
    st.session_state.setdefault("prog_series", ["students_reached", "women"])
    chosen = st.multiselect(t("Series"), list(SERIES), key="prog_series", format_func=lambda k: t(SERIES[k]))
    if chosen:
        shown = series.set_index("month")[chosen].rename(columns=lambda k: t(SERIES[k]))
        st.bar_chart(shown, height=260)


def _map(t: Translator, frames: dict[str, pd.DataFrame], choice: Choice) -> None:
    st.session_state.setdefault("prog_layers", ["councils", "trainings", "women_days"])
    chosen = st.multiselect(t("Layers"), list(LAYERS), key="prog_layers", format_func=lambda k: t(LAYERS[k]))
    credits = [t(boundaries.ATTRIBUTION)]
    if has_demo(get_store().url):
        credits.append(t("Programme records: demo data (synthetic)"))
    tiles = TileConfig.from_env()
    m = make_map(t, tiles=tiles, attributions=tuple(credits), bounds=_bounds(choice.flt))
    basemap.build(load_outline(), t=t, land_fill=0.35 if tiles.url else 1.0).add_to(m)
    boundaries.build(load_display("prefecture", "low"), t=t, level="prefecture", labels=True,
                     interactive=False).add_to(m)
    incidents.prepare_map(m)  # the stations layer clusters when stations are many
    groups = _groups(t, frames, chosen, choice)
    for group in groups:
        group.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    st_folium(finish(m), key="programme_map", height=600, use_container_width=True, returned_objects=[])


def _groups(t: Translator, frames: dict[str, pd.DataFrame], chosen: list[str], choice: Choice) -> list:
    """The chosen programme layers; statuses use every meeting up to the period's end, the rest the period."""
    dated = indicators.filter_period(frames, start=choice.start, end=choice.end)
    groups = []
    if "councils" in chosen:
        status = indicators.council_status(frames["council"], frames["council_meeting"], today=choice.today,
                                           active_within_days=choice.active_days, start=choice.start,
                                           end=choice.end)
        groups.append(councils.build(load_display("subprefecture", "medium"), status, t=t,
                                     active_within_days=choice.active_days))
    if "schools" in chosen:
        groups.append(schools.build(indicators.school_reach(dated["school"], dated["school_visit"],
                                                            today=choice.today), t=t))
    if "women_days" in chosen:
        groups.append(women_days.build(indicators.women_days_by_station(dated["station"],
                                                                        dated["women_visit_day"]), t=t))
    if "trainings" in chosen:
        groups.append(trainings.build(indicators.training_by_community(
            dated["training"], dated["training_instructor"], dated["instructor"]), t=t))
    if "stations" in chosen:
        groups.append(stations.build(frames["station"], t=t))
    return groups


def _bounds(flt: ProgrammeFilter):
    shapes = [load_display(level, "low").query("unit_id == @uid") for level, uid in flt.units]
    shapes = [s for s in shapes if len(s)]
    if not shapes:
        return None
    west = min(s.total_bounds[0] for s in shapes)
    south = min(s.total_bounds[1] for s in shapes)
    east = max(s.total_bounds[2] for s in shapes)
    north = max(s.total_bounds[3] for s in shapes)
    return (south, west), (north, east)


def _indicator_table(t: Translator, frames: dict[str, pd.DataFrame], choice: Choice) -> None:
    level = st.radio(t("Level"), LEVELS, index=1, horizontal=True, key="prog_level",
                     format_func=lambda lvl: t(boundaries.LEVEL_LABELS[lvl]))
    table = indicators.unit_indicators(level, frames, today=choice.today, start=choice.start, end=choice.end,
                                       active_within_days=choice.active_days, with_national=not choice.flt.units)
    if choice.flt.units:
        keep = _units_within(level, choice.flt.units)
        table = table[table["unit_id"].isin(keep)]
    table = table.assign(name=[t(n) if u == indicators.NATIONAL_ID else n
                               for u, n in zip(table["unit_id"], table["name"], strict=True)])
    shown = table[[c for c in INDICATOR_COLUMNS if c in table.columns]].rename(
        columns={c: t(label) for c, label in INDICATOR_COLUMNS.items()})
    config = {t(INDICATOR_COLUMNS[c]): st.column_config.NumberColumn(format="percent")
              for c in ("share_with_council", "share_with_active_council", "women_share", "youth_share")}
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)
    if level == "subprefecture":
        st.caption(t("Population: 2014 census per prefecture; sub-prefectures receive a share by area (a stated "
                     "rule that undercounts towns). Empty cells are unknown, not zero."))
    else:  # regions and prefectures carry the census's own figures
        st.caption(t("Population: 2014 census per prefecture, final or preliminary results as published. Empty "
                     "cells are unknown, not zero."))
    st.download_button(t("Indicators (CSV)"), to_csv(table), file_name=f"proximite-indicateurs-{level}.csv",
                       mime="text/csv", key="prog_csv")


def _units_within(level: str, units: tuple[tuple[str, str], ...]) -> set[str]:
    """Ids of the units of ``level`` inside (or equal to) any chosen unit."""
    frame = load_display("subprefecture", "low").drop(columns="geometry")
    keep: set[str] = set()
    column = {"region": "region_id", "prefecture": "prefecture_id", "subprefecture": "unit_id"}
    for chosen_level, uid in units:
        inside = frame[frame[column[chosen_level]] == uid]
        keep.update(inside[column[level]] if level != "subprefecture" else inside["unit_id"])
    return keep


def render() -> None:
    t = translator()
    st.title(t("Community policing programme"))
    demo_notice(t)
    st.caption(t("Every figure is recomputed from the stored records of the chosen period and units."))
    choice = _filter(t)
    frames = _frames(get_store().url, _version(), choice.flt)
    _headlines(t, frames, choice)
    tabs = st.tabs([t("Map"), t("Trends"), t("Indicators per unit")])
    with tabs[0]:
        _map(t, frames, choice)
    with tabs[1]:
        _trends(t, frames, choice)
    with tabs[2]:
        _indicator_table(t, frames, choice)
    st.caption(t(boundaries.ATTRIBUTION))
