"""Helpers shared by the notebook tests: finding and reading the course notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "notebooks").glob("week*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("week*/week*_exercises.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("week*/week*_exercises.ipynb"))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))
