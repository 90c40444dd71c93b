"""Injection payloads in a real browser, offline: popups and tooltips show them as text and nothing runs.

The app runs on its own store (no demo data) holding a non-sensitive incident, a council and a
station whose text fields carry ``<img src=x onerror=alert(1)>``, a ``</script>`` break-out,
``"><svg onload=alert(3)>``, ``javascript:alert(4)`` and ``{{7*7}}``. On the map page the
incident's popup is opened by a click; on the programme page the council's and the station's
tooltips by hovering. Any ``alert``/``confirm``/``prompt`` from any frame is a dialog the page
records: there must be none, the popups must hold the payload as text (no ``img``, ``svg`` or
``script`` element inside), and no request may leave the machine. A last walk opens the review
page, whose field labels are column names of an imported file, with a markdown image among them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # same policy as a missing Chromium (see conftest)
    if os.environ.get("PROXIMITE_TEST_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes"):
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

import pandas as pd

from storage import open_store
from tests.e2e.conftest import (
    REPO_ROOT,
    SERVER_START_TIMEOUT,
    VIEWPORT,
    BrowserPage,
    _free_port,
    _health,
    _stop,
    is_local,
)
from tests.e2e.test_import_flow import POINTS, click_marker_with, goto
from tests.e2e.test_map_offline import (
    MAP_IFRAME,
    _exact,
    assert_no_app_exception,
    click_radio,
    hover_for_tooltip,
    wait_idle,
)

pytestmark = pytest.mark.browser

IMG = "<img src=x onerror=alert(1)>"
PAYLOAD = f'{IMG} </script><script>alert(2)</script> "><svg onload=alert(3)> javascript:alert(4) {{{{7*7}}}}'
MD_IMAGE = "![x](http://192.0.2.7/t.png)"
KALOUM = {"region_id": "GN-C", "prefecture_id": "GN-C", "subprefecture_id": "GN-C-KALOUM"}
MAP = ("carte", "Carte", "Map")
PROGRAMME = ("programme", "Programme de police de proximité", "Community policing programme")
REVIEW = ("verification", "Lignes à vérifier", "Rows to review")
STATIONS = _exact("Commissariats et postes", "Police stations")
STATION_KIND = re.compile("Poste de police|Police post")
TIMEOUT = 45.0


def _fill(url: str) -> None:
    store = open_store(url)
    try:
        when = datetime.now(UTC) - timedelta(days=10)
        store.write({
            "incident": pd.DataFrame([{"source_id": "xss-1", "occurred_at": when, "category": "vol", "sensitive": False,
                                       "description": PAYLOAD, "place_name": PAYLOAD, "lon": -13.7105, "lat": 9.5149,
                                       "precision": "point", **KALOUM}]),
            "council": pd.DataFrame([{"id": 1, "name": PAYLOAD, "unit_level": "subprefecture",
                                      "unit_id": "GN-C-KALOUM", "chair_name": PAYLOAD, "members_total": 12, **KALOUM}]),
            "council_meeting": pd.DataFrame({"id": [1], "council_id": [1], "held_on": [date.today() - timedelta(30)],
                                             "topics": [PAYLOAD]}),
            "station": pd.DataFrame([{"id": 1, "name": PAYLOAD, "kind": "poste", "contact": PAYLOAD, **KALOUM,
                                      "lon": -13.7002, "lat": 9.5301}]),
        }, kind="test")
        mapping = json.dumps({"fields": {"category": "categorie"}, "flavour": "generic", "confidence": {}})
        review = pd.DataFrame({"source_row": [2], "data": [{MD_IMAGE: "x", PAYLOAD: PAYLOAD}],
                               "reasons": [["date_missing"]]})
        store.import_records("incident", pd.DataFrame(columns=["occurred_at", "category"]), review, kind="incidents",
                             file_name=PAYLOAD, file_sha256="0" * 64, mapping=mapping)
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def xss_server(chromium_executable: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` on a store holding the payloads (not empty, so no demo data is generated)."""
    work = tmp_path_factory.mktemp("xss-server")
    url = f"sqlite:///{work / 'xss.db'}"
    _fill(url)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("PROXIMITE_TILE_URL", "PROXIMITE_TILE_ATTRIBUTION")}
    env.update(PROXIMITE_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
           "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    log = work / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while _health(base_url) != "ok":
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text(errors='replace')}", pytrace=False)
            time.sleep(0.25)
        yield base_url
    finally:
        _stop(proc)


