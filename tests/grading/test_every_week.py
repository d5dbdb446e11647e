"""Does the honest solution of every week get full marks, and no flag, from the real grader?

The guard of the test cells (restore before, verify after) and the code scan must not mistake honest
work for tampering, in any week; one hand-in per week, graded with the instructor's command.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from tests.grading.submissions import ROOT, honest, hooked, stub, weeks, write

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("week", weeks())
def test_honest_solution_gets_full_marks_and_no_flag(week, tmp_path):
    """... and, in the same batch, the stub plus an input transformer that empties every later cell
    scores what the untouched stub scores (the hook is undone before each test cell)."""
    write(honest(week=week), tmp_path / "subs" / "honest.ipynb")
    write(stub(week), tmp_path / "subs" / "stub.ipynb")
    write(hooked("hook_input_transformer", week), tmp_path / "subs" / "hooked.ipynb")
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", week, "--submissions", str(tmp_path / "subs"),
           "--out", str(tmp_path / "out"), "--timeout", "300", "--jobs", "2"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(tmp_path / "out" / "grades.csv", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    row = rows["honest"]
    assert float(row["score"]) == float(row["max_score"]) > 0, row
    assert row["flags"] == "" and row["problems"] == "" and row["held"] == "" and row["mode"] == "sandbox", row
    assert float(rows["hooked"]["score"]) == float(rows["stub"]["score"]) < float(row["max_score"]), rows["hooked"]
    assert "changed how cells run" in rows["hooked"]["flags"], rows["hooked"]
