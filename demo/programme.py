"""The community-policing programme: officers, school visits, women's days, trainings.

Every headline figure comes from :data:`PROGRAMME_FIGURES` and is met exactly
(integer partitions with a floor per part); :func:`summary` recomputes the
figures from the frames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .common import day_range, join_choices, numbered, partition, pick_dates, with_ids
from .institutions import PROGRAMME_PREFECTURES
from .places import CONAKRY, Geo

#: The programme's reported results, reproduced exactly by the demo data.
PROGRAMME_FIGURES: dict[str, int] = {
    "instructors": 51, "officers_trained": 2245, "communities": 7, "school_officers": 86,
    "students": 19740, "women": 427, "visitation_days": 26,
}

#: Places of the women's visitation days (place -> prefecture id).
WOMEN_DAY_PLACES: dict[str, str] = {
    "Conakry": "GN-C", "Kankan": "GN-KA", "Kindia": "GN-KD", "Labé": "GN-LA", "Mamou": "GN-MM",
    "Siguiri": "GN-SI",
}
#: Communities where officers were trained (community name -> sub-prefecture id).
TRAINING_COMMUNITIES: dict[str, str] = {
    "Conakry (Matoto)": "GN-C-MATOTO", "Kankan": "GN-KA-KANKAN-CENTRE",
    "Kindia": "GN-KD-KINDIA-CENTRE", "Labé": "GN-LA-LABE-CENTRE", "Mamou": "GN-MM-MAMOU-CENTRE",
    "Siguiri": "GN-SI-SIGUIRI-CENTRE", "Nzérékoré": "GN-NZ-NZEREKORE-CENTRE",
}
assert len(TRAINING_COMMUNITIES) == PROGRAMME_FIGURES["communities"]

TRAINING_MODULES = ("doctrine", "ordre_public", "vbg", "police_scolaire", "mediation")
TRAINING_SESSIONS = 35
TRAINING_PERIOD = (dt.date(2015, 3, 1), dt.date(2019, 12, 1))
MIN_TRAINEES = 25
EXTRA_VISITS_MEAN = 1.4
MIN_STUDENTS = 20
MIN_WOMEN = 5
#: Visits and women's days fall within this many years before ``today``.
RECENT_YEARS = 3
SCHOOL_MONTHS = (1, 2, 3, 4, 5, 6, 10, 11, 12)
VISIT_TOPICS = ("citoyenneté", "drogues", "sécurité routière", "violences", "harcèlement")
WOMEN_TOPICS = ("violences conjugales", "accueil des victimes", "droits des femmes",
                "mariage précoce", "dépôt de plainte")

OFFICER_COLUMNS = ["id", "name", "station_id"]
VISIT_COLUMNS = ["id", "school_id", "officer_id", "visited_on", "students_reached", "topics"]
WOMEN_COLUMNS = ["id", "station_id", "held_on", "women_count", "topics", "complaints_after"]
TRAINING_COLUMNS = ["id", "community_name", "region_id", "prefecture_id", "subprefecture_id",
                    "start_on", "end_on", "module", "officers_trained"]


def _recent_pool(today: dt.date, months: tuple[int, ...] | None = None) -> np.ndarray:
    start = today.replace(year=today.year - RECENT_YEARS)
    return day_range(start, today, weekdays=True, months=months)


def _urban_stations(stations: pd.DataFrame, geo: Geo, prefectures) -> pd.DataFrame:
    urban = set(geo.units.loc[geo.units["is_urban"], "unit_id"])
    keep = stations["prefecture_id"].isin(list(prefectures))
    return stations[keep & stations["subprefecture_id"].isin(urban)]


def make_outreach(rng: np.random.Generator, geo: Geo, stations: pd.DataFrame,
                  schools: pd.DataFrame, today: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The school-outreach officers and their visits."""
    n_off = PROGRAMME_FIGURES["school_officers"]
    cands = _urban_stations(stations, geo, PROGRAMME_PREFECTURES)
    w = np.where(cands["prefecture_id"] == CONAKRY, 2.0, 1.0)
    station = rng.choice(cands["id"].to_numpy(), size=n_off, p=w / w.sum())
    officers = with_ids(pd.DataFrame({"name": numbered("Agent", n_off), "station_id": station}))

    sub_of = cands.set_index("id")["subprefecture_id"]
    pref_of = cands.set_index("id")["prefecture_id"]
    rows = []
    for oid, sid in zip(officers["id"], officers["station_id"], strict=True):
        pool = schools.loc[schools["subprefecture_id"] == sub_of[sid], "id"].to_numpy()
        if not pool.size:
            pool = schools.loc[schools["prefecture_id"] == pref_of[sid], "id"].to_numpy()
        if not pool.size:
            pool = schools["id"].to_numpy()
        k = 1 + int(rng.poisson(EXTRA_VISITS_MEAN))
        rows += [(s, oid) for s in rng.choice(pool, size=k)]
    visits = pd.DataFrame(rows, columns=["school_id", "officer_id"])
    enrol = schools.set_index("id")["enrolment"].reindex(visits["school_id"]).to_numpy(float)
    visits["students_reached"] = partition(rng, PROGRAMME_FIGURES["students"], len(visits),
                                           minimum=MIN_STUDENTS, weights=enrol)
    visits["visited_on"] = pick_dates(rng, _recent_pool(today, SCHOOL_MONTHS), len(visits))
    visits["topics"] = join_choices(rng, VISIT_TOPICS, len(visits), 1, 2)
    return officers[OFFICER_COLUMNS], with_ids(visits)[VISIT_COLUMNS]


