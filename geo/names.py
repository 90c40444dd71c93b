"""Name normalisation shared by the gazetteer, the boundary build and imports.

Guinean place names are written with and without accents, with apostrophes
("N'Zérékoré"), hyphens, abbreviations ("Ctre") and in upper case on paper
forms. Every comparison of names goes through :func:`normalize` so that all of
these meet on one key.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = "'’`´ʼ"
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_ABBREVIATIONS = {"ctre": "centre", "cu": "commune urbaine", "spref": "sous prefecture"}


def strip_accents(text: str) -> str:
    """Return ``text`` without diacritics (``"Guéckédou"`` -> ``"Gueckedou"``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str | None) -> str:
    """Matching key: accent-free, case-folded, apostrophes dropped, words single-spaced.

    Apostrophes are removed rather than turned into spaces because users write
    "N'Zérékoré", "Nzérékoré" and "N Zerekore" for the same town.
    """
    if text is None:
        return ""
    out = strip_accents(str(text)).casefold()
    for ch in _APOSTROPHES:
        out = out.replace(ch, "")
    words = _NON_ALNUM.sub(" ", out).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def compact(text: str | None) -> str:
    """Normalised key without spaces, so "Kankan Centre" meets "Kankancentre"."""
    return normalize(text).replace(" ", "")


def slug(text: str) -> str:
    """Upper-case ASCII code fragment for stable ids (``"Kankan Centre"`` -> ``"KANKAN-CENTRE"``)."""
    return normalize(text).upper().replace(" ", "-")
