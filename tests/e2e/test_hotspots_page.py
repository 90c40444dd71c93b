"""The commander's page "Points chauds" in a real browser, offline, in French.

One walk through the page as a commander would take it: the Gi* map and its top-10 table,
a density surface under the hexagons, the one-page PDF brief, road black spots on road
segments, then emerging hot spots. Each map is checked against what the page says next to
it (metrics, tables), so a layer that silently drops features fails the test. Same fixtures
and rules as ``test_map_offline.py``: fresh store with the demo data, no request may leave
the machine, no console or page error, no Streamlit exception box.

The page draws one analysis at a time (a radio chooses it), so each map is the one in the
main area once its rerun has drawn what the test waits for. Feature counts are read from
Leaflet's layers (``window.map``): hot spot cells carry ``properties.bin``, black spots
``properties.rank`` and emerging cells ``properties.category``.

Labels relied on (French, English accepted for controls): the analysis radio "Points chauds (Gi*)",
"Points chauds émergents", "Points noirs routiers"; the select slider "Surface de densité"
(value "lissage sur 1 000 m"); the buttons "Analyser", "Préparer la note PDF",
"Télécharger la note PDF", "Classer les points noirs"; the radio "Tronçons de route"; the
metrics "Hexagones points chauds" and "Points avec accidents"; the tables' columns "Rang",
"Lieu", "Confiance", "Route", "Accidents par km", "Évolution", "Hexagones"; the legends
"Confiance Gi*", "Densité des incidents", "Évolution dans le temps".

Two display defects found while writing this test have their own tests: every analysis's map
frames Guinea (maps drawn in hidden tabs used to open at the minimum zoom) and rank numbers sit
inside their badges.
"""

from __future__ import annotations

import base64
import io
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

try:
    from playwright.sync_api import Frame, Locator, Page, expect
except ImportError:  # same policy as a missing Chromium (see conftest)
    if os.environ.get("PROXIMITE_TEST_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes"):
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from PIL import Image
from pypdf import PdfReader

from tests.e2e.test_import_flow import goto, grid_rows, metric
from tests.e2e.test_map_offline import (
    MAP_IFRAME,
    _exact,
    assert_no_app_exception,
    assert_offline_and_clean,
    click_radio,
    wait_idle,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import BrowserPage

pytestmark = pytest.mark.browser

TITLE = ("Points chauds", "Hot spots")
TAB_GI = ("Points chauds (Gi*)", "Hot spots (Gi*)")
TAB_EMERGING = ("Points chauds émergents", "Emerging hot spots")
TAB_BLACKSPOTS = ("Points noirs routiers", "Road black spots")
#: Fill of a Gi* hot spot at 99 % confidence (ColorBrewer RdBu, darkest red).
HOT_99 = "#b2182b"
#: Stroke of the ten worst road black spots.
BLACK_SPOT_TOP = "#67000d"
#: Black spots coloured BLACK_SPOT_TOP and labelled with their rank; most spots sent to the map.
TOP_SPOTS, MAX_SPOTS = 10, 300
#: Most Gi* cells the hot spot layer sends to the browser.
MAX_HOT_CELLS = 5000
#: Guinea's bounding box (south-west, north-east), as the maps frame it.
GUINEA = ((7.19, -15.08), (12.68, -7.64))
#: Guinea must span at least this share of a map's width or height: a map fitted while its tab
#: was hidden (zero size) opens at the minimum zoom, where Guinea is a speck.
MIN_FIT = 0.5
#: Share of Guinea's box that must be in view (fitBounds may leave a sliver of it past the edge).
MIN_SEEN = 0.9
PDF_A4 = (595.28, 841.89)  # points
ANALYSIS_TIMEOUT = 60.0  # seconds; the first analysis also waits for the demo data to load


# --------------------------------------------------------------------------- page helpers


def open_tab(page: Page, names: tuple[str, ...]) -> Locator:
    """Choose the analysis named ``names`` (French or English) in the page's radio; return the main area.

    The page draws one analysis at a time, so the main area holds that analysis's map only
    (once the rerun is done: callers wait for what the map draws).
    """
    radio = page.get_by_role("radio", name=_exact(*names))
    expect(radio).to_have_count(1)
    if not radio.is_checked():
        page.get_by_test_id("stRadioOption").filter(has=radio).click()
    expect(radio).to_be_checked()
    panel = page.get_by_test_id("stMain")
    expect(panel).to_be_visible()
    return panel


def number(text: str) -> int:
    """An integer as the page prints it (``1 331`` with a narrow no-break space in French)."""
    digits = re.sub(r"\D", "", text)
    assert digits, f"no number in {text!r}"
    return int(digits)


def shoot(page: Page, panel: Locator, path: Path) -> None:
    """Screenshot with the panel's map wholly in view and the mouse off it (no tooltip)."""
    panel.locator(MAP_IFRAME).evaluate("e => e.scrollIntoView({block: 'center'})")
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))


