"""Do test cells run as written, whatever a hand-in does to the kernel they share with it?

One batch for week 01, graded with the instructor's command: the untouched stub, the stub plus each
kernel hook of ``submissions.HOOKS`` (input and AST transformers, event callbacks, a custom exception
handler, the shell's and the kernel's own methods), and an honest hand-in. Each hooked stub must score
what the stub scores, or be held for review; never more.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from tests.grading.submissions import HOOKS, ROOT, honest, hooked, stub, write

pytestmark = pytest.mark.slow
#: Hooks that replace the kernel's own code: the test cells then never reach the grader's kernel code, so
#: no receipt comes back and the submission is held rather than scored.
#: Hooks that can strike between the restore and the test (a thread, a finalizer): held because of the code scan.
HELD = {"hook_kernel_method", "hook_thread_race", "hook_finalizer"}
WHY_HELD = {"hook_kernel_method": "did not run as written", "hook_thread_race": "starts threads",
            "hook_finalizer": "registers callbacks (weakref)"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hooks")
    subs = base / "subs"
    write(stub(), subs / "stub.ipynb")
    write(honest(), subs / "honest.ipynb")
    for name in HOOKS:
        write(hooked(name), subs / f"{name}.ipynb")
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions", str(subs),
           "--out", str(base / "out"), "--timeout", "30", "--jobs", "2", "--export", "moodle"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(base / "out" / "grades.csv", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    with open(base / "out" / "lms" / "moodle_week01.csv", encoding="utf-8") as fh:
        moodle = {r["Full name"]: r for r in csv.DictReader(fh)}
    return {"rows": rows, "moodle": moodle, "stdout": proc.stdout}


@pytest.mark.parametrize("name", sorted(set(HOOKS) - HELD))
def test_a_hooked_stub_scores_what_the_stub_scores(graded, name):
    row, plain = graded["rows"][name], graded["rows"]["stub"]
    assert row["status"] == "graded" and float(row["score"]) == float(plain["score"]) < 10, row
    assert row["flags"], f"{name}: the hook was undone, but nobody was told: {row}"


@pytest.mark.parametrize("name", sorted(HELD))
def test_a_hook_the_grader_cannot_undo_holds_the_submission(graded, name):
    row = graded["rows"][name]
    assert row["status"] == "held" and row["score"] == "" and WHY_HELD[name] in row["held"], row
    assert name not in graded["moodle"], "a held submission must not reach the LMS"
    assert "held for review" in graded["stdout"] and name in graded["stdout"].split("held for review")[1]


def test_honest_work_next_to_the_hooks_is_neither_flagged_nor_held(graded):
    row = graded["rows"]["honest"]
    assert row["status"] == "graded" and float(row["score"]) == 10, row
    assert row["flags"] == "" and row["held"] == "", row
    assert graded["moodle"]["honest"]["week01"] == "10"
