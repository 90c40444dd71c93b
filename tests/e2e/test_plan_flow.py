"""The local security plan ("Plan local de sécurité") in a real browser, offline, in French.

The issue's "done when", as a council of a Conakry commune would do it on the demo data:

1. ``/plan-local``: in "Nouveau plan" (opened if the demo plan of Kaloum keeps it closed), the unit
   "Matam (Conakry)", then "Créer le plan"; the diagnosis tab shows figures ("Incidents signalés" > 0).
2. "2. Priorités": the map (st_folium's iframe) is zoomed in with its "+" button until a square well
   inside Matam is big enough on screen; the leaflet-draw polygon tool then draws its four corners
   (pixels from Leaflet's ``latLngToContainerPoint``) and closes the outline on the first one. The
   rerun this triggers keeps the tab open and shows "Enregistrer la priorité dessinée", whose
   "Priorité" gets a title holding ``<img src=x onerror=alert(1)>``; "Vérifier et enregistrer"
   saves it. The priority is listed in the table, the map draws it with a rank label "1" and its
   tooltip shows the title as text (no ``img`` element); no dialog ever opens.
3. "3. Plan d'action": "Ajouter une action" with an action, a body responsible and a budget; the
   action is listed.
4. "4. Adoption": a first signatory, the box "Le conseil a adopté ce plan en séance", "Adopter le
   plan"; the page says "Adopté le <today>.".
5. "Préparer le PDF", then "Télécharger le plan (PDF)": a PDF whose text names the plan, Matam,
   the priority (brackets and all), the adoption, the signatory and the action, with the map as an
   image on its first pages.

Finally the store the server writes to (found under pytest's base temporary directory, where the
``app_server`` fixture puts it) holds the adopted plan with the diagnosis figures shown in step 1,
the drawn polygon (inside Matam, the square drawn), the action and the signatory.

Same fixtures and rules as ``test_map_offline.py``: fresh store with the demo data, no request
may leave the machine, no console or page error, no Streamlit exception box.

Labels relied on (French, English accepted too): the page title "Plan local de sécurité"; the
expander "Nouveau plan"; the selectbox "Commune, sous-préfecture ou quartier" (option
"Matam (Conakry)"); the buttons "Créer le plan", "Vérifier et enregistrer", "Ajouter l'action",
"Adopter le plan", "Préparer le PDF", "Télécharger le plan (PDF)"; the metric "Incidents
signalés"; the tabs "2. Priorités", "3. Plan d'action", "4. Adoption"; the fields "Priorité",
"Action", "Responsable", "Budget (GNF)", "Nom"; the checkbox "Le conseil a adopté ce plan en
séance"; the messages "Plan créé : …", "Rien n'est encore dessiné.", "Priorité enregistrée.",
"Action ajoutée.", "Adopté le {day}." and the tooltip "Priorité n° {rank} : {title}".
leaflet-draw's own "Finish" action is not translated (the plugin's strings).

Screenshots in ``test-results/e2e/``: ``plan-drawn.png`` (the polygon drawn, before saving),
``plan-priority.png`` (the saved priority's tooltip) and ``plan-adopted.png``.
"""

from __future__ import annotations

import io
import os
import re
import time
from datetime import date
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

from pypdf import PdfReader

import shapely

from geo.boundaries import load_display
from i18n import t_for
from tests.e2e.test_hotspots_page import number
from tests.e2e.test_import_flow import goto, metric
from tests.e2e.test_map_offline import (
    MAP_IFRAME,
    _exact,
    assert_no_app_exception,
    assert_offline_and_clean,
    hover_for_tooltip,
    wait_idle,
    wait_settled,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import BrowserPage

pytestmark = pytest.mark.browser

PAGE = ("plan-local", "Plan local de sécurité", "Local security plan")
UNIT_ID, UNIT_NAME = "GN-C-MATAM", "Matam"
UNIT_OPTION = _exact("Matam (Conakry)")
PRIORITY = "Éclairage du marché <img src=x onerror=alert(1)>"
ACTION, RESPONSIBLE, BUDGET = "Lampadaires solaires au marché", "Mairie de Matam", 15_000_000
SIGNATORY = "Mariama Camara"
PAGE_TIMEOUT = 60_000  # ms; the first page of the session also waits for the demo data
MAP_TIMEOUT = 45.0  # s
#: Side (px) of the square drawn on screen: big enough for leaflet-draw to tell the corners apart.
MIN_SIDE = 60


# --------------------------------------------------------------------------- page helpers


def form_with(page: Page, button: re.Pattern[str]) -> Locator:
    """The ``st.form`` holding the submit button ``button``."""
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name=button))
    expect(form).to_have_count(1)
    return form