# --------------------------------------------------------------------------- map helpers

_STATE_JS = """
(guinea) => {
  const m = window.map;
  if (!m || !m._loaded) return null;
  const s = {bins: {}, spots: 0, lines: 0, categories: 0, images: [], zoom: m.getZoom()};
  m.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (l._path && p) {
      if (p.bin !== undefined) s.bins[p.bin] = (s.bins[p.bin] || 0) + 1;
      if (p.category !== undefined) s.categories++;
      if (p.rank !== undefined) {
        s.spots++;
        if (l._path.getAttribute('fill') === 'none') s.lines++;
      }
    }
    if (l._image && l.getBounds) {
      const b = l.getBounds();
      s.images.push([b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]);
    }
  });
  const size = m.getSize(), sw = m.latLngToContainerPoint(guinea[0]),
        ne = m.latLngToContainerPoint(guinea[1]);
  const seen = (Math.max(0, Math.min(ne.x, size.x) - Math.max(sw.x, 0)) *
                Math.max(0, Math.min(sw.y, size.y) - Math.max(ne.y, 0))) / ((ne.x - sw.x) * (sw.y - ne.y));
  s.fit = {width: (ne.x - sw.x) / size.x, height: (sw.y - ne.y) / size.y, seen};
  s.legends = Array.from(document.querySelectorAll('.proximite-legend')).map(e => e.innerText);
  return s;
}
"""


def wait_panel_map(bp: BrowserPage, panel: Locator, predicate, what: str,
                   timeout: float = ANALYSIS_TIMEOUT) -> tuple[Frame, dict]:
    """(frame, state) of the map in ``panel`` once ``predicate(state)`` holds.

    Streamlit keeps the previous map on screen while a rerun builds the next one, so the map is
    recognised by what it draws. Fails at once on an uncaught page error (a broken layer never
    draws).
    """
    page, deadline, last = bp.page, time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        assert bp.page_errors == [], f"page errors while waiting for {what}: {bp.page_errors}"
        try:
            handle = panel.locator(MAP_IFRAME).element_handle(timeout=1_000)
            frame = handle.content_frame() if handle else None
            if frame is not None:
                last = frame.evaluate(_STATE_JS, [list(GUINEA[0]), list(GUINEA[1])])
                if last and predicate(last):
                    return frame, last
        except Exception as exc:  # no iframe yet, or replaced mid-evaluation: look again
            last = f"{type(exc).__name__}: {exc}"
        page.wait_for_timeout(200)
    assert_no_app_exception(page)
    raise AssertionError(f"the map never showed {what} within {timeout:.0f} s (last: {last})\n{bp.problems()}")


def assert_fits_guinea(state: dict, what: str) -> None:
    fit = state["fit"]
    assert fit["seen"] >= MIN_SEEN and max(fit["width"], fit["height"]) >= MIN_FIT, (
        f"{what}: Guinea spans {fit['width']:.0%} x {fit['height']:.0%} of the map at zoom {state['zoom']}, "
        f"{fit['seen']:.0%} of it in view; expected at least {MIN_FIT:.0%} in one dimension and "
        f"{MIN_SEEN:.0%} in view"
    )


def legend_with(state: dict, title: str) -> str:
    """The text of the map legend titled ``title``."""
    found = [text for text in state["legends"] if text.strip().startswith(title)]
    assert len(found) == 1, f"{len(found)} legends titled {title!r} among {state['legends']}"
    return found[0]


