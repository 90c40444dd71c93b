"""Synthetic stations, schools and local security councils (CLSPD) with their meetings."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .common import day_range, join_choices, person_names, to_dates, with_ids
from .places import CONAKRY, CONAKRY_COMMUNES, CONAKRY_QUARTERS, Geo, sample_in_units, with_units

#: Prefectures whose chef-lieu hosts the programme (trainings, women's days, schools).
PROGRAMME_PREFECTURES = ("GN-C", "GN-KA", "GN-KD", "GN-LA", "GN-MM", "GN-SI", "GN-NZ")

N_POSTES = 18
N_BRIGADES = 10
#: Conakry's neighbourhood police posts: (quarter, commune).
CONAKRY_POSTES = (("Madina", "GN-C-MATAM"), ("Bambeto", "GN-C-RATOMA"),
                  ("Hamdallaye", "GN-C-RATOMA"), ("Kipé", "GN-C-RATOMA"), ("Cosa", "GN-C-RATOMA"),
                  ("Enta", "GN-C-MATOTO"), ("Sangoyah", "GN-C-MATOTO"),
                  ("Boulbinet", "GN-C-KALOUM"), ("Landréah", "GN-C-DIXINN"))

STATION_COLUMNS = ["id", "name", "kind", "region_id", "prefecture_id", "subprefecture_id",
                   "lon", "lat", "contact"]
SCHOOL_COLUMNS = ["id", "name", "level", "region_id", "prefecture_id", "subprefecture_id",
                  "lon", "lat", "enrolment"]
COUNCIL_COLUMNS = ["id", "name", "unit_level", "unit_id", "region_id", "prefecture_id",
                   "subprefecture_id", "established_on", "chair_role", "chair_name",
                   "members_total", "members_women", "members_youth", "plan_adopted_on"]
MEETING_COLUMNS = ["id", "council_id", "held_on", "attendance", "attendance_women", "topics",
                   "decisions"]


def _units_near(rng: np.random.Generator, geo: Geo, unit_ids: list[str],
                sigma_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points in each unit: near the town centre (urban units) or the representative point."""
    idx = geo.idx(unit_ids)
    return sample_in_units(rng, geo, idx, centre=geo.town_xy[idx], sigma_m=sigma_m)


def make_stations(rng: np.random.Generator, geo: Geo) -> pd.DataFrame:
    units = geo.units.set_index("unit_id")
    rows: list[tuple[str, str, str]] = []  # (name, kind, unit_id)
    for commune in CONAKRY_COMMUNES:
        name = f"Commissariat central de {units.at[commune, 'name']}"
        rows.append((name, "commissariat", commune))
    for pref in sorted(geo.centre):
        if pref != CONAKRY:
            town = geo.prefecture_name[pref]
            rows.append((f"Commissariat central de {town}", "commissariat", geo.centre[pref]))
    for quarter, commune in CONAKRY_POSTES:
        rows.append((f"Poste de police de {quarter}", "poste", commune))
    rural = units[~units["is_urban"]]
    picks = rng.choice(len(rural), size=N_POSTES + N_BRIGADES, replace=False,
                       p=rural["weight"] / rural["weight"].sum())
    for k, i in enumerate(picks):
        uid = rural.index[i]
        label = f"{rural.at[uid, 'name']} ({geo.prefecture_name[rural.at[uid, 'prefecture_id']]})"
        if k < N_POSTES:
            rows.append((f"Poste de police de {label}", "poste", uid))
        else:
            rows.append((f"Brigade de gendarmerie de {label}", "brigade", uid))
    df = pd.DataFrame(rows, columns=["name", "kind", "unit"])
    sigma = np.where(df["kind"] == "commissariat", 400.0, 1200.0)
    idx = geo.idx(df["unit"].tolist())
    x, y = sample_in_units(rng, geo, idx, centre=geo.town_xy[idx], sigma_m=sigma)
    df["lon"], df["lat"] = x, y
    df = with_ids(with_units(df))
    df["contact"] = [f"station-{i:02d}@demo.proximite.invalid" for i in df["id"]]
    return df[STATION_COLUMNS]


