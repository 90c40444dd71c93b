"""Programme records in and out: one validation for the entry forms and for CSV/XLSX imports, and exports.

:func:`validate` takes a frame of *fields* (the table's columns, references to
councils, schools, stations, officers and instructors by id or by name, units by
id or by name at any level) and splits it into rows ready to store and a list of
problems, one per row, field and stable reason code (``i18n.reasons`` turns codes
into sentences). It reports every problem of a row, not only the first, so one
correction pass fixes it. Work is column-wise; names (units, references,
categories) are looked up once per distinct value.

:func:`import_programme` reads a file (:func:`exchange.readers.read_table`), maps
its French or English headers to fields, validates and writes the valid rows and
the review queue as one batch: nothing is lost and nothing is half-written.
:func:`export_programme` writes a table back as CSV or XLSX with formula-like
text neutralised, in a shape :func:`import_programme` reads again.

The schema has no H3 columns on programme tables, so only the units are filled
from a point (never the other way round: a unit's centre is not a location).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

import shapely

from exchange.export import neutralize, to_csv
from exchange.readers import LAT_COLUMN, LON_COLUMN, RawTable, read_table
from geo.boundaries import LEVELS, load_units, locate
from geo.crs import WGS84, transformer, utm_epsg_for
from geo.gazetteer import Gazetteer
from geo.names import compact, normalize
from geo.neighbourhoods import row_id, unit_ids
from geo.parse import parse_coordinate, parse_dates, parse_geopoint
from i18n import LANGUAGES, N_, Translator, t_for
from i18n.reasons import reason_text
from storage.schema import metadata

if TYPE_CHECKING:  # the store imports this module to validate its writes
    from storage import Store

#: Tables this module validates, imports and exports (links go with their training).
TABLES: tuple[str, ...] = ("station", "council", "council_meeting", "school", "outreach_officer", "school_visit",
                           "women_visit_day", "instructor", "training")
#: A point may lie this far outside its declared unit: the vendored borders are approximate.
UNIT_TOLERANCE_M = 2_000.0
#: Names of stored records (stations, schools...) match from this RapidFuzz ``ratio`` on normalised names.
FUZZY_MIN = 90.0
#: ...and the best match must beat the next record by this much, else the name is ambiguous.
FUZZY_MARGIN = 3.0
#: Unit names match from this gazetteer score (as the incident geocoder).
UNIT_MIN_SCORE = 85.0
#: Largest count the database takes (32-bit INTEGER).
MAX_COUNT = 2_147_483_647
#: Problem frame columns.
PROBLEM_COLUMNS = ("row", "field", "code", "value")
#: Pseudo-field of problems about the location as a whole (both coordinates).
POINT = "point"

#: Reason codes :func:`validate` reports (sentences in ``i18n.reasons``), roughly in the order of the checks.
REASONS: tuple[str, ...] = (
    "value_missing", "text_too_long", "date_missing", "date_unparseable", "date_impossible", "date_future",
    "date_too_old", "count_unparseable", "count_not_integer", "count_negative", "count_too_large",
    "station_kind_unknown", "school_level_unknown", "chair_role_unknown", "module_unknown", "unit_level_unknown",
    "women_above_total", "youth_above_total", "end_before_start", "plan_before_established",
    "coord_missing", "coord_unparseable", "coord_out_of_range", "coord_hemisphere_mismatch", "outside_guinea",
    "outside_unit", "no_location", "unit_unknown", "unit_ambiguous", "unit_mismatch", "council_unit_level",
    "council_unknown", "council_ambiguous", "school_unknown", "school_ambiguous", "station_unknown",
    "station_ambiguous", "officer_unknown", "officer_ambiguous", "instructor_unknown", "instructor_ambiguous",
    "duplicate_record",
)
UNIT_FIELDS = ("unit", "region", "prefecture", "subprefecture", "region_id", "prefecture_id", "subprefecture_id")
POINT_FIELDS = ("lon", "lat", "geopoint")


# -- vocabularies -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Allowed codes of a category column, their labels (message ids) and other accepted spellings."""

    labels: Mapping[str, str]
    synonyms: Mapping[str, tuple[str, ...]]
    unknown: str  # reason code of a value that is none of them

    def keys(self) -> dict[str, str]:
        """Normalised spelling -> code: codes, synonyms, and the labels in every interface language."""
        return _vocabulary_keys(self)

    def match(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Codes (None where missing or unknown) and the mask of unknown values."""
        text = _text(values)
        codes_, uniques = pd.factorize(text, use_na_sentinel=True)
        keys = self.keys()
        found = np.array([keys.get(normalize(v)) for v in uniques] + [None], dtype=object)
        out = found[codes_]
        return out, (codes_ >= 0) & pd.isna(out)


@cache
def _vocabulary_keys(vocab: Vocabulary) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, label in vocab.labels.items():
        spellings = {code, label, *vocab.synonyms.get(code, ()), *(t_for(lang)(label) for lang in LANGUAGES)}
        for text in spellings:
            out.setdefault(normalize(text), code)
    return out


STATION_KINDS = Vocabulary(
    labels={"commissariat": N_("Police station (commissariat)"), "poste": N_("Police post"),
            "brigade": N_("Gendarmerie brigade")},
    synonyms={"commissariat": ("commissariat", "commissariat central", "commissariat de police", "police station",
                               "central police station"),
              "poste": ("poste", "poste de police", "police post", "post", "poste avance"),
              "brigade": ("brigade", "brigade de gendarmerie", "gendarmerie", "gendarmerie brigade")},
    unknown="station_kind_unknown")
SCHOOL_LEVELS = Vocabulary(
    labels={"primary": N_("Primary school"), "junior": N_("Junior secondary school"),
            "high": N_("Senior secondary school")},
    synonyms={"primary": ("primaire", "école primaire", "ecole primaire", "primary", "elementary", "elementary school"),
              "junior": ("collège", "junior", "junior high", "junior secondary", "middle school",
                         "secondaire premier cycle", "premier cycle"),
              "high": ("lycée", "high", "high school", "secondaire second cycle", "second cycle")},
    unknown="school_level_unknown")
CHAIR_ROLES = Vocabulary(
    labels={"maire": N_("Mayor"), "président de district": N_("District president"),
            "chef de quartier": N_("Neighbourhood leader"), "sous-préfet": N_("Sub-prefect")},
    synonyms={"maire": ("maire", "mayor", "le maire", "maire de la commune"),
              "président de district": ("président de district", "district president", "chef de district",
                                        "district chief"),
              "chef de quartier": ("chef de quartier", "neighbourhood leader", "neighborhood leader",
                                   "neighbourhood chief", "neighborhood chief"),
              "sous-préfet": ("sous-préfet", "sub-prefect", "subprefect")},
    unknown="chair_role_unknown")
TRAINING_MODULES = Vocabulary(
    labels={"doctrine": N_("Community policing doctrine"), "ordre_public": N_("Maintaining public order"),
            "vbg": N_("Response to gender-based violence"), "police_scolaire": N_("Police at school"),
            "mediation": N_("Mediation")},
    synonyms={"doctrine": ("doctrine", "doctrine de la police de proximité", "police de proximité",
                           "community policing"),
              "ordre_public": ("ordre public", "maintien de l'ordre", "maintien de l'ordre public", "public order",
                               "maintaining order"),
              "vbg": ("vbg", "violences basées sur le genre", "prise en charge des vbg", "gbv",
                      "gender-based violence", "gender-based violence response"),
              "police_scolaire": ("police scolaire", "police en milieu scolaire", "police à l'école",
                                  "school policing"),
              "mediation": ("médiation", "médiation communautaire", "community mediation")},
    unknown="module_unknown")
COUNCIL_LEVELS = Vocabulary(
    labels={"subprefecture": N_("Commune or sub-prefecture"), "neighbourhood": N_("Neighbourhood")},
    synonyms={"subprefecture": ("sous-préfecture", "sub-prefecture", "commune", "commune urbaine", "commune rurale",
                                "crd"),
              "neighbourhood": ("quartier", "neighborhood", "district", "secteur")},
    unknown="unit_level_unknown")

#: Field -> label (message id) for forms, column headers and problem messages.
FIELD_LABELS: dict[str, str] = {
    "name": N_("Name"), "kind": N_("Type"), "contact": N_("Contact"), "lon": N_("Longitude"),
    "lat": N_("Latitude"), "geopoint": N_("GPS point"), POINT: N_("Location"),
    "unit": N_("Administrative unit"), "region": N_("Region"), "prefecture": N_("Prefecture"),
    "subprefecture": N_("Commune or sub-prefecture"), "region_id": N_("Region"), "prefecture_id": N_("Prefecture"),
    "subprefecture_id": N_("Commune or sub-prefecture"), "unit_level": N_("Level of the unit covered"),
    "unit_id": N_("Unit covered"), "neighbourhood": N_("Neighbourhood"), "established_on": N_("Date set up"),
    "chair_role": N_("Chair"), "chair_name": N_("Chair's name"), "members_total": N_("Members"),
    "members_women": N_("of whom women"), "members_youth": N_("of whom young people"),
    "plan_adopted_on": N_("Local security plan adopted on"), "council": N_("Council"), "council_id": N_("Council"),
    "held_on": N_("Date"), "attendance": N_("Participants"), "attendance_women": N_("of whom women"),
    "topics": N_("Topics"), "decisions": N_("Decisions"), "level": N_("Level"), "enrolment": N_("Enrolment"),
    "station": N_("Police station"), "station_id": N_("Police station"), "school": N_("School"),
    "school_id": N_("School"), "officer": N_("Officer"), "officer_id": N_("Officer"),
    "visited_on": N_("Date of the visit"), "students_reached": N_("Students reached"), "women_count": N_("Women"),
    "complaints_after": N_("Complaints filed afterwards"), "community_name": N_("Community"),
    "start_on": N_("Start date"), "end_on": N_("End date"), "module": N_("Module"),
    "officers_trained": N_("Officers trained"), "instructors": N_("Instructors"), "instructor_ids": N_("Instructors"),
}


# -- rules per table --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ref:
    """A reference field: by id (``id_field``) or name (``field``), to ``parent``, stored as ``column``."""

    field: str
    id_field: str
    parent: str
    column: str
    required: bool
    kind: str  # reason code prefix: "<kind>_unknown", "<kind>_ambiguous"


@dataclass(frozen=True)
class _Rules:
    fields: tuple[str, ...]
    texts: Mapping[str, bool] = field(default_factory=dict)  # field -> required
    dates: Mapping[str, bool] = field(default_factory=dict)
    counts: Mapping[str, bool] = field(default_factory=dict)
    categories: Mapping[str, tuple[Vocabulary, bool]] = field(default_factory=dict)
    refs: tuple[_Ref, ...] = ()
    units: str = "none"  # "record" (stored), "context" (narrows references), "council", "none"
    point: bool = False
    not_above: tuple[tuple[str, str, str], ...] = ()  # (part, total, code)
    ordered: tuple[tuple[str, str, str], ...] = ()  # (earlier, later, code)
    key: tuple[str, ...] = ()  # natural key: a second record with it is a duplicate


RULES: dict[str, _Rules] = {
    "station": _Rules(
        fields=("name", "kind", "contact", *POINT_FIELDS, *UNIT_FIELDS), texts={"name": True, "contact": False},
        categories={"kind": (STATION_KINDS, True)}, units="record", point=True,
        key=("name", "prefecture_id", "subprefecture_id")),
    "council": _Rules(
        fields=("name", "unit_level", "unit_id", "neighbourhood", "established_on", "chair_role", "chair_name",
                "members_total", "members_women", "members_youth", "plan_adopted_on", *UNIT_FIELDS),
        texts={"name": True, "chair_name": False}, dates={"established_on": False, "plan_adopted_on": False},
        counts={"members_total": False, "members_women": False, "members_youth": False},
        categories={"chair_role": (CHAIR_ROLES, False), "unit_level": (COUNCIL_LEVELS, False)}, units="council",
        not_above=(("members_women", "members_total", "women_above_total"),
                   ("members_youth", "members_total", "youth_above_total")),
        ordered=(("established_on", "plan_adopted_on", "plan_before_established"),),
        key=("name", "unit_level", "unit_id")),
    "council_meeting": _Rules(
        fields=("council", "council_id", "held_on", "attendance", "attendance_women", "topics", "decisions",
                *UNIT_FIELDS),
        texts={"topics": False, "decisions": False}, dates={"held_on": True},
        counts={"attendance": False, "attendance_women": False},
        refs=(_Ref("council", "council_id", "council", "council_id", True, "council"),), units="context",
        not_above=(("attendance_women", "attendance", "women_above_total"),), key=("council_id", "held_on")),
    "school": _Rules(
        fields=("name", "level", "enrolment", *POINT_FIELDS, *UNIT_FIELDS), texts={"name": True},
        counts={"enrolment": False}, categories={"level": (SCHOOL_LEVELS, False)}, units="record", point=True,
        key=("name", "prefecture_id", "subprefecture_id")),
    "outreach_officer": _Rules(
        fields=("name", "station", "station_id", *UNIT_FIELDS), texts={"name": True},
        refs=(_Ref("station", "station_id", "station", "station_id", False, "station"),), units="context",
        key=("name", "station_id")),
    "school_visit": _Rules(
        fields=("school", "school_id", "officer", "officer_id", "visited_on", "students_reached", "topics",
                *UNIT_FIELDS),
        texts={"topics": False}, dates={"visited_on": True}, counts={"students_reached": True},
        refs=(_Ref("school", "school_id", "school", "school_id", True, "school"),
              _Ref("officer", "officer_id", "outreach_officer", "officer_id", True, "officer")),
        units="context", key=("school_id", "officer_id", "visited_on")),
    "women_visit_day": _Rules(
        fields=("station", "station_id", "held_on", "women_count", "topics", "complaints_after", *UNIT_FIELDS),
        texts={"topics": False}, dates={"held_on": True}, counts={"women_count": True, "complaints_after": False},
        refs=(_Ref("station", "station_id", "station", "station_id", True, "station"),), units="context",
        key=("station_id", "held_on")),
    "instructor": _Rules(fields=("name",), texts={"name": True}, key=("name",)),
    "training": _Rules(
        fields=("community_name", "start_on", "end_on", "module", "officers_trained", "instructors",
                "instructor_ids", *UNIT_FIELDS),
        texts={"community_name": False}, dates={"start_on": True, "end_on": True}, counts={"officers_trained": True},
        categories={"module": (TRAINING_MODULES, True)}, units="record",
        ordered=(("start_on", "end_on", "end_before_start"),),
        key=("community_name", "subprefecture_id", "start_on", "module")),
}
FIELDS: dict[str, tuple[str, ...]] = {name: rules.fields for name, rules in RULES.items()}


def _columns(table: str) -> list[str]:
    """The table's data columns in schema order (what a valid frame holds)."""
    skip = {"id", "is_demo", "batch_id", "created_at", "version"}
    return [c.name for c in metadata.tables[table].c if c.name not in skip]


# -- problems ---------------------------------------------------------------------------------


class _Problems:
    """Problems found so far, as (row positions, field, code, values) pieces."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pieces: list[pd.DataFrame] = []
        self.bad = np.zeros(n, dtype=bool)

    def add(self, mask: np.ndarray, field_name: str, code: str | np.ndarray, values: Any = None) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        rows = np.flatnonzero(mask)
        shown = _shown(values, self.n)
        codes_ = np.asarray(code, dtype=object)[rows] if isinstance(code, np.ndarray) else code
        self.pieces.append(pd.DataFrame({"pos": rows, "field": field_name, "code": codes_, "value": shown[rows]}))
        self.bad |= mask

    def frame(self, index: pd.Index) -> pd.DataFrame:
        if not self.pieces:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
        found = pd.concat(self.pieces, ignore_index=True)
        found = found.sort_values("pos", kind="stable")
        value = found["value"].astype(object)
        return pd.DataFrame({"row": index[found["pos"].to_numpy()], "field": found["field"].to_numpy(),
                             "code": found["code"].to_numpy(), "value": value.where(value.notna(), None).to_numpy()})


def _shown(values: Any, n: int) -> np.ndarray:
    """Values as short text for messages (None where missing)."""
    if values is None:
        return np.full(n, None, dtype=object)
    s = pd.Series(values, dtype=object).reset_index(drop=True)
    text = s.astype("string").str.slice(0, 120)
    return text.astype(object).where(text.notna(), None).to_numpy()


# -- column parsers ---------------------------------------------------------------------------


def _text(values: pd.Series) -> pd.Series:
    """Stripped text, None where blank (numbers and dates as their text)."""
    s = values.reset_index(drop=True).astype("string").str.strip()
    blank = (s.isna() | (s == "")).fillna(True).to_numpy(dtype=bool)
    return s.astype(object).where(~blank, None)


def _counts(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Whole numbers >= 0: values (Int64), error codes (None when fine) and the missing mask.

    Spaces and apostrophes are thousands separators ("1 234"); a comma is a decimal
    point ("12,0" is 12, "1,234" is not a whole number: refused rather than guessed).
    """
    text = _text(values)
    missing = text.isna().to_numpy()
    cleaned = text.astype("string").str.replace(r"[\s\u00a0\u202f'’]", "", regex=True).str.replace(",", ".")
    number = pd.to_numeric(cleaned, errors="coerce").astype("float64").to_numpy()
    with np.errstate(invalid="ignore"):
        err = np.select(
            [~missing & np.isnan(number), ~np.isfinite(number) | (number % 1 != 0), number < 0, number > MAX_COUNT],
            ["count_unparseable", "count_not_integer", "count_negative", "count_too_large"], None)
    err = np.where(missing, None, err).astype(object)
    ok = ~missing & pd.isna(err)
    ints = pd.array(np.where(ok, number, 0).astype(np.int64), dtype="Int64")
    ints[~ok] = pd.NA
    return pd.Series(ints), err, missing


def _dates(values: pd.Series, today: date) -> tuple[np.ndarray, np.ndarray]:
    """Days (``datetime.date``, None when missing or wrong) and error codes."""
    parsed = parse_dates(values.reset_index(drop=True).astype(object), today=today)
    ok = parsed["error"].isna().to_numpy()
    days = np.full(len(parsed), None, dtype=object)
    if ok.any():
        days[ok] = parsed["value"][ok].dt.date.to_numpy()
    return days, parsed["error"].to_numpy(dtype=object)


def _int_like(value: object) -> int | None:
    """An id typed as a number ("12", "12.0", 12, 12.0); None for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,12}(?:\.0*)?\s*", value):  # "12.0": a number cell
        return int(float(value))
    return None


# -- units ------------------------------------------------------------------------------------


@cache
def _gazetteer() -> Gazetteer:
    return Gazetteer.default()


@cache
def _unit_table() -> pd.DataFrame:
    units = load_units().drop(columns="geometry")
    units["level"] = units["level"].astype(str)
    return units.set_index(["level", "unit_id"], drop=False)


@dataclass(frozen=True)
class _Unit:
    level: str | None = None
    unit_id: str | None = None
    error: str | None = None
    field: str | None = None  # the input field an error is about

    def chain(self) -> dict[str, str | None]:
        """region_id, prefecture_id, subprefecture_id of the unit (None below its level)."""
        if self.unit_id is None:
            return {"region_id": None, "prefecture_id": None, "subprefecture_id": None}
        return dict(_unit_chains()[(self.level, self.unit_id)])


@cache
def _unit_chains() -> dict[tuple[str, str], dict[str, str | None]]:
    """Every unit's (level, id) -> its region, prefecture and sub-prefecture ids (None below its level)."""
    units = _unit_table()
    out = {}
    for level, uid, region, prefecture in zip(units["level"], units["unit_id"], units["region_id"],
                                              units["prefecture_id"], strict=True):
        own_prefecture = {"region": None, "prefecture": uid}.get(level, prefecture)
        out[(level, uid)] = {"region_id": region, "prefecture_id": own_prefecture,
                             "subprefecture_id": uid if level == "subprefecture" else None}
    return out


_UNIT_INPUTS = (("region", "region"), ("prefecture", "prefecture"), ("subprefecture", "subprefecture"),
                ("unit", None))


def _by_id(text: str, level: str | None) -> _Unit | None:
    key = text.strip().upper()
    table = _unit_table()
    for lvl in ([level] if level else list(reversed(LEVELS))):  # most specific first ("GN-C")
        if (lvl, key) in table.index:
            return _Unit(lvl, key)
    return None


def _by_name(text: str, level: str | None, within: str | None) -> _Unit | None:
    hits = _gazetteer().search(text, level=level, within=within, min_score=UNIT_MIN_SCORE)  # type: ignore[arg-type]
    if not hits:
        return None
    top = [h for h in hits if h.score >= hits[0].score - 1e-9]
    deepest = max(top, key=lambda h: LEVELS.index(h.level))
    chain = {"region": deepest.region_id, "prefecture": deepest.prefecture_id, "subprefecture": deepest.unit_id}
    if all(chain[h.level] == h.unit_id for h in top):  # e.g. Kankan region > prefecture > Kankan Centre
        return _Unit(deepest.level, deepest.unit_id)
    return _Unit(error="unit_ambiguous")


def _inside(inner: _Unit, outer: _Unit) -> bool:
    chain = inner.chain()
    return chain[f"{outer.level}_id"] == outer.unit_id


@cache
def _resolve_units(given: tuple[tuple[str, str], ...]) -> _Unit:
    """The most specific unit named by (field, text) pairs, broadest first; ids or names at any level."""
    resolved: _Unit | None = None
    for name, text in given:
        level = dict(_UNIT_INPUTS)[name]
        found = _by_id(text, level) or _by_name(text, level, resolved.unit_id if resolved else None)
        if found is None and resolved is not None:
            found = _by_name(text, level, None)  # broader than what is resolved, or elsewhere (checked below)
        if found is None:
            return _Unit(error="unit_unknown", field=name)
        if found.error:
            return _Unit(error=found.error, field=name)
        if resolved is not None:
            deeper = LEVELS.index(found.level) > LEVELS.index(resolved.level)
            inner, outer = (found, resolved) if deeper else (resolved, found)
            if not _inside(inner, outer):
                return _Unit(error="unit_mismatch", field=name)
            found = inner
        resolved = found
    return resolved or _Unit()


def _unit_inputs(f: pd.DataFrame, *, unit_aliases: Sequence[str] = ("unit",)) -> pd.DataFrame:
    """One text column per unit input (region, prefecture, subprefecture, unit), ids and names merged."""
    n = len(f)
    out = {}
    for name, _ in _UNIT_INPUTS:
        sources = [f"{name}_id", name] if name != "unit" else list(unit_aliases)
        column = pd.Series([None] * n, dtype=object)
        for source in sources:
            if source in f.columns:
                column = column.where(column.notna(), _text(f[source]))
        out[name] = column
    return pd.DataFrame(out)


def _units_per_row(inputs: pd.DataFrame) -> list[_Unit]:
    keys = [tuple((name, text) for name, text in zip(inputs.columns, row, strict=True) if text is not None)
            for row in inputs.itertuples(index=False, name=None)]
    return [_resolve_units(k) for k in keys]  # cached: one lookup per distinct combination


def _distance_to_units(lon: np.ndarray, lat: np.ndarray, units: Sequence[_Unit]) -> np.ndarray:
    """Metres from each point to its unit's polygon, in the UTM zone of the points (geo.crs)."""
    if not len(lon):
        return np.zeros(0)
    polygons = load_units().assign(level=lambda d: d["level"].astype(str)).set_index(["level", "unit_id"]).geometry
    wanted = list(dict.fromkeys((u.level, u.unit_id) for u in units))
    to_metric = transformer(WGS84, utm_epsg_for(lon.min(), lat.min(), lon.max(), lat.max()))
    metric = shapely.transform(np.asarray(polygons.loc[wanted].to_numpy()),
                               lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))
    where = {key: i for i, key in enumerate(wanted)}
    x, y = to_metric.transform(lon, lat)
    return shapely.distance(shapely.points(x, y), metric[[where[(u.level, u.unit_id)] for u in units]])


