"""Does one grading command survive anything a student hands in, and still score the honest ones right?

One batch holds every hostile case of the grading issue next to honest submissions; it is graded
once, for real, with the command an instructor runs, and the gradebook and grades.csv are checked.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.grading.submissions import ROOT, build_all

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    expected = build_all(base / "submissions")
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01",
           "--submissions", str(base / "submissions"), "--out", str(base / "out"),
           "--timeout", "6", "--memory", "2048", "--jobs", "2"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONWARNINGS="ignore", GRADER_TEST_SECRET="s3cr3t-t0ken"))
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr  # e.g. no sandbox on this machine: the reason
    with open(base / "out" / "grades.csv", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    return {"expected": expected, "proc": proc, "rows": rows, "out": base / "out", "seconds": seconds}


def test_exit_status_zero_and_summary_printed(graded):
    proc = graded["proc"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "student" in proc.stdout and "honest_full" in proc.stdout


def test_every_student_has_a_row(graded):
    assert set(graded["rows"]) == set(graded["expected"]), graded["proc"].stdout


@pytest.mark.parametrize("student", ["honest_full", "honest_partial", "José_Ñandú",
                                     "stripped_metadata", "duplicate_ids", "huge_output"])
def test_honest_work_gets_its_points(graded, student):
    row = graded["rows"][student]
    assert float(row["score"]) == graded["expected"][student], row


@pytest.mark.parametrize("student", ["not_json", "truncated", "dangling_link", "other_assignment", "tests_deleted",
                                     "loop_top_level", "loop_in_function", "kernel_crash", "memory_bomb",
                                     "cheat_checks", "cheat_assert"])
def test_broken_or_hostile_work_gets_zero_or_partial(graded, student):
    row = graded["rows"][student]
    assert float(row["score"]) == graded["expected"][student], row
    assert float(row["score"]) < 10


def test_code_run_from_a_string_is_held_for_review(graded):
    """cheat_disk exec()s what it finds: what that code did cannot be read, so there is no score until a person looks."""
    row = graded["rows"]["cheat_disk"]
    assert row["status"] == "held" and row["score"] == "" and "runs code from a string (exec)" in row["held"], row


@pytest.mark.parametrize("student", ["not_json", "truncated", "other_assignment", "tests_deleted", "stripped_metadata",
                                     "duplicate_ids", "kernel_crash", "loop_in_function", "memory_bomb"])
def test_a_reason_is_given(graded, student):
    assert graded["rows"][student]["problems"].strip(), graded["rows"][student]


def test_gradebook_agrees_with_csv(graded):
    with sqlite3.connect(graded["out"] / "gradebook.db") as db:
        students = {r[0] for r in db.execute("select id from student")}
        manual = db.execute("select count(*) from grade where manual_score is not null").fetchone()[0]
    assert students == set(graded["expected"])
    assert manual == 0, "student code wrote manual scores into the gradebook"


def test_feedback_for_every_student_and_outputs_capped(graded):
    for student in graded["expected"]:
        page = graded["out"] / "feedback" / student / "week01" / "week01_exercises.html"
        assert page.exists(), f"no feedback page for {student}"
    huge = graded["out"] / "autograded" / "huge_output" / "week01" / "week01_exercises.ipynb"
    assert huge.stat().st_size < 1_000_000


def test_student_code_saw_no_solutions_and_no_grader_secrets(graded):
    """The disk cheat prints what it found and the grader's environment; neither may hold anything useful."""
    assert "student code ran in the bubblewrap sandbox" in graded["proc"].stdout
    text = (graded["out"] / "autograded" / "cheat_disk" / "week01" / "week01_exercises.ipynb").read_text("utf-8")
    assert "s3cr3t-t0ken" not in text
    assert "cheat found: []" in text


def test_no_solution_or_hidden_test_source_in_feedback(graded):
    for student in ("honest_full", "honest_partial"):
        page = (graded["out"] / "feedback" / student / "week01" / "week01_exercises.html").read_text("utf-8")
        assert "BEGIN SOLUTION" not in page and "HIDDEN TESTS" not in page
        assert "numel" not in page  # a token found only in a hidden test
        assert f"{student} — week01: {10 if student == 'honest_full' else 8} of 10 points" in page


def test_regrading_one_student_changes_only_that_row(graded, tmp_path):
    """Re-grade one corrected submission into the same output folder: only that row changes."""
    from tests.grading.submissions import honest, write

    folder = tmp_path / "resubmitted"
    write(honest(), folder / "honest_partial.ipynb")
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions", str(folder),
           "--out", str(graded["out"]), "--student", "honest_partial", "--timeout", "6", "--memory", "2048"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(graded["out"] / "grades.csv", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert float(rows["honest_partial"]["score"]) == 10
    assert {s: r["score"] for s, r in rows.items() if s != "honest_partial"} == {
        s: r["score"] for s, r in graded["rows"].items() if s != "honest_partial"}
    assert rows["kernel_crash"]["problems"] == graded["rows"]["kernel_crash"]["problems"]