def make_women_days(rng: np.random.Generator, geo: Geo, stations: pd.DataFrame,
                    today: dt.date) -> pd.DataFrame:
    n_days = PROGRAMME_FIGURES["visitation_days"]
    places = list(WOMEN_DAY_PLACES.values())
    weights = [3.0 if p == CONAKRY else 1.0 for p in places]
    per_place = partition(rng, n_days, len(places), minimum=1, weights=weights)
    cands = _urban_stations(stations, geo, places)
    cands = cands[cands["kind"] == "commissariat"]
    station = np.concatenate([
        rng.choice(cands.loc[cands["prefecture_id"] == p, "id"].to_numpy(), size=k)
        for p, k in zip(places, per_place, strict=True)])
    women = partition(rng, PROGRAMME_FIGURES["women"], n_days, minimum=MIN_WOMEN)
    complaints = rng.binomial(women, 0.15)
    known = rng.random(n_days) < 0.7
    days = pd.DataFrame({
        "station_id": station,
        "held_on": pick_dates(rng, _recent_pool(today), n_days),
        "women_count": women.astype(np.int64),
        "topics": join_choices(rng, WOMEN_TOPICS, n_days, 1, 3),
        "complaints_after": pd.Series(
            [int(c) if k else None for c, k in zip(complaints, known, strict=True)], dtype=object),
    })
    return with_ids(days)[WOMEN_COLUMNS]


def make_trainings(rng: np.random.Generator,
                   geo: Geo) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Instructors, training sessions and who taught which session."""
    n_inst = PROGRAMME_FIGURES["instructors"]
    instructors = with_ids(pd.DataFrame({"name": numbered("Formateur", n_inst)}))

    names = list(TRAINING_COMMUNITIES)
    sessions = partition(rng, TRAINING_SESSIONS, len(names), minimum=3)
    pool = day_range(*TRAINING_PERIOD, weekdays=True)
    units = geo.units.set_index("unit_id")
    rows = []
    for name, k in zip(names, sessions, strict=True):
        uid = TRAINING_COMMUNITIES[name]
        starts = np.sort(rng.choice(pool, size=k, replace=False))
        modules = ["doctrine", *rng.choice(TRAINING_MODULES[1:], size=k - 1)]
        for start, module in zip(starts, modules, strict=True):
            end = start + int(rng.integers(2, 10))
            rows.append((name, units.at[uid, "region_id"], units.at[uid, "prefecture_id"], uid,
                         dt.date.fromordinal(int(start)), dt.date.fromordinal(end), module))
    trainings = pd.DataFrame(rows, columns=TRAINING_COLUMNS[1:-1])
    trainings = trainings.sort_values("start_on", kind="stable")
    trainings["officers_trained"] = partition(rng, PROGRAMME_FIGURES["officers_trained"],
                                              len(trainings), minimum=MIN_TRAINEES)
    trainings = with_ids(trainings)[TRAINING_COLUMNS]

    # every instructor teaches at least once (a shuffled deal), plus one or two co-instructors
    t_ids = trainings["id"].to_numpy()
    deal = np.array_split(rng.permutation(instructors["id"].to_numpy()), len(t_ids))
    pairs = []
    for tid, dealt in zip(t_ids, deal, strict=True):
        extra = rng.choice(np.setdiff1d(instructors["id"].to_numpy(), dealt),
                           size=int(rng.integers(1, 3)), replace=False)
        pairs += [(tid, int(i)) for i in np.concatenate([dealt, extra])]
    links = pd.DataFrame(pairs, columns=["training_id", "instructor_id"]).astype(np.int64)
    return instructors[["id", "name"]], trainings, links


def summary(frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """The programme figures recomputed from the frames (demo or stored data alike)."""
    def col(table: str, column: str) -> pd.Series:
        frame = frames.get(table)
        if frame is None or column not in frame.columns:
            return pd.Series([], dtype="float64")
        return frame[column]

    return {
        "instructors": int(col("training_instructor", "instructor_id").nunique()),
        "officers_trained": int(col("training", "officers_trained").sum()),
        "communities": int(col("training", "subprefecture_id").nunique()),
        "school_officers": int(col("school_visit", "officer_id").nunique()),
        "students": int(col("school_visit", "students_reached").sum()),
        "women": int(col("women_visit_day", "women_count").sum()),
        "visitation_days": len(frames.get("women_visit_day", ())),
    }
