"""Does the command line explain itself and refuse instructor mistakes with a clear message and status 2?"""

from __future__ import annotations

import subprocess
import sys

import pytest

from course_utils.__main__ import main
from course_utils.grading.collect import find_submissions, safe_id
from course_utils.grading.config import InstructorError
from tests.grading.submissions import ROOT


@pytest.mark.parametrize("command", ["release", "grade"])
def test_help(command):
    proc = subprocess.run([sys.executable, "-m", "course_utils", command, "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "usage: python -m course_utils " + command in proc.stdout


def test_unknown_assignment(tmp_path, capsys):
    (tmp_path / "a.ipynb").write_text("{}")
    assert main(["grade", "--assignment", "week99", "--submissions", str(tmp_path)]) == 2
    assert "unknown assignment 'week99'" in capsys.readouterr().err


def test_missing_or_empty_submissions_folder(tmp_path, capsys):
    assert main(["grade", "--assignment", "week01", "--submissions", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["grade", "--assignment", "week01", "--submissions", str(tmp_path)]) == 2
    assert "no submissions" in capsys.readouterr().err


def test_release_unknown_assignment(capsys):
    assert main(["release", "--assignment", "week99"]) == 2
    assert "unknown assignment" in capsys.readouterr().err


@pytest.mark.parametrize("name, expected", [("anna", "anna"), ("José Ñandú", "José_Ñandú"), ("a/../b", "a_.._b"),
                                            ("  ", "unnamed"), ("li.wei-2", "li.wei-2")])
def test_safe_id(name, expected):
    assert safe_id(name) == expected


def test_collect_both_layouts_and_keeps_clashing_names(tmp_path):
    (tmp_path / "anna.ipynb").write_text("{}")
    (tmp_path / "anna").mkdir()
    (tmp_path / "anna" / "week01_exercises.ipynb").write_text("{}")
    (tmp_path / "anna" / "scratch.ipynb").write_text("{}")
    (tmp_path / "bob").mkdir()
    (tmp_path / "notes.txt").write_text("not a submission")
    subs = {s.student: s for s in find_submissions(tmp_path, "week01")}
    assert set(subs) == {"anna", "anna-2", "bob"}
    folder = next(s for s in subs.values() if s.path and s.path.parent.name == "anna")
    assert folder.path.name == "week01_exercises.ipynb" and "2 notebooks" in folder.problems[0]
    assert any("graded as student id 'anna-2'" in p for s in subs.values() for p in s.problems)
    assert subs["bob"].path is None and "no .ipynb" in subs["bob"].problems[0]


def test_collect_refuses_a_missing_folder(tmp_path):
    with pytest.raises(InstructorError, match="does not exist"):
        find_submissions(tmp_path / "missing", "week01")


@pytest.mark.parametrize("options, message", [
    (["--timeout", "0"], "--timeout must be a number of seconds > 0, got 0.0"),
    (["--memory", "100"], "--memory must be at least 512 (MB), got 100"),
    (["--jobs", "0"], "--jobs must be at least 1, got 0"),
])
def test_bad_option_values_are_refused_naming_the_option(tmp_path, capsys, options, message):
    (tmp_path / "a.ipynb").write_text("{}")
    assert main(["grade", "--assignment", "week01", "--submissions", str(tmp_path), "--out", str(tmp_path / "o"),
                 *options]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o" / "grades.csv").exists()


@pytest.mark.parametrize("option", [["--on-flag", "maybe"], ["--export", "blackboard"]])
def test_unknown_choices_are_refused_by_the_parser(option):
    proc = subprocess.run([sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions",
                           ".", *option], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and f"argument {option[0]}" in proc.stderr and "invalid choice" in proc.stderr


def test_grade_batch_checks_its_arguments_like_the_command_line(tmp_path):
    from course_utils.grading.pipeline import grade_batch

    for kwargs, message in [({"on_flag": "maybe"}, "--on-flag must be one of keep, zero"),
                            ({"export": ["blackboard"]}, "--export must be one of canvas, moodle"),
                            ({"roster": tmp_path / "missing.csv"}, "--roster: .* does not exist")]:
        with pytest.raises(InstructorError, match=message):
            grade_batch(assignment="week01", submissions=tmp_path, out=tmp_path / "o", **kwargs)
