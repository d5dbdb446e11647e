"""Does a student's feedback page read well: their name, the week and the score in the title, exercises by
name, no cell ids, no error class names, a stub in one line, and maths typeset by the course's own MathJax?"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.grading.submissions import ROOT, honest, hooked, stub, write

pytestmark = pytest.mark.slow
WRONG_SIGMOID = "def sigmoid(z):\n    e = torch.exp(z)\n    return e / e.sum()\n"


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    base = tmp_path_factory.mktemp("feedback")
    write(honest({"ex2_sigmoid": WRONG_SIGMOID}), base / "subs" / "ben.ipynb")
    write(stub(), base / "subs" / "carla.ipynb")
    write(hooked("hook_thread_race"), base / "subs" / "dora.ipynb")  # starts a thread: held for review
    cmd = [sys.executable, "-m", "course_utils", "grade", "--assignment", "week01", "--submissions",
           str(base / "subs"), "--out", str(base / "out"), "--timeout", "30", "--jobs", "2"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    read = lambda s: (base / "out" / "feedback" / s / "week01" / "week01_exercises.html").read_text("utf-8")  # noqa: E731
    return {"ben": read("ben"), "carla": read("carla"), "dora": read("dora"), "out": base / "out"}


def test_the_title_names_the_student_the_week_and_the_score(pages):
    assert "<title>ben — week01: 8.5 of 10 points</title>" in pages["ben"]
    assert "<h4>carla — week01: 0 of 10 points</h4>" in pages["carla"]


def test_exercises_are_named_not_cell_ids_or_harness_words(pages):
    page = re.sub(r"<style.*?</style>", "", pages["ben"], flags=re.S)  # the page's text, not its stylesheet
    assert '<a href="#ex2_sigmoid_test">Exercise 2 — the sigmoid</a> (0 of 1.5 points)' in page
    assert "Check of Exercise 2 — the sigmoid" in page
    for word in ("Test cell", "Grade cell", "CheckFailed", "Traceback", "Score: "):
        assert word not in page, word
    assert "Hint: you normalised over the batch" in page


def test_a_stub_says_not_answered_yet_in_one_line(pages):
    errors = re.findall(r'output_error">\s*<pre>\s*(.*?)</pre>', pages["carla"], re.S)
    assert errors and all(e.strip() == "Not answered yet." for e in errors), errors


def test_long_lines_wrap_and_maths_comes_from_the_course(pages):
    page = pages["ben"]
    assert "white-space:pre-wrap" in page and "cdnjs" not in page
    assert not re.search(r'<(script|link|img)[^>]*(src|href)="(https?:)?//', page), "the page loads something from the web"
    mathjax = ROOT / "node_modules" / "mathjax" / "es5" / "tex-mml-chtml.js"
    if not mathjax.is_file():
        assert os.environ.get("CI") != "true", "MathJax is not installed (npm ci; make test installs it)"
        pytest.skip("MathJax not installed here (npm ci): the page shows the TeX as written")
    assert 'src="../../_mathjax/tex-mml-chtml.js"' in page
    assert (pages["out"] / "feedback" / "_mathjax" / "tex-mml-chtml.js").is_file()


def test_an_unanswered_exercise_gets_no_empty_note_from_the_grader(pages):
    """nbgrader comments "No response." on every answer left as released, and lists each comment in the contents as
    "Comment": for a stub that was five entries and five boxes saying nothing the checks do not say better."""
    page = pages["carla"]
    assert "No response." not in page and "Comments:" not in page
    assert 'href="#comment-' not in page and "A note from the grader" not in page
    assert page.count("Not answered yet.") >= 5


def test_a_held_hand_in_gets_a_page_that_names_the_student_and_says_in_review(pages):
    page = pages["dora"]
    assert "<title>dora — week01: in review</title>" in page and "<h1>dora — week01: in review</h1>" in page
    assert "reviews this hand-in before it gets a score" in page
    for word in ("thread", "flag", "held", "cheat"):  # the reason stays with the instructor (grades.csv)
        assert word not in page.lower(), word
