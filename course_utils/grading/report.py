"""Step `report`: what the class got wrong, per exercise, after every batch: ``OUT/report.csv`` and
``OUT/report.html``.

For each graded test cell: how many students passed it, and for the others which hint their failed
check gave (its stable id from ``CheckFailed.hint_id``, recorded by the score step), counted. Held
submissions are left out until reviewed. The page is self-contained (no scripts, fonts or styles
from elsewhere), so it can be opened from the output folder or mailed.
"""

from __future__ import annotations

import csv
import hashlib
import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook

from .context import Context
from .notes import Notes

NO_HINT = "failed without a hint from the check (an error in the student's code outside the check, a time limit, " \
          "or a hidden test)"
KIND_TEXT = {"not-implemented": "not answered yet (the stub)", "time-limit": "ran past the check's time limit",
             "warning": "the code gave a warning"}


@dataclass
class ExerciseReport:
    """One graded test cell: its title, how many were graded and passed, and the hints of the others."""

    test: str
    title: str
    graded: int = 0
    passed: int = 0
    hints: Counter = field(default_factory=Counter)  # hint id -> count
    texts: dict[str, str] = field(default_factory=dict)  # hint id -> what the hint says


def exercise_titles(ctx: Context) -> dict[str, str]:
    """Test cell id -> the heading of its exercise ("Exercise 2 — the sigmoid"), from the released notebook."""
    titles, current = {}, ""
    for cell in ctx.released:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            heading = cell.source.lstrip().splitlines()[0].lstrip("#").strip()
            current = heading.split(" (")[0] if heading.lower().startswith("exercise") else current
        if cell.cell_type == "code" and cell.metadata["nbgrader"].get("grade"):
            titles[cell.metadata["nbgrader"]["grade_id"]] = current or cell.metadata["nbgrader"]["grade_id"]
    return titles


def build(ctx: Context, rows: list[dict], notes: Notes) -> list[ExerciseReport]:
    """The report's numbers from grades.csv's rows (scores per test cell) and the notes (hints)."""
    with Gradebook(ctx.db_url) as gb:
        maxima = {c.name: c.max_score for c in gb.find_notebook(ctx.notebook, ctx.assignment).grade_cells}
    titles = exercise_titles(ctx)
    reports = [ExerciseReport(test, titles.get(test, test)) for test in ctx.ids if test in maxima]
    for row in rows:
        if row.get("status") == "held":
            continue
        record = notes[row["student"]]
        for rep in reports:
            rep.graded += 1
            if row.get(rep.test) != "" and float(row.get(rep.test, 0)) >= maxima[rep.test]:
                rep.passed += 1
                continue
            hint = record.hints.get(rep.test)
            key = hint["id"] if hint else "none"
            if key == "no-hint":  # the check named no likely mistake: one row per distinct problem
                key = "no-hint-" + hashlib.sha1(hint.get("problem", "").encode("utf-8")).hexdigest()[:8]
            rep.hints[key] += 1
            rep.texts.setdefault(key, (hint.get("hint") or KIND_TEXT.get(hint["id"]) or
                                       f"no hint; the check said: {hint.get('problem', '')}") if hint else NO_HINT)
    return reports


def write_csv(reports: list[ExerciseReport], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["exercise", "test_cell", "graded", "passed", "hint_id", "hint", "count"])
        for r in reports:
            w.writerow([r.title, r.test, r.graded, r.passed, "", "passed", r.passed])
            for key, count in r.hints.most_common():
                w.writerow([r.title, r.test, r.graded, r.passed, key, r.texts[key], count])


CSS = """body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin:1.6rem 0 .4rem}table{border-collapse:collapse;width:100%}
td{padding:.25rem .4rem;vertical-align:top;border-bottom:1px solid #ddd}td.n{text-align:right;width:3.5rem;
font-variant-numeric:tabular-nums}td.bar{width:12rem}.bar span{display:block;height:.9rem;background:#0072b2}
.pass span{background:#009e73}p.meta{color:#444}"""


def _bar(count: int, total: int, kind: str = "") -> str:
    width = 100 * count / total if total else 0
    return f'<td class="bar {kind}"><span style="width:{width:.1f}%"></span></td>'


def write_html(reports: list[ExerciseReport], path: Path, ctx: Context) -> None:
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(ctx.assignment)}: what the class got wrong</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(ctx.assignment)}: what the class got wrong</h1>",
             "<p class='meta'>Per exercise: how many students passed its test, and which hint the check gave the "
             "others. Held submissions are not counted until they are reviewed.</p>"]
    for r in reports:
        parts.append(f"<h2>{html.escape(r.title)} <small>({html.escape(r.test)})</small></h2>"
                     f"<p>{r.passed} of {r.graded} passed</p><table>")
        parts.append(f"<tr><td class='n'>{r.passed}</td>{_bar(r.passed, r.graded, 'pass')}<td>passed</td></tr>")
        for key, count in r.hints.most_common():
            parts.append(f"<tr><td class='n'>{count}</td>{_bar(count, r.graded)}<td>{html.escape(r.texts[key])}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_report(out: Path, ctx: Context, rows: list[dict], notes: Notes) -> list[ExerciseReport]:
    """The whole step: report.csv and report.html in ``out``; returns the numbers."""
    reports = build(ctx, rows, notes)
    write_csv(reports, Path(out) / "report.csv")
    write_html(reports, Path(out) / "report.html", ctx)
    return reports
