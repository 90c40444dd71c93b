"""Rollout planner service: the candidate table from the store, imported population tables, plan files.

Shared by ``proximite rollout`` and the planner's page. :func:`candidate_table`
gathers one row per prefecture or sub-prefecture with every indicator
:data:`geo.rollout.DEFAULT_CRITERIA` reads; :func:`plan_rollout` ranks and
selects (pure, given that table, so a page can cache the table);
:func:`plan_to_files` writes the plan as CSV/XLSX and the selected units as GeoJSON.

Sources and rules
-----------------
* Incidents and sensitive (gender-based violence, child abuse) reports per unit
  come from the store's GROUP BY for the viewer given (default
  :data:`COUNTING_VIEWER`, the local operator, who may count them): counts only,
  never a point. For a viewer who may not see sensitive reports (a planner on
  the page) they count in whole multiples of the suppression threshold, as
  everywhere else, and the table says so (note ``sensitive_rounded``). Files
  written here leave out sensitive counts.
* Crashes: EPDO score (severity weights, default fatal 10, serious 5, slight 1)
  summed per unit through the crash table's unit columns.
* Hot spots: Getis-Ord Gi* on H3 cells (default resolution 7, about 5 km²,
  first ring, FDR-corrected) over the whole country, only incidents with a
  true point; ``hotspot_share`` is the share of the unit's cells (by centre)
  that are hot at 95 % or more.
* A source that holds no record at all for the period gives NaN (unknown) for
  every unit, not 0: "no crash recorded anywhere" usually means "no crash data".
* Programme indicators (:func:`geo.indicators.unit_indicators`) are cumulative
  up to ``end``: what exists (councils, officers trained, outreach) when the plan
  is made, whatever ``start``. Incidents and crashes are counted in ``start..end``.
* Population: the 2014 census per prefecture, shared out to sub-prefectures by
  ``population_rule`` (:mod:`geo.population`), or an imported table
  (:func:`read_population_table`); a prefecture table is shared out the same way,
  a sub-prefecture table summed for prefectures.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd

from exchange.export import to_csv, to_xlsx
from exchange.hotspots import run_hotspots
from exchange.readers import ReadError, read_table
from geo import rollout as ro
from geo.blackspots import SeverityWeights
from geo.boundaries import load_display, load_units, locate
from geo.indicators import unit_indicators
from geo.names import compact, normalize
from geo.population import RULES, population
from i18n import N_, Translator, t_for
from storage import Store
from storage.programme import ProgrammeFilter
from storage.queries import IncidentFilter, Viewer
from storage.roads import CrashFilter

LEVELS: tuple[str, ...] = ("prefecture", "subprefecture")
#: Reads counts of sensitive incidents per unit (never points): what ranking by need requires.
COUNTING_VIEWER = Viewer(name="rollout planner", can_see_sensitive=True)
#: ``census_result`` and ``population_rule`` of figures from an imported table.
IMPORTED = "imported"
POPULATION_SOURCE_LABELS: dict[str, str] = {IMPORTED: N_("imported population table"),
                                            "census": N_("2014 census")}
#: Hot cells: Gi* bin at or above this (2 = 95 % confidence).
HOT_BIN = 2
CANDIDATE_COLUMNS = [
    "unit_id", "name", "level", "prefecture_id", "region_id", "lon", "lat", "population", "census_result",
    "population_rule", "incidents", "incidents_per_10000", "sensitive", "sensitive_per_10000", "crashes",
    "crash_epdo", "crash_epdo_per_10000", "hot_cells", "hotspot_share", "councils", "share_with_council",
    "students_reached", "women", "outreach_per_1000", "officers_trained", "officers_per_10000",
    "distance_to_trained_km", "trained",
]
#: Codes of ``table.attrs["notes"]`` (what the table could not know).
NOTE_LABELS: dict[str, str] = {
    "no_incidents": N_("No incident recorded in the period: incident criteria are unknown."),
    "sensitive_rounded": N_("Sensitive reports count in whole multiples of {n} for this role (so that no victim can "
                            "be singled out): that criterion is rounded down."),
    "no_crashes": N_("No road crash recorded in the period: the crash criterion is unknown."),
    "no_located_incidents": N_("No incident with a true position: hot spots are unknown."),
    "no_trained_community": N_("No trained community yet: distances to one are unknown."),
}
POPULATION_ERROR_LABELS: dict[str, str] = {
    "unreadable": N_("The population file cannot be read."),
    "empty": N_("The population file holds no row."),
    "no_unit_column": N_("No column names the units (unit id, code or name)."),
    "no_population_column": N_("No population column."),
    "unknown_units": N_("Some units are unknown."),
    "ambiguous_names": N_("Some unit names match several units: add the unit id or a prefecture column."),
    "duplicate_units": N_("Some units appear more than once."),
    "bad_numbers": N_("Some population figures are not numbers of zero or more."),
}


class PopulationTableError(ValueError):
    """An imported population table that cannot be used: ``code`` (translated by the UI), ``rows`` (file rows).

    ``reason`` is the :class:`exchange.readers.ReadError` code when the file could not be read at all.
    """

    def __init__(self, code: str, detail: str, rows: Sequence[int] = (), *, reason: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.rows, self.reason = code, detail, tuple(rows), reason


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return level


def _day(value: dt.date | dt.datetime | str | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a date: {value!r}") from exc


# --- population tables --------------------------------------------------------------------------------


_ID_HEADERS = ("unit id", "id", "code", "pcode", "iso code", "code unite", "identifiant", "unit code")
_NAME_HEADERS = {
    "subprefecture": ("sous prefecture", "sousprefecture", "sub prefecture", "subprefecture", "commune", "nom",
                      "name", "unite", "unit", "unit name", "nom unite", "localite"),
    "prefecture": ("prefecture", "nom", "name", "unite", "unit", "unit name", "nom unite"),
}
_POPULATION_HEADERS = ("population", "pop", "habitants", "inhabitants", "nombre d habitants", "nb habitants")


def _find(columns: dict[str, str], wanted: Iterable[str], *, prefix: bool = False) -> str | None:
    for key in wanted:
        if key in columns:
            return columns[key]
    if prefix:
        for key, col in columns.items():
            if any(key.startswith(w) for w in wanted):
                return col
    return None


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Population figures from text ("12 345", "12,345", "12345.0", "1 234,5"): values and a bad-cell mask."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    text = text.str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    thousands = text.str.fullmatch(r"\d{1,3}([,.]\d{3})+")
    text = text.where(~thousands, text.str.replace(r"[,.]", "", regex=True))
    text = text.str.replace(",", ".", regex=False)
    blank = text == ""
    out = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(float)
    bad = (~blank.to_numpy() & np.isnan(out)) | (out < 0) | np.isinf(out)
    return out, bad


@dataclass(frozen=True)
class _Keys:
    ids: dict[str, tuple[str, str]]  # unit id -> (level, id)
    names: dict[str, dict[str, list[str]]]  # level -> name key -> unit ids
    prefecture_of: dict[str, str]


def _unit_keys() -> _Keys:
    units = load_units().drop(columns="geometry")
    units = units[units["level"].astype(str).isin(LEVELS)]
    ids = {uid.upper(): (str(level), uid) for uid, level in zip(units["unit_id"], units["level"], strict=True)}
    names: dict[str, dict[str, list[str]]] = {level: {} for level in LEVELS}
    for row in units.itertuples(index=False):
        spellings = {row.name, getattr(row, "name_ascii", None), *str(row.aliases or "").split("|")}
        keys = {f(s) for s in spellings if s for f in (normalize, compact)} - {""}
        for key in keys:
            bucket = names[str(row.level)].setdefault(key, [])
            if row.unit_id not in bucket:
                bucket.append(row.unit_id)
    prefecture_of = dict(zip(units["unit_id"], units["prefecture_id"], strict=True))
    return _Keys(ids, names, prefecture_of)


def _candidates(keys: _Keys, level: str, text: str) -> list[str]:
    hits = keys.names[level].get(normalize(text)) or keys.names[level].get(compact(text)) or []
    return list(hits)


#: Why one row of a population table is not used (column ``code`` of :attr:`PopulationImport.problems`).
POPULATION_ROW_LABELS: dict[str, str] = {
    "unknown_unit": N_("no unit of this name or id"),
    "ambiguous_name": N_("several units have this name: add the unit id or a prefecture column"),
    "duplicate_unit": N_("this unit appears on more than one row"),
    "bad_number": N_("the population is not a number of zero or more"),
}
#: Row problems in the order :func:`read_population_table` reports them, with the file-level code of each.
_ROW_TO_FILE_CODE = {"unknown_unit": "unknown_units", "ambiguous_name": "ambiguous_names",
                     "duplicate_unit": "duplicate_units", "bad_number": "bad_numbers"}


@dataclass(frozen=True)
class PopulationImport:
    """A population table matched row by row, so a page can say which rows fit and which do not.

    ``table`` holds the rows that matched one unit with a usable figure (the
    columns of :func:`read_population_table`); ``problems`` one row per file row
    that did not (``row`` in the file, ``value`` as written, ``code`` of
    :data:`POPULATION_ROW_LABELS`, English ``detail``). A table is only fit to
    replace the census when ``problems`` is empty: a misspelt unit would
    otherwise silently lose its population.
    """

    table: pd.DataFrame
    problems: pd.DataFrame
    level: str
    rows: int
    file_name: str
    sha256: str

    @property
    def ok(self) -> bool:
        """True when every row matched: the table can be used."""
        return self.problems.empty


def match_population_table(data: bytes | Path | str | Any, file_name: str | None = None, *,
                           level: str = "subprefecture", max_bytes: int = 200_000_000) -> PopulationImport:
    """Match every row of an imported population table (CSV, XLSX...; units by id or name) to a boundary unit.

    The table's own level is found from its rows (prefectures or sub-prefectures;
    ``level`` breaks ties). Names are matched accent- and case-insensitively,
    with the units' aliases; a name shared by several units needs a
    ``prefecture`` column or the unit id. Blank figures stay missing (NaN).
    Row problems are collected, not raised (see :class:`PopulationImport`).

    Raises
    ------
    PopulationTableError
        When the file as a whole cannot be used (unreadable, empty, no unit or
        population column); ``reason`` holds the reader's code when it could not be read.
    """
    _check_level(level)
    try:
        raw = read_table(data, file_name, max_bytes=max_bytes)
    except ReadError as exc:
        raise PopulationTableError("unreadable", exc.detail, reason=exc.code) from exc
    frame = raw.frame
    if frame.empty:
        raise PopulationTableError("empty", "the table has a header but no row")
    columns = {normalize(c): c for c in frame.columns}
    pop_col = _find(columns, _POPULATION_HEADERS, prefix=True)
    if pop_col is None:
        raise PopulationTableError("no_population_column", f"columns are {list(frame.columns)}")
    id_col = _find(columns, _ID_HEADERS)
    name_cols = {lvl: _find(columns, _NAME_HEADERS[lvl]) for lvl in LEVELS}
    if id_col is None and not any(name_cols.values()):
        raise PopulationTableError("no_unit_column", f"columns are {list(frame.columns)}")
    rows = np.array([raw.row_number(i) for i in range(len(frame))])
    keys = _unit_keys()

    def cell(col: str | None, i: int) -> str:
        value = frame[col].iloc[i] if col else None
        return "" if value is None or pd.isna(value) else str(value).strip()

    # which level the table holds: the one that matches most rows (ids first, then names)
    matches = {}
    for lvl in LEVELS:
        by_id = [keys.ids.get(cell(id_col, i).upper(), ("", ""))[0] == lvl for i in range(len(frame))]
        by_name = [bool(_candidates(keys, lvl, cell(name_cols[lvl], i))) for i in range(len(frame))]
        matches[lvl] = int(np.sum(np.array(by_id) | np.array(by_name)))
    table_level = max(LEVELS, key=lambda lvl: (matches[lvl], lvl == level))
    name_col = name_cols[table_level]
    pref_col = name_cols["prefecture"] if table_level == "subprefecture" and name_col != name_cols["prefecture"] \
        else None

    found: list[str | None] = []
    problems: list[dict[str, Any]] = []
    for i in range(len(frame)):
        ident = keys.ids.get(cell(id_col, i).upper())
        if ident is not None and ident[0] == table_level:
            found.append(ident[1])
            continue
        hits = _candidates(keys, table_level, cell(name_col, i))
        if len(hits) > 1 and pref_col is not None:
            prefs = set(_candidates(keys, "prefecture", cell(pref_col, i)))
            hits = [h for h in hits if keys.prefecture_of.get(h) in prefs] or hits
        if len(hits) == 1:
            found.append(hits[0])
            continue
        found.append(None)
        if hits:
            problems.append({"row": int(rows[i]), "value": cell(name_col, i), "code": "ambiguous_name",
                             "detail": f"could be {', '.join(hits)}"})
        else:
            problems.append({"row": int(rows[i]), "value": cell(id_col, i) or cell(name_col, i),
                             "code": "unknown_unit", "detail": f"no {table_level} matches"})
    ids = pd.Series(found, dtype=object)
    twice = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    for i in np.flatnonzero(twice):
        problems.append({"row": int(rows[i]), "value": str(ids.iloc[i]), "code": "duplicate_unit",
                         "detail": "given more than once"})
    values, bad = _numbers(frame[pop_col])
    for i in np.flatnonzero(bad):
        problems.append({"row": int(rows[i]), "value": cell(pop_col, i), "code": "bad_number",
                         "detail": f"{frame[pop_col].iloc[i]!r} in column {pop_col!r}"})
    good = ids.notna().to_numpy() & ~twice & ~bad
    names = load_units(table_level).set_index("unit_id")["name"]  # type: ignore[arg-type]
    kept = ids[good].to_numpy(object)
    table = pd.DataFrame({"unit_id": kept, "level": table_level,
                          "name": names.reindex(kept).to_numpy(object), "population": values[good],
                          "census_result": IMPORTED, "population_rule": IMPORTED})
    order = {code: k for k, code in enumerate(POPULATION_ROW_LABELS)}
    report = pd.DataFrame(problems, columns=["row", "value", "code", "detail"])
    if not report.empty:
        report = report.sort_values(["row", "code"], key=lambda s: s.map(order) if s.name == "code" else s,
                                    kind="stable").reset_index(drop=True)
    return PopulationImport(table, report, table_level, len(frame), raw.file_name, raw.sha256)


def read_population_table(data: bytes | Path | str | Any, file_name: str | None = None, *,
                          level: str = "subprefecture", max_bytes: int = 200_000_000) -> pd.DataFrame:
    """An imported population table (CSV, XLSX...; units by id or name) matched to the boundary units.

    See :func:`match_population_table`; here any row that does not match makes
    the whole table unusable, for callers that want a table or one error (the
    page and the command line list every row with :func:`match_population_table`).

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``level``, ``name``, ``population``, ``census_result`` and
        ``population_rule`` (both :data:`IMPORTED`).

    Raises
    ------
    PopulationTableError
        With a ``code`` of :data:`POPULATION_ERROR_LABELS` and the file rows concerned
        (the first kind of row problem found, in the order of :data:`POPULATION_ROW_LABELS`).
    """
    result = match_population_table(data, file_name, level=level, max_bytes=max_bytes)
    if result.ok:
        return result.table
    problems = result.problems
    code = next(c for c in _ROW_TO_FILE_CODE if (problems["code"] == c).any())
    part = problems[problems["code"] == code]
    listed = "; ".join(f"row {r}: {v!r} {d}" for r, v, d in part[["row", "value", "detail"]].head(10).itertuples(
        index=False))
    more = f" and {len(part) - 10} more" if len(part) > 10 else ""
    raise PopulationTableError(_ROW_TO_FILE_CODE[code], listed + more, part["row"].tolist())


def unit_population(level: str, rule: str = "area", table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Population of every unit of ``level``: the census (shared out by ``rule``) or an imported ``table``.

    A prefecture table for sub-prefectures is shared out by ``rule``; a
    sub-prefecture table for prefectures is summed (NaN when a sub-prefecture is
    missing). Units the table lacks get NaN: missing, shown, never 0.
    """
    _check_level(level)
    if rule not in RULES:
        raise ValueError(f"population_rule must be one of {RULES}, got {rule!r}")
    if table is None:
        return population(level, rule)  # type: ignore[arg-type]
    for col in ("unit_id", "level", "population"):
        if col not in table.columns:
            raise ValueError(f"population table lacks column {col!r}")
    levels = set(table["level"].astype(str))
    if len(levels) != 1 or not levels <= set(LEVELS):
        raise ValueError(f"population table must hold one level of {LEVELS}, got {sorted(levels)}")
    given = levels.pop()
    units = load_units(level).drop(columns="geometry")  # type: ignore[arg-type]
    out = units[["unit_id", "name", "prefecture_id", "region_id"]].copy()
    out["level"] = level
    values = pd.to_numeric(table.set_index("unit_id")["population"], errors="coerce")
    if given == level:
        out["population"] = values.reindex(out["unit_id"]).to_numpy(float)
        out["census_result"], out["population_rule"] = IMPORTED, IMPORTED
    elif given == "prefecture":
        census = pd.DataFrame({"iso_code": values.index, "population_2014": values.round().to_numpy(),
                               "census_result": IMPORTED})
        shared = population(level, rule, census=census)  # type: ignore[arg-type]
        out = out.merge(shared[["unit_id", "population", "census_result", "population_rule"]], on="unit_id")
    else:
        subs = load_units("subprefecture")[["unit_id", "prefecture_id"]]
        per = pd.DataFrame({"prefecture_id": subs["prefecture_id"],
                            "population": values.reindex(subs["unit_id"]).to_numpy(float)})
        grouped = per.groupby("prefecture_id")["population"]
        total = grouped.sum(min_count=1).where(grouped.count() == grouped.size())
        out["population"] = total.reindex(out["unit_id"]).to_numpy(float)
        out["census_result"], out["population_rule"] = IMPORTED, IMPORTED
    return out[["unit_id", "level", "name", "prefecture_id", "region_id", "population", "census_result",
                "population_rule"]]


