"""Step `collect`: find one notebook per student in what an LMS download gives."""

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
        student = base = safe_id(name)
        n = 2
        while student in found:  # "anna.ipynb" and "anna/": keep both, never overwrite one with the other
            student, n = f"{base}-{n}", n + 1
        if student != name:
            problems.append(f"handed in as {entry.name!r}; graded as student id {student!r}")
        found[student] = Submission(student, path, problems)
    if not found:
        raise InstructorError(f"no submissions in {folder}: expected <student-id>.ipynb or <student-id>/<file>.ipynb")
    return [found[k] for k in sorted(found)]
