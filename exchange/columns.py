"""Propose which column of an imported table holds which incident field.

:func:`detect_mapping` looks at the column names (and, for KoboToolbox/ODK geopoints, a sample of
values) and returns a :class:`ColumnMapping` the user confirms or corrects in the import screen.
Names are compared with :func:`geo.names.normalize` (accents, case, apostrophes and punctuation do
not matter) against French and English synonyms, in this order of trust:

* known export layouts ("flavours"): ACLED and UCDP tables map by their documented column names;
  KoboToolbox (``_uuid`` / ``_submission_time`` / ``_index`` columns) and ODK Briefcase (``KEY``
  and ``SubmissionDate``) map their id and split geopoint columns by their conventions;
  point geometries read from vector files (``__lon`` / ``__lat``) are the coordinates;
* exact synonym: confidence 1.0; the same after dropping a Kobo/ODK group prefix
  ("incident-date" -> "date"): 1.0 in Kobo/ODK files, 0.9 elsewhere; a latitude/longitude pair
  sharing a prefix ("Localisation Latitude" / "Localisation Longitude"): 0.9;
* fuzzy (RapidFuzz ``WRatio`` >= 85 on normalised names, synonyms of 4+ characters): 0.7.

A column is never given two fields; when several columns fit one field the most trusted wins,
then the earlier synonym in :data:`SYNONYMS`, then the leftmost column.

ACLED category: ``event_type`` (six stable values that the taxonomy's synonyms cover: Protests,
Riots, Battles, Violence against civilians, Explosions/Remote violence, Strategic developments);
``sub_event_type`` is used only when ``event_type`` is absent. UCDP category: ``type_of_violence``
(codes 1 state-based, 2 non-state, 3 one-sided), read through :data:`UCDP_VIOLENCE_TYPES`.
Death counts (ACLED ``fatalities``, UCDP ``best``) are not mapped to ``severity``: they are
counts, not a level.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field

import pandas as pd
from rapidfuzz import fuzz

from geo.names import normalize

FIELDS = (
    "source_id",
    "date",
    "time",
    "category",
    "latitude",
    "longitude",
    "geopoint",
    "place",
    "neighbourhood",
    "commune",
    "prefecture",
    "region",
    "description",
    "severity",
)
FLAVOURS = ("generic", "kobo", "odk", "acled", "ucdp")
REQUIRED = ("date", "category")
#: Any one of these is enough to place a row (by name) when it has no coordinates.
LOCATION_NAME_FIELDS = ("place", "neighbourhood", "commune", "prefecture")
FUZZY_MIN_SCORE = 85.0

EXACT, GROUPED, PAIR, FUZZY = 1.0, 0.9, 0.9, 0.7

#: Synonyms per field, most specific first (the order breaks ties between columns).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "source_id": (
        "source_id",
        "id",
        "identifiant",
        "numéro",
        "numero",
        "n°",
        "no",
        "num",
        "nº",
        "référence",
        "reference",
        "réf",
        "ref",
        "numéro du PV",
        "n° PV",
        "n° dossier",
        "event_id_cnty",
        "event_id",
        "incident_id",
        "_uuid",
        "uuid",
        "instanceID",
        "KEY",
        "code",
    ),
    "date": (
        "date",
        "date de l'incident",
        "date incident",
        "date_incident",
        "date des faits",
        "date faits",
        "date_faits",
        "date de l'événement",
        "date evenement",
        "jour",
        "event_date",
        "incident_date",
        "date of incident",
        "date_start",
        "when",
    ),
    "time": (
        "heure",
        "time",
        "heure des faits",
        "heure de l'incident",
        "heure incident",
        "heure_incident",
        "incident time",
        "event_time",
    ),
    "category": (
        "catégorie",
        "categorie",
        "category",
        "type d'incident",
        "type incident",
        "type_incident",
        "type de l'incident",
        "nature des faits",
        "nature de l'incident",
        "nature",
        "infraction",
        "type",
        "incident type",
        "event_type",
        "type_of_violence",
        "motif",
    ),
    "latitude": ("latitude", "lat", "gps_latitude", "gps latitude", "y", "coord_y", "coordonnée y"),
    "longitude": (
        "longitude",
        "long",
        "lon",
        "lng",
        "gps_longitude",
        "gps longitude",
        "x",
        "coord_x",
        "coordonnée x",
    ),
    "geopoint": (
        "geopoint",
        "gps",
        "coordonnées gps",
        "coordonnées",
        "point gps",
        "position gps",
        "localisation gps",
        "coordinates",
        "geolocation",
        "gps coordinates",
    ),
    "place": (
        "lieu",
        "lieu de l'incident",
        "lieu des faits",
        "localité",
        "localite",
        "location",
        "place",
        "village",
        "secteur",
        "where",
        "adresse",
        "endroit",
    ),
    "neighbourhood": ("quartier", "district", "neighbourhood", "neighborhood", "quartier district"),
    "commune": (
        "commune",
        "sous-préfecture",
        "sous prefecture",
        "sous-prefecture",
        "sp",
        "s/p",
        "admin3",
        "adm_3",
        "commune urbaine",
        "commune rurale",
        "crd",
    ),
    "prefecture": ("préfecture", "prefecture", "admin2", "adm_2"),
    "region": ("région", "region", "admin1", "adm_1", "région administrative"),
    "description": (
        "description",
        "observations",
        "observation",
        "notes",
        "note",
        "résumé",
        "resume",
        "details",
        "détails",
        "commentaire",
        "commentaires",
        "remarques",
        "récit",
        "faits",
        "summary",
        "narrative",
    ),
    "severity": ("gravité", "gravite", "severity", "niveau de gravité", "niveau", "priorité"),
}

#: Columns whose name contains one of these words are never matched fuzzily.
_FUZZY_BLOCKED = frozenset(
    {
        "altitude",
        "alt",
        "precision",
        "accuracy",
        "acc",
        "naissance",
        "birth",
        "telephone",
        "phone",
        "tel",
        "email",
        "age",
        "saisie",
        "submission",
        "submissiondate",
    }
)

_KOBO_MARKERS = ("_uuid", "_submission_time", "_index")
# Columns every KoboToolbox/ODK form export carries about the device and the session, never incident data.
_FORM_METADATA = frozenset(
    {"start", "end", "today", "deviceid", "username", "simserial", "subscriberid", "phonenumber"}
)
_KOBO_METADATA = _FORM_METADATA | {"audit", "__version__"}
_ODK_METADATA = _FORM_METADATA | {"submissiondate", "meta-instancename", "meta-audit"}
_ODK_GROUP_SPLIT = re.compile(r"[-/:]")
_KOBO_GROUP_SPLIT = re.compile(r"[/:]")

_ACLED_MARKERS = ("event_id_cnty",)
_ACLED_PRESET = {
    "source_id": ("event_id_cnty",),
    "date": ("event_date",),
    "category": ("event_type", "sub_event_type"),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "place": ("location",),
    "commune": ("admin3",),
    "prefecture": ("admin2",),
    "region": ("admin1",),
    "description": ("notes",),
}
#: UCDP ``type_of_violence`` codes, spelled as the taxonomy's synonyms (``data/config/taxonomy.csv``):
#: state-based and non-state conflict are armed clashes between organised sides (as ACLED's
#: "Battles"), one-sided violence is violence against civilians.
UCDP_VIOLENCE_TYPES = {"1": "state-based conflict", "2": "non-state conflict", "3": "one-sided violence"}

_UCDP_PRESET = {
    "source_id": ("id",),
    "date": ("date_start",),
    "category": ("type_of_violence",),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "place": ("where_coordinates", "where_description"),
    "prefecture": ("adm_2",),
    "region": ("adm_1",),
    "description": ("source_headline", "where_description"),
}

#: "lat lon [alt [accuracy]]" as KoboToolbox and ODK write geopoints.
_GEOPOINT_VALUE = re.compile(
    r"^\s*[+-]?\d{1,2}(?:\.\d+)?\s+[+-]?\d{1,3}(?:\.\d+)?"
    r"(?:\s+[+-]?\d+(?:\.\d+)?){0,2}\s*$"
)
_GEOPOINT_NAME_HINTS = frozenset(
    {
        "localisation",
        "position",
        "location",
        "emplacement",
        "point",
        "lieu",
        "coordonnees",
        "gps",
        "geopoint",
        "geolocalisation",
    }
)
_LAT_WORDS = frozenset({"latitude", "lat"})
_LON_WORDS = frozenset({"longitude", "lon", "long", "lng"})


@dataclass(frozen=True)
class ColumnMapping:
    """Field -> column of the RawTable frame, how the file was recognised, how sure we are."""

    fields: dict[str, str]
    flavour: str = "generic"
    confidence: dict[str, float] = dc_field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; expected some of {list(FIELDS)}")
        if self.flavour not in FLAVOURS:
            raise ValueError(f"unknown flavour {self.flavour!r}; expected one of {list(FLAVOURS)}")
        columns = list(self.fields.values())
        if any(not isinstance(c, str) or not c for c in columns):
            raise ValueError("every mapped column must be a non-empty string")
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise ValueError(f"columns mapped to more than one field: {repeated}")
        for name, value in self.confidence.items():
            if name not in self.fields:
                raise ValueError(f"confidence given for unmapped field {name!r}")
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"confidence of {name!r} must be within 0..1, not {value!r}")

    def to_json(self) -> str:
        ordered = {f: self.fields[f] for f in FIELDS if f in self.fields}
        return json.dumps(
            {
                "flavour": self.flavour,
                "fields": ordered,
                "confidence": {
                    f: float(self.confidence[f]) for f in ordered if f in self.confidence
                },
            },
            ensure_ascii=False,
            sort_keys=False,
        )

    @classmethod
    def from_json(cls, text: str) -> ColumnMapping:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a column mapping: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("fields"), dict):
            raise ValueError("not a column mapping: expected an object with a 'fields' object")
        confidence = data.get("confidence") or {}
        if not isinstance(confidence, dict):
            raise ValueError("not a column mapping: 'confidence' must be an object")
        return cls(
            fields={str(k): v for k, v in data["fields"].items()},
            flavour=data.get("flavour", "generic"),
            confidence={str(k): float(v) for k, v in confidence.items()},
        )

    def missing_required(self) -> list[str]:
        """What still has to be mapped before importing: "date", "category", and a location.

        The location is satisfied by latitude + longitude, a geopoint, or any of
        place/neighbourhood/commune/prefecture. When it is not, the code is "longitude" (or
        "latitude") if only the other half of the pair is mapped, else "location".
        """
        missing = [f for f in REQUIRED if f not in self.fields]
        has = self.fields.__contains__
        located = (
            (has("latitude") and has("longitude"))
            or has("geopoint")
            or any(has(f) for f in LOCATION_NAME_FIELDS)
        )
        if not located:
            missing.append(
                "longitude" if has("latitude") else "latitude" if has("longitude") else "location"
            )
        return missing

    def column(self, field_name: str) -> str | None:
        """The column mapped to ``field_name``, or None."""
        return self.fields.get(field_name)


# --------------------------------------------------------------------------- detection


def _norm_synonyms() -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for f, names in SYNONYMS.items():
        seen: list[tuple[str, int]] = []
        for rank, name in enumerate(names):
            key = normalize(name)
            if key and key not in [k for k, _ in seen]:
                seen.append((key, rank))
        out[f] = seen
    return out


_SYNONYM_KEYS = _norm_synonyms()
_EXACT_INDEX: dict[str, list[tuple[str, int]]] = {}
for _field, _keys in _SYNONYM_KEYS.items():
    for _key, _rank in _keys:
        _EXACT_INDEX.setdefault(_key, []).append((_field, _rank))


@dataclass(order=True)
class _Candidate:
    sort_key: tuple
    field_name: str = dc_field(compare=False)
    column: str = dc_field(compare=False)
    confidence: float = dc_field(compare=False)


class _Proposals:
    def __init__(self, columns: Sequence[str]) -> None:
        self.position = {c: i for i, c in enumerate(columns)}
        self.items: list[_Candidate] = []

    def add(
        self, field_name: str, column: str, confidence: float, rank: int = 0, tier: int = 1
    ) -> None:
        """Tier 0 (flavour presets) beats tier 1; then confidence, synonym rank, column order."""
        key = (tier, -confidence, rank, self.position.get(column, 0))
        self.items.append(_Candidate(key, field_name, column, confidence))

    def assign(self) -> tuple[dict[str, str], dict[str, float]]:
        fields: dict[str, str] = {}
        conf: dict[str, float] = {}
        used: set[str] = set()
        for cand in sorted(self.items):
            if cand.field_name in fields or cand.column in used:
                continue
            fields[cand.field_name] = cand.column
            conf[cand.field_name] = cand.confidence
            used.add(cand.column)
        return fields, conf


def detect_flavour(columns: Sequence[str]) -> str:
    """Which known export layout the column names are (see the module docstring)."""
    names = {str(c).strip() for c in columns}
    lower = {n.lower() for n in names}
    if any(m in lower for m in _ACLED_MARKERS) or {"event_date", "event_type", "admin1"} <= lower:
        return "acled"
    if "type_of_violence" in lower and ({"date_start", "where_coordinates"} & lower):
        return "ucdp"
    if any(m in lower for m in _KOBO_MARKERS):
        return "kobo"
    if "key" in lower and (
        "submissiondate" in lower
        or any(n.lower().startswith("meta-") for n in names)
        or any(n.endswith("-Latitude") for n in names)
    ):
        return "odk"
    return "generic"


def _find(columns: Sequence[str], name: str) -> str | None:
    for c in columns:
        if c.strip().lower() == name.lower():
            return c
    return None


def _is_geopoint_column(values: pd.Series) -> bool | None:
    """True/False from the values; None when there is nothing to judge by."""
    texts = [str(v) for v in values.dropna().head(50) if str(v).strip()]
    if not texts:
        return None
    hits = sum(1 for t in texts if _GEOPOINT_VALUE.match(t))
    return hits >= max(1, 0.8 * len(texts))


def _latlon_pairs(columns: Sequence[str], excluded: set[str]) -> list[tuple[str, str]]:
    """(latitude column, longitude column) for names like "<prefix> latitude" / "<prefix> lon"."""
    lat: dict[str, str] = {}
    lon: dict[str, str] = {}
    for c in columns:
        if c in excluded:
            continue
        words = normalize(c).split()
        if len(words) < 2:
            continue
        prefix = " ".join(words[:-1])
        if words[-1] in _LAT_WORDS:
            lat.setdefault(prefix, c)
        elif words[-1] in _LON_WORDS:
            lon.setdefault(prefix, c)
    return [(lat[p], lon[p]) for p in lat if p in lon]


def detect_mapping(columns: Sequence[str], sample: pd.DataFrame | None = None) -> ColumnMapping:
    """Propose a mapping for a table with these column names (``sample``: a few of its rows)."""
    columns = [str(c) for c in columns]
    flavour = detect_flavour(columns)
    props = _Proposals(columns)

    if "__lon" in columns and "__lat" in columns:
        props.add("longitude", "__lon", EXACT, tier=0)
        props.add("latitude", "__lat", EXACT, tier=0)

    if flavour in ("acled", "ucdp"):
        preset = _ACLED_PRESET if flavour == "acled" else _UCDP_PRESET
        for field_name, names in preset.items():
            for rank, name in enumerate(names):
                col = _find(columns, name)
                if col is not None:
                    props.add(field_name, col, EXACT, rank=rank, tier=0)
        fields, conf = props.assign()
        return ColumnMapping(fields, flavour, conf)

    excluded: set[str] = set()
    group_conf = EXACT if flavour in ("kobo", "odk") else GROUPED
    if flavour == "kobo":
        uuid = _find(columns, "_uuid")
        if uuid is not None:
            props.add("source_id", uuid, EXACT, tier=0)
        for c in columns:
            key = c.strip().lower()
            if (key.startswith("_") and c != uuid) or key in _KOBO_METADATA:
                excluded.add(c)
        split = re.compile(r"^_(?P<q>.+)_(?P<part>latitude|longitude|altitude|precision)$")
        pairs: dict[str, dict[str, str]] = {}
        for c in columns:
            m = split.match(c.strip())
            if m:
                pairs.setdefault(m["q"], {})[m["part"]] = c
        for parts in pairs.values():
            if "latitude" in parts and "longitude" in parts:
                props.add("latitude", parts["latitude"], EXACT, tier=0)
                props.add("longitude", parts["longitude"], EXACT, tier=0)
                break
    elif flavour == "odk":
        key = _find(columns, "KEY")
        if key is not None:
            props.add("source_id", key, EXACT, tier=0)
        for c in columns:
            lowered = c.strip().lower()
            if lowered in _ODK_METADATA or lowered.endswith(("-altitude", "-accuracy")):
                excluded.add(c)
        lat = {c[: -len("-Latitude")]: c for c in columns if c.endswith("-Latitude")}
        lon = {c[: -len("-Longitude")]: c for c in columns if c.endswith("-Longitude")}
        for prefix, c in lat.items():
            if prefix in lon:
                props.add("latitude", c, EXACT, tier=0)
                props.add("longitude", lon[prefix], EXACT, tier=0)
                break

    # Geopoints recognised by their values ("9.5412 -13.6773 12.0 5.0").
    geopoint_verdict: dict[str, bool | None] = {}
    for c in columns:
        if c in excluded or c in ("__lon", "__lat"):
            continue
        verdict = (
            _is_geopoint_column(sample[c]) if sample is not None and c in sample.columns else None
        )
        geopoint_verdict[c] = verdict
        if verdict:
            named = bool(set(normalize(c).split()) & _GEOPOINT_NAME_HINTS)
            props.add("geopoint", c, EXACT if named else PAIR, tier=0 if named else 1)

    for lat_col, lon_col in _latlon_pairs(columns, excluded):
        props.add("latitude", lat_col, PAIR, rank=0)
        props.add("longitude", lon_col, PAIR, rank=0)

    for c in columns:
        if c in excluded or c in ("__lon", "__lat"):
            continue
        key = normalize(c)
        if not key:
            continue
        splitter = _ODK_GROUP_SPLIT if flavour == "odk" else _KOBO_GROUP_SPLIT
        tail = normalize(splitter.split(c.strip())[-1]) or key
        matched = False
        for key_try, conf in ((key, EXACT), (tail, group_conf)):
            for field_name, rank in _EXACT_INDEX.get(key_try, []):
                if field_name == "geopoint" and geopoint_verdict.get(c) is False:
                    continue
                props.add(field_name, c, conf, rank=rank)
                matched = True
            if matched:
                break
        if matched or len(key) < 3 or set(key.split()) & _FUZZY_BLOCKED:
            continue
        for field_name, keys in _SYNONYM_KEYS.items():
            if field_name == "geopoint" and geopoint_verdict.get(c) is False:
                continue
            best, best_rank = 0.0, 0
            for syn, rank in keys:
                if len(syn) < 4:
                    continue
                score = max(fuzz.WRatio(key, syn), fuzz.WRatio(tail, syn) if tail != key else 0)
                if score > best:
                    best, best_rank = score, rank
            if best >= FUZZY_MIN_SCORE:
                props.add(field_name, c, FUZZY, rank=best_rank)

    fields, conf = props.assign()
    if "latitude" in fields and "longitude" in fields and "geopoint" in fields:
        del fields["geopoint"], conf["geopoint"]  # the split columns are preferred
    return ColumnMapping(fields, flavour, conf)