SCHOOL_LEVELS = {"primary": ("École primaire", 0.6, 250, 1200),
                 "junior": ("Collège", 0.25, 300, 1500),
                 "high": ("Lycée", 0.15, 400, 2200)}
#: Schools per Conakry commune / programme town / other town, and scattered rural schools.
SCHOOLS_PER_COMMUNE = {"GN-C-KALOUM": 6, "GN-C-DIXINN": 8, "GN-C-MATAM": 8,
                       "GN-C-RATOMA": 18, "GN-C-MATOTO": 18}
SCHOOLS_PER_PROGRAMME_TOWN = 10
SCHOOLS_PER_TOWN = 3
RURAL_SCHOOLS = 40


def make_schools(rng: np.random.Generator, geo: Geo) -> pd.DataFrame:
    units = geo.units.set_index("unit_id")
    unit_ids: list[str] = []
    for commune, k in SCHOOLS_PER_COMMUNE.items():
        unit_ids += [commune] * k
    for pref, centre in sorted(geo.centre.items()):
        if pref != CONAKRY:
            k = SCHOOLS_PER_PROGRAMME_TOWN if pref in PROGRAMME_PREFECTURES else SCHOOLS_PER_TOWN
            unit_ids += [centre] * k
    rural = units.index[~units["is_urban"]]
    unit_ids += list(rng.choice(rural, size=RURAL_SCHOOLS, replace=False))
    n = len(unit_ids)
    keys = list(SCHOOL_LEVELS)
    level = rng.choice(keys, size=n, p=[SCHOOL_LEVELS[k][1] for k in keys])
    low = np.array([SCHOOL_LEVELS[k][2] for k in level])
    high = np.array([SCHOOL_LEVELS[k][3] for k in level])
    enrolment = rng.integers(low, high + 1)
    quarter_pick = rng.random(n)
    names, seen = [], {}
    for uid, lvl, r in zip(unit_ids, level, quarter_pick, strict=True):
        quarters = CONAKRY_QUARTERS.get(uid)
        place = quarters[int(r * len(quarters))] if quarters else units.at[uid, "short"]
        base = f"{SCHOOL_LEVELS[lvl][0]} de {place}"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base} {seen[base]}")
    x, y = _units_near(rng, geo, unit_ids, 2000.0)
    df = pd.DataFrame({"name": names, "level": level, "lon": x, "lat": y,
                       "enrolment": enrolment.astype(np.int64)})
    return with_ids(with_units(df))[SCHOOL_COLUMNS]


COUNCIL_STATUS = {"active": 45.0, "irregular": 120.0, "dormant": 90.0}  # mean days between meetings
#: Shares of council statuses (programme councils are kept more active); rounded, then shuffled.
PROGRAMME_STATUS_MIX = {"active": 0.75, "irregular": 0.25, "dormant": 0.0}
OTHER_STATUS_MIX = {"active": 0.4, "irregular": 0.3, "dormant": 0.3}
OTHER_TOWN_COUNCILS = 8
RURAL_COUNCILS = 6
MEETING_TOPICS = ("sécurité du marché", "éclairage public", "violences basées sur le genre",
                  "conflits fonciers", "délinquance juvénile", "circulation et motos-taxis",
                  "drogues", "relations police-population", "sécurité aux abords des écoles")
DECISIONS = ("Patrouilles conjointes le week-end", "Demande d'éclairage au carrefour principal",
             "Campagne de sensibilisation dans les écoles",
             "Point d'écoute pour les femmes au commissariat",
             "Médiation entre familles dans un litige foncier",
             "Rencontre avec le syndicat des motos-taxis", "Suivi du plan local de sécurité")


def _statuses(rng: np.random.Generator, n: int, mix: dict[str, float]) -> np.ndarray:
    counts = np.floor(np.array(list(mix.values())) * n).astype(int)
    counts[0] += n - counts.sum()
    return rng.permutation(np.repeat(np.array(list(mix), dtype=object), counts))


