"""After the README's grading example, run in a fresh clone, is `git status` still clean?

Hand-ins, grades, feedback and rosters are students' data: none of it may end up in a commit of the
course. The example is run as the instructor guide writes it, with its folder and file names.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.grading.submissions import ROOT, honest, write

pytestmark = pytest.mark.slow


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_the_readme_grading_example_leaves_git_status_clean(tmp_path):
    clone = tmp_path / "course"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    assert git("status", "--porcelain", cwd=clone) == ""
    readme = (clone / "README.md").read_text(encoding="utf-8")
    assert "--submissions week01_handins" in readme and "--out grading/week01" in readme and "roster.csv" in readme
    write(honest(), clone / "week01_handins" / "anna.ipynb")
    (clone / "roster.csv").write_text("student,lms_id,name\nanna,1001,Anna Berg\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions", "week01_handins",
           "--out", "grading/week01", "--timeout", "60", "--jobs", "1", "--export", "canvas", "--roster", "roster.csv"]
    proc = subprocess.run(cmd, cwd=clone, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (clone / "grading" / "week01" / "grades.csv").is_file()
    assert git("status", "--porcelain", "--untracked-files=all", cwd=clone) == ""