# -- references -------------------------------------------------------------------------------


def _name_keys(names: pd.Series) -> np.ndarray:
    uniques, inverse = np.unique(names.fillna("").astype(str).to_numpy(), return_inverse=True)
    return np.array([normalize(v) for v in uniques], dtype=object)[inverse]


def _match_record(text: object, pool: pd.DataFrame) -> tuple[int | None, str | None]:
    """(id, None), (None, "unknown") or (None, "ambiguous") for an id or a name among ``pool`` (id, key)."""
    as_id = _int_like(text)
    if as_id is not None and (pool["id"] == as_id).any():
        return as_id, None
    key = normalize(str(text))
    if not key:
        return None, "unknown"
    exact = pool.loc[(pool["key"] == key) | (pool["key"].str.replace(" ", "") == compact(str(text))), "id"].unique()
    if len(exact) == 1:
        return int(exact[0]), None
    if len(exact) > 1:
        return None, "ambiguous"
    keys = pool["key"].tolist()
    # Typos (ratio) or words left out ("CLSPD Kaloum" for "CLSPD de Kaloum": token set), whichever fits best.
    scores = np.maximum(process.cdist([key], keys, scorer=fuzz.ratio)[0],
                        process.cdist([key], keys, scorer=fuzz.token_set_ratio)[0]) if keys else np.zeros(0)
    best: dict[int, float] = {}
    for i in np.flatnonzero(scores >= FUZZY_MIN):
        rid = int(pool["id"].iloc[i])
        best[rid] = max(best.get(rid, 0.0), float(scores[i]))
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    if not ranked:
        return None, "unknown"
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < FUZZY_MARGIN:
        return None, "ambiguous"
    return ranked[0][0], None


