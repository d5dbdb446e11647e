"""The one store of what grading found per student, besides the scores: problems, flags and the mode
(sandbox or not) of the batch that graded them. Kept in ``OUT/notes.json`` so that re-grading one
student keeps everyone else's notes; grades.csv and the summary are built from it and the gradebook.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

FILE = "notes.json"


@dataclass
class StudentNotes:
    problems: list[str] = field(default_factory=list)  # what went wrong or was repaired
    flags: list[str] = field(default_factory=list)  # code a person should look at (scan, guard)
    held: list[str] = field(default_factory=list)  # why the score cannot be trusted: no score until reviewed
    hints: dict[str, dict] = field(default_factory=dict)  # test cell id -> the hint its failed check gave
    lms: dict[str, str] = field(default_factory=dict)  # from an LMS bulk download's name: lms, lms_id, name
    mode: str = ""  # "sandbox" or "no-sandbox"


class Notes:
    """``notes[student]`` is that student's StudentNotes; ``begin`` starts a fresh record when a student is graded."""

    def __init__(self, out: Path):
        self.path = Path(out) / FILE
        self._by_student: dict[str, StudentNotes] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._by_student = {s: StudentNotes(**v) for s, v in data.items()}
        elif (self.path.parent / "problems.json").exists():  # an output folder of an earlier version
            data = json.loads((self.path.parent / "problems.json").read_text(encoding="utf-8"))
            self._by_student = {s: StudentNotes(problems=list(p)) for s, p in data.items()}

    def begin(self, student: str, mode: str, problems: list[str] | None = None,
              lms: dict[str, str] | None = None) -> StudentNotes:
        record = StudentNotes(problems=list(problems or []), mode=mode, lms=dict(lms or {}))
        self._by_student[student] = record
        return record

    def __getitem__(self, student: str) -> StudentNotes:
        return self._by_student.get(student, StudentNotes())

    def save(self) -> None:
        data = {s: asdict(n) for s, n in sorted(self._by_student.items())}
        self.path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
