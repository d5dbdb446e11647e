"""Step `export`: grades.csv, the summary table and LMS import files, read back from the gradebook
(the record of truth) and the notes (problems, flags, mode; notes.py).

LMS files (``--export canvas|moodle``), written to ``OUT/lms/``:

- ``canvas_<assignment>.csv``: Canvas's gradebook import layout: ``Student,ID,SIS User ID,SIS Login ID,
  Section,<assignment>``; a ``Points Possible`` row first, then one row per student with the roster's
  name (or the student id), the LMS id in ``ID`` and the score in points.
- ``moodle_<assignment>.csv``: ``ID number,Full name,<assignment>,Feedback``; at import, map
  ``ID number`` to the user field your LMS ids are (ID number, username or email), ``<assignment>``
  to the grade item and ``Feedback`` to its feedback.

The roster (``--roster FILE``) is a CSV with a header: ``student`` (the id the grader uses, from the
file or folder name) and ``lms_id`` are required, ``name`` and ``section`` are optional. Without a
roster the student id is used as the LMS id. Students without a roster entry are left out of the
LMS files and listed, as are roster entries without a graded submission.
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .collect import safe_id
from .config import InstructorError
from .context import Context
from .notes import Notes

LMS_FORMATS = ("canvas", "moodle")


def gradebook_rows(ctx: Context, notes: Notes) -> list[dict]:
    """One row per student with a submission of this assignment: scores per test cell, total, mode, flags, problems."""
    rows = []
    with Gradebook(ctx.db_url) as gb:
        for student in sorted(s.id for s in gb.students):
            try:
                sub = gb.find_submission_notebook(ctx.notebook, ctx.assignment, student)
            except MissingEntry:
                continue
            record = notes[student]
            held = bool(record.held)  # no score until a person has looked (see scan.UNVERIFIABLE, score.receipt_findings)
            row = {"student": student, "status": "held" if held else "graded",
                   "score": "" if held else round(sub.score, 2), "max_score": round(sub.max_score, 2)}
            row.update({g.name: "" if held else round(g.score, 2) for g in sorted(sub.grades, key=lambda g: g.name)})
            row.update(mode=record.mode, held="; ".join(record.held), flags="; ".join(record.flags),
                       problems="; ".join(record.problems), lms=record.lms.get("lms", ""),
                       lms_id=record.lms.get("lms_id", ""), name=record.lms.get("name", ""))
            rows.append(row)
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    fields = list(rows[0]) if rows else ["student", "status", "score", "max_score", "mode", "held", "flags", "problems",
                                         "lms", "lms_id", "name"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def summary_table(rows: list[dict]) -> str:
    """student | score | max | flags | problems, one line each, long texts shortened to fit a terminal."""
    width = max([len("student")] + [len(r["student"]) for r in rows])
    lines = [f"{'student':<{width}}  {'score':>6}  {'max':>5}  {'flags':<5}  problems"]
    for r in rows:
        flags = f"{len(r['flags'].split('; '))}" if r["flags"] else "-"
        shown = "held" if r.get("status") == "held" else f"{r['score']:g}"
        lines.append(f"{r['student']:<{width}}  {shown:>6}  {r['max_score']:>5g}  {flags:<5}  "
                     f"{_short(r['problems'], 90) or '-'}")
    held = [r for r in rows if r.get("status") == "held"]
    if held:
        lines.append("\nheld for review, no score and not in the LMS files (see the held column of grades.csv):")
        lines += [f"  {r['student']}: {_short(r['held'], 110)}" for r in held]
    flagged = [r for r in rows if r["flags"]]
    if flagged:
        lines.append("\nflagged for review (see the flags column of grades.csv):")
        lines += [f"  {r['student']}: {_short(r['flags'], 110)}" for r in flagged]
    return "\n".join(lines)


@dataclass(frozen=True)
class RosterEntry:
    lms_id: str
    name: str = ""
    section: str = ""


def read_roster(path) -> dict[str, RosterEntry]:
    """``--roster``: student id -> RosterEntry; a clear InstructorError for a missing file, column or duplicate."""
    path = Path(path)
    if not path.is_file():
        raise InstructorError(f"--roster: {path} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        missing = [c for c in ("student", "lms_id") if c not in columns]
        if missing:
            raise InstructorError(f"--roster: {path} has no {' or '.join(missing)} column "
                                  f"(expected a header like: student,lms_id,name,section)")
        roster: dict[str, RosterEntry] = {}
        for n, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            if not row.get("student"):
                continue
            if not row.get("lms_id"):
                raise InstructorError(f"--roster: {path} line {n}: student {row['student']!r} has no lms_id")
            student = safe_id(row["student"])  # as the grader names hand-ins: "José Ñandú" -> "José_Ñandú"
            if student in roster:
                raise InstructorError(f"--roster: {path} line {n}: student {row['student']!r} appears twice"
                                      + (f" (as {student!r})" if student != row["student"] else ""))
            roster[student] = RosterEntry(row["lms_id"], row.get("name", ""), row.get("section", ""))
    if not roster:
        raise InstructorError(f"--roster: {path} lists no students")
    return roster


@dataclass
class LmsExport:
    path: Path
    written: list[str]
    not_in_roster: list[str]
    not_graded: list[str]


def export_lms(fmt: str, rows: list[dict], ctx: Context, out: Path, roster: dict[str, RosterEntry] | None) -> LmsExport:
    """Write the import file of ``fmt`` (canvas or moodle) for ``rows``; see the module docstring."""
    if fmt not in LMS_FORMATS:
        raise InstructorError(f"--export must be one of {', '.join(LMS_FORMATS)}, got {fmt!r}")
    rows = [r for r in rows if r.get("status") != "held"]  # held for review: no score to send yet
    # an LMS bulk download's names carry the LMS id (collect.lms_name); a roster entry takes precedence
    from_names = {r["student"]: RosterEntry(r.get("lms_id") or r["student"], r.get("name", "")) for r in rows
                  if r.get("lms_id") or roster is None}
    entries = {**from_names, **(roster or {})}
    graded = [r for r in rows if r["student"] in entries]
    not_in_roster = sorted(r["student"] for r in rows if r["student"] not in entries)
    not_graded = sorted(set(entries) - {r["student"] for r in rows})
    path = out / "lms" / f"{fmt}_{ctx.assignment}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    max_score = rows[0]["max_score"] if rows else 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if fmt == "canvas":
            w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ctx.assignment])
            w.writerow(["Points Possible", "", "", "", "", f"{max_score:g}"])
            for r in graded:
                e = entries[r["student"]]
                w.writerow([e.name or r["student"], e.lms_id, "", "", e.section, f"{r['score']:g}"])
        else:
            w.writerow(["ID number", "Full name", ctx.assignment, "Feedback"])
            for r in graded:
                e = entries[r["student"]]
                w.writerow([e.lms_id, e.name or r["student"], f"{r['score']:g}", student_feedback(r)])
    if fmt == "moodle" and any(r.get("lms") == "moodle" for r in graded):
        write_moodle_worksheet(graded, entries, ctx, out)
    return LmsExport(path, [r["student"] for r in graded], not_in_roster, not_graded)


def write_moodle_worksheet(graded: list[dict], entries: dict, ctx: Context, out: Path) -> Path:
    """Moodle's grading worksheet (Assignment → Upload grading worksheet), for hand-ins from its bulk download:
    ``Identifier`` is "Participant <id>", the id the download's folder names carry."""
    path = out / "lms" / f"moodle_worksheet_{ctx.assignment}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Identifier", "Full name", "Grade", "Feedback comments"])
        for r in graded:
            if r.get("lms") == "moodle":
                e = entries[r["student"]]
                w.writerow([f"Participant {r['lms_id']}", e.name or r["student"], f"{r['score']:g}", student_feedback(r)])
    return path


