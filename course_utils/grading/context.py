"""What every grading step shares: the assignment's Context, the one metadata key, and the test-cell guard.

The guard is a pair of lines the `prepare` step puts around every graded test cell and the `score`
step takes away again (``add_guard`` / ``remove_guard``): the first line restores, inside the
student's kernel, every library function student code may have replaced and reloads the checks
(see ``integrity.py``); the last line fails the test if library functions were replaced while the
test itself ran (e.g. by the student's function the test called).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

#: The one key under which the grader keeps its own data in notebook and cell metadata: the kernel's
#: reply status per executed cell, why a run was aborted, and (in the solution notebooks) the calls an
#: exercise forbids, e.g. ``{"course_grading": {"forbid": ["F.cross_entropy"]}}``.
METADATA_KEY = "course_grading"

GUARD_MARK = "  # grader"
_INTEGRITY = "__import__('course_utils.grading.integrity', fromlist=['restore'])"
GUARD_PREFIX = f"{_INTEGRITY}.restore("
TRAILER = f"{_INTEGRITY}.verify(){GUARD_MARK}"


@dataclass
class Context:
    """What every step needs to know about the assignment being graded (from the release and the source)."""

    assignment: str
    notebook: str
    db_url: str
    released: list  # the cells the students received, in order (with nbgrader metadata)
    forbidden: dict[str, list[str]] = field(default_factory=dict)  # answer cell id -> calls it must not use
    imports: dict[str, str] = field(default_factory=dict)  # name -> "module" or "module:attr", from locked cells
    locked_defs: set[str] = field(default_factory=set)  # functions and classes the locked cells define
    earlier: dict[str, set[str]] = field(default_factory=dict)  # grade id -> checksums of its earlier releases

    @property
    def ids(self) -> list[str]:
        return [c.metadata["nbgrader"]["grade_id"] for c in self.released]

    def cell(self, grade_id: str):
        return next(c for c in self.released if c.metadata["nbgrader"]["grade_id"] == grade_id)

    @property
    def answer_ids(self) -> list[str]:
        return [g for g in self.ids if self.cell(g).metadata["nbgrader"].get("solution")]


def locked_bindings(sources: list[str]) -> tuple[dict[str, str], set[str]]:
    """Names the locked (non-student) cells import, as ``name -> "module"`` or ``"module:attr"``, and the
    functions and classes they define. Cells that do not parse are skipped."""
    imports: dict[str, str] = {}
    defs: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        imports[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        imports[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        imports[alias.asname or alias.name] = f"{node.module}:{alias.name}"
        defs.update(n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))
    return imports, defs


def guard_line(ctx: Context) -> str:
    """The first line of every graded test cell while it runs."""
    return f"{GUARD_PREFIX}globals(), {dict(sorted(ctx.imports.items()))!r}){GUARD_MARK}\n"


def is_test(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("grade"))


def add_guard(nb, ctx: Context) -> None:
    """Put the guard around each graded test cell (taken off again by ``remove_guard``)."""
    head = guard_line(ctx)
    for cell in nb.cells:
        if is_test(cell):
            cell.source = head + cell.source + "\n" + TRAILER


def remove_guard(nb) -> None:
    """Take the guard lines off every cell that has them, leaving the test cell as the source has it."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = cell.source
        first, _, rest = source.partition("\n")
        if first.startswith(GUARD_PREFIX) and first.endswith(GUARD_MARK):
            source = rest
        if source.endswith("\n" + TRAILER):
            source = source[: -len(TRAILER) - 1]
        cell.source = source