def fill(box: Locator, value: object) -> None:
    """Type ``value`` and leave the input (Streamlit commits number inputs on blur)."""
    expect(box).to_have_count(1)
    box.fill(str(value))
    box.press("Tab")


def choose_in_form(page: Page, box: Locator, typed: str, option: re.Pattern[str]) -> None:
    """Choose ``option`` in the selectbox ``box`` of a form, filtering the (virtualised) list with ``typed``.

    A rerun the page did not ask for (the demo plan's map sends its first value once drawn) may close the
    list under the pointer: then the choice is made again once the run is over.
    """
    expect(box).to_be_visible()
    for attempt in range(3):
        wait_idle(page, started=True)
        box.click()
        box.fill(typed)
        try:
            page.get_by_role("option", name=option).click(timeout=5_000)
            expect(box).to_have_value(option, timeout=2_000)
            return
        except (AssertionError, PlaywrightTimeout):
            if attempt == 2:
                raise
            print(f"the list of {typed!r} closed before the choice (attempt {attempt + 1}): again")
            page.keyboard.press("Escape")


def open_tab(page: Page, *names: str) -> None:
    tab = page.get_by_role("tab", name=_exact(*names))
    expect(tab).to_have_count(1)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def expect_tab(page: Page, *names: str) -> None:
    """The tab named ``names`` is the one shown."""
    selected = page.get_by_role("tab", selected=True)
    expect(selected).to_have_count(1)
    expect(selected).to_have_text(_exact(*names))


def alert_with(page: Page, pattern: re.Pattern[str]) -> Locator:
    return page.get_by_test_id("stAlert").filter(has_text=pattern)


def expect_no_refusal(page: Page) -> None:
    """No error box (a refused save or a rejected shape) on the page."""
    errors = page.get_by_test_id("stAlertContentError")
    assert errors.count() == 0, f"the page shows errors: {errors.all_inner_texts()}"


def grid_texts(page: Page, header: re.Pattern[str]) -> list[str]:
    """Texts of the cells of every ``st.dataframe`` with a column named ``header``."""
    grid = page.get_by_test_id("stDataFrame").filter(
        has=page.locator('[role="columnheader"]').filter(has_text=header))
    return grid.locator('[role="gridcell"]').all_text_contents()


def wait_cell(page: Page, header: re.Pattern[str], text: str, what: str, timeout: float = 20.0) -> list[str]:
    """The cell texts of the table with ``header`` once one cell is exactly ``text``."""
    deadline, cells = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        cells = grid_texts(page, header)
        if text in cells:
            return cells
        page.wait_for_timeout(250)
    raise AssertionError(f"{what}: no cell {text!r} in the table with column {header.pattern!r}: {cells}")


# --------------------------------------------------------------------------- map helpers

_MAP_JS = """
() => {
  // The priority map: its size and zoom, the draw toolbar, the priorities it draws (tooltip text,
  // decoded as the tooltip shows it) and the rank labels.
  const m = window.map;
  if (!m || !m._loaded) return null;
  const decode = s => { const t = document.createElement('textarea'); t.innerHTML = s; return t.value; };
  const s = {zoom: m.getZoom(), size: [m.getSize().x, m.getSize().y],
             draw: !!document.querySelector('a.leaflet-draw-draw-polygon'), priorities: [],
             ranks: Array.from(document.querySelectorAll('.lbl-rank')).map(e => e.textContent.trim())};
  m.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (p && l._path && p.tip !== undefined && p.kind !== undefined) s.priorities.push(decode(p.tip));
  });
  return s;
}
"""

_POINTS_JS = """
(corners) => {
  // Corners (lat, lon) as pixels in the iframe's viewport, after framing them in the map.
  const m = window.map, box = m.getContainer().getBoundingClientRect();
  return corners.map(([lat, lon]) => {
    const p = m.latLngToContainerPoint([lat, lon]);
    return {x: box.left + p.x, y: box.top + p.y};
  });
}
"""