def write_feedback_bundle(fmt: str, rows: list[dict], ctx: Context, out: Path, entries: dict) -> tuple[Path, list[str]]:
    """A zip of the feedback pages for ``fmt``'s upload; returns its path and the students it could not place.

    Moodle ("Upload multiple feedback files in a zip"): ``<Full name>_<participant id>_assignsubmission_file_/<page>``,
    as its bulk download names the folders, for students whose hand-in came from that download. Canvas has
    no bulk upload of feedback files: its zip holds ``<user id>_<name>/<page>`` per student, to attach in
    SpeedGrader or publish."""
    import zipfile

    path = out / "lms" / f"{fmt}_feedback_{ctx.assignment}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    left: list[str] = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for r in rows:
            page = out / "feedback" / r["student"] / ctx.assignment / f"{ctx.notebook}.html"
            e = entries.get(r["student"])
            if r.get("status") == "held" or not page.is_file() or e is None:
                left.append(r["student"])
                continue
            if fmt == "moodle":
                if r.get("lms") != "moodle":
                    left.append(r["student"])
                    continue
                folder = f"{r.get('name') or r['student']}_{r['lms_id']}_assignsubmission_file_"
            else:
                folder = f"{e.lms_id}_{e.name or r['student']}"
            zf.write(page, f"{folder}/{ctx.assignment}_feedback.html")
    return path, left


#: What of the grader's notes a student should read in the LMS, in plain words (marker -> text). Everything
#: else (failed cells by id, file names, repaired metadata, flags) stays in grades.csv for the instructor.
STUDENT_NOTES = {
    "not a readable notebook": "The file you handed in could not be read as a notebook.",
    "answer cells found": "The file you handed in is not this week's exercise notebook.",
    "kernel stopped": "Your notebook stopped its Python kernel (for example by using too much memory); the "
                      "cells after that did not run.",
    "handed in on an earlier release": "You worked on an earlier version of the exercises; its fixed texts "
                                       "were updated before grading.",
    "edited locked cells restored": "Cells you were not meant to change were put back as released.",
    "deleted test cells restored": "Check cells you deleted were put back before grading.",
    "notebooks handed in; graded": "You handed in more than one notebook; one of them was graded.",
}


def student_feedback(row: dict) -> str:
    """The LMS feedback text of one row: the score, the notes that concern the student, the page to read."""
    notes = [text for marker, text in STUDENT_NOTES.items() if marker in row.get("problems", "")]
    return " ".join([f"{row['score']:g} of {row['max_score']:g} points.", *notes,
                     "Your feedback page shows each exercise."])


def did_you_mean(name: str, candidates) -> str:
    """ " (did you mean 'José_Ñandú'?)" when one of ``candidates`` is close to ``name``, else ""."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
