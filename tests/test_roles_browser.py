"""Does a student's JupyterLab hide the instructor's tools, and an instructor's show them?

For each role, JupyterLab starts from the project's .venv with that role's folder first on
JUPYTER_CONFIG_PATH (what ``make lab`` / ``make lab-instructor`` and the hub do), and headless
Chromium opens week 01's exercise notebook. Checked in the page and on the server:
- the Create Assignment sidebar, the Formgrader and Course List commands, the "Nbgrader" menu's
  instructor items and the news plugin are there for the instructor and absent for the student;
- both keep the notebook's Validate button and the Assignment List;
- the formgrader's server page answers the instructor and is not found for the student.
Screenshots (the Nbgrader menu open, the notebook behind it) go to artefacts/roles/<role>.png.
"""

from __future__ import annotations

import json

import pytest

from course_utils import jupyter_roles
from tests import browser_utils as bu
from tests.notebook_utils import ROOT
from tests.test_browser import require_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTEFACTS = ROOT / "artefacts" / "roles"
NOTEBOOK = "exercises/week01/week01_exercises.ipynb"
INSTRUCTOR_COMMANDS = ["nbgrader:open-formgrader", "nbgrader:open-course-list", "nbgrader:open-create-assignment"]
STATE_JS = """() => {
  const app = window.jupyterapp;
  const commands = %s;
  return {
    commands: Object.fromEntries(commands.map(c => [c, app.commands.hasCommand(c)])),
    assignmentList: app.commands.hasCommand('nbgrader:open-assignment-list'),
    createSidebar: !!document.getElementById('nbgrader-create_assignemnt'),
    news: app.hasPlugin('%s'),
    validate: [...document.querySelectorAll('.jp-NotebookPanel-toolbar .jp-Toolbar-item')]
      .some(b => b.textContent.trim() === 'Validate'),
  };
}"""


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = bu.launch_browser(pw, tmp_path_factory.mktemp("roles-profile"), width=1280, height=800)
        try:
            yield context
        finally:
            context.close()


def open_as(role: str, chromium, tmp_path) -> dict:
    """Start JupyterLab in ``role``, open the exercise notebook, read what the page offers, take a screenshot."""
    folder = jupyter_roles.write_role_config(role, tmp_path / role)
    lab = bu.start_lab(extra_env={"JUPYTER_CONFIG_PATH": str(folder)})
    try:
        page = chromium.new_page()
        try:
            page.goto(lab.url(f"lab/tree/{NOTEBOOK}"), wait_until="domcontentloaded", timeout=60_000)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.content"
                                   " && window.jupyterapp.shell.currentWidget.content.widgets.length > 0",
                                   timeout=60_000)
            page.wait_for_selector(".jp-NotebookPanel-toolbar", timeout=30_000)
            page.wait_for_timeout(1500)  # late plugins (the validate button) settle
            state = page.evaluate(STATE_JS % (json.dumps(INSTRUCTOR_COMMANDS), jupyter_roles.NEWS_PLUGIN))
            if state["createSidebar"]:
                page.evaluate("() => window.jupyterapp.shell.activateById('nbgrader-create_assignemnt')")
            page.get_by_role("menuitem", name="Nbgrader").click()
            menu = page.locator(".lm-Menu").last
            menu.wait_for(timeout=10_000)
            state["menu"] = [t.strip() for t in menu.locator(".lm-Menu-itemLabel").all_inner_texts() if t.strip()]
            ARTEFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTEFACTS / f"{role}.png"))
            response = page.request.get(f"{lab.base}/formgrader?token={lab.token}")
            state["formgrader_status"] = response.status
        finally:
            page.close()
    finally:
        bu.stop_lab(lab)
    return state


def test_student_sees_no_instructor_tools(chromium, tmp_path):
    state = open_as("student", chromium, tmp_path)
    assert not any(state["commands"].values()), f"instructor commands registered for a student: {state['commands']}"
    assert not state["createSidebar"], "the Create Assignment sidebar is in a student's JupyterLab"
    assert not state["news"], "the news pop-up plugin is loaded for a student"
    assert state["menu"] == ["Assignment List"], f"a student's Nbgrader menu shows {state['menu']}"
    assert state["formgrader_status"] == 404, f"the formgrader answers a student ({state['formgrader_status']})"
    assert state["validate"] and state["assignmentList"], f"a student lost Validate or the Assignment List: {state}"


def test_instructor_sees_everything(chromium, tmp_path):
    state = open_as("instructor", chromium, tmp_path)
    assert all(state["commands"].values()), f"instructor commands missing: {state['commands']}"
    assert state["createSidebar"], "no Create Assignment sidebar for the instructor"
    assert state["news"], "the instructor's JupyterLab lost the news plugin"
    assert {"Assignment List", "Course List", "Formgrader", "Create assignment"} <= set(state["menu"]), state["menu"]
    assert state["formgrader_status"] == 200, f"the formgrader does not answer the instructor ({state['formgrader_status']})"
    assert state["validate"] and state["assignmentList"], state
