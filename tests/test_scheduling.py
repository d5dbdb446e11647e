"""Does the two-worker schedule (conftest.py) keep what must stay together on one worker?"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the repository's conftest.py, by path (`import conftest` may find tests/conftest.py first)
_spec = importlib.util.spec_from_file_location("course_root_conftest", ROOT / "conftest.py")
conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conftest)


def test_the_cells_of_a_notebook_share_one_scope():
    ids = [f"notebooks/week02_softmax_log_softmax.ipynb::Cell {i}" for i in range(40)]
    assert {conftest.scope_of(i) for i in ids} == {"notebooks/week02_softmax_log_softmax.ipynb"}


def test_a_test_file_is_one_scope_and_per_week_files_split_by_week():
    assert conftest.scope_of("tests/test_printing.py::test_a[x-1]") == conftest.scope_of("tests/test_printing.py::t")
    a = conftest.scope_of("tests/test_exercises.py::test_every_autograded_cell_fails_on_the_stub[week03]")
    b = conftest.scope_of("tests/test_exercises.py::test_stub_failures_are_not_implemented_hints[week03]")
    c = conftest.scope_of("tests/test_exercises.py::test_stub_failures_are_not_implemented_hints[week04]")
    assert a == b != c  # the tests of one week share its executed stub (a cache in the module)


def test_the_browser_test_runs_in_two_halves_of_the_lectures():
    lectures = sorted(p.stem for p in (ROOT / "notebooks").glob("week*.ipynb"))
    ids = [f"tests/test_browser.py::test_notebook_runs_and_every_slider_changes_its_figure[{s}]" for s in lectures]
    scopes = [conftest.scope_of(i) for i in ids + ["tests/test_browser.py::test_broken_explorers_are_caught"]]
    assert set(scopes) == {"tests/test_browser.py::half0", "tests/test_browser.py::half1"}
    assert abs(scopes.count("tests/test_browser.py::half0") - scopes.count("tests/test_browser.py::half1")) <= 1


def test_the_longest_scopes_come_first_and_a_scope_stays_in_order():
    ids = ["tests/test_printing.py::t", "notebooks/week01_network_outputs.ipynb::Cell 0",
           "notebooks/week01_network_outputs.ipynb::Cell 1", "tests/test_browser.py::test_broken_explorers_are_caught"]
    ranked = sorted(ids, key=conftest._rank)
    assert ranked[0].startswith("tests/test_browser.py") and ranked[-1] == "tests/test_printing.py::t"
    assert ranked.index(ids[1]) < ranked.index(ids[2])


def test_the_makefile_uses_the_schedule():
    xdist = re.search(r"^XDIST := (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert "--dist loadscope" in xdist and "--no-loadscope-reorder" in xdist
