"""Are the committed notebooks clean, executed top to bottom, and free of machine details?"""

import json
import re

import nbformat
import pytest

from tests.notebook_utils import EXERCISES, LECTURES, SOLUTIONS, code_cells, read, rel

EXECUTED = LECTURES + SOLUTIONS
MAX_BYTES = 1_500_000
ABS_PATH = re.compile(r"(/root/|/home/[a-z_]|/work/|/tmp/|[A-Z]:\\\\Users)")


def test_every_week_has_a_lecture_and_solutions():
    """Is there at least one lecture, and does every solutions folder match a lecture week?"""
    assert LECTURES, "no lecture notebooks found in notebooks/"
    lecture_weeks = {p.name[:6] for p in LECTURES}
    for sol in SOLUTIONS:
        assert sol.parent.name in lecture_weeks, f"{rel(sol)} has no lecture notebook for {sol.parent.name}"


@pytest.mark.parametrize("path", EXECUTED + EXERCISES, ids=rel)
def test_valid_nbformat_and_python3_kernel(path):
    nb = read(path)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{rel(path)}: kernelspec must be python3"


@pytest.mark.parametrize("path", EXECUTED, ids=rel)
def test_executed_top_to_bottom_without_errors(path):
    """Execution counts run 1..N in order and no cell holds an error output."""
    cells = code_cells(read(path))
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{rel(path)}: execution counts {counts} are not 1..N; run `make execute NB={rel(path)}`"
    )
    for i, c in enumerate(cells):
        for out in c.outputs:
            assert out.output_type != "error", f"{rel(path)}: code cell {i} has an error output"
            if out.output_type == "stream":
                assert out.name == "stdout" or not out.text.strip(), f"{rel(path)}: code cell {i} writes to stderr"


@pytest.mark.parametrize("path", EXECUTED + EXERCISES, ids=rel)
def test_small_and_no_absolute_paths(path):
    assert path.stat().st_size < MAX_BYTES, f"{rel(path)} is {path.stat().st_size} bytes (limit {MAX_BYTES})"
    text = json.dumps([c.get("outputs", []) for c in read(path).cells]) + json.dumps(
        [c.source for c in read(path).cells]
    )
    m = ABS_PATH.search(text)
    assert m is None, f"{rel(path)} contains a machine-specific absolute path near {text[max(0, m.start()-40):m.end()+40]!r}"


@pytest.mark.parametrize("path", EXERCISES, ids=rel)
def test_exercises_have_no_outputs(path):
    for c in code_cells(read(path)):
        assert not c.outputs and c.execution_count is None, f"{rel(path)} holds outputs; regenerate with `make release`"


@pytest.mark.parametrize("path", EXECUTED, ids=rel)
def test_ignore_output_tags_carry_a_reason(path):
    """A cell tagged nbval-ignore-output says why in a comment on its first line; a comment alone is no tag."""
    for i, c in enumerate(code_cells(read(path))):
        tagged = "nbval-ignore-output" in c.metadata.get("tags", [])
        if tagged:
            assert c.source.lstrip().startswith("#"), (
                f"{rel(path)} code cell {i}: tagged nbval-ignore-output but its first line is no '# reason' comment")
        else:
            assert "nbval-ignore-output" not in c.source and "NBVAL_IGNORE_OUTPUT" not in c.source, (
                f"{rel(path)} code cell {i}: its comment says the output is not compared, but the cell has no "
                "nbval-ignore-output tag")


@pytest.mark.parametrize("path", EXECUTED, ids=rel)
def test_no_execution_timestamps(path):
    """Re-running a notebook must not change its file beyond real output changes."""
    stamped = [i for i, c in enumerate(read(path).cells) if "execution" in c.metadata]
    assert not stamped, f"{rel(path)}: cells {stamped} carry metadata.execution timestamps; re-execute with make execute"