_SPOT_JS = """
() => {
  // A point (iframe viewport) where the saved priority's own path is the topmost element.
  const m = window.map; let target = null;
  m.eachLayer(l => { const p = l.feature && l.feature.properties;
                     if (p && l._path && p.tip !== undefined && p.kind !== undefined) target = l; });
  if (!target) return null;
  const b = target._path.getBoundingClientRect(), cx = b.left + b.width / 2, cy = b.top + b.height / 2;
  const spots = [];
  for (let i = 1; i < 20; i++)
    for (let j = 1; j < 20; j++) spots.push([b.left + b.width * i / 20, b.top + b.height * j / 20]);
  spots.sort((p, q) => Math.hypot(p[0] - cx, p[1] - cy) - Math.hypot(q[0] - cx, q[1] - cy));
  for (const [x, y] of spots) if (document.elementFromPoint(x, y) === target._path) return {x, y};
  return {x: null, box: [b.left, b.top, b.width, b.height]};
}
"""


def map_frame(page: Page) -> Frame | None:
    handle = page.locator(MAP_IFRAME).last.element_handle(timeout=1_000)
    return handle.content_frame() if handle else None


def wait_plan_map(bp: BrowserPage, predicate, what: str) -> tuple[Frame, dict]:
    """(frame, state) once the priority map's state (``_MAP_JS``) satisfies ``predicate``.

    Streamlit keeps the previous map on screen while a rerun builds the next one: the map is
    recognised by what it draws.
    """
    page, deadline, last = bp.page, time.monotonic() + MAP_TIMEOUT, None
    while time.monotonic() < deadline:
        assert bp.page_errors == [], f"page errors while waiting for {what}: {bp.page_errors}"
        try:
            frame = map_frame(page)
            if frame is not None:
                last = frame.evaluate(_MAP_JS)
                if last and predicate(last):
                    return frame, last
        except Exception as exc:  # no iframe yet, or replaced mid-evaluation: look again
            last = f"{type(exc).__name__}: {exc}"
        page.wait_for_timeout(200)
    assert_no_app_exception(page)
    raise AssertionError(f"the priority map never showed {what} within {MAP_TIMEOUT:.0f} s (last: {last})")


def square_inside(unit: shapely.Geometry) -> list[tuple[float, float]]:
    """Four corners (lat, lon) of a square well inside ``unit`` (around its widest inner circle)."""
    circle = shapely.maximum_inscribed_circle(unit)
    centre, edge = shapely.get_point(circle, 0), shapely.get_point(circle, 1)
    half = 0.5 * centre.distance(edge)  # the square's corners stay within 0.71 of the radius
    x, y = centre.x, centre.y
    corners = [(y + half, x - half), (y + half, x + half), (y - half, x + half), (y - half, x - half)]
    square = shapely.Polygon([(lon, lat) for lat, lon in corners])
    assert unit.contains(square), "the test's square is not inside the unit"
    return corners


