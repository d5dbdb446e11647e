"""Step `scan`: read the student's code with Python's ``ast`` (in the grader's process; nothing runs)
and flag what tries to subvert grading rather than solve the exercise.

Scanned: every code cell the student wrote (answer cells, and cells the student added); the locked
cells are the course's own. Flagged:

- replacing attributes of imported modules or classes (``torch.allclose = ...``, ``setattr``,
  ``delattr``, ``__dict__``/``vars()`` writes), re-binding a name the notebook's locked cells import
  or define (``F = ...``), classes that define comparison or tensor-protocol methods (``__eq__``,
  ``__torch_function__`` ...);
- ``sys.modules`` and the import machinery, ``builtins``/``__builtins__``, ``ctypes``, ``gc``,
  ``importlib``, ``inspect`` and frame or code objects, ``exec``/``eval``/``compile``, threads,
  signal handlers, processes, the network, the kernel (``get_ipython()``, magics, shell commands);
- file access outside the working folder (absolute paths, ``~``, ``..``, computed paths);
- calls an exercise forbids, declared in the solution notebook's cell metadata
  (``{"course_grading": {"forbid": ["F.cross_entropy"]}}``), also through helper functions of the
  student's own cells that the answer calls.

A flag is a reason for a person to look, not proof: the score is kept unless the grade command is
told ``--on-flag zero``. Except for code that can reach past the grader's own checks inside the
kernel (``UNVERIFIABLE``: ctypes, gc, frames and function internals, the kernel's and the grader's
modules): there a test's result cannot be verified, and the submission is held for review, with no
score, whatever ``--on-flag`` says.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

from .context import Context

FLAGGED_MODULES = {
    "builtins": "uses the builtins module", "ctypes": "uses ctypes", "gc": "uses the garbage collector (gc)",
    "importlib": "uses importlib", "inspect": "uses inspect", "signal": "handles signals",
    "threading": "starts threads", "_thread": "starts threads", "concurrent": "starts threads or processes",
    "asyncio": "schedules code with asyncio", "sched": "schedules code", "atexit": "registers exit handlers",
    "weakref": "registers callbacks (weakref)",
    "multiprocessing": "starts processes", "subprocess": "starts processes", "pty": "starts processes",
    "socket": "uses the network", "urllib": "uses the network", "http": "uses the network",
    "requests": "uses the network", "ftplib": "uses the network", "smtplib": "uses the network",
    "shutil": "copies or deletes files", "glob": "searches for files", "marshal": "builds code objects",
    "code": "runs an interpreter", "codeop": "compiles code", "types": "builds functions or code objects",
    "zmq": "talks to the kernel's sockets", "ipykernel": "uses the kernel's internals",
    "jupyter_client": "uses the kernel's internals", "nbformat": "reads notebooks",
    "course_utils.grading": "uses the grader's own modules",
}
SYS_ATTRS = {"modules", "_getframe", "settrace", "setprofile", "meta_path", "path_hooks", "path_importer_cache",
             "excepthook", "displayhook", "addaudithook", "_current_frames", "setswitchinterval", "breakpointhook",
             "stdout", "stderr", "__stdout__", "__stderr__"}
OS_PROCESS = {"system", "popen", "fork", "forkpty", "kill", "killpg", "setsid", "setpgid", "setpgrp", "_exit", "abort",
              "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe", "spawnl", "spawnle",
              "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "posix_spawn", "posix_spawnp",
              "register_at_fork"}
OS_FILES = {"listdir", "scandir", "walk", "fwalk", "open", "remove", "unlink", "rmdir", "removedirs", "rename",
            "renames", "replace", "symlink", "link", "readlink", "chdir", "fchdir", "chroot", "chmod", "chown",
            "mkdir", "makedirs", "truncate", "utime", "mkfifo", "mknod", "stat", "lstat"}
PATH_CALLS = {"builtins.open", "io.open", "io.FileIO", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath",
              "os.path.exists", "os.path.isfile", "os.path.isdir", "os.path.getsize"} | {f"os.{n}" for n in OS_FILES}
ALWAYS_OUTSIDE = {"os.path.expanduser", "os.path.expandvars", "pathlib.Path.home", "os.getenv", "os.environ"}
CALLS = {"exec": "runs code from a string (exec)", "eval": "runs code from a string (eval)",
         "compile": "compiles code from a string", "__import__": "imports with __import__",
         "breakpoint": "calls breakpoint()", "globals": "uses globals()"}
DUNDERS = {"__dict__", "__globals__", "__code__", "__closure__", "__builtins__", "__subclasses__", "__bases__",
           "__mro__", "__setattr__", "__delattr__", "__getattribute__", "__defaults__", "__kwdefaults__", "__class__",
           "__self__", "__func__", "__wrapped__", "__loader__", "__spec__", "__import__", "f_globals", "f_locals",
           "f_back", "f_builtins", "f_code", "tb_frame", "gi_frame", "cr_frame", "ag_frame"}
NAMES = {"__builtins__": "uses __builtins__", "__loader__": "uses __loader__", "__spec__": "uses __spec__",
         "get_ipython": "uses get_ipython()"}
SPECIAL_METHODS = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__hash__",
                   "__torch_function__", "__torch_dispatch__", "__array__", "__array_function__", "__array_ufunc__",
                   "__array_priority__", "__getattr__", "__getattribute__", "__setattr__", "__instancecheck__",
                   "__subclasscheck__", "__del__", "__float__", "__int__", "__index__", "__complex__", "__class__",
                   "__init_subclass__", "__set_name__", "__class_getitem__"}
FILE_METHODS = {"load", "save", "loadtxt", "savetxt", "genfromtxt", "fromfile", "tofile", "memmap", "read_csv",
                "to_csv", "savefig", "imread", "imsave", "open", "read_text", "read_bytes", "write_text", "write_bytes",
                "iterdir", "glob", "rglob", "unlink", "rmdir", "mkdir", "rename", "touch"}
SAFE_MAGICS = {"time", "timeit", "matplotlib", "precision", "pprint", "who", "whos", "pinfo", "pinfo2", "pdoc"}
_BUILTIN_NAMES = set(dir(builtins))
#: Flags (their text) of code that can read or rewrite the grader's state inside the kernel, or the frames
#: of a running test: what such code did cannot be verified from outside, so the submission is held.
UNVERIFIABLE = ("uses ctypes", "uses the garbage collector", "uses inspect", "the kernel's internals",
                "the kernel's sockets", "the grader's own modules", "builds code objects", "runs code from a string",
                "compiles code from a string", "imports with __import__", "looks up a computed attribute",
                "uses sys._getframe", "uses sys._current_frames", "uses sys.addaudithook", "uses __closure__",
                "uses __globals__", "uses __code__", "uses f_globals", "uses f_locals", "uses f_back",
                "uses f_builtins", "uses f_code", "uses tb_frame", "uses gi_frame", "uses cr_frame", "uses ag_frame",
                "uses __subclasses__",
                # code that runs at a moment of its own choosing, e.g. between the grader's restore and the test
                "starts threads", "handles signals", "schedules code", "uses sys.settrace", "uses sys.setprofile",
                "registers callbacks (weakref)")


def unverifiable(flag) -> bool:
    """Does this flag (a Flag or its text) mean that what the code did cannot be verified?"""
    return any(marker in str(flag) for marker in UNVERIFIABLE)


@dataclass(frozen=True)
class Flag:
    """One finding: ``cell`` is the answer cell's grade id, or ``cell N`` for a cell the student added."""

    cell: str
    what: str

    def __str__(self) -> str:
        return f"{self.cell}: {self.what}"


