"""Inside the graded kernel: the execution machinery, recorded before any student code and put back
before every graded test cell, from outside the cell's source.

Student code shares the interpreter with the tests, so it can change *how* a later cell runs rather
than what the functions it calls do (integrity.py covers those): an input or AST transformer that
rewrites the test cell, an ``events`` callback, a custom exception handler, display and exception
hooks, trace and profile functions, or the shell's, kernel's or session's own methods (on the
instance or on the class). A restore preamble inside the test cell cannot undo that: the cell is
rewritten before its first line runs. So the kernel (kernel.py) calls ``Machinery.restore`` on the
raw request, before IPython sees the code, and ``Machinery.compare`` again when the cell has run.

What is recorded (``Machinery.__init__``):
- the transformer lists and the objects that hold them (``input_transformer_manager``,
  ``input_transformers_post``, ``ast_transformers``, the compiler);
- every event's callback list; the custom exception handler;
- ``sys.displayhook``/``excepthook``/``breakpointhook``, ``sys.stdout``/``stderr``, the trace and
  profile functions (also ``threading``'s);
- the instance attributes of the shell, the kernel, its session and the hooks, and the class
  dictionaries along their MROs (Python-defined classes only);
- the kernel's message handler tables.
"""

from __future__ import annotations

import sys
import threading
import types

from .integrity import class_changes

_MISSING = object()
# Callbacks a notebook may register for itself: matplotlib's inline backend flushes figures after a cell.
ALLOWED_CALLBACK_MODULES = ("matplotlib_inline.", "ipympl.", "matplotlib.")


def _python_classes(*objects) -> list[type]:
    """The Python-defined classes along the MROs of ``objects`` (no builtins, no C types)."""
    seen: dict[int, type] = {}
    for obj in objects:
        if obj is None:
            continue
        for cls in type(obj).__mro__:
            if cls is not object and cls.__module__ != "builtins" and id(cls) not in seen:
                seen[id(cls)] = cls
    return list(seen.values())


# Set by ipykernel itself around every request (it saves and puts back input() and getpass()).
KERNEL_OWN = frozenset({"_save_getpass", "_sys_raw_input", "_sys_eval_input"})


def _own_method(obj, name: str, value) -> bool:
    """Is ``value`` just ``obj``'s own method ``name`` bound to it (IPython puts ``stream.write`` back so)?"""
    own = getattr(type(obj), name, None)
    if own is None or not hasattr(own, "__get__"):
        return False
    try:
        return bool(value == own.__get__(obj, type(obj)))  # bound methods compare by function and instance
    except Exception:
        return False


def _callable_attrs(obj) -> dict[str, object]:
    """An object's own attributes that are callables (a method assigned to the instance replaces the class's)."""
    try:
        items = vars(obj).items()
    except TypeError:  # no __dict__
        return {}
    return {k: v for k, v in items if callable(v) and k not in KERNEL_OWN and not _own_method(obj, k, v)}


