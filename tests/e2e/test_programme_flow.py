"""Issue 5 in a real browser, offline: a council and a school visit recorded through the UI show up
on the programme dashboard's headline figures and on its map.

One walk as a council officer, then a planner, would take it, in French:

1. ``/programme`` first, for the baseline: the headline "Élèves touchés" (students reached; the
   demo records give 19,740) and what the council coverage layer says of Kaloum (the demo data
   already has a council there, so our council must *add* to its members, not merely exist).
2. ``/activites``: a council "CLSPD de Kaloum <b>test</b>" for the commune Kaloum, first refused
   (15 women out of 12 members: the refusal names "dont femmes" and nothing is written), then
   saved with 12 members, 5 women and 4 young people; a school "École primaire de Boulbinet" in
   Kaloum at 9.5105 N, 13.7120 W; a police-at-school officer; a visit of that school by that
   officer today, 345 students reached (demo records cannot be referenced, hence the real school
   and officer).
3. ``/programme`` again: the headline has grown by exactly 345; hovering Kaloum on the map shows
   a tooltip naming our council with the ``<b>`` as text (no bold element) and members summed;
   with the school layer switched on, the circle at our point has a tooltip naming the school,
   345 students, today's visit, in the "visited in the last 3 months" colour.

Same fixtures and rules as ``test_map_offline.py``: fresh store with the demo data, no request
may leave the machine, no console or page error, no Streamlit exception box. The demo data
already holds a school called "École primaire de Boulbinet" (elsewhere in Kaloum), so our
school is told apart by its position, never by its name alone.

Labels relied on (French, English accepted too): the page titles "Activités du programme" and
"Programme de police de proximité"; the selectbox "Que voulez-vous enregistrer ?" with options
"Conseil local de sécurité (CLSPD)", "École", "Agent de la police à l'école", "Visite d'école";
form fields "Nom *", "Commune ou sous-préfecture *" (options "Kaloum (Conakry)"), "Membres",
"dont femmes", "dont jeunes", "Niveau" ("École primaire"), "Latitude", "Longitude", "École *",
"Agent *", "Élèves touchés *"; the button "Enregistrer"; the messages "<record> : enregistré."
and "Non enregistré. Veuillez corriger :" followed by "<field>: <reason>" items; the table
under "Déjà enregistrées (fiches réelles)" (column "Nom"); the metric "Élèves touchés" (or
"Élèves sensibilisés"); the multiselect "Couches" and its option "Police à l'école". In the map
iframe, council features carry ``properties.status`` and ``council_names``, school circles
``properties.cls`` and ``students``.

Screenshots in ``test-results/e2e/``: ``programme-entry.png`` (the activities page after the
visit is saved), ``programme-dashboard.png`` (the dashboard with the school layer on), and the
two tooltips ``programme-map-kaloum.png`` and ``programme-map-boulbinet.png``.
"""

from __future__ import annotations

import os
import re
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

try:
    from playwright.sync_api import Frame, Locator, Page, expect
