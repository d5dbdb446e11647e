"""Inside the student's kernel: give every graded test cell the library functions it was written against.

Test cells run in the interpreter student code has run in, so student code can replace the
functions the tests call (``torch.allclose = lambda *a, **k: True``), the checks' helpers, or the
names the notebook imported (``F = MyFakeFunctional()``). Therefore:

- ``snapshot()`` (called by kernel.py once the kernel has started, before the first cell) records the
  attributes of the modules the tests rely on (``WATCHED_MODULES``), the methods of
  ``WATCHED_CLASSES``, the code of their Python functions, their ``sys.modules`` entries, the import
  machinery (``sys.meta_path`` ...) and every loaded ``course_utils`` module's functions and classes;
- ``restore(namespace, imports)``, the first line of every graded test cell, puts back whatever
  differs from the snapshot, reloads the checks (``course_utils.checks`` and, when it is a package,
  its ``_core`` and ``week*`` submodules first) and re-binds in the notebook's namespace the names
  its locked cells imported; what it had to put back is published as a display of type
  ``RESTORED_MIME``, which the grader turns into a flag;
- ``verify()``, the last line of every graded test cell, raises ``IntegrityError`` (the test then
  scores 0) if library functions were replaced while the test ran, e.g. by the student's function
  the test called.

Code that goes around all this (``gc``, ``ctypes``, frames, threads) is what the grader's static
scan (scan.py) flags for review.
"""

from __future__ import annotations

import builtins
import importlib
import pkgutil
import sys
import types

WATCHED_MODULES = ("builtins", "math", "operator", "functools", "importlib", "pkgutil", "numpy", "numpy.linalg",
                   "numpy.testing", "torch", "torch.nn", "torch.nn.functional", "torch.linalg", "torch.special",
                   "torch.testing")
WATCHED_CLASSES = ("torch.Tensor", "torch.nn.Module", "torch.nn.Parameter")
COURSE = "course_utils"
CHECKS = "course_utils.checks"
RESTORED_MIME = "application/vnd.course-grader.restored+json"
# Set by IPython / ipykernel around every cell, not by the student.
SWAPPED_BUILTINS = frozenset({"_", "__", "___", "input", "raw_input", "getpass", "exit", "quit", "get_ipython",
                              "display", "help", "__IPYTHON__"})
SYS_LISTS = ("meta_path", "path_hooks", "path")
_MISSING = object()


class IntegrityError(Exception):
    """Library functions were replaced while a graded test ran."""


class _Snapshot:
    def __init__(self):
        self.sys_modules: dict[str, types.ModuleType] = {}
        self.modules: list[tuple[str, types.ModuleType, type, dict]] = []
        self.classes: list[tuple[str, type, dict]] = []
        self.functions: list[tuple] = []  # (label, function, code, defaults, kwdefaults, closure values)
        self.function_ids: set[int] = set()
        self.sys_lists: dict[str, tuple[list, list]] = {}
        self.importer_cache: dict = {}
        self.paths: list[tuple[types.ModuleType, list, list]] = []


_SNAPSHOT: _Snapshot | None = None


def _is_course(name: str) -> bool:
    return name == COURSE or name.startswith(COURSE + ".")


def _is_checks(name: str) -> bool:
    return name == CHECKS or name.startswith(CHECKS + ".")


def _keep(name: str, value) -> bool:
    """course_utils modules keep state in plain variables (caches, seeds): only their code is recorded."""
    return not _is_course(name) or isinstance(value, type | types.ModuleType | types.FunctionType
                                              | types.BuiltinFunctionType | staticmethod | classmethod)


def _inner_functions(value):
    """The Python functions behind a module or class attribute (decorated, static, property ...)."""
    seen = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, types.FunctionType):
            seen.append(v)
            wrapped = v.__dict__.get("__wrapped__")
            if wrapped is not None:
                stack.append(wrapped)
        elif isinstance(v, staticmethod | classmethod):
            stack.append(v.__func__)
        elif isinstance(v, property):
            stack.extend(f for f in (v.fget, v.fset, v.fdel) if f is not None)
        else:
            impl = getattr(type(v), "_implementation", None) and getattr(v, "_implementation", None)
            if isinstance(impl, types.FunctionType):  # numpy's array-function dispatchers
                stack.append(impl)
    return seen


def _closure_values(fn):
    values = []
    for cell in fn.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:
            value = _MISSING
        values.append(value if isinstance(value, types.FunctionType | type | types.ModuleType) else _MISSING)
    return tuple(values)


