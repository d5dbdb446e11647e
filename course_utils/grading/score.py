"""Step `score`: from the executed notebook to points in the gradebook (grader's process only).

Order matters: test cells that did not finish get an error output (so nbgrader scores them 0)
→ results published in test cells lose their partial-credit meaning → the guard line is removed → nbgrader's LimitOutput and SaveAutoGrades → the autograded notebook
is written where nbgrader's feedback step expects it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.api import Gradebook
from nbgrader.preprocessors import LimitOutput, SaveAutoGrades

from .config import quiet_logger
from .prepare import GUARD, Context


def mark_unfinished(nb, problems: list[str]) -> None:
    """A test cell scores only if the kernel replied 'ok'; otherwise make sure it shows an error."""
    aborted = nb.metadata.get("course_grading", {}).get("aborted")
    if aborted:
        problems.append(f"kernel stopped: {aborted}")
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        status = cell.metadata.get("course_grading", {}).get("status")
        if status == "ok" and not any(o.output_type == "error" for o in cell.outputs):
            continue
        if not any(o.output_type == "error" for o in cell.outputs):
            if status is None:
                ename, why = "NotGraded", "the cell did not run (the kernel died or the batch time limit was reached)"
            else:  # the kernel replied "error" but no traceback was shown: the student silenced it
                ename, why = "ErrorHidden", f"the cell ended with status {status!r} but its error display was suppressed"
            cell.outputs.append(new_output("error", ename=ename, evalue=why, traceback=[f"{ename}: {why}"]))


def no_partial_credit(nb) -> None:
    """nbgrader reads an execute_result in a test cell as partial credit, even before an error; student code
    can publish one (``get_ipython().displayhook(1.5)``), so in test cells it becomes a plain display."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    out.output_type = "display_data"
                    out.pop("execution_count", None)


def note_failures(nb, problems: list[str]) -> None:
    """One short reason per failed test cell, for the summary table: ``ex2_sigmoid_test: CheckFailed``."""
    failed = []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            stderr = any(o.output_type == "stream" and o.name == "stderr" for o in cell.outputs)
            if errors or stderr:
                failed.append(f"{cell.metadata.nbgrader.grade_id} ({errors[0].ename if errors else 'stderr'})")
    if failed:
        problems.append("failed: " + ", ".join(failed))


def unguard(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(GUARD):
            cell.source = cell.source[len(GUARD):]
        cell.metadata.pop("course_grading", None)
        cell.metadata.pop("execution", None)
    nb.metadata.pop("course_grading", None)


def save_grades(nb, ctx: Context, student: str):
    """nbgrader's LimitOutput and SaveAutoGrades: the points of every test cell go into the gradebook."""
    resources = {"nbgrader": {"db_url": ctx.db_url, "assignment": ctx.assignment, "notebook": ctx.notebook,
                              "student": student}}
    for pp in (LimitOutput(), SaveAutoGrades()):
        pp.log = quiet_logger()
        nb, resources = pp.preprocess(nb, resources)
    return nb


def open_submission(ctx: Context, student: str) -> None:
    """Create (or reset) the student's submission of this assignment in the gradebook."""
    with Gradebook(ctx.db_url) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(ctx.assignment, student)


def zero_submission(ctx: Context, student: str) -> None:
    """Every test cell of the student's submission gets 0 points (nothing gradable was handed in)."""
    with Gradebook(ctx.db_url) as gb:
        for grade in gb.find_submission_notebook(ctx.notebook, ctx.assignment, student).grades:
            grade.auto_score, grade.needs_manual_grade = 0, False
        gb.db.commit()


def write_autograded(nb, out: Path, ctx: Context, student: str) -> Path:
    path = out / "autograded" / student / ctx.assignment / f"{ctx.notebook}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def score(nb, ctx: Context, student: str, out: Path, problems: list[str]) -> Path:
    """The whole step for an executed notebook; returns the autograded notebook's path."""
    mark_unfinished(nb, problems)
    no_partial_credit(nb)
    note_failures(nb, problems)
    unguard(nb)
    nb = save_grades(nb, ctx, student)
    return write_autograded(nb, out, ctx, student)
