"""PDFs print user text literally and carry nothing a reader could run or follow.

Every block of :class:`reports.pdf.PdfDocument` and the hotspot brief get the payloads; the
extracted text must hold them as typed, and the file must have no JavaScript, no launch or
open action, no form and no annotation (a link built from user text would be one).
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import numpy as np
import pandas as pd
import pypdf
import pytest
from fpdf import FPDF

import geopandas as gpd
import shapely

from geo import cells
from i18n import Translator
from reports.hotspot_brief import hotspot_brief
from reports.pdf import PdfDocument, Signatory

from .payloads import IMG, JS_URL, PAYLOAD, PAYLOADS, SCRIPT, SVG, TEMPLATE

#: Name keys of PDF dictionaries that run code, open something or send data. ``/OpenAction`` is checked
#: apart: fpdf2 writes one that is only a destination (show page 1, fit width), which is harmless.
ACTIVE_KEYS = ("/JS", "/JavaScript", "/Launch", "/AA", "/URI", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
               "/EmbeddedFile", "/RichMedia", "/XFA", "/AcroForm")
GENERATED = datetime(2026, 11, 3, 14, 30)
_SPACE = re.compile(r"\s+")


def _squeezed(text: str) -> str:
    """Text without any whitespace: wrapping may break a payload over lines, never change its characters."""
    return _SPACE.sub("", text)


def active_content(data: bytes) -> list[str]:
    """What in the PDF ``data`` could act: active dictionary keys anywhere, annotations, document actions."""
    found = [key for key in ACTIVE_KEYS if re.search(re.escape(key.encode()) + rb"(?![A-Za-z])", data)]
    reader = pypdf.PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    found += [f"catalog {key}" for key in ("/AA", "/AcroForm", "/Names") if key in root]
    if "/OpenAction" in root and not isinstance(root["/OpenAction"], pypdf.generic.ArrayObject):
        found.append("catalog /OpenAction is an action, not a destination")
    for number, page in enumerate(reader.pages, start=1):
        found += [f"page {number} {key}" for key in ("/Annots", "/AA") if key in page]
    return found


def _text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages)


def _assert_literal(data: bytes, where: str) -> None:
    text = _squeezed(_text(data))
    for payload in PAYLOADS:
        assert _squeezed(payload) in text, f"{where}: {payload!r} not printed as typed"
    assert active_content(data) == [], f"{where}: active content {active_content(data)}"


def test_the_checks_catch_a_link_and_a_dropped_payload():
    """Known answers for the checks: a link annotation is active content, a missing payload is missing."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(40, 10, "click", link=JS_URL)
    data = bytes(pdf.output())
    problems = active_content(data)
    assert "/URI" in problems and "page 1 /Annots" in problems
    plain = PdfDocument(Translator("fr"))
    plain.paragraph("nothing to see")
    with pytest.raises(AssertionError):
        _assert_literal(plain.output(), "plain")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_document_block_prints_user_text_literally(lang):
    doc = PdfDocument(Translator(lang), title=PAYLOAD, generated_at=GENERATED, footer_note=PAYLOAD)
    doc.title(PAYLOAD)
    doc.subtitle(PAYLOAD)
    doc.heading(PAYLOAD)
    doc.paragraph(PAYLOAD, bold=True)
    doc.bullets([IMG, SCRIPT, SVG, JS_URL, TEMPLATE])
    doc.key_values([(PAYLOAD, PAYLOAD)])
    doc.table([PAYLOAD[:40], "n"], [[PAYLOAD, 1], [TEMPLATE, -2]])
    doc.note([PAYLOAD, JS_URL], title=PAYLOAD)
    doc.signatures([Signatory(PAYLOAD, PAYLOAD), (JS_URL, TEMPLATE)])
    data = doc.output()
    _assert_literal(data, f"PdfDocument ({lang})")
    meta = pypdf.PdfReader(io.BytesIO(data)).metadata
    assert meta.title == PAYLOAD  # the Info dictionary's string is escaped, not cut at ")"


@pytest.fixture(scope="module")
def study() -> gpd.GeoDataFrame:
    ids = np.sort(cells.polygon_to_cells(shapely.box(-13.70, 9.52, -13.66, 9.56), 8))
    lon, lat = cells.centers(ids)
    gi_bin = np.zeros(len(ids), dtype=np.int64)
    gi_bin[:4], gi_bin[4:8] = 3, 2
    return gpd.GeoDataFrame({"cell": cells.to_str(ids), "count": np.arange(len(ids)) + 1, "gi_bin": gi_bin},
                            geometry=shapely.polygons([cells.boundary_lonlat(c) for c in ids]), crs="EPSG:4326")


def test_hotspot_brief_prints_place_names_parameters_and_caveats_literally(study):
    hot = study[study["gi_bin"] > 0].head(5)
    names = [IMG, SCRIPT, SVG, JS_URL, TEMPLATE]
    top = pd.DataFrame({"rank": np.arange(1, 6), "unit": names, "cell": hot["cell"].to_numpy(),
                        "count": hot["count"].to_numpy(), "previous": [1.0, np.nan, 3.0, 4.0, 5.0],
                        "change": [1.0, np.nan, -1.0, 0.0, 2.0], "gi_z": np.linspace(5.0, 3.0, 5),
                        "gi_bin": hot["gi_bin"].to_numpy()})
    data = hotspot_brief(cells=study, top=top, parameters=[("Unités", PAYLOAD), (PAYLOAD, "x")],
                         caveats=[PAYLOAD], t=Translator("fr"), generated_at=GENERATED, demo=False)
    _assert_literal(data, "hotspot brief")
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == 1
