"""The grading pipeline: ``python -m course_utils grade`` = these steps, in this order.

1. collect   — one notebook per student from the submissions folder
2. setup     — the assignment and its test cells go into the gradebook (nbgrader GenerateAssignment)
3. prepare   — per student, in the grader's process: read, repair metadata, restore test cells
4. sandbox   — per student, in its own process and kernel: execute under time/memory/output limits
5. score     — per student, in the grader's process: nbgrader's LimitOutput + SaveAutoGrades
6. feedback  — per student: nbgrader's GenerateFeedback HTML
7. export    — grades.csv and the summary table, from the gradebook

Student code only ever runs in step 4; every other step treats the submission as data, so no
submission can stop the batch or touch another student's row.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from .collect import Submission, find_submissions
from .config import InstructorError, check_assignment, isolated_env, load_config, source_dir, use_venv_tools
from .export import gradebook_rows, load_problems, save_problems, summary_table, write_csv
from .feedback import generate_feedback, write_plain_feedback
from .prepare import Context, answered, prepare, read_notebook
from .release import generate
from .sandbox import make_sandbox, run_sandboxed
from .score import open_submission, score, zero_submission


def setup(cfg, assignment: str, db_url: str, tmp: Path) -> Context:
    """Record the assignment in the gradebook and return what the students received."""
    released_dir = generate(cfg, assignment, tmp / "release", db_url=db_url)
    notebooks = sorted(released_dir.glob("*.ipynb"))
    if len(notebooks) != 1:
        raise InstructorError(f"{assignment} must hold exactly one notebook, found {len(notebooks)}")
    nb = nbformat.read(notebooks[0], as_version=4)
    released = [c for c in nb.cells if "nbgrader" in c.metadata]
    return Context(assignment, notebooks[0].stem, db_url, released)


def hidden_paths(cfg, out: Path, db_url: str) -> list[Path]:
    """Folders student code must not see: the solutions, the repository's history, the output, the gradebook's."""
    paths = [source_dir(cfg), Path(cfg.CourseDirectory.root) / ".git", out]
    if db_url.startswith("sqlite:///"):
        paths.append(Path(db_url.removeprefix("sqlite:///")).parent)
    python = Path(sys.prefix).resolve()  # never hide the folder the kernel's own Python lives in
    return [p for p in paths if not python.is_relative_to(p.resolve())]


def snapshot_gradebook(db_url: str) -> bytes | None:
    """The bytes of a sqlite gradebook (None for a database server, which student code cannot reach by path)."""
    path = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite:///") else None
    return path.read_bytes() if path and path.exists() else None


def restore_gradebook(db_url: str, snapshot: bytes | None) -> bool:
    """True if the gradebook is as snapshotted; otherwise write the snapshot back and return False."""
    if snapshot is None:
        return True
    path = Path(db_url.removeprefix("sqlite:///"))
    if path.exists() and path.read_bytes() == snapshot:
        return True
    path.write_bytes(snapshot)
    for extra in (path.with_name(path.name + "-journal"), path.with_name(path.name + "-wal")):
        extra.unlink(missing_ok=True)
    return False


def keep_copy(sub: Submission, ctx: Context, out: Path) -> None:
    """The file as handed in, where nbgrader's tools look for it: submitted/<student>/<assignment>/."""
    dest = out / "submitted" / sub.student / ctx.assignment / f"{ctx.notebook}.ipynb"
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        if sub.path is not None:
            shutil.copyfile(sub.path, dest)
    except OSError as exc:  # a dangling link, an unreadable file: read_notebook will say why it scores 0
        sub.problems.append(f"could not copy the file ({type(exc).__name__})")


def prepare_one(sub: Submission, ctx: Context, out: Path):
    """Steps 2-3 for one student; returns the notebook to execute, or None when it scores 0 outright."""
    open_submission(ctx, sub.student)
    keep_copy(sub, ctx, out)
    nb, why = read_notebook(sub.path) if sub.path else (None, "nothing handed in")
    if nb is not None:
        try:
            nb = prepare(nb, ctx, sub.student, sub.problems)
        except Exception as exc:  # metadata nbgrader cannot digest: retry as if it had been stripped
            sub.problems.append(f"nbgrader metadata unusable ({type(exc).__name__}); matched cells by content")
            nb = _prepare_stripped(sub, ctx)
        if nb is not None and answered(nb, ctx):
            return nb
        if nb is not None:
            why = f"none of {ctx.assignment}'s answer cells found (the notebook of another assignment?)"
    if why:
        sub.problems.append(why)
    zero_submission(ctx, sub.student)
    write_plain_feedback(out, ctx, sub.student, sub.problems)
    return None


