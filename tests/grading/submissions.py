"""Build week-01 submissions in memory: honest ones from the solution, hostile ones by editing them."""

from __future__ import annotations

import copy
import functools
import re
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
WEEK = "week01"
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION[ \t]*(\n|\Z)", re.M)


def weeks() -> list[str]:
    """Every week with an exercise set."""
    return sorted(p.name for p in (ROOT / "solutions").glob("week[0-9][0-9]") if p.is_dir())


@functools.cache
def _released_text(week: str) -> str:
    """The student version as ``make release`` builds it from solutions/ now (exercises/ may lag behind an
    edit of a solution until it is released again; its freshness has a test of its own)."""
    from course_utils.grading.config import load_config
    from course_utils.grading.release import generate, normalise

    with tempfile.TemporaryDirectory(prefix="course-test-release-") as tmp:
        built = generate(load_config(ROOT), week, Path(tmp))
        normalise(built)
        return (built / f"{week}_exercises.ipynb").read_text(encoding="utf-8")


def released(week: str = WEEK):
    return nbformat.reads(_released_text(week), as_version=4)


def solved(week: str = WEEK) -> dict[str, str]:
    """grade_id -> what a student who solved the exercise would have in the answer cell."""
    src = nbformat.read(ROOT / "solutions" / week / f"{week}_exercises.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: MARKER.sub("", c.source) for c in src.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def honest(answers: dict[str, str] | None = None, week: str = WEEK):
    """The released notebook with every answer cell solved, except those given in ``answers``."""
    nb = released(week)
    code = solved(week)
    code.update(answers or {})
    for gid, source in code.items():
        cell(nb, gid).source = source
    return nb


def write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def stripped():
    nb = honest()
    for c in nb.cells:
        c.metadata.pop("nbgrader", None)
    return nb


def duplicated_ids():
    nb = honest()
    i = nb.cells.index(cell(nb, "ex2_sigmoid"))
    nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))  # the answer cell copied
    j = nb.cells.index(cell(nb, "ex4_logits_to_classes_test"))
    nb.cells.insert(j + 1, copy.deepcopy(nb.cells[j]))  # a test cell copied
    nb.cells[i + 1].id, nb.cells[j + 1].id = "copied-answer", "copied-test"  # Jupyter gives copies new ids
    return nb


def deleted_and_edited_tests():
    """Wrong sigmoid with its test deleted; wrong predict_binary with its test edited to pass."""
    nb = honest({"ex2_sigmoid": "def sigmoid(z):\n    return z\n",
                 "ex3_predict_binary": "def predict_binary(logits, threshold=0.5):\n    return (logits > 0).long()[:1]\n"})
    nb.cells.remove(cell(nb, "ex2_sigmoid_test"))
    cell(nb, "ex3_predict_binary_test").source = "pass  # all good"
    return nb


def other_assignment():
    nb = nbformat.v4.new_notebook()
    for gid, solution, src in [("ex1_softmax", True, "def softmax(x):\n    return x.softmax(-1)"),
                               ("ex1_softmax_test", False, "assert softmax is not None")]:
        c = nbformat.v4.new_code_cell(src)
        c.metadata["nbgrader"] = {"grade": not solution, "solution": solution, "locked": not solution,
                                  "grade_id": gid, "points": 2, "schema_version": 3, "task": False}
        nb.cells.append(c)
    return nb


CHEAT_CHECKS = """
import course_utils.checks as _c
for _name in dir(_c):
    if _name.startswith("check_"):
        setattr(_c, _name, lambda *a, **k: print("✔ all good"))
def sigmoid(z):
    return z
"""

CHEAT_ASSERT = """
import builtins, sys
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip.set_custom_exc((BaseException,), lambda *a, **k: None)
sys.excepthook = lambda *a: None
builtins.AssertionError = type("AssertionError", (Exception,), {})
def sigmoid(z):
    get_ipython().displayhook(1.5)  # nbgrader reads a result in a test cell as partial credit
    return z
"""

