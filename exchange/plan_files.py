"""Priorities of a local security plan read from a vector file.

Councils bring priorities from elsewhere: the priorities GeoJSON of an earlier plan
(:func:`exchange.plans.priorities_geojson` reads back as it was written), areas drawn
in QGIS, or places marked in Google Earth (KML/KMZ). Formats are those of
:mod:`exchange.vector` (decided by content). Every feature is checked like a shape
drawn on the page (:func:`geo.plans.check_priority_shape`, against the plan's unit)
and its attributes like a form entry; a feature that does not fit is set aside with
its number, its title and every reason, and nothing is stored until the user
confirms (then all the features that fit, in one transaction).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import shapely

from exchange.plans import PRIORITY_THEMES, RAISED_BY_LABELS
from exchange.readers import ReadError, _blank_bytes, _load
from exchange.vector import LayerFileError, LayerKind, materialize, read_layers, text_values
from geo.names import normalize
from geo.plans import SHAPE_MESSAGES, check_priority_shape
from geo.taxonomy import default_taxonomy
from i18n import N_, Translator, t_for
from i18n.reasons import reason_text
from storage import Store

#: Upload limit of a priorities file (a plan holds a few dozen shapes).
MAX_BYTES = 20_000_000
#: Features read from one file at most.
MAX_FEATURES = 500
#: Column names (normalised) that hold each field, in order of preference.
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": ("title", "titre", "priority", "priorite", "name", "nom", "libelle"),
    "description": ("description", "descr", "details", "commentaire", "comment", "notes"),
    "category": ("category", "categorie", "theme", "type"),
    "raised_by": ("raised by", "souleve par", "soulevee par", "propose par", "proposee par", "groupe", "group"),
    "rank": ("rank", "rang", "ordre", "order", "priorite no", "no"),
}
#: Why a feature is set aside (besides the shape codes of :data:`geo.plans.SHAPE_MESSAGES`).
FEATURE_MESSAGES: dict[str, str] = {
    "geometry_missing": N_("The feature has no shape."),
    "title_missing": N_("No title: name the priority in a title, titre, name or nom column."),
    "category_unknown": N_("Category not recognised: use an incident category or a theme of the plan page."),
    "raised_by_unknown": N_("\"Raised by\" not recognised: use one of the groups of the plan page."),
    "rank_invalid": N_("The rank must be a whole number from 1."),
}
#: File-level errors of this reader (on top of :mod:`i18n.reasons`).
FILE_ERRORS: dict[str, str] = {
    "no_geometry": N_("the file holds no shapes (a table without geometry)"),
    "kml_unsafe": N_("KML file refused: it declares a DOCTYPE or entities, which KML never needs"),
    "too_many_features": N_("the file holds more features than a plan can take (500 at most)"),
}


class PriorityFileError(LayerFileError):
    """A readable file that cannot give priorities; ``code`` of :data:`FILE_ERRORS`."""

    CODES = tuple(FILE_ERRORS)


PRIORITY_LAYER = LayerKind("", "priority", lambda detail: PriorityFileError("no_geometry", detail),
                           kml_unsafe=lambda detail: PriorityFileError("kml_unsafe", detail))


@dataclass(frozen=True)
class PriorityFeature:
    """One feature that fits: the values :meth:`storage.Store.add_priorities` takes, its shape and notes."""

    feature: int
    values: dict[str, Any]
    geometry: shapely.Geometry
    kind: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetAside:
    """One feature that does not fit: its number in the file (from 1), its title if any, its reasons."""

    feature: int
    title: str | None
    codes: tuple[str, ...]
    value: str | None = None  # the category or group not recognised


@dataclass(frozen=True)
class PriorityFile:
    """What reading a priorities file gave."""

    file_name: str
    file_format: str
    features: int
    ready: tuple[PriorityFeature, ...]
    set_aside: tuple[SetAside, ...]
    columns: dict[str, str | None]
    notes: tuple[str, ...] = field(default_factory=tuple)


def _lookup(pairs: Mapping[str, str]) -> dict[str, str]:
    """Normalised code and French and English labels -> code."""
    out: dict[str, str] = {}
    for code, label in pairs.items():
        for text in (code, code.replace("_", " "), t_for("fr")(label), t_for("en")(label)):
            out.setdefault(normalize(text), code)
    return out


def _categories() -> dict[str, str]:
    tax = default_taxonomy()
    out = _lookup(PRIORITY_THEMES)
    for code in tax.codes:
        for text in (code, code.replace("_", " "), tax.label(code, "fr"), tax.label(code, "en")):
            out.setdefault(normalize(text), code)
    return out


def _columns(names: list[str]) -> dict[str, str | None]:
    normal = {c: normalize(c.replace("_", " ").replace("-", " ")) for c in names}
    out: dict[str, str | None] = {}
    for target, synonyms in FIELD_SYNONYMS.items():
        taken = set(out.values())
        out[target] = next((c for s in synonyms for c in names if normal[c] == s and c not in taken), None)
    return out


def read_priority_file(data: bytes | Path | str | Any, file_name: str | None = None, *,
                       unit: shapely.Geometry | None = None, max_bytes: int = MAX_BYTES) -> PriorityFile:
    """Read ``data`` into priorities that fit the plan's ``unit`` and features set aside (see the module)."""
    raw, name = _load(data, file_name, max_bytes)
    if _blank_bytes(raw):
        raise ReadError("empty_file", f"{name or 'the file'} is empty ({len(raw)} bytes)")
    with tempfile.TemporaryDirectory(prefix="proximite-priorities-") as tmp:
        source = materialize(raw, Path(tmp), None, PRIORITY_LAYER)
        geoms, fields, _crs, notes = read_layers(source, PRIORITY_LAYER.wrong_kind)
    n = len(geoms)
    if n > MAX_FEATURES:
        raise PriorityFileError("too_many_features", f"{n:,} features; the limit is {MAX_FEATURES}")
    columns = _columns([str(c) for c in fields.columns])
    text = {k: text_values(fields[c] if c is not None else None, n) for k, c in columns.items()}
    categories, groups = _categories(), _lookup(RAISED_BY_LABELS)
    ready: list[PriorityFeature] = []
    aside: list[SetAside] = []
    for i in range(n):
        title, codes, odd = text["title"][i], [], None
        values: dict[str, Any] = {"title": title, "description": text["description"][i], "source": "imported"}
        if not title:
            codes.append("title_missing")
        if text["category"][i] is not None:
            values["category"] = categories.get(normalize(text["category"][i]))
            if values["category"] is None:
                codes.append("category_unknown")
                odd = text["category"][i]
        if text["raised_by"][i] is not None:
            values["raised_by"] = groups.get(normalize(text["raised_by"][i]))
            if values["raised_by"] is None:
                codes.append("raised_by_unknown")
                odd = odd or text["raised_by"][i]
        if text["rank"][i] is not None:
            rank = pd.to_numeric(str(text["rank"][i]).replace(",", "."), errors="coerce")
            if pd.isna(rank) or rank < 1 or rank != int(rank):
                codes.append("rank_invalid")
            else:
                values["rank"] = int(rank)
        geom = geoms[i]
        if geom is None or geom is False:  # missing, or unreadable WKB
            check = None
            codes.append("geometry_missing" if geom is None else "geometry_invalid")
        else:
            check = check_priority_shape(geom, unit)
            codes += list(check.errors)
        if codes or check is None:
            aside.append(SetAside(i + 1, title, tuple(codes), odd))
        else:
            ready.append(PriorityFeature(i + 1, {k: v for k, v in values.items() if v is not None},
                                         check.geometry, str(check.kind), check.warnings))
    return PriorityFile(name, source.file_format, n, tuple(ready), tuple(aside), columns, tuple(notes))


