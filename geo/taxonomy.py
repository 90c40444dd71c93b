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

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "config" / "taxonomy.csv"
_COLUMNS = ("code", "group", "label_fr", "label_en", "sensitive")


@dataclass(frozen=True)
class Taxonomy:
    """Categories indexed by code, with their labels and sensitivity."""

    table: pd.DataFrame

    @classmethod
    def from_csv(cls, path: Path) -> Taxonomy:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
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


@lru_cache(maxsize=4)
def _load(path: str) -> Taxonomy:
    return Taxonomy.from_csv(Path(path))


def default_taxonomy() -> Taxonomy:
    """The deployment's taxonomy (``PROXIMITE_TAXONOMY`` or the bundled default)."""
    return _load(os.environ.get("PROXIMITE_TAXONOMY", str(DEFAULT_PATH)))
