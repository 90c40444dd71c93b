from __future__ import annotations

import pytest

from geo.names import compact, normalize, slug, strip_accents


@pytest.mark.parametrize("text", ["N'Zérékoré", "Nzérékoré", "NZEREKORE", "n’zérékoré", "  Nzerekore "])
def test_normalize_meets_on_one_key(text):
    assert normalize(text) == "nzerekore"


def test_normalize_expands_abbreviations_and_punctuation():
    assert normalize("Kankan Ctre") == "kankan centre"
    assert normalize("Kankan-Centre") == "kankan centre"
    assert compact("Kankan Centre") == "kankancentre"
    assert normalize(None) == ""


def test_strip_accents_and_slug():
    assert strip_accents("Guéckédou Télimélé Saréboïdo") == "Gueckedou Telimele Sareboido"
    assert slug("Guéckédou Centre") == "GUECKEDOU-CENTRE"
