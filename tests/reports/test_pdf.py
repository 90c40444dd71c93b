"""The A4 document builder: page size, literal text, numbering, tables across pages, images, greys only."""

from __future__ import annotations

import io
import re
from datetime import datetime

import numpy as np
import pypdf
import pytest
from PIL import Image

from i18n import Translator
from reports.pdf import PdfDocument, Signatory, font_paths, png_size

XSS = "<img src=x onerror=alert(1)>"
WHEN = datetime(2026, 11, 3, 14, 30)


def _reader(pdf: bytes) -> pypdf.PdfReader:
    assert pdf.startswith(b"%PDF-")
    return pypdf.PdfReader(io.BytesIO(pdf))


def _text(page: pypdf.PageObject) -> str:
    return page.extract_text()


def _png(width: int, height: int, colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, format="PNG")
    return buf.getvalue()


def _doc(lang: str = "en", **kwargs) -> PdfDocument:
    return PdfDocument(Translator(lang), title="Plan local de sécurité – Kaloum", generated_at=WHEN, **kwargs)


def test_fonts_are_the_bundled_dejavu_files():
    paths = font_paths()
    assert set(paths) == {"", "B", "I", "BI"}
    assert all(p.is_file() and "matplotlib" in str(p) and p.name.startswith("DejaVuSans") for p in paths.values())