def draw_polygon(page: Page, frame: Frame, corners: list[tuple[float, float]]) -> None:
    """Draw the polygon with leaflet-draw: the toolbar's polygon tool, one click per corner, then a
    click on the first corner to close it (as a user would)."""
    iframe = page.locator(MAP_IFRAME).last
    iframe.evaluate("e => e.scrollIntoView({block: 'center'})")
    wait_settled(page, frame)  # until the first click, a late refit may still move the map
    for _ in range(4):  # zoom in (the map's "+" button, as a user would) until the square is big enough
        points = frame.evaluate(_POINTS_JS, [list(c) for c in corners])
        if max(p["x"] for p in points) - min(p["x"] for p in points) >= MIN_SIDE:
            break
        zoom = frame.evaluate("() => window.map.getZoom()")
        frame.locator("a.leaflet-control-zoom-in").click()
        frame.wait_for_function("z => window.map.getZoom() === z && !window.map._animatingZoom", arg=zoom + 1)
        page.wait_for_timeout(300)  # the zoom animation's last redraw
    frame.locator("a.leaflet-draw-draw-polygon").click()
    expect(frame.locator(".leaflet-draw-actions a").filter(has_text="Finish")).to_be_visible()
    points = frame.evaluate(_POINTS_JS, [list(c) for c in corners])
    box = iframe.bounding_box()
    size = frame.evaluate("() => [window.map.getSize().x, window.map.getSize().y]")
    xs, ys = [p["x"] for p in points], [p["y"] for p in points]
    assert min(xs) > 60 and max(xs) < size[0] - 10 and min(ys) > 10 and max(ys) < size[1] - 10, (
        f"the corners {points} are not well inside the {size} px map")
    assert max(xs) - min(xs) >= MIN_SIDE and max(ys) - min(ys) >= MIN_SIDE, (
        f"the square is too small on screen: {points}")
    for p in [*points, points[0]]:
        page.mouse.move(box["x"] + p["x"], box["y"] + p["y"], steps=4)
        page.mouse.down()
        page.mouse.up()
        page.wait_for_timeout(150)  # leaflet-draw ignores a second click within its double-click delay
    # On a loaded machine the closing click can land inside leaflet-draw's double-click delay and be
    # ignored: the tool is then still drawing, and its own "Finish" action closes the outline.
    finish = frame.locator(".leaflet-draw-actions a").filter(has_text="Finish")
    page.wait_for_timeout(500)
    if finish.is_visible():
        finish.click()


def hover_priority(page: Page, frame: Frame, title: str) -> Locator:
    """Move the pointer onto the saved priority; return the tooltip it opens (told by ``title``)."""
    return hover_for_tooltip(page, frame, _SPOT_JS, title=title)[0]


# --------------------------------------------------------------------------- the store


