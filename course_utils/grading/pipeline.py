"""The grading pipeline: ``python -m course_utils grade`` = these steps, in this order.

1. collect  — one notebook per student from the submissions folder
2. setup    — the assignment and its test cells go into the gradebook (nbgrader GenerateAssignment);
              what the locked cells import and define, what each exercise forbids (solution metadata)
3. prepare  — per student, in the grader's process: read, repair metadata, restore and guard the test
              cells; gives the notebook to run, or a Verdict (0 points, and why)
4. scan     — per student, in the grader's process: flag code that subverts grading (Python's ast)
5. sandbox  — per student, in a bubblewrap sandbox of its own: execute under time/memory/output limits
6. finish   — per student, in the grader's process: score (nbgrader's LimitOutput + SaveAutoGrades),
              flags into the gradebook's comments, the feedback page
7. export   — grades.csv, the summary table and the LMS files, from the gradebook and the notes

Student code only ever runs in step 5; every other step treats the submission as data, so no
submission can stop the batch or touch another student's row. Without a sandbox (``--no-sandbox``)
scores are written only after every kernel of the batch has stopped, and a sqlite gradebook that
changed meanwhile is restored.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
from tqdm import tqdm

from .collect import Submission, find_submissions
from .config import InstructorError, check_assignment, isolated_env, load_config, source_dir, use_venv_tools
from .context import METADATA_KEY, Context, locked_bindings
from .export import (
    LMS_FORMATS,
    RosterEntry,
    did_you_mean,
    export_lms,
    gradebook_rows,
    read_roster,
    summary_table,
    write_csv,
    write_feedback_bundle,
)
from .feedback import generate_feedback, write_plain_feedback
from .notes import Notes, StudentNotes
from .prepare import answered, prepare, read_notebook
from .release import earlier_releases, generate
from .report import write_report
from .sandbox import EXPOSED_WITHOUT_SANDBOX, RunResult, Sandbox, make_sandbox, run_sandboxed
from .scan import scan_notebook, unverifiable
from .score import comment_flags, open_submission, score, zero_submission

ON_FLAG = ("keep", "zero")
SANDBOX_SUMMARY = ("student code ran in the bubblewrap sandbox: the system and Python read-only, a copy of "
                   "course_utils, its own scratch folder; no network, no other files, no process outlived it")
NO_SANDBOX_SUMMARY = "student code ran WITHOUT a sandbox (--no-sandbox), with your user's rights"


@dataclass(frozen=True)
class Verdict:
    """What `prepare` says of a hand-in that scores 0 without running: why."""

    reasons: list[str]


def read_forbidden(cfg, assignment: str, notebook: str) -> dict[str, list[str]]:
    """answer cell id -> the calls it forbids, from ``metadata[METADATA_KEY]["forbid"]`` of the solution notebook."""
    path = source_dir(cfg) / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return {}
    forbidden = {}
    for cell in nbformat.read(path, as_version=4).cells:
        forbid = cell.metadata.get(METADATA_KEY, {}).get("forbid")
        if forbid is None:
            continue
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not gid or not isinstance(forbid, list) or not all(isinstance(f, str) and f for f in forbid):
            raise InstructorError(f"{path}: cell {gid or '?'}: metadata {METADATA_KEY}.forbid must be a list of "
                                  f"names such as \"F.cross_entropy\", in a cell with an nbgrader grade_id")
        forbidden[gid] = forbid
    return forbidden


def setup(cfg, assignment: str, db_url: str, tmp: Path) -> Context:
    """Record the assignment in the gradebook and return what the students received."""
    released_dir = generate(cfg, assignment, tmp / "release", db_url=db_url)
    notebooks = sorted(released_dir.glob("*.ipynb"))
    if len(notebooks) != 1:
        raise InstructorError(f"{assignment} must hold exactly one notebook, found {len(notebooks)}")
    return context_from(cfg, assignment, nbformat.read(notebooks[0], as_version=4), notebooks[0].stem, db_url)


def context_from(cfg, assignment: str, nb, notebook: str, db_url: str) -> Context:
    """The Context of ``nb``, the notebook the students received (its cells, what its locked cells import)."""
    released = [c for c in nb.cells if "nbgrader" in c.metadata]
    locked = [c.source for c in released if c.cell_type == "code" and c.metadata.nbgrader.get("locked")
              and not c.metadata.nbgrader.get("grade") and not c.metadata.nbgrader.get("solution")]
    imports, defs = locked_bindings(locked)
    forbidden = read_forbidden(cfg, assignment, notebook)
    return Context(assignment, notebook, db_url, released, forbidden, imports, defs,
                   earlier_releases(cfg, assignment, notebook))


def hidden_paths(cfg, out: Path, db_url: str, submissions: Path) -> list[Path]:
    """Host folders student code must never see (the sandbox shows nothing it is not given; these are
    covered even if they lie inside a folder it is given, such as the Python environment)."""
    paths = [Path(cfg.CourseDirectory.root), source_dir(cfg), out, submissions, Path.home()]
    if db_url.startswith("sqlite:///"):
        paths.append(Path(db_url.removeprefix("sqlite:///")).parent)
    python = Path(sys.prefix).resolve()
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


def keep_copy(sub: Submission, ctx: Context, out: Path, problems: list[str]) -> None:
    """The file as handed in, where nbgrader's tools look for it: submitted/<student>/<assignment>/."""
    dest = out / "submitted" / sub.student / ctx.assignment / f"{ctx.notebook}.ipynb"
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        if sub.path is not None:
            shutil.copyfile(sub.path, dest)
    except OSError as exc:  # a dangling link, an unreadable file: read_notebook will say why it scores 0
        problems.append(f"could not copy the file ({type(exc).__name__})")


