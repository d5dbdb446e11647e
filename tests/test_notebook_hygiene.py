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


# A float tensor's repr is no portable output: torch prints `tensor([1., 1.])` when every element is
# integral and `tensor([1.0000, 1.0000])` when one is off by a rounding step, and its last digit follows
# the last bits of the arithmetic, which differ between CPUs, thread counts and GPUs.
FLOAT_TENSOR_REPR = re.compile(r"tensor\([\s\[]*[-+]?(?:\d+\.\d*|\.\d+|\d+e[-+]?\d+|inf|nan)")


def compared_text(cell) -> str:
    """The text nbval compares for a code cell: its streams and the text/plain of its results."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


@pytest.mark.parametrize("path", EXECUTED, ids=rel)
def test_no_float_tensor_repr_in_compared_outputs(path):
    """Is every float that a compared output shows printed at a chosen precision, never as a tensor's repr?"""
    for i, c in enumerate(code_cells(read(path))):
        if "nbval-ignore-output" in c.metadata.get("tags", []):
            continue
        m = FLOAT_TENSOR_REPR.search(compared_text(c))
        assert m is None, (
            f"{rel(path)} code cell {i} prints a float tensor's repr ({m.group(0)!r}...): print it with "
            "course_utils.printing (r4, sig, max_diff) or an f-string at a stated precision")


def test_float_tensor_repr_rule_catches_what_it_should():
    """Does the rule catch the reprs seen on other machines, and leave integer tensors and plain lists alone?"""
    for bad in ("sums: tensor([1., 1., 1.])", "tensor([[-0.82,  0.51]])", "tensor(1.0000)", "tensor([inf, nan])",
                "tensor([4.5379e-05])", "tensor([1e-05])"):
        assert FLOAT_TENSOR_REPR.search(bad), bad
    for good in ("tensor([1, 0])", "tensor([[3, 4]])", "[1.0, 1.0]", "tensor(5)"):
        assert not FLOAT_TENSOR_REPR.search(good), good


GRADED_TESTS = [(p, i, c) for p in SOLUTIONS for i, c in enumerate(code_cells(read(p)))
                if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]


@pytest.mark.parametrize("path, index, cell", GRADED_TESTS,
                         ids=[f"{rel(p)}-{c.metadata['nbgrader']['grade_id']}" for p, _, c in GRADED_TESTS])
def test_graded_test_cells_display_nothing(path, index, cell):
    """Does a test cell end without a displayed value (in the solution, and once its hidden tests are gone)?"""
    import ast

    shown = [o.output_type for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
    assert not shown, f"{rel(path)} code cell {index} displays a value ({shown}): end it with `_ = ...`"
    body = ast.parse(cell.source).body
    last = body[-1] if body else None
    bare = isinstance(last, ast.Expr) and not (
        isinstance(last.value, ast.Call) and isinstance(last.value.func, ast.Name)
        and (last.value.func.id.startswith("check_") or last.value.func.id == "require"))  # both return None
    assert not bare, f"{rel(path)} code cell {index} ends in an expression whose value would be displayed"
