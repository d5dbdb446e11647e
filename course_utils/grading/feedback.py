"""Step `feedback`: one HTML page per student, by nbgrader's GenerateFeedback (grader's process only)."""

from __future__ import annotations

import html
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor
from traitlets.config import Config

from .config import quiet_logger
from .context import Context


class ShortenTracebacks(NbGraderPreprocessor):
    """In test cells keep only the error's last line: IPython's traceback quotes the hidden tests around it."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for out in cell.outputs:
                if out.output_type == "error":
                    out.traceback = [f"{out.ename}: {out.evalue}" if out.evalue else f"{out.ename} (a test failed)"]
        return cell, resources


def feedback_path(out: Path, ctx: Context, student: str) -> Path:
    return out / "feedback" / student / ctx.assignment / f"{ctx.notebook}.html"


def generate_feedback(out: Path, ctx: Context, student: str) -> Path:
    """Render ``out/autograded/<student>/...`` with the student's scores into ``out/feedback/<student>/...``."""
    cfg = Config()
    cfg.CourseDirectory.root = str(out)
    cfg.CourseDirectory.db_url = ctx.db_url
    cfg.GenerateFeedback.force = True
    # nbgrader's default feedback shows the hidden tests' source (in the cell and in tracebacks); ours does not.
    cfg.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortenTracebacks, CSSHTMLHeaderPreprocessor]
    coursedir = CourseDirectory(config=cfg, log=quiet_logger())
    coursedir.assignment_id, coursedir.student_id = ctx.assignment, student
    GenerateFeedback(coursedir=coursedir, config=cfg, log=quiet_logger()).start()
    return feedback_path(out, ctx, student)


def write_plain_feedback(out: Path, ctx: Context, student: str, problems: list[str], heading: str | None = None) -> Path:
    """For a submission nbgrader cannot render (e.g. not a notebook): a short page with the reasons."""
    heading = heading or f"{ctx.assignment}: 0 points"
    path = feedback_path(out, ctx, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{ctx.assignment} feedback</title>"
                    f"</head><body><h1>{html.escape(heading)}</h1><ul>{items}</ul></body></html>\n",
                    encoding="utf-8")
    return path