def prepare_one(sub: Submission, ctx: Context, problems: list[str]):
    """Step 3 for one student: the notebook to execute, or a Verdict when it scores 0 outright."""
    nb, why = read_notebook(sub.path) if sub.path else (None, "nothing handed in")
    if nb is not None:
        try:
            nb = prepare(nb, ctx, sub.student, problems)
        except Exception as exc:  # metadata nbgrader cannot digest: retry as if it had been stripped
            problems.append(f"nbgrader metadata unusable ({type(exc).__name__}); matched cells by content")
            nb = _prepare_stripped(sub, ctx, problems)
        if nb is not None and answered(nb, ctx):
            return nb
        if nb is not None:
            why = f"none of {ctx.assignment}'s answer cells found (the notebook of another assignment?)"
    return Verdict([why] if why else [])


def _prepare_stripped(sub: Submission, ctx: Context, problems: list[str]):
    """Second try for a notebook whose nbgrader metadata broke a step: drop it all and match cells by content."""
    try:
        nb, _ = read_notebook(sub.path)
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)
        return prepare(nb, ctx, sub.student, problems)
    except Exception as exc:
        problems.append(f"could not be prepared for grading ({type(exc).__name__}: {str(exc)[:100]})")
        return None


def finish_one(sub: Submission, ctx: Context, out: Path, outcome, notes: StudentNotes, on_flag: str = "keep") -> None:
    """Step 6 for one student: ``outcome`` is a Verdict, or (prepared notebook, RunResult)."""
    open_submission(ctx, sub.student)
    if isinstance(outcome, Verdict):
        notes.problems.extend(outcome.reasons)
        zero_submission(ctx, sub.student)
        write_plain_feedback(out, ctx, sub.student, notes.problems)
        return
    prepared, result = outcome
    if result.problem:
        notes.problems.append(result.problem)
    executed = result.notebook if result.notebook is not None else prepared  # nothing ran: all NotGraded
    try:
        score(executed, ctx, sub.student, out, notes.problems, notes.flags, notes.held, notes.hints)
        comment_flags(ctx, sub.student, notes.flags)
    except Exception as exc:  # an executed notebook nbgrader cannot digest: 0, with the reason
        notes.problems.append(f"could not be scored ({type(exc).__name__}: {str(exc)[:100]})")
        zero_submission(ctx, sub.student)
        write_plain_feedback(out, ctx, sub.student, notes.problems)
        return
    if notes.flags and on_flag == "zero":
        zero_submission(ctx, sub.student)
        notes.problems.append("scored 0 because it was flagged (--on-flag zero)")
    if notes.held:  # no score on the page either, until a person has looked
        write_plain_feedback(out, ctx, sub.student, ["Your instructor reviews this hand-in before it gets a score."],
                             heading="in review")
        return
    try:
        generate_feedback(out, ctx, sub.student, notes.problems)
    except Exception as exc:
        notes.problems.append(f"feedback page failed ({type(exc).__name__})")
        write_plain_feedback(out, ctx, sub.student, notes.problems)


def _bar(total: int, desc: str):
    return tqdm(total=total, desc=desc, unit="submission", file=sys.stderr, mininterval=1.0, smoothing=0.1,
                bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]")


