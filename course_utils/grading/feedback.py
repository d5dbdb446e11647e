"""Step `feedback`: one HTML page per student, by nbgrader's GenerateFeedback (grader's process only)."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor
from traitlets.config import Config

from .config import quiet_logger
from .context import Context

NOT_ANSWERED = ("is not implemented yet", "is not answered yet")


class ShortenTracebacks(NbGraderPreprocessor):
    """In test cells keep only the error's message: IPython's traceback quotes the hidden tests around it. A
    failed check shows its message alone (no "CheckFailed:"), and a stub one line: "Not answered yet."."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and not meta.get("grade"):  # an answer cell, or a cell that uses an answer
            for out in cell.outputs:
                if out.output_type == "error" and out.ename == "NotImplementedError":
                    out.traceback = ["Not answered yet."]  # the stub's line, not a traceback through it
        if cell.cell_type == "code" and meta.get("grade"):
            for out in cell.outputs:
                if out.output_type != "error":
                    continue
                if any(marker in (out.evalue or "") for marker in NOT_ANSWERED) or out.ename == "NotImplementedError":
                    out.traceback = ["Not answered yet."]
                elif out.ename == "CheckFailed":
                    out.traceback = [out.evalue]
                else:
                    out.traceback = [f"{out.ename}: {out.evalue}" if out.evalue else f"{out.ename} (a test failed)"]
        return cell, resources


def feedback_path(out: Path, ctx: Context, student: str) -> Path:
    return out / "feedback" / student / ctx.assignment / f"{ctx.notebook}.html"


def generate_feedback(out: Path, ctx: Context, student: str, notes: list[str] | None = None) -> Path:
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
    path = feedback_path(out, ctx, student)
    make_readable(path, ctx, student, out, notes)
    return path


CSS = ("<style>.output_area pre{white-space:pre-wrap;word-break:break-word}"
       "ul.course-notes{background:#fff8e1;padding:.6em 1.6em;border-radius:4px}</style>")
MATHJAX_CONFIG = ("<script>window.MathJax={tex:{inlineMath:[['$','$'],['\\\\(','\\\\)']],"
                  "displayMath:[['$$','$$'],['\\\\[','\\\\]']]}};</script>")


def make_readable(path: Path, ctx: Context, student: str, out: Path, notes: list[str] | None = None) -> None:
    """nbgrader's page, for a student: titled with the student, the week and the score; each check named after
    its exercise instead of its cell id; long lines wrapped; the notes that concern the student on the page;
    MathJax from the course (``OUT/feedback/_mathjax``), never from a CDN."""
    from .export import STUDENT_NOTES
    from .report import exercise_titles

    page = path.read_text(encoding="utf-8")
    titles = exercise_titles(ctx)
    head = re.search(r"<h4>[^<]*\(Score: ([\d.]+) / ([\d.]+)\)</h4>", page)
    score = f"{float(head[1]):g} of {float(head[2]):g} points" if head else ""
    heading = f"{student} — {ctx.assignment}" + (f": {score}" if score else "")
    page = re.sub(r"<title>[^<]*</title>", f"<title>{html.escape(heading)}</title>", page, count=1)
    if head:
        said = [text for marker, text in STUDENT_NOTES.items() if any(marker in n for n in notes or [])]
        extra = "".join(f"<li>{html.escape(t)}</li>" for t in said)
        page = page.replace(head[0], f"<h4>{html.escape(heading)}</h4>"
                            + (f'<ul class="course-notes">{extra}</ul>' if extra else ""), 1)

    def toc(m):
        return f'<li><a href="#{m[1]}">{html.escape(titles.get(m[1], "Exercise"))}</a> ({float(m[2]):g} of {float(m[3]):g} points)</li>'

    page = re.sub(r'<li><a href="#([\w-]+)">Test cell</a> \(Score: ([\d.]+) / ([\d.]+)\)</li>', toc, page)
    # nbgrader's own comment on an answer left as released ("No response.") is no note from a person: the check
    # below the answer already says "Not answered yet."
    page = re.sub(r'<div class="panel-footer">\s*<div>\s*<b>Comments:</b>\s*<p>No response\.</p>\s*</div>\s*</div>',
                  "", page)
    if "<b>Comments:</b>" not in page:
        page = re.sub(r'<li><a href="#comment-[\w-]+">Comment</a></li>\s*', "", page)
    page = page.replace("<b>Comments:</b>", "<b>A note from the grader:</b>")
    page = re.sub(r'(<a href="#comment-[\w-]+">)Comment(</a>)', r"\1A note from the grader\2", page)
    page = re.sub(r"<span class=\"nbgrader-label\">Grade cell: <code>([\w-]+)</code></span>",
                  lambda m: f'<span class="nbgrader-label">Check of {html.escape(titles.get(m[1], "the exercise"))}</span>',
                  page)
    page = re.sub(r"Score: ([\d.]+) / ([\d.]+) <a href=\"#top\">",
                  lambda m: f'{float(m[1]):g} of {float(m[2]):g} points <a href="#top">', page)
    local = _local_mathjax(out)
    page = re.sub(r'<script[^>]*src="https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/[^"]*"[^>]*>\s*</script>',
                  lambda _: (MATHJAX_CONFIG + f'<script src="{local}" defer></script>') if local else "", page)
    page = page.replace("</head>", CSS + "</head>", 1)
    path.write_text(page, encoding="utf-8")


def _local_mathjax(out: Path) -> str | None:
    """MathJax 3 copied once into ``OUT/feedback/_mathjax`` from the course's npm install (make site installs
    it); the address relative to a page ``feedback/<student>/<week>/page.html``. None when it is not installed."""
    source = Path(__file__).resolve().parents[2] / "node_modules" / "mathjax" / "es5"
    dest = Path(out) / "feedback" / "_mathjax"
    if not (dest / "tex-mml-chtml.js").is_file():
        if not (source / "tex-mml-chtml.js").is_file():
            return None
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / "tex-mml-chtml.js", dest)
        for part in ("input", "a11y", "ui", "sre", "adaptors", "output"):
            if (source / part).is_dir():
                shutil.copytree(source / part, dest / part, dirs_exist_ok=True)
    return "../../_mathjax/tex-mml-chtml.js"


PLAIN_CSS = ("<style>body{font-family:'Helvetica Neue',Helvetica,Arial,sans-serif;max-width:48em;margin:2em auto;"
             "padding:0 1em;line-height:1.5;color:#222}h1{font-size:1.4em;font-weight:normal}</style>")


def write_plain_feedback(out: Path, ctx: Context, student: str, problems: list[str], heading: str | None = None) -> Path:
    """For a submission nbgrader cannot render (e.g. not a notebook), or one held for review: a short page titled
    "student — week: ``heading``" (default "0 points") with the reasons."""
    heading = f"{student} — {ctx.assignment}: {heading or '0 points'}"
    path = feedback_path(out, ctx, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    path.write_text(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(heading)}</title>"
                    f"{PLAIN_CSS}</head><body><h1>{html.escape(heading)}</h1><ul>{items}</ul></body></html>\n",
                    encoding="utf-8")
    return path
