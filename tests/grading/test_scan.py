"""The `scan` step: which student code is flagged for review, read with ast (no kernel is started here)."""

from __future__ import annotations

import re

import nbformat
import pytest

from course_utils.grading.config import load_config
from course_utils.grading.context import METADATA_KEY
from course_utils.grading.pipeline import context_from, read_forbidden
from course_utils.grading.scan import Flag, scan_notebook
from tests.grading.submissions import ROOT, honest, released, solved, weeks, write


class _Contexts(dict):
    """week -> Context, built from the released notebook when first asked for (no gradebook needed)."""

    def __missing__(self, week):
        ctx = context_from(load_config(ROOT), week, released(week), f"{week}_exercises", "sqlite://")
        self[week] = ctx
        return ctx


@pytest.fixture(scope="module")
def contexts():
    return _Contexts()


def flags_of(nb, ctx, _tmp_path=None) -> list[str]:
    return [str(f) for f in scan_notebook(nb, ctx)]


def with_cells(nb, *sources):
    """``nb`` with cells of the student's own appended."""
    nb.cells.extend(nbformat.v4.new_code_cell(s) for s in sources)
    return nb


@pytest.mark.parametrize("week", weeks())
def test_an_honest_solution_of_every_week_raises_no_flag(contexts, week, tmp_path):
    assert flags_of(honest(week=week), contexts[week], tmp_path) == []


HOSTILE = {  # student code -> what its flag must say
    "import torch\ntorch.allclose = lambda *a, **k: True": "replaces torch.allclose",
    # the helpers hidden tests fail through: turned into no-ops, a hidden test would pass anything
    "import course_utils.checks as c\nc.require = lambda *a, **k: None": "replaces course_utils.checks.require",
    "from course_utils.checks import _parts\n_parts.check_each = print": "replaces course_utils.checks._parts.check_each",
    "T = torch.Tensor\nT.__eq__ = lambda s, o: True": "replaces torch.Tensor.__eq__",
    "import numpy as np\nfor m in [np]:\n    setattr(m, 'allclose', print)": "calls setattr() on something other than self",
    "import sys\nsys.modules['torch'] = None": "uses sys.modules",
    "import builtins\nbuiltins.print = None": "uses the builtins module",
    "__builtins__['len'] = max": "uses __builtins__",
    "import ctypes": "uses ctypes",
    "import gc\ngc.get_objects()": "uses the garbage collector (gc)",
    "import importlib\nimportlib.reload(torch)": "uses importlib",
    "exec('x = 1')": "runs code from a string (exec)",
    "eval(''.join(['1', '+1']))": "runs code from a string (eval)",
    "code = compile('1', 'x', 'eval')": "compiles code from a string",
    "__import__('o' + 's').system('ls')": "imports with __import__",
    "open('/etc/passwd').read()": "accesses files outside the working folder ('/etc/passwd')",
    "open('../../solutions/x.ipynb')": "accesses files outside the working folder ('../../solutions/x.ipynb')",
    "import os\nos.listdir(os.getcwd() + '/..')": "accesses files at a computed path (os.listdir)",
    "import os\nos.system('cat ~/.ssh/id_rsa')": "starts or ends processes (os.system)",
    "import subprocess": "starts processes (subprocess)",
    "import threading\nthreading.Thread(target=print).start()": "starts threads (threading)",
    "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)": "handles signals",
    "import socket": "uses the network (socket)",
    "get_ipython().run_cell = None": "uses get_ipython()",
    "!cat /etc/passwd": "runs a shell command",
    "%load_ext autoreload": "runs the IPython magic %load_ext",
    "class Liar(torch.Tensor):\n    def __eq__(self, other):\n        return True": "defines __eq__ in class Liar",
    "class T(torch.Tensor):\n    @classmethod\n    def __torch_function__(cls, *a, **k):\n        return True":
        "defines __torch_function__ in class T",
    "def f(g):\n    return g.__globals__": "uses __globals__",
    "torch = None": "re-binds 'torch', which the notebook imports",
    "import numpy as torch": "re-binds 'torch', which the notebook imports",
    "x = torch._C._nn": "uses the private torch._C",
    "import course_utils.grading.integrity as i": "uses the grader's own modules",
    "Cheat = type('Cheat', (dict,), {'__eq__': lambda s, o: True})": "builds a class with type()",
    "def sigmoid(z):\n    globals()['torch'] = None\n    return z": "uses globals()",
    "getattr(torch, 'all' + 'close')": "looks up a computed attribute of torch",
    "(lambda: torch)().allclose = print": "sets .allclose on a computed object",
}


@pytest.mark.parametrize("source, expected", list(HOSTILE.items()), ids=[v for v in HOSTILE.values()])
def test_subverting_code_is_flagged(contexts, source, expected, tmp_path):
    flags = flags_of(with_cells(honest(), source), contexts["week01"], tmp_path)
    assert any(expected in f for f in flags), flags