def _student_cells(nb):
    """(label, source, grade id or None) of every code cell the student wrote, in order."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        md = cell.metadata.get("nbgrader", {})
        if md.get("solution") or not md.get("locked") and not md.get("grade"):
            gid = md.get("grade_id") if md.get("solution") else None
            out.append((gid or f"cell {i + 1}", cell.source, gid))
    return out


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    try:  # IPython syntax (magics, !shell): the kernel turns it into get_ipython() calls, so do we
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))
    except Exception:  # a cell that does not parse raises SyntaxError when it runs: nothing to flag
        return None


def _dotted(target: str) -> str:
    return target.replace(":", ".")


class _Scope:
    """What names mean in the student's code: import bindings (the notebook's and the student's) and aliases."""

    def __init__(self, ctx: Context, trees):
        self.bindings = {k: _dotted(v) for k, v in ctx.imports.items()}
        self.local: set[str] = set()
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for a in node.names:
                        self.bindings[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    for a in node.names:
                        if a.name != "*":
                            self.bindings[a.asname or a.name] = f"{node.module}.{a.name}"
        for _ in range(3):  # aliases of aliases: t = torch; T = t.Tensor
            for tree in trees:
                for node in ast.walk(tree):
                    if isinstance(node, ast.Assign) and (target := self.resolve(node.value)):
                        for t in node.targets:
                            if isinstance(t, ast.Name) and t.id not in self.bindings:
                                self.bindings[t.id] = target
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in self.bindings:
                    self.local.add(node.id)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    self.local.add(node.name)
                elif isinstance(node, ast.arg):
                    self.local.add(node.arg)

    def canonical(self, name: str) -> str:
        """A declared name in the notebook's terms (``F.cross_entropy``) as a full dotted name."""
        root, _, rest = name.partition(".")
        base = self.bindings.get(root, root)
        return f"{base}.{rest}" if rest else base

    def resolve(self, node) -> str | None:
        """``torch.nn.functional.cross_entropy`` for ``F.cross_entropy`` etc.; None for local values."""
        if isinstance(node, ast.Name):
            if node.id in self.bindings:
                return self.bindings[node.id]
            if node.id in _BUILTIN_NAMES and node.id not in self.local:
                return f"builtins.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = self.resolve(node.func)
            arg = node.args[0].value
            if func == "builtins.getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                base = self.resolve(node.args[0])
                return f"{base}.{node.args[1].value}" if base else None
            if func in ("builtins.__import__", "importlib.import_module") and isinstance(arg, str):
                return arg
        return None


def _outside(path) -> bool:
    """Is a literal path outside the working folder (absolute, ~, or with a .. component)?"""
    if not isinstance(path, str | bytes):
        return False
    text = path.decode(errors="replace") if isinstance(path, bytes) else path
    return text.startswith(("/", "~", "\\")) or ".." in text.replace("\\", "/").split("/")


class _Visitor(ast.NodeVisitor):
    def __init__(self, scope: _Scope, ctx: Context, forbidden: list[str], functions: dict):
        self.scope, self.ctx, self.functions = scope, ctx, functions
        self.forbidden = [scope.canonical(f) for f in forbidden]
        self.found: list[str] = []
        self.helpers: set[str] = set()

    def flag(self, what: str) -> None:
        if what not in self.found:
            self.found.append(what)

    def check_dotted(self, dotted: str | None) -> None:
        if not dotted:
            return
        parts = dotted.split(".")
        for module, why in FLAGGED_MODULES.items():
            if (dotted == module or dotted.startswith(module + ".")) and (parts[0] != "builtins" or len(parts) == 1):
                self.flag(why if module in why else f"{why} ({module})")
        if parts[0] == "sys" and len(parts) > 1 and parts[1] in SYS_ATTRS:
            self.flag(f"uses sys.{parts[1]}")
        if parts[0] == "os" and len(parts) > 1 and parts[1] in OS_PROCESS:
            self.flag(f"starts or ends processes (os.{parts[1]})")
        if dotted in ALWAYS_OUTSIDE:
            self.flag(f"reads where files or settings of the grader live ({dotted})")
        if parts[0] != "builtins" and any(p.startswith("_") and not (p.startswith("__") and p.endswith("__"))
                                          for p in parts[1:]):
            self.flag(f"uses the private {dotted}")
        for f in self.forbidden:
            if dotted == f or dotted.startswith(f + "."):
                self.flag(f"uses {f}, which this exercise forbids")

    # --- imports and names -------------------------------------------------------------------------
    def visit_Import(self, node):
        for a in node.names:
            self.check_dotted(a.name)
            bound = a.asname or a.name.split(".")[0]
            self.check_rebind(bound, a.name if a.asname else a.name.split(".")[0])

    def visit_ImportFrom(self, node):
        if node.module and not node.level:
            for a in node.names:
                self.check_dotted(f"{node.module}.{a.name}" if a.name != "*" else node.module)
                if a.name != "*":
                    self.check_rebind(a.asname or a.name, f"{node.module}.{a.name}")

    def check_rebind(self, name: str, target: str | None = None) -> None:
        if name in self.ctx.imports and _dotted(self.ctx.imports[name]) != target:
            self.flag(f"re-binds {name!r}, which the notebook imports")
        elif name in self.ctx.locked_defs and target is None:
            self.flag(f"redefines {name!r}, which a locked cell of the notebook defines")

    def visit_Name(self, node):
        if node.id in NAMES:
            self.flag(NAMES[node.id])
        if isinstance(node.ctx, ast.Store | ast.Del):
            self.check_rebind(node.id)
        elif node.id in self.scope.bindings:
            self.check_dotted(self.scope.bindings[node.id])

    def visit_Attribute(self, node):
        if node.attr in DUNDERS:
            self.flag(f"uses {node.attr}")
        dotted = self.scope.resolve(node)
        if isinstance(node.ctx, ast.Store | ast.Del):
            base = self.scope.resolve(node.value)
            root = node.value
            while isinstance(root, ast.Attribute | ast.Subscript | ast.Call):
                root = root.func if isinstance(root, ast.Call) else root.value
            if base:
                self.flag(f"replaces {base}.{node.attr}")
            elif not isinstance(root, ast.Name):  # (lambda: torch)().allclose = ..., [torch][0].x = ...
                self.flag(f"sets .{node.attr} on a computed object")
        else:
            self.check_dotted(dotted)
        self.generic_visit(node)

    def visit_Subscript(self, node):
        if isinstance(node.ctx, ast.Store | ast.Del):
            base = node.value
            target = self.scope.resolve(base)
            if isinstance(base, ast.Attribute) and base.attr == "__dict__" or target in ("sys.modules",) or (
                    isinstance(base, ast.Call) and self.scope.resolve(base.func) in ("builtins.vars",
                                                                                   "builtins.globals")):
                self.flag("writes into a namespace (__dict__, vars(), globals(), sys.modules)")
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self.check_rebind(node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self.check_rebind(node.name)
        for item in node.body:
            names = [item.name] if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) else [
                t.id for t in getattr(item, "targets", [getattr(item, "target", None)]) if isinstance(t, ast.Name)]
            for name in names:
                if name in SPECIAL_METHODS:
                    self.flag(f"defines {name} in class {node.name} (it changes how comparisons or tensors work)")
        self.generic_visit(node)

    # --- calls -------------------------------------------------------------------------------------
    def visit_Call(self, node):
        if self.visit_magic(node):
            return
        func = self.scope.resolve(node.func)
        name = func.removeprefix("builtins.") if func and func.startswith("builtins.") else None
        if func is None and isinstance(node.func, ast.Attribute):  # a method of a tensor: x.softmax(0)
            method = f"torch.Tensor.{node.func.attr}"
            if method in self.forbidden:
                self.flag(f"uses {method}, which this exercise forbids")
        if name in CALLS:
            self.flag(CALLS[name])
        if name in ("setattr", "delattr") and not (node.args and isinstance(node.args[0], ast.Name)
                                                     and node.args[0].id in ("self", "cls")):
            self.flag(f"calls {name}() on something other than self")
        if name in ("getattr", "hasattr") and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            self.flag(f"looks up a computed attribute of {self.scope.resolve(node.args[0]) or 'an object'}")
        if func in ("operator.attrgetter", "operator.methodcaller") and not all(
                isinstance(a, ast.Constant) for a in node.args[:1]):
            self.flag(f"looks up a computed attribute ({func})")
        if name == "vars" and node.args and self.scope.resolve(node.args[0]):
            self.flag(f"uses vars() of {self.scope.resolve(node.args[0])}")
        if name == "type" and len(node.args) == 3:
            self.flag("builds a class with type()")
        opens = func in PATH_CALLS or (func or "").startswith(("shutil.", "glob."))
        if opens and node.args and not isinstance(node.args[0], ast.Constant):
            self.flag(f"accesses files at a computed path ({func.removeprefix('builtins.')})")
        if opens or isinstance(node.func, ast.Attribute) and node.func.attr in FILE_METHODS:
            for arg in [*node.args[:2], *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Constant) and _outside(arg.value):
                    self.flag(f"accesses files outside the working folder ({arg.value!r})")
        if isinstance(node.func, ast.Name) and node.func.id in self.functions:
            self.helpers.add(node.func.id)
        self.generic_visit(node)

    def visit_magic(self, node) -> bool:
        """``get_ipython().run_line_magic('timeit', ...)`` is how a magic arrives here; only a few are harmless.
        True if ``node`` was such a call (its arguments are then visited, the get_ipython() part is not)."""
        f = node.func
        if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Call) and isinstance(f.value.func, ast.Name)
                and f.value.func.id == "get_ipython"):
            return False
        magic = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
        if f.attr in ("system", "getoutput"):
            self.flag("runs a shell command")
        elif not (f.attr in ("run_line_magic", "run_cell_magic") and str(magic).lstrip("%") in SAFE_MAGICS):
            self.flag(f"runs the IPython magic %{magic}" if magic else "uses get_ipython()")
        for child in [*node.args, *node.keywords]:
            self.visit(child)
        return True


