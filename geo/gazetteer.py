"""Find administrative units by name, forgiving accents, case, apostrophes and typos.

Used by the map search box and by the place-name geocoder of imports. Names
repeat across prefectures ("Touba", "Missira"), so results are units (level +
id) with a score, never a bare name, and callers narrow ambiguous names with the
parent they know. Besides the vendored regions, prefectures and sub-prefectures,
a gazetteer can hold places users added below them (neighbourhoods, level
``"neighbourhood"``): :meth:`Gazetteer.with_places` returns a new gazetteer with
them, so the shared default one is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geo.boundaries import LEVELS, load_units
from geo.names import compact, normalize, strip_accents
from geo.neighbourhoods import LEVEL as NEIGHBOURHOOD

PlaceLevel = Literal["region", "prefecture", "subprefecture", "neighbourhood"]
#: Every level a gazetteer entry can have, broadest first.
PLACE_LEVELS: tuple[PlaceLevel, ...] = (*LEVELS, NEIGHBOURHOOD)  # type: ignore[assignment]
#: Columns of the frame :meth:`Gazetteer.with_places` takes (``alt_names`` and the parents' ids are optional).
PLACE_COLUMNS = ("unit_id", "name", "subprefecture_id", "label_lon", "label_lat")


@dataclass(frozen=True)
class Match:
    """One candidate unit for a searched name; ``score`` runs from 0 to 100.

    ``subprefecture_id`` is the unit itself for a sub-prefecture, the sub-prefecture
    holding it for a neighbourhood, and ``None`` above.
    """

    unit_id: str
    level: PlaceLevel
    name: str
    prefecture_id: str | None
    region_id: str
    score: float
    matched: str
    subprefecture_id: str | None = None


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _name_rows(units: pd.DataFrame, offset: int) -> list[tuple[int, str, str, str]]:
    """(position, text, key, compact key) for every name, accent-free form, source spelling and alias."""
    rows = []
    for pos, unit in enumerate(units.itertuples(index=False), start=offset):
        names = {unit.name, unit.name_ascii, unit.source_name}
        aliases = "" if _missing(unit.aliases) else str(unit.aliases)
        names.update(a.strip() for a in aliases.split("|") if a.strip())
        if unit.level == "subprefecture" and unit.name.endswith(" Centre"):
            names.add(unit.name[: -len(" Centre")])
        for text in sorted(n for n in names if not _missing(n) and str(n).strip()):
            rows.append((pos, text, normalize(text), compact(text)))
    return rows


class Gazetteer:
    """Name index over units: every official name, accent-free form, source spelling and alias."""

    def __init__(self, units: pd.DataFrame) -> None:
        required = {"unit_id", "level", "name", "name_ascii", "source_name", "aliases", "prefecture_id", "region_id"}
        missing = required - set(units.columns)
        if missing:
            raise ValueError(f"units is missing columns {sorted(missing)}")
        units = units.reset_index(drop=True).copy()
        units["level"] = units["level"].astype(str).astype(object)
        if "subprefecture_id" not in units.columns:
            units["subprefecture_id"] = None
        own = (units["level"] == "subprefecture").to_numpy()
        units["subprefecture_id"] = np.where(own, units["unit_id"].to_numpy(dtype=object),
                                             units["subprefecture_id"].to_numpy(dtype=object))
        for column in ("label_lon", "label_lat"):
            units[column] = pd.to_numeric(units[column], errors="coerce") if column in units.columns else np.nan
        self._set(units, pd.DataFrame(_name_rows(units, 0), columns=["pos", "text", "key", "compact"]))

    def _set(self, units: pd.DataFrame, entries: pd.DataFrame) -> None:
        self._units = units
        self._entries = entries.reset_index(drop=True)
        self._keys = self._entries["key"].tolist()
        self._where = {(lvl, uid): pos for pos, (lvl, uid) in enumerate(zip(units["level"], units["unit_id"],
                                                                             strict=True))}

    @classmethod
    def default(cls) -> Gazetteer:
        """Gazetteer of the vendored regions, prefectures and sub-prefectures (built once, shared: read-only)."""
        return _default()

    def __len__(self) -> int:
        return len(self._units)

    def with_places(self, places: pd.DataFrame) -> Gazetteer:
        """A new gazetteer that also holds ``places`` as neighbourhoods; this one is left as it was.

        ``places`` needs :data:`PLACE_COLUMNS`: a unit id (e.g. ``"NB-12"``), the name,
        the sub-prefecture holding it and a representative point; ``alt_names``
        (``|``-separated) are searched too. The prefecture and region come from the
        sub-prefecture, which must be in this gazetteer. Raises ``ValueError`` naming
        the offending ids.
        """
        if not isinstance(places, pd.DataFrame):
            raise TypeError("places must be a DataFrame")
        missing = sorted(set(PLACE_COLUMNS) - set(places.columns))
        if missing:
            raise ValueError(f"places is missing columns {missing}")
        if places.empty:
            return self
        ids = places["unit_id"].astype(object)
        if ids.isna().any() or ids.duplicated().any():
            raise ValueError(f"places' unit_id must be unique and present; repeated: {sorted(ids[ids.duplicated()])}")
        taken = [uid for uid in ids if (NEIGHBOURHOOD, uid) in self._where]
        if taken:
            raise ValueError(f"neighbourhood unit id(s) already in the gazetteer: {taken[:10]}")
        names = places["name"].astype(object).map(lambda v: None if _missing(v) else " ".join(str(v).split()))
        if names.isna().any() or (names == "").any():
            raise ValueError(f"places without a name: {ids[names.isna() | (names == '')].tolist()[:10]}")
        subs = self._units[self._units["level"] == "subprefecture"].set_index("unit_id")
        sub_ids = places["subprefecture_id"].astype(object)
        unknown = sorted({str(s) for s in sub_ids if _missing(s) or s not in subs.index})
        if unknown:
            raise ValueError(f"places in unknown sub-prefecture(s): {unknown[:10]}")
        parent = subs.loc[sub_ids.to_numpy(dtype=object), ["prefecture_id", "region_id"]]
        alt = places["alt_names"] if "alt_names" in places.columns else pd.Series([None] * len(places))
        added = pd.DataFrame({
            "unit_id": ids.to_numpy(dtype=object), "level": NEIGHBOURHOOD, "name": names.to_numpy(dtype=object),
            "name_ascii": [strip_accents(n) for n in names], "source_name": names.to_numpy(dtype=object),
            "aliases": ["" if _missing(a) else str(a) for a in alt],
            "prefecture_id": parent["prefecture_id"].to_numpy(dtype=object),
            "region_id": parent["region_id"].to_numpy(dtype=object),
            "subprefecture_id": sub_ids.to_numpy(dtype=object),
            "label_lon": pd.to_numeric(places["label_lon"], errors="coerce").to_numpy(dtype=float),
            "label_lat": pd.to_numeric(places["label_lat"], errors="coerce").to_numpy(dtype=float),
        })
        units = pd.concat([self._units, added.astype({"level": object})], ignore_index=True)
        entries = pd.concat([self._entries, pd.DataFrame(_name_rows(added, len(self._units)),
                                                         columns=["pos", "text", "key", "compact"])],
                            ignore_index=True)
        out = Gazetteer.__new__(Gazetteer)
        out._set(units, entries)
        return out

    def units(self, level: PlaceLevel | None = None) -> pd.DataFrame:
        """The indexed units (a copy): ids, level, names, parents' ids and representative point."""
        units = self._units if level is None else self._units[self._units["level"] == level]
        return units.reset_index(drop=True).copy()

    def lookup(self, levels: list[str] | np.ndarray | pd.Series, unit_ids: list[str] | np.ndarray | pd.Series
               ) -> pd.DataFrame:
        """Representative point and parents' ids of many ``(level, unit_id)`` pairs, aligned with the input.

        Columns ``label_lon``, ``label_lat``, ``region_id``, ``prefecture_id`` and
        ``subprefecture_id``; ``KeyError`` names the first unknown pair.
        """
        pairs = list(zip(np.asarray(levels, dtype=object).tolist(), np.asarray(unit_ids, dtype=object).tolist(),
                         strict=True))
        try:
            pos = np.array([self._where[p] for p in pairs], dtype=np.int64)
        except KeyError as exc:
            raise KeyError(f"unknown unit {exc.args[0]!r}") from None
        cols = ["label_lon", "label_lat", "region_id", "prefecture_id", "subprefecture_id"]
        return self._units[cols].iloc[pos].reset_index(drop=True)

    def lineage(self, level: str, unit_id: str) -> dict[str, str]:
        """Ids of the unit and of every unit above it, keyed by level (``KeyError`` if unknown)."""
        unit = self.lookup([level], [unit_id]).iloc[0]
        ids = {"region": unit["region_id"], "prefecture": unit["prefecture_id"],
               "subprefecture": unit["subprefecture_id"], level: unit_id}
        depth = PLACE_LEVELS.index(level)
        return {lvl: ids[lvl] for lvl in PLACE_LEVELS[: depth + 1] if not _missing(ids.get(lvl))}

    def search(self, query: str, *, level: PlaceLevel | None = None, within: str | None = None,
               limit: int = 10, min_score: float = 75.0) -> list[Match]:
        """Best units for ``query``, best first.

        Exact matches (after normalisation, with or without spaces) score 100;
        other candidates are scored by RapidFuzz's ``WRatio`` on normalised
        keys. ``within`` keeps only units whose region, prefecture or
        sub-prefecture id it is, which is how an ambiguous "Touba" is resolved by
        its prefecture (and a neighbourhood by its commune). Equal scores list
        broader units first.
        """
        key = normalize(query)
        if not key:
            return []
        entries = self._entries
        scores = pd.Series(0.0, index=entries.index)
        exact = (entries["key"] == key) | (entries["compact"] == key.replace(" ", ""))
        scores[exact] = 100.0
        for _, score, idx in process.extract(key, self._keys, scorer=fuzz.WRatio, limit=max(50, limit * 5)):
            scores.iloc[idx] = max(scores.iloc[idx], min(float(score), 99.0))
        hits = entries.assign(score=scores)
        hits = hits[hits["score"] >= min_score]
        best = hits.sort_values("score", ascending=False).drop_duplicates("pos")
        units = self._units.iloc[best["pos"].to_numpy()].assign(score=best["score"].to_numpy(),
                                                                matched=best["text"].to_numpy())
        if level is not None:
            units = units[units["level"] == level]
        if within is not None:
            units = units[(units["prefecture_id"] == within) | (units["region_id"] == within)
                          | (units["subprefecture_id"] == within) | (units["unit_id"] == within)]
        rank = units["level"].map({lvl: i for i, lvl in enumerate(PLACE_LEVELS)})
        units = units.assign(_rank=rank.astype(int)).sort_values(["score", "_rank"], ascending=[False, True])
        return [
            Match(u.unit_id, u.level, u.name, None if _missing(u.prefecture_id) else u.prefecture_id, u.region_id,
                  round(float(u.score), 1), u.matched, None if _missing(u.subprefecture_id) else u.subprefecture_id)
            for u in units.head(limit).itertuples(index=False)
        ]


@lru_cache(maxsize=1)
def _default() -> Gazetteer:
    return Gazetteer(load_units().drop(columns="geometry"))
