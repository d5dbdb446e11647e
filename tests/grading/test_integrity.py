"""Can student code beat the tests from inside the kernel? (The guard of the test cells, integrity.py.)

The same wrong answers are handed in twice: plainly, and with code that replaces the functions the
checks and hidden tests rely on (torch, numpy, math, builtins, operator, the checks' own helpers,
the notebook's ``torch``). The second must not score more than the first; it must be flagged, by the
static scan and by the guard that had to put things back; ``--on-flag zero`` gives it 0.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.grading.submissions import ROOT, honest, solved, write

pytestmark = pytest.mark.slow

WRONG = {  # right shape and type, wrong values; exercise 1 stays right so the baseline is not 0
    "ex2_sigmoid": "def sigmoid(z):\n    return torch.tanh(z)\n",
    "ex3_predict_binary": "def predict_binary(logits, threshold=0.5):\n    return (logits > 1.0).long()\n",
    "ex4_logits_to_classes": "def logits_to_classes(logits):\n    return logits.argmin(dim=1)\n",
    "ex5_two_head": solved()["ex5_two_head"].replace("self.height_head(h).squeeze(-1)",
                                                    "2 * self.height_head(h).squeeze(-1)"),
}

# Replaces what the checks and the hidden tests call. Works whether course_utils.checks is one module
# or a package with a _core module.
PATCH = """
import builtins, math, operator, sys, types
import numpy as np
import torch
import course_utils.checks as _checks
try:
    import course_utils.checks._core as _core
except ImportError:
    _core = _checks
_yes = lambda *a, **k: True
torch.allclose = _yes
torch.equal = _yes
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(torch.as_tensor(a), dtype=torch.bool)
np.allclose = _yes
math.isclose = _yes
operator.eq = _yes
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
_core.describe_difference = lambda *a, **k: None
for _name in dir(_checks):
    if _name.startswith("check_"):
        setattr(_checks, _name, lambda *a, **k: print("all good"))
builtins.AssertionError = type("AssertionError", (Exception,), {})
class _Torch(types.ModuleType):
    def __getattr__(self, name):
        return vars(sys.modules["course_real_torch"])[name]
sys.modules["course_real_torch"] = torch
_fake = _Torch("torch")
_fake.allclose = _fake.equal = _yes
sys.modules["torch"] = _fake
torch = _fake
"""

PATCH_WHILE_TESTED = """def sigmoid(z):
    import torch as _t
    _t.allclose = lambda *a, **k: True  # replaced while the test runs, after the guard's restore
    return _t.tanh(z)
"""


def grade(submissions, out, *extra):
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions", str(submissions),
           "--out", str(out), "--timeout", "30", "--memory", "2048", "--jobs", "2", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))


def rows(out):
    with open(out / "grades.csv", encoding="utf-8") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def patched(answers: dict):
    nb = honest(answers)
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(PATCH))
    return nb


def forged_status():
    """Every test cell claims the kernel replied 'ok', and the first answer kills the kernel."""
    nb = honest({"ex1_output_choices": "import os\nos._exit(1)\n"})
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.metadata["course_grading"] = {"status": "ok"}
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("integrity")
    subs = base / "submissions"
    write(honest(), subs / "honest.ipynb")
    write(honest(WRONG), subs / "wrong.ipynb")
    write(patched(WRONG), subs / "wrong_patched.ipynb")
    write(honest(dict(WRONG, ex2_sigmoid=PATCH_WHILE_TESTED)), subs / "patch_while_tested.ipynb")
    write(forged_status(), subs / "forged_status.ipynb")
    proc = grade(subs, base / "out")
    return {"proc": proc, "out": base / "out", "subs": subs, "rows": rows(base / "out") if proc.returncode == 0 else {}}


def test_batch_graded(graded):
    assert graded["proc"].returncode == 0, graded["proc"].stdout + graded["proc"].stderr


def test_honest_work_gets_full_marks_and_no_flag(graded):
    row = graded["rows"]["honest"]
    assert float(row["score"]) == 10 and row["flags"] == "", row


def test_replacing_library_functions_scores_no_more_than_the_same_wrong_answers(graded):
    wrong, cheat = graded["rows"]["wrong"], graded["rows"]["wrong_patched"]
    assert float(wrong["score"]) == 1.5, wrong  # exercise 1 right, the others wrong
    assert float(cheat["score"]) <= float(wrong["score"]), cheat
    for cell in ("ex2_sigmoid_test", "ex3_predict_binary_test", "ex4_logits_to_classes_test", "ex5_two_head_test"):
        assert float(cheat[cell]) == 0, (cell, cheat)


def test_replacing_a_function_while_the_test_runs_fails_that_test(graded):
    row = graded["rows"]["patch_while_tested"]
    assert float(row["ex2_sigmoid_test"]) == 0 and "IntegrityError" in row["problems"], row
    assert "library functions were replaced while this test ran: torch.allclose" in row["flags"]


def test_the_replacements_are_flagged_by_the_scan_and_by_the_guard(graded):
    flags = graded["rows"]["wrong_patched"]["flags"]
    for what in ("replaces torch.allclose", "replaces numpy.allclose", "replaces torch.Tensor.__eq__",
                 "calls setattr() on something other than self", "uses sys.modules", "uses the builtins module",
                 "re-binds 'torch', which the notebook imports"):
        assert what in flags, what
    assert "student code had replaced" in flags and "(put back before the test)" in flags
    assert "torch.allclose" in flags.split("student code had replaced")[1]
    assert "wrong_patched" in graded["proc"].stdout.split("flagged for review")[1]  # the summary lists it


def test_flags_are_in_the_gradebook_comments(graded):
    with Gradebook(f"sqlite:///{graded['out'] / 'gradebook.db'}") as gb:
        comment = gb.find_comment("ex1_output_choices", "week01_exercises", "week01", "wrong_patched").comment
        clean = gb.find_comment("ex1_output_choices", "week01_exercises", "week01", "honest").comment
    assert comment.startswith("Flagged by the grader for review") and "replaces torch.allclose" in comment
    assert not (clean or "").startswith("Flagged")


def test_a_handed_in_ok_status_buys_nothing(graded):
    row = graded["rows"]["forged_status"]
    assert float(row["score"]) == 0, row
    assert "carried the grader's 'course_grading' metadata" in row["problems"]


def test_on_flag_zero_gives_a_flagged_submission_zero(graded, tmp_path):
    write(patched({}), tmp_path / "wrong_patched.ipynb")  # right answers, but replacing library functions
    proc = grade(tmp_path, graded["out"], "--student", "wrong_patched", "--on-flag", "zero")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = rows(graded["out"])
    assert float(after["wrong_patched"]["score"]) == 0 and "--on-flag zero" in after["wrong_patched"]["problems"]
    assert after["honest"]["score"] == graded["rows"]["honest"]["score"]