def scan_notebook(nb, ctx: Context) -> list[Flag]:
    """Every flag raised by the student's code cells of ``nb`` (a prepared notebook), in notebook order."""
    if not isinstance(getattr(nb, "cells", None), list):
        raise TypeError(f"nb must be a notebook (nbformat.NotebookNode with cells), got {type(nb).__name__}")
    if not isinstance(ctx, Context):
        raise TypeError(f"ctx must be the grading Context of the assignment, got {type(ctx).__name__}")
    cells = [(label, _parse(source), gid) for label, source, gid in _student_cells(nb)]
    trees = [t for _, t, _ in cells if t is not None]
    scope = _Scope(ctx, trees)
    functions = {n.name: n for t in trees for n in t.body if isinstance(n, ast.FunctionDef)}
    flags: list[Flag] = []
    for label, tree, gid in cells:
        if tree is None:
            continue
        visitor = _Visitor(scope, ctx, ctx.forbidden.get(gid, []) if gid else [], functions)
        visitor.visit(tree)
        done = set()
        while visitor.forbidden and (todo := visitor.helpers - done):  # helpers the answer calls, for forbids
            for name in todo:
                done.add(name)
                if functions[name] not in tree.body:
                    helper = _Visitor(scope, ctx, ctx.forbidden.get(gid, []), functions)
                    helper.visit(functions[name])
                    visitor.found += [w for w in helper.found if "forbids" in w and w not in visitor.found]
                    visitor.helpers |= helper.helpers
        flags += [Flag(label, what) for what in visitor.found]
    return flags