def test_pages_are_a4_portrait_and_fonts_are_embedded():
    doc = _doc()
    doc.title("Titre")
    doc.paragraph("Texte")
    page = _reader(doc.output()).pages[0]
    assert float(page.mediabox.width) == pytest.approx(595.28, abs=1)
    assert float(page.mediabox.height) == pytest.approx(841.89, abs=1)
    fonts = {str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    assert fonts and all("DejaVuSans" in f for f in fonts)


def test_user_text_prints_literally_with_french_characters():
    doc = _doc()
    typed = [XSS, "</script>", "**pas du gras**", "{nb} pages", "Nzérékoré « Koulé » – l’école ≥ 5 ; 1\u202f234,5"]
    doc.title("Nzérékoré")
    for text in typed:
        doc.paragraph(text)
    text = _text(_reader(doc.output()).pages[0])
    for typed_text in typed:
        assert typed_text in text


def test_footer_numbers_pages_and_dates_in_the_language():
    for lang, month in (("fr", "novembre"), ("en", "November")):
        doc = _doc(lang, footer_note="Sources : geoBoundaries, CC BY 3.0 IGO.")
        for i in range(140):
            doc.paragraph(f"Ligne {i}")
        reader = _reader(doc.output())
        n = len(reader.pages)
        assert n >= 3
        for number, page in enumerate(reader.pages, start=1):
            text = _text(page)
            assert re.search(rf"\b{number} / {n}\b", text), text[-200:]
            assert "Sources : geoBoundaries" in text and month in text
            assert ("14:30" if lang == "fr" else "2:30 PM") in text
        assert "Plan local de sécurité – Kaloum" in _text(reader.pages[1])  # running header and footer


def test_numbers_are_formatted_and_right_aligned():
    doc = _doc("fr")
    doc.table(["Lieu", "Nombre", "Taux"], [["Kaloum", 12345, 2.5], ["Matam", 7, float("nan")], ["Dixinn", None, 0.125]],
              widths_mm=[80, 40, 40])
    page = _reader(doc.output()).pages[0]
    text = _text(page)
    assert "12\u202f345" in text and "2,50" in text
    assert "Matam 7 –" in text and "Dixinn – 0,12" in text  # None and NaN print as a dash

    starts = {}

    def visit(fragment, cm, tm, font, size):
        if fragment.strip():
            starts[fragment.strip()] = tm[4]

    page.extract_text(visitor_text=visit)
    # right-aligned: the shorter number starts further right; left-aligned names start together
    assert starts["7"] > starts["12\u202f345"] + 3
    assert starts["Kaloum"] == pytest.approx(starts["Matam"], abs=0.1)


def test_long_table_repeats_its_heading_on_every_page():
    doc = _doc()
    rows = [[f"Commune {i}", i * 1000, i / 3] for i in range(150)]
    doc.table(["Commune", "Incidents", "Rate"], rows)
    reader = _reader(doc.output())
    assert len(reader.pages) >= 3
    all_text = "\n".join(_text(p) for p in reader.pages)
    for page in reader.pages:
        assert "Commune Incidents Rate" in _text(page)
    for i in (0, 75, 149):
        assert f"Commune {i} " in all_text
    assert "149,000" in all_text and "49.67" in all_text


def test_tables_and_text_use_greys_only_so_they_print_in_black_and_white():
    doc = _doc()
    doc.heading("Tableau")
    doc.table(["A", "B"], [[i, "x"] for i in range(12)])
    doc.note(["Une réserve.", "Une autre."], title="Limites")
    doc.signatures([("Aïssatou Bah", "Maire"), Signatory("Ibrahima Sow", "Commissaire")])
    page = _reader(doc.output()).pages[0]
    content = page.get_contents().get_data().decode("latin-1")
    assert re.search(r"\b0\.9412 g\b", content)  # zebra rows in light grey
    assert not re.search(r"\brg\b|\bRG\b|\bk\b|\bK\b", content)  # no colour operator at all


def test_image_keeps_its_pixels_and_aspect():
    png = _png(400, 250)
    doc = _doc()
    doc.image(png, width_mm=120, caption="Carte des points chauds")
    page = _reader(doc.output()).pages[0]
    images = page.images
    assert len(images) == 1 and images[0].image.size == (400, 250) == png_size(png)
    content = page.get_contents().get_data().decode("latin-1")
    w, h = (float(v) for v in re.search(r"q ([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm /I\w+ Do Q", content).groups())
    assert w == pytest.approx(120 / 25.4 * 72, abs=0.1) and w / h == pytest.approx(400 / 250, rel=1e-3)
    assert "Carte des points chauds" in _text(page)


def test_an_image_that_does_not_fit_moves_to_the_next_page():
    doc = _doc()
    for i in range(40):
        doc.paragraph(f"Ligne {i}")
    doc.image(_png(100, 100), width_mm=150)
    reader = _reader(doc.output())
    assert len(reader.pages) == 2 and len(reader.pages[0].images) == 0 and len(reader.pages[1].images) == 1


def test_measure_predicts_the_height_and_draws_nothing():
    doc = _doc()
    doc.title("Titre")

    def blocks(d: PdfDocument) -> None:
        d.heading("Section")
        d.paragraph("Un paragraphe assez long pour passer à la ligne. " * 6)
        d.key_values([("Période", "2026"), ("Catégories", "Toutes " * 30)])
        d.table(["A", "B"], [[1, 2]] * 5)
        d.note(["Réserve " * 30, "Autre"], title="Limites")

    y0, pages0 = doc.pdf.y, doc.page_count
    height = doc.measure(blocks)
    assert (doc.pdf.y, doc.page_count) == (y0, pages0)
    blocks(doc)
    assert doc.pdf.y - y0 == pytest.approx(height, abs=0.01)
    assert height > 60


def test_signature_block_prints_names_roles_and_labels():
    doc = _doc("en")
    doc.signatures([("Mamadou Diallo", "Commissaire central"), ("Fatoumata Camara", "Présidente du CLSPD")])
    text = _text(_reader(doc.output()).pages[0])
    for part in ("Mamadou Diallo", "Commissaire central", "Fatoumata Camara", "Présidente du CLSPD", "Signature",
                 "Date"):
        assert part in text


def test_bad_input_is_refused():
    doc = _doc()
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        doc.table(["A", "B"], [[1, 2], [3]])
    with pytest.raises(ValueError, match="mm wide"):
        doc.table(["A"], [[1]], widths_mm=[500])
    with pytest.raises(ValueError, match="PNG"):
        doc.image(b"GIF89a....")
    with pytest.raises(TypeError, match="Translator"):
        PdfDocument("fr")  # type: ignore[arg-type]


def test_widths_grow_to_hold_the_longest_word():
    doc = _doc("fr")
    doc.table(["Rang", "Période précédente", "Lieu"], [[1, 2, "Nzérékoré"]], widths_mm=[15, 15, 150])
    text = _text(_reader(doc.output()).pages[0])
    assert "précédente" in text and "précédent\ne" not in text
    assert np.isclose(doc.width_mm, 180)
