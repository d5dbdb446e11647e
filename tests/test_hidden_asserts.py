"""Do the graded test cells fail only with explained checks, never with a bare `assert`?

A failing `assert` (or `raise AssertionError(...)`) in a graded cell shows the student a traceback through the
test code, or just "AssertionError", on the feedback page: no hint. The checks' CheckFailed carries one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
WEEKS = sorted(p.name for p in (ROOT / "solutions").glob("week*") if p.is_dir())

def _unexplained_failures(source: str) -> list[str]:
    """The `assert` statements and `raise AssertionError` of a cell's code, as 'line N: text'."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        bare = isinstance(node, ast.Assert)
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            bare = isinstance(exc, ast.Name) and exc.id == "AssertionError"
        if bare:
            found.append(f"line {node.lineno}: {ast.get_source_segment(source, node).splitlines()[0]}")
    return found


def test_the_scan_finds_asserts_and_raised_assertion_errors():
    source = "x = 1\nassert x == 1\nif x:\n    raise AssertionError('no')\nraise ValueError('fine')\n"
    assert _unexplained_failures(source) == ["line 2: assert x == 1", "line 4: raise AssertionError('no')"]
    assert _unexplained_failures("check(x)  # assert in a comment\ns = 'assert'\n") == []


@pytest.mark.parametrize("week", WEEKS)
def test_graded_test_cells_have_no_bare_assert(week):
    problems = []
    for path in sorted((ROOT / "solutions" / week).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                problems += [f"{meta.get('grade_id')} {where}" for where in _unexplained_failures(cell.source)]
    assert not problems, f"{week}: graded cells fail without a hint (use a check that raises CheckFailed): {problems}"