def _parent_pool(ref: _Ref, refs: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stored parents with a normalised name key and their units (an officer's are its station's)."""
    stored = refs.get(ref.parent)
    if stored is None:
        stored = pd.DataFrame({"id": pd.Series(dtype="int64"), "name": pd.Series(dtype=object)})
    pool = pd.DataFrame({"id": stored["id"].astype("int64").to_numpy(), "key": _name_keys(stored["name"])})
    units = stored
    if ref.parent == "outreach_officer":
        stations = refs.get("station")
        units = (stored[["station_id"]].astype(object)
                 .merge(stations.astype({"id": object}), left_on="station_id", right_on="id", how="left")
                 if stations is not None else pd.DataFrame(index=stored.index))
    for col in ("region_id", "prefecture_id", "subprefecture_id"):
        pool[col] = units[col].to_numpy(dtype=object) if col in units.columns else None
    return pool


def _resolve_ref(ref: _Ref, texts: pd.Series, contexts: Sequence[_Unit],
                 refs: Mapping[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """Parent ids (None when missing/failed) and error codes per row, narrowed by the row's unit."""
    pool = _parent_pool(ref, refs)
    n = len(texts)
    ids = np.full(n, None, dtype=object)
    errors = np.full(n, None, dtype=object)
    cache_: dict[tuple, tuple[int | None, str | None]] = {}
    # A station, school or council must lie in the unit the row gives; an officer's unit (his station's) only
    # settles between officers of the same name, since he may visit schools beyond his station's commune.
    strict = ref.parent != "outreach_officer"
    for i, (text, unit) in enumerate(zip(texts, contexts, strict=True)):
        if text is None:
            continue
        key = (text, unit.level, unit.unit_id)
        if key not in cache_:
            within = pool if unit.unit_id is None else pool[pool[f"{unit.level}_id"] == unit.unit_id]
            found = _match_record(text, within if strict else pool)
            if not strict and found[1] == "ambiguous" and unit.unit_id is not None:
                found = _match_record(text, within)
            cache_[key] = found
        ids[i], problem = cache_[key]
        if problem:
            errors[i] = f"{ref.kind}_{problem}"
    return ids, errors


def _split_list(value: object) -> list[object]:
    """Instructors as a list: a list/tuple as given, text split on ";" "|" or new lines (else on ",")."""
    if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        return [v for v in value if v is not None and str(v).strip()]
    text = str(value)
    parts = re.split(r"[;|\n]", text) if re.search(r"[;|\n]", text) else text.split(",")
    return [p.strip() for p in parts if p.strip()]


# -- validation -------------------------------------------------------------------------------


def validate(table: str, frame: pd.DataFrame, *, refs: Mapping[str, pd.DataFrame] | None = None,
             today: date | None = None, tolerance_m: float = UNIT_TOLERANCE_M, check_duplicates: bool = True,
             exclude_id: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` (columns among ``FIELDS[table]``) into rows ready to store and problems.

    Parameters
    ----------
    table
        One of :data:`TABLES`.
    frame
        Text cells of a file or typed values of a form; the index labels are the row numbers
        problems name (an import passes the file's row numbers).
    refs
        Stored records to resolve references and spot duplicates (``Store.programme_refs``);
        None: nothing is stored yet.
    today
        Dates after it are refused (default: today).
    tolerance_m
        How far outside its declared unit a point may lie (unit borders are approximate).
    check_duplicates, exclude_id
        Refuse a record that repeats a stored one (other than ``exclude_id``, the record being
        edited) or an earlier row, by the table's natural key (same name in the same unit, same
        council and day...).

    Returns
    -------
    valid, problems
        ``valid``: the table's columns (see ``storage.schema``) for the rows without any problem,
        original index labels kept; a training also gets ``instructor_ids`` (list of ids).
        ``problems``: one row per (row, field, code) with the offending value as text.
    """
    if table not in RULES:
        raise ValueError(f"unknown programme table {table!r}; expected one of {', '.join(TABLES)}")
    rules = RULES[table]
    unknown = sorted(set(map(str, frame.columns)) - set(rules.fields))
    if unknown:
        raise ValueError(f"unknown field(s) for {table}: {', '.join(unknown)}; "
                         f"expected some of {', '.join(rules.fields)}")
    if not isinstance(tolerance_m, (int, float)) or tolerance_m < 0:
        raise ValueError(f"tolerance_m must be a number >= 0, got {tolerance_m!r}")
    today = today or date.today()
    refs = refs or {}
    index = frame.index
    f = frame.reset_index(drop=True)
    n = len(f)
    problems = _Problems(n)
    out: dict[str, Any] = {}

    def column(name: str) -> pd.Series:
        return f[name].astype(object) if name in f.columns else pd.Series([None] * n, dtype=object)

    for name, required in rules.texts.items():
        text = _text(column(name))
        limit = getattr(metadata.tables[table].c[name].type, "length", None)
        if limit:
            problems.add(text.str.len().fillna(0).to_numpy() > limit, name, "text_too_long", text)
        if required:
            problems.add(text.isna().to_numpy(), name, "value_missing")
        out[name] = text
    for name, required in rules.dates.items():
        days, errors = _dates(column(name), today)
        if not required:
            errors = np.where(errors == "date_missing", None, errors)
        problems.add(pd.notna(errors), name, errors.astype(object), column(name))
        out[name] = days
    for name, required in rules.counts.items():
        values, errors, missing = _counts(column(name))
        problems.add(pd.notna(errors), name, errors, column(name))
        if required:
            problems.add(missing, name, "value_missing")
        out[name] = values
    for name, (vocab, required) in rules.categories.items():
        codes_, unknown_mask = vocab.match(column(name))
        problems.add(unknown_mask, name, vocab.unknown, column(name))
        if required:
            problems.add(pd.isna(codes_) & ~unknown_mask, name, "value_missing")
        out[name] = codes_
    for part, total, code in rules.not_above:
        with np.errstate(invalid="ignore"):
            above = (out[part] > out[total]).fillna(False).to_numpy(dtype=bool)
        problems.add(above, part, code, column(part))
    for earlier, later, code in rules.ordered:
        a, b = pd.to_datetime(pd.Series(out[earlier])), pd.to_datetime(pd.Series(out[later]))
        problems.add((b < a).fillna(False).to_numpy(dtype=bool), later, code, column(later))

    lon, lat = _point(column, rules, problems, n)
    _place(table, rules, f, out, lon, lat, problems, refs, tolerance_m)

    if check_duplicates and rules.key:
        _duplicates(table, rules, out, problems, refs, exclude_id)

    keep = ~problems.bad
    valid = pd.DataFrame({c: _as_series(out.get(c), n) for c in _columns(table)})
    if table == "training":
        valid["instructor_ids"] = _as_series(out.get("instructor_ids"), n)
    valid = valid[keep]
    valid.index = index[keep]
    return valid, problems.frame(index)


def _as_series(values: Any, n: int) -> pd.Series:
    if values is None:
        return pd.Series([None] * n, dtype=object)
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return pd.Series(values)


def _point(column: Callable[[str], pd.Series], rules: _Rules, problems: _Problems,
           n: int) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (NaN when absent or wrong); coordinate problems reported."""
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if not rules.point:
        return lon, lat
    lat_text, lon_text = _text(column("lat")), _text(column("lon"))
    no_lat, no_lon = lat_text.isna().to_numpy(), lon_text.isna().to_numpy()
    for axis, text, absent, target, other_absent in (("lat", lat_text, no_lat, lat, no_lon),
                                                     ("lon", lon_text, no_lon, lon, no_lat)):
        parsed = parse_coordinate(column(axis).reset_index(drop=True), axis=axis)  # type: ignore[arg-type]
        errors = parsed["error"].to_numpy(dtype=object)
        problems.add(pd.notna(errors) & ~(absent & other_absent), axis, errors, text)
        ok = pd.isna(errors)
        target[ok] = parsed["value"].to_numpy(dtype=float)[ok]
    geopoint = _text(column("geopoint"))
    use = no_lat & no_lon & geopoint.notna().to_numpy()
    if use.any():
        parsed = parse_geopoint(geopoint.where(use, None))
        errors = parsed["error"].to_numpy(dtype=object)
        problems.add(use & pd.notna(errors), "geopoint", errors, geopoint)
        ok = use & pd.isna(errors)
        lon[ok], lat[ok] = parsed["lon"].to_numpy()[ok], parsed["lat"].to_numpy()[ok]
    return lon, lat


def _place(table: str, rules: _Rules, f: pd.DataFrame, out: dict[str, Any], lon: np.ndarray, lat: np.ndarray,
           problems: _Problems, refs: Mapping[str, pd.DataFrame], tolerance_m: float) -> None:
    """Units (declared, from the point, or both checked together), references and instructors."""
    n = len(f)
    declared = [_Unit()] * n
    if rules.units == "council":
        _council_units(f, out, problems, refs)
    elif rules.units != "none":
        inputs = _unit_inputs(f)
        declared = _units_per_row(inputs)
        _report_unit_errors(declared, inputs, problems)
        if rules.units == "record":
            _record_units(table, rules, out, declared, lon, lat, problems, tolerance_m)
    for ref in rules.refs:
        texts = _text(f[ref.id_field]) if ref.id_field in f.columns else pd.Series([None] * n, dtype=object)
        if ref.field in f.columns:
            texts = texts.where(texts.notna(), _text(f[ref.field]))
        ids, errors = _resolve_ref(ref, texts, declared, refs)
        shown_as = ref.id_field if ref.id_field in f.columns and ref.field not in f.columns else ref.field
        problems.add(pd.notna(errors), shown_as, errors, texts)
        if ref.required:
            problems.add(texts.isna().to_numpy(), ref.field, "value_missing")
        out[ref.column] = pd.array([None if v is None else int(v) for v in ids], dtype="Int64")
    if table == "training":
        _instructors(f, out, problems, refs)


def _report_unit_errors(units: Sequence[_Unit], inputs: pd.DataFrame, problems: _Problems) -> None:
    for code, name in {(u.error, u.field) for u in units if u.error}:
        mask = np.array([u.error == code and u.field == name for u in units], dtype=bool)
        problems.add(mask, name or "unit", code or "unit_unknown", inputs[name or "unit"])


def _record_units(table: str, rules: _Rules, out: dict[str, Any], declared: list[_Unit], lon: np.ndarray,
                  lat: np.ndarray, problems: _Problems, tolerance_m: float) -> None:
    """Units of a station, school or training: from the point, from the declared unit, or both if they agree.

    A point inside its declared unit (or with no unit declared) gives the units; a point
    outside it but within ``tolerance_m`` keeps the declared unit; farther is a problem.
    """
    n = len(declared)
    failed = np.array([u.error is not None for u in declared], dtype=bool)
    resolved = list(declared)
    if table == "training":  # a community named after its town places the training when no unit is given
        community = out["community_name"]
        for i in np.flatnonzero(community.notna().to_numpy() & ~failed):
            if resolved[i].unit_id is None:
                resolved[i] = _resolve_units((("unit", community.iloc[i]),))
    level = np.array([u.level for u in resolved], dtype=object)
    unit_id = np.array([u.unit_id for u in resolved], dtype=object)
    is_declared = pd.notna(unit_id)

    have_point = np.isfinite(lon) & np.isfinite(lat)
    located = locate(np.where(have_point, lon, np.nan), np.where(have_point, lat, np.nan))
    outside = have_point & located["subprefecture_id"].isna().to_numpy()
    problems.add(outside, POINT, "outside_guinea", _point_text(lon, lat))
    inside = have_point & ~outside
    agree = np.zeros(n, dtype=bool)
    for lvl in LEVELS:
        at = inside & (level == lvl)
        agree[at] = located[f"{lvl}_id"].to_numpy(dtype=object)[at] == unit_id[at]
    astray = np.flatnonzero(inside & is_declared & ~agree)
    if astray.size:
        distance = _distance_to_units(lon[astray], lat[astray], [resolved[i] for i in astray])
        problems.add(np.isin(np.arange(n), astray[distance > tolerance_m]), POINT, "outside_unit",
                     _point_text(lon, lat))

    chains = {c: np.full(n, None, dtype=object) for c in ("region_id", "prefecture_id", "subprefecture_id")}
    from_point = inside & (~is_declared | agree)
    for c, values in chains.items():
        values[from_point] = located[c].to_numpy(dtype=object)[from_point]
    for i in np.flatnonzero(is_declared & ~from_point):
        for c, v in resolved[i].chain().items():
            chains[c][i] = v
    unplaced = ~is_declared & ~failed & ~have_point
    if rules.point:
        coordinate_problem = _fields_with_problems(problems, ("lat", "lon", "geopoint"))
        problems.add(unplaced & ~coordinate_problem, POINT, "no_location")
        out["lon"], out["lat"] = np.where(inside, lon, np.nan), np.where(inside, lat, np.nan)
    else:
        problems.add(unplaced, "unit", "value_missing")
    out.update(chains)
    if table == "training":
        names = pd.Series([_unit_name(u) for u in resolved], dtype=object)
        out["community_name"] = out["community_name"].where(out["community_name"].notna(), names)


def _fields_with_problems(problems: _Problems, fields: Sequence[str]) -> np.ndarray:
    """Rows with a problem on one of ``fields`` so far."""
    mask = np.zeros(problems.n, dtype=bool)
    for piece in problems.pieces:
        hit = piece["field"].isin(fields).to_numpy()
        mask[piece["pos"].to_numpy()[hit]] = True
    return mask


def _unit_name(unit: _Unit) -> str | None:
    return None if unit.unit_id is None else str(_unit_table().loc[(unit.level, unit.unit_id), "name"])


def _point_text(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    text = (pd.Series(lat).map("{:.6f}".format).astype(object) + ", "
            + pd.Series(lon).map("{:.6f}".format).astype(object))
    return text.where(np.isfinite(lon) & np.isfinite(lat), None).to_numpy(dtype=object)


def _council_units(f: pd.DataFrame, out: dict[str, Any], problems: _Problems,
                   refs: Mapping[str, pd.DataFrame]) -> None:
    """A council covers a sub-prefecture (commune) or a stored neighbourhood, under its sub-prefecture.

    ``unit_id``/``unit`` name the unit covered (id or name); with ``unit_level`` "neighbourhood"
    (or a ``neighbourhood`` field) it is looked up among the stored neighbourhoods, narrowed by
    any region/prefecture/commune given.
    """
    n = len(f)
    inputs = _unit_inputs(f, unit_aliases=("unit_id", "unit"))
    level = pd.Series(out["unit_level"], dtype=object)
    named = _text(f["neighbourhood"]) if "neighbourhood" in f.columns else pd.Series([None] * n, dtype=object)
    by_level = (level == "neighbourhood").to_numpy() & named.isna().to_numpy()
    named = named.where(~by_level, inputs["unit"])
    inputs["unit"] = inputs["unit"].where(~by_level, None)
    units = _units_per_row(inputs)
    _report_unit_errors(units, inputs, problems)
    pool = _neighbourhood_pool(refs)
    chains = {c: np.full(n, None, dtype=object) for c in ("region_id", "prefecture_id", "subprefecture_id")}
    covered = np.full(n, None, dtype=object)
    kinds = level.to_numpy(dtype=object).copy()
    shown = inputs["unit"].where(inputs["unit"].notna(), inputs["prefecture"].where(inputs["prefecture"].notna(),
                                                                                     inputs["region"]))
    for i, unit in enumerate(units):
        if unit.error:
            continue
        if named.iloc[i] is not None:
            within = pool if unit.unit_id is None else pool[_neighbourhood_in(pool, unit)]
            found, error = _match_record(_neighbourhood_id(named.iloc[i]), within)
            if found is None:
                problems.add(_one(n, i), "neighbourhood", f"unit_{error}", named)
                continue
            unit = _Unit("subprefecture", pool.loc[pool["id"] == found, "subprefecture_id"].iloc[0])
            covered[i], kinds[i] = unit_ids([found])[0], "neighbourhood"
        elif unit.unit_id is None:
            problems.add(_one(n, i), "unit_id", "value_missing")
            continue
        elif unit.level != "subprefecture":
            problems.add(_one(n, i), "unit_id", "council_unit_level", shown)
            continue
        else:
            covered[i], kinds[i] = unit.unit_id, "subprefecture"
        for c, v in unit.chain().items():
            chains[c][i] = v
    out.update(chains)
    out["unit_id"], out["unit_level"] = covered, kinds


def _one(n: int, i: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[i] = True
    return mask


def _neighbourhood_pool(refs: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stored neighbourhoods by name and by each of their other names ("|"-separated)."""
    stored = refs.get("neighbourhood")
    if stored is None or stored.empty:
        return pd.DataFrame({"id": pd.Series(dtype="int64"), "key": pd.Series(dtype=object),
                             "subprefecture_id": pd.Series(dtype=object)})
    names = stored["name"].astype(object)
    if "alt_names" in stored.columns:
        names = names + "|" + stored["alt_names"].fillna("").astype(str)
    pool = pd.DataFrame({"id": stored["id"].astype("int64").to_numpy(), "name": names.str.split("|").to_numpy(),
                         "subprefecture_id": stored["subprefecture_id"].to_numpy(dtype=object)}).explode("name")
    pool = pool[pool["name"].str.strip().astype(bool)].reset_index(drop=True)
    return pool.assign(key=_name_keys(pool["name"])).drop(columns="name")


def _neighbourhood_id(text: object) -> object:
    """A neighbourhood's unit id ("NB-12") as its row id; anything else unchanged."""
    try:
        return row_id(str(text).strip().upper())
    except ValueError:
        return text


def _neighbourhood_in(pool: pd.DataFrame, unit: _Unit) -> np.ndarray:
    if unit.level == "subprefecture":
        return (pool["subprefecture_id"] == unit.unit_id).to_numpy()
    subs = _unit_table().xs("subprefecture", level="level")[f"{unit.level}_id"]
    return (pool["subprefecture_id"].map(subs) == unit.unit_id).to_numpy()


def _instructors(f: pd.DataFrame, out: dict[str, Any], problems: _Problems, refs: Mapping[str, pd.DataFrame]) -> None:
    """A training's instructors (ids or names, as a list or as "A; B" text), each of which must be stored."""
    n = len(f)
    by_id = f["instructor_ids"].astype(object).to_numpy() if "instructor_ids" in f.columns else [None] * n
    by_name = f["instructors"].astype(object).to_numpy() if "instructors" in f.columns else [None] * n
    items = [_split_list(a) or _split_list(b) for a, b in zip(by_id, by_name, strict=True)]
    rows = [i for i, row in enumerate(items) for _ in row]
    flat = pd.Series([item for row in items for item in row], dtype=object)
    chosen: list[list[int]] = [[] for _ in range(n)]
    ref = _Ref("instructors", "instructor_ids", "instructor", "instructor_ids", False, "instructor")
    ids, errors = _resolve_ref(ref, flat, [_Unit()] * len(flat), refs)
    shown_as = "instructors" if "instructors" in f.columns else "instructor_ids"
    for i, item, rid, error in zip(rows, flat, ids, errors, strict=True):
        if error:
            problems.add(_one(n, i), shown_as, error, np.full(n, item, dtype=object))
        elif rid not in chosen[i]:
            chosen[i].append(int(rid))
    out["instructor_ids"] = pd.Series(chosen, dtype=object)


def _duplicates(table: str, rules: _Rules, out: dict[str, Any], problems: _Problems,
                refs: Mapping[str, pd.DataFrame], exclude_id: int | None) -> None:
    """Rows repeating a stored record or an earlier row by the table's natural key."""
    n = problems.n
    mine = _keys(pd.DataFrame({c: _as_series(out.get(c), n) for c in rules.key}), rules.key)
    stored = refs.get(table)
    known = np.zeros(0, dtype=object)
    if stored is not None and len(stored) and set(rules.key) <= set(stored.columns):
        if exclude_id is not None:
            stored = stored[stored["id"] != exclude_id]
        known = _keys(stored[list(rules.key)].reset_index(drop=True), rules.key)
    candidate = ~problems.bad
    repeat = candidate & pd.Series(np.where(candidate, mine, None)).duplicated(keep="first").to_numpy()
    repeat |= candidate & np.isin(mine, known)
    shown_on = next((k for k in rules.key if k in ("name", *rules.dates)), rules.key[0])  # the field people look at
    problems.add(repeat, shown_on, "duplicate_record", _as_series(out.get(shown_on), n))


def _keys(frame: pd.DataFrame, key: Sequence[str]) -> np.ndarray:
    """One text key per row: names normalised, missing values empty, parts joined by a unit separator."""
    parts = []
    for name in key:
        values = frame[name].astype(object)
        missing = values.isna().to_numpy()
        text = _name_keys(values) if name in ("name", "community_name") else values.astype(str).to_numpy()
        parts.append(np.where(missing, "", text))
    joined = pd.Series(parts[0], dtype=object)
    for part in parts[1:]:
        joined = joined + "\x1f" + pd.Series(part, dtype=object)
    return joined.to_numpy(dtype=object)


# -- file headers -----------------------------------------------------------------------------

_UNIT_HEADERS: dict[str, tuple[str, ...]] = {
    "region": ("région", "region_id", "admin1", "région administrative"),
    "prefecture": ("préfecture", "prefecture_id", "admin2"),
    "subprefecture": ("commune", "sous-préfecture", "subprefecture_id", "subprefecture", "sub-prefecture",
                      "commune urbaine", "commune rurale", "crd", "sp", "s/p", "admin3"),
    "unit": ("unité administrative", "unité", "unit", "administrative unit", "zone", "localité", "lieu",
             "collectivité"),
}
_POINT_HEADERS: dict[str, tuple[str, ...]] = {
    "lat": ("latitude", "lat", "gps latitude", "gps_latitude", "y"),
    "lon": ("longitude", "lon", "long", "lng", "gps longitude", "gps_longitude", "x"),
    "geopoint": ("gps", "coordonnées gps", "coordonnées", "point gps", "position gps", "geopoint", "coordinates"),
}
_TOPICS = ("thèmes", "thème", "sujets", "sujets abordés", "thématiques", "topics", "topic")
#: Per table: field -> header spellings, most specific first (compared after geo.names.normalize).
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "station": {
        "name": ("nom", "name", "nom du commissariat", "nom du poste", "nom de la station", "dénomination",
                 "commissariat", "poste", "station"),
        "kind": ("type", "kind", "type de poste", "type d'unité", "catégorie", "category", "nature"),
        "contact": ("contact", "téléphone", "phone", "tél", "email", "e-mail", "courriel"),
        **_POINT_HEADERS, **_UNIT_HEADERS},
    "council": {
        "name": ("nom", "name", "nom du conseil", "conseil", "clspd", "council", "council name"),
        "unit_level": ("niveau", "unit level", "unit_level", "échelon", "type d'unité"),
        "unit_id": ("unit_id", "unité couverte", "unit covered", "zone couverte"),
        "neighbourhood": ("quartier", "district", "neighbourhood", "neighborhood", "secteur"),
        "established_on": ("date de création", "date de mise en place", "mis en place le", "créé le",
                           "date d'installation", "installé le", "established", "established_on", "date set up",
                           "set up on", "création"),
        "chair_role": ("président", "présidé par", "fonction du président", "qualité du président", "chair",
                       "chair role", "chair_role", "chaired by"),
        "chair_name": ("nom du président", "chair name", "chair_name", "président nom"),
        "members_total": ("membres", "nombre de membres", "total membres", "members", "members_total",
                          "effectif", "number of members"),
        "members_women": ("dont femmes", "femmes", "membres femmes", "nombre de femmes", "women", "members_women",
                          "women members"),
        "members_youth": ("dont jeunes", "jeunes", "membres jeunes", "nombre de jeunes", "youth", "members_youth",
                          "young members"),
        "plan_adopted_on": ("plan adopté le", "date d'adoption du plan", "plan local de sécurité", "plan adopté",
                            "date du plan", "plan adopted on", "plan adopted", "plan_adopted_on"),
        **_UNIT_HEADERS},
    "council_meeting": {
        "council": ("conseil", "clspd", "nom du conseil", "council", "council_name", "council name"),
        "council_id": ("council_id", "id du conseil", "id conseil", "council id"),
        "held_on": ("date de la réunion", "date réunion", "date", "réunion", "tenue le", "meeting date", "held on",
                    "held_on"),
        "attendance": ("participants", "nombre de participants", "présents", "présence", "attendance",
                       "participants total"),
        "attendance_women": ("dont femmes", "femmes", "participantes", "femmes présentes", "women",
                             "attendance_women", "women attending"),
        "topics": ("ordre du jour", *_TOPICS, "points discutés"),
        "decisions": ("décisions", "décisions prises", "recommandations", "résolutions", "decisions"),
        **_UNIT_HEADERS},
    "school": {
        "name": ("nom", "name", "nom de l'école", "nom de l'établissement", "école", "établissement", "school",
                 "school name"),
        "level": ("niveau", "cycle", "type d'école", "ordre d'enseignement", "level", "school level"),
        "enrolment": ("effectif", "effectifs", "nombre d'élèves", "élèves", "inscrits", "enrolment", "enrollment",
                      "pupils", "students"),
        **_POINT_HEADERS, **_UNIT_HEADERS},
    "outreach_officer": {
        "name": ("nom", "name", "nom de l'agent", "agent", "officier", "officer", "policier"),
        "station": ("commissariat", "poste", "station", "affectation", "unité de police", "station_name",
                    "station name"),
        "station_id": ("station_id", "id du commissariat", "station id"),
        **_UNIT_HEADERS},
    "school_visit": {
        "school": ("école", "établissement", "nom de l'école", "school", "school_name", "school name"),
        "school_id": ("school_id", "id de l'école", "school id"),
        "officer": ("agent", "officier", "policier", "intervenant", "nom de l'agent", "officer", "officer_name",
                    "officer name"),
        "officer_id": ("officer_id", "id de l'agent", "officer id"),
        "visited_on": ("date de la visite", "date visite", "date", "visited on", "visit date", "visited_on"),
        "students_reached": ("élèves touchés", "élèves sensibilisés", "nombre d'élèves", "élèves", "bénéficiaires",
                             "students reached", "students_reached", "students"),
        "topics": _TOPICS,
        **_UNIT_HEADERS},
    "women_visit_day": {
        "station": ("commissariat", "poste", "station", "lieu de la journée", "station_name", "station name"),
        "station_id": ("station_id", "id du commissariat", "station id"),
        "held_on": ("date de la journée", "date", "journée", "held on", "held_on", "day"),
        "women_count": ("nombre de femmes", "femmes", "femmes reçues", "participantes", "women", "women_count",
                        "number of women"),
        "topics": _TOPICS,
        "complaints_after": ("plaintes déposées", "plaintes", "plaintes après", "suites", "complaints",
                             "complaints after", "complaints_after", "complaints filed"),
        **_UNIT_HEADERS},
    "instructor": {"name": ("nom", "name", "formateur", "instructeur", "nom du formateur", "instructor", "trainer")},
    "training": {
        "community_name": ("communauté", "community", "community_name", "localité formée", "lieu de formation",
                           "site"),
        "start_on": ("date de début", "début", "du", "date", "start", "start date", "start_on", "from"),
        "end_on": ("date de fin", "fin", "au", "end", "end date", "end_on", "to"),
        "module": ("module", "module de formation", "formation", "thème de la formation", "training module"),
        "officers_trained": ("agents formés", "policiers formés", "officiers formés", "nombre de formés",
                             "participants", "officers trained", "officers_trained", "trained"),
        "instructors": ("formateurs", "instructeurs", "instructors", "trainers"),
        "instructor_ids": ("instructor_ids",),
        **_UNIT_HEADERS},
}
#: A file must have a column for one field of each group (``"point"``: latitude and longitude, or GPS).
REQUIRED_COLUMNS: dict[str, tuple[tuple[str, ...], ...]] = {
    "station": (("name",), ("kind",), (POINT, *UNIT_FIELDS)),
    "council": (("name",), ("unit_id", "unit", "neighbourhood", "subprefecture", "subprefecture_id")),
    "council_meeting": (("council", "council_id"), ("held_on",)),
    "school": (("name",), (POINT, *UNIT_FIELDS)),
    "outreach_officer": (("name",),),
    "school_visit": (("school", "school_id"), ("officer", "officer_id"), ("visited_on",), ("students_reached",)),
    "women_visit_day": (("station", "station_id"), ("held_on",), ("women_count",)),
    "instructor": (("name",),),
    "training": (("start_on",), ("end_on",), ("module",), ("officers_trained",), ("community_name", *UNIT_FIELDS)),
}
_HEADER_FUZZY_MIN = 90.0


def detect_columns(table: str, columns: Sequence[str]) -> dict[str, str]:
    """Field -> column for a file of ``table``: exact header spellings first, then close ones (typos).

    A column is given to one field at most, a field to one column; ties go to the more specific
    spelling, then to the leftmost column. Columns matching nothing are left out (and kept in the
    review queue's raw data).
    """
    if table not in HEADERS:
        raise ValueError(f"unknown programme table {table!r}; expected one of {', '.join(TABLES)}")
    candidates: list[tuple[int, int, int, str, str]] = []  # (tier, rank, position, field, column)
    for position, col in enumerate(map(str, columns)):
        key = normalize(col)
        if not key:
            continue
        for name, spellings in HEADERS[table].items():
            for rank, spelling in enumerate(spellings):
                wanted = normalize(spelling)
                if key == wanted or key.replace(" ", "") == wanted.replace(" ", ""):
                    candidates.append((0, rank, position, name, col))
                elif len(key) >= 5 and len(wanted) >= 5 and fuzz.ratio(key, wanted) >= _HEADER_FUZZY_MIN:
                    candidates.append((1, rank, position, name, col))
    fields: dict[str, str] = {}
    for *_, name, col in sorted(candidates):
        if name not in fields and col not in fields.values():
            fields[name] = col
    if {"lat", "lon"} <= set(fields):
        fields.pop("geopoint", None)
    return fields


def missing_columns(table: str, fields: Mapping[str, str]) -> list[str]:
    """Required fields (one per group of :data:`REQUIRED_COLUMNS`) that no column was mapped to."""
    present = set(fields) | ({POINT} if {"lat", "lon"} <= set(fields) or "geopoint" in fields else set())
    return [group[0] for group in REQUIRED_COLUMNS[table] if not present & set(group)]


# -- import -----------------------------------------------------------------------------------


class ProgrammeFileError(ValueError):
    """A file that cannot be imported as a whole (nothing was written); ``code`` is a reason code."""

    def __init__(self, code: str, detail: str, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.fields = code, detail, tuple(fields)


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did: rows stored, problems (row = the file's row number), the batch to undo."""

    imported: int
    problems: pd.DataFrame  # row, field, column (the file's header), code, value
    batch_id: int | None
    queued: int = 0
    rows: int = 0
    mapping: Mapping[str, str] = field(default_factory=dict)
    file_name: str = ""

    def summary(self) -> dict[str, Any]:
        """Counts for a message or ``--json``: rows, imported, queued, queued_by_reason (rows per code)."""
        per_row = self.problems.drop_duplicates(["row", "code"])["code"].value_counts()
        return {"rows": self.rows, "imported": self.imported, "queued": self.queued,
                "queued_by_reason": {code: int(per_row[code]) for code in REASONS if code in per_row.index}}


def import_programme(store: Store, table: str, data: bytes | Path | str | Any, file_name: str | None = None, *,
                     created_by: str | None = None, user: object = None, today: date | None = None,
                     mapping: Mapping[str, str] | None = None, sheet: str | int | None = None,
                     dry_run: bool = False) -> ImportOutcome:
    """Read a CSV/XLSX file of ``table`` records and store it as one undoable batch.

    Valid rows are stored; every other row goes to the review queue (kind ``table``) with
    its raw values and reason codes, so nothing is lost. Everything is one transaction.
    ``mapping`` (field -> column) overrides the detected one (:func:`detect_columns`).
    Raises :class:`exchange.readers.ReadError` for an unreadable file and
    :class:`ProgrammeFileError` when required columns are missing: nothing is written then.
    ``dry_run`` validates without writing.
    """
    if table not in RULES:
        raise ValueError(f"unknown programme table {table!r}; expected one of {', '.join(TABLES)}")
    raw = read_table(data, file_name, sheet=sheet)
    fields = dict(mapping) if mapping is not None else detect_columns(table, list(raw.frame.columns))
    if raw.geometry_lonlat and RULES[table].point and not {"lat", "lon", "geopoint"} & set(fields):
        fields.update(lon=LON_COLUMN, lat=LAT_COLUMN)
    absent = sorted({c for c in fields.values() if c not in raw.frame.columns})
    if absent:
        raise ProgrammeFileError("mapping_columns_absent", f"columns {absent} are not in {raw.file_name}")
    missing = missing_columns(table, fields)
    if missing:
        raise ProgrammeFileError("programme_columns_missing",
                                 f"{raw.file_name}: no column found for {', '.join(missing)}", missing)
    frame = pd.DataFrame({name: raw.frame[col].to_numpy(dtype=object) for name, col in fields.items()},
                         index=pd.Index(raw.source_rows[: len(raw.frame)], name="row"))
    valid, problems = validate(table, frame, refs=store.programme_refs(table), today=today)
    review = _review_rows(raw, problems)
    problems = problems.assign(column=problems["field"].map(lambda f: _header(f, fields)))
    problems = problems[["row", "field", "column", "code", "value"]]
    batch_id = None
    if not dry_run and len(raw.frame):
        batch_id = store.write_programme(table, valid, review, kind=table, file_name=raw.file_name,
                                         file_sha256=raw.sha256, file_format=raw.format,
                                         mapping=json.dumps(fields, ensure_ascii=False), created_by=created_by,
                                         user=user)
    return ImportOutcome(imported=len(valid), problems=problems, batch_id=batch_id, queued=len(review),
                         rows=len(raw.frame), mapping=fields, file_name=raw.file_name)


def _header(field_name: str, fields: Mapping[str, str]) -> str:
    if field_name == POINT:
        return " / ".join(fields[f] for f in ("lat", "lon", "geopoint") if f in fields) or field_name
    for name in (field_name, field_name.removesuffix("_id"), f"{field_name}_id"):
        if name in fields:
            return fields[name]
    return field_name


def _review_rows(raw: RawTable, problems: pd.DataFrame) -> pd.DataFrame:
    """Queued rows: the file's row number, its raw cells (by header) and its reason codes, in order."""
    reasons = problems.groupby("row", sort=False)["code"].agg(lambda codes: list(dict.fromkeys(codes)))
    rows = raw.source_rows[: len(raw.frame)]
    queued = np.isin(rows, reasons.index.to_numpy())
    cells = raw.frame[queued].astype(object)
    cells = cells.where(cells.notna(), None)
    return pd.DataFrame({"source_row": rows[queued], "data": cells.to_dict("records"),
                         "reasons": [reasons[r] for r in rows[queued]]})


# -- messages ---------------------------------------------------------------------------------


def describe(problems: pd.DataFrame, t: Translator, *, file_name: str | None = None) -> list[str]:
    """One sentence per problem naming the file, row, field (the file's column when known) and why."""
    lines = []
    for p in problems.itertuples(index=False):
        column = getattr(p, "column", None)
        label = column if column and column != p.field else t(FIELD_LABELS.get(p.field, p.field))
        reason = reason_text(t, p.code)
        text = (t("{file}, row {row}, {field}: {reason}", file=file_name, row=p.row, field=label, reason=reason)
                if file_name else t("Row {row}, {field}: {reason}", row=p.row, field=label, reason=reason))
        if p.value is not None and not pd.isna(p.value):
            text = t("{problem} (value: “{value}”)", problem=text, value=p.value)
        lines.append(text)
    return lines


# -- export -----------------------------------------------------------------------------------

EXPORT_FORMATS = {"csv": "text/csv",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: Child table -> (FK column, parent table, name column added next to it).
_PARENT_NAMES = {"council_meeting": (("council_id", "council", "council_name"),),
                 "outreach_officer": (("station_id", "station", "station_name"),),
                 "school_visit": (("school_id", "school", "school_name"),
                                  ("officer_id", "outreach_officer", "officer_name")),
                 "women_visit_day": (("station_id", "station", "station_name"),)}
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def export_frame(frames: Mapping[str, pd.DataFrame], table: str) -> pd.DataFrame:
    """``frames[table]`` as exported: bookkeeping columns dropped, parents' names next to their ids,
    a training's instructors by name; columns :func:`detect_columns` maps back on import."""
    if table not in RULES:
        raise ValueError(f"unknown programme table {table!r}; expected one of {', '.join(TABLES)}")
    if table not in frames:
        raise ValueError(f"frames has no {table!r} table")
    out = frames[table].drop(columns=["batch_id", "version"], errors="ignore").reset_index(drop=True)
    for fk, parent, name_col in _PARENT_NAMES.get(table, ()):
        if parent in frames and fk in out.columns:
            names = frames[parent].set_index("id")["name"]
            out.insert(out.columns.get_loc(fk) + 1, name_col, out[fk].map(names).astype(object))
    if table == "training" and {"training_instructor", "instructor"} <= set(frames):
        links = frames["training_instructor"].merge(frames["instructor"][["id", "name"]], left_on="instructor_id",
                                                    right_on="id", how="inner")
        joined = links.sort_values("name").groupby("training_id")["name"].agg("; ".join)
        out["instructors"] = out["id"].map(joined).astype(object)
    return out


def export_programme(frames: Mapping[str, pd.DataFrame], table: str, fmt: str = "csv") -> bytes:
    """``table`` of ``frames`` (e.g. ``Store.programme_frames``) as CSV or XLSX bytes.

    Text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``...) is prefixed with an
    apostrophe in both formats. CSV is UTF-8 with BOM (Excel shows accents), XLSX holds dates as
    dates; either can be imported again.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    frame = export_frame(frames, table)
    if fmt == "csv":
        return to_csv(frame)
    return _to_xlsx(frame, sheet=table)


def _to_xlsx(frame: pd.DataFrame, *, sheet: str) -> bytes:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):  # Excel has no time zones: UTC, said in the header
            out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)
        elif out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: neutralize(_ILLEGAL_XLSX.sub("", v)) if isinstance(v, str) else v)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        out.to_excel(writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()