# --- candidate table ----------------------------------------------------------------------------------


def _per_10000(values: np.ndarray, pop: np.ndarray, per: float = 10_000.0) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pop > 0, values / pop * per, np.nan)


def candidate_table(store: Store, level: str = "subprefecture", *, start: dt.date | str | None = None,
                    end: dt.date | str | None = None, population_rule: str = "area",
                    population_table: pd.DataFrame | None = None, viewer: Viewer | None = None,
                    today: dt.date | None = None, include_demo: bool = True, hotspot_resolution: int = 7,
                    severity_weights: SeverityWeights | None = None) -> pd.DataFrame:
    """One row per unit of ``level`` with every rollout indicator (:data:`CANDIDATE_COLUMNS`).

    ``start``/``end`` are inclusive days (open when None); ``today`` (default
    ``end`` or today) is the day council status is judged on. Rates are NaN when
    the population is unknown or 0. ``attrs["notes"]`` lists :data:`NOTE_LABELS`
    codes for sources that were empty. See the module docstring for the rules.
    """
    level = _check_level(level)
    first, last = _day(start, "start"), _day(end, "end")
    if first and last and first > last:
        raise ValueError(f"start {first} is after end {last}")
    viewer = viewer or COUNTING_VIEWER
    weights = severity_weights or SeverityWeights()
    today = today or last or dt.date.today()
    notes: list[str] = []
    units = load_units(level).drop(columns="geometry")  # type: ignore[arg-type]
    index = pd.Index(units["unit_id"])
    out = pd.DataFrame({"unit_id": index, "name": units["name"].to_numpy(object), "level": level,
                        "prefecture_id": units["prefecture_id"].to_numpy(object),
                        "region_id": units["region_id"].to_numpy(object),
                        "lon": units["label_lon"].to_numpy(float), "lat": units["label_lat"].to_numpy(float)})
    pop = unit_population(level, population_rule, population_table).set_index("unit_id").reindex(index)
    out["population"] = pop["population"].to_numpy(float)
    out["census_result"] = pop["census_result"].to_numpy(object)
    out["population_rule"] = pop["population_rule"].to_numpy(object)
    people = out["population"].to_numpy(float)

    # incidents and sensitive reports: one GROUP BY, counts only
    begin = dt.datetime.combine(first, dt.time(), dt.UTC) if first else None
    stop = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC) if last else None
    flt = IncidentFilter(start=begin, end=stop, include_demo=include_demo)
    counts = store.incident_counts(flt, viewer, by=f"{level}_id").set_index("key")
    if counts.empty:
        notes.append("no_incidents")
        incidents = sensitive = np.full(len(index), np.nan)
    else:
        incidents = counts["count"].reindex(index).fillna(0).to_numpy(float)
        sensitive = counts["sensitive"].reindex(index).fillna(0).to_numpy(float)
        if not viewer.sees_sensitive_everywhere:
            notes.append("sensitive_rounded")
    out["incidents"], out["incidents_per_10000"] = incidents, _per_10000(incidents, people)
    out["sensitive"], out["sensitive_per_10000"] = sensitive, _per_10000(sensitive, people)

    # road crashes weighted by severity
    crashes = store.crashes(CrashFilter(start=begin, end=stop, include_demo=include_demo),
                            columns=("severity", f"{level}_id"))
    if crashes.empty:
        notes.append("no_crashes")
        n_crashes = epdo = np.full(len(index), np.nan)
    else:
        key = crashes[f"{level}_id"].to_numpy(object)
        frame = pd.DataFrame({"key": key, "epdo": weights.of(crashes["severity"])})
        grouped = frame.groupby("key")["epdo"]
        n_crashes = grouped.size().reindex(index).fillna(0).to_numpy(float)
        epdo = grouped.sum().reindex(index).fillna(0).to_numpy(float)
    out["crashes"], out["crash_epdo"] = n_crashes, epdo
    out["crash_epdo_per_10000"] = _per_10000(epdo, people)

    # hot spots over the whole country (every prefecture is in the study area)
    hot, share = _hotspots(store, flt, viewer, level, index, hotspot_resolution)
    if counts.empty:
        hot = share = np.full(len(index), np.nan)
    elif np.isnan(share).all():
        notes.append("no_located_incidents")
    out["hot_cells"], out["hotspot_share"] = hot, share

    # programme: cumulative up to the end of the period
    frames = store.programme_frames(ProgrammeFilter(include_demo=include_demo))
    programme = unit_indicators(level, frames, today=today, start=None, end=last,  # type: ignore[arg-type]
                                population=pop.reset_index()[["unit_id", "population", "census_result",
                                                              "population_rule"]]).set_index("unit_id")
    programme = programme.reindex(index)
    for col in ("councils", "share_with_council", "students_reached", "women", "officers_trained",
                "officers_per_10000", "distance_to_trained_km"):
        out[col] = programme[col].to_numpy()
    reached = programme["students_reached"].to_numpy(float) + programme["women"].to_numpy(float)
    out["outreach_per_1000"] = _per_10000(reached, people, 1000.0)
    out["trained"] = programme["officers_trained"].to_numpy(float) > 0
    if np.isnan(out["distance_to_trained_km"].to_numpy(float)).all():
        notes.append("no_trained_community")
    out = out[CANDIDATE_COLUMNS].reset_index(drop=True)
    out.attrs["notes"] = notes
    out.attrs["threshold"] = int(viewer.suppression_threshold)
    return out


