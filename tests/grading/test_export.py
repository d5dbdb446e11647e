"""The `export` step: grades.csv, the summary and the LMS import files (Canvas, Moodle) with a roster."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from course_utils.grading.config import InstructorError
from course_utils.grading.context import Context
from course_utils.grading.export import RosterEntry, export_lms, read_roster, summary_table
from tests.grading.submissions import ROOT, honest, write

CTX = Context("week01", "week01_exercises", "sqlite://", [])
ROWS = [
    {"student": "anna", "score": 10.0, "max_score": 10.0, "mode": "sandbox", "flags": "", "problems": ""},
    {"student": "bob", "score": 8.5, "max_score": 10.0, "mode": "sandbox", "flags": "ex2_sigmoid: uses gc",
     "problems": "failed: ex4_logits_to_classes_test (CheckFailed)"},
]


def read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_canvas_file_has_canvas_columns_points_possible_and_lms_ids(tmp_path):
    roster = {"anna": RosterEntry("1001", "Anna Berg", "A"), "bob": RosterEntry("1002", "Bob Li", "B")}
    res = export_lms("canvas", ROWS, CTX, tmp_path, roster)
    assert res.path == tmp_path / "lms" / "canvas_week01.csv"
    assert read(res.path) == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "week01"],
                              ["Points Possible", "", "", "", "", "10"],
                              ["Anna Berg", "1001", "", "", "A", "10"],
                              ["Bob Li", "1002", "", "", "B", "8.5"]]
    assert res.not_in_roster == [] and res.not_graded == []


def test_moodle_file_has_an_identifier_the_grade_and_feedback(tmp_path):
    res = export_lms("moodle", ROWS, CTX, tmp_path, {"anna": RosterEntry("a.berg@uni.example")})
    assert read(res.path) == [["ID number", "Full name", "week01", "Feedback"], [
        "a.berg@uni.example", "anna", "10", "10 of 10 points. Your feedback page shows each exercise."]]
    assert res.not_in_roster == ["bob"]


def test_without_a_roster_the_student_id_is_the_lms_id(tmp_path):
    res = export_lms("canvas", ROWS, CTX, tmp_path, None)
    assert [r[1] for r in read(res.path)[2:]] == ["anna", "bob"] and res.written == ["anna", "bob"]


def test_unknown_export_format_is_refused(tmp_path):
    with pytest.raises(InstructorError, match="--export must be one of canvas, moodle, got 'blackboard'"):
        export_lms("blackboard", ROWS, CTX, tmp_path, None)


@pytest.mark.parametrize("text, message", [
    ("student,name\nanna,Anna\n", "has no lms_id column"),
    ("id,lms_id\nanna,1\n", "has no student column"),
    ("student,lms_id\nanna,1\nanna,2\n", "line 3: student 'anna' appears twice"),
    ("student,lms_id\nanna,\n", "line 2: student 'anna' has no lms_id"),
    ("student,lms_id\n", "lists no students"),
])
def test_a_bad_roster_is_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InstructorError, match=f"--roster: .*{message}"):
        read_roster(path)


def test_roster_columns_are_case_and_bom_tolerant(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("\ufeffStudent, LMS_ID ,Name,Section\nanna, 1001 ,Anna Berg,A\n", encoding="utf-8")
    assert read_roster(path) == {"anna": RosterEntry("1001", "Anna Berg", "A")}


def test_summary_counts_flags_and_lists_flagged_students():
    text = summary_table(ROWS)
    assert "flagged for review" in text and "bob: ex2_sigmoid: uses gc" in text
    lines = text.splitlines()
    assert lines[1].split()[:4] == ["anna", "10", "10", "-"] and lines[2].split()[:4] == ["bob", "8.5", "10", "1"]


@pytest.mark.slow
def test_the_grade_command_writes_lms_files_and_lists_unknown_ids(tmp_path):
    write(honest(), tmp_path / "subs" / "anna.ipynb")
    write(honest({"ex4_logits_to_classes": "def logits_to_classes(logits):\n    return logits.argmax(dim=0)\n"}),
          tmp_path / "subs" / "bob.ipynb")
    roster = tmp_path / "roster.csv"
    roster.write_text("student,lms_id,name\nanna,1001,Anna Berg\ncarol,1003,Carol Diaz\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions",
           str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--timeout", "30", "--jobs", "2",
           "--export", "canvas", "--export", "moodle", "--roster", str(roster)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert proc.returncode == 3, proc.stdout + proc.stderr  # bob was graded but would be missing from the LMS
    assert "1 graded student(s) are not in the LMS file(s): bob" in proc.stderr
    assert "not in the roster, left out: bob" in proc.stdout
    assert "in the roster without a graded submission: carol" in proc.stdout
    canvas = read(tmp_path / "out" / "lms" / "canvas_week01.csv")
    assert canvas[2] == ["Anna Berg", "1001", "", "", "", "10"] and len(canvas) == 3
    assert read(tmp_path / "out" / "lms" / "moodle_week01.csv")[1][:3] == ["1001", "Anna Berg", "10"]
    with open(tmp_path / "out" / "grades.csv", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert float(rows["bob"]["score"]) == 8 and {"mode", "flags", "problems"} <= set(rows["bob"])
    # the roster fixed: the LMS files are written again from the gradebook, without re-grading
    roster.write_text("student,lms_id,name\nanna,1001,Anna Berg\nbobb,1002,Bob Eze\n", encoding="utf-8")
    graded_at = (tmp_path / "out" / "autograded" / "bob").stat().st_mtime_ns
    export = [sys.executable, "-m", "course_utils", "export", "--assignment", "week01", "--out", str(tmp_path / "out"),
              "--export", "moodle", "--roster", str(roster)]
    proc = subprocess.run(export, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3 and "left out: bob (did you mean 'bobb'?)" in proc.stdout, proc.stdout + proc.stderr
    roster.write_text("student,lms_id,name\nanna,1001,Anna Berg\nbob,1002,Bob Eze\n", encoding="utf-8")
    proc = subprocess.run(export, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    moodle = read(tmp_path / "out" / "lms" / "moodle_week01.csv")
    assert moodle[2][:3] == ["1002", "Bob Eze", "8"]
    assert "failed:" not in moodle[2][3] and "CheckFailed" not in moodle[2][3] and moodle[2][3].startswith("8 of 10")
    assert (tmp_path / "out" / "autograded" / "bob").stat().st_mtime_ns == graded_at  # nothing was re-graded


def test_roster_ids_are_normalised_as_hand_in_names_are(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("student,lms_id\nJosé Ñandú,1\nanna,2\n", encoding="utf-8")
    assert set(read_roster(path)) == {"José_Ñandú", "anna"}  # as collect.safe_id names "José Ñandú.ipynb"


def test_the_lms_feedback_column_holds_only_what_the_student_should_read():
    from course_utils.grading.export import student_feedback

    row = {"score": 8.5, "max_score": 10.0, "problems": "handed in as 'José Ñandú.ipynb'; graded as student id "
           "'José_Ñandú'; failed: ex4_logits_to_classes_test (CheckFailed); handed in on an earlier release of week01; "
           "updated to the current text: ex4_intro"}
    text = student_feedback(row)
    assert text.startswith("8.5 of 10 points.") and "earlier version of the exercises" in text
    for internal in ("handed in as", "José_Ñandú", "ex4_", "CheckFailed", "failed:"):
        assert internal not in text, internal


def test_did_you_mean_names_a_close_id_only():
    from course_utils.grading.export import did_you_mean

    assert did_you_mean("Jose_Nandu", ["José_Ñandú", "anna"]) == " (did you mean 'José_Ñandú'?)"
    assert did_you_mean("zed", ["José_Ñandú", "anna"]) == ""


def test_lms_bulk_download_names_give_lms_ids_without_a_roster(tmp_path):
    """Moodle's and Canvas's "download all submissions" names carry each student's LMS id: no roster needed."""
    import zipfile

    subs = tmp_path / "subs"
    write(honest(), subs / "Anna Berg_10234_assignsubmission_file_" / "week01_exercises.ipynb")
    write(honest({"ex4_logits_to_classes": "def logits_to_classes(logits):\n    return logits.argmax(dim=0)\n"}),
          subs / "José Ñandú_10377_assignsubmission_file_" / "my week 1.ipynb")
    write(honest(), subs / "ezebob_late_4567_890123_week01_exercises.ipynb")
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions", str(subs),
           "--out", str(tmp_path / "out"), "--timeout", "30", "--jobs", "2", "--export", "moodle", "--export", "canvas"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lms = tmp_path / "out" / "lms"
    moodle = {r[1]: r for r in read(lms / "moodle_week01.csv")[1:]}
    assert moodle["Anna Berg"][:3] == ["10234", "Anna Berg", "10"] and moodle["José Ñandú"][:3] == ["10377", "José Ñandú", "8"]
    worksheet = read(lms / "moodle_worksheet_week01.csv")
    assert worksheet[0] == ["Identifier", "Full name", "Grade", "Feedback comments"]
    assert ["Participant 10234", "Anna Berg", "10"] == worksheet[1][:3] or ["Participant 10234", "Anna Berg", "10"] in [
        w[:3] for w in worksheet]
    canvas = {r[0]: r for r in read(lms / "canvas_week01.csv")[2:]}
    assert canvas["ezebob"][1] == "4567" and canvas["ezebob"][5] == "10"
    with zipfile.ZipFile(lms / "moodle_feedback_week01.zip") as zf:
        assert sorted(zf.namelist()) == ["Anna Berg_10234_assignsubmission_file_/week01_feedback.html",
                                         "José Ñandú_10377_assignsubmission_file_/week01_feedback.html"]
    with zipfile.ZipFile(lms / "canvas_feedback_week01.zip") as zf:
        assert "4567_ezebob/week01_feedback.html" in zf.namelist()
    with open(tmp_path / "out" / "grades.csv", encoding="utf-8") as fh:
        ids = {r["student"] for r in csv.DictReader(fh)}
    assert ids == {"Anna_Berg_10234", "José_Ñandú_10377", "ezebob"}