CHEAT_DISK = """
import glob, os, sqlite3
import course_utils
_found = []
# where the course and the gradebook might be: near the working folder, the helpers, the home,
# and the grader's own command line (--out DIR)
_places = [os.getcwd(), os.path.expanduser("~"), os.path.dirname(course_utils.__file__)]
for _pid in (os.getppid(), os.getpid()):
    try:
        _ppid = int(open(f"/proc/{_pid}/stat").read().split(")")[1].split()[1])
        _args = open(f"/proc/{_ppid}/cmdline").read().split("\\0")
        _places.append(os.readlink(f"/proc/{_ppid}/cwd"))  # where the grader was started: the course?
        if "--out" in _args:
            _places.append(os.path.join(os.readlink(f"/proc/{_ppid}/cwd"), _args[_args.index("--out") + 1]))
    except (OSError, IndexError, ValueError):
        pass
for _p in _places:
    for _up in range(5):
        _base = os.path.join(_p, *[".."] * _up)
        _found += glob.glob(os.path.join(_base, "solutions", "week01", "*.ipynb"))
        _found += glob.glob(os.path.join(_base, "gradebook.db")) + glob.glob(os.path.join(_base, "*", "gradebook.db"))
for _f in sorted(set(_found)):
    if _f.endswith(".ipynb"):
        import json
        for _cell in json.load(open(_f))["cells"]:
            if "BEGIN SOLUTION" in "".join(_cell["source"]):
                exec("".join(_cell["source"]))
    else:
        try:
            _db = sqlite3.connect(_f)
            _db.execute("update grade set manual_score = 100")
            _db.commit()
        except Exception:
            pass
print("cheat found:", sorted(set(_found)), dict(os.environ))
if "sigmoid" not in globals():
    def sigmoid(z):
        return z
"""


