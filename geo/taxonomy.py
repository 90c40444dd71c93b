"""Incident categories: the vocabulary every import, filter and analysis groups by.

The default list for Guinea lives in ``data/config/taxonomy.csv`` (code,
group, French and English labels, sensitive flag). Gender-based violence and
child abuse are *sensitive*: their exact locations are shown only to roles
allowed to see them. A deployment can point ``PROXIMITE_TAXONOMY`` at its own
file with the same columns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz, process

from geo.names import normalize

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "config" / "taxonomy.csv"
_COLUMNS = ("code", "group", "label_fr", "label_en", "sensitive")
#: Fuzzy matches of category text below this score are not trusted (sent to review).
FUZZY_MIN_SCORE = 88.0


@dataclass(frozen=True)
class Taxonomy:
    """Categories indexed by code, with their labels and sensitivity."""

    table: pd.DataFrame

    @classmethod
    def from_csv(cls, path: Path) -> Taxonomy:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "synonyms" not in table.columns:
            table["synonyms"] = ""
        missing = [c for c in _COLUMNS if c not in table.columns]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}")
        bad = table.loc[~table["sensitive"].str.lower().isin(["true", "false"]), "code"].tolist()
        if bad:
            raise ValueError(f"{path}: 'sensitive' must be true or false (categories {bad})")
        if table["code"].duplicated().any():
            raise ValueError(f"{path}: duplicate codes {table.loc[table['code'].duplicated(), 'code'].tolist()}")
        table = table.assign(sensitive=table["sensitive"].str.lower() == "true").set_index("code", drop=False)
        return cls(table)

    @property
    def codes(self) -> list[str]:
        return self.table["code"].tolist()

    @property
    def sensitive_codes(self) -> list[str]:
        return self.table.loc[self.table["sensitive"], "code"].tolist()

    def label(self, code: str, lang: str) -> str:
        """Category label in ``lang`` (fr or en); unknown codes are shown as they are."""
        if code not in self.table.index:
            return code
        return str(self.table.at[code, "label_en" if lang == "en" else "label_fr"])

    def is_sensitive(self, code: str) -> bool:
        return bool(code in self.table.index and self.table.at[code, "sensitive"])

    def _keys(self) -> dict[str, str]:
        """Normalised spelling -> code, from codes, both labels and the synonyms column."""
        keys: dict[str, str] = {}
        for row in self.table.itertuples(index=False):
            spellings = [row.code, row.label_fr, row.label_en, *str(getattr(row, "synonyms", "")).split("|")]
            for text in spellings:
                if text and normalize(text):
                    keys.setdefault(normalize(text), row.code)
        return keys

    def match(self, values: pd.Series) -> pd.DataFrame:
        """Category codes for free-text values: exact spelling first, then a confident fuzzy match.

        Works on the distinct values only (files repeat a handful of categories),
        so a million rows cost a few dozen lookups. Returns ``code`` (None when
        not matched), ``error`` (``category_missing`` / ``category_unknown``)
        and ``score`` aligned with ``values``.
        """
        keys = self._keys()
        choices = list(keys)
        text = values.astype(object).where(values.notna(), None)
        resolved: dict[object, tuple[str | None, str | None, float]] = {}
        for value in pd.unique(text):
            key = normalize(value) if value is not None else ""
            if not key:
                resolved[value] = (None, "category_missing", 0.0)
            elif key in keys:
                resolved[value] = (keys[key], None, 100.0)
            else:
                best = process.extractOne(key, choices, scorer=fuzz.WRatio)
                if best and best[1] >= FUZZY_MIN_SCORE:
                    resolved[value] = (keys[best[0]], None, float(best[1]))
                else:
                    resolved[value] = (None, "category_unknown", float(best[1]) if best else 0.0)
        out = [resolved[v] for v in text]
        return pd.DataFrame(out, columns=["code", "error", "score"], index=values.index)


@lru_cache(maxsize=4)
def _load(path: str) -> Taxonomy:
    return Taxonomy.from_csv(Path(path))


def default_taxonomy() -> Taxonomy:
    """The deployment's taxonomy (``PROXIMITE_TAXONOMY`` or the bundled default)."""
    return _load(os.environ.get("PROXIMITE_TAXONOMY", str(DEFAULT_PATH)))
