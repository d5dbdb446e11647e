"""Step `score`: from the executed notebook to points in the gradebook (grader's process only).

Order matters: test cells that did not finish get an error output (so nbgrader scores them 0)
→ results published in test cells lose their partial-credit meaning → what the guard found at run
time becomes flags → the guard lines are removed → nbgrader's LimitOutput and SaveAutoGrades → the
autograded notebook is written where nbgrader's feedback step expects it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.api import Gradebook
from nbgrader.preprocessors import LimitOutput, SaveAutoGrades

from .config import quiet_logger
from .context import METADATA_KEY, Context, is_test, remove_guard
from .integrity import RESTORED_MIME

#: = course_utils.checks._failed.HINT_MIME (not imported: the checks package loads torch, which grading needs not)
HINT_MIME = "application/vnd.course-grader.hint+json"


def mark_unfinished(nb, problems: list[str]) -> None:
    """A test cell scores only if the kernel replied 'ok'; otherwise make sure it shows an error."""
    aborted = nb.metadata.get(METADATA_KEY, {}).get("aborted")
    if aborted:
        problems.append(f"kernel stopped: {aborted}")
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        status = cell.metadata.get(METADATA_KEY, {}).get("status")
        if status == "ok" and not any(o.output_type == "error" for o in cell.outputs):
            continue
        if not any(o.output_type == "error" for o in cell.outputs):
            if status is None:
                ename, why = "NotGraded", "the cell did not run (the kernel died or the batch time limit was reached)"
            elif status == "killed":
                ename, why = "TimeLimit", "the cell ran past the time limit and ignored the interrupt; its kernel was killed"
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


def runtime_flags(nb) -> list[str]:
    """What the test cells' guard found while they ran: library functions it had to put back before a
    test (published as a RESTORED_MIME display, removed here) and replacements during a test
    (an IntegrityError, which already fails that test)."""
    flags = []
    for cell in nb.cells:
        if not is_test(cell):
            continue
        gid = cell.metadata.nbgrader.grade_id
        kept = []
        for out in cell.outputs:
            restored = out.get("data", {}).get(RESTORED_MIME) if out.output_type == "display_data" else None
            if restored is None:
                kept.append(out)
                if out.output_type == "error" and out.ename == "IntegrityError":
                    flags.append(f"{gid}: {out.evalue}")
            elif isinstance(restored, dict):
                names = ", ".join(map(str, restored.get("restored", [])[:6]))
                flags.append(f"{gid}: student code had replaced {names} (put back before the test)")
        cell.outputs = kept
    return list(dict.fromkeys(flags))


def receipt_findings(nb) -> tuple[list[str], list[str]]:
    """What the kernel's receipts say (execute.check_receipts): machinery it put back before a test is a
    flag (the test then ran as written); a test that ran without a valid receipt, or while the machinery
    changed under it, cannot be trusted, and the submission is held for review (no score)."""
    flags, held = [], []
    for cell in nb.cells:
        if not is_test(cell):
            continue
        gid = cell.metadata.nbgrader.grade_id
        meta = cell.metadata.get(METADATA_KEY, {})
        if meta.get("status") not in ("ok", "error"):
            continue  # never ran or was killed: it scores 0 anyway (mark_unfinished)
        receipt = meta.get("receipt")
        if receipt != "ok":
            held.append(f"{gid} did not run as written: its receipt from the grader's kernel is {receipt or 'missing'}")
            continue
        undone = [b for b in meta.get("before") or [] if b.endswith("(could not be put back)")]
        if undone:
            held.append(f"{gid}: student code changed how cells run in a way that could not be undone "
                        f"({', '.join(undone[:6])})")
        if meta.get("before"):
            flags.append(f"{gid}: student code had changed how cells run ({', '.join(meta['before'][:6])}); "
                         "put back before the test")
        if meta.get("during"):
            held.append(f"{gid}: how cells run changed while the test ran ({', '.join(meta['during'][:6])})")
    return list(dict.fromkeys(flags)), list(dict.fromkeys(held))


def take_hints(nb) -> dict[str, dict]:
    """The hint record each failed test cell published (checks' HINT_MIME), removed from the outputs:
    test cell id -> {"id", "hint", "problem"} for the class report (report.py)."""
    hints = {}
    for cell in nb.cells:
        if not is_test(cell):
            continue
        kept = []
        for out in cell.outputs:
            record = out.get("data", {}).get(HINT_MIME) if out.output_type == "display_data" else None
            if record is None:
                kept.append(out)
            elif isinstance(record, dict) and cell.metadata.nbgrader.grade_id not in hints:
                hints[cell.metadata.nbgrader.grade_id] = {k: str(record.get(k, ""))[:500] for k in ("id", "hint", "problem")}
        cell.outputs = kept
    return hints


def unguard(nb) -> None:
    """Remove the guard lines and the grader's metadata: the notebook as the student will see it."""
    remove_guard(nb)
    for cell in nb.cells:
        cell.metadata.pop(METADATA_KEY, None)
        cell.metadata.pop("execution", None)
    nb.metadata.pop(METADATA_KEY, None)


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


def comment_flags(ctx: Context, student: str, flags: list[str]) -> None:
    """Each flag becomes the gradebook comment of the answer cell it concerns (a test cell's flag goes to
    the answer before it; a flag of a cell the student added, to the first answer)."""
    if not flags:
        return
    answers = ctx.answer_ids
    by_cell: dict[str, list[str]] = {}
    for flag in flags:
        label, _, what = flag.partition(": ")
        target = label if label in answers else None
        if target is None and label in ctx.ids:
            before = [g for g in ctx.ids[: ctx.ids.index(label)] if g in answers]
            target = before[-1] if before else None
        by_cell.setdefault(target or (answers[0] if answers else ""), []).append(flag if target != label else what)
    with Gradebook(ctx.db_url) as gb:
        for cell, items in by_cell.items():
            if not cell:
                continue
            comment = gb.find_comment(cell, ctx.notebook, ctx.assignment, student)
            comment.auto_comment = "Flagged by the grader for review: " + "; ".join(items)
        gb.db.commit()


def write_autograded(nb, out: Path, ctx: Context, student: str) -> Path:
    path = out / "autograded" / student / ctx.assignment / f"{ctx.notebook}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def score(nb, ctx: Context, student: str, out: Path, problems: list[str], flags: list[str] | None = None,
          held: list[str] | None = None, hints: dict | None = None) -> Path:
    """The whole step for an executed notebook; returns the autograded notebook's path. What the guard
    found at run time is appended to ``flags``, why the score cannot be trusted to ``held``, and the
    hint of each failed check goes into ``hints``."""
    mark_unfinished(nb, problems)
    no_partial_credit(nb)
    found_hints = take_hints(nb)
    if hints is not None:
        hints.clear()
        hints.update(found_hints)
    found = runtime_flags(nb)
    machinery_flags, why_held = receipt_findings(nb)
    if flags is not None:
        flags.extend(f for f in found + machinery_flags if f not in flags)
    if held is not None:
        held.extend(h for h in why_held if h not in held)
    note_failures(nb, problems)
    unguard(nb)
    nb = save_grades(nb, ctx, student)
    return write_autograded(nb, out, ctx, student)
