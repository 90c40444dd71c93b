"""Programme indicators on hand-made records with known answers, and the demo's headline figures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pyproj import Geod

from geo import boundaries as b
from geo import indicators as gi
from geo.crs import transformer
from geo.population import population

TODAY = dt.date(2026, 11, 1)
DAY = dt.timedelta(days=1)
KANKAN = "GN-KA-KANKAN-CENTRE"
KINDIA = "GN-KD-KINDIA-CENTRE"
GEOD = Geod(ellps="WGS84")


def _label(unit_id: str) -> tuple[float, float]:
    unit = b.get_unit(unit_id, "subprefecture")
    return float(unit["label_lon"]), float(unit["label_lat"])


def _councils() -> tuple[pd.DataFrame, pd.DataFrame]:
    councils = pd.DataFrame([
        # id, name, unit_level, unit_id, subprefecture_id, established, plan, total, women, youth
        (1, "CLSPD de Kaloum", "subprefecture", "GN-C-KALOUM", "GN-C-KALOUM", dt.date(2016, 1, 1), None, 20, 5, 4),
        (2, "CLSPD de Dixinn", "subprefecture", "GN-C-DIXINN", "GN-C-DIXINN", dt.date(2016, 1, 1), None, 10, 0, 0),
        (3, "CLSPD de Matam", "subprefecture", "GN-C-MATAM", "GN-C-MATAM", dt.date(2016, 1, 1),
         dt.date(2020, 5, 1), None, None, None),
        (4, "CLSPD de Ratoma", "subprefecture", "GN-C-RATOMA", "GN-C-RATOMA", dt.date(2016, 1, 1), None, 10, 4, None),
        (5, "<b>Conseil</b> de Kipé", "neighbourhood", "quartier-7", "GN-C-RATOMA", None, None, 0, 0, 0),
        (6, "CLSPD de Matoto", "subprefecture", "GN-C-MATOTO", "GN-C-MATOTO", dt.date(2016, 1, 1),
         TODAY + 10 * DAY, 12, 3, 3),
        (7, "CLSPD de Kankan", "subprefecture", KANKAN, None, dt.date(2016, 1, 1), None, 8, 2, 2),
        (8, "CLSPD futur", "subprefecture", KINDIA, KINDIA, TODAY + 30 * DAY, None, 8, 8, 8),
    ], columns=["id", "name", "unit_level", "unit_id", "subprefecture_id", "established_on", "plan_adopted_on",
                "members_total", "members_women", "members_youth"])
    meetings = pd.DataFrame({
        "council_id": [1, 2, 4, 4, 5, 6, 7],
        "held_on": [TODAY - 365 * DAY, TODAY - 366 * DAY, TODAY - 400 * DAY, TODAY - 500 * DAY, TODAY - DAY,
                    TODAY + 3 * DAY, TODAY - 10 * DAY],
    })
    return councils, meetings


# --- council status ----------------------------------------------------------------------------------


def test_council_status_rules_and_the_active_window_edge():
    councils, meetings = _councils()
    st = gi.council_status(councils, meetings, today=TODAY).set_index("subprefecture_id")
    assert st["status"].to_dict() == {
        "GN-C-KALOUM": "active",        # met exactly 365 days ago: inside the window
        "GN-C-DIXINN": "set_up",        # 366 days ago: outside
        "GN-C-MATAM": "plan_adopted",   # plan, never met
        "GN-C-RATOMA": "active",        # best of its two councils (the neighbourhood one met yesterday)
        "GN-C-MATOTO": "set_up",        # plan dated after today and a meeting in the future do not count
        KANKAN: "active",               # placed by unit_id when subprefecture_id is missing
    }                                   # the council set up after today is not there yet
    assert st.at["GN-C-RATOMA", "councils"] == 2
    assert st.at["GN-C-RATOMA", "council_names"] == "CLSPD de Ratoma; <b>Conseil</b> de Kipé"
    assert st.at["GN-C-MATOTO", "meetings"] == 0 and pd.isna(st.at["GN-C-MATOTO", "last_meeting"])
    assert st.at["GN-C-KALOUM", "last_meeting"] == pd.Timestamp(TODAY - 365 * DAY)
    assert st.at["GN-C-MATAM", "meetings"] == 0 and bool(st.at["GN-C-MATAM", "plan_adopted"])
    assert not st.at["GN-C-MATAM", "active"]
    # one more day of window makes Dixinn active
    wider = gi.council_status(councils, meetings, today=TODAY, active_within_days=366).set_index("subprefecture_id")
    assert wider.at["GN-C-DIXINN", "status"] == "active"
    with pytest.raises(ValueError, match="active_within_days"):
        gi.council_status(councils, meetings, today=TODAY, active_within_days=-1)


def test_council_shares_with_zero_and_unknown_members():
    councils, meetings = _councils()
    st = gi.council_status(councils, meetings, today=TODAY).set_index("subprefecture_id")
    assert st.at["GN-C-KALOUM", "women_share"] == pytest.approx(0.25)
    assert st.at["GN-C-KALOUM", "youth_share"] == pytest.approx(0.2)
    assert st.at["GN-C-DIXINN", "women_share"] == 0.0          # counted members, no women: a real 0
    assert np.isnan(st.at["GN-C-MATAM", "women_share"])        # no member counts: unknown, not 0
    assert np.isnan(st.at["GN-C-MATAM", "members_total"])
    # Ratoma: 4 women of 10 (the empty neighbourhood council adds nothing); youth known only for the empty one
    assert st.at["GN-C-RATOMA", "women_share"] == pytest.approx(0.4)
    assert np.isnan(st.at["GN-C-RATOMA", "youth_share"])
    assert st.at["GN-C-RATOMA", "members_total"] == 10


def test_council_status_as_of_the_end_of_a_period():
    councils, meetings = _councils()
    end = TODAY - 200 * DAY
    st = gi.council_status(councils, meetings, today=TODAY, start=TODAY - 450 * DAY, end=end)
    st = st.set_index("subprefecture_id")
    # as of `end`, Ratoma's council met 400 days before today = 200 days before end: active
    assert st.at["GN-C-RATOMA", "status"] == "active"
    assert st.at["GN-C-RATOMA", "meetings"] == 1      # the 500-day-old meeting is before start
    assert st.at["GN-C-RATOMA", "last_meeting"] == pd.Timestamp(TODAY - 400 * DAY)
    assert st.at["GN-C-KALOUM", "meetings"] == 1
    assert pd.isna(st.at[KANKAN, "last_meeting"]) and st.at[KANKAN, "status"] == "set_up"


def test_council_status_of_nothing_is_an_empty_frame_with_the_schema():
    councils, meetings = _councils()
    st = gi.council_status(councils.iloc[:0], meetings.iloc[:0], today=TODAY)
    assert st.empty and list(st.columns) == gi.COUNCIL_STATUS_COLUMNS


# --- schools, women's days, trainings ----------------------------------------------------------------


def _schools() -> tuple[pd.DataFrame, pd.DataFrame]:
    lon, lat = _label(KANKAN)
    schools = pd.DataFrame({"id": [1, 2, 3], "name": ["École A", "Collège B", "Lycée C"],
                            "level": ["primary", "junior", "high"], "lon": [lon, lon + 0.01, -13.6],
                            "lat": [lat, lat, 9.6], "region_id": None,
                            "prefecture_id": ["GN-WRONG", None, None],
                            "subprefecture_id": [KANKAN, KANKAN, "GN-C-MATOTO"]})
    visits = pd.DataFrame({"school_id": [1, 1, 3, 1], "officer_id": [10, 11, 10, 10],
                           "visited_on": [dt.date(2026, 1, 15), dt.date(2026, 1, 31), dt.date(2026, 3, 1),
                                          dt.date(2025, 6, 1)],
                           "students_reached": [100, 50, 40, 7],
                           "topics": ["drogues, citoyenneté", "citoyenneté; violences", None, "drogues"]})
    return schools, visits


def test_school_reach_counts_every_school_and_keeps_unknowns_missing():
    schools, visits = _schools()
    reach = gi.school_reach(schools, visits, today=TODAY).set_index("id")
    assert reach.loc[1, ["visits", "students_reached"]].tolist() == [3, 157]
    assert reach.at[1, "last_visit"] == pd.Timestamp("2026-01-31")
    assert reach.at[1, "days_since_last_visit"] == (TODAY - dt.date(2026, 1, 31)).days
    assert reach.at[1, "topics"] == "citoyenneté; drogues; violences"
    assert reach.at[1, "prefecture_id"] == "GN-KA"            # the hierarchy wins over a wrong parent id
    assert reach.loc[2, ["visits", "students_reached"]].tolist() == [0, 0]
    assert pd.isna(reach.at[2, "last_visit"]) and np.isnan(reach.at[2, "days_since_last_visit"])
    assert reach.at[2, "topics"] == "" and reach.at[3, "topics"] == ""
    assert list(gi.school_reach(schools, visits, today=TODAY).columns) == gi.SCHOOL_REACH_COLUMNS


def test_women_days_by_station():
    stations = pd.DataFrame({"id": [1, 2, 3], "name": ["Commissariat 1", "Commissariat 2", "Poste 3"],
                             "kind": ["commissariat", "commissariat", "poste"], "lon": [-9.27, -9.26, -9.25],
                             "lat": [10.37, 10.38, 10.39], "subprefecture_id": [KANKAN] * 3})
    days = pd.DataFrame({"station_id": [1, 1, 2, 99], "held_on": ["2026-02-01", "2026-05-03", "2026-04-01",
                                                                  "2026-04-01"],
                         "women_count": [10, 15, 7, 3], "complaints_after": pd.Series([None, 3, None, 1],
                                                                                     dtype=object)})
    out = gi.women_days_by_station(stations, days).set_index("id")
    assert list(out.index) == [1, 2]                          # station 3 held none; station 99 is unknown
    assert out.loc[1, ["days", "women"]].tolist() == [2, 25]
    assert out.at[1, "complaints_after"] == 3                 # the known follow-ups
    assert np.isnan(out.at[2, "complaints_after"])            # none known: NaN, not 0
    assert out.at[1, "last_day"] == pd.Timestamp("2026-05-03")
    assert out.at[1, "prefecture_id"] == "GN-KA"


def _trainings() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    trainings = pd.DataFrame({
        "id": [1, 2, 3, 4],
        "community_name": ["Kankan", " Kankan ", None, "Kankan"],
        "subprefecture_id": [KANKAN, KANKAN, KINDIA, KANKAN],
        "start_on": [dt.date(2025, 12, 28), dt.date(2026, 2, 1), dt.date(2026, 3, 10), dt.date(2026, 3, 29)],
        "end_on": [dt.date(2026, 1, 3), dt.date(2026, 2, 5), dt.date(2026, 3, 12), dt.date(2026, 4, 2)],
        "module": ["doctrine", "vbg", "doctrine", "doctrine"],
        "officers_trained": [30, 20, 25, 40],
    })
    links = pd.DataFrame({"training_id": [1, 1, 2, 3, 4], "instructor_id": [1, 2, 2, 3, 4]})
    instructors = pd.DataFrame({"id": [1, 2, 3, 4], "name": ["Zoé", "Alpha", "Binta", "Mory"]})
    return trainings, links, instructors


def test_training_by_community():
    trainings, links, instructors = _trainings()
    out = gi.training_by_community(trainings, links, instructors).set_index("community_name")
    assert sorted(out.index) == ["Kankan", "Kindia Centre"]  # blank name -> the sub-prefecture's name
    kankan = out.loc["Kankan"]
    assert kankan[["trainings", "officers_trained", "instructors"]].tolist() == [3, 90, 3]
    assert kankan["modules"] == "doctrine; vbg" and kankan["instructor_names"] == "Alpha; Mory; Zoé"
    assert kankan["first_start"] == pd.Timestamp("2025-12-28") and kankan["last_end"] == pd.Timestamp("2026-04-02")
    assert (kankan["lon"], kankan["lat"]) == pytest.approx(_label(KANKAN))
    assert kankan["prefecture_id"] == "GN-KA"
    assert out.loc["Kindia Centre", "instructors"] == 1


def test_filter_period_and_headline_on_hand_made_records():
    trainings, links, instructors = _trainings()
    schools, visits = _schools()
    frames = {"training": trainings, "training_instructor": links, "instructor": instructors,
              "school": schools, "school_visit": visits,
              "women_visit_day": pd.DataFrame({"held_on": [dt.date(2026, 1, 2), dt.date(2026, 2, 2)],
                                               "women_count": [9, 4], "station_id": [1, 1]})}
    assert gi.headline(frames) == {"instructors": 4, "officers_trained": 115, "communities": 2,
                                   "school_officers": 2, "students": 197, "women": 13, "visitation_days": 2}
    # trainings belong to the periods they overlap: #1 (28 Dec - 3 Jan) is in, #4 (29 Mar - 2 Apr) is out
    cut = gi.filter_period(frames, start="2026-01-01", end="2026-03-28")
    assert cut["training"]["id"].tolist() == [1, 2, 3]
    assert cut["training_instructor"]["instructor_id"].tolist() == [1, 2, 2, 3]
    assert gi.headline(cut) == {"instructors": 3, "officers_trained": 75, "communities": 2,
                                "school_officers": 2, "students": 190, "women": 13, "visitation_days": 2}
    later = gi.filter_period(frames, start="2026-01-04", end="2026-03-29")
    assert later["training"]["id"].tolist() == [2, 3, 4]
    assert later["school_visit"]["visited_on"].tolist() == [dt.date(2026, 1, 15), dt.date(2026, 1, 31),
                                                            dt.date(2026, 3, 1)]
    with pytest.raises(ValueError, match="after end"):
        gi.filter_period(frames, start="2026-04-01", end="2026-03-01")


def test_headline_on_the_demo_equals_the_programme_figures():
    from demo.generate import generate
    from demo.programme import PROGRAMME_FIGURES, summary

    frames = generate(seed=2014)
    figures = gi.headline(frames)
    assert figures == PROGRAMME_FIGURES
    assert figures == summary(frames)
    assert set(figures) == set(gi.HEADLINE_KEYS)
    # recomputed, not copied: dropping one women's day changes the figures
    fewer = dict(frames, women_visit_day=frames["women_visit_day"].iloc[1:])
    assert gi.headline(fewer)["visitation_days"] == PROGRAMME_FIGURES["visitation_days"] - 1


# --- distances ---------------------------------------------------------------------------------------


def test_nearest_distance_on_a_known_geometry():
    # targets 5 km (3-4-5 triangle) and 13 km (5-12-13) from an origin near Kankan, laid out in UTM 29N
    to_ll = transformer(32629, 4326)
    x0, y0 = 470_000.0, 1_146_000.0
    lon, lat = to_ll.transform(np.array([x0, x0 + 1000.0]), np.array([y0, y0]))
    tlon, tlat = to_ll.transform(np.array([x0 + 5000.0, x0 + 3000.0]), np.array([y0 + 12000.0, y0 + 4000.0]))
    got = gi.nearest_distance_km(lon, lat, tlon, tlat)
    assert got[0] == pytest.approx(5.0, rel=2e-3)            # UTM scale near the central meridian ~ 0.9996
    assert got[1] == pytest.approx(np.hypot(2000.0, 4000.0) / 1000.0, rel=2e-3)
    _, _, exact = GEOD.inv(lon[0], lat[0], tlon[1], tlat[1])
    assert got[0] == pytest.approx(exact / 1000.0, abs=1e-9)  # the reported distance is the geodesic one


def test_nearest_distance_matches_brute_force_and_handles_missing_points():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-15, -8, 200), rng.uniform(7.2, 12.6, 200)
    tlon, tlat = rng.uniform(-15, -8, 40), rng.uniform(7.2, 12.6, 40)
    lon[5], tlat[7] = np.nan, np.nan
    got = gi.nearest_distance_km(lon, lat, tlon, tlat)
    ok = np.isfinite(tlat)
    _, _, d = GEOD.inv(np.repeat(lon, ok.sum()), np.repeat(lat, ok.sum()),
                       np.tile(tlon[ok], 200), np.tile(tlat[ok], 200))
    brute = d.reshape(200, ok.sum()).min(axis=1) / 1000.0
    assert np.isnan(got[5])
    np.testing.assert_allclose(np.delete(got, 5), np.delete(brute, 5), rtol=1e-12)
    assert np.isnan(gi.nearest_distance_km(lon, lat, tlon[:0], tlat[:0])).all()


# --- indicators per unit -----------------------------------------------------------------------------


def _frames() -> dict[str, pd.DataFrame]:
    councils, meetings = _councils()
    schools, visits = _schools()
    trainings, links, instructors = _trainings()
    klon, klat = _label(KANKAN)
    stations = pd.DataFrame({"id": [1, 2], "name": ["Commissariat de Kankan", "Poste de Matoto"],
                             "kind": ["commissariat", "poste"], "lon": [klon, -13.55], "lat": [klat, 9.59],
                             "subprefecture_id": [KANKAN, "GN-C-MATOTO"], "prefecture_id": ["GN-KA", "GN-C"],
                             "region_id": ["GN-K", "GN-C"]})
    days = pd.DataFrame({"station_id": [1, 1, 2], "held_on": [dt.date(2026, 2, 1), dt.date(2026, 2, 20),
                                                              dt.date(2025, 1, 1)],
                         "women_count": [12, 8, 30], "complaints_after": [None, None, None]})
    return {"council": councils, "council_meeting": meetings, "school": schools, "school_visit": visits,
            "training": trainings, "training_instructor": links, "instructor": instructors,
            "station": stations, "women_visit_day": days}


def test_unit_indicators_per_prefecture_with_a_period():
    frames = _frames()
    out = gi.unit_indicators("prefecture", frames, today=TODAY, start="2026-01-01", end="2026-03-31")
    assert len(out) == 34 and list(out.columns) == gi.INDICATOR_COLUMNS
    row = out.set_index("unit_id").loc["GN-KA"]
    n_subs = int((b.load_units("subprefecture")["prefecture_id"] == "GN-KA").sum())
    pop = b.load_population().set_index("iso_code").at["GN-KA", "population_2014"]
    assert row["subprefectures"] == n_subs and row["units_with_council"] == 1
    assert row["share_with_council"] == pytest.approx(1 / n_subs)
    # as of 31 March, Kankan's council last met on 22 October: not yet (the window ends before it)
    assert row["units_with_active_council"] == 0 and row["meetings"] == 0
    assert row["women_share"] == pytest.approx(0.25)
    # in the period: visits of 15 and 31 January at school 1 (100 + 50); June 2025 is out
    assert row[["schools_visited", "school_visits", "students_reached"]].tolist() == [1, 2, 150]
    assert row["students_per_1000_inhabitants"] == pytest.approx(150 / pop * 1000)
    # trainings overlapping the period in Kankan: #1 (30), #2 (20), #4 (40, ends 2 April)
    assert row[["trainings", "officers_trained"]].tolist() == [3, 90]
    assert row["officers_per_10000"] == pytest.approx(90 / pop * 10_000)
    assert row[["stations_with_women_days", "women_days", "women"]].tolist() == [1, 2, 20]
    assert row["population"] == pop and row["census_result"] == "preliminary"
    # the Kankan prefecture's point to Kankan Centre's point (the trained community and the station)
    plon, plat = b.get_unit("GN-KA", "prefecture")[["label_lon", "label_lat"]]
    _, _, metres = GEOD.inv(plon, plat, *_label(KANKAN))
    assert row["distance_to_trained_km"] == pytest.approx(metres / 1000, abs=1e-6)
    assert row["distance_to_station_km"] == pytest.approx(metres / 1000, abs=1e-6)

    conakry = out.set_index("unit_id").loc["GN-C"]
    assert conakry[["subprefectures", "units_with_council", "councils"]].tolist() == [5, 5, 6]
    # judged as of 31 March: Kaloum, Dixinn and Ratoma met within the year before; Matoto never met
    assert conakry["units_with_active_council"] == 3
    assert conakry["units_with_plan"] == 1                 # Matam
    assert conakry["women_share"] == pytest.approx((5 + 0 + 4 + 0 + 3) / (20 + 10 + 10 + 0 + 12))
    assert conakry["students_reached"] == 40 and conakry["women_days"] == 0

    quiet = out.set_index("unit_id").loc["GN-YO"]         # Yomou: nothing at all
    assert quiet[["units_with_council", "councils", "students_reached", "officers_trained", "women"]].sum() == 0
    assert np.isnan(quiet["women_share"]) and np.isnan(quiet["youth_share"])
    assert quiet["officers_per_10000"] == 0.0 and quiet["distance_to_trained_km"] > 0


def test_unit_indicators_per_subprefecture_distances_match_a_brute_force():
    frames = _frames()
    out = gi.unit_indicators("subprefecture", frames, today=TODAY).set_index("unit_id")
    assert len(out) == 340 and (out["population_rule"] == "area").all()
    assert out.at[KANKAN, "distance_to_trained_km"] == 0.0
    assert out.at[KANKAN, "distance_to_station_km"] == pytest.approx(0.0, abs=1e-6)
    subs = b.load_units("subprefecture").set_index("unit_id").loc[out.index]
    targets = np.array([_label(KANKAN), _label(KINDIA)])
    _, _, d = GEOD.inv(np.repeat(subs["label_lon"].to_numpy(), 2), np.repeat(subs["label_lat"].to_numpy(), 2),
                       np.tile(targets[:, 0], len(subs)), np.tile(targets[:, 1], len(subs)))
    np.testing.assert_allclose(out["distance_to_trained_km"], d.reshape(-1, 2).min(axis=1) / 1000, rtol=1e-9)
    equal = gi.unit_indicators("subprefecture", frames, today=TODAY,
                               population=population("subprefecture", "equal")).set_index("unit_id")
    assert (equal["population_rule"] == "equal").all()
    assert equal.at[KANKAN, "officers_per_10000"] == pytest.approx(90 / equal.at[KANKAN, "population"] * 1e4)


def test_missing_population_gives_nan_rates_not_zero():
    frames = _frames()
    pop = population("prefecture")
    pop.loc[pop["unit_id"] == "GN-KA", "population"] = np.nan
    row = gi.unit_indicators("prefecture", frames, today=TODAY, population=pop).set_index("unit_id").loc["GN-KA"]
    assert row["officers_trained"] == 90 and np.isnan(row["officers_per_10000"])
    assert np.isnan(row["students_per_1000_inhabitants"])


def test_national_row_adds_up_the_regions():
    frames = _frames()
    out = gi.unit_indicators("region", frames, today=TODAY, with_national=True)
    regions, nation = out.iloc[:-1], out.iloc[-1]
    assert nation["unit_id"] == gi.NATIONAL_ID and nation["level"] == "national" and len(regions) == 8
    for col in ("subprefectures", "units_with_council", "units_with_active_council", "councils",
                "students_reached", "school_visits", "women", "women_days", "officers_trained", "population"):
        assert nation[col] == regions[col].sum(), col
    assert nation["subprefectures"] == 340 and nation["units_with_council"] == 6
    assert nation["share_with_council"] == pytest.approx(6 / 340)
    subs = gi.unit_indicators("subprefecture", frames, today=TODAY)
    assert nation["distance_to_trained_km"] == pytest.approx(subs["distance_to_trained_km"].mean())
    assert nation["census_result"] == "mixed"


def test_unit_indicators_refuse_bad_arguments():
    with pytest.raises(ValueError, match="level"):
        gi.unit_indicators("commune", {}, today=TODAY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="after"):
        gi.unit_indicators("region", {}, today=TODAY, start="2026-12-01")
    with pytest.raises(ValueError, match="not a date"):
        gi.unit_indicators("region", {}, today="someday")
    with pytest.raises(ValueError, match="lacks"):
        gi.unit_indicators("region", {"school_visit": pd.DataFrame({"x": [1]})}, today=TODAY)


# --- monthly series ----------------------------------------------------------------------------------


def test_monthly_series_fills_empty_months_and_cuts_the_period():
    frames = _frames()
    out = gi.monthly_series(frames, start="2026-01-20", end="2026-04-30")
    assert list(out.columns) == gi.MONTHLY_COLUMNS
    assert out["month"].dt.strftime("%Y-%m").tolist() == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert out["students_reached"].tolist() == [50, 0, 40, 0]   # 15 January is before start
    assert out["school_visits"].tolist() == [1, 0, 1, 0]
    assert out["women"].tolist() == [0, 20, 0, 0] and out["women_days"].tolist() == [0, 2, 0, 0]
    assert out["officers_trained"].tolist() == [0, 20, 25, 40]  # by end date; #1 ended 3 January
    assert out["meetings"].sum() == 0
    # a training ending after the period counts in its last month: the months add up to the headline
    short = gi.monthly_series(frames, start="2026-01-20", end="2026-03-31")
    assert short["officers_trained"].tolist() == [0, 20, 65]
    cut = gi.filter_period(frames, start="2026-01-20", end="2026-03-31")
    assert short["officers_trained"].sum() == gi.headline(cut)["officers_trained"]
    assert short["students_reached"].sum() == gi.headline(cut)["students"]
    with pytest.raises(ValueError, match="after end"):
        gi.monthly_series(frames, start="2026-05-01", end="2026-04-30")