def check_density_png(src: str) -> tuple[int, int]:
    """Decode the overlay's data URL: a real PNG, partly transparent, partly coloured."""
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), f"density image src starts {src[:40]!r}"
    raw = base64.b64decode(src[len(prefix):], validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    img = Image.open(io.BytesIO(raw)).convert("RGBA")
    alpha = img.getchannel("A")
    low, high = alpha.getextrema()
    assert low == 0 and high > 0, f"density image alpha range {low}..{high}: blank or fully opaque"
    return img.size


# --------------------------------------------------------------------------- tests


def test_hotspots_page(browser_page: BrowserPage, timings: list, results_dir: Path) -> None:
    bp = browser_page
    started = time.perf_counter()

    # 1. Gi* tab: hot spot hexagons, their legend, the top-10 table.
    page = goto(bp, "points-chauds", *TITLE)
    panel = open_tab(page, TAB_GI)
    frame, state = wait_panel_map(bp, panel, lambda s: s["bins"].get("3", 0) >= 5,
                                  "hot spot hexagons at 99 % confidence")
    timings.append(("hot spots page, first Gi* map", time.perf_counter() - started))
    assert_no_app_exception(page)
    bins = {int(b): n for b, n in state["bins"].items()}
    hot_paths = frame.locator(f'path.leaflet-interactive[fill="{HOT_99}"]').count()
    assert hot_paths == bins[3], f"{hot_paths} paths filled {HOT_99}, {bins[3]} cells at 99 % on the map"
    hot_cells = sum(n for b, n in bins.items() if b > 0)
    shown = number(metric(page, "Hexagones points chauds", "Hot spot hexagons"))
    assert hot_cells == min(shown, MAX_HOT_CELLS), f"map draws {hot_cells} hot cells, the metric says {shown}"
    legend = legend_with(state, "Confiance Gi*")
    assert "Point chaud, confiance 99 %" in legend, legend
    assert_fits_guinea(state, "Gi* map")

    top = grid_rows(page, ("Rang", "Rank"), ("Lieu", "Place"), ("Confiance", "Confidence"))
    assert 1 <= len(top) <= 10, f"top table rows: {top}"
    assert [r[0] for r in top] == [str(i) for i in range(1, len(top) + 1)], f"ranks {[r[0] for r in top]}"
    assert any("Nzérékoré" in place for _, place, _ in top), f"no Nzérékoré among {[r[1] for r in top]}"
    assert top[0][2] == "chaud 99 %", f"first hot spot's confidence {top[0][2]!r}"
    first_place = top[0][1]
    shoot(page, panel, results_dir / "hotspots-gi.png")

    # 2. Density surface under the hexagons.
    t0 = time.perf_counter()
    # The slider's accessible name repeats its label ("Surface de densité Surface de densité"): find its group.
    slider = page.get_by_role("group", name=_exact("Surface de densité", "Density surface")).get_by_role("slider")
    expect(slider).to_have_attribute("aria-valuetext", _exact("aucune", "none"))
    wanted = re.compile(r"^(lissage sur|smoothing over) 1\s?[ ,]?000 m$")
    slider.focus()
    for _ in range(8):  # none, 250, 500, 1 000 m, ...: a few steps to the right
        if wanted.match(slider.get_attribute("aria-valuetext") or ""):
            break
        slider.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", wanted)
    page.get_by_role("button", name=_exact("Analyser", "Analyse")).click()
    wait_idle(page)
    frame, state = wait_panel_map(bp, panel, lambda s: len(s["images"]) > 0 and s["bins"].get("3", 0) > 0,
                                  "a density image under the hot spot cells")
    image = frame.locator("img.leaflet-image-layer")
    expect(image).to_have_count(1)
    width, height = check_density_png(image.get_attribute("src") or "")
    south, west, north, east = state["images"][0]
    (g_south, g_west), (g_north, g_east) = GUINEA
    assert south < g_north and north > g_south and west < g_east and east > g_west, (
        f"density image bounds {state['images'][0]} miss Guinea"
    )
    density_legend = legend_with(state, "Densité des incidents")
    assert re.search(r"1\s?000 m", density_legend), density_legend
    assert {int(b): n for b, n in state["bins"].items()} == bins, "hot spot cells changed with the density"
    print(f"density image {width}x{height} px over {state['images'][0]}")
    shoot(page, panel, results_dir / "hotspots-density.png")
    timings.append(("density surface", time.perf_counter() - t0))

    # 3. The one-page PDF brief.
    t0 = time.perf_counter()
    page.get_by_role("button", name=_exact("Préparer la note PDF", "Prepare the PDF brief")).click()
    wait_idle(page)
    download_button = page.get_by_role("button", name=_exact("Télécharger la note PDF", "Download the PDF brief"))
    expect(download_button).to_be_visible(timeout=30_000)
    with page.expect_download(timeout=30_000) as info:
        download_button.click()
    download = info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    reader = PdfReader(download.path())
    assert len(reader.pages) == 1, f"the brief has {len(reader.pages)} pages"
    pdf_page = reader.pages[0]
    size = (float(pdf_page.mediabox.width), float(pdf_page.mediabox.height))
    assert all(abs(a - b) < 1.0 for a, b in zip(size, PDF_A4, strict=True)), f"page size {size} pt, not A4"
    text = pdf_page.extract_text()
    for needle in ("Note de synthèse", "Nzérékoré", first_place):
        assert needle in text, f"{needle!r} not in the brief's text:\n{text[:1500]}"
    images = list(pdf_page.images)
    assert images, "the brief holds no image (map)"
    biggest = max(images, key=lambda i: i.image.width * i.image.height).image
    assert biggest.width >= 300 and biggest.height >= 200, f"largest image {biggest.size}: no map"
    wait_idle(page)
    assert_no_app_exception(page)
    timings.append(("PDF brief", time.perf_counter() - t0))

    # 4. Road black spots on road segments.
    t0 = time.perf_counter()
    panel = open_tab(page, TAB_BLACKSPOTS)
    click_radio(page, _exact("Tronçons de route", "Road segments"))
    page.get_by_role("button", name=_exact("Classer les points noirs", "Rank black spots")).click()
    wait_idle(page)
    frame, state = wait_panel_map(bp, panel, lambda s: s["spots"] > 0 and s["lines"] == s["spots"],
                                  "black spots drawn as road segments")
    spots = number(metric(page, "Points avec accidents", "Spots with crashes"))
    assert state["spots"] == min(spots, MAX_SPOTS), f"map draws {state['spots']} spots, the metric says {spots}"
    n_top = min(TOP_SPOTS, spots)
    dark = frame.locator(f'path.leaflet-interactive[stroke="{BLACK_SPOT_TOP}"]')
    assert dark.count() == n_top, f"{dark.count()} segments stroked {BLACK_SPOT_TOP}, expected {n_top}"
    assert all(fill == "none" for fill in dark.evaluate_all("ps => ps.map(p => p.getAttribute('fill'))"))
    ranks = sorted(int(x) for x in frame.locator(".lbl-rank").all_inner_texts())
    assert ranks == list(range(1, n_top + 1)), f"rank labels {ranks}"
    assert legend_with(state, "Points noirs (pondérés par la gravité)")
    assert_fits_guinea(state, "black spot map")
    rows = grid_rows(page, ("Rang", "Rank"), ("Route", "Road"), ("Accidents par km", "Crashes per km"))
    assert rows and rows[0][0] == "1", f"black spot table rows: {rows[:3]}"
    shoot(page, panel, results_dir / "hotspots-blackspots.png")
    timings.append(("black spots on roads", time.perf_counter() - t0))

    # 5. Emerging hot spots.
    t0 = time.perf_counter()
    panel = open_tab(page, TAB_EMERGING)
    frame, state = wait_panel_map(bp, panel, lambda s: s["categories"] > 0, "emerging hot spot cells")
    legend = legend_with(state, "Évolution dans le temps")
    summary = grid_rows(page, ("Évolution", "Pattern"), ("Hexagones", "Hexagons"))
    assert summary, "no emerging summary table"
    listed = sum(int(n) for _, n in summary)
    assert state["categories"] == listed, f"map draws {state['categories']} cells, the table lists {listed}"
    for pattern, _ in summary:
        assert pattern in legend, f"pattern {pattern!r} of the table missing from the legend:\n{legend}"
    shoot(page, panel, results_dir / "hotspots-emerging.png")
    timings.append(("emerging hot spots", time.perf_counter() - t0))

    assert_offline_and_clean(bp)
    total = time.perf_counter() - started
    timings.append(("hot spots page total", total))
    print(f"hot spots page walk-through: {total:.1f} s")


def test_every_analysis_map_fits_guinea(browser_page: BrowserPage) -> None:
    """The emerging and black spot maps frame Guinea when chosen (not opened at the minimum zoom)."""
    bp = browser_page
    page = goto(bp, "points-chauds", *TITLE)
    panel = open_tab(page, TAB_EMERGING)
    _, state = wait_panel_map(bp, panel, lambda s: s["categories"] > 0, "emerging hot spot cells")
    assert_fits_guinea(state, "emerging hot spot map")
    panel = open_tab(page, TAB_BLACKSPOTS)
    _, state = wait_panel_map(bp, panel, lambda s: s["spots"] > 0, "black spots")
    assert_fits_guinea(state, "black spot map")
    assert_offline_and_clean(bp)


_RANK_LABELS_JS = """
() => Array.from(document.querySelectorAll('.lbl-rank')).map(e => {
  const badge = e.getBoundingClientRect(), range = document.createRange();
  range.selectNodeContents(e);
  const text = range.getBoundingClientRect();
  return {rank: e.textContent, badge: badge.width, text: text.width,
          inside: text.left >= badge.left - 0.5 && text.right <= badge.right + 0.5};
})
"""


def test_rank_labels_fit_their_badge(browser_page: BrowserPage) -> None:
    """Each black spot's rank number is drawn inside its dark badge (white on white would vanish)."""
    bp = browser_page
    page = goto(bp, "points-chauds", *TITLE)
    panel = open_tab(page, TAB_BLACKSPOTS)
    frame, _ = wait_panel_map(bp, panel, lambda s: s["spots"] > 0, "black spots")
    labels = frame.evaluate(_RANK_LABELS_JS)
    assert labels, "no rank label on the black spot map"
    spilled = [lbl for lbl in labels if not lbl["inside"]]
    assert not spilled, f"rank numbers outside their badge: {spilled}"
    assert_offline_and_clean(bp)