def _prepare_stripped(sub: Submission, ctx: Context):
    """Second try for a notebook whose nbgrader metadata broke a step: drop it all and match cells by content."""
    try:
        nb, _ = read_notebook(sub.path)
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)
        return prepare(nb, ctx, sub.student, sub.problems)
    except Exception as exc:
        sub.problems.append(f"could not be prepared for grading ({type(exc).__name__}: {str(exc)[:100]})")
        return None


def finish_one(sub: Submission, ctx: Context, out: Path, prepared, result) -> None:
    """Steps 5-6 for one executed submission."""
    executed, problem, _seconds = result
    if executed is None:
        sub.problems.append(problem)
        executed = prepared  # nothing ran: every test cell is marked as not graded
    score(executed, ctx, sub.student, out, sub.problems)
    try:
        generate_feedback(out, ctx, sub.student)
    except Exception as exc:
        sub.problems.append(f"feedback page failed ({type(exc).__name__})")
        write_plain_feedback(out, ctx, sub.student, sub.problems)


def run_steps(cfg, assignment, db_url, tmp: Path, subs, out: Path, timeout, memory_mb, jobs):
    """Steps 2-6 (collect is done); returns the context, the isolation probe and seconds per sandbox run."""
    ctx = setup(cfg, assignment, db_url, tmp)
    box = make_sandbox(tmp / "sandbox", memory_mb, hidden_paths(cfg, out, db_url))
    isolation = box.probe()
    todo = [(s, nb) for s in subs if (nb := prepare_one(s, ctx, out)) is not None]
    # Student code runs only here. Results stay in memory; the gradebook is written after every
    # kernel has stopped, and restored if student code changed it in the meantime.
    snapshot = snapshot_gradebook(db_url)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_sandboxed, nb, box, timeout, out / "logs" / f"{s.student}.log") for s, nb in todo]
        results = [f.result() for f in futures]
    if not restore_gradebook(db_url, snapshot):
        print("warning: the gradebook file changed while student code ran; it was restored", file=sys.stderr)
    for (sub, nb), result in zip(todo, results, strict=True):
        finish_one(sub, ctx, out, nb, result)
    return ctx, isolation, [r[2] for r in results]


def grade_batch(*, assignment: str, submissions, out, timeout: float = 60, memory_mb: int = 4096,
                db_url: str | None = None, jobs: int | None = None, students=None) -> int:
    """Grade every submission (or only ``students``); print the summary; 0 unless the instructor erred."""
    t0 = time.perf_counter()
    # nbgrader's gradebook triggers SQLAlchemy "not in session" warnings that do not affect the data.
    warnings.filterwarnings("ignore", module="nbgrader.api")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    cfg = load_config()
    check_assignment(cfg, assignment)
    subs = find_submissions(Path(submissions).resolve(), assignment)
    if students:
        subs = [s for s in subs if s.student in set(students)]
        if not subs:
            raise InstructorError(f"no submission of {', '.join(students)} in {submissions}")
    if timeout <= 0 or memory_mb < 512:
        raise InstructorError("--timeout must be > 0 and --memory at least 512 (MB)")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    db_url = db_url or os.environ.get("COURSE_GRADEBOOK_URL") or f"sqlite:///{out / 'gradebook.db'}"
    use_venv_tools()
    jobs = jobs or min(4, os.cpu_count() or 1)
    saved_env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        os.environ.update(isolated_env(Path(tmp) / "home"))  # nbconvert & co. must not write to the real home
        try:
            ctx, isolation, seconds = run_steps(cfg, assignment, db_url, Path(tmp), subs, out, timeout, memory_mb, jobs)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
    problems = load_problems(out)
    problems.update({s.student: s.problems for s in subs})
    save_problems(out, problems)
    rows = gradebook_rows(ctx, problems)
    write_csv(rows, out / "grades.csv")
    print(summary_table(rows))
    total = time.perf_counter() - t0
    per = sum(seconds) / len(seconds) if seconds else 0.0
    print(f"\nstudent code ran {'with' if isolation == 'isolated' else 'WITHOUT'} hidden solutions/gradebook "
          f"and a read-only course folder (Linux mount namespaces{'' if isolation == 'isolated' else ' unavailable'})")
    print(f"graded {len(subs)} submissions in {total:.0f} s ({per:.1f} s per executed submission, {jobs} at a time)")
    print(f"gradebook: {db_url}\ngrades:    {out / 'grades.csv'}\nfeedback:  {out / 'feedback'}/<student>/{assignment}/")
    return 0