def _record_module(snap: _Snapshot, name: str, mod: types.ModuleType) -> None:
    snap.sys_modules[name] = mod
    saved = {k: v for k, v in vars(mod).items() if _keep(name, v)}
    snap.modules.append((name, mod, type(mod), saved))
    if isinstance(getattr(mod, "__path__", None), list):
        snap.paths.append((mod, mod.__path__, list(mod.__path__)))
    for k, v in saved.items():
        _record_functions(snap, f"{name}.{k}", v)


def _record_functions(snap: _Snapshot, label: str, value) -> None:
    for fn in _inner_functions(value):
        if id(fn) not in snap.function_ids:
            snap.function_ids.add(id(fn))
            snap.functions.append((label, fn, fn.__code__, fn.__defaults__, fn.__kwdefaults__, _closure_values(fn)))


def snapshot() -> None:
    """Record the state ``restore`` and ``verify`` compare against (call once, before student code runs)."""
    global _SNAPSHOT
    snap = _Snapshot()
    names = [n for n in WATCHED_MODULES if n in sys.modules]
    names += sorted(n for n, m in list(sys.modules.items()) if _is_course(n) and isinstance(m, types.ModuleType))
    for name in names:
        _record_module(snap, name, sys.modules[name])
    for dotted in WATCHED_CLASSES:
        module, _, attr = dotted.rpartition(".")
        cls = getattr(sys.modules.get(module), attr, None)
        if isinstance(cls, type):
            saved = dict(vars(cls))
            snap.classes.append((dotted, cls, saved))
            for k, v in saved.items():
                _record_functions(snap, f"{dotted}.{k}", v)
    for name in SYS_LISTS:
        obj = getattr(sys, name)
        snap.sys_lists[name] = (obj, list(obj))
    snap.importer_cache = dict(sys.path_importer_cache)
    _SNAPSHOT = snap


def _refresh_checks(snap: _Snapshot) -> None:
    """After reloading the checks their functions are new objects: record those instead of the old ones."""
    snap.modules = [m for m in snap.modules if not _is_checks(m[0])]
    snap.paths = [p for p in snap.paths if not _is_checks(p[0].__name__)]
    snap.functions = [f for f in snap.functions if not _is_checks(f[0])]
    snap.function_ids = {id(f[1]) for f in snap.functions}
    for name in [n for n in snap.sys_modules if _is_checks(n)]:
        del snap.sys_modules[name]
    for name, mod in sorted(sys.modules.items()):
        if _is_checks(name) and isinstance(mod, types.ModuleType):
            _record_module(snap, name, mod)


def _same_list(current: list, saved: list) -> bool:
    return len(current) == len(saved) and all(a is b for a, b in zip(current, saved, strict=True))


def class_changes(cls: type, saved: dict, label: str, fix: bool, suffix: str = "") -> list[str]:
    """Attributes of ``cls`` added, replaced or deleted since ``saved`` (its ``__dict__`` then); with ``fix`` put back."""
    changed = []
    current = cls.__dict__
    for k in [k for k in current if k not in saved]:
        changed.append(f"{label}.{k}{suffix}")
        if fix:
            try:
                delattr(cls, k)
            except (AttributeError, TypeError):
                pass
    for k, v in saved.items():
        if current.get(k, _MISSING) is not v:
            changed.append(f"{label}.{k}{suffix}")
            if fix:
                try:
                    setattr(cls, k, v)
                except (AttributeError, TypeError):
                    pass
    return changed


