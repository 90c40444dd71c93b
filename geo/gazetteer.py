"""Find administrative units by name, forgiving accents, case, apostrophes and typos.

Used by the map search box today and by the place-name geocoder of imports
later. Names repeat across prefectures ("Touba", "Missira"), so results are
units (level + id) with a score, never a bare name, and callers narrow
ambiguous names with the parent they know.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz, process

from geo.boundaries import LEVELS, Level, load_units
from geo.names import compact, normalize


@dataclass(frozen=True)
class Match:
    """One candidate unit for a searched name; ``score`` runs from 0 to 100."""

    unit_id: str
    level: Level
    name: str
    prefecture_id: str | None
    region_id: str
    score: float
    matched: str


class Gazetteer:
    """Name index over units: every official name, accent-free form, source spelling and alias."""

    def __init__(self, units: pd.DataFrame) -> None:
        required = {"unit_id", "level", "name", "name_ascii", "source_name", "aliases", "prefecture_id", "region_id"}
        missing = required - set(units.columns)
        if missing:
            raise ValueError(f"units is missing columns {sorted(missing)}")
        rows = []
        for pos, unit in enumerate(units.itertuples(index=False)):
            names = {unit.name, unit.name_ascii, unit.source_name}
            names.update(a for a in str(unit.aliases or "").split("|") if a)
            if unit.level == "subprefecture" and unit.name.endswith(" Centre"):
                names.add(unit.name[: -len(" Centre")])
            for text in names:
                rows.append((pos, text, normalize(text), compact(text)))
        self._units = units.reset_index(drop=True)
        self._entries = pd.DataFrame(rows, columns=["pos", "text", "key", "compact"])
        self._keys = self._entries["key"].tolist()

    @classmethod
    def default(cls) -> Gazetteer:
        """Gazetteer of the vendored regions, prefectures and sub-prefectures."""
        return cls(load_units().drop(columns="geometry"))

    def search(self, query: str, *, level: Level | None = None, within: str | None = None,
               limit: int = 10, min_score: float = 75.0) -> list[Match]:
        """Best units for ``query``, best first.

        Exact matches (after normalisation, with or without spaces) score 100;
        other candidates are scored by RapidFuzz's ``WRatio`` on normalised
        keys. ``within`` keeps only units whose region or prefecture id it is,
        which is how an ambiguous "Touba" is resolved by its prefecture.
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
                          | (units["unit_id"] == within)]
        rank = units["level"].map({lvl: i for i, lvl in enumerate(LEVELS)})
        units = units.assign(_rank=rank.astype(int)).sort_values(["score", "_rank"], ascending=[False, True])
        return [
            Match(u.unit_id, u.level, u.name, None if pd.isna(u.prefecture_id) else u.prefecture_id, u.region_id,
                  round(float(u.score), 1), u.matched)
            for u in units.head(limit).itertuples(index=False)
        ]