def test_a_flag_names_the_answer_cell_or_the_added_cell(contexts, tmp_path):
    nb = honest({"ex2_sigmoid": "import torch\ntorch.sigmoid = lambda z: z\ndef sigmoid(z):\n    return z\n"})
    flags = flags_of(with_cells(nb, "import gc"), contexts["week01"], tmp_path)
    assert "ex2_sigmoid: replaces torch.sigmoid" in flags
    assert any(f.startswith("cell ") and f.endswith("uses the garbage collector (gc)") for f in flags)
    assert str(Flag("ex2_sigmoid", "x")) == "ex2_sigmoid: x"


BENIGN = [
    "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(2, 2)\n"
    "    def forward(self, x):\n        return self.fc(x)\n",
    "model = nn.Linear(2, 2)\nmodel.weight.data.fill_(0.0)\nmodel.bias.requires_grad_(False)",
    "with open('my_notes.txt', 'w') as fh:\n    fh.write('hello')",
    "%timeit torch.zeros(3)",
    "import math\nimport numpy as np\nprint(np.mean([1, 2]), math.log(2), torch.sigmoid(torch.zeros(1)))",
    "x = {'a': 1}\nx['b'] = 2\nprint(getattr(x, 'keys')())",
]


@pytest.mark.parametrize("source", BENIGN)
def test_ordinary_student_code_is_not_flagged(contexts, source, tmp_path):
    assert flags_of(with_cells(honest(), source), contexts["week01"], tmp_path) == []


def cross_entropy_exercise() -> tuple[str, str]:
    """(grade id, function name) of the week-03 answer whose metadata forbids F.cross_entropy."""
    forbidden = read_forbidden(load_config(ROOT), "week03", "week03_exercises")
    gid = next(g for g, names in forbidden.items() if "F.cross_entropy" in names and "cross_entropy" in g)
    return gid, re.search(r"def (\w+)", solved("week03")[gid]).group(1)


def test_week03_declares_cross_entropy_forbidden_in_the_solution_metadata():
    gid, name = cross_entropy_exercise()
    assert name == "cross_entropy_batch"
    released = (ROOT / "exercises" / "week03" / "week03_exercises.ipynb").read_text(encoding="utf-8")
    assert METADATA_KEY not in released  # the grader's settings stay in the source


@pytest.mark.parametrize("body", [
    "    return F.cross_entropy(logits, target)\n",
    "    from torch.nn.functional import cross_entropy as ce\n    return ce(logits, target)\n",
    "    return torch.nn.functional.cross_entropy(logits, target)\n",
    "    return torch.nn.CrossEntropyLoss()(logits, target)\n",
    "    return _helper(logits, target)\n",
])
def test_a_forbidden_call_is_flagged_also_through_an_alias_or_a_helper(contexts, body, tmp_path):
    gid, name = cross_entropy_exercise()
    nb = honest({gid: f"def {name}(logits, target):\n{body}"}, week="week03")
    nb.cells.insert(2, nbformat.v4.new_code_cell("def _helper(z, y):\n    return F.cross_entropy(z, y)\n"))
    flags = flags_of(nb, contexts["week03"], tmp_path)
    assert any(f.startswith(f"{gid}: uses") and "which this exercise forbids" in f for f in flags), flags


def test_the_same_call_is_fine_where_it_is_not_forbidden(contexts, tmp_path):
    """Another week-03 answer is meant to call F.cross_entropy: no flag there."""
    forbidden = read_forbidden(load_config(ROOT), "week03", "week03_exercises")
    allowed = [g for g, src in solved("week03").items()
               if "F.cross_entropy" in src and "F.cross_entropy" not in forbidden.get(g, [])]
    assert allowed, "no week-03 answer uses F.cross_entropy where it is allowed"
    assert flags_of(honest(week="week03"), contexts["week03"], tmp_path) == []


def test_a_malformed_forbid_declaration_is_an_instructor_error(tmp_path):
    from course_utils.grading.config import InstructorError

    cfg = load_config(ROOT)
    cfg.CourseDirectory.root = str(tmp_path)
    cfg.CourseDirectory.source_directory = "src"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.cells[0].metadata.update(nbgrader={"grade_id": "ex1", "solution": True}, **{METADATA_KEY: {"forbid": "F.x"}})
    write(nb, tmp_path / "src" / "week09" / "week09_exercises.ipynb")
    with pytest.raises(InstructorError, match="forbid must be a list of names"):
        read_forbidden(cfg, "week09", "week09_exercises")


