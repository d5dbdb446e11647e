"""Helpers shared by the notebook tests: finding and reading the course notebooks."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "notebooks").glob("week*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("week*/week*_exercises.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("week*/week*_exercises.ipynb"))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --------------------------------------------------------------------------- the cells an explorer needs
EXPLORER_TEXT = "Explorer:"  # how a displayed Explorer describes itself in text/plain (course_utils.widgets)


def _explorer_outputs(cell) -> int:
    return sum("".join(out.get("data", {}).get("text/plain", "")).startswith(EXPLORER_TEXT)
               for out in cell.get("outputs", []))


def explorer_count(nb) -> int:
    """How many explorers the saved notebook displays."""
    return sum(_explorer_outputs(c) for c in nb.cells if c.cell_type == "code")


def explorer_cells(nb) -> list[int]:
    """Indices (into ``nb.cells``) of the code cells whose saved output is a displayed explorer."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and _explorer_outputs(c)]


class _Names(ast.NodeVisitor):
    """What one cell binds, reads before binding (its free names) and may change, at module level.

    Statements are visited in evaluation order (an assignment's value before its targets, a loop's
    iterable before its variable), so a loop variable or a name the cell sets before using it is not
    free. Reads inside function bodies are free (they happen when the function is called).
    """

    def __init__(self):
        self.binds, self.free, self.changes, self.imports = set(), set(), set(), set()
        self._depth = 0  # > 0 inside a function or class body, lambda or comprehension
        self._locals: list[set[str]] = []  # names local to each enclosing function, lambda or comprehension

    # ---- scopes
    def _nested(self, nodes, args=None):
        """Visit a function, class, lambda or comprehension body: its own names are not free."""
        local = {a.arg for a in _all_args(args)} if args is not None else set()
        for n in nodes:
            local |= {m.id for m in ast.walk(n) if isinstance(m, ast.Name) and not isinstance(m.ctx, ast.Load)}
        self._locals.append(local)
        self._depth += 1
        for n in nodes:
            self.visit(n)
        self._depth -= 1
        self._locals.pop()

    def visit_FunctionDef(self, node):
        for d in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if d is not None:
                self.visit(d)
        self._nested(node.body, node.args)
        self._bind(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        for d in [*node.decorator_list, *node.bases]:
            self.visit(d)
        self._nested(node.body)
        self._bind(node.name)

    def visit_Lambda(self, node):
        for d in [*node.args.defaults, *node.args.kw_defaults]:
            if d is not None:
                self.visit(d)
        self._nested([node.body], node.args)

    def _comprehension(self, node):
        self.visit(node.generators[0].iter)  # evaluated in the enclosing scope
        parts = [*(g.target for g in node.generators), *(g.iter for g in node.generators[1:]),
                 *(c for g in node.generators for c in g.ifs),
                 *(getattr(node, f) for f in ("elt", "key", "value") if getattr(node, f, None) is not None)]
        self._nested(parts)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    # ---- names
    def _bind(self, name):
        if self._depth == 0:
            self.binds.add(name)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            if any(node.id in local for local in self._locals):
                return
            if node.id not in self.binds:  # not yet bound in this cell (a function body may run later: free)
                self.free.add(node.id)
        else:
            self._bind(node.id)

    def visit_Import(self, node):
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            self._bind(name)
            self.imports.add(name)

    visit_ImportFrom = visit_Import

    def visit_Global(self, node):  # a function that assigns a global changes it when it is called
        self.binds.update(node.names)

    # ---- evaluation order
    def visit_Assign(self, node):
        self.visit(node.value)
        for t in node.targets:
            self.visit(t)
        if isinstance(node.value, ast.Call):
            self._call_changes(node.value, discarded=False)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        root = _root(node.target)
        if root:
            self.free.add(root) if self._depth == 0 and root not in self.binds else None
            self.changes.add(root)
        self.visit(node.target)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node):
        self.visit(node.iter)
        self.visit(node.target)
        for n in [*node.body, *node.orelse]:
            self.visit(n)

    visit_AsyncFor = visit_For

    def visit_With(self, node):
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.visit(item.optional_vars)
        for n in node.body:
            self.visit(n)

    visit_AsyncWith = visit_With

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self.visit(node.target)

    def visit_Expr(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Call):
            self._call_changes(node.value, discarded=True)

    # ---- what may change a name's object
    def _call_changes(self, call, discarded: bool):
        """A module-level call that may change its arguments or receiver: ``train(model, ...)`` (its result
        discarded or assigned as it is), ``opt.step()`` (its result discarded)."""
        if self._depth > 0:  # inside a function: what it changes, it changes when called
            return
        func = call.func
        if discarded and isinstance(func, ast.Attribute) and _root(func):
            self.changes.add(_root(func))
        if isinstance(func, ast.Name) and func.id not in _BUILTINS:  # print(x), len(x) change nothing
            self.changes.update(r for r in map(_root, _call_args(call)) if r)

    def visit_Call(self, node):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name.endswith("_") and not name.endswith("__"):  # in-place: x.add_(1), nn.init.zeros_(w)
            if isinstance(node.func, ast.Attribute) and _root(node.func):
                self.changes.add(_root(node.func))
            self.changes.update(r for r in map(_root, _call_args(node)) if r)
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if not isinstance(node.ctx, ast.Load) and _root(node):  # x.a = ..., del x.a
            self.changes.add(_root(node))
        self.generic_visit(node)

    def visit_Subscript(self, node):
        if not isinstance(node.ctx, ast.Load) and _root(node):  # x[i] = ...
            self.changes.add(_root(node))
        self.generic_visit(node)


_BUILTINS = frozenset(dir(builtins)) | {"display"}


def _root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _all_args(args: ast.arguments):
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *filter(None, [args.vararg, args.kwarg])]


def _call_args(call):
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        yield arg.value if isinstance(arg, ast.Starred) else arg


def cell_names(source: str) -> _Names:
    """Names a cell binds, reads and may change (IPython magics and shell lines are ignored)."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    names = _Names()
    names.visit(ast.parse("\n".join(lines)))
    return names


def cells_explorers_need(nb) -> list[int]:
    """The code cells to run, in order, so that every explorer of ``nb`` can be displayed and driven.

    A backward slice over names: an explorer cell needs the latest earlier cell that binds each name
    it reads, and every earlier cell that may change that name before it is read (a call with the name
    as an argument, a method call on it, an assignment to one of its items or attributes); those cells
    need their own names in turn. Modules and functions brought in by ``import`` are taken as
    unchanged by calls on them (``cal.fit(...)`` does not change ``cal``). Cells that only print or plot
    what the explorers do not use are left out.
    """
    cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    names = {i: cell_names(c.source) for i, c in cells}
    imported = set().union(*(n.imports for n in names.values())) if names else set()
    keep = set(explorer_cells(nb))
    if not keep:
        return []
    # walk backwards from the last explorer: a cell is kept when it binds or changes a name a later kept cell reads
    needed: set[str] = set()
    for i, _ in reversed(cells):
        n = names[i]
        if i not in keep and i < max(keep):
            changed = n.binds | (n.changes - imported)
            if changed & needed:
                keep.add(i)
        if i in keep:
            # names this cell binds itself (and does not read first) need no earlier cell, unless read too
            needed -= n.binds - n.free
            needed |= n.free
    return sorted(keep)
