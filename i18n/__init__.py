"""Translation layer: ``Translator`` gives ``t()`` for text and Babel formatting for numbers and dates.

Message ids are English (the gettext convention); French is the default
language of the interface. Catalogs live in ``i18n/locales/<lang>/LC_MESSAGES``;
setup compiles them to ``.mo``. If a ``.mo`` is missing or older than its
``.po`` (a fresh clone, an edited catalog), the ``.po`` is compiled in memory
so the app never shows raw ids because a build step was skipped.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

DOMAIN = "proximite"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES: dict[str, str] = {"fr": "Français", "en": "English"}
DEFAULT_LANGUAGE = "fr"


@cache
def _catalog(lang: str) -> gettext.GNUTranslations:
    po = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@dataclass(frozen=True)
class Translator:
    """Everything language-dependent for one user: text, numbers, dates.

    Views create one per run from the session's language and pass it down to
    layers as ``t``; nothing below the views knows which language is active.
    """

    lang: str = DEFAULT_LANGUAGE
    _catalog: gettext.GNUTranslations = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ValueError(f"unsupported language {self.lang!r}; choose one of {sorted(LANGUAGES)}")
        object.__setattr__(self, "_catalog", _catalog(self.lang))

    def __call__(self, message: str, **values: object) -> str:
        """Translated ``message``, with ``{name}`` placeholders filled from ``values``."""
        text = self._catalog.gettext(message)
        return text.format(**values) if values else text

    def n(self, value: float | int | None, digits: int = 0) -> str:
        """Number in the language's convention (``12 345,6`` in French, ``12,345.6`` in English)."""
        if value is None:
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=fmt, locale=self.lang)

    def pct(self, value: float | None, digits: int = 0) -> str:
        """Share (0..1) as a percentage in the language's convention."""
        if value is None:
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "") + " %"
        return format_percent(value, format=fmt, locale=self.lang)

    def d(self, value: date | datetime | None, style: str = "medium") -> str:
        """Date in the language's convention (``24 nov. 2026`` / ``Nov 24, 2026``)."""
        if value is None:
            return "–"
        if isinstance(value, datetime):
            return format_datetime(value, format=style, locale=self.lang)
        return format_date(value, format=style, locale=self.lang)

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)


def t_for(lang: str) -> Translator:
    """Cached translator for ``lang`` (translators are immutable, so sharing is safe)."""
    return _translator(lang)


@cache
def _translator(lang: str) -> Translator:
    return Translator(lang)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (labels kept in constants)."""
    return message
