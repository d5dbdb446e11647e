"""Proofs for every exercise set in solutions/weekNN/: is exercises/ generated, up to date and fair?

For each week the generated student stub is executed once, for real, in a fresh kernel with errors
allowed: every autograded cell must fail on it, in its visible check. That every autograded cell passes
on the solution is read from the solution's committed outputs — which strict nbval re-executes in the
same suite and compares (it fails when a fresh run differs, an error included), and which
tests/grading/test_every_week.py grades to full marks in the sandbox — so the solution is not run a
third time here.
"""

from __future__ import annotations

import filecmp
import re
import tempfile
from functools import cache
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils.grading.config import assignments, load_config
from course_utils.grading.release import generate, normalise

ROOT = Path(__file__).resolve().parents[1]
CFG = load_config(ROOT)
WEEKS = assignments(CFG)
FIX = "make release   (or: python -m course_utils release --assignment {week})"
BLOCK = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def source_nb(week: str):
    return nbformat.read(ROOT / "solutions" / week / f"{week}_exercises.ipynb", as_version=4)


def exercise_nb(week: str):
    path = ROOT / "exercises" / week / f"{week}_exercises.ipynb"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run {FIX.format(week=week)}"
    return nbformat.read(path, as_version=4)


def grade_cells(nb) -> dict:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


@cache
def executed(week: str, which: str):
    """The stub ("exercises") of ``week``, executed once with errors allowed."""
    assert which == "exercises", which
    nb = exercise_nb(week)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT / which / week)}})
    client.execute()
    return nb


def failure(cell) -> str | None:
    """Why nbgrader would give this executed cell 0 points (an error or stderr output), else None."""
    for out in cell.outputs:
        if out.output_type == "error":
            return f"{out.ename}: {out.evalue}"
        if out.output_type == "stream" and out.name == "stderr" and out.text.strip():
            return f"wrote to stderr: {out.text.strip()[:200]}"
    if cell.execution_count is None:
        return "did not run"
    return None


def test_there_is_an_exercise_set():
    assert WEEKS, "solutions/ holds no weekNN folder"


@pytest.mark.parametrize("week", WEEKS)
def test_exercises_are_up_to_date(week):
    """Is exercises/weekNN/ exactly what `make release` generates from solutions/weekNN/ now?"""
    with tempfile.TemporaryDirectory(prefix="course-release-check-") as tmp:
        built = generate(CFG, week, Path(tmp) / "out")
        normalise(built)
        committed = ROOT / "exercises" / week
        assert committed.is_dir(), f"exercises/{week}/ is missing: run {FIX.format(week=week)}"
        cmp = filecmp.dircmp(built, committed, ignore=[".ipynb_checkpoints", "__pycache__"])
        stale = _differences(cmp)
        assert not stale, f"exercises/{week}/ is stale ({', '.join(stale)}): run {FIX.format(week=week)}"


def test_generating_leaves_the_course_configuration_alone(tmp_path):
    """Releasing several weeks in one process must not carry one week's temporary paths into the next."""
    before = repr(CFG.CourseDirectory)
    generate(CFG, WEEKS[0], tmp_path / "out")
    assert repr(CFG.CourseDirectory) == before


def _differences(cmp: filecmp.dircmp, prefix: str = "") -> list[str]:
    out = [f"{prefix}{n} missing" for n in cmp.left_only] + [f"{prefix}{n} extra" for n in cmp.right_only]
    _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
    out += [f"{prefix}{n} differs" for n in mismatch + errors]
    for name, sub in cmp.subdirs.items():
        out += _differences(sub, f"{prefix}{name}/")
    return out


@pytest.mark.parametrize("week", WEEKS)
def test_no_solution_or_hidden_test_text_in_exercises(week):
    """Does any line written between BEGIN/END SOLUTION or BEGIN/END HIDDEN TESTS reach the student?"""
    released_text = "\n".join(c.source for c in exercise_nb(week).cells)
    assert "### BEGIN" not in released_text and "### END" not in released_text
    released = {ln.strip() for ln in released_text.splitlines()}
    source = "\n".join(c.source for c in source_nb(week).cells)
    visible = {ln.strip() for ln in BLOCK.sub("", source).splitlines()}  # lines meant for the student too
    for kind, body in BLOCK.findall(source):
        for line in (ln.strip() for ln in body.splitlines()):
            if len(line) > 3 and not line.startswith("#") and line not in visible:
                assert line not in released, f"exercises/{week}: {kind.lower()} line leaked: {line!r}"


@pytest.mark.parametrize("week", WEEKS)
def test_grade_cells_match_and_points_add_up_to_10(week):
    src, ex = grade_cells(source_nb(week)), grade_cells(exercise_nb(week))
    assert list(src) == list(ex), f"exercises/{week} has grade cells {list(ex)}, the source {list(src)}"
    assert 4 <= len(src) <= 8, f"{week} has {len(src)} graded exercises (4-8 expected)"
    assert sum(c.metadata["nbgrader"]["points"] for c in src.values()) == 10
    for gid, cell in src.items():
        assert "course_utils.checks" in cell.source, f"{week}/{gid}: the visible test should call course_utils.checks"
        assert "### BEGIN HIDDEN TESTS" in cell.source, f"{week}/{gid} has no hidden tests"


@pytest.mark.slow
@pytest.mark.parametrize("week", WEEKS)
def test_every_autograded_cell_fails_on_the_stub(week):
    cells = grade_cells(executed(week, "exercises"))
    passing = [gid for gid, cell in cells.items() if failure(cell) is None]
    assert not passing, f"{week}: these autograded cells pass on the unsolved stub: {passing}"


@pytest.mark.parametrize("week", WEEKS)
def test_every_autograded_cell_passes_on_the_solution(week):
    """Every autograded cell of the committed, executed solution ran without an error or stderr output."""
    cells = grade_cells(source_nb(week))
    failing = {gid: failure(cell) for gid, cell in cells.items() if failure(cell) is not None}
    assert not failing, f"{week}: autograded cells fail on the solution: {failing}"


@pytest.mark.slow
@pytest.mark.parametrize("week", WEEKS)
def test_stub_failures_are_not_implemented_hints(week):
    """On the stub, each graded cell fails in its visible check with a student-facing CheckFailed —
    not a NameError, a crash inside the check or a hidden assert the student never saw."""
    for gid, cell in grade_cells(executed(week, "exercises")).items():
        why = failure(cell)
        assert why is not None and why.startswith("CheckFailed: "), (
            f"{week}/{gid} fails on the stub for an unexpected reason: {why}")


def test_failure_names_errors_stderr_and_cells_that_did_not_run():
    """The reading of executed cells the two proofs above rely on."""
    ran = nbformat.v4.new_code_cell("x = 1", execution_count=3)
    assert failure(ran) is None
    error = nbformat.v4.new_code_cell("f()", execution_count=4,
                                      outputs=[nbformat.v4.new_output("error", ename="CheckFailed", evalue="no")])
    assert failure(error) == "CheckFailed: no"
    stderr = nbformat.v4.new_code_cell("g()", execution_count=5, outputs=[nbformat.v4.new_output(
        "stream", name="stderr", text="Warning: careful")])
    assert failure(stderr).startswith("wrote to stderr")
    assert failure(nbformat.v4.new_code_cell("h()")) == "did not run"
