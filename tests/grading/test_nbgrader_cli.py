"""Does nbgrader's own command line work on the course, as the README says (make nbgrader ARGS=...)?

A copy of week 01's source in a temporary course folder (the repository's nbgrader_config.py, with only
the root moved there): generate_assignment, autograde and generate_feedback, run as the Makefile runs
them (this environment's tools on the PATH). An honest hand-in gets full marks, the stub 0.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from tests.grading.submissions import ROOT, honest, stub, write

pytestmark = pytest.mark.slow
WEEK = "week01"


def nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), PYTHONWARNINGS="ignore")
    cmd = [os.path.join(bin_dir, "nbgrader"), *args, f"--CourseDirectory.root={root}"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-course")
    shutil.copytree(ROOT / "solutions" / WEEK, root / "solutions" / WEEK)
    steps = {}
    steps["generate"] = nbgrader(root, "generate_assignment", WEEK, "--force")
    write(honest(), root / "submitted" / "honest" / WEEK / f"{WEEK}_exercises.ipynb")
    write(stub(), root / "submitted" / "stub" / WEEK / f"{WEEK}_exercises.ipynb")
    steps["autograde"] = nbgrader(root, "autograde", WEEK, "--create")
    steps["feedback"] = nbgrader(root, "generate_feedback", WEEK)
    return root, steps


@pytest.mark.parametrize("step", ["generate", "autograde", "feedback"])
def test_each_step_succeeds(course, step):
    proc = course[1][step]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_the_release_has_stubs_and_no_hidden_tests(course):
    text = (course[0] / "exercises" / WEEK / f"{WEEK}_exercises.ipynb").read_text(encoding="utf-8")
    assert "raise NotImplementedError()" in text and "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text


def test_honest_work_gets_full_marks_and_the_stub_zero(course):
    with Gradebook(f"sqlite:///{course[0] / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission(WEEK, s).score for s in ("honest", "stub")}
        max_score = gb.find_assignment(WEEK).max_score
    assert max_score == 10 and scores == {"honest": 10, "stub": 0}, scores


def test_feedback_pages_are_written(course):
    for student in ("honest", "stub"):
        assert (course[0] / "feedback" / student / WEEK / f"{WEEK}_exercises.html").is_file(), student
