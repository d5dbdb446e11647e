"""Does the browser test run the cells every explorer needs, and only those?

tests/notebook_utils.cells_explorers_need slices a notebook backwards from its explorer cells over the
names they use. The browser test runs that slice; a cell it wrongly leaves out shows up there as a
NameError, a cell it wrongly keeps only costs time. These tests pin the rules on small notebooks and
check that every lecture's slice holds its explorers and what they read.
"""

from __future__ import annotations

import builtins

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.notebook_utils import LECTURES, cell_names, cells_explorers_need, explorer_cells, explorer_count, read


def notebook(*sources: str, explorer: int) -> nbformat.NotebookNode:
    """Code cells (a markdown cell first); cell ``explorer`` (1-based among code cells) displays an explorer."""
    cells = [new_markdown_cell("# a lecture")]
    for k, src in enumerate(sources, start=1):
        cell = new_code_cell(src)
        if k == explorer:
            cell.outputs = [new_output("display_data", data={"text/plain": "Explorer: toy (sliders: w in [0, 1])"})]
        cells.append(cell)
    return new_notebook(cells=cells)


def test_definitions_and_changes_are_kept_prints_and_plots_are_not():
    nb = notebook(
        "import torch\nfrom toys import explorer, train",  # 1
        "model = torch.nn.Linear(2, 1)",  # 2: defines what the explorer reads
        "print(model)",  # 3: only reads it
        "train(model, epochs=5)",  # 4: may change it
        "unused = 3 * 4",  # 5
        "ax.plot(model.weight)",  # 6: a method call on ax, model only read
        "model.eval()",  # 7: a method call whose result is discarded may change model
        "explorer(model)",  # 8
        "model.train()",  # 9: after the last explorer
        explorer=8,
    )
    assert cells_explorers_need(nb) == [1, 2, 4, 7, 8]


def test_a_rebinding_ends_the_need_for_earlier_definitions():
    nb = notebook("from toys import explorer", "w = 1.0", "w = 2.0", "explorer(w)", explorer=4)
    assert cells_explorers_need(nb) == [1, 3, 4]


def test_what_a_kept_cell_reads_is_needed_in_turn():
    nb = notebook("from toys import explorer, make", "n = 5", "data = make(n)", "other = 1", "e = explorer(data)\ne",
                  explorer=5)
    assert cells_explorers_need(nb) == [1, 2, 3, 5]


def test_loop_variables_function_locals_and_comprehensions_are_not_free():
    names = cell_names("for k in range(3):\n    y = k\nzs = [q * 2 for q in y]\n"
                       "def f(a):\n    b = a + g\n    return b\nlam = lambda t: t + 1\n")
    assert names.free == {"range", "g"}
    assert {"k", "y", "zs", "f", "lam"} <= names.binds and not {"q", "a", "b", "t"} & names.binds


@pytest.mark.parametrize("source, changed", [
    ("x.add_(1)", {"x"}),                  # in-place tensor method
    ("torch.nn.init.zeros_(w)", {"torch", "w"}),  # in-place function (torch, an import, is then ignored)
    ("v[0] = 1", {"v"}),                   # item assignment
    ("m.bias = None", {"m"}),              # attribute assignment
    ("c += 1", {"c"}),                     # augmented assignment
    ("h = fit(net, data)", {"net", "data"}),  # a plain function's arguments, its result assigned
    ("opt.step()", {"opt"}),               # a method call whose result is discarded
    ("y = z.softmax(dim=1)", set()),       # a method call whose result is kept: z only read
    ("def f():\n    g(a)\n", set()),       # inside a function: it changes a only when called
])
def test_what_may_change_a_name(source, changed):
    assert cell_names(source).changes == changed


def test_magics_and_shell_lines_are_ignored():
    assert cell_names("%matplotlib widget\n!ls\nx = 1").binds == {"x"}


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.stem)
def test_every_lecture_slice_holds_its_explorers_and_what_they_read(path):
    nb = read(path)
    keep = cells_explorers_need(nb)
    explorers = explorer_cells(nb)
    assert explorers and explorer_count(nb) >= len(explorers)
    assert set(explorers) <= set(keep) and keep == sorted(keep)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    bound_before: set[str] = set()
    for i in keep:
        names = cell_names(nb.cells[i].source)
        # every name a kept cell reads first comes from an earlier kept cell (or is a builtin); a function
        # body may read a name its own cell binds further down
        missing = names.free - names.binds - bound_before - set(dir(builtins)) - {"display", "get_ipython"}
        assert not missing, f"{path.name} cell {i} reads {sorted(missing)}, bound by no earlier kept cell"
        bound_before |= names.binds
    assert len(keep) < len(code), f"{path.name}: the slice keeps every cell; the browser test gains nothing"


@pytest.mark.parametrize("sources, explorer, expected", [
    # a function reads its globals when it is called: the training between its def and the call matters
    (["from toys import E, Net, train", "model = Net()", "def show():\n    return E(model)", "train(model)",
      "e = show()\ne"], 5, [1, 2, 3, 4, 5]),
    # a function that sets a global changes it where it is called
    (["from toys import E", "x = 0", "def bump():\n    global x\n    x += 1", "bump()", "E(x)"], 5, [1, 2, 3, 4, 5]),
    # del x reads x
    (["from toys import E", "x = 1", "y = 2\ndel x", "E(y)"], 4, [1, 2, 3, 4]),
    # an optimiser step changes the model it was built from
    (["import torch\nfrom toys import E, Net", "net = Net()", "opt = torch.optim.SGD(net.parameters(), lr=0.1)",
      "opt.step()", "E(net)"], 5, [1, 2, 3, 4, 5]),
    # a module function called for its effect changes its argument
    (["import numpy as np\nfrom toys import E", "idx = np.arange(5)", "np.random.shuffle(idx)", "E(idx)"], 4,
     [1, 2, 3, 4]),
    # a cell that only sets global state (a seed) comes along
    (["import torch\nfrom toys import E, Net", "torch.manual_seed(0)", "net = Net()", "E(net)"], 4, [1, 2, 3, 4]),
    # a try/except demonstration binds its error and is left out
    (["from toys import E, f", "try:\n    f()\nexcept ValueError as err:\n    print(err)", "E(1)"], 3, [1, 3]),
])
def test_effects_that_reach_the_explorer_are_kept(sources, explorer, expected):
    assert cells_explorers_need(notebook(*sources, explorer=explorer)) == expected
