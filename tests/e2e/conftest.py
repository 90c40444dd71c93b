"""Fixtures for the real-browser tests: one Streamlit server and one Chromium per session.

The server runs ``streamlit run app.py`` on a free port with a fresh SQLite store
(the app loads its demo data on first start) and without ``PROXIMITE_TILE_URL``,
so the map must draw everything from the app's own files. Each test gets a new
browser context whose routing aborts -- and records -- every request that would
leave the machine; console errors and uncaught page errors (main page and the
map's component iframe alike) are recorded too.

Chromium is Debian's (``/usr/bin/chromium``, or ``PROXIMITE_TEST_CHROMIUM``);
Playwright never downloads a browser. Without it the tests skip, unless
``PROXIMITE_TEST_REQUIRE_BROWSER=1`` (CI), where they fail instead.

Screenshots go to ``test-results/e2e/`` at the repository root (gitignored): one
per test at teardown (``FAILED-<test>.png`` when the test failed) plus those the
tests take on purpose; ``timings.txt`` there holds the measured load times and
``server.log`` the server's output.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPO_ROOT / "test-results" / "e2e"
CHROMIUM_ENV = "PROXIMITE_TEST_CHROMIUM"
REQUIRE_BROWSER_ENV = "PROXIMITE_TEST_REQUIRE_BROWSER"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # we run as root in CI containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # otherwise Chromium itself calls Google hosts
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SERVER_START_TIMEOUT = 90.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
#: URL schemes that never touch the network.
LOCAL_SCHEMES = {"data", "blob", "about"}
VIEWPORT = {"width": 1400, "height": 1200}  # tall enough for the whole 620 px map


def _require_browser() -> bool:
    return os.environ.get(REQUIRE_BROWSER_ENV, "").lower() in ("1", "true", "yes")


def _skip_or_fail(reason: str) -> None:
    if _require_browser():
        pytest.fail(f"{REQUIRE_BROWSER_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def is_local(url: str) -> bool:
    """True for URLs served by this machine (or not network URLs at all)."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.hostname in LOCAL_HOSTS


# --------------------------------------------------------------------------- reports and results


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item: fixtures see at teardown whether the test failed."""
    rep = yield
    item.stash.setdefault(_REPORTS, {})[rep.when] = rep
    return rep


def _failed(item: pytest.Item) -> bool:
    reports = item.stash.get(_REPORTS, {})
    return any(r.failed for r in reports.values())


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")


@pytest.fixture(scope="session")
def results_dir() -> Path:
    """``test-results/e2e`` at the repository root, emptied of the previous run's files."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for old in [
        *RESULTS_DIR.glob("*.png"),
        RESULTS_DIR / "timings.txt",
        RESULTS_DIR / "server.log",
    ]:
        old.unlink(missing_ok=True)
    return RESULTS_DIR


