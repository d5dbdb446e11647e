"""Keep every Jupyter/IPython/matplotlib tool started by the tests out of the user's home, and share
the tests out between the two pytest-xdist workers (below).

This file sits at the repository root so that it applies to the unit tests and to
nbval's collection of ``notebooks/`` and ``solutions/`` alike.
"""

import re
from pathlib import Path

from course_utils.jupyter_env import isolate_this_process


def pytest_configure(config):
    isolate_this_process("course-test-home-")


# Notebooks under tests/ are fixtures (deliberately broken explorers, hostile submissions):
# they are inputs of tests, never validated by nbval themselves.
collect_ignore_glob = ["tests/*.ipynb", "tests/*/*.ipynb", "tests/*/*/*.ipynb", "tests/*/*/*/*.ipynb"]


# --------------------------------------------------------------------------- both cores, longest work first
# `make test` runs pytest-xdist with `--dist loadscope --no-loadscope-reorder`, and the scheduler below
# redefines the scope: a scope runs whole on one worker, and scopes start in the order of the items. Each
# test file is a scope (a notebook's cells share one kernel; a module's fixtures are built once), except
# where the work falls apart into independent pieces: the browser test in two halves of the lectures (one
# JupyterLab and Chromium per half), and files whose tests are per week (one scope per week). The longest
# scopes are put first, so that no worker is left with one of them at the end while the other idles.
# (pytest-xdist's own `loadgroup` cannot be used: it renames test ids in a way pytest 9 no longer allows.)
ROOT = Path(__file__).resolve().parent
BY_WEEK = ("tests/test_exercises.py", "tests/test_verdicts.py", "tests/grading/test_every_week.py")
#: Scopes whose files start with these run first, in this order (the rest keep their collection order).
FIRST = ("tests/test_browser.py", "tests/grading/test_hostile_submissions.py", "tests/grading/test_sandbox.py",
         "tests/grading/test_integrity.py", "tests/grading/test_every_week.py", "notebooks/week07",
         "tests/grading/test_gradebook_postgres.py", "tests/grading/test_export.py", "tests/test_exercises.py",
         "notebooks/", "tests/test_verdicts.py", "solutions/", "tests/grading/")


def scope_of(nodeid: str) -> str:
    """The scope of a test id: its file, one half of the browser test, or its file and week."""
    path = nodeid.split("::")[0]
    if path == "tests/test_browser.py":
        lectures = sorted(p.stem for p in (ROOT / "notebooks").glob("week*.ipynb"))
        param = re.search(r"\[(.*)\]$", nodeid)
        half = lectures.index(param.group(1)) % 2 if param and param.group(1) in lectures else 1
        return f"{path}::half{half}"
    week = re.search(r"\[(week\d\d)", nodeid) if path in BY_WEEK else None
    return f"{path}::{week.group(1)}" if week else path


def _rank(nodeid: str) -> int:
    scope = scope_of(nodeid)
    return next((i for i, prefix in enumerate(FIRST) if scope.startswith(prefix)), len(FIRST))


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: _rank(item.nodeid))  # stable: within a scope the order stays


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return CourseScheduling(config, log)
