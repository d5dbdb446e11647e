"""Step `prepare`: turn whatever a student handed in into the notebook the grader will execute.

Runs in the grader's own process (no student code runs here). Order matters:
read → drop the grader's own metadata (a handed-in file must not claim a cell's result) → drop
foreign/duplicate metadata → re-attach stripped metadata → nbgrader's sanitizers (clear outputs,
kernelspec and locked/test cells overwritten from the gradebook) → restore deleted test cells →
guard the test cells (context.py). Each step appends what it changed to ``problems``.
"""

from __future__ import annotations

import copy
import re

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

from .config import quiet_logger
from .context import METADATA_KEY, Context, add_guard
from .release import checksum


def _gid(cell) -> str | None:
    md = cell.get("metadata", {}).get("nbgrader")
    return md.get("grade_id") if isinstance(md, dict) else None


def read_notebook(path) -> tuple[object | None, str | None]:
    """The notebook at ``path`` or (None, why it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as fh:
            nb = nbformat.read(fh, as_version=4)
        for cell in nb.cells:  # fail here, not halfway through grading
            cell.cell_type, cell.source  # noqa: B018
        return nb, None
    except Exception as exc:  # JSON errors, truncated files, binary data, wrong schema ...
        return None, f"not a readable notebook ({type(exc).__name__}: {str(exc)[:120]})"


def drop_foreign_metadata(nb, ctx: Context, problems: list[str]) -> None:
    """Unknown, malformed or repeated grade ids lose their nbgrader metadata; known ones get the source's."""
    seen, foreign, dupes = set(), set(), set()
    for cell in nb.cells:
        if "nbgrader" not in cell.metadata:
            continue
        gid = _gid(cell)
        if gid not in ctx.ids or cell.cell_type != ctx.cell(gid).cell_type:
            foreign.add(str(gid))
            del cell.metadata["nbgrader"]
        elif gid in seen:
            dupes.add(gid)
            del cell.metadata["nbgrader"]
        else:
            seen.add(gid)
            cell.metadata["nbgrader"] = copy.deepcopy(ctx.cell(gid).metadata["nbgrader"])
    if foreign:
        problems.append(f"cells with ids not in {ctx.assignment} ignored: {', '.join(sorted(foreign))}")
    if dupes:
        problems.append(f"copied cells with repeated ids (first one kept): {', '.join(sorted(dupes))}")


def _signature(cell) -> str:
    """The line of a released cell that a student keeps: the def/class line, else the first code line."""
    lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for ln in lines:
        if re.match(r"(def|class)\s+\w+", ln):
            return ln.strip()
    return lines[0].strip() if lines else "\0"


def reattach_metadata(nb, ctx: Context, problems: list[str]) -> None:
    """Cells whose nbgrader metadata was stripped get it back when they match a released cell."""
    present = {_gid(c) for c in nb.cells}
    restored = []
    for ref in ctx.released:
        gid = ref.metadata["nbgrader"]["grade_id"]
        if gid in present:
            continue
        locked = ref.metadata["nbgrader"].get("locked") and not ref.metadata["nbgrader"].get("solution")
        for cell in nb.cells:
            if "nbgrader" in cell.metadata or cell.cell_type != ref.cell_type:
                continue
            if (cell.source.strip() == ref.source.strip()) if locked else (_signature(ref) in cell.source):
                cell.metadata["nbgrader"] = copy.deepcopy(ref.metadata["nbgrader"])
                restored.append(gid)
                break
    if restored:
        problems.append(f"nbgrader metadata was missing; re-attached to {len(restored)} cells")


def note_edited_cells(nb, ctx: Context, problems: list[str]) -> None:
    """Record locked cells whose text differs from the release (nbgrader then restores them). A text that
    an earlier release of the assignment had is no edit: the hand-in was downloaded before a fix."""
    differ = [(g, c) for c in nb.cells if (g := _gid(c)) and ctx.cell(g).metadata["nbgrader"].get("locked")
              and not ctx.cell(g).metadata["nbgrader"].get("solution") and c.source.strip() != ctx.cell(g).source.strip()]
    older = [g for g, c in differ if checksum(c.source) in ctx.earlier.get(g, ())]
    edited = [g for g, _ in differ if g not in older]
    if older:
        problems.append(f"handed in on an earlier release of {ctx.assignment}; updated to the current text: "
                        f"{', '.join(older)}")
    if edited:
        problems.append(f"edited locked cells restored from the source: {', '.join(edited)}")


def nbgrader_sanitize(nb, ctx: Context, student: str):
    """nbgrader's own sanitizing steps: clear outputs, one id each, kernelspec and locked cells from the gradebook."""
    resources = {"nbgrader": {"db_url": ctx.db_url, "assignment": ctx.assignment, "notebook": ctx.notebook,
                              "student": student}}
    log = quiet_logger()
    for pp in (ClearOutput(), DeduplicateIds(), OverwriteKernelspec(), OverwriteCells(add_missing_cells=False),
               CheckCellMetadata()):
        pp.log = log
        nb, resources = pp.preprocess(nb, resources)
    return nb


def restore_missing_tests(nb, ctx: Context, problems: list[str]) -> None:
    """Put every deleted test cell back, from the gradebook, after the cell that preceded it in the release."""
    with Gradebook(ctx.db_url) as gb:
        source = gb.find_notebook(ctx.notebook, ctx.assignment)
        cells = {c.name: c for c in source.source_cells}
        points = {c.name: c.max_score for c in source.grade_cells}
        restored = []
        for i, gid in enumerate(ctx.ids):
            if gid not in points or gid in {_gid(c) for c in nb.cells}:
                continue
            new = nbformat.from_dict(OverwriteCells().missing_cell_transform(cells[gid], points[gid]))
            new.metadata["nbgrader"]["schema_version"] = 3
            before = [j for j, c in enumerate(nb.cells) if _gid(c) in ctx.ids[:i]]
            nb.cells.insert(before[-1] + 1 if before else len(nb.cells), new)
            restored.append(gid)
    if restored:
        problems.append(f"deleted test cells restored: {', '.join(restored)}")


def drop_grader_metadata(nb, problems: list[str]) -> None:
    """The grader's metadata key (a cell's reply status ...) is written by the grader only, never read from a hand-in."""
    found = METADATA_KEY in nb.metadata
    nb.metadata.pop(METADATA_KEY, None)
    for cell in nb.cells:
        found |= METADATA_KEY in cell.metadata
        cell.metadata.pop(METADATA_KEY, None)
        cell.metadata.pop("execution", None)
    if found:
        problems.append(f"the handed-in file carried the grader's {METADATA_KEY!r} metadata; it was ignored")


def answered(nb, ctx: Context) -> bool:
    """Does the notebook hold at least one of the assignment's answer cells?"""
    solution_ids = {g for g in ctx.ids if ctx.cell(g).metadata["nbgrader"].get("solution")}
    return any(_gid(c) in solution_ids for c in nb.cells)


def prepare(nb, ctx: Context, student: str, problems: list[str]):
    """The whole step: a notebook ready to execute (test cells from the source, guarded)."""
    drop_grader_metadata(nb, problems)
    drop_foreign_metadata(nb, ctx, problems)
    reattach_metadata(nb, ctx, problems)
    note_edited_cells(nb, ctx, problems)
    nb = nbgrader_sanitize(nb, ctx, student)
    restore_missing_tests(nb, ctx, problems)
    add_guard(nb, ctx)
    return nb