def import_priorities(store: Store, plan_id: int, result: PriorityFile, *, user: object = None) -> list[int]:
    """Store the features that fit, all or none, after the plan's own priorities.

    The file's ranks keep their order but follow the plan's existing ranks, so an
    import never puts two priorities at the same rank; features without one come last.
    """
    existing = store.plan_priorities(plan_id)
    top = int(existing["rank"].max()) if len(existing) else 0
    ordered = sorted(result.ready, key=lambda f: (f.values.get("rank", float("inf")), f.feature))
    items = [({**f.values, "rank": top + i}, f.geometry, f.kind, f.warnings) for i, f in enumerate(ordered, 1)]
    return store.add_priorities(plan_id, items, user=user)


def feature_message(t: Translator, code: str) -> str:
    """A feature's reason (or shape warning) in ``t``'s language."""
    message = FEATURE_MESSAGES.get(code) or SHAPE_MESSAGES.get(code)
    return t(message) if message else code


def file_error_text(t: Translator, exc: Exception) -> str:
    """Why a whole file could not be read, in ``t``'s language."""
    code = getattr(exc, "code", "unreadable")
    return t(FILE_ERRORS[code]) if code in FILE_ERRORS else reason_text(t, code)


def set_aside_table(t: Translator, result: PriorityFile) -> pd.DataFrame:
    """The features set aside, one row each, with every reason in words (to correct the file)."""
    return pd.DataFrame({
        t("Feature"): np.array([a.feature for a in result.set_aside], dtype="int64"),
        t("Title"): [a.title or "" for a in result.set_aside],
        t("Why"): ["; ".join(feature_message(t, c) + (f" ({a.value})" if c.endswith("_unknown") and a.value else "")
                             for c in a.codes) for a in result.set_aside]})
