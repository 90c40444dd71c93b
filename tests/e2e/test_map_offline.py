"""The map page in a real browser, fully offline: every level in both languages, search, hover.

Nothing may be fetched from outside the machine (the fixtures abort and record such
requests), the browser console must stay free of errors, and the map must draw
Guinea's units, labels, coast and the geoBoundaries credit from the app's own files.

Elements are found by role and by their French *or* English label, so the tests hold
while the catalogs are being filled in. Labels relied on: the sidebar radio
"Langue / Language" with options "Français"/"English"; the level options
"Régions"/"Regions", "Préfectures"/"Prefectures", "Sous-préfectures"/"Sub-prefectures";
the text box "Rechercher un lieu"/"Find a place"; the selectbox right after it (any label).
In the map's component iframe (``/component/streamlit_folium.st_folium/``): ``window.map``
(streamlit-folium's handle on the Leaflet map), ``path.leaflet-interactive``, the
``.leaflet-control-attribution`` and ``.leaflet-tooltip`` controls, ``.pxl`` label icons.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

try:
    from playwright.sync_api import Frame, Locator, Page, expect
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # same policy as a missing Chromium (see conftest)
    if os.environ.get("PROXIMITE_TEST_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes"):
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

if TYPE_CHECKING:
    from tests.e2e.conftest import BrowserPage

pytestmark = pytest.mark.browser

UNITS = {"region": 8, "prefecture": 34, "subprefecture": 340}
#: Level radio options (plural), French then English.
LEVEL_OPTIONS = {
    "region": ("Régions", "Regions"),
    "prefecture": ("Préfectures", "Prefectures"),
    "subprefecture": ("Sous-préfectures", "Sub-prefectures"),
}
#: The level each tooltip names (``level_label`` in the GeoJSON properties), French then English.
LEVEL_LABELS = {
    "region": ("Région", "Region"),
    "prefecture": ("Préfecture", "Prefecture"),
    "subprefecture": ("Sous-préfecture", "Sub-prefecture"),
}
#: Labels drawn per level: units' names (sub-prefecture maps label their prefectures).
LABEL_CLASS = {
    "region": ("lbl-region", 8),
    "prefecture": ("lbl-prefecture", 34),
    "subprefecture": ("lbl-prefecture", 34),
}
LANG_OPTION = {"fr": "Français", "en": "English"}
MAP_IFRAME = 'iframe[src*="/component/streamlit_folium"]'
HIGHLIGHT = "#d7301f"
COAST = "#4f86b3"
MAP_TIMEOUT = 60.0  # seconds; the first visit also waits for the demo data to load


def _exact(*labels: str) -> re.Pattern[str]:
    return re.compile("^(" + "|".join(re.escape(x) for x in labels) + ")$")


# --------------------------------------------------------------------------- Streamlit helpers


def wait_idle(page: Page, started: bool = False) -> None:
    """Wait for the script run triggered by the last action to finish (``.stApp`` script state)."""
    app = page.locator(".stApp")
    if not started:
        try:  # the rerun starts within milliseconds of the click; tolerate having missed it
            expect(app).to_have_attribute("data-test-script-state", "running", timeout=2_000)
        except AssertionError:
            pass
    expect(app).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=MAP_TIMEOUT * 1000
    )


def click_radio(page: Page, option: re.Pattern[str]) -> None:
    """Select a Streamlit radio option (the input is visually hidden: click its label)."""
    radio = page.get_by_role("radio", name=option)
    expect(radio).to_have_count(1)
    if radio.is_checked():
        return
    page.get_by_test_id("stRadioOption").filter(has=radio).click()
    expect(radio).to_be_checked()
    wait_idle(page)


def set_language(page: Page, lang: str) -> None:
    group = page.get_by_role("radiogroup", name="Langue / Language")
    expect(group).to_be_visible()
    click_radio(page, _exact(LANG_OPTION[lang]))


def choose_level(page: Page, level: str) -> None:
    click_radio(page, _exact(*LEVEL_OPTIONS[level]))


def assert_no_app_exception(page: Page) -> None:
    errors = page.get_by_test_id("stException")
    assert errors.count() == 0, f"the app shows an exception:\n{errors.first.inner_text()}"


# --------------------------------------------------------------------------- map iframe helpers

_MAP_STATE_JS = """
(labels) => {
  const m = window.map;
  if (!m || !m._loaded) return null;
  let matching = 0, interactive = 0;
  m.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (p && p.level_label !== undefined && l._path) {
      interactive++;
      if (labels.includes(p.level_label)) matching++;
    }
  });
  return {matching, interactive, zoom: m.getZoom()};
}
"""


def current_frame(page: Page) -> Frame | None:
    handle = page.locator(MAP_IFRAME).last.element_handle(timeout=1_000)
    return handle.content_frame() if handle else None


def wait_map(
    page: Page, level: str, lang: str = "fr", predicate=None, timeout: float = MAP_TIMEOUT
) -> Frame:
    """The map iframe once it draws ``level`` in ``lang`` (and ``predicate(frame)`` holds).

    Streamlit keeps the previous map on screen while a rerun builds the next one, so the frame
    is identified by what it draws (the level each feature's tooltip names), not by its presence.
    English labels are the message ids, always right in English; French ones may still be
    missing from the catalog, so French accepts both.
    """
    labels = list(LEVEL_LABELS[level]) if lang == "fr" else [LEVEL_LABELS[level][1]]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            frame = current_frame(page)
            if frame is not None:
                last = frame.evaluate(_MAP_STATE_JS, labels)
                if (
                    last
                    and last["matching"] >= UNITS[level]
                    and (predicate is None or predicate(frame))
                ):
                    return frame
        except PlaywrightTimeout:
            last = "no map iframe yet"
        except Exception as exc:  # frame replaced or navigated mid-evaluation: look again
            last = f"{type(exc).__name__}: {exc}"
        page.wait_for_timeout(200)
    assert_no_app_exception(page)
    raise AssertionError(
        f"no map drawing the {level} level within {timeout:.0f} s (last state: {last})"
    )


_VIEW_JS = """
() => {
  const m = window.map;
  if (!m || !m._loaded) return null;
  const c = m.getCenter(), s = m.getSize();
  return [m.getZoom(), c.lat.toFixed(6), c.lng.toFixed(6), s.x, s.y, !!m._animatingZoom].join('|');
}
"""


def wait_settled(page: Page, frame: Frame, timeout: float = 10.0) -> None:
    """Wait until the Leaflet view holds still (same zoom, centre and size 300 ms apart).

    The map refits whenever its frame changes size (``RefitWhenShown``), and a loaded machine
    may resize the frame late: a pixel position read during a refit points elsewhere.
    """
    deadline, previous = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            view = frame.evaluate(_VIEW_JS)
        except Exception:  # the frame is being replaced by a rerun
            view = None
        if view is not None and view == previous and not view.endswith("true"):
            return
        previous = view
        page.wait_for_timeout(300)


def hover_for_tooltip(
    page: Page, frame: Frame, spot_js: str, args: object = None, *,
    title: str | None = None, also: tuple[str, ...] = (), attempts: int = 4,
) -> tuple[Locator, dict]:
    """Point at the spot ``spot_js`` finds (iframe viewport ``{x, y}``); the tooltip it opens.

    The tooltip is told by ``title`` (default: the spot's ``name``) and the ``also`` texts, as
    Leaflet keeps closed tooltips around. A view that moved between reading the spot and
    pointing at it (a late refit) shows another tooltip or none: wait for the view to settle,
    read the spot again and point again, up to ``attempts`` times.
    """
    iframe = page.locator(MAP_IFRAME).last
    iframe.evaluate("e => e.scrollIntoView({block: 'center'})")
    spot: object = None
    for attempt in range(attempts):
        page.mouse.move(5, 5)  # off the map: no tooltip left open from before
        wait_settled(page, frame)
        try:
            spot = frame.evaluate(spot_js, args)
        except Exception as exc:  # the frame is being replaced by a rerun
            spot = f"{type(exc).__name__}: {exc}"
        if not isinstance(spot, dict) or spot.get("x") is None:
            page.wait_for_timeout(500)
            continue
        box = iframe.bounding_box()
        page.mouse.move(box["x"] + spot["x"], box["y"] + spot["y"], steps=6)
        tooltip = frame.locator(".leaflet-tooltip").filter(has_text=title or spot["name"])
        for text in also:
            tooltip = tooltip.filter(has_text=text)
        try:
            expect(tooltip.first).to_be_visible(timeout=3_000 if attempt < attempts - 1 else 8_000)
            return tooltip.first, spot
        except AssertionError:
            continue
    raise AssertionError(f"no tooltip {title or spot!r} after {attempts} attempts (last spot: {spot})")


def open_map(bp: BrowserPage, lang: str, timings: list, label: str) -> float:
    """Open /carte in ``lang``; returns (and records) seconds from navigation to first unit."""
    page = bp.page
    start = time.perf_counter()
    page.goto(f"{bp.base_url}/carte", wait_until="commit")
    first_path = page.frame_locator(MAP_IFRAME).locator("path.leaflet-interactive").first
    expect(first_path).to_be_visible(timeout=MAP_TIMEOUT * 1000)
    seconds = time.perf_counter() - start
    print(f"map load: {seconds:.2f} s ({label})")
    timings.append((f"map load ({label})", seconds))
    wait_idle(page, started=True)
    if lang != "fr":
        set_language(page, lang)
    return seconds


def hide_incidents(page: Page) -> None:
    """Switch the incident layer off: its hexagons sit above the units and would take the hover."""
    page.get_by_text(_exact("Afficher les incidents", "Show incidents")).first.click()
    wait_idle(page)


def matches_box(page: Page):
    """The selectbox listing the units that match the search."""
    return page.get_by_role("combobox", name=_exact("Unités correspondantes", "Matching units"))


def assert_offline_and_clean(bp: BrowserPage) -> None:
    assert bp.blocked == [], "requests tried to leave the machine:\n" + "\n".join(bp.blocked)
    assert bp.console_errors == [], "console errors:\n" + "\n".join(bp.console_errors)
    assert bp.page_errors == [], "uncaught page errors:\n" + "\n".join(bp.page_errors)
    assert_no_app_exception(bp.page)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("level", ["region", "prefecture", "subprefecture"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_map_levels_offline(
    browser_page: BrowserPage, lang: str, level: str, timings: list, results_dir: Path
) -> None:
    bp, page = browser_page, browser_page.page
    open_map(bp, lang, timings, f"{lang}, {level} test")
    if lang == "en":
        expect(page.get_by_role("textbox", name="Find a place")).to_be_visible()
    choose_level(page, level)
    frame = wait_map(page, level, lang)

    paths = frame.locator("path.leaflet-interactive")
    assert paths.count() >= UNITS[level], (
        f"{paths.count()} interactive paths for {UNITS[level]} {level} units"
    )
    expect(frame.locator(".leaflet-control-attribution")).to_contain_text("geoBoundaries")
    # Labels and the basemap drawn from our own data: unit names, sea, neighbours, coastline.
    cls, n_labels = LABEL_CLASS[level]
    assert frame.locator(f".pxl .{cls}").count() >= n_labels
    assert frame.locator(".pxl .lbl-sea").count() == 1
    assert frame.locator(".pxl .lbl-country").count() >= 1
    assert frame.locator(f'path[stroke="{COAST}"]').count() >= 1, "coastline not drawn"
    assert frame.locator("img.leaflet-tile").count() == 0, (
        "tiles requested without PROXIMITE_TILE_URL"
    )

    if level == "subprefecture":
        page.screenshot(path=str(results_dir / f"map-subprefecture-{lang}.png"), full_page=True)
    assert_offline_and_clean(bp)


def test_search_zooms_to_unit(browser_page: BrowserPage, timings: list, results_dir: Path) -> None:
    bp, page = browser_page, browser_page.page
    open_map(bp, "fr", timings, "fr, search test")
    frame = wait_map(page, "prefecture")
    zoom_before = frame.evaluate("() => window.map.getZoom()")

    box = page.get_by_role("textbox", name=_exact("Rechercher un lieu", "Find a place"))
    box.fill("nzerekore")
    box.press("Enter")
    wait_idle(page)
    # The matches selectbox comes right after the search box; open it and take the first match.
    combo = matches_box(page)
    expect(combo).to_be_visible()
    combo.click()
    first = page.get_by_role("option").first
    expect(first).to_contain_text("Nzérékoré")
    first_text = first.inner_text()
    first.click()
    page.mouse.move(5, 5)  # off the map: no hover highlight or tooltip in the screenshot
    wait_idle(page)

    highlighted = f'path[stroke="{HIGHLIGHT}"]'
    frame = wait_map(page, "prefecture", predicate=lambda f: f.locator(highlighted).count() > 0)
    assert frame.locator(highlighted).count() == 1
    name = frame.evaluate(
        """(color) => { let n = null;
             window.map.eachLayer(l => {
               if (l._path && l.options.color === color) n = l.feature.properties.name; });
             return n; }""",
        HIGHLIGHT,
    )
    assert name and name in first_text, f"highlighted {name!r}, chose {first_text!r}"
    zoom_after = frame.evaluate("() => window.map.getZoom()")
    assert zoom_after > zoom_before, f"zoom stayed at {zoom_before} -> {zoom_after}"
    # fit_bounds on the unit: it fills most of the map in one dimension and lies within it.
    unit = frame.locator(highlighted).bounding_box()
    container = frame.locator(".leaflet-container").bounding_box()
    assert unit and container
    fill = max(unit["width"] / container["width"], unit["height"] / container["height"])
    assert 0.4 <= fill <= 1.05, f"highlighted unit spans {fill:.0%} of the map"
    page.screenshot(path=str(results_dir / "search-nzerekore-fr.png"), full_page=True)
    assert_offline_and_clean(bp)


_HOVER_TARGET_JS = """
() => {
  // A sub-prefecture whose own path is under its centre point (largest first, away from labels).
  const m = window.map, cands = [];
  m.eachLayer(l => {
    if (l._path && l.feature && l.feature.properties.level_label !== undefined && l.getCenter) {
      const b = l._path.getBoundingClientRect(); cands.push([b.width * b.height, l]); } });
  cands.sort((a, b) => b[0] - a[0]);
  const decode = s => {
    const t = document.createElement('textarea'); t.innerHTML = s; return t.value; };
  for (const [, l] of cands) {
    const p = m.latLngToContainerPoint(l.getCenter()), r = m.getContainer().getBoundingClientRect();
    const x = r.left + p.x, y = r.top + p.y;
    if (document.elementFromPoint(x, y) === l._path)
      return {x, y, name: decode(l.feature.properties.name)};
  }
  return null;
}
"""


def test_hover_shows_tooltip_with_parents(browser_page: BrowserPage, timings: list) -> None:
    bp, page = browser_page, browser_page.page
    open_map(bp, "fr", timings, "fr, hover test")
    hide_incidents(page)
    choose_level(page, "subprefecture")
    frame = wait_map(page, "subprefecture")
    tooltip, target = hover_for_tooltip(page, frame, _HOVER_TARGET_JS)
    expect(tooltip).to_contain_text(target["name"])
    expect(tooltip).to_contain_text("Préfecture")
    assert_offline_and_clean(bp)


def test_click_inside_coarser_focus_shows_the_unit(
    browser_page: BrowserPage, timings: list
) -> None:
    """Prefectures shown, region "Nzérékoré" found: clicking prefecture Macenta opens its card.

    The highlighted region is drawn above the prefectures as a non-interactive overlay, so the
    hover and the click reach Macenta (a regression test for a KeyError in ``views/map.py``).
    """
    bp, page = browser_page, browser_page.page
    open_map(bp, "fr", timings, "fr, focus click test")
    hide_incidents(page)
    wait_map(page, "prefecture")
    box = page.get_by_role("textbox", name=_exact("Rechercher un lieu", "Find a place"))
    box.fill("nzerekore")
    box.press("Enter")
    wait_idle(page)
    expect(matches_box(page)).to_have_value(re.compile("Nzérékoré"))
    highlighted = f'path[stroke="{HIGHLIGHT}"]'
    frame = wait_map(page, "prefecture", predicate=lambda f: f.locator(highlighted).count() > 0)
    wait_settled(page, frame)  # a refit after the pixel position is read would move Macenta
    point = frame.evaluate(
        """() => { const m = window.map; let pt = null;
             m.eachLayer(l => {
               if (l._path && l.feature && l.feature.properties.name === 'Macenta') {
               const p = m.latLngToContainerPoint(l.getCenter()); pt = {x: p.x, y: p.y}; } });
             return pt; }"""
    )
    assert point, "Macenta not drawn"
    iframe_box = page.locator(MAP_IFRAME).last.bounding_box()
    page.mouse.click(iframe_box["x"] + point["x"], iframe_box["y"] + point["y"])
    wait_idle(page)
    page.mouse.move(5, 5)
    assert_no_app_exception(page)
    expect(page.get_by_role("heading", name="Macenta")).to_be_visible()