@pytest.fixture(scope="session")
def timings(results_dir: Path) -> Iterator[list[tuple[str, float]]]:
    """(label, seconds) pairs the tests append; written to ``timings.txt`` when the session ends."""
    rows: list[tuple[str, float]] = []
    yield rows
    if rows:
        lines = [f"{label}\t{seconds:.2f} s" for label, seconds in rows]
        (results_dir / "timings.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- browser executable


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium; skip when missing (fail under PROXIMITE_TEST_REQUIRE_BROWSER=1)."""
    path = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        _skip_or_fail(
            f"Chromium not found at {path} (apt-get install chromium, or set {CHROMIUM_ENV})"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip_or_fail("the playwright package is not installed (bash scripts/setup.sh test)")
    return path


# --------------------------------------------------------------------------- app server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(base_url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
            return resp.read().decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError):
        return None


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server's process group (Streamlit may have children); kill it if stuck."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_server(
    chromium_executable: str, results_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL of ``streamlit run app.py`` on a free port with a fresh SQLite store.

    The server's output is copied to ``test-results/e2e/server.log`` when the session ends.
    """
    work = tmp_path_factory.mktemp("e2e-server")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.pop("PROXIMITE_TILE_URL", None)
    env.pop("PROXIMITE_TILE_ATTRIBUTION", None)
    env["PROXIMITE_DATABASE_URL"] = f"sqlite:///{work / 'e2e.db'}"
    env["PYTHONUNBUFFERED"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    out_path, err_path = work / "stdout.log", work / "stderr.log"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def logs() -> str:
        return (
            f"command: {' '.join(cmd)}\n--- stdout ---\n{out_path.read_text(errors='replace')}"
            f"\n--- stderr ---\n{err_path.read_text(errors='replace')}"
        )

    deadline = time.monotonic() + SERVER_START_TIMEOUT
    try:
        while _health(base_url) != "ok":
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with code {proc.returncode} before answering "
                    f"/_stcore/health\n{logs()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer 'ok' on {base_url}/_stcore/health within "
                    f"{SERVER_START_TIMEOUT:.0f} s\n{logs()}",
                    pytrace=False,
                )
            time.sleep(0.25)
        yield base_url
    finally:
        _stop(proc)
        (results_dir / "server.log").write_text(logs(), encoding="utf-8")


# --------------------------------------------------------------------------- browser and page


# Streamlit bug, not ours: opening a page by its URL path (/carte) makes the frontend probe
# <path>/_stcore/health and <path>/_stcore/host-config (404) before the root ones
# (streamlit/streamlit#7074, open, "404 health check when navigating directly to a subpage").
# Chromium logs each 404 as a console error; only these exact URLs are ignored.
_BENIGN_404 = re.compile(
    r"^https?://[^/]+/[^_][^?#]*/_stcore/(health|host-config|allowed-message-origins)$"
)


def _benign_console_error(text: str, url: str) -> bool:
    return (
        text.startswith("Failed to load resource")
        and "404" in text
        and bool(_BENIGN_404.match(url))
    )


@dataclass
class BrowserPage:
    """A fresh page plus what it tried to fetch from outside and what it logged as errors."""

    page: object  # playwright.sync_api.Page
    base_url: str
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    ignored_console: list[str] = field(default_factory=list)

    def problems(self) -> str:
        """Readable summary of everything recorded, for assertion messages."""
        return (
            f"blocked non-local requests: {self.blocked}\nconsole errors: {self.console_errors}\n"
            f"page errors: {self.page_errors}"
        )


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[object]:
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
        )
    except Exception as exc:  # a broken Chromium is a failure, not a skip
        pw.stop()
        pytest.fail(f"could not launch {chromium_executable}: {exc}", pytrace=False)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


@pytest.fixture
def browser_page(
    browser, app_server: str, results_dir: Path, request: pytest.FixtureRequest
) -> Iterator[BrowserPage]:
    """A page in a new context; off-machine requests are aborted and recorded, errors recorded.

    Context-level routing applies to every frame, so the map's component iframe is covered too;
    page "console"/"pageerror" events also fire for iframes.
    """
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(30_000)
    page = context.new_page()
    bp = BrowserPage(page=page, base_url=app_server)

    def route(r) -> None:
        url = r.request.url
        if is_local(url):
            r.continue_()
        else:
            bp.blocked.append(
                f"{r.request.method} {url} (from {r.request.frame.url if _has_frame(r) else '?'})"
            )
            r.abort("blockedbyclient")

    def ws_route(ws) -> None:  # no connect_to_server(): the socket never leaves the machine
        bp.blocked.append(f"WEBSOCKET {ws.url}")
        ws.close()

    context.route("**/*", route)
    context.route_web_socket(lambda url: not is_local(url), ws_route)

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        loc = msg.location or {}
        text = f"{msg.text} @ {loc.get('url', '')}:{loc.get('lineNumber', '')}"
        if _benign_console_error(msg.text, loc.get("url", "")):
            bp.ignored_console.append(text)
        else:
            bp.console_errors.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: bp.page_errors.append(str(exc)))
    try:
        yield bp
    finally:
        name = _safe_name(request.node.nodeid)
        if _failed(request.node):
            name = f"FAILED-{name}"
            print(f"\n{bp.problems()}")
        try:
            page.screenshot(path=str(results_dir / f"{name}.png"), full_page=True)
        except Exception as exc:  # never hide the test's own outcome
            print(f"screenshot failed: {exc}")
        context.close()


def _has_frame(r) -> bool:
    try:
        return r.request.frame is not None
    except Exception:  # service-worker requests have no frame
        return False