def _hotspots(store: Store, flt: IncidentFilter, viewer: Viewer, level: str, index: pd.Index,
              resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Hot cells per unit and their share of the unit's cells (NaN without any located incident)."""
    prefectures = load_units("prefecture")["unit_id"]
    national = IncidentFilter(start=flt.start, end=flt.end, include_demo=flt.include_demo,
                              units=tuple(("prefecture", uid) for uid in prefectures))
    result = run_hotspots(store, national, resolution=resolution, k=1, fdr=True, viewer=viewer)
    table = result.table
    if table.empty or int(table["count"].sum()) == 0:
        nan = np.full(len(index), np.nan)
        return nan, nan
    where = locate(table["lon"].to_numpy(float), table["lat"].to_numpy(float))[f"{level}_id"].to_numpy(object)
    frame = pd.DataFrame({"key": where, "hot": table["gi_bin"].to_numpy() >= HOT_BIN}).dropna(subset=["key"])
    grouped = frame.groupby("key")["hot"]
    cells = grouped.size().reindex(index).fillna(0).to_numpy(float)
    hot = grouped.sum().reindex(index).fillna(0).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cells > 0, hot / cells, 0.0)  # a unit too small to hold a cell centre has no hot cell
    return hot, share


# --- scenario files -----------------------------------------------------------------------------------


