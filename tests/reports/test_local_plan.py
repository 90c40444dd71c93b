"""The printed local security plan: a valid A4 PDF whose text and map images say what the plan holds."""

from __future__ import annotations

import datetime as dt
import io
import re

import pandas as pd
import pypdf
import pytest

import geopandas as gpd
import shapely

from geo.boundaries import load_units
from i18n import Translator
from reports.local_plan import plan_pdf

from .conftest import XSS

A4_PT = (595.28, 841.89)


@pytest.fixture(scope="module")
def matam() -> shapely.Geometry:
    units = load_units("subprefecture")
    return units.loc[units["unit_id"] == "GN-C-MATAM"].geometry.iloc[0]


def _diagnosis(demo: bool = False) -> dict:
    return {
        "unit": {"unit_level": "subprefecture", "unit_id": "GN-C-MATAM", "unit_name": "Matam"},
        "scope_note": None, "start": "2025-11-01", "end": "2026-10-31",
        "periods": [["2025-11-01", "2026-01-31"], ["2026-02-01", "2026-04-30"], ["2026-05-01", "2026-07-31"],
                    ["2026-08-01", "2026-10-31"]],
        "population": 23778.0, "census_result": "preliminary", "population_rule": "area",
        "incidents": {"total": 1234, "per_10000": 518.97, "sensitive": 0, "suppressed": True, "threshold": 5,
                      "by_category": [{"category": "vol", "label": "Vol simple", "counts": [101, 202, 303, 404],
                                       "total": 1010, "change": 101, "trend": "rising"},
                                      {"category": "agression", "label": "Coups et blessures",
                                       "counts": [50, 60, 57, 57], "total": 224, "change": 0, "trend": "stable"}]},
        "hotspots": {"resolution": 9, "cells": 73, "hot": 4,
                     "top": [{"rank": 1, "cell": "8954ea58da3ffff", "count": 20, "gi_z": 4.25, "gi_bin": 3,
                              "lon": -13.6626, "lat": 9.5432, "place": "Matam (Conakry)"}]},
        "crashes": {"total": 6, "fatal": 2, "serious": 1, "slight": 3, "killed": 2, "injured": 7,
                    "blackspots": [{"rank": 1, "place": "Matam, Conakry", "crashes": 6, "fatal": 2, "epdo": 28.0,
                                    "trend": "no trend"}]},
        "programme": {"councils": 1, "meetings": 2, "schools_visited": 3, "students_reached": 649, "women_days": 0,
                      "women": 0, "officers_trained": 0},
        "demo": demo,
    }


def _plan(status: str = "adopted") -> dict:
    return {"id": 1, "title": f"Plan local de sécurité de Matam 2027–2029 {XSS}", "unit_level": "subprefecture",
            "unit_id": "GN-C-MATAM", "unit_name": "Matam", "subprefecture_id": "GN-C-MATAM", "prefecture_id": "GN-C",
            "period_start": dt.date(2027, 1, 1), "period_end": dt.date(2029, 12, 31), "status": status,
            "version_no": 2, "adopted_on": dt.date(2026, 12, 15) if status != "draft" else None,
            "notes": {"perceived_insecurity": f"Peur du marché la nuit {XSS}", "consultations": "",
                      "existing_responses": "Patrouilles du commissariat"}}


def _priorities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "id": [11, 12, 13], "rank": [1, 2, 3], "title": [f"Marché {XSS}", "Route Le Prince", "Carrefour"],
        "category": ["vol", "road_safety", None], "raised_by": ["women", "youth", None],
        "kind": ["area", "line", "point"], "description": ["Vols à l'arraché", None, None]},
        geometry=[shapely.box(-13.664, 9.542, -13.662, 9.544),
                  shapely.LineString([(-13.660, 9.545), (-13.652, 9.548)]), shapely.Point(-13.657, 9.546)],
        crs="EPSG:4326")


