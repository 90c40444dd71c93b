"""The import pipeline gives the exact expected outcome for every row of the nasty-file corpus."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from exchange.columns import detect_mapping
from exchange.incidents import FLAGS, REASONS, plan_incidents
from exchange.readers import ReadError, read_table

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected_rows.json").read_text())
TODAY = date.fromisoformat(EXPECTED["today"])


def _outcomes(name: str) -> dict[str, dict]:
    raw = read_table(CORPUS / name)
    plan = plan_incidents(raw, detect_mapping(list(raw.frame.columns), raw.frame.head(50)), today=TODAY)
    got = {}
    for row in plan.records.itertuples(index=False):
        flags = sorted(row.flags.split(",")) if isinstance(row.flags, str) else []
        got[str(row.source_row)] = {"status": "imported", "reasons": [], "flags": flags}
    for row in plan.review.itertuples(index=False):
        got[str(row.source_row)] = {"status": "queued", "reasons": sorted(row.reasons), "flags": []}
    assert plan.n_rows == len(raw.frame) == len(plan.records) + len(plan.review), "a row was lost"
    return got


READABLE = sorted(n for n, spec in EXPECTED["files"].items() if "read_error" not in spec)
UNREADABLE = sorted((n, spec["read_error"]) for n, spec in EXPECTED["files"].items() if "read_error" in spec)


@pytest.mark.parametrize("name", READABLE)
def test_every_row_has_its_expected_outcome(name):
    expected = {row: {"status": e["status"], "reasons": sorted(e.get("reasons", [])),
                      "flags": sorted(e.get("flags", [])) if e["status"] == "imported" else []}
                for row, e in EXPECTED["files"][name]["rows"].items()}
    assert _outcomes(name) == expected


def test_codes_are_documented():
    for spec in EXPECTED["files"].values():
        for e in spec["rows"].values():
            assert set(e.get("reasons", [])) <= set(REASONS)
            assert set(e.get("flags", [])) <= set(FLAGS)


def test_ucdp_violence_types_map_to_the_taxonomy():
    """UCDP codes 1/2 (state-based, non-state) are armed clashes, 3 (one-sided) violence against civilians."""
    raw = read_table(CORPUS / "ucdp_ged.csv")
    plan = plan_incidents(raw, detect_mapping(list(raw.frame.columns), raw.frame.head(50)), today=TODAY)
    got = dict(zip(plan.records["source_id"].astype(str), plan.records["category"], strict=True))
    assert got == {"990001": "agression", "990002": "conflit_communautaire",
                   "990003": "agression", "990004": "conflit_communautaire"}


def test_ucdp_code_outside_the_three_types_goes_to_review():
    raw = read_table(CORPUS / "ucdp_ged.csv")
    raw.frame.loc[raw.frame.index[0], "type_of_violence"] = "7"
    plan = plan_incidents(raw, detect_mapping(list(raw.frame.columns), raw.frame.head(50)), today=TODAY)
    assert [sorted(r) for r in plan.review["reasons"]] == [["category_unknown"]]
    assert len(plan.records) == 3


def test_html_in_text_is_kept_verbatim_for_escaping_at_display():
    raw = read_table(CORPUS / "registre_matam_cp1252.csv")
    plan = plan_incidents(raw, detect_mapping(list(raw.frame.columns)), today=TODAY)
    texts = " ".join(plan.records["description"].dropna()) + json.dumps(list(plan.review["data"]))
    assert "<img src=x onerror=alert(1)>" in texts


def test_swapped_and_dms_rows_land_at_the_right_place():
    raw = read_table(CORPUS / "export_utf8_bom.csv")
    plan = plan_incidents(raw, detect_mapping(list(raw.frame.columns)), today=TODAY)
    swapped = plan.records[plan.records["flags"].fillna("").str.contains("swapped_coordinates")].iloc[0]
    assert swapped["lat"] == pytest.approx(9.5149) and swapped["lon"] == pytest.approx(-13.7105)
    assert swapped["subprefecture_id"] == "GN-C-KALOUM"
    dms = plan.records[plan.records["flags"].fillna("").str.contains("dms_coordinates")].iloc[0]
    assert 9.4 < dms["lat"] < 9.7 and -13.8 < dms["lon"] < -13.6


def test_rows_placed_by_name_carry_their_precision():
    raw = read_table(CORPUS / "lieux_sans_gps.csv")
    plan = plan_incidents(raw, detect_mapping(list(raw.frame.columns)), today=TODAY)
    by_place = plan.records.set_index("place_name")
    assert by_place.loc["NZEREKORE", "subprefecture_id"] == "GN-NZ-NZEREKORE-CENTRE"
    assert by_place.loc["NZEREKORE", "precision"] == "subprefecture"
    assert (plan.records["precision"] != "point").all()
    touba = plan.records[plan.records["place_name"] == "Touba"]
    assert touba["subprefecture_id"].tolist() == ["GN-GA-TOUBA"]


@pytest.mark.parametrize(("name", "code"), UNREADABLE)
def test_unreadable_files_fail_with_their_code(name, code):
    with pytest.raises(ReadError) as info:
        read_table(CORPUS / name)
    assert info.value.code == code