@pytest.fixture
def xss_page(browser, xss_server: str, results_dir: Path, request: pytest.FixtureRequest) -> Iterator[BrowserPage]:
    """A fresh page; off-machine requests aborted and recorded, page errors and dialogs recorded."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(30_000)
    page = context.new_page()
    bp = BrowserPage(page=page, base_url=xss_server)
    bp.dialogs = []  # type: ignore[attr-defined]

    def route(r) -> None:
        if is_local(r.request.url):
            r.continue_()
        else:
            bp.blocked.append(f"{r.request.method} {r.request.url}")
            r.abort("blockedbyclient")

    def on_dialog(dialog) -> None:  # alert() from the page or from the map's iframe
        bp.dialogs.append(f"{dialog.type}: {dialog.message}")  # type: ignore[attr-defined]
        dialog.dismiss()

    context.route("**/*", route)
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: bp.page_errors.append(str(exc)))
    try:
        yield bp
    finally:
        page.screenshot(path=str(results_dir / f"xss-{request.node.name}.png"), full_page=True)
        context.close()


_TARGET_JS = """
({needle, key}) => {
  // Frame the first interactive feature that has property `key` and a property holding `needle`, and return
  // a point of it that is the topmost element (what a pointer would hover), in iframe viewport coordinates.
  const m = window.map; let target = null;
  if (!m || !m._loaded) return null;
  m.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!target && p && l._path && p[key] !== undefined && Object.values(p).some(v => String(v).includes(needle)))
      target = l;
  });
  if (!target) return {found: false};
  if (target.getBounds && !target.getRadius) m.fitBounds(target.getBounds(), {animate: false, padding: [40, 40]});
  else m.setView(target.getLatLng(), 15, {animate: false});
  const b = target._path.getBoundingClientRect(), cx = b.left + b.width / 2, cy = b.top + b.height / 2;
  const spots = [];
  for (let i = 1; i < 16; i++)
    for (let j = 1; j < 16; j++) spots.push([b.left + b.width * i / 16, b.top + b.height * j / 16]);
  spots.sort((p, q) => Math.hypot(p[0] - cx, p[1] - cy) - Math.hypot(q[0] - cx, q[1] - cy));
  for (const [x, y] of spots) if (document.elementFromPoint(x, y) === target._path) return {found: true, x, y};
  return {found: true, x: null};
}
"""


def _frame(page: Page):
    handle = page.locator(MAP_IFRAME).last.element_handle(timeout=5_000)
    return handle.content_frame()


def hover_feature(page: Page, key: str, title: str, what: str):
    """Hover the feature with property ``key`` whose properties hold the payload; the tooltip it opens
    (told by ``title``: Leaflet keeps closed tooltips around)."""
    args = {"needle": "onerror", "key": key}
    deadline, spot = time.monotonic() + TIMEOUT, None
    while time.monotonic() < deadline:
        try:
            frame = _frame(page)
            spot = frame.evaluate(_TARGET_JS, args)
            if spot and spot.get("x") is not None:
                break
        except Exception as exc:  # the iframe is being replaced by a rerun: look again
            spot = f"{type(exc).__name__}: {exc}"
        page.wait_for_timeout(250)
    assert isinstance(spot, dict) and spot.get("x") is not None, f"no {what} to hover on the map ({spot})"
    return hover_for_tooltip(page, frame, _TARGET_JS, args, title=title, also=("onerror=alert(1)",))[0]


def assert_text_only(box, where: str) -> None:
    """``box`` (a popup or tooltip) shows the payload as typed and holds no element it could have made."""
    expect(box).to_contain_text(IMG)
    expect(box).to_contain_text('"><svg onload=alert(3)>')
    expect(box).to_contain_text("{{7*7}}")
    assert box.locator("img, svg, script, a[href^='javascript']").count() == 0, f"{where}: {box.inner_html()}"


def assert_nothing_ran(bp: BrowserPage, where: str) -> None:
    bp.page.wait_for_timeout(500)  # an onerror/onload dialog opens at once
    assert bp.dialogs == [], f"{where}: dialogs opened: {bp.dialogs}"  # type: ignore[attr-defined]
    assert bp.blocked == [], f"{where}: requests tried to leave the machine: {bp.blocked}"
    assert bp.page_errors == [], f"{where}: page errors: {bp.page_errors}"
    assert_no_app_exception(bp.page)


def test_popups_and_tooltips_show_payloads_as_text(xss_page: BrowserPage, timings: list) -> None:
    bp, started = xss_page, time.perf_counter()

    page = goto(bp, *MAP)
    expect(page.frame_locator(MAP_IFRAME).locator("path.leaflet-interactive").first).to_be_visible(
        timeout=TIMEOUT * 1000)
    click_radio(page, POINTS)
    deadline = time.monotonic() + TIMEOUT
    while True:  # the points layer arrives with the rerun of the map fragment
        try:
            frame = click_marker_with(bp, "onerror=alert(1)")
            break
        except (AssertionError, TypeError, AttributeError):
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(500)
    popup = frame.locator(".leaflet-popup-content")
    expect(popup).to_be_visible(timeout=10_000)
    assert_text_only(popup, "incident popup")
    assert_nothing_ran(bp, "map page")

    page = goto(bp, *PROGRAMME)
    assert_text_only(hover_feature(page, "council_names", "Kaloum", "council unit of Kaloum"), "council tooltip")
    layers = page.get_by_role("combobox", name=_exact("Couches", "Layers"))
    layers.click()
    page.get_by_role("option", name=STATIONS).click()
    page.keyboard.press("Escape")
    wait_idle(page)
    deadline = time.monotonic() + TIMEOUT
    while _frame(page).evaluate("() => { let n = 0; if (!window.map) return 0; window.map.eachLayer(l => { "
                                "const p = l.feature && "
                                "l.feature.properties; if (p && p.kind_label !== undefined) n++; }); return n; }") == 0:
        assert time.monotonic() < deadline, "the stations layer never appeared"
        page.wait_for_timeout(250)
    station = hover_feature(page, "kind_label", STATION_KIND, "station")
    assert_text_only(station, "station tooltip")
    assert_nothing_ran(bp, "programme page")
    timings.append(("xss walk: map popup and programme tooltips", time.perf_counter() - started))


def test_review_labels_load_nothing_from_a_file(xss_page: BrowserPage) -> None:
    """Column names of a queued row become field labels, rendered as markdown by Streamlit."""
    bp = xss_page
    page = goto(bp, *REVIEW)
    # Data grid cells carry the text too, in a hidden accessibility table: look for a visible copy.
    expect(page.get_by_text("onerror=alert(1)", exact=False).filter(visible=True).first).to_be_visible()
    assert page.locator("img[src*='192.0.2.7']").count() == 0, "a column name became an image"
    assert_nothing_ran(bp, "review page")
