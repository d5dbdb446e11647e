"""Does every lecture open, run and respond to its sliders in real JupyterLab and Chromium?

One JupyterLab server (from the project's .venv, loopback, random token, temporary Jupyter
folders) and one headless Debian Chromium serve all notebooks of the module. For each lecture:
open it, run the cells its explorers need (tests/notebook_utils.cells_explorers_need: the explorer
cells and, by a backward slice over names, the cells that define or change what they use; nbval runs
every cell and compares every output, and tests/site renders every page), wait for "| Idle", require
no error output, then step every slider of every explorer with the keyboard and require that the
figure's pixels change. Screenshots of each
explorer before and after each step go to artefacts/browser/<notebook>/.

Without Chromium the tests are skipped with an install hint; with CI=true they fail instead.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from tests import browser_utils as bu
from tests.notebook_utils import LECTURES, ROOT, cells_explorers_need, explorer_count, read, rel

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIXTURES = ROOT / "tests" / "fixtures" / "browser"
BROKEN = FIXTURES / "broken_explorers.ipynb"


def require_browser():
    """Skip (locally) or fail (CI=true) when Chromium or Playwright is missing."""
    missing = None
    if not bu.CHROMIUM.exists():
        missing = f"{bu.CHROMIUM} not found; {bu.INSTALL_HINT}"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "Playwright for Python is missing: run `make install`"
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"browser test cannot run in CI: {missing}")
    if missing:
        pytest.skip(f"browser test skipped: {missing}")


@pytest.fixture(scope="module")
def lab():
    require_browser()
    server = bu.start_lab()
    try:
        yield server
    finally:
        bu.stop_lab(server)
    assert not bu.leftovers(server), f"left behind after shutting JupyterLab down: {bu.leftovers(server)}"


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = bu.launch_browser(pw, profile)
        try:
            yield context
        finally:
            context.close()
    assert not bu.browser_processes(profile), f"Chromium still running: {bu.browser_processes(profile)}"


@pytest.fixture(scope="module")
def tab(browser):
    """One page for the module: JupyterLab loads once, each notebook then opens in it."""
    page = browser.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def page(lab, tab):
    try:
        yield tab
    finally:
        try:
            bu.close_notebooks(tab)
        except Exception:  # a page left broken by a failed test: the next test loads JupyterLab afresh
            with contextlib.suppress(Exception):
                tab.goto("about:blank")
        bu.shutdown_sessions(lab)


def run_in_browser(page, lab, path: Path, cells: list[int] | None = None, wait: float = 10.0) -> list[str]:
    """Check one notebook in the browser; the server must not have saved anything over it."""
    problems = bu.check_notebook(page, lab, rel(path), bu.ARTEFACTS / path.stem, cells, wait=wait)
    assert not bu.saved_files(lab), f"the browser session saved files: {bu.saved_files(lab)}"
    return problems


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.stem)
def test_notebook_runs_and_every_slider_changes_its_figure(page, lab, path):
    """Do the explorers run without errors in JupyterLab, every one live and every slider moving its figure?"""
    nb = read(path)
    expected = explorer_count(nb)
    assert expected >= 1, f"{rel(path)}: no explorer in the saved outputs; every lecture needs one"
    problems = run_in_browser(page, lab, path, cells_explorers_need(nb))
    assert not problems, f"{rel(path)} in JupyterLab:\n- " + "\n- ".join(problems)
    n = page.locator(".course-explorer").count()
    assert n == expected, f"{rel(path)}: {n} live explorers (.course-explorer) in the page, {expected} in the saved notebook"


def test_broken_explorers_are_caught(page, lab):
    """Does the check fail on a static-only explorer, a slider that changes nothing, and a raising cell?"""
    problems = run_in_browser(page, lab, BROKEN, wait=3.0)  # every wait here ends in the failure looked for
    text = "\n".join(problems)
    assert "1 of 2 explorers did not render" in text, text
    assert "slider 'weight w': moving it from 2.00 to 1.50 did not change the figure" in text, text
    assert "RuntimeError: deliberate error for the browser test" in text, text
    assert len(problems) == 3, text
