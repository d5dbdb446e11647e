"""Step `export`: grades.csv and the summary table, read back from the gradebook (the record of truth)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .prepare import Context


def load_problems(out: Path) -> dict[str, list[str]]:
    path = out / "problems.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_problems(out: Path, problems: dict[str, list[str]]) -> None:
    text = json.dumps(dict(sorted(problems.items())), indent=1, ensure_ascii=False)
    (out / "problems.json").write_text(text + "\n", encoding="utf-8")


def gradebook_rows(ctx: Context, problems: dict[str, list[str]]) -> list[dict]:
    """One row per student with a submission of this assignment: scores per test cell, total, problems."""
    rows = []
    with Gradebook(ctx.db_url) as gb:
        for student in sorted(s.id for s in gb.students):
            try:
                sub = gb.find_submission_notebook(ctx.notebook, ctx.assignment, student)
            except MissingEntry:
                continue
            row = {"student": student, "score": round(sub.score, 2), "max_score": round(sub.max_score, 2)}
            row.update({g.name: round(g.score, 2) for g in sorted(sub.grades, key=lambda g: g.name)})
            row["problems"] = "; ".join(problems.get(student, []))
            rows.append(row)
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    fields = list(rows[0]) if rows else ["student", "score", "max_score", "problems"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def summary_table(rows: list[dict]) -> str:
    """student | score | max | problems, one line each, problems shortened to fit a terminal."""
    width = max([len("student")] + [len(r["student"]) for r in rows])
    lines = [f"{'student':<{width}}  {'score':>6}  {'max':>5}  problems"]
    for r in rows:
        problems = r["problems"] if len(r["problems"]) <= 100 else r["problems"][:97] + "..."
        lines.append(f"{r['student']:<{width}}  {r['score']:>6g}  {r['max_score']:>5g}  {problems or '-'}")
    return "\n".join(lines)