#: Why a scenario file cannot be loaded (``ScenarioFileError.code``; the UI translates them).
SCENARIO_ERROR_LABELS: dict[str, str] = {
    "too_large": N_("The scenario file is too large."),
    "not_json": N_("The scenario file is not JSON text."),
    "not_object": N_("The scenario file does not hold a scenario (a JSON object with weights)."),
    "unknown_fields": N_("The scenario file has fields that a scenario does not have."),
    "version": N_("The scenario file was written by another version of the planner."),
    "no_name": N_("The scenario has no name."),
    "bad_weights": N_("The scenario weights are not numbers of zero or more, or all are zero."),
    "unknown_criteria": N_("The scenario names criteria that the planner does not know."),
    "bad_choice": N_("The scenario has a direction, normalization or missing-value rule that does not exist."),
    "bad_limits": N_("The scenario limits are not valid."),
    "bad_coverage": N_("The scenario covering distance is not a number of zero or more."),
    "bad_units": N_("The scenario's level or unit lists are not valid (a level, prefecture or subprefecture, "
                    "and lists of unit ids)."),
    "unknown_units": N_("The scenario names units that do not exist at its level."),
}


class ScenarioFileError(ValueError):
    """A scenario file that cannot be loaded: ``code`` of :data:`SCENARIO_ERROR_LABELS`, English ``detail``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


def read_scenario(data: bytes | str, *, max_bytes: int = 1_000_000,
                  base: Sequence[ro.Criterion] = ro.DEFAULT_CRITERIA) -> ro.Scenario:
    """A scenario from the JSON a planner downloaded (:meth:`geo.rollout.Scenario.to_json`), checked in full.

    Checks go field by field so that the error names what is wrong in words a
    planner can act on (:class:`ScenarioFileError` codes), and unknown criteria
    are refused here rather than when the plan is made.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise ScenarioFileError("too_large", f"{len(raw):,} bytes; the limit is {max_bytes:,}")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ScenarioFileError("not_json", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ScenarioFileError("not_json", f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(doc, dict) or "weights" not in doc:
        raise ScenarioFileError("not_object", f"got {type(doc).__name__}" + (
            f" with keys {sorted(doc)}" if isinstance(doc, dict) else ""))
    allowed = set(ro.SCENARIO_FIELDS)
    if set(doc) - allowed:
        raise ScenarioFileError("unknown_fields", ", ".join(sorted(set(doc) - allowed)))
    if doc.get("version", ro.SCENARIO_VERSION) != ro.SCENARIO_VERSION:
        raise ScenarioFileError("version", f"version {doc.get('version')!r}, this planner reads "
                                           f"{ro.SCENARIO_VERSION}")
    if not isinstance(doc.get("name"), str) or not doc["name"].strip():
        raise ScenarioFileError("no_name", f"name is {doc.get('name')!r}")
    weights, directions = doc["weights"], doc.get("directions") or {}
    if not isinstance(weights, dict) or not weights:
        raise ScenarioFileError("bad_weights", "weights must be an object of criterion: weight")
    if not isinstance(directions, dict):
        raise ScenarioFileError("bad_choice", "directions must be an object of criterion: need|readiness")
    missing = doc.get("missing", "exclude")
    known = {c.key for c in base}
    unknown = sorted((set(weights) | set(directions) | (set(missing) if isinstance(missing, dict) else set()))
                     - known)
    if unknown:
        raise ScenarioFileError("unknown_criteria", ", ".join(unknown))
    bad = [f"{k}={v!r}" for k, v in weights.items()
           if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0]
    if bad or not any(float(v) > 0 for v in weights.values()):
        raise ScenarioFileError("bad_weights", ", ".join(bad) or "every weight is 0")
    choices = [(f"direction of {k}", v, ro.DIRECTIONS) for k, v in directions.items()]
    choices.append(("method", doc.get("method", "minmax"), ro.METHODS))
    rules = missing.items() if isinstance(missing, dict) else [("", missing)]
    choices += [(f"missing rule{' of ' + k if k else ''}", v, ro.MISSING_RULES) for k, v in rules]
    for what, value, allowed_values in choices:
        if not isinstance(value, str) or value not in allowed_values:
            raise ScenarioFileError("bad_choice", f"{what} is {value!r}, not one of {', '.join(allowed_values)}")
    limits = doc.get("limits")
    if limits is not None:
        if not isinstance(limits, dict):
            raise ScenarioFileError("bad_limits", "limits must be an object")
        try:
            ro.Limits.from_dict(limits)
        except (TypeError, ValueError) as exc:
            raise ScenarioFileError("bad_limits", str(exc)) from None
    coverage = doc.get("coverage_km")
    if coverage is not None and (isinstance(coverage, bool) or not isinstance(coverage, (int, float))
                                 or not np.isfinite(coverage) or coverage < 0):
        raise ScenarioFileError("bad_coverage", f"coverage_km is {coverage!r}")
    _check_scenario_units(doc)
    try:
        return ro.Scenario.from_dict(doc)
    except (TypeError, ValueError) as exc:  # a check above should have caught it: still say so plainly
        raise ScenarioFileError("not_object", str(exc)) from None


def _check_scenario_units(doc: Mapping[str, Any]) -> None:
    """A scenario file's level and unit lists: the level is a candidate level and every id one of its units."""
    level = doc.get("level")
    lists = {name: doc.get(name) or [] for name in ro.UNIT_CHOICES}
    if level is None and not any(lists.values()):
        return
    if level not in LEVELS:
        raise ScenarioFileError("bad_units", f"level is {level!r}, not one of {', '.join(LEVELS)}")
    bad = [name for name, units in lists.items()
           if not isinstance(units, list) or not all(isinstance(u, str) and u.strip() for u in units)]
    if bad:
        raise ScenarioFileError("bad_units", f"{', '.join(bad)} must be lists of unit ids")
    known = set(load_units(level)["unit_id"].astype(str))
    unknown = [f"{name}: {u}" for name, units in lists.items() for u in units if u.strip() not in known]
    if unknown:
        raise ScenarioFileError("unknown_units", f"no {level} with the id " + ", ".join(unknown))


# --- planning -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutResult:
    """Everything a planner needs to print, compare or export one scenario."""

    level: str
    scenario: ro.Scenario
    limits: ro.Limits
    candidates: pd.DataFrame
    scores: ro.ScoreResult
    plan: ro.Plan
    sensitivity: pd.DataFrame | None
    #: Name of the imported population file the candidates were built with (None: the census).
    population_file: str | None = None

    @property
    def population_source(self) -> str:
        """``"imported"`` when any candidate's population comes from an imported table, else ``"census"``."""
        return population_source(self.candidates)


def population_source(candidates: pd.DataFrame) -> str:
    """Where a candidate table's population comes from: :data:`IMPORTED` or ``"census"``."""
    imported = candidates.get("census_result", pd.Series(dtype=object)).astype(str) == IMPORTED
    return IMPORTED if bool(imported.any()) else "census"


def resolve_units(values: Iterable[str], candidates: pd.DataFrame) -> list[str]:
    """Unit ids from ids or names of the candidate table (accents and case ignored); clear errors otherwise."""
    ids = candidates["unit_id"].astype(str)
    by_id = {uid.upper(): uid for uid in ids}
    by_name: dict[str, list[str]] = {}
    for uid, name in zip(ids, candidates["name"].astype(str), strict=True):
        for key in {normalize(name), compact(name)}:
            by_name.setdefault(key, []).append(uid)
    out = []
    for value in values:
        for part in filter(None, (p.strip() for p in re.split(r"[,;]", str(value)))):
            if part.upper() in by_id:
                out.append(by_id[part.upper()])
                continue
            hits = by_name.get(normalize(part)) or by_name.get(compact(part)) or []
            if not hits:
                raise ValueError(f"no unit named {part!r} at this level")
            if len(set(hits)) > 1:
                raise ValueError(f"{part!r} is ambiguous: use one of {', '.join(sorted(set(hits)))}")
            out.append(hits[0])
    return out


def plan_rollout(candidates: pd.DataFrame, scenario: ro.Scenario, limits: ro.Limits | None = None, *,
                 covered: Iterable[str] | None = None, include: Iterable[str] | None = None,
                 exclude: Iterable[str] | None = None, coverage_km: float | None = None, draws: int = 500,
                 seed: int = 0, time_limit: float | None = 120.0,
                 population_file: str | None = None) -> RolloutResult:
    """Rank ``candidates`` with ``scenario``, measure rank stability, and choose the phased rollout.

    ``limits``, ``coverage_km`` and the unit lists default to the scenario's (limits
    then to :class:`geo.rollout.Limits`' defaults). Units are ids or names
    (:func:`resolve_units`). ``draws = 0`` skips the sensitivity analysis.
    ``population_file`` names the imported population table, for the files written.
    The result's scenario holds everything used (level, limits, covering, unit ids),
    so its JSON reproduces the plan.
    """
    if "level" not in candidates.columns or candidates["level"].nunique() != 1:
        raise ValueError("candidates must come from candidate_table (one level)")
    level = str(candidates["level"].iloc[0])
    given = {"covered": covered, "include": include, "exclude": exclude}
    if scenario.level not in (None, level) and any(getattr(scenario, k) for k, v in given.items() if v is None):
        raise ValueError(f"the scenario {scenario.name!r} lists {scenario.level} units; the candidates are "
                         f"{level} units")
    units = {k: tuple(resolve_units(getattr(scenario, k) if v is None else v, candidates)) for k, v in given.items()}
    limits = limits or scenario.limits or ro.Limits()
    coverage_km = coverage_km if coverage_km is not None else scenario.coverage_km
    used = replace(scenario, limits=limits, coverage_km=coverage_km, level=level, **units)
    scores = used.score(candidates)
    spread = ro.sensitivity(scores, draws=draws, seed=seed) if draws else None
    plan = ro.select(scores, limits, covered=list(units["covered"]), include=list(units["include"]),
                     exclude=list(units["exclude"]), coverage_km=coverage_km, time_limit=time_limit,
                     name=scenario.name)
    return RolloutResult(level, used, limits, candidates, scores, plan, spread, population_file)


# --- files --------------------------------------------------------------------------------------------


def plan_table(result: RolloutResult, t: Translator | None = None) -> pd.DataFrame:
    """The plan as a flat table (one row per unit, plan order) with reasons in words and the score breakdown."""
    t = t or t_for("fr")
    plan = result.plan.units
    extra = result.candidates.set_index("unit_id")
    prefectures = load_units("prefecture").set_index("unit_id")["name"]
    names = plan.set_index("unit_id")["name"]
    out = pd.DataFrame({
        "phase": plan["phase"],
        "unit_id": plan["unit_id"],
        "name": plan["name"],
        "prefecture": prefectures.reindex(extra.loc[plan["unit_id"], "prefecture_id"]).to_numpy(object),
        "rank": plan["rank"],
        "score": plan["score"].round(4),
        "reason": [t(ro.REASON_LABELS[r]) for r in plan["reason"]],
        "binding_limits": [", ".join(t(ro.LIMIT_LABELS[c]) for c in str(b).split("+") if c in ro.LIMIT_LABELS)
                           for b in plan["binding"].fillna("")],
        "officers": plan["officers"],
        "cost_gnf": plan["cost"],
        "population": plan["population"],
        "incidents": plan["incidents"],
        "reached_phase": plan["reached_phase"],
        "reached_by": plan["reached_by"],
        "reached_by_name": names.reindex(plan["reached_by"]).to_numpy(object),
    })
    if result.sensitivity is not None:
        spread = result.sensitivity.set_index("unit_id").reindex(plan["unit_id"])
        pos = out.columns.get_loc("rank") + 1
        out.insert(pos, "rank_max", spread["rank_max"].to_numpy())
        out.insert(pos, "rank_min", spread["rank_min"].to_numpy())
    scores = result.scores.table.set_index(result.scores.id_column).reindex(plan["unit_id"])
    for crit in result.scores.criteria:
        out[f"contrib_{crit.key}"] = scores[f"contrib_{crit.key}"].round(4).to_numpy()
    return out


def reached_through_neighbours(result: RolloutResult, t: Translator | None = None) -> pd.DataFrame:
    """Units reached through a trained neighbour without being trained (covering variant), in plan order.

    Columns of :func:`plan_table`: ``unit_id``, ``name``, ``prefecture``,
    ``population``, ``reached_phase``, ``reached_by``, ``reached_by_name``. Empty
    without covering: then only trained units are reached.
    """
    table = plan_table(result, t)
    via = table["phase"].isna() & table["reached_phase"].notna() & (table["reached_phase"] >= 1)
    return table.loc[via, ["unit_id", "name", "prefecture", "population", "reached_phase", "reached_by",
                           "reached_by_name"]].reset_index(drop=True)


def _phases_table(result: RolloutResult) -> pd.DataFrame:
    phases = result.plan.phases.copy()
    phases["phase"] = phases["phase"].astype(object)
    total = {k: v for k, v in result.plan.totals.items() if k in phases.columns}
    return pd.concat([phases, pd.DataFrame([{"phase": "total", **total}])], ignore_index=True)


def _settings_table(result: RolloutResult, t: Translator) -> pd.DataFrame:
    weights = dict(zip([c.key for c in result.scores.criteria], result.scores.weights, strict=True))
    rows = [{"setting": "scenario", "value": result.scenario.name},
            {"setting": "level", "value": result.level},
            {"setting": "method", "value": result.scores.method},
            {"setting": "status", "value": result.plan.status},
            {"setting": "solver", "value": result.plan.solver},
            {"setting": "seconds", "value": round(result.plan.seconds, 3)},
            {"setting": "coverage_km", "value": result.plan.coverage_km},
            {"setting": "population_source", "value": result.population_source,
             "label": t(POPULATION_SOURCE_LABELS[result.population_source])},
            {"setting": "population_rule",
             "value": ", ".join(sorted(set(result.candidates["population_rule"].dropna().astype(str))))},
            {"setting": "population_file", "value": result.population_file or ""},
            {"setting": "population_known_units",
             "value": f"{int(result.candidates['population'].notna().sum())}/{len(result.candidates)}"}]
    rows += [{"setting": f"limit:{k}", "value": v} for k, v in result.limits.to_dict().items()]
    rows += [{"setting": f"units:{name}", "value": "; ".join(getattr(result.scenario, name))}
             for name in ro.UNIT_CHOICES]
    for crit in result.scores.criteria:
        rows.append({"setting": f"weight:{crit.key}", "value": round(float(weights[crit.key]), 4),
                     "label": t(crit.label_id), "direction": t(ro.DIRECTION_LABELS[crit.direction]),
                     "missing": result.scores.missing[crit.key]})
    rows += [{"setting": f"dropped:{key}", "value": "no value"} for key in result.scores.dropped]
    rows += [{"setting": f"note:{code}", "value": t(NOTE_LABELS[code], n=result.candidates.attrs.get("threshold", ""))}
             for code in result.candidates.attrs.get("notes", [])]
    return pd.DataFrame(rows)


def selected_units(result: RolloutResult, t: Translator | None = None) -> gpd.GeoDataFrame:
    """The selected units with their phase, rank, score, officers and cost; display geometry, EPSG:4326.

    In the covering variant each also says which neighbours its training reaches
    (``neighbours_reached``, ``neighbours_reached_names``) and the population it
    reaches, itself included (``population_reached``), so the map file alone tells the story.
    """
    table = plan_table(result, t)
    chosen = table[table["phase"].notna()].drop(columns=["reached_phase", "reached_by", "reached_by_name",
                                                         "binding_limits"])
    if result.plan.coverage_km is not None:  # what each trained community reaches, itself included
        reach = table[table["reached_phase"].notna() & (table["reached_phase"] >= 1)]
        others = reach[reach["phase"].isna()].groupby("reached_by")
        by_site = reach.groupby("reached_by")["population"].sum(min_count=1)
        chosen = chosen.assign(
            neighbours_reached=others.size().reindex(chosen["unit_id"]).fillna(0).astype("int64").to_numpy(),
            neighbours_reached_names=others["name"].agg("; ".join).reindex(chosen["unit_id"]).fillna("")
            .to_numpy(object),
            population_reached=by_site.reindex(chosen["unit_id"]).to_numpy(float))
    shapes = load_display(result.level, "medium")[["unit_id", "geometry"]]  # type: ignore[arg-type]
    merged = shapes.merge(chosen, on="unit_id", how="inner").sort_values(["phase", "rank"], kind="stable")
    merged["phase"] = merged["phase"].astype("int64")
    return gpd.GeoDataFrame(merged.reset_index(drop=True), geometry="geometry", crs="EPSG:4326")


def plan_bytes(result: RolloutResult, fmt: str, t: Translator | None = None) -> tuple[bytes, str]:
    """The plan as ``csv`` (formula-safe, Excel-friendly), ``xlsx`` (plan, phases, settings) or ``geojson``."""
    t = t or t_for("fr")
    if fmt == "csv":
        return to_csv(plan_table(result, t)), "text/csv"
    if fmt == "xlsx":
        sheets = {"plan": plan_table(result, t), "phases": _phases_table(result),
                  "settings": _settings_table(result, t)}
        return to_xlsx(sheets), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if fmt == "geojson":
        data = selected_units(result, t).to_json(drop_id=True, ensure_ascii=False, na="null")
        return data.encode("utf-8"), "application/geo+json"
    raise ValueError(f"format must be csv, xlsx or geojson, got {fmt!r}")


def plan_to_files(result: RolloutResult, path: str | Path, t: Translator | None = None) -> list[Path]:
    """Write the plan at ``path`` (.csv or .xlsx) and the selected units next to it (same name, .geojson).

    A ``.geojson`` path writes the selected units only. Returns the files written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".geojson", ".json"):
        raise ValueError(f"{path}: use a .csv, .xlsx or .geojson file name")
    written = []
    if suffix in (".csv", ".xlsx"):
        path.write_bytes(plan_bytes(result, suffix[1:], t)[0])
        written.append(path)
        geo_path = path.with_suffix(".geojson")
    else:
        geo_path = path
    geo_path.write_bytes(plan_bytes(result, "geojson", t)[0])
    written.append(geo_path)
    return written