def _use(name: str) -> str:
    """A line of student code that uses ``name`` (a function, class, module or tensor method)."""
    if name.startswith("torch.Tensor."):
        return f"_t = torch.zeros(3)\n_t.{name.rpartition('.')[2]}(0)\n"
    module, _, attr = name.rpartition(".")
    if name.startswith("course_utils.") and attr not in ("fit_temperature",) and "." not in name[13:]:
        return f"import {name} as _m\n"
    return f"import {module.split('.')[0] if not module.startswith('cal') else 'math'}\n{name}(None)\n"


FORBIDDEN = [(week, gid, name) for week in weeks()
             for gid, names in read_forbidden(load_config(ROOT), week, f"{week}_exercises").items() for name in names]


@pytest.mark.parametrize("week, gid, name", FORBIDDEN, ids=[f"{w}-{g}-{n}" for w, g, n in FORBIDDEN])
def test_every_forbidden_call_is_flagged_in_its_answer(contexts, week, gid, name, tmp_path):
    """Each list is read from the solution's metadata: a hand-in that uses any name on it is flagged."""
    nb = honest({gid: _use(name) + solved(week)[gid]}, week=week)
    flags = flags_of(nb, contexts[week], tmp_path)
    assert any(f.startswith(f"{gid}: uses") and "which this exercise forbids" in f for f in flags), (name, flags)


# "write it with `torch.exp` (not `torch.sigmoid`)", "do not call `cal.fit_temperature`", "so do not call them"
RULE = re.compile(r"(\(not `|[Dd]o not call|[Dd]on't call|[Dd]o not use|without calling)")


@pytest.mark.parametrize("week", weeks())
def test_every_rule_an_exercise_text_states_has_a_forbid_list(week):
    """A text that forbids a tool names it in backticks, and the exercise (or, in the introduction, some
    exercise of the set) lists each named call in its forbid metadata."""
    src = nbformat.read(ROOT / "solutions" / week / f"{week}_exercises.ipynb", as_version=4)
    forbidden = read_forbidden(load_config(ROOT), week, f"{week}_exercises")
    every = {n for names in forbidden.values() for n in names}
    current: list[str] = []  # the answer cells of the exercise whose text is being read
    for i, c in enumerate(src.cells):
        gid = c.metadata.get("nbgrader", {}).get("grade_id", "")
        if c.cell_type == "markdown" and re.match(r"\s*#+ Exercise", c.source):
            current = [g for g in forbidden if g.startswith(gid.split("_")[0] + "_")] if gid else []
        if c.cell_type != "markdown":
            continue
        for sentence in re.split(r"(?<=[.;])\s", c.source):
            if not RULE.search(sentence):
                continue
            rule = RULE.search(sentence)
            # "... `torch.softmax` ... are what your answers are compared with, so do not call them": the names
            # before the rule; otherwise ("(not `torch.sigmoid`)", "do not call `cal.fit_temperature`") those after
            if not re.match(r"\s*(them|these)\b", sentence[rule.end():]):
                sentence = sentence[rule.start():]
            named = [n for n in re.findall(r"`([\w.]+)`", sentence)
                     if "." in n and n.split(".")[0] in ("torch", "F", "cal", "course_utils", "np", "scipy")]
            scope = {n for g in current for n in forbidden[g]} if current else every
            assert scope, f"{week} cell {i} states a rule ({sentence.strip()[:80]!r}) but no exercise has a forbid list"
            for n in named:
                assert n in scope or any(f.startswith(n + ".") for f in scope), (
                    f"{week} cell {i}: the text forbids {n!r}, but no forbid list holds it")


@pytest.mark.parametrize("source", [
    "import ctypes\n", "import gc\ngc.get_objects()\n", "import inspect\n", "f = lambda: 0\nf.__closure__\n",
    "f = lambda: 0\nf.__globals__\n", "exec('x = 1')\n", "getattr(torch, 'all' + 'close')\n",
    "import operator\noperator.attrgetter('__clo' + 'sure__')\n", "import course_utils.grading.kernel\n",
    "import ipykernel\n", "import sys\nsys._getframe()\n", "import threading\n", "import weakref\n",
    "import signal\n", "import sys\nsys.settrace(None)\n",
])
def test_code_that_can_reach_past_the_checks_holds_the_submission(contexts, source):
    """Such code can read the grader's state in the kernel: its flag holds the submission (scan.UNVERIFIABLE)."""
    from course_utils.grading.scan import unverifiable

    flags = scan_notebook(with_cells(honest(), source), contexts["week01"])
    assert any(unverifiable(f) for f in flags), [str(f) for f in flags]


@pytest.mark.parametrize("week", weeks())
def test_no_honest_solution_is_held(contexts, week):
    from course_utils.grading.scan import unverifiable

    assert not [f for f in scan_notebook(honest(week=week), contexts[week]) if unverifiable(f)]