def _compare(snap: _Snapshot, fix: bool) -> list[str]:
    """Names whose value differs from the snapshot; with ``fix`` they are put back."""
    changed = []
    for name, (obj, contents) in snap.sys_lists.items():
        if getattr(sys, name) is not obj or not _same_list(obj, contents):
            changed.append(f"sys.{name}")
            if fix:
                setattr(sys, name, obj)
                obj[:] = contents
    if fix and any(sys.path_importer_cache.get(k, _MISSING) is not v for k, v in snap.importer_cache.items()):
        changed.append("sys.path_importer_cache")
        sys.path_importer_cache.clear()
        sys.path_importer_cache.update(snap.importer_cache)
    for name, mod in snap.sys_modules.items():
        if sys.modules.get(name) is not mod:
            changed.append(f"sys.modules[{name!r}]")
            if fix:
                sys.modules[name] = mod
    for name, mod, cls, saved in snap.modules:
        if type(mod) is not cls:
            changed.append(f"{name}.__class__")
            if fix:
                try:
                    mod.__class__ = cls
                except TypeError:
                    pass
        current = object.__getattribute__(mod, "__dict__")
        for k, v in saved.items():
            if mod is builtins and k in SWAPPED_BUILTINS:
                continue
            if current.get(k, _MISSING) is not v:
                changed.append(f"{name}.{k}")
                if fix:
                    current[k] = v
    for mod, obj, contents in snap.paths:
        if not _same_list(obj, contents) or object.__getattribute__(mod, "__dict__").get("__path__") is not obj:
            changed.append(f"{mod.__name__}.__path__")
            if fix:
                obj[:] = contents
                object.__getattribute__(mod, "__dict__")["__path__"] = obj
    for dotted, cls, saved in snap.classes:
        changed += class_changes(cls, saved, dotted, fix)
    for label, fn, code, defaults, kwdefaults, closure in snap.functions:
        if fn.__code__ is not code or fn.__defaults__ is not defaults or fn.__kwdefaults__ is not kwdefaults:
            changed.append(f"{label} (its code)")
            if fix:
                fn.__code__, fn.__defaults__, fn.__kwdefaults__ = code, defaults, kwdefaults
        for cell, value in zip(fn.__closure__ or (), closure, strict=False):
            if value is _MISSING:
                continue
            try:
                now = cell.cell_contents
            except ValueError:
                now = _MISSING
            if now is not value:
                changed.append(f"{label} (its closure)")
                if fix:
                    cell.cell_contents = value
    return list(dict.fromkeys(changed))


def reload_checks() -> None:
    """Reload course_utils.checks: as a package, its ``_core`` first, then each ``week*`` submodule, then itself."""
    pkg = sys.modules.get(CHECKS)
    if pkg is None:
        return  # not imported yet: the test cell's own import loads it from the read-only copy
    path = getattr(pkg, "__path__", None)
    if path is not None:
        names = sorted(m.name for m in pkgutil.iter_modules(list(path)))
        for name in [n for n in names if n == "_core"] + [n for n in names if n.startswith("week")]:
            full = f"{CHECKS}.{name}"
            module = sys.modules.get(full)
            if module is None:
                importlib.import_module(full)
            else:
                importlib.reload(module)
    importlib.reload(pkg)


def _resolve(target: str):
    module, _, attr = target.partition(":")
    try:
        mod = sys.modules.get(module) or importlib.import_module(module)
        if not attr:
            return mod
        value = getattr(mod, attr, _MISSING)
        return value if value is not _MISSING else importlib.import_module(f"{module}.{attr}")
    except Exception:  # e.g. the student deleted the package: the test cell will report it
        return _MISSING


def _report(changed: list[str]) -> None:
    try:
        from IPython.display import display

        display({RESTORED_MIME: {"restored": changed}, "text/plain": ""}, raw=True)
    except Exception:
        pass


def restore(namespace: dict | None = None, imports: dict[str, str] | None = None) -> list[str]:
    """Put back what student code replaced, reload the checks, re-bind ``imports`` in ``namespace``."""
    if namespace is not None and not isinstance(namespace, dict):
        raise TypeError(f"namespace must be the notebook's globals() dict, got {type(namespace).__name__}")
    if imports is not None and not isinstance(imports, dict):
        raise TypeError(f"imports must map names to 'module' or 'module:attr', got {type(imports).__name__}")
    if _SNAPSHOT is None:
        return []
    changed = _compare(_SNAPSHOT, fix=True)
    reload_checks()
    _refresh_checks(_SNAPSHOT)
    if namespace is not None:
        if namespace.get("__builtins__") is not builtins:
            namespace["__builtins__"] = builtins
            changed.append("__builtins__")
        for name, target in (imports or {}).items():
            value = _resolve(target)
            now = namespace.get(name, _MISSING)
            if value is not _MISSING and now is not value:
                namespace[name] = value
                if now is not _MISSING:  # deleted is put back silently; replaced is reported
                    changed.append(f"the notebook's {name!r}")
    if changed:
        _report(changed)
    return changed


def verify() -> None:
    """Raise IntegrityError if library functions differ from the snapshot now (end of a test cell)."""
    if _SNAPSHOT is None:
        return
    changed = _compare(_SNAPSHOT, fix=False)
    if changed:
        raise IntegrityError("library functions were replaced while this test ran: " + ", ".join(changed[:6])
                             + (" ..." if len(changed) > 6 else ""))
