"""Maintain the gettext catalogs with Babel: extract, update, check completeness, compile.

``python -m i18n.catalogs update`` after adding strings, ``check`` in tests
(every message must be translated in every language), ``compile`` at setup.
Strings are found where code calls ``t("...")`` and where it marks them with
``N_("...")`` for later translation (labels kept in constants).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from i18n import DOMAIN, LANGUAGES, LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("app.py", "geo", "layers", "views", "cli", "demo", "storage", "exchange", "reports", "i18n")
KEYWORDS = {"t": (1,), "N_": (1,)}


def extract() -> Catalog:
    """Template catalog of every message the code uses."""
    template = Catalog(domain=DOMAIN, project="Proximité")
    for source in SOURCE_DIRS:
        path = ROOT / source
        if path.is_file():
            from babel.messages.extract import extract_from_file

            found = ((path.name, *m) for m in extract_from_file("python", path, keywords=KEYWORDS))
        elif path.is_dir():
            found = extract_from_dir(path, method_map=[("**.py", "python")], keywords=KEYWORDS)
        else:
            continue
        for filename, lineno, message, _comments, _context in found:
            template.add(message, locations=[(f"{source}/{filename}" if path.is_dir() else filename, lineno)])
    return template


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(lang: str) -> Catalog:
    with po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def write(catalog: Catalog, lang: str) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True, include_lineno=False,
                 ignore_obsolete=True)


def update() -> None:
    """Merge newly extracted messages into each language's catalog (new ones untranslated)."""
    template = extract()
    for lang in LANGUAGES:
        catalog = read(lang) if po_path(lang).exists() else Catalog(locale=lang, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        write(catalog, lang)


def missing(lang: str) -> list[str]:
    """Messages used by the code that ``lang`` does not translate (empty or fuzzy)."""
    catalog = read(lang)
    out = []
    for message in extract():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        if entry is None or not entry.string or entry.fuzzy:
            out.append(message.id)
    return sorted(out)


def compile_all() -> list[Path]:
    """Write the ``.mo`` files the app loads."""
    written = []
    for lang in LANGUAGES:
        catalog = read(lang)
        mo = po_path(lang).with_suffix(".mo")
        with mo.open("wb") as fh:
            write_mo(fh, catalog)
        written.append(mo)
    return written


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        print(f"compiled {len(compile_all())} catalogs")
    elif command == "check":
        bad = {lang: missing(lang) for lang in LANGUAGES}
        for lang, ids in bad.items():
            for message in ids:
                print(f"{lang}: untranslated: {message!r}")
        return 1 if any(bad.values()) else 0
    else:
        print("usage: python -m i18n.catalogs [update|check|compile]")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
