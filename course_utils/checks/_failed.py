"""What a student sees when a check fails (introduced in week 01): :class:`CheckFailed`, shown without the
course's frames, with the student's own lines when their code raised, and a hint record for the class report."""

from __future__ import annotations

import hashlib
import os
import sys
import traceback

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the course_utils package
_LIBRARIES = tuple({os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


#: The display type of a failed check's hint record, published when the grader's kernel runs the check
#: (COURSE_GRADER_HINTS=1); the grader counts hints per exercise for the class report and removes the record.
HINT_MIME = "application/vnd.course-grader.hint+json"


class CheckFailed(AssertionError):
    """Raised by a check: the message is meant for the student.

    In a notebook it shows as the message alone (IPython's ``_render_traceback_``), not as a traceback
    through the course's own code; when the student's code raised, the lines of the student's code it
    went through follow (``student_frames``). ``hint`` is the hint given (the text after "Hint:" unless
    passed), and ``hint_id`` a stable id of it: the same hint has the same id in every hand-in.
    """

    student_frames: list[str] = []

    def __init__(self, message: str = "", *, hint: str | None = None):
        super().__init__(message)
        text = str(message)
        self.hint = hint if hint is not None else text.partition("\n  Hint: ")[2].strip()

    @property
    def hint_id(self) -> str:
        text = str(self)
        if self.hint:
            return "hint-" + hashlib.sha1(self.hint.encode("utf-8")).hexdigest()[:8]
        for marker, kind in (("is not implemented yet", "not-implemented"), ("is not answered yet", "not-implemented"),
                             ("took longer than", "time-limit"), ("gave a warning", "warning")):
            if marker in text:
                return kind
        return "no-hint"

    def _render_traceback_(self) -> list[str]:
        if os.environ.get("COURSE_GRADER_HINTS") == "1":
            _publish_hint(self)
        lines = [f"CheckFailed: {self}"]
        if self.student_frames:
            lines += ["Where your code raised it:", *self.student_frames]
        return lines


def _publish_hint(err: CheckFailed) -> None:
    try:
        from IPython.display import display

        record = {"id": err.hint_id, "hint": err.hint, "problem": str(err).splitlines()[0][:300]}
        display({HINT_MIME: record, "text/plain": ""}, raw=True)
    except Exception:  # outside a kernel: nothing to publish
        pass


def _student_frames(tb, limit: int = 4) -> list[str]:
    """The frames of a traceback that are the student's code (not the course's, not a library's), formatted
    one line each: ``  line 3, in sigmoid: return 1 / (1 + torch.exp(-z))``; the innermost ``limit``."""
    frames = []
    for fs in traceback.extract_tb(tb):
        path = os.path.abspath(fs.filename) if not fs.filename.startswith("<") else fs.filename
        if path.startswith(_HERE) or path.startswith(_LIBRARIES) or "site-packages" in path:
            continue
        frames.append(f"  line {fs.lineno}, in {fs.name}: {(fs.line or '').strip()}")
    return frames[-limit:]