def make_councils(rng: np.random.Generator, geo: Geo,
                  today: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    units = geo.units.set_index("unit_id")
    programme = list(CONAKRY_COMMUNES) + [geo.centre[p] for p in PROGRAMME_PREFECTURES
                                          if p != CONAKRY]
    others = sorted(geo.centre[p] for p in geo.centre if p not in PROGRAMME_PREFECTURES)
    towns = list(rng.choice(others, size=OTHER_TOWN_COUNCILS, replace=False))
    rural = list(rng.choice(units.index[~units["is_urban"]], size=RURAL_COUNCILS, replace=False))
    unit_ids = programme + towns + rural
    n, n_prog = len(unit_ids), len(programme)
    urban = units.loc[unit_ids, "is_urban"].to_numpy()

    est_pool = np.where(np.arange(n) < n_prog, 0, 1)
    pools = (day_range(dt.date(2015, 1, 1), dt.date(2018, 12, 31)),
             day_range(dt.date(2018, 1, 1), min(today, dt.date(2024, 12, 31))))
    established = np.array([rng.choice(pools[k]) for k in est_pool], dtype=np.int64)
    status = np.concatenate([_statuses(rng, n_prog, PROGRAMME_STATUS_MIX),
                             _statuses(rng, n - n_prog, OTHER_STATUS_MIX)])
    plan_rate = np.select([status == "active", status == "irregular"], [0.7, 0.4], 0.2)
    has_plan = rng.random(n) < plan_rate
    plan_day = np.minimum(established + rng.integers(90, 720, size=n), today.toordinal() - 30)
    total = rng.integers(12, 31, size=n)
    chair = np.where(urban, rng.choice(["maire", "chef de quartier"], size=n, p=[0.8, 0.2]),
                     rng.choice(["maire", "président de district", "chef de quartier"], size=n,
                                p=[0.4, 0.5, 0.1]))
    councils = pd.DataFrame({
        "name": [f"CLSPD de {units.at[u, 'short']}" for u in unit_ids],
        "unit_level": "subprefecture", "unit_id": unit_ids,
        "region_id": units.loc[unit_ids, "region_id"].to_numpy(),
        "prefecture_id": units.loc[unit_ids, "prefecture_id"].to_numpy(),
        "subprefecture_id": unit_ids,
        "established_on": to_dates(established), "chair_role": chair,
        "chair_name": person_names(rng, n), "members_total": total.astype(np.int64),
        "members_women": rng.binomial(total, 0.3).astype(np.int64),
        "members_youth": rng.binomial(total, 0.25).astype(np.int64),
        "plan_adopted_on": [d if p else None for d, p in zip(to_dates(plan_day), has_plan,
                                                               strict=True)],
    })
    councils = with_ids(councils)[COUNCIL_COLUMNS]

    meetings = []
    first_allowed = today.toordinal() - 3 * 365
    for cid, est, st, tot in zip(councils["id"], established, status, total, strict=True):
        last = today.toordinal() - (int(rng.integers(200, 500)) if st == "dormant" else 1)
        day = max(int(est), first_allowed) + int(rng.integers(7, 40))
        while day < last:
            meetings.append((cid, day, tot))
            day += max(14, int(rng.gamma(4.0, COUNCIL_STATUS[st] / 4.0)))
    m = pd.DataFrame(meetings, columns=["council_id", "day", "total"])
    attendance = rng.integers((m["total"] // 2).to_numpy(), (m["total"] + 6).to_numpy())
    m["held_on"] = to_dates(m["day"].to_numpy())
    m["attendance"] = attendance.astype(np.int64)
    m["attendance_women"] = rng.binomial(attendance, 0.35).astype(np.int64)
    m["topics"] = join_choices(rng, MEETING_TOPICS, len(m), 1, 3, sep="; ")
    m["decisions"] = join_choices(rng, DECISIONS, len(m), 1, 2, sep="; ")
    return councils, with_ids(m)[MEETING_COLUMNS]

