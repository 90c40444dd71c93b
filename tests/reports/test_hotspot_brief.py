"""The one-page hotspot brief: one A4 page whatever the content, in the reader's language, literal names."""

from __future__ import annotations

import io
import re
from itertools import combinations

import numpy as np
import pandas as pd
import pypdf
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from i18n import Translator
from reports.hotspot_brief import PRINT_BIN_COLORS, hotspot_brief
from reports.mapimage import pixel_size

from .conftest import XSS

PARAMETERS_FR = [
    ("Période", "1 janv. 2026 – 31 oct. 2026 (comparée aux 10 mois précédents)"),
    ("Catégories", "Vols avec violence, cambriolages, agressions, violences basées sur le genre"),
    ("Unités", "Conakry : Kaloum, Dixinn, Matam, Ratoma, Matoto"),
    ("Hexagones", "H3 résolution 8 (0,74 km² chacun)"),
    ("Voisinage", "1 anneau (l'hexagone et ses 6 voisins)"),
    ("Correction des tests multiples", "Oui (Benjamini-Hochberg, FDR 5 %)"),
]
CAVEATS_FR = [
    "Précision du géocodage : 312 incidents (12 %) placés seulement par le nom de leur commune sont exclus de "
    "l'analyse, car leur position est le centre de l'unité et non le lieu réel.",
    "Confidentialité : pour les catégories sensibles, les comptes inférieurs à 5 sont masqués et les points "
    "individuels ne sont jamais montrés ; les totaux peuvent donc différer légèrement des registres.",
    "Un point chaud statistique signale une concentration de signalements plus forte qu'attendu par hasard ; ce "
    "n'est ni une mesure de la criminalité réelle ni la preuve d'un problème propre au quartier, car le taux de "
    "signalement varie selon la présence policière, l'accès au téléphone et la confiance de la population.",
    "Les données de l'année 2026 sont provisoires : des signalements tardifs peuvent encore être saisis.",
]


def _flat(text: str) -> str:
    """Extracted text with line breaks and runs of ordinary spaces as one space (no-break spaces are kept)."""
    return re.sub(r"[ \n]+", " ", text)


def _brief(cells, top, lang: str, generated_at, *, demo: bool, parameters=None, caveats=None, **kwargs) -> bytes:
    return hotspot_brief(cells=cells, top=top, parameters=PARAMETERS_FR if parameters is None else parameters,
                         caveats=CAVEATS_FR if caveats is None else caveats, t=Translator(lang),
                         generated_at=generated_at, demo=demo, **kwargs)


@pytest.fixture(scope="module")
def brief_fr(conakry_cells, top10, generated_at) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(_brief(conakry_cells, top10, "fr", generated_at, demo=True)))


@pytest.fixture(scope="module")
def brief_en(conakry_cells, top10, generated_at) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(_brief(conakry_cells, top10, "en", generated_at, demo=False)))


def test_one_a4_page_with_ten_rows_and_long_caveats(brief_fr, brief_en):
    for reader in (brief_fr, brief_en):
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert float(box.width) == pytest.approx(595, abs=1) and float(box.height) == pytest.approx(842, abs=1)


def test_french_text_holds_title_date_numbers_parameters_and_caveats(brief_fr):
    text = _flat(brief_fr.pages[0].extract_text())
    assert "Note de synthèse – points chauds" in text
    assert "3 novembre 2026" in text
    assert "Nzérékoré" in text and XSS in text and "</script>" in text
    # rank 1: 1 234 incidents (narrow no-break space), 1 000 before, +234, z 9,88, hot at 99 %
    assert "1 Kaloum (Conakry) " in text
    assert "1\u202f234 1\u202f000 +234 9,88 chaud 99 %" in text
    assert "27 30 -3 9,12" in text  # a fall keeps its minus sign
    assert "25 25 0 8,37" in text  # no change is 0, unsigned
    assert "19 – – 7,62" in text  # no previous count: dashes, not NaN
    for label, value in PARAMETERS_FR:
        assert label in text and value in text
    for caveat in CAVEATS_FR:
        assert caveat in text
    for header in ("Rang", "Lieu", "Hexagone (H3)", "Incidents", "Évolution", "Confiance", "Paramètres",
                   "Limites des données"):
        assert header in text
    assert "geoBoundaries" in text and "Page 1 / 1" in text


def test_rows_follow_the_ranks(brief_fr, top10):
    text = _flat(brief_fr.pages[0].extract_text())
    positions = [text.index(f" {cell} ") for cell in top10["cell"]]
    assert positions == sorted(positions)
    assert text.count("chaud 99 %") == int((top10["gi_bin"] == 3).sum())
    assert text.count("chaud 95 %") == int((top10["gi_bin"] == 2).sum())


def test_english_and_french_differ_in_the_title_and_numbers(brief_fr, brief_en):
    en = _flat(brief_en.pages[0].extract_text())
    fr = _flat(brief_fr.pages[0].extract_text())
    assert en.startswith("Hotspot brief") and "Hotspot brief" not in fr
    assert "1,234 1,000 +234 9.88 hot 99 %" in en
    assert "November 3, 2026" in en and "Previous period" in en


