"""Step `collect`: find one notebook per student in what an LMS download gives.

The bulk downloads of two LMSs are recognised by their names, and give each student's LMS id and
name without a roster (``lms_name``):

- Moodle ("Download all submissions"): a folder per student, ``<Full name>_<participant id>_assignsubmission_file_``
  (or ``..._onlinetext_``): student id ``<Full_name>_<participant id>``, LMS id the participant id, which
  Moodle's grading worksheet calls "Participant <id>";
- Canvas ("Download Submissions"): flat files ``<loginname>[_late]_<user id>_<submission id>_<file name>``:
  student id ``<loginname>``, LMS id the Canvas user id (the ``ID`` column of its gradebook).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .config import InstructorError


@dataclass
class Submission:
    """One student's hand-in: ``student`` (a safe id), the file, and problems found on the way."""

    student: str
    path: Path | None
    problems: list[str] = field(default_factory=list)
    lms: str = ""  # "moodle" or "canvas" when the name came from that LMS's bulk download
    lms_id: str = ""
    name: str = ""


MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_?$")
CANVAS = re.compile(r"^(?P<login>[a-z0-9]+)(?:_late)?_(?P<id>\d+)_(?P<submission>\d+)_(?P<file>.+)$")


def lms_name(name: str, is_dir: bool) -> tuple[str, str, str, str] | None:
    """(lms, student id, LMS id, name) of a Moodle or Canvas bulk-download entry ``name``; None for other names."""
    m = MOODLE.match(name) if is_dir else None
    if m:
        return "moodle", safe_id(f"{m['name']}_{m['id']}"), m["id"], m["name"].strip()
    m = CANVAS.match(name) if not is_dir else None
    if m:
        return "canvas", safe_id(m["login"]), m["id"], m["login"]
    return None


def safe_id(name: str) -> str:
    """A student id usable as a folder name and gradebook key: letters (any script), digits, . _ -."""
    name = unicodedata.normalize("NFC", name).strip()
    name = re.sub(r"[^\w.-]+", "_", name).strip("._")
    return name or "unnamed"


def _pick(folder: Path, assignment: str) -> tuple[Path | None, list[str]]:
    notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        return None, ["no .ipynb file in the student's folder"]
    named = [p for p in notebooks if p.stem == f"{assignment}_exercises"]
    chosen = named[0] if named else notebooks[0]
    problems = [f"{len(notebooks)} notebooks handed in; graded {chosen.name}"] if len(notebooks) > 1 else []
    return chosen, problems


def find_submissions(folder: Path, assignment: str) -> list[Submission]:
    """``folder/<id>.ipynb`` and ``folder/<id>/<anything>.ipynb``, one Submission per student, sorted by id."""
    if not folder.is_dir():
        raise InstructorError(f"submissions folder {folder} does not exist")
    found: dict[str, Submission] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if entry.is_dir():
            path, problems = _pick(entry, assignment)
        elif entry.suffix == ".ipynb":
            path, problems = entry, []
        else:
            continue
        name = entry.name if entry.is_dir() else entry.stem
        known = lms_name(entry.name, entry.is_dir())
        student = base = known[1] if known else safe_id(name)
        n = 2
        while student in found:  # "anna.ipynb" and "anna/": keep both, never overwrite one with the other
            student, n = f"{base}-{n}", n + 1
        if student != name:
            problems.append(f"handed in as {entry.name!r}; graded as student id {student!r}")
        lms, _, lms_id, full = known or ("", "", "", "")
        found[student] = Submission(student, path, problems, lms, lms_id, full)
    if not found:
        raise InstructorError(f"no submissions in {folder}: expected <student-id>.ipynb or <student-id>/<file>.ipynb")
    return [found[k] for k in sorted(found)]