class Machinery:
    """A record of the execution machinery of ``shell`` (IPython) and ``kernel`` (ipykernel), and its restore."""

    def __init__(self, shell, kernel=None):
        self.shell, self.kernel = shell, kernel
        tm = shell.input_transformer_manager
        # (owner, attribute, the list object, its items)
        self.lists = [(owner, name, getattr(owner, name), list(getattr(owner, name)))
                      for owner, name in ((tm, "cleanup_transforms"), (tm, "line_transforms"),
                                          (tm, "token_transformers"), (shell, "input_transformers_post"),
                                          (shell, "ast_transformers"))]
        # objects the shell runs a cell through (its methods are covered by the instance and class records)
        self.attrs = {name: getattr(shell, name, _MISSING)
                      for name in ("input_transformer_manager", "compile", "displayhook", "display_pub",
                                   "display_formatter", "events", "custom_exceptions", "InteractiveTB", "SyntaxTB")}
        # the objects the kernel runs a request through (traits: not in the instance's __dict__)
        self.kernel_attrs = {name: getattr(kernel, name) for name in ("shell", "session", "iopub_socket",
                                                                       "iopub_thread", "shell_stream")
                             if kernel is not None and getattr(kernel, name, None) is not None}
        self.callbacks = {event: (cbs, list(cbs)) for event, cbs in shell.events.callbacks.items()}
        self.events_dict = shell.events.callbacks
        self.sys_hooks = {name: getattr(sys, name) for name in ("displayhook", "excepthook", "breakpointhook",
                                                                "stdout", "stderr", "unraisablehook")}
        self.trace, self.profile = sys.gettrace(), sys.getprofile()
        self.thread_trace = getattr(threading, "_trace_hook", None)
        self.thread_profile = getattr(threading, "_profile_hook", None)
        owners = [shell, kernel, getattr(kernel, "session", None), tm, shell.compile, shell.displayhook,
                  shell.display_pub, shell.events, sys.stdout, sys.stderr]
        self.instances = [(o, _callable_attrs(o)) for o in owners if o is not None]
        self.types = [(o, type(o)) for o in owners if o is not None]  # obj.__class__ = Subclass swaps them all
        self.classes = [(cls, dict(cls.__dict__)) for cls in _python_classes(*owners)]
        self.handlers = []
        for name in ("shell_handlers", "control_handlers"):
            table = getattr(kernel, name, None)
            if isinstance(table, dict):
                self.handlers.append((name, table, dict(table)))

    # ------------------------------------------------------------------ compare / restore
    def compare(self, fix: bool) -> list[str]:
        """What differs from the record (names a person can read); with ``fix`` it is put back."""
        changed: list[str] = []
        shell = self.shell
        # trace and profile functions first: one still active would run (and could undo) the rest of this
        if sys.gettrace() is not self.trace:
            changed.append("sys.settrace")
            if fix:
                sys.settrace(self.trace)
        if sys.getprofile() is not self.profile:
            changed.append("sys.setprofile")
            if fix:
                sys.setprofile(self.profile)
        for owner, name, obj, items in self.lists:
            now = getattr(owner, name, _MISSING)
            if now is not obj or len(obj) != len(items) or any(a is not b for a, b in zip(obj, items, strict=False)):
                changed.append(f"the shell's {name}")
                if fix:
                    setattr(owner, name, obj)
                    obj[:] = items
        for name, value in self.attrs.items():
            if value is not _MISSING and self._shell_attr(name) is not value:
                changed.append(f"the shell's {name}")
                if fix:
                    try:
                        setattr(shell, name, value)
                    except Exception:
                        pass
        for name, value in self.kernel_attrs.items():
            if getattr(self.kernel, name, None) is not value:
                changed.append(f"the kernel's {name}")
                if fix:
                    try:
                        setattr(self.kernel, name, value)
                    except Exception:
                        pass
        if shell.events.callbacks is not self.events_dict:
            changed.append("the shell's event table")
            if fix:
                shell.events.callbacks = self.events_dict
        for event in list(self.events_dict):
            if event not in self.callbacks:
                changed.append(f"event {event!r}")
                if fix:
                    del self.events_dict[event]
        for event, (cbs, items) in self.callbacks.items():
            now = self.events_dict.get(event)
            extra = [cb for cb in (now or []) if all(cb is not i for i in items) and not _allowed_callback(cb)]
            missing = [i for i in items if all(i is not cb for cb in (now or []))]
            if now is not cbs or extra or missing:
                changed.append(f"{event!r} callbacks")
                if fix:
                    kept = [cb for cb in (now or []) if any(cb is i for i in items) or _allowed_callback(cb)]
                    cbs[:] = items + [cb for cb in kept if all(cb is not i for i in items)]
                    self.events_dict[event] = cbs
        for name, value in self.sys_hooks.items():
            if getattr(sys, name) is not value:
                changed.append(f"sys.{name}")
                if fix:
                    setattr(sys, name, value)
        for attr, value in (("_trace_hook", self.thread_trace), ("_profile_hook", self.thread_profile)):
            if getattr(threading, attr, None) is not value:
                changed.append(f"threading.{attr.strip('_').replace('_hook', '')}")
                if fix:
                    setattr(threading, attr, value)
        changed += self._compare_dicts(fix)
        return list(dict.fromkeys(changed))

    def _shell_attr(self, name):
        try:
            return getattr(self.shell, name)
        except Exception:
            return _MISSING

    def _compare_dicts(self, fix: bool) -> list[str]:
        changed = []
        for obj, cls in self.types:
            if type(obj) is not cls:
                changed.append(f"the class of {cls.__name__}")
                if fix:
                    try:
                        obj.__class__ = cls
                    except TypeError:
                        pass
        for obj, saved in self.instances:
            try:
                now = _callable_attrs(obj)
            except Exception:
                continue
            label = type(obj).__name__
            for k in [k for k in now if k not in saved]:
                changed.append(f"{label}.{k}")
                if fix:
                    vars(obj).pop(k, None)  # the class's own method shows through again
            for k, v in saved.items():
                if now.get(k, _MISSING) is not v:
                    changed.append(f"{label}.{k}")
                    if fix:
                        vars(obj)[k] = v
        for cls, saved in self.classes:
            changed += class_changes(cls, saved, cls.__name__, fix, " (class)")
        for name, table, saved in self.handlers:
            if getattr(self.kernel, name, None) is not table or table != saved:
                changed.append(f"the kernel's {name}")
                if fix:
                    setattr(self.kernel, name, table)
                    table.clear()
                    table.update(saved)
        return changed

    def restore(self) -> list[str]:
        """Put back everything that differs from the record; returns what was put back, and what came back
        at once or could not be put back (``UNDONE_MARK``: e.g. a finalizer that ran as a hook was dropped)."""
        changed = self.compare(fix=True)
        left = self.compare(fix=False)
        return changed + [f"{name} {UNDONE_MARK}" for name in left]


#: Marks what ``restore`` could not make stay as recorded; the grader holds such a submission for review.
UNDONE_MARK = "(could not be put back)"


def _allowed_callback(cb) -> bool:
    module = getattr(cb, "__module__", None) or getattr(getattr(cb, "__func__", None), "__module__", "") or ""
    return isinstance(cb, types.FunctionType | types.MethodType) and module.startswith(ALLOWED_CALLBACK_MODULES)