def run_steps(cfg, assignment, db_url, tmp: Path, subs, out: Path, timeout, jobs, box: Sandbox, notes: Notes,
              on_flag: str = "keep"):
    """Steps 2-6 (collect is done); returns the context and the seconds of each sandbox run."""
    ctx = setup(cfg, assignment, db_url, tmp)
    # the modules the notebook's locked cells import are loaded (and recorded) before the first cell
    modules = dict.fromkeys([*box.preimport.split(","), *(t.split(":")[0] for t in ctx.imports.values())])
    box.preimport = ",".join(m for m in modules if m)
    records = {s.student: notes.begin(s.student, box.mode, s.problems,
                                      {"lms": s.lms, "lms_id": s.lms_id, "name": s.name} if s.lms else None)
               for s in subs}
    todo = []
    for sub in subs:
        keep_copy(sub, ctx, out, records[sub.student].problems)
        outcome = prepare_one(sub, ctx, records[sub.student].problems)
        if isinstance(outcome, Verdict):
            finish_one(sub, ctx, out, outcome, records[sub.student], on_flag)
        else:
            found = scan_notebook(outcome, ctx)
            records[sub.student].flags.extend(str(f) for f in found)
            records[sub.student].held.extend(f"{f}: what such code does cannot be verified" for f in found
                                             if unverifiable(f))
            todo.append((sub, outcome))
    seconds: list[float] = []

    def run(sub, nb) -> RunResult:
        return run_sandboxed(nb, box, timeout, out / "logs" / f"{sub.student}.log")

    with ThreadPoolExecutor(max_workers=jobs) as pool, _bar(len(todo), "grading") as bar:
        futures = {pool.submit(run, s, nb): (s, nb) for s, nb in todo}
        if box.isolate:  # student code cannot reach the gradebook: finish each one as soon as it has run
            for future in as_completed(futures):
                sub, nb = futures[future]
                result = future.result()
                seconds.append(result.seconds)
                finish_one(sub, ctx, out, (nb, result), records[sub.student], on_flag)
                bar.update()
        else:  # student code could reach the gradebook: write it only once every kernel has stopped
            snapshot = snapshot_gradebook(db_url)
            results = {}
            for future in as_completed(futures):
                results[future] = future.result()
                bar.update()
            if not restore_gradebook(db_url, snapshot):
                print("warning: the gradebook file changed while student code ran; it was restored", file=sys.stderr)
            for future, (sub, nb) in futures.items():
                seconds.append(results[future].seconds)
                finish_one(sub, ctx, out, (nb, results[future]), records[sub.student], on_flag)
    return ctx, seconds


def _check_options(timeout, memory_mb, jobs, on_flag, export) -> None:
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise InstructorError(f"--timeout must be a number of seconds > 0, got {timeout!r}")
    if not isinstance(memory_mb, int) or memory_mb < 512:
        raise InstructorError(f"--memory must be at least 512 (MB), got {memory_mb!r}")
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise InstructorError(f"--jobs must be at least 1, got {jobs!r}")
    if on_flag not in ON_FLAG:
        raise InstructorError(f"--on-flag must be one of {', '.join(ON_FLAG)}, got {on_flag!r}")
    for fmt in export:
        if fmt not in LMS_FORMATS:
            raise InstructorError(f"--export must be one of {', '.join(LMS_FORMATS)}, got {fmt!r}")


def grade_batch(*, assignment: str, submissions, out, timeout: float = 60, memory_mb: int = 4096,
                db_url: str | None = None, jobs: int | None = None, students=None, no_sandbox: bool = False,
                on_flag: str = "keep", export=(), roster=None, allow_missing: bool = False) -> int:
    """Grade every submission (or only ``students``); print the summary; 0 unless the instructor erred."""
    t0 = time.perf_counter()
    # nbgrader's gradebook triggers SQLAlchemy "not in session" warnings that do not affect the data.
    warnings.filterwarnings("ignore", module="nbgrader.api")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    export = list(export or [])
    _check_options(timeout, memory_mb, jobs, on_flag, export)
    roster_entries = read_roster(roster) if roster is not None else None
    cfg = load_config()
    check_assignment(cfg, assignment)
    subs_dir = Path(submissions).resolve()
    subs = find_submissions(subs_dir, assignment)
    if students:
        subs = [s for s in subs if s.student in set(students)]
        if not subs:
            raise InstructorError(f"no submission of {', '.join(students)} in {submissions}")
    out = Path(out).resolve()
    db_url = db_url or os.environ.get("COURSE_GRADEBOOK_URL") or f"sqlite:///{out / 'gradebook.db'}"
    jobs = jobs or min(4, os.cpu_count() or 1)
    hidden = hidden_paths(cfg, out, db_url, subs_dir)
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        box = make_sandbox(Path(tmp) / "sandbox", memory_mb, isolate=not no_sandbox, hidden=hidden)
        why = box.probe()
        if why:
            raise InstructorError(
                f"cannot run student code in a sandbox here: {why}.\n"
                "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) on "
                "Linux with user namespaces enabled,\nor pass --no-sandbox to run student code with your own rights "
                "(it can then read your files, use the network and leave processes running).")
        if no_sandbox:
            print(EXPOSED_WITHOUT_SANDBOX, file=sys.stderr)
        out.mkdir(parents=True, exist_ok=True)
        use_venv_tools()
        notes = Notes(out)
        saved_env = dict(os.environ)
        os.environ.update(isolated_env(Path(tmp) / "home"))  # nbconvert & co. must not write to the real home
        try:
            ctx, seconds = run_steps(cfg, assignment, db_url, Path(tmp), subs, out, timeout, jobs, box, notes, on_flag)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            notes.save()
    rows = gradebook_rows(ctx, notes)
    write_csv(rows, out / "grades.csv")
    write_report(out, ctx, rows, notes)
    print(summary_table(rows))
    total = time.perf_counter() - t0
    per = sum(seconds) / len(seconds) if seconds else 0.0
    print(f"\n{NO_SANDBOX_SUMMARY if no_sandbox else SANDBOX_SUMMARY}")
    print(f"graded {len(subs)} submissions in {total:.0f} s ({per:.1f} s per executed submission, {jobs} at a time)")
    print(f"gradebook: {db_url}\ngrades:    {out / 'grades.csv'}\nfeedback:  {out / 'feedback'}/<student>/{assignment}/")
    print(f"report:    {out / 'report.html'} (what the class got wrong, per exercise; also report.csv)")
    return export_all(rows, ctx, out, export, roster_entries, allow_missing)