def test_demo_is_marked_in_the_title_area_only_when_demo(brief_fr, brief_en):
    fr = _flat(brief_fr.pages[0].extract_text())
    en = _flat(brief_en.pages[0].extract_text())
    title_area = fr[: fr.index("Principaux points chauds")]
    assert "Données de démonstration" in title_area
    assert "demo" not in en.lower() and "démonstration" not in en.lower()


def _map(reader: pypdf.PdfReader) -> tuple[Image.Image, float, float]:
    page = reader.pages[0]
    images = page.images
    assert len(images) >= 1
    content = page.get_contents().get_data().decode("latin-1")
    w_pt, h_pt = (float(v) for v in re.search(r"q ([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm /I\w+ Do Q", content).groups())
    return images[0].image, w_pt, h_pt


def test_the_map_is_a_png_of_the_size_it_is_printed_at(brief_fr):
    image, w_pt, h_pt = _map(brief_fr)
    w_mm, h_mm = w_pt / 72 * 25.4, h_pt / 72 * 25.4
    assert w_mm == pytest.approx(180, abs=0.1) and 60 <= h_mm <= 125
    assert image.size == pixel_size((w_mm, h_mm), 150)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    assert Image.open(io.BytesIO(buf.getvalue())).format == "PNG"
    rgb = np.asarray(image.convert("RGB")).astype(int)
    for colour in (PRINT_BIN_COLORS[3], PRINT_BIN_COLORS[2], PRINT_BIN_COLORS[-2]):
        target = np.array(to_rgb(colour)) * 255
        assert (np.abs(rgb - target) < 12).all(axis=2).sum() > 30, colour


def test_the_demo_watermark_greys_the_map(conakry_cells, top10, generated_at, brief_en):
    demo = pypdf.PdfReader(io.BytesIO(_brief(conakry_cells, top10, "en", generated_at, demo=True)))
    assert "Demo data" in demo.pages[0].extract_text()

    def grey_share(reader) -> float:
        rgb = np.asarray(_map(reader)[0].convert("RGB")).astype(int)
        grey = (np.ptp(rgb, axis=2) < 6) & (rgb.mean(axis=2) > 150) & (rgb.mean(axis=2) < 240)
        return float(grey.mean())

    assert grey_share(demo) > grey_share(brief_en) + 0.02


def test_long_lists_still_fit_one_page_and_only_ten_ranks_print(conakry_cells, top10, generated_at):
    more = pd.concat([top10, top10.assign(rank=top10["rank"] + 10, unit="Rang onze et plus")], ignore_index=True)
    caveats = CAVEATS_FR + [f"Réserve supplémentaire numéro {i} : " + "mot " * 30 for i in range(3)]
    pdf = _brief(conakry_cells, more.sample(frac=1, random_state=3), "fr", generated_at, demo=False,
                 caveats=caveats, parameters=PARAMETERS_FR * 2)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = _flat(reader.pages[0].extract_text())
    assert "Rang onze et plus" not in text and "Réserve supplémentaire numéro 2" in text


def test_no_hot_spot_and_explicit_bounds(conakry_cells, top10, generated_at):
    quiet = conakry_cells.assign(gi_bin=0)
    pdf = _brief(quiet, top10.iloc[0:0], "en", generated_at, demo=False, caveats=[],
                 area_bounds=(-13.8, 9.45, -13.5, 9.75))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = _flat(reader.pages[0].extract_text())
    assert "No cell is a significant hot spot for these parameters." in text and "Rank" not in text


def test_bad_input_is_refused(conakry_cells, top10, generated_at):
    with pytest.raises(ValueError, match="gi_bin"):
        _brief(conakry_cells.assign(gi_bin=5), top10, "en", generated_at, demo=False)
    with pytest.raises(ValueError, match=r"top lacks columns \['gi_z'\]"):
        _brief(conakry_cells, top10.drop(columns="gi_z"), "en", generated_at, demo=False)
    with pytest.raises(ValueError, match="area_bounds"):
        _brief(conakry_cells.iloc[0:0], top10, "en", generated_at, demo=False)
    with pytest.raises(TypeError, match="GeoDataFrame"):
        _brief(pd.DataFrame(conakry_cells.drop(columns="geometry")), top10, "en", generated_at, demo=False)


def _lightness(colour: str) -> float:
    """CIE L* of an sRGB colour: what a greyscale printer keeps of it."""
    rgb = np.array(to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = float(linear @ [0.2126, 0.7152, 0.0722])
    return 116 * np.cbrt(y) - 16 if y > 0.008856 else 903.3 * y


def test_print_classes_stay_apart_in_greyscale():
    lightness = {b: _lightness(c) for b, c in PRINT_BIN_COLORS.items()}
    assert lightness[3] < lightness[2] < lightness[1] < lightness[-3] < lightness[-2] < lightness[-1] < 97
    assert min(abs(lightness[a] - lightness[b]) for a, b in combinations(lightness, 2)) >= 7


def test_integer_cell_ids_print_in_hex_and_missing_names_as_dashes(conakry_cells, top10, generated_at):
    top = top10.head(2).assign(cell=[int(c, 16) for c in top10["cell"].head(2)], unit=["Kaloum", None])
    text = _flat(pypdf.PdfReader(io.BytesIO(_brief(conakry_cells, top, "en", generated_at, demo=False)))
                 .pages[0].extract_text())
    assert f"1 Kaloum {top10['cell'].iloc[0]} " in text and f"2 – {top10['cell'].iloc[1]} " in text