except ImportError:  # same policy as a missing Chromium (see conftest)
    if os.environ.get("PROXIMITE_TEST_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes"):
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from i18n import t_for
from layers.councils import STATUS_COLORS
from layers.schools import RECENCY_COLORS
from tests.e2e.test_hotspots_page import number
from tests.e2e.test_import_flow import choose, goto, metric
from tests.e2e.test_map_offline import (
    MAP_IFRAME,
    _exact,
    assert_no_app_exception,
    assert_offline_and_clean,
    hover_for_tooltip,
    wait_idle,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import BrowserPage

pytestmark = pytest.mark.browser

ACTIVITIES = ("activites", "Activités du programme", "Programme activities")
PROGRAMME = ("programme", "Programme de police de proximité", "Community policing programme")
RECORD_SELECT_LABELS = ("Que voulez-vous enregistrer ?", "What do you want to record?")
RECORD_SELECT = _exact(*RECORD_SELECT_LABELS)
RECORD = {
    "council": _exact("Conseil local de sécurité (CLSPD)", "Local security council (CLSPD)"),
    "school": _exact("École", "School"),
    "officer": _exact("Agent de la police à l'école", "Police-at-school officer"),
    "visit": _exact("Visite d'école", "School visit"),
}
SAVE = _exact("Enregistrer", "Save")
STUDENTS = ("Élèves touchés", "Élèves sensibilisés", "Students reached")
SCHOOL_LAYER = _exact("Police à l'école", "School outreach")

#: Students reached in the demo records (the programme's published figure).
DEMO_STUDENTS = 19_740
COUNCIL = "CLSPD de Kaloum <b>test</b>"
COMMUNE = "Kaloum"
MEMBERS, WOMEN, YOUTH = 12, 5, 4
SCHOOL = "École primaire de Boulbinet"
SCHOOL_LAT, SCHOOL_LON = 9.5105, -13.7120
OFFICER = "Fatoumata Sylla (essai e2e programme)"
STUDENTS_REACHED = 345
PAGE_TIMEOUT = 30_000  # ms, for messages and maps once the demo data is loaded
MAP_TIMEOUT = 45.0  # s


# --------------------------------------------------------------------------- form helpers


def field(page: Page, role: str, *labels: str) -> Locator:
    """The form input of ``role`` whose accessible name is one of ``labels`` (exactly one)."""
    box = page.get_by_role(role, name=_exact(*labels))
    expect(box).to_have_count(1)
    return box


def fill(page: Page, role: str, labels: tuple[str, ...], value: object) -> None:
    """Type ``value`` and leave the input: Streamlit commits a number input on blur, not per key."""
    box = field(page, role, *labels)
    box.fill(str(value))
    box.press("Tab")
    if role == "spinbutton":  # shown with the input's own decimals ("9.510500")
        expect(box).not_to_have_value("")
        assert float(box.input_value()) == float(value), f"{labels[0]}: {box.input_value()!r} for {value!r}"
    else:
        expect(box).to_have_value(str(value))


def pick(page: Page, labels: tuple[str, ...], option: re.Pattern[str], typed: str | None = None) -> None:
    """Choose ``option`` in a selectbox inside a form (no rerun until the form is sent).

    Long lists (340 communes) are virtualised: ``typed`` filters them first so the option exists.
    """
    box = field(page, "combobox", *labels)
    box.click()
    if typed:
        box.fill(typed)
    page.get_by_role("option", name=option).click()
    expect(box).to_have_value(option)


def record_type(page: Page, kind: str) -> None:
    """Switch the page to the form of ``kind`` (a rerun that draws the new form)."""
    choose(page, RECORD_SELECT, RECORD[kind])
    expect(page.get_by_role("button", name=SAVE)).to_be_visible()


def save(page: Page) -> None:
    page.get_by_role("button", name=SAVE).click()
    wait_idle(page)
    assert_no_app_exception(page)


def expect_saved(page: Page, kind: str) -> None:
    """The confirmation "<record> : enregistré." is on screen after the save's rerun."""
    record = RECORD[kind].pattern.strip("^$")  # "(Conseil local ...|Local security ...)", escaped
    done = re.compile(rf"^{record}\s?: enregistré\.$|^{record} saved\.$")
    expect(page.get_by_test_id("stAlert").filter(has_text=done)).to_be_visible(timeout=PAGE_TIMEOUT)
    expect(page.get_by_test_id("stAlert").filter(has_text=re.compile("Non enregistré|Not saved"))).to_have_count(0)


def recorded_table(page: Page) -> Locator:
    """The "already recorded" table of the current record type: an ``st.dataframe`` grid, read
    through its accessible cells, or the caption "Rien pour l'instant." while nothing is recorded."""
    grid = page.get_by_test_id("stDataFrame").filter(
        has=page.locator('[role="columnheader"]').filter(has_text=_exact("Nom", "Name"))
    )
    return grid.or_(page.get_by_text(_exact("Rien pour l'instant.", "None yet.")))


def recorded(page: Page, name: str) -> Locator:
    """Cells holding exactly ``name`` in the "already recorded" table."""
    return recorded_table(page).locator('[role="gridcell"]').filter(has_text=_exact(name))


# --------------------------------------------------------------------------- map helpers

_PROGRAMME_JS = """
({commune, lat, lon}) => {
  // What the programme map draws for the commune's council unit and for schools at (lat, lon).
  const m = window.map;
  if (!m || !m._loaded) return null;
  const decode = s => { const t = document.createElement('textarea'); t.innerHTML = s; return t.value; };
  const s = {council: null, schools: [], schoolLayer: false};
  m.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!p || !l._path) return;
    if (p.status !== undefined && p.council_names !== undefined && decode(p.name) === commune) {
      s.council = {status: p.status, names: decode(p.council_names), members: decode(p.members),
                   women: decode(p.women), youth: decode(p.youth), fill: l._path.getAttribute('fill')};
    }
    if (p.cls !== undefined && p.students !== undefined) {
      s.schoolLayer = true;
      const ll = l.getLatLng();
      if (Math.abs(ll.lat - lat) < 1e-6 && Math.abs(ll.lng - lon) < 1e-6)
        s.schools.push({name: decode(p.name), students: decode(p.students), last: decode(p.last_visit),
                        cls: p.cls, fill: l._path.getAttribute('fill')});
    }
  });
  return s;
}
"""

_ZOOM_JS = """
({kind, commune, lat, lon}) => {
  // Frame the target (the commune's council unit, or the school circle at lat/lon), without animation.
  const m = window.map; let target = null;
  m.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!p || !l._path) return;
    if (kind === 'council' && p.status !== undefined && p.council_names !== undefined) {
      const t = document.createElement('textarea'); t.innerHTML = p.name;
      if (t.value === commune) target = l;
    }
    if (kind === 'school' && p.cls !== undefined) {
      const ll = l.getLatLng();
      if (Math.abs(ll.lat - lat) < 1e-6 && Math.abs(ll.lng - lon) < 1e-6) target = l;
    }
  });
  if (!target) return false;
  if (kind === 'council') m.fitBounds(target.getBounds(), {animate: false, padding: [40, 40]});
  else m.setView(target.getLatLng(), 15, {animate: false});
  window.__e2eTarget = target;
  return true;
}
"""

_SPOT_JS = """
() => {
  // A point (iframe viewport coordinates) where the framed target's own path is the topmost element,
  // the one nearest its centre: what a user's pointer would hover.
  const target = window.__e2eTarget;
  if (!target) return null;
  const b = target._path.getBoundingClientRect(), cx = b.left + b.width / 2, cy = b.top + b.height / 2;
  const spots = [];
  for (let i = 1; i < 24; i++) for (let j = 1; j < 24; j++)
    spots.push([b.left + b.width * i / 24, b.top + b.height * j / 24]);
  spots.sort((p, q) => Math.hypot(p[0] - cx, p[1] - cy) - Math.hypot(q[0] - cx, q[1] - cy));
  for (const [x, y] of spots)
    if (document.elementFromPoint(x, y) === target._path) return {x, y};
  return {x: null, y: null, box: [b.left, b.top, b.width, b.height]};
}
"""


def map_frame(page: Page) -> Frame | None:
    handle = page.locator(MAP_IFRAME).last.element_handle(timeout=1_000)
    return handle.content_frame() if handle else None


def wait_programme_map(bp: BrowserPage, predicate, what: str) -> tuple[Frame, dict]:
    """(frame, state) once the programme map's state (``_PROGRAMME_JS``) satisfies ``predicate``.

    Streamlit keeps the previous map on screen while a rerun builds the next one: the map is
    recognised by what it draws. Fails at once on an uncaught page error.
    """
    page, deadline, last = bp.page, time.monotonic() + MAP_TIMEOUT, None
    args = {"commune": COMMUNE, "lat": SCHOOL_LAT, "lon": SCHOOL_LON}
    while time.monotonic() < deadline:
        assert bp.page_errors == [], f"page errors while waiting for {what}: {bp.page_errors}"
        try:
            frame = map_frame(page)
            if frame is not None:
                last = frame.evaluate(_PROGRAMME_JS, args)
                if last and predicate(last):
                    return frame, last
        except Exception as exc:  # no iframe yet, or replaced mid-evaluation: look again
            last = f"{type(exc).__name__}: {exc}"
        page.wait_for_timeout(200)
    assert_no_app_exception(page)
    raise AssertionError(f"the programme map never showed {what} within {MAP_TIMEOUT:.0f} s (last: {last})")


def hover(page: Page, frame: Frame, kind: str, title: str) -> Locator:
    """Frame the target on the map, move the pointer onto it, return the tooltip it opens (holding ``title``).

    Leaflet keeps closed tooltips' elements around, so the tooltip is told by its text.
    """
    args = {"kind": kind, "commune": COMMUNE, "lat": SCHOOL_LAT, "lon": SCHOOL_LON}
    assert frame.evaluate(_ZOOM_JS, args), f"no {kind} feature to frame"
    return hover_for_tooltip(page, frame, _SPOT_JS, title=title)[0]


def count_of(text: str) -> int:
    """The count before a share, as the tooltip prints it: ``30 (30 %)`` -> 30."""
    return number(text.split("(")[0])


def headline_students(page: Page) -> int:
    """The headline "students reached", read whatever the thousands separator (``20 085``)."""
    return number(metric(page, *STUDENTS))


# --------------------------------------------------------------------------- test


def test_council_and_school_visit_reach_dashboard(
    browser_page: BrowserPage, timings: list, results_dir: Path
) -> None:
    bp = browser_page
    started = time.perf_counter()
    fr = t_for("fr")

    # 1. Baseline on the dashboard: headline students and the council unit of Kaloum.
    page = goto(bp, *PROGRAMME)
    before = headline_students(page)
    assert before == DEMO_STUDENTS, (
        f"headline students {before} before any record; the demo records give {DEMO_STUDENTS} "
        "(did another test of the session record school visits?)"
    )
    _, base = wait_programme_map(bp, lambda s: s["council"] is not None, f"the council unit of {COMMUNE}")
    base_council = base["council"]
    assert COUNCIL not in base_council["names"], f"{COUNCIL!r} already recorded: {base_council}"
    assert_offline_and_clean(bp)
    timings.append(("programme dashboard, baseline", time.perf_counter() - started))

    # 2. Records through the activities page.
    t0 = time.perf_counter()
    page = goto(bp, *ACTIVITIES)
    expect(field(page, "combobox", *RECORD_SELECT_LABELS)).to_have_value(RECORD["council"])  # the default
    fill(page, "textbox", ("Nom *", "Name *"), COUNCIL)
    pick(page, ("Commune ou sous-préfecture *", "Commune or sub-prefecture *"),
         re.compile(rf"^{COMMUNE} \(Conakry\)$"), typed=COMMUNE)
    fill(page, "spinbutton", ("Membres", "Members"), MEMBERS)
    fill(page, "spinbutton", ("dont femmes", "of whom women"), 15)  # more women than members
    fill(page, "spinbutton", ("dont jeunes", "of whom young people"), YOUTH)
    save(page)
    refused = page.get_by_test_id("stAlert").filter(has_text=re.compile("Non enregistré|Not saved"))
    expect(refused).to_be_visible(timeout=PAGE_TIMEOUT)
    problem = page.get_by_role("listitem").filter(has_text=re.compile(r"^(dont femmes|of whom women)\s?:"))
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text(re.compile("plus de femmes que le total|more women than the total"))
    assert page.get_by_role("listitem").filter(has_text=re.compile("^(dont jeunes|Membres|Nom)")).count() == 0
    expect(recorded_table(page)).to_be_visible()  # drawn by the refusal's own run, after the store call
    expect(recorded(page, COUNCIL)).to_have_count(0)  # nothing saved
    # The form keeps what was typed: correct the one field and send it again.
    expect(field(page, "textbox", "Nom *", "Name *")).to_have_value(COUNCIL)
    fill(page, "spinbutton", ("dont femmes", "of whom women"), WOMEN)
    save(page)
    expect_saved(page, "council")
    expect(recorded(page, COUNCIL)).to_have_count(1)

    record_type(page, "school")
    fill(page, "textbox", ("Nom *", "Name *"), SCHOOL)
    pick(page, ("Niveau", "Level"), _exact("École primaire", "Primary school"))
    pick(page, ("Commune ou sous-préfecture *", "Commune or sub-prefecture *"),
         re.compile(rf"^{COMMUNE} \(Conakry\)$"), typed=COMMUNE)
    fill(page, "spinbutton", ("Latitude",), SCHOOL_LAT)
    fill(page, "spinbutton", ("Longitude",), f"{SCHOOL_LON:.4f}")
    save(page)
    expect_saved(page, "school")
    expect(recorded(page, SCHOOL)).to_have_count(1)

    record_type(page, "officer")
    fill(page, "textbox", ("Nom *", "Name *"), OFFICER)
    save(page)
    expect_saved(page, "officer")
    expect(recorded(page, OFFICER)).to_have_count(1)

    record_type(page, "visit")
    pick(page, ("École *", "School *"), _exact(f"{SCHOOL} ({COMMUNE})"))
    pick(page, ("Agent *", "Officer *"), _exact(OFFICER))
    fill(page, "spinbutton", ("Élèves touchés *", "Élèves sensibilisés *", "Students reached *"), STUDENTS_REACHED)
    save(page)
    expect_saved(page, "visit")
    page.mouse.move(5, 5)
    page.screenshot(path=str(results_dir / "programme-entry.png"), full_page=True)
    assert_offline_and_clean(bp)
    timings.append(("programme records through the UI", time.perf_counter() - t0))

    # 3. The dashboard again: headline, council coverage, school outreach.
    t0 = time.perf_counter()
    page = goto(bp, *PROGRAMME)
    after = headline_students(page)
    assert after == before + STUDENTS_REACHED, f"headline students {after}, expected {before} + {STUDENTS_REACHED}"
    frame, state = wait_programme_map(bp, lambda s: s["council"] is not None and COUNCIL in s["council"]["names"],
                                      f"{COUNCIL!r} in the council unit of {COMMUNE}")
    council = state["council"]
    assert council["status"] != "none" and council["fill"] == STATUS_COLORS[council["status"]], council
    assert count_of(council["members"]) == count_of(base_council["members"]) + MEMBERS, (council, base_council)
    assert count_of(council["women"]) == count_of(base_council["women"]) + WOMEN, (council, base_council)
    assert count_of(council["youth"]) == count_of(base_council["youth"]) + YOUTH, (council, base_council)

    tooltip = hover(page, frame, "council", COMMUNE)
    expect(tooltip).to_contain_text(COUNCIL)  # the markup shows as text...
    assert tooltip.locator("b").count() == 0, tooltip.inner_html()  # ...and makes no bold element
    expect(tooltip).to_contain_text(COMMUNE)
    expect(tooltip).to_contain_text(fr.n(count_of(council["members"])))
    page.screenshot(path=str(results_dir / "programme-map-kaloum.png"))  # with the tooltip, for review

    layers = field(page, "combobox", "Couches", "Layers")
    layers.click()
    page.get_by_role("option", name=SCHOOL_LAYER).click()
    page.keyboard.press("Escape")
    wait_idle(page)
    frame, state = wait_programme_map(bp, lambda s: s["schoolLayer"] and len(s["schools"]) > 0,
                                      f"a school circle at {SCHOOL_LAT}, {SCHOOL_LON}")
    assert len(state["schools"]) == 1, state["schools"]
    school = state["schools"][0]
    assert school["name"] == SCHOOL and number(school["students"]) == STUDENTS_REACHED, school
    assert school["cls"] == "recent" and school["fill"] == RECENCY_COLORS["recent"], school
    page.locator(MAP_IFRAME).last.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.mouse.move(5, 5)
    page.screenshot(path=str(results_dir / "programme-dashboard.png"), full_page=True)

    tooltip = hover(page, frame, "school", SCHOOL)
    expect(tooltip).to_contain_text(SCHOOL)
    expect(tooltip).to_contain_text(fr.n(STUDENTS_REACHED))
    expect(tooltip).to_contain_text(fr.d(date.today()))
    page.screenshot(path=str(results_dir / "programme-map-boulbinet.png"))
    assert_offline_and_clean(bp)
    timings.append(("programme dashboard after the records", time.perf_counter() - t0))
    timings.append(("programme flow total", time.perf_counter() - started))