def build_all(folder: Path) -> dict[str, float | None]:
    """Write every case under ``folder``; return student id -> expected score (None: 0 < score < 10)."""
    expected = {}

    def add(name, nb_or_text, score, rel=None):
        path = folder / (rel or f"{name}.ipynb")
        if isinstance(nb_or_text, str):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(nb_or_text, encoding="utf-8")
        else:
            write(nb_or_text, path)
        expected[name] = score

    full = honest()
    add("honest_full", full, 10)
    add("honest_partial", honest({"ex4_logits_to_classes": "def logits_to_classes(logits):\n    return logits.argmax(dim=0)\n"}), 8)
    add("José_Ñandú", honest(), 10, rel="José Ñandú/my week 1 (final).ipynb")  # folder form, spaces, unicode
    add("not_json", "this is not a notebook {", 0)
    text = nbformat.writes(full)
    add("truncated", text[: len(text) // 2], 0)
    add("other_assignment", other_assignment(), 0)
    (folder / "dangling_link.ipynb").symlink_to(folder / "nowhere.ipynb")  # an LMS export gone wrong
    expected["dangling_link"] = 0
    add("tests_deleted", deleted_and_edited_tests(), 10 - 1.5 - 2)
    add("stripped_metadata", stripped(), 10)
    add("duplicate_ids", duplicated_ids(), 10)
    add("loop_top_level", honest({"ex1_output_choices": "while True:\n    pass\n" + solved()["ex1_output_choices"]}), 8.5)
    add("loop_in_function", honest({"ex2_sigmoid": "def sigmoid(z):\n    while True:\n        pass\n"}), 8.5)
    add("kernel_crash", honest({"ex3_predict_binary": "import os\nos._exit(1)\n"}), 3)
    add("memory_bomb", honest({"ex4_logits_to_classes": "def logits_to_classes(logits):\n"
                                "    hog = bytearray(64 * 1024**3)\n    return logits.argmax(dim=1)\n"}), 8)
    add("huge_output", honest({"ex1_output_choices": "print('x' * 50_000_000)\n" + solved()["ex1_output_choices"]}), 10)
    add("cheat_checks", honest({"ex2_sigmoid": CHEAT_CHECKS}), 8.5)
    add("cheat_assert", honest({"ex2_sigmoid": CHEAT_ASSERT}), 8.5)
    add("cheat_disk", honest({"ex2_sigmoid": CHEAT_DISK}), 8.5)
    return expected


# ----------------------------------------------------------------------------------- kernel hooks
# Each is two to six lines added to the first answer cell of the untouched student stub. Before the
# grader's kernel put the execution machinery back before every test cell, each one turned the test
# cells into nothing (or skipped them) and scored full marks.
HOOKS = {
    # an input transformer that empties every later cell, test cells included
    "hook_input_transformer": "get_ipython().input_transformers_cleanup.append(lambda lines: [])\n",
    # the same without writing get_ipython: the shell reached through the IPython package
    "hook_no_get_ipython": "import IPython\n"
                           "IPython.core.interactiveshell.InteractiveShell.instance()"
                           ".input_transformers_post.append(lambda lines: ['pass\\n'])\n",
    # an AST transformer that keeps only the first statement of every cell
    "hook_ast_transformer": "import ast\n"
                            "class _Keep(ast.NodeTransformer):\n"
                            "    def visit_Module(self, node):\n"
                            "        node.body = node.body[:1]\n"
                            "        return node\n"
                            "get_ipython().ast_transformers.append(_Keep())\n",
    # the shell's own method replaced on its class: every later cell "succeeds" without running
    "hook_shell_method": "import IPython\n"
                         "_cls = type(IPython.get_ipython())\n"
                         "async def _skip(self, raw_cell, *a, **k):\n"
                         "    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult\n"
                         "    return ExecutionResult(ExecutionInfo(raw_cell, False, False, False, None))\n"
                         "_cls.run_cell_async = _skip\n",
    # the kernel's execute method replaced on the instance: the grader's own kernel code is bypassed
    "hook_kernel_method": "_k = get_ipython().kernel\n"
                          "async def _ok(*a, **k):\n"
                          "    return {'status': 'ok', 'execution_count': 1, 'user_expressions': {}, 'payload': []}\n"
                          "_k.do_execute = _ok\n",
    # exceptions swallowed by a custom handler and a pre-run callback that drops every check
    "hook_events_and_exc": "_ip = get_ipython()\n"
                           "_ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
                           "_ip.events.register('pre_run_cell', lambda info: _ip.user_ns.update("
                           "{k: (lambda *a, **kw: None) for k in list(_ip.user_ns) if k.startswith('check_')}))\n",
    # the shell's class swapped for a subclass whose cells run nothing
    "hook_class_swap": "_real = get_ipython()\n"
                       "class _Fake(type(_real)):\n"
                       "    async def run_cell_async(self, raw_cell, *a, **k):\n"
                       "        from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult\n"
                       "        return ExecutionResult(ExecutionInfo(raw_cell, False, False, False, None))\n"
                       "_real.__class__ = _Fake\n",
    # a thread that puts an emptying transformer back whenever it is gone: a race with the grader's restore
    "hook_thread_race": "import threading, time\n"
                        "_ip = get_ipython()\n"
                        "def _blank(lines):\n    return []\n"
                        "def _keep():\n"
                        "    while True:\n"
                        "        if _blank not in _ip.input_transformers_cleanup:\n"
                        "            _ip.input_transformers_cleanup.append(_blank)\n"
                        "        time.sleep(0.0005)\n"
                        "threading.Thread(target=_keep, daemon=True).start()\n",
    # a finalizer that installs the transformer again when the grader drops the first one
    "hook_finalizer": "import weakref\n"
                      "_ip = get_ipython()\n"
                      "class _Blank:\n    def __call__(self, lines):\n        return []\n"
                      "def _again():\n    _ip.input_transformers_cleanup.append(_Blank())\n"
                      "_t = _Blank()\n"
                      "weakref.finalize(_t, _again)\n"
                      "_ip.input_transformers_cleanup.append(_t)\n"
                      "del _t\n",
}


def hooked(name: str, week: str = WEEK):
    """The untouched student stub with the hook ``name`` added to its first answer cell."""
    nb = released(week)
    first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    first.source = HOOKS[name] + first.source
    return nb


def stub(week: str = WEEK):
    """The student stub as released, handed in untouched."""
    return released(week)
