"""The back office in a real browser: Debian's headless ``chromium``, driven by Playwright.

The application runs in a live server thread on a free port, over the suite's database (SQLite or
PostgreSQL). Playwright's own browsers are never downloaded: it launches ``/usr/bin/chromium``
(``make test`` installs the package when it is missing). Without a browser the tests are skipped,
loudly; with ``CI=true`` they fail instead. Every test saves a screenshot of each page it visits
under ``tests/.output/screenshots/<test>/`` (printed at the end of the run).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.backoffice.conftest import make_staff  # noqa: F401  (the staff accounts the tests log in with)

CHROMIUM = os.environ.get("LOYALTY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parents[1] / ".output" / "screenshots"
#: Laptop width; tests of the tablet layout set their own.
VIEWPORT = {"width": 1280, "height": 860}


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (make install)"
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return f"no chromium at {CHROMIUM} (make test installs Debian's chromium package)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: the browser tests must run, but {reason}")
        pytest.skip(f"browser tests not run: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(_app: Flask) -> Iterator[str]:
    """The application served on a free local port, in a thread; its base URL."""
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    thread.join()


class Shots:
    """Screenshots of the pages a test visits, numbered in order."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page, self.folder, self.count = page, folder, 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    def take(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(app: Flask, browser: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new browser tab (its own cookies) on the live server, over the test's fresh database."""
    context = browser.new_context(base_url=live_server, viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.shots = Shots(tab, SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name))
    yield tab
    context.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"back-office screenshots: {SCREENSHOTS}")