def _actions() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [21, 22], "priority_id": pd.array([11, None], dtype="Int64"),
        "title": ["Patrouilles conjointes les jours de marché", "Éclairage de la route"],
        "responsible": ["Commissariat de Matam", "Mairie de Matam"], "partners": ["Comité de quartier", None],
        "start_on": [dt.date(2027, 1, 1), dt.date(2028, 3, 1)], "end_on": [dt.date(2028, 6, 30), dt.date(2028, 12, 31)],
        "budget_gnf": [15_000_000.0, 40_000_000.0], "funding_source": ["Commune", None],
        "indicator": ["Vols signalés par mois", None], "baseline": [20.0, None], "target": [10.0, None],
        "status": ["planned", "planned"]})


def _pdf(matam, lang: str = "fr", status: str = "adopted", demo: bool = False) -> bytes:
    signers = [{"name": "Mariama Camara", "role": "Maire"}] if status != "draft" else []
    return plan_pdf(_plan(status), diagnosis=_diagnosis(demo), priorities=_priorities(), actions=_actions(),
                    shape=matam, t=Translator(lang), generated_at=dt.datetime(2026, 12, 16, 9, 30, tzinfo=dt.UTC),
                    signatories=signers)


def _text(data: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


def test_the_plan_prints_in_french_with_its_maps_and_tables(matam):
    data = _pdf(matam)
    assert data.startswith(b"%PDF-")
    reader, text = _text(data)
    assert 3 <= len(reader.pages) <= 8
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4_PT, abs=0.5)
    for expected in ("Plan local de sécurité", "Matam", "1. Diagnostic local de sécurité", "2. Priorités",
                     "3. Plan d'action", "4. Adoption et signatures", "5. Sources des données",
                     "Adopté par le Conseil local de sécurité et de prévention de la délinquance",
                     "Mariama Camara", "Vol simple", "en hausse", "Patrouilles conjointes", "Commissariat de Matam",
                     "Année 2027", "Année 2028", "Année 2029", "Budget par année (GNF)", "geoBoundaries",
                     "RGPH 2014", "Groupement de femmes", "Sécurité routière", "Peur du marché la nuit",
                     "(à compléter par le conseil)", "inférieurs à 5"):
        assert expected in text, expected
    assert XSS in text  # user text printed as typed, never interpreted
    assert "15 000 000" in text.replace("\u202f", " ").replace("\xa0", " ")
    images = [img for page in reader.pages for img in page.images]
    assert len(images) >= 2  # the diagnosis map and the priorities map
    assert all(img.image.width >= 600 for img in images)


def test_the_plan_prints_in_english(matam):
    _, text = _text(_pdf(matam, "en"))
    for expected in ("Local security plan", "1. Local security diagnosis", "2. Priorities", "3. Action plan",
                     "Adopted by the Local Security and Crime Prevention Council", "rising", "Year 2028"):
        assert expected in text, expected
    assert "Diagnostic" not in text


def test_a_draft_says_so_and_leaves_lines_to_sign(matam):
    _, text = _text(_pdf(matam, status="draft", demo=True))
    assert "Projet : ce plan n'a pas encore été adopté." in text
    assert "Maire, président du conseil" in text and "Représentante des femmes" in text
    assert "DONNÉES DE DÉMONSTRATION" in text
    assert "Adopté par" not in text


@pytest.mark.parametrize(("scope", "expected"), [
    ("neighbourhood", "localisés par GPS dans le quartier"),
    ("subprefecture", "sont ceux de la commune / sous-préfecture du quartier"),
])
def test_a_neighbourhood_plan_says_what_its_figures_cover(matam, scope, expected):
    diagnosis = _diagnosis() | {"scope_note": scope, "population": None}
    data = plan_pdf(_plan("draft"), diagnosis=diagnosis, priorities=_priorities(), actions=_actions(), shape=matam,
                    t=Translator("fr"), generated_at=dt.datetime(2026, 12, 16, 9, 30, tzinfo=dt.UTC), signatories=[])
    _, text = _text(data)
    assert expected in text
    assert ("localisés par GPS" in text) == (scope == "neighbourhood")