#: Exit status when graded students were left out of an LMS file (their grades would silently be missing).
LEFT_OUT = 3


def export_all(rows, ctx: Context, out: Path, export, roster_entries, allow_missing: bool = False) -> int:
    """Write each LMS file, say who was left out (with a "did you mean"), and return the exit status: LEFT_OUT
    when graded students are missing from a file, unless the instructor allows it."""
    left_out = set()
    for fmt in export:
        res = export_lms(fmt, rows, ctx, out, roster_entries)
        print(f"{fmt}:{' ' * (9 - len(fmt))}{res.path} ({len(res.written)} students)")
        entries = {**{r["student"]: RosterEntry(r.get("lms_id") or r["student"], r.get("name", "")) for r in rows},
                   **(roster_entries or {})}
        bundle, unplaced = write_feedback_bundle(fmt, [r for r in rows if r["student"] in res.written], ctx, out,
                                                 entries)
        print(f"  feedback pages for upload: {bundle}" + (f" (not in it: {', '.join(unplaced)})" if unplaced else ""))
        if res.not_in_roster:
            print("  not in the roster, left out: " + ", ".join(
                s + did_you_mean(s, res.not_graded) for s in res.not_in_roster))
            left_out.update(res.not_in_roster)
        if res.not_graded:
            print("  in the roster without a graded submission: " + ", ".join(
                s + did_you_mean(s, res.not_in_roster) for s in res.not_graded))
    if left_out and not allow_missing:
        print(f"error: {len(left_out)} graded student(s) are not in the LMS file(s): {', '.join(sorted(left_out))}. "
              "Add them to the roster (ids as in grades.csv), then run `python -m course_utils export` (no "
              "re-grading), or pass --allow-missing to leave them out.", file=sys.stderr)
        return LEFT_OUT
    return 0


def export_batch(*, assignment: str, out, export, roster=None, db_url: str | None = None,
                 allow_missing: bool = False) -> int:
    """Re-write grades.csv, the class report and the LMS files from the gradebook, without re-grading."""
    export = list(export or [])
    for fmt in export:
        if fmt not in LMS_FORMATS:
            raise InstructorError(f"--export must be one of {', '.join(LMS_FORMATS)}, got {fmt!r}")
    roster_entries = read_roster(roster) if roster is not None else None
    cfg = load_config()
    check_assignment(cfg, assignment)
    out = Path(out).resolve()
    db_url = db_url or os.environ.get("COURSE_GRADEBOOK_URL") or f"sqlite:///{out / 'gradebook.db'}"
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        raise InstructorError(f"no gradebook at {db_url.removeprefix('sqlite:///')}: grade {assignment} into {out} first")
    with tempfile.TemporaryDirectory(prefix="course-export-") as tmp:
        released = generate(cfg, assignment, Path(tmp) / "release")
        (nb_path,) = sorted(released.glob("*.ipynb"))
        ctx = context_from(cfg, assignment, nbformat.read(nb_path, as_version=4), nb_path.stem, db_url)
    notes = Notes(out)
    rows = gradebook_rows(ctx, notes)
    if not rows:
        raise InstructorError(f"the gradebook {db_url} holds no graded submission of {assignment}")
    write_csv(rows, out / "grades.csv")
    write_report(out, ctx, rows, notes)
    print(summary_table(rows))
    return export_all(rows, ctx, out, export, roster_entries, allow_missing)