def server_store_url(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """The SQLite store of the ``app_server`` fixture (``<basetemp>/e2e-server*/e2e.db``), if found."""
    found = sorted({p.resolve() for p in tmp_path_factory.getbasetemp().glob("e2e-server*/e2e.db")})
    return f"sqlite:///{found[0]}" if len(found) == 1 else None  # pytest adds an "e2e-servercurrent" link


# --------------------------------------------------------------------------- test


def test_council_draws_up_adopts_and_prints_a_plan(
    browser_page: BrowserPage, timings: list, results_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bp = browser_page
    fr = t_for("fr")
    started = time.perf_counter()
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:  # alert() from the page or from the map's iframe
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    bp.page.on("dialog", on_dialog)
    unit = load_display("subprefecture", "high").set_index("unit_id").geometry[UNIT_ID]
    corners = square_inside(unit)

    # 1. A new plan for Matam; the diagnosis shows figures.
    page = goto(bp, *PAGE)
    new_plan = page.get_by_test_id("stExpander").filter(
        has=page.locator("summary p").filter(has_text=_exact("Nouveau plan", "New plan")))
    expect(new_plan).to_have_count(1)
    if new_plan.locator("details").get_attribute("open") is None:
        new_plan.locator("summary").click()
    units = page.get_by_role("combobox", name=_exact("Commune, sous-préfecture ou quartier",
                                                     "Commune, sub-prefecture or neighbourhood"))
    choose_in_form(page, units, UNIT_NAME, UNIT_OPTION)
    page.get_by_role("button", name=_exact("Créer le plan", "Create the plan")).click()
    wait_idle(page)
    expect(alert_with(page, re.compile(r"^Plan créé\s?: .*Matam"))).to_be_visible(timeout=PAGE_TIMEOUT)
    # The flash comes first; the diagnosis is drawn once its figures are computed. Until the run ends, the
    # figures on screen may still be those of the plan shown before (the demo plan of Kaloum).
    wait_idle(page, started=True)
    assert_no_app_exception(page)
    plan_title = page.get_by_role("heading", level=3).filter(has_text=re.compile("Matam"))
    expect(plan_title).to_have_count(1)
    plan_title = plan_title.inner_text().strip()
    assert plan_title.startswith("Plan local de sécurité de Matam"), plan_title
    incidents = number(metric(page, "Incidents signalés", "Incidents reported"))
    assert incidents > 0, f"the diagnosis counts {incidents} incidents in Matam"
    timings.append(("plan: created, diagnosis shown", time.perf_counter() - started))

    # 2. A priority drawn on the map, with markup in its title.
    t0 = time.perf_counter()
    open_tab(page, "2. Priorités", "2. Priorities")
    expect(page.get_by_text(_exact("Rien n'est encore dessiné.", "Nothing drawn yet."))).to_be_visible()
    frame, state = wait_plan_map(bp, lambda s: s["draw"] and s["size"][0] > 300 and s["zoom"] >= 12,
                                 "the draw toolbar on a map framed on Matam")
    assert state["priorities"] == [] and state["ranks"] == [], f"priorities before any was drawn: {state}"
    draw_polygon(page, frame, corners)
    expect(frame.locator("path.leaflet-interactive")).not_to_have_count(0)
    save_button = _exact("Vérifier et enregistrer", "Check and save")
    expect(page.get_by_role("button", name=save_button, include_hidden=True)).to_have_count(1, timeout=45_000)
    wait_idle(page, started=True)
    # The rerun the drawing triggers keeps the council on the tab they are working in.
    expect_tab(page, "2. Priorités", "2. Priorities")
    expect(page.get_by_role("button", name=save_button)).to_be_visible()
    page.screenshot(path=str(results_dir / "plan-drawn.png"), full_page=True)
    form = form_with(page, save_button)
    title_box = form.get_by_role("textbox", name=_exact("Priorité", "Priority"))
    fill(title_box, PRIORITY)
    expect(title_box).to_have_value(PRIORITY)
    form.get_by_role("button", name=save_button).click()
    wait_idle(page)
    expect(alert_with(page, _exact("Priorité enregistrée.", "Priority saved."))).to_be_visible(timeout=20_000)
    expect_no_refusal(page)
    assert_no_app_exception(page)
    expect_tab(page, "2. Priorités", "2. Priorities")
    wait_cell(page, _exact("Priorité", "Priority"), PRIORITY, "the priorities table")
    tip = fr("Priority no. {rank}: {title}", rank=1, title=PRIORITY)
    frame, state = wait_plan_map(bp, lambda s: tip in s["priorities"], f"the priority {tip!r}")
    assert state["priorities"] == [tip], state["priorities"]
    assert state["ranks"] == ["1"], f"rank labels on the map: {state['ranks']}"
    tooltip = hover_priority(page, frame, PRIORITY)
    expect(tooltip).to_contain_text(tip)  # the markup shows as text...
    assert tooltip.locator("img, script, svg").count() == 0, tooltip.inner_html()  # ...and makes no element
    page.screenshot(path=str(results_dir / "plan-priority.png"))
    page.wait_for_timeout(300)  # an onerror dialog would open at once
    assert dialogs == [], f"dialogs opened: {dialogs}"
    assert_offline_and_clean(bp)
    timings.append(("plan: priority drawn and saved", time.perf_counter() - t0))

    # 3. An action.
    t0 = time.perf_counter()
    open_tab(page, "3. Plan d'action", "3. Action plan")
    add = _exact("Ajouter l'action", "Add the action")
    form = form_with(page, add)
    if not form.is_visible():  # the expander opens by itself while the plan has no action
        page.locator("summary").filter(
            has=page.locator("p").filter(has_text=_exact("Ajouter une action", "Add an action"))).click()
    fill(form.get_by_role("textbox", name=_exact("Action")), ACTION)
    fill(form.get_by_role("textbox", name=_exact("Responsable", "Responsible")), RESPONSIBLE)
    budget = form.get_by_role("spinbutton", name=_exact("Budget (GNF)"))
    fill(budget, BUDGET)
    assert float(budget.input_value()) == BUDGET, budget.input_value()
    form.get_by_role("button", name=add).click()
    wait_idle(page)
    expect(alert_with(page, _exact("Action ajoutée.", "Action added."))).to_be_visible(timeout=20_000)
    expect_no_refusal(page)
    assert_no_app_exception(page)
    expect_tab(page, "3. Plan d'action", "3. Action plan")
    wait_cell(page, _exact("Responsable", "Responsible"), RESPONSIBLE, "the action plan table")
    assert ACTION in grid_texts(page, _exact("Responsable", "Responsible")), "the action's title is not listed"
    timings.append(("plan: action added", time.perf_counter() - t0))

    # 4. Adoption.
    t0 = time.perf_counter()
    open_tab(page, "4. Adoption")
    adopt = _exact("Adopter le plan", "Adopt the plan")
    form = form_with(page, adopt)
    fill(form.get_by_role("textbox", name=_exact("Nom", "Name")).first, SIGNATORY)
    confirm_label = _exact("Le conseil a adopté ce plan en séance", "The council adopted this plan in session")
    confirm = form.get_by_role("checkbox", name=confirm_label)
    expect(confirm).not_to_be_checked()
    form.get_by_test_id("stCheckbox").filter(has_text=confirm_label).click()  # the input itself is hidden
    expect(confirm).to_be_checked()
    form.get_by_role("button", name=adopt).click()
    wait_idle(page)
    adopted = alert_with(page, re.compile(rf"^Adopté le {re.escape(fr.d(date.today()))}\.$"))
    expect(adopted).to_be_visible(timeout=PAGE_TIMEOUT)  # in the adoption tab, still open
    expect_no_refusal(page)
    assert_no_app_exception(page)
    expect(page.get_by_role("button", name=adopt)).to_have_count(0)
    page.screenshot(path=str(results_dir / "plan-adopted.png"), full_page=True)
    timings.append(("plan: adopted", time.perf_counter() - t0))

    # 5. The printed plan.
    t0 = time.perf_counter()
    page.get_by_role("button", name=_exact("Préparer le PDF", "Prepare the PDF")).click()
    wait_idle(page)
    download_button = page.get_by_role("button", name=_exact("Télécharger le plan (PDF)", "Download the plan (PDF)"))
    expect(download_button).to_be_visible(timeout=PAGE_TIMEOUT)
    with page.expect_download(timeout=30_000) as info:
        download_button.click()
    download = info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename == f"plan-local-{UNIT_ID.lower()}-v1.pdf", download.suggested_filename
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    for needle in ("Plan local de sécurité", UNIT_NAME, PRIORITY, "Adopté", SIGNATORY, ACTION):
        assert needle in flat, f"{needle!r} not in the PDF's text:\n{text[:3000]}"
    images = [img for p in reader.pages[:2] for img in p.images]
    assert images, "no image (map) on the PDF's first pages"
    biggest = max(images, key=lambda i: i.image.width * i.image.height).image
    assert biggest.width >= 300 and biggest.height >= 200, f"largest image {biggest.size}: no map"
    wait_idle(page)
    assert_no_app_exception(page)
    timings.append(("plan: PDF", time.perf_counter() - t0))

    assert dialogs == [], f"dialogs opened: {dialogs}"
    assert_offline_and_clean(bp)

    # What reached the server's store.
    url = server_store_url(tmp_path_factory)
    if url is None:
        print("the app_server store was not found: store checks skipped")
    else:
        from storage.store import Store

        store = Store(url)
        try:
            plans = store.plans(unit_id=UNIT_ID)
            plans = plans[plans["title"] == plan_title]
            assert len(plans) == 1, plans
            plan = store.plan(int(plans["id"].iloc[0]))
            assert plan["status"] == "adopted" and plan["adopted_on"] is not None, plan
            assert plan["signatories"][0]["name"] == SIGNATORY, plan["signatories"]
            assert plan["diagnosis"]["incidents"]["total"] == incidents, plan["diagnosis"]["incidents"]
            priorities = store.plan_priorities(plan["id"])
            assert priorities["title"].tolist() == [PRIORITY]
            assert priorities["source"].iloc[0] == "drawn" and priorities["kind"].iloc[0] == "area"
            drawn = priorities.geometry.iloc[0]
            square = shapely.Polygon([(lon, lat) for lat, lon in corners])
            assert unit.contains(drawn), f"the saved polygon {drawn.wkt} is not inside Matam"
            assert drawn.symmetric_difference(square).area < 0.05 * square.area, (
                f"the saved polygon {drawn.wkt} is not the square drawn {square.wkt}")
            actions = store.plan_actions(plan["id"])
            assert actions["title"].tolist() == [ACTION]
            assert actions["responsible"].iloc[0] == RESPONSIBLE and actions["budget_gnf"].iloc[0] == BUDGET
        finally:
            store.engine.dispose()
        print(f"store checked: plan {plan['id']} adopted with its priority, action and signatory")

    total = time.perf_counter() - started
    timings.append(("plan: total", total))
    print(f"local plan walk-through: {total:.1f} s")
