"""Programme indicators: council status, school reach, women's days, trainings, coverage per unit.

Everything here is computed from the record frames (one DataFrame per table of
``storage/schema.py``, keyed by table name, as the store or :func:`demo.generate.generate`
returns them); nothing is hard-coded, so the demo reproduces the programme's
published figures only because its records do (:func:`headline`).

Conventions
-----------
* Dates may be ``datetime.date`` objects or datetime64; they are compared as
  days. A period is ``start <= date <= end`` (both inclusive, either open).
  Dated records are council meetings (``held_on``), school visits
  (``visited_on``), women's days (``held_on``) and trainings, which belong to a
  period they overlap (``start_on``..``end_on``, as ``storage.programme`` cuts
  them). In monthly series a training counts once, in the month it ends
  (officers are trained when it ends), clamped into the period.
* Counts are 0 when there is nothing to count; shares, rates and distances are
  NaN when they cannot be computed (no members, no population, nothing to
  reach), never a silent 0.
* Councils are placed by their ``subprefecture_id`` (a neighbourhood council
  belongs to its commune); records are placed by their unit columns, filled
  upward from the sub-prefecture through the boundary hierarchy.
* Council status is judged *as of* ``today`` (or the period's end, if earlier):
  a council counts from its set-up date, is ``active`` when it met within
  ``active_within_days`` days before that date (inclusive), and ``plan_adopted``
  once its local security plan is adopted. A unit takes the best status of its
  councils in the order none < set_up < active < plan_adopted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

import shapely
from pyproj import Geod

from geo.boundaries import LEVELS, Level, load_units
from geo.crs import WGS84, transformer, utm_epsg_for
from geo.population import national_population
from geo.population import population as census_population
from i18n import N_

DateLike = dt.date | dt.datetime | pd.Timestamp | str

#: Council statuses, worst to best (a unit shows its best council).
STATUSES: tuple[str, ...] = ("none", "set_up", "active", "plan_adopted")
#: Date column that places each dated table in a period (trainings: their ``start_on``..``end_on`` span).
DATED: dict[str, str] = {"council_meeting": "held_on", "school_visit": "visited_on",
                         "women_visit_day": "held_on", "training": "end_on"}
#: Unit id and display name of the national row (translate the name with ``t(NATIONAL_NAME)``).
NATIONAL_ID = "GN"
NATIONAL_LEVEL = "national"
NATIONAL_NAME = N_("Guinea")
#: Keys of :func:`headline`, the same as ``demo.programme.PROGRAMME_FIGURES``.
HEADLINE_KEYS: tuple[str, ...] = ("instructors", "officers_trained", "communities", "school_officers",
                                  "students", "women", "visitation_days")
SEP = "; "

COUNCIL_STATUS_COLUMNS = ["subprefecture_id", "status", "active", "plan_adopted", "councils", "council_names",
                          "members_total", "members_women", "members_youth", "women_share", "youth_share",
                          "last_meeting", "meetings"]
SCHOOL_REACH_COLUMNS = ["id", "name", "level", "lon", "lat", "subprefecture_id", "prefecture_id", "visits",
                        "students_reached", "last_visit", "days_since_last_visit", "topics"]
WOMEN_DAYS_COLUMNS = ["id", "name", "kind", "lon", "lat", "subprefecture_id", "prefecture_id", "days", "women",
                      "complaints_after", "last_day"]
TRAINING_COLUMNS = ["community_name", "subprefecture_id", "prefecture_id", "lon", "lat", "trainings",
                    "officers_trained", "instructors", "instructor_names", "modules", "first_start", "last_end"]
INDICATOR_COLUMNS = [
    "unit_id", "level", "name", "population", "census_result", "population_rule",
    "subprefectures", "units_with_council", "units_with_active_council", "units_with_plan",
    "share_with_council", "share_with_active_council", "councils", "women_share", "youth_share", "meetings",
    "schools_visited", "school_visits", "students_reached", "students_per_1000_inhabitants",
    "stations_with_women_days", "women_days", "women",
    "trainings", "officers_trained", "officers_per_10000",
    "distance_to_trained_km", "distance_to_station_km",
]
MONTHLY_COLUMNS = ["month", "students_reached", "school_visits", "women", "women_days", "meetings",
                   "officers_trained"]
UNIT_COLUMNS = ("region_id", "prefecture_id", "subprefecture_id")

_GEOD = Geod(ellps="WGS84")
#: Relative slack on the planar nearest distance when gathering candidates (UTM scale varies < 1 % in Guinea).
UTM_MARGIN = 0.02


# --- small helpers ----------------------------------------------------------------------------------


def _day(value: DateLike | None, name: str) -> pd.Timestamp | None:
    """A date argument as a midnight Timestamp (``None`` stays ``None``)."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a date: {value!r}") from exc
    if stamp is pd.NaT:
        raise ValueError(f"{name} is not a date: {value!r}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def _dates(values: pd.Series) -> pd.Series:
    """Any date column as tz-naive datetime64 days (unparseable values become NaT)."""
    out = pd.to_datetime(values, errors="coerce")
    if isinstance(out.dtype, pd.DatetimeTZDtype):
        out = out.dt.tz_localize(None)
    return out.dt.normalize()


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def _with(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    """A copy of ``frame`` with at least ``columns`` (absent ones all-missing); ``None`` is an empty frame."""
    frame = pd.DataFrame(columns=columns) if frame is None else frame.copy()
    for col in columns:
        if col not in frame.columns:
            frame[col] = np.nan
    return frame


def _table(frames: Mapping[str, pd.DataFrame], name: str, columns: list[str]) -> pd.DataFrame:
    """Table ``name`` of ``frames`` with at least ``columns``; an absent table is an empty frame."""
    return _with(frames.get(name), columns)


def _require(frame: pd.DataFrame, what: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}")


def in_period(dates: pd.Series, start: DateLike | None = None, end: DateLike | None = None) -> pd.Series:
    """Boolean mask of ``start <= date <= end`` (inclusive); undated rows fall outside any bounded period."""
    day = _dates(dates)
    lo, hi = _day(start, "start"), _day(end, "end")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"start {lo.date()} is after end {hi.date()}")
    mask = pd.Series(True, index=dates.index)
    if lo is not None:
        mask &= day >= lo
    if hi is not None:
        mask &= day <= hi
    return mask.fillna(False).astype(bool)


def _training_span(trainings: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """First and last day of each training (a missing one borrows the other)."""
    missing = pd.Series(pd.NaT, index=trainings.index, dtype="datetime64[ns]")
    start = _dates(trainings["start_on"]) if "start_on" in trainings else missing
    end = _dates(trainings["end_on"]) if "end_on" in trainings else missing
    return start.fillna(end), end.fillna(start)


def _training_day(trainings: pd.DataFrame) -> pd.Series:
    """The day officers count as trained: the training's last day."""
    return _training_span(trainings)[1]


def _overlaps(trainings: pd.DataFrame, start: DateLike | None, end: DateLike | None) -> np.ndarray:
    first, last = _training_span(trainings)
    return (in_period(last, start, None) & in_period(first, None, end)).to_numpy()


def filter_period(frames: Mapping[str, pd.DataFrame], *, start: DateLike | None = None,
                  end: DateLike | None = None) -> dict[str, pd.DataFrame]:
    """The frames with their dated tables (:data:`DATED`) cut to the period; other tables as given.

    Trainings are kept when they overlap the period. Training-instructor links
    follow their trainings, so :func:`headline` of the result counts the
    instructors of the period's trainings only.
    """
    out = dict(frames)
    for name, column in DATED.items():
        frame = frames.get(name)
        if frame is None:
            continue
        if name == "training":
            out[name] = frame[_overlaps(frame, start, end)]
            continue
        if column not in frame:
            raise ValueError(f"table {name} lacks its date column {column!r}")
        out[name] = frame[in_period(frame[column], start, end).to_numpy()]
    links, trainings = frames.get("training_instructor"), out.get("training")
    if links is not None and trainings is not None and "id" in trainings:
        out["training_instructor"] = links[links["training_id"].isin(trainings["id"])]
    return out


def _lookup(values: pd.Series, keys: pd.Series | np.ndarray) -> np.ndarray:
    """``values`` (uniquely indexed) looked up for every key; missing keys give NaN/NaT.

    ``reindex`` rather than ``Series.map``: map casts an empty datetime lookup to float and fails.
    """
    return values.reindex(np.asarray(keys)).to_numpy()


def _join(values: pd.Series) -> str:
    return SEP.join(values)


def _distinct_joined(keys: pd.Series, text: pd.Series, *, split: bool = False) -> pd.Series:
    """Distinct, sorted pieces of ``text`` per key, "; "-joined (``split`` cuts on ``,``/``;`` first)."""
    frame = pd.DataFrame({"key": keys.to_numpy(object), "piece": text.to_numpy(object)}).dropna()
    if split:
        frame["piece"] = frame["piece"].astype(str).str.split(r"[;,]")
        frame = frame.explode("piece")
    frame["piece"] = frame["piece"].astype(str).str.strip()
    frame = frame[frame["piece"] != ""].drop_duplicates().sort_values(["key", "piece"])
    return frame.groupby("key")["piece"].agg(_join)


# --- the boundary hierarchy -------------------------------------------------------------------------


@lru_cache(maxsize=len(LEVELS))
def _units(level: Level) -> pd.DataFrame:
    """Attributes of every unit of ``level`` with a representative point (no geometry)."""
    units = load_units(level)
    if {"label_lon", "label_lat"} <= set(units.columns):
        lon, lat = units["label_lon"].to_numpy(float), units["label_lat"].to_numpy(float)
    else:
        point = shapely.point_on_surface(units.geometry.values)
        lon, lat = shapely.get_x(point), shapely.get_y(point)
    return pd.DataFrame({"unit_id": units["unit_id"].to_numpy(object), "name": units["name"].to_numpy(object),
                         "prefecture_id": units["prefecture_id"].to_numpy(object),
                         "region_id": units["region_id"].to_numpy(object), "lon": lon, "lat": lat})


def _place(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill ``prefecture_id``/``region_id`` from the sub-prefecture (the hierarchy wins) and the prefecture."""
    out = frame.copy()
    for col in UNIT_COLUMNS:
        out[col] = out[col].astype(object).where(out[col].notna(), None) if col in out else None
    subs = _units("subprefecture").set_index("unit_id")
    prefs = _units("prefecture").set_index("unit_id")
    sub = out["subprefecture_id"]
    out["prefecture_id"] = sub.map(subs["prefecture_id"]).astype(object).fillna(out["prefecture_id"])
    out["region_id"] = sub.map(subs["region_id"]).astype(object).fillna(out["region_id"])
    out["region_id"] = out["prefecture_id"].map(prefs["region_id"]).astype(object).fillna(out["region_id"])
    return out


# --- distances --------------------------------------------------------------------------------------


def nearest_distance_km(lon: np.ndarray, lat: np.ndarray, target_lon: np.ndarray,
                        target_lat: np.ndarray) -> np.ndarray:
    """Geodesic distance in km from each point to the nearest target (NaN without a point or any target).

    Candidates come from an ``STRtree`` in the UTM zone of the points' extent
    (:mod:`geo.crs`): ``query_nearest`` gives each point's planar nearest
    distance ``d``, then every target within ``d`` plus :data:`UTM_MARGIN` is
    measured on the WGS84 ellipsoid and the shortest kept. The UTM scale factor
    varies by less than 1 % across Guinea, so the true nearest is always among
    the candidates: the result is the exact geodesic minimum, not a projected one.
    """
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    tx, ty = np.asarray(target_lon, dtype=float), np.asarray(target_lat, dtype=float)
    if x.shape != y.shape or tx.shape != ty.shape or x.ndim != 1 or tx.ndim != 1:
        raise ValueError("coordinates must be 1-D arrays, lon and lat of the same length")
    out = np.full(len(x), np.nan)
    ok = np.isfinite(x) & np.isfinite(y)
    tok = np.isfinite(tx) & np.isfinite(ty)
    if not ok.any() or not tok.any():
        return out
    idx = np.flatnonzero(ok)
    x, y, tx, ty = x[ok], y[ok], tx[tok], ty[tok]
    allx, ally = np.r_[x, tx], np.r_[y, ty]
    to_utm = transformer(WGS84, utm_epsg_for(allx.min(), ally.min(), allx.max(), ally.max()))
    origins = shapely.points(*to_utm.transform(x, y))
    tree = shapely.STRtree(shapely.points(*to_utm.transform(tx, ty)))
    (src, _), planar = tree.query_nearest(origins, all_matches=False, return_distance=True)
    reach = np.empty(len(x))
    reach[src] = planar * (1.0 + UTM_MARGIN) + 1.0
    src, hit = tree.query(origins, predicate="dwithin", distance=reach)
    _, _, metres = _GEOD.inv(x[src], y[src], tx[hit], ty[hit])
    best = np.full(len(x), np.inf)
    np.minimum.at(best, src, np.asarray(metres, dtype=float))
    out[idx] = best / 1000.0
    return out


# --- derived frames ---------------------------------------------------------------------------------


def _council_rows(councils: pd.DataFrame, meetings: pd.DataFrame, *, as_of: pd.Timestamp,
                  active_within_days: int, start: pd.Timestamp | None) -> pd.DataFrame:
    """One row per council existing at ``as_of``: its unit, rank, last meeting, meetings in the period."""
    if isinstance(active_within_days, bool) or not isinstance(active_within_days, (int, np.integer)) \
            or active_within_days < 0:
        raise ValueError(f"active_within_days must be a non-negative integer, got {active_within_days!r}")
    _require(councils, "councils", ["id", "name", "subprefecture_id"])
    _require(meetings, "meetings", ["council_id", "held_on"])
    c = councils.copy()
    for col in ("unit_level", "unit_id", "established_on", "plan_adopted_on", "members_total", "members_women",
                "members_youth"):
        if col not in c:
            c[col] = np.nan
    sub = c["subprefecture_id"].astype(object)
    own = (c["unit_level"].astype(object) == "subprefecture") & sub.isna()
    c["subprefecture_id"] = sub.where(~own, c["unit_id"].astype(object))
    established = _dates(c["established_on"])
    c = c[c["subprefecture_id"].notna() & ~(established > as_of)].copy()

    held = _dates(meetings["held_on"])
    m = pd.DataFrame({"council_id": meetings["council_id"].to_numpy(), "held": held.to_numpy()})
    m = m[m["held"] <= as_of]
    last = m.groupby("council_id")["held"].max()
    counted = m["held"] >= start if start is not None else pd.Series(True, index=m.index)
    n_meetings = m[counted.to_numpy()].groupby("council_id").size()

    c["last_meeting"] = last.reindex(c["id"].to_numpy()).astype("datetime64[ns]").to_numpy()
    c["meetings"] = n_meetings.reindex(c["id"].to_numpy()).fillna(0).astype(np.int64).to_numpy()
    c["is_active"] = c["last_meeting"] >= as_of - pd.Timedelta(days=active_within_days)  # NaT compares False
    c["has_plan"] = _dates(c["plan_adopted_on"]) <= as_of
    c["rank"] = np.select([c["has_plan"], c["is_active"]], [3, 2], 1)
    for col in ("members_total", "members_women", "members_youth"):
        c[col] = _numbers(c[col])
    total = c["members_total"]
    for who in ("women", "youth"):
        known = c[f"members_{who}"].notna() & total.notna()
        c[f"{who}_num"] = c[f"members_{who}"].where(known, 0.0)
        c[f"{who}_den"] = total.where(known, 0.0)
    return c.sort_values("id", kind="stable")


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


def council_status(councils: pd.DataFrame, meetings: pd.DataFrame, *, today: DateLike,
                   active_within_days: int = 365, start: DateLike | None = None,
                   end: DateLike | None = None) -> pd.DataFrame:
    """Status of every sub-prefecture that has at least one council (others are ``"none"``).

    Judged as of ``today`` (or ``end`` if earlier; see the module docstring).
    ``meetings`` counts the meetings held from ``start`` up to that date;
    ``last_meeting`` is the latest one up to that date, whatever ``start``.
    ``women_share``/``youth_share`` use the councils whose counts are known (NaN
    when no member is counted). ``active`` and ``plan_adopted`` tell whether any
    council of the unit is active / has a plan.
    """
    as_of = _as_of(today, end)
    c = _council_rows(councils, meetings, as_of=as_of, active_within_days=active_within_days,
                      start=_day(start, "start"))
    if c.empty:
        return pd.DataFrame({col: pd.Series(dtype=float) for col in COUNCIL_STATUS_COLUMNS}).astype(
            {"subprefecture_id": object, "status": object, "council_names": object, "active": bool,
             "plan_adopted": bool, "councils": np.int64, "meetings": np.int64, "last_meeting": "datetime64[ns]"})
    c["name"] = c["name"].astype(object).fillna("").astype(str)
    g = c.groupby("subprefecture_id", sort=True)
    out = g.agg(rank=("rank", "max"), active=("is_active", "any"), plan_adopted=("has_plan", "any"),
                councils=("id", "size"), council_names=("name", _join),
                members_total=("members_total", lambda s: s.sum(min_count=1)),
                members_women=("members_women", lambda s: s.sum(min_count=1)),
                members_youth=("members_youth", lambda s: s.sum(min_count=1)),
                women_num=("women_num", "sum"), women_den=("women_den", "sum"),
                youth_num=("youth_num", "sum"), youth_den=("youth_den", "sum"),
                last_meeting=("last_meeting", "max"), meetings=("meetings", "sum")).reset_index()
    out["status"] = np.asarray(STATUSES, dtype=object)[out["rank"].to_numpy()]
    out["women_share"] = _share(out["women_num"], out["women_den"])
    out["youth_share"] = _share(out["youth_num"], out["youth_den"])
    return out[COUNCIL_STATUS_COLUMNS]


def _as_of(today: DateLike, end: DateLike | None) -> pd.Timestamp:
    day = _day(today, "today")
    if day is None:
        raise ValueError("today is required")
    stop = _day(end, "end")
    return day if stop is None else min(day, stop)


def school_reach(schools: pd.DataFrame, visits: pd.DataFrame, *, today: DateLike) -> pd.DataFrame:
    """Every school with its visits, students reached, last visit and topics (0 / NaT when never visited)."""
    _require(schools, "schools", ["id", "name"])
    _require(visits, "visits", ["school_id", "visited_on", "students_reached"])
    day = _day(today, "today")
    s = _place(_with(schools, ["level", "lon", "lat", *UNIT_COLUMNS]))
    v = pd.DataFrame({"school_id": visits["school_id"].to_numpy(), "visited": _dates(visits["visited_on"]).to_numpy(),
                      "students": _numbers(visits["students_reached"]).to_numpy()})
    g = v.groupby("school_id")
    out = s.sort_values("id", kind="stable").reset_index(drop=True)
    out["visits"] = np.nan_to_num(_lookup(g.size(), out["id"]).astype(float)).astype(np.int64)
    out["students_reached"] = np.nan_to_num(_lookup(g["students"].sum(), out["id"]).astype(float)).astype(np.int64)
    out["last_visit"] = pd.Series(_lookup(g["visited"].max(), out["id"])).astype("datetime64[ns]")
    out["days_since_last_visit"] = (day - out["last_visit"]).dt.days.astype(float)
    topics = visits["topics"] if "topics" in visits else pd.Series(np.nan, index=visits.index)
    joined = pd.Series(_lookup(_distinct_joined(visits["school_id"], topics, split=True), out["id"]), dtype=object)
    out["topics"] = joined.where(joined.notna(), "")
    return out[SCHOOL_REACH_COLUMNS]


def women_days_by_station(stations: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """Every station that held at least one women's day, with days, women, complaints after, last day.

    ``complaints_after`` sums the known follow-ups and is NaN when none is known
    for that station (unknown is not zero).
    """
    _require(stations, "stations", ["id", "name"])
    _require(days, "women's days", ["station_id", "held_on", "women_count"])
    s = _place(_with(stations, ["kind", "lon", "lat", *UNIT_COLUMNS]))
    complaints = days["complaints_after"] if "complaints_after" in days else pd.Series(np.nan, index=days.index)
    d = pd.DataFrame({"station_id": days["station_id"].to_numpy(), "held": _dates(days["held_on"]).to_numpy(),
                      "women": _numbers(days["women_count"]).to_numpy(), "complaints": _numbers(complaints).to_numpy()})
    agg = d.groupby("station_id").agg(days=("held", "size"), women=("women", "sum"),
                                      complaints_after=("complaints", lambda x: x.sum(min_count=1)),
                                      last_day=("held", "max"))
    out = s.merge(agg, left_on="id", right_index=True, how="inner").sort_values("id", kind="stable")
    out["days"] = out["days"].astype(np.int64)
    out["women"] = out["women"].fillna(0).astype(np.int64)
    out["complaints_after"] = out["complaints_after"].astype(float)
    out["last_day"] = out["last_day"].astype("datetime64[ns]")
    return out.reset_index(drop=True)[WOMEN_DAYS_COLUMNS]


def _communities(trainings: pd.DataFrame) -> pd.DataFrame:
    """Trainings placed in units with their community key (the sub-prefecture's name when none is given)."""
    t = _place(_with(trainings, ["id", "community_name", "officers_trained", "module", "start_on", "end_on",
                                 *UNIT_COLUMNS]))
    fallback = t["subprefecture_id"].map(_units("subprefecture").set_index("unit_id")["name"]).astype(object)
    name = t["community_name"].astype(object).str.split().str.join(" ")
    t["community_name"] = name.where(name.notna() & (name != ""), fallback).astype(object)
    return t


def training_by_community(trainings: pd.DataFrame, links: pd.DataFrame,
                          instructors: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per trained community (sub-prefecture + community name), at the sub-prefecture's point.

    ``instructors`` counts the distinct instructors linked to the community's
    trainings; ``instructor_names`` lists their names when ``instructors`` is given.
    """
    t = _communities(trainings)
    _require(links, "training links", ["training_id", "instructor_id"])
    keys = ["subprefecture_id", "community_name"]
    t["first"] = _dates(t["start_on"])
    t["last"] = _training_day(t)
    t["officers"] = _numbers(t["officers_trained"])
    g = t.groupby(keys, dropna=False, sort=True)
    out = g.agg(prefecture_id=("prefecture_id", "first"), trainings=("id", "size"),
                officers_trained=("officers", "sum"), first_start=("first", "min"),
                last_end=("last", "max")).reset_index()
    out["officers_trained"] = out["officers_trained"].astype(np.int64)
    out["trainings"] = out["trainings"].astype(np.int64)
    group_of = pd.Series(g.ngroup().to_numpy(), index=t["id"].to_numpy())
    rows = np.arange(len(out))
    out["modules"] = pd.Series(_lookup(_distinct_joined(g.ngroup(), t["module"]), rows), dtype=object).fillna("")
    link = links[links["training_id"].isin(group_of.index)]
    link_group = pd.Series(_lookup(group_of, link["training_id"]), index=link.index)
    per_group = link.groupby(link_group.to_numpy())["instructor_id"].nunique()
    out["instructors"] = np.nan_to_num(_lookup(per_group, rows).astype(float)).astype(np.int64)
    if instructors is not None and {"id", "name"} <= set(instructors.columns):
        who = pd.Series(_lookup(instructors.set_index("id")["name"], link["instructor_id"]), index=link.index)
        out["instructor_names"] = pd.Series(_lookup(_distinct_joined(link_group, who), rows), dtype=object).fillna("")
    else:
        out["instructor_names"] = ""
    subs = _units("subprefecture").set_index("unit_id")
    out["lon"] = out["subprefecture_id"].map(subs["lon"]).astype(float)
    out["lat"] = out["subprefecture_id"].map(subs["lat"]).astype(float)
    out["first_start"] = out["first_start"].astype("datetime64[ns]")
    out["last_end"] = out["last_end"].astype("datetime64[ns]")
    return out[TRAINING_COLUMNS]


# --- headline figures -------------------------------------------------------------------------------


def headline(frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """The programme's headline figures recomputed from the records (keys :data:`HEADLINE_KEYS`).

    ``instructors`` counts distinct instructors linked to the given trainings,
    ``communities`` the distinct trained communities (the rows of
    :func:`training_by_community`), ``school_officers`` the distinct officers with
    at least one visit. Cut the frames with :func:`filter_period` first for a period.
    """
    trainings = _table(frames, "training", ["id", "community_name", "officers_trained", *UNIT_COLUMNS])
    links = _table(frames, "training_instructor", ["training_id", "instructor_id"])
    if frames.get("training") is not None:
        links = links[links["training_id"].isin(trainings["id"])]
    visits = _table(frames, "school_visit", ["officer_id", "students_reached"])
    days = _table(frames, "women_visit_day", ["women_count"])
    communities = _communities(trainings)[["subprefecture_id", "community_name"]]
    return {
        "instructors": int(links["instructor_id"].nunique()),
        "officers_trained": int(_numbers(trainings["officers_trained"]).sum()),
        "communities": len(communities.drop_duplicates()),
        "school_officers": int(visits["officer_id"].nunique()),
        "students": int(_numbers(visits["students_reached"]).sum()),
        "women": int(_numbers(days["women_count"]).sum()),
        "visitation_days": len(days),
    }


# --- indicators per unit ----------------------------------------------------------------------------


def _counts(keys: pd.Series, index: pd.Index, values: pd.Series | None = None, *, distinct: pd.Series | None = None
            ) -> np.ndarray:
    """Per unit of ``index``: rows (or sum of ``values``, or distinct ``distinct``) keyed by ``keys``; 0 if none."""
    frame = pd.DataFrame({"key": keys.to_numpy(object)})
    if values is not None:
        frame["v"] = _numbers(values).to_numpy()
        per = frame.groupby("key")["v"].sum()
    elif distinct is not None:
        frame["v"] = distinct.to_numpy(object)
        per = frame.groupby("key")["v"].nunique()
    else:
        per = frame.groupby("key").size()
    return per.reindex(index).fillna(0).to_numpy().astype(np.int64)


Targets = dict[str, tuple[np.ndarray, np.ndarray]]


def _compute(keyed: Callable[[pd.DataFrame], pd.Series], units: pd.DataFrame, frames: Mapping[str, pd.DataFrame],
             *, today: DateLike, start: DateLike | None, end: DateLike | None,
             active_within_days: int) -> tuple[pd.DataFrame, Targets]:
    """Count/share columns for ``units`` (indexed by unit id), grouping records with ``keyed(frame)``.

    Also returns the points distances are measured to: the period's trained
    communities and every station, as (lon, lat) arrays.
    """
    index = pd.Index(units["unit_id"])
    lo = _day(start, "start")
    as_of = _as_of(today, end)
    if lo is not None and lo > as_of:
        raise ValueError(f"start {lo.date()} is after the period's end {as_of.date()}")
    cut = filter_period(frames, start=start, end=end)
    out = pd.DataFrame(index=index)

    # councils: coverage of sub-prefectures, status as of the period's end
    councils = _table(frames, "council", ["id", "name", "subprefecture_id"])
    meetings = _table(frames, "council_meeting", ["council_id", "held_on"])
    c = _place(_council_rows(councils, meetings, as_of=as_of, active_within_days=active_within_days, start=lo))
    per_sub = c.groupby("subprefecture_id").agg(active=("is_active", "any"), plan=("has_plan", "any"))
    subs = _units("subprefecture")[["unit_id", "prefecture_id", "region_id"]].rename(
        columns={"unit_id": "subprefecture_id"})
    sub_key = keyed(subs)
    has = subs["subprefecture_id"].isin(per_sub.index)
    out["subprefectures"] = _counts(sub_key, index)
    out["units_with_council"] = _counts(sub_key[has.to_numpy()], index)
    for col, flag in (("units_with_active_council", "active"), ("units_with_plan", "plan")):
        chosen = subs["subprefecture_id"].isin(per_sub.index[per_sub[flag].to_numpy(bool)])
        out[col] = _counts(sub_key[chosen.to_numpy()], index)
    out["share_with_council"] = _share(out["units_with_council"], out["subprefectures"])
    out["share_with_active_council"] = _share(out["units_with_active_council"], out["subprefectures"])
    ck = keyed(c)
    out["councils"] = _counts(ck, index)
    for who in ("women", "youth"):
        num = c[f"{who}_num"].groupby(ck.to_numpy()).sum().reindex(index).fillna(0)
        den = c[f"{who}_den"].groupby(ck.to_numpy()).sum().reindex(index).fillna(0)
        out[f"{who}_share"] = _share(num, den)
    out["meetings"] = _counts(ck, index, c["meetings"])

    # schools: visits of the period placed by their school
    schools = _place(_table(frames, "school", ["id", *UNIT_COLUMNS]))
    visits = _table(cut, "school_visit", ["school_id", "students_reached"])
    v = visits[["school_id", "students_reached"]].merge(
        schools[["id", *UNIT_COLUMNS]].rename(columns={"id": "school_id"}), on="school_id", how="left")
    vk = keyed(v)
    out["schools_visited"] = _counts(vk, index, distinct=v["school_id"])
    out["school_visits"] = _counts(vk, index)
    out["students_reached"] = _counts(vk, index, v["students_reached"])

    # women's days placed by their station
    stations = _place(_table(frames, "station", ["id", "lon", "lat", *UNIT_COLUMNS]))
    days = _table(cut, "women_visit_day", ["station_id", "women_count"])
    d = days[["station_id", "women_count"]].merge(
        stations[["id", *UNIT_COLUMNS]].rename(columns={"id": "station_id"}), on="station_id", how="left")
    dk = keyed(d)
    out["stations_with_women_days"] = _counts(dk, index, distinct=d["station_id"])
    out["women_days"] = _counts(dk, index)
    out["women"] = _counts(dk, index, d["women_count"])

    # trainings of the period
    trainings = _communities(_table(cut, "training", ["id", "officers_trained"]))
    tk = keyed(trainings)
    out["trainings"] = _counts(tk, index)
    out["officers_trained"] = _counts(tk, index, trainings["officers_trained"])

    # targets for distances: trained communities of the period, every station
    links = _table(cut, "training_instructor", ["training_id", "instructor_id"])
    trained = training_by_community(trainings, links)
    targets = {"trained": (trained["lon"].to_numpy(float), trained["lat"].to_numpy(float)),
               "station": (_numbers(stations["lon"]).to_numpy(), _numbers(stations["lat"]).to_numpy())}
    return out, targets


def _rates(out: pd.DataFrame) -> pd.DataFrame:
    pop = out["population"].where(out["population"] > 0)
    out["students_per_1000_inhabitants"] = out["students_reached"] / pop * 1000.0
    out["officers_per_10000"] = out["officers_trained"] / pop * 10000.0
    return out


def _check_population(population: pd.DataFrame) -> pd.DataFrame:
    _require(population, "population", ["unit_id", "population"])
    if population["unit_id"].duplicated().any():
        raise ValueError("population has duplicate unit ids")
    pop = population.set_index("unit_id")
    for col in ("census_result", "population_rule"):
        if col not in pop:
            pop[col] = np.nan
    return pop


def unit_indicators(level: Level, frames: Mapping[str, pd.DataFrame], *, today: DateLike,
                    start: DateLike | None = None, end: DateLike | None = None, active_within_days: int = 365,
                    population: pd.DataFrame | None = None, with_national: bool = False) -> pd.DataFrame:
    """Programme coverage of every unit of ``level``, including units with no activity at all.

    Parameters
    ----------
    level
        ``"region"``, ``"prefecture"`` or ``"subprefecture"``.
    frames
        Record frames keyed by table name (station, council, council_meeting,
        school, school_visit, women_visit_day, training, training_instructor);
        absent tables count as empty.
    today, start, end
        Reference date and the period (inclusive). Meetings, visits, women's days
        and trainings are cut to the period; council status is judged as of
        ``min(today, end)``; stations and schools are not dated.
    active_within_days
        A council is active if it met within this many days before that date.
    population
        Population per unit of ``level`` (``unit_id``, ``population``,
        ``census_result``, ``population_rule``); default
        :func:`geo.population.population` with its default ``"area"`` rule.
    with_national
        Append the :func:`national` row (unit_id ``"GN"``).

    Returns
    -------
    pandas.DataFrame
        :data:`INDICATOR_COLUMNS`, one row per unit in the boundary files' order:

        * ``subprefectures``, ``units_with_council``, ``units_with_active_council``,
          ``units_with_plan`` count sub-prefectures of the unit; ``share_with_council``
          and ``share_with_active_council`` are the shares of them with a council /
          an active council.
        * ``women_share``, ``youth_share``: members of the unit's councils
          (councils whose counts are known); NaN without counted members.
        * ``students_per_1000_inhabitants``: students reached per 1,000
          inhabitants of *all ages*. The census table gives no age structure per
          unit, so no school-age denominator is used; compare units with it, not
          with enrolment rates.
        * ``officers_per_10000``: officers trained per 10,000 inhabitants.
        * ``distance_to_trained_km`` / ``distance_to_station_km``: geodesic km from
          the unit's representative point (a point inside it) to the nearest
          trained community of the period (its sub-prefecture's point) / nearest
          station (:func:`nearest_distance_km`); 0 for a trained sub-prefecture,
          NaN when there is none to reach.
        * Rates are NaN when the population is unknown or zero.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    units = _units(level)
    column = f"{level}_id"

    def keyed(frame: pd.DataFrame) -> pd.Series:
        return frame[column].astype(object) if column in frame else pd.Series(None, index=frame.index, dtype=object)

    out, targets = _compute(keyed, units, frames, today=today, start=start, end=end,
                            active_within_days=active_within_days)
    pop = _check_population(census_population(level) if population is None else population)
    out.insert(0, "population", pop["population"].reindex(out.index).astype(float).to_numpy())
    out.insert(1, "census_result", pop["census_result"].reindex(out.index).to_numpy(object))
    out.insert(2, "population_rule", pop["population_rule"].reindex(out.index).to_numpy(object))
    for name, (tx, ty) in targets.items():
        out[f"distance_to_{name}_km"] = nearest_distance_km(units["lon"].to_numpy(), units["lat"].to_numpy(), tx, ty)
    out = _rates(out).reset_index(names="unit_id")
    out["level"] = level
    out["name"] = units["name"].to_numpy(object)
    out = out[INDICATOR_COLUMNS]
    if with_national:
        row = national(frames, today=today, start=start, end=end, active_within_days=active_within_days)
        out = pd.concat([out, row], ignore_index=True)
    return out


def national(frames: Mapping[str, pd.DataFrame], *, today: DateLike, start: DateLike | None = None,
             end: DateLike | None = None, active_within_days: int = 365,
             census: pd.DataFrame | None = None) -> pd.DataFrame:
    """The national row of :func:`unit_indicators` (unit_id ``"GN"``, level ``"national"``).

    Every visit, women's day and training counts, placed in a unit or not (councils
    need their sub-prefecture). Population is the census total (flag
    ``mixed``: final for some prefectures, preliminary for others). The distance
    columns are the *mean over sub-prefectures* of their distances, since a single
    point cannot stand for the country.
    """
    units = pd.DataFrame({"unit_id": [NATIONAL_ID]})

    def keyed(frame: pd.DataFrame) -> pd.Series:
        return pd.Series(NATIONAL_ID, index=frame.index, dtype=object)

    out, targets = _compute(keyed, units, frames, today=today, start=start, end=end,
                            active_within_days=active_within_days)
    total = national_population(census)
    for col, value in total.items():
        out[col] = value
    subs = _units("subprefecture")
    for name, (tx, ty) in targets.items():
        dist = nearest_distance_km(subs["lon"].to_numpy(), subs["lat"].to_numpy(), tx, ty)
        out[f"distance_to_{name}_km"] = float(np.mean(dist)) if np.isfinite(dist).any() else np.nan
    out = _rates(out).reset_index(names="unit_id")
    out["level"] = NATIONAL_LEVEL
    out["name"] = NATIONAL_NAME
    out["population"] = out["population"].astype(float)
    return out[INDICATOR_COLUMNS]


# --- trends -----------------------------------------------------------------------------------------


def monthly_series(frames: Mapping[str, pd.DataFrame], *, start: DateLike, end: DateLike) -> pd.DataFrame:
    """Per calendar month from ``start`` to ``end`` (every month, 0 when empty): the programme's activity.

    ``month`` is the first day of the month; records are cut to ``start..end``
    first, so partial first and last months hold only the days inside the period.
    Trainings overlapping the period count in the month they end, or in the last
    month if they end after the period, so the months add up to the period's
    :func:`headline`.
    """
    lo, hi = _day(start, "start"), _day(end, "end")
    if lo is None or hi is None:
        raise ValueError("start and end are required")
    if lo > hi:
        raise ValueError(f"start {lo.date()} is after end {hi.date()}")
    months = pd.period_range(lo, hi, freq="M")
    cut = filter_period(frames, start=lo, end=hi)

    def per_month(days: pd.Series, values: pd.Series | None = None) -> np.ndarray:
        period = _dates(days).dt.to_period("M")
        series = pd.Series(1.0, index=days.index) if values is None else _numbers(values)
        return series.groupby(period.to_numpy()).sum().reindex(months).fillna(0).to_numpy().astype(np.int64)

    visits = _table(cut, "school_visit", ["visited_on", "students_reached"])
    days = _table(cut, "women_visit_day", ["held_on", "women_count"])
    meetings = _table(cut, "council_meeting", ["held_on"])
    trainings = _table(cut, "training", ["end_on", "start_on", "officers_trained"])
    trained_on = _training_day(trainings).clip(lower=lo, upper=hi)
    return pd.DataFrame({
        "month": months.to_timestamp().astype("datetime64[ns]"),
        "students_reached": per_month(visits["visited_on"], visits["students_reached"]),
        "school_visits": per_month(visits["visited_on"]),
        "women": per_month(days["held_on"], days["women_count"]),
        "women_days": per_month(days["held_on"]),
        "meetings": per_month(meetings["held_on"]),
        "officers_trained": per_month(trained_on, trainings["officers_trained"]),
    })[MONTHLY_COLUMNS]
