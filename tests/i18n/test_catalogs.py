"""Every message is translated in every language; numbers and dates follow the language."""

from __future__ import annotations

from datetime import date

import pytest

from i18n import LANGUAGES, Translator, catalogs


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_no_message_lacks_a_translation(lang):
    assert catalogs.missing(lang) == []


def test_extraction_finds_the_code_messages():
    ids = {m.id for m in catalogs.extract() if m.id}
    assert {"Map", "Administrative boundaries", "Region", "Find a place"} <= ids


def test_french_is_translated_and_english_reads_english():
    fr, en = Translator("fr"), Translator("en")
    assert fr("Map") == "Carte" and en("Map") == "Map"
    assert fr("No unit matches “{query}”.", query="x") != en("No unit matches “{query}”.", query="x")


def test_numbers_dates_and_percentages_follow_the_language():
    fr, en = Translator("fr"), Translator("en")
    assert fr.n(19740) == "19\u202f740" and en.n(19740) == "19,740"
    assert fr.n(1234.5, 1) == "1\u202f234,5" and en.n(1234.5, 1) == "1,234.5"
    assert fr.d(date(2014, 3, 1), "long") == "1 mars 2014" and en.d(date(2014, 3, 1), "long") == "March 1, 2014"
    assert fr.pct(0.125, 1).startswith("12,5") and en.pct(0.125, 1).startswith("12.5")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="de"):
        Translator("de")


def test_no_translation_call_hides_inside_an_f_string():
    """Babel cannot extract t("...") written inside an f-string: such text would never be translated."""
    import re

    from i18n.catalogs import ROOT, SOURCE_DIRS

    pattern = re.compile(r"""\bf(["']).*\{[^}]*\bt\(\s*["']""")
    offenders = []
    for source in SOURCE_DIRS:
        path = ROOT / source
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for number, line in enumerate(file.read_text().splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{file.relative_to(ROOT)}:{number}")
    assert offenders == []
