"""Does the record of the execution machinery see every kind of hook, and put each one back?

These run on an in-process IPython shell (no kernel): each test installs one hook the way a hand-in
would, then checks that ``compare`` names it and ``restore`` leaves a cell running as written.
"""

from __future__ import annotations

import ast
import sys

import pytest
from IPython.core.interactiveshell import InteractiveShell

from course_utils.grading.machinery import Machinery


@pytest.fixture
def shell():
    ip = InteractiveShell.instance()
    yield ip
    InteractiveShell.clear_instance()


def runs_as_written(ip) -> bool:
    ip.user_ns.pop("_probe", None)
    ip.run_cell("_probe = 6 * 7", store_history=False)
    return ip.user_ns.get("_probe") == 42


class _DropAll(ast.NodeTransformer):
    def visit_Module(self, node):
        node.body = []
        return node


def _skip(self, *a, **k):
    return None


HOOKS = {
    "cleanup transformer": (lambda ip: ip.input_transformers_cleanup.append(lambda lines: []), "cleanup_transforms"),
    "post transformer": (lambda ip: ip.input_transformers_post.append(lambda lines: ["pass\n"]),
                         "input_transformers_post"),
    "line transformer": (lambda ip: ip.input_transformer_manager.line_transforms.append(lambda lines: []),
                         "line_transforms"),
    "ast transformer": (lambda ip: ip.ast_transformers.append(_DropAll()), "ast_transformers"),
    "transformer manager": (lambda ip: setattr(ip, "input_transformer_manager", type(ip.input_transformer_manager)()),
                            "input_transformer_manager"),
    "run_cell on the instance": (lambda ip: setattr(ip, "run_cell", lambda *a, **k: None), "run_cell"),
    "run_cell on the class": (lambda ip: setattr(type(ip), "run_cell", _skip), "run_cell (class)"),
    "transform_cell on the class": (lambda ip: setattr(InteractiveShell, "transform_cell", lambda self, c: ""),
                                    "transform_cell (class)"),
}


@pytest.mark.parametrize("name", HOOKS)
def test_a_hook_that_stops_cells_running_is_named_and_undone(shell, name):
    install, expected = HOOKS[name]
    record = Machinery(shell)
    assert record.compare(fix=False) == [] and runs_as_written(shell)
    install(shell)
    try:
        assert any(expected in c for c in record.compare(fix=False)), record.compare(fix=False)
        assert any(expected in c for c in record.restore())
        assert record.compare(fix=False) == []
        assert runs_as_written(shell)
    finally:
        record.restore()


def test_events_custom_exceptions_and_sys_hooks_are_undone(shell):
    record = Machinery(shell)
    shell.events.register("pre_run_cell", lambda info: None)
    shell.set_custom_exc((BaseException,), lambda *a, **k: None)
    old = sys.displayhook, sys.excepthook
    sys.displayhook = sys.excepthook = lambda *a: None
    trace = sys.gettrace()
    sys.settrace(lambda *a: None)
    try:
        changed = record.compare(fix=False)
        for what in ("'pre_run_cell' callbacks", "sys.displayhook", "sys.excepthook", "sys.settrace", "CustomTB"):
            assert any(what in c for c in changed), (what, changed)
        record.restore()
        assert record.compare(fix=False) == []
        assert sys.displayhook is old[0] and sys.excepthook is old[1] and sys.gettrace() is trace
        assert shell.custom_exceptions == () and not shell.events.callbacks["pre_run_cell"]
    finally:
        sys.settrace(trace)
        sys.displayhook, sys.excepthook = old


def test_a_notebooks_own_figure_callback_is_left_alone(shell):
    """matplotlib's inline backend registers a post_execute callback: that is no hook to undo."""
    import matplotlib_inline.backend_inline as inline

    record = Machinery(shell)
    shell.events.register("post_execute", inline.flush_figures)
    try:
        assert record.compare(fix=False) == []
    finally:
        shell.events.unregister("post_execute", inline.flush_figures)


def test_an_honest_cell_changes_nothing(shell):
    record = Machinery(shell)
    shell.run_cell("import math\nx = [math.sqrt(i) for i in range(5)]\nprint(x[-1])", store_history=True)
    assert record.compare(fix=False) == []


def test_a_hook_that_comes_back_while_being_removed_is_reported_as_not_undone(shell):
    """A finalizer on the dropped transformer installs another one at once: restore must say so."""
    import weakref

    from course_utils.grading.machinery import UNDONE_MARK

    record = Machinery(shell)

    class Blank:
        def __call__(self, lines):
            return []

    def again():
        shell.input_transformers_cleanup.append(Blank())

    first = Blank()
    weakref.finalize(first, again)
    shell.input_transformers_cleanup.append(first)
    del first
    try:
        restored = record.restore()
        assert any(r.endswith(UNDONE_MARK) for r in restored), restored
    finally:
        record.restore()
    assert runs_as_written(shell)


def test_a_trace_function_is_stopped_before_anything_else_is_put_back(shell):
    """A trace function runs on every line of the restore itself: it must be the first thing removed."""
    record = Machinery(shell)
    blank = lambda lines: []  # noqa: E731
    previous = sys.gettrace()

    def tracer(frame, event, arg):
        if blank not in shell.input_transformers_cleanup:
            shell.input_transformers_cleanup.append(blank)
        return tracer

    sys.settrace(tracer)
    try:
        record.restore()
        assert sys.gettrace() is previous and record.compare(fix=False) == []
    finally:
        sys.settrace(previous)
    assert runs_as_written(shell)


def test_a_class_swapped_under_the_shell_is_put_back(shell):
    record = Machinery(shell)
    real = type(shell)

    class Fake(real):
        def run_cell(self, *a, **k):
            return None

    shell.__class__ = Fake
    try:
        assert any("the class of" in c for c in record.compare(fix=False))
        record.restore()
        assert type(shell) is real and record.compare(fix=False) == []
    finally:
        shell.__class__ = real
    assert runs_as_written(shell)
