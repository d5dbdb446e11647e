"""What does a student see when a check fails in a notebook: the hint in a few lines, or a long traceback?

Runs real cells in a kernel (nbclient), as JupyterLab would, and counts the lines of the error output.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow
ANSI = re.compile(r"\x1b\[[0-9;]*m")

CELLS = [
    "import torch\nfrom course_utils.checks import check_sigmoid, check_softmax_vector",
    # a wrong value: the check's message and hint, nothing else
    "def sigmoid(z):\n    return torch.exp(-z)\n\ncheck_sigmoid(sigmoid)",
    # the student's code raises: the message, the hint, and the student's own line
    "def helper(x):\n    return x.sum(dim=5)\n\ndef softmax_vector(x):\n    e = torch.exp(x)\n    return e / helper(e)\n\n"
    "check_softmax_vector(softmax_vector)",
    # a stub
    "def sigmoid(z):\n    raise NotImplementedError()\n\ncheck_sigmoid(sigmoid)",
]


@pytest.fixture(scope="module")
def errors():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    out = []
    for cell in nb.cells[1:]:
        (err,) = [o for o in cell.outputs if o.output_type == "error"]
        out.append(ANSI.sub("", "\n".join(err.traceback)).splitlines())
    return out


@pytest.mark.parametrize("which", [0, 1, 2], ids=["wrong value", "student code raised", "stub"])
def test_a_failed_check_shows_at_most_eight_lines(errors, which):
    lines = errors[which]
    assert len(lines) <= 8, "\n".join(lines)
    assert lines[0].startswith("CheckFailed: ")
    assert not any("course_utils" in line for line in lines), "\n".join(lines)


def test_a_wrong_value_shows_its_hint(errors):
    assert any("Hint:" in line for line in errors[0]), errors[0]


def test_the_students_own_lines_still_show_when_their_code_raised(errors):
    text = "\n".join(errors[1])
    assert "Where your code raised it:" in text
    assert "in helper: return x.sum(dim=5)" in text and "in softmax_vector: return e / helper(e)" in text


def test_a_stub_says_not_implemented_in_one_line(errors):
    assert errors[2] == ["CheckFailed: sigmoid is not implemented yet: replace `raise NotImplementedError` with your code"]
