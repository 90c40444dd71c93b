"""Search by name: accents, case, apostrophes, typos, ambiguity."""

from __future__ import annotations

import pytest

from geo.gazetteer import Gazetteer


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.default()


@pytest.mark.parametrize(
    ("query", "unit_id"),
    [
        ("nzerekore", "GN-NZ"),
        ("N'Zérékoré", "GN-NZ"),
        ("NZEREKORE", "GN-NZ"),
        ("Gueckedou", "GN-GU"),
        ("Guéckédou", "GN-GU"),
        ("guekedou", "GN-GU"),
        ("Telimele", "GN-TE"),
        ("Labé", "GN-LA"),
        ("Kaloum", "GN-C-KALOUM"),
        ("kankan centre", "GN-KA-KANKAN-CENTRE"),
        ("Kankan Ctre", "GN-KA-KANKAN-CENTRE"),
        ("Manéah", "GN-CO-MANEAH"),
    ],
)
def test_finds_units_whatever_the_spelling(gaz, query, unit_id):
    hits = gaz.search(query)
    assert hits, query
    top_ids = [h.unit_id for h in hits if h.score == hits[0].score]
    assert unit_id in top_ids


@pytest.mark.parametrize(("typo", "unit_id"), [("Nzerekor", "GN-NZ"), ("Matotto", "GN-C-MATOTO"),
                                               ("Siguri", "GN-SI"), ("Kindja", "GN-KD")])
def test_forgives_typos_with_a_lower_score(gaz, typo, unit_id):
    hits = gaz.search(typo)
    assert hits
    assert unit_id in [h.unit_id for h in hits if h.score == hits[0].score]
    assert 75 <= hits[0].score < 100


def test_ambiguous_names_are_all_returned_and_narrowed_by_parent(gaz):
    touba = [h for h in gaz.search("Touba") if h.score == 100]
    assert {h.prefecture_id for h in touba} == {"GN-GA", "GN-ML"}
    assert [h.unit_id for h in gaz.search("Touba", within="GN-GA") if h.score == 100] == ["GN-GA-TOUBA"]
    assert [h.unit_id for h in gaz.search("Missira", within="GN-L") if h.score == 100] == ["GN-KB-MISSIRA"]


def test_level_filter_and_nonsense(gaz):
    assert {h.level for h in gaz.search("Kankan", level="region")} == {"region"}
    assert gaz.search("xqzwv") == []
    assert gaz.search("   ") == []
