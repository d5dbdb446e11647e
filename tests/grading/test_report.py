"""Does report.html count what a class got wrong exactly: per exercise, who passed, and each hint given?

A synthetic class for week 01, built from the checks' own hints: two honest students, two who normalise
the sigmoid over the batch, one whose sigmoid forgets the 1 + ..., one who handed in the stub. The
expected hint of each wrong answer comes from running the visible check on it here, in this process;
the report comes from the real grader.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
import torch

from course_utils.checks import CheckFailed, check_sigmoid
from tests.grading.submissions import ROOT, honest, stub, write

pytestmark = pytest.mark.slow

BATCH_NORMALISED = "def sigmoid(z):\n    e = torch.exp(z)\n    return e / e.sum()\n"
NO_ONE_PLUS = "def sigmoid(z):\n    return 1 / torch.exp(-z)\n"
CLASS = {"anna": None, "ben": None, "carla": BATCH_NORMALISED, "dev": BATCH_NORMALISED, "emil": NO_ONE_PLUS,
         "fay": "stub"}


def expected_hint(source: str) -> tuple[str, str]:
    namespace = {"torch": torch}
    exec(source, namespace)
    with pytest.raises(CheckFailed) as info:
        check_sigmoid(namespace["sigmoid"])
    return info.value.hint_id, info.value.hint


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    for student, answer in CLASS.items():
        nb = stub() if answer == "stub" else honest({"ex2_sigmoid": answer} if answer else None)
        write(nb, base / "subs" / f"{student}.ipynb")
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions",
           str(base / "subs"), "--out", str(base / "out"), "--timeout", "30", "--jobs", "2"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(base / "out" / "report.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {"rows": rows, "html": (base / "out" / "report.html").read_text(encoding="utf-8"), "stdout": proc.stdout}


def counts(report, test_cell) -> dict[str, int]:
    return {r["hint_id"] or "passed": int(r["count"]) for r in report["rows"] if r["test_cell"] == test_cell}


def test_the_sigmoid_exercise_counts_each_hint_exactly(report):
    normalised, normalised_text = expected_hint(BATCH_NORMALISED)
    no_one, _ = expected_hint(NO_ONE_PLUS)
    assert normalised != no_one, "two different mistakes should give two different hints"
    assert counts(report, "ex2_sigmoid_test") == {"passed": 2, normalised: 2, no_one: 1, "not-implemented": 1}
    assert "<h2>Exercise 2 — the sigmoid <small>(ex2_sigmoid_test)</small></h2><p>2 of 6 passed</p>" in report["html"]
    assert normalised_text.split(";")[0] in report["html"].replace("&#x27;", "'")


def test_the_other_exercises_count_only_the_stub_as_wrong(report):
    for test in ("ex1_output_choices_test", "ex3_predict_binary_test", "ex4_logits_to_classes_test",
                 "ex5_two_head_test"):
        assert counts(report, test) == {"passed": 5, "not-implemented": 1}, test


def test_the_page_is_self_contained_and_named_in_the_summary(report):
    page = report["html"]
    assert "<script" not in page and "http" not in page and "<link" not in page
    assert "report.html" in report["stdout"]
