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
        self.functions: dict[str, tuple[set, set, set]] = {}  # def name -> (globals it reads, sets, calls)
        self.aliases: dict[str, set] = {}  # name -> names its value was made from (opt = Adam(net.parameters()))
        self.calls: set[str] = set()  # plain functions this cell calls at module level
        self.module_calls: list[tuple[str, set]] = []  # (module, argument roots) of discarded calls like np.f(x)
        self.declared_global: set[str] = set()
        self.discarded_calls: set[str] = set()  # plain functions called for their effect: set_seed(0)
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
        if self._depth == 0:  # what calling it reads and sets of the notebook's globals
            inner = _Names()
            for stmt in node.body:
                inner.visit(stmt)
            params = {a.arg for a in _all_args(node.args)}
            inner_calls = {f for f in ast.walk(node) if isinstance(f, ast.Call) and isinstance(f.func, ast.Name)}
            self.functions[node.name] = (inner.free - params, set(inner.declared_global),
                                         {c.func.id for c in inner_calls})
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
        elif isinstance(node.ctx, ast.Del):  # del x needs x and changes it
            if self._depth == 0 and node.id not in self.binds:
                self.free.add(node.id)
            self.changes.add(node.id)
        elif node.id not in self.declared_global:
            self._bind(node.id)

    def visit_Import(self, node):
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            self._bind(name)
            self.imports.add(name)

    visit_ImportFrom = visit_Import

    def visit_Global(self, node):  # a function that assigns a global changes it when it is called
        self.declared_global.update(node.names)

    # ---- evaluation order
    def visit_Assign(self, node):
        self.visit(node.value)
        for t in node.targets:
            self.visit(t)
        if isinstance(node.value, ast.Call):
            self._call_changes(node.value, discarded=False)
        if self._depth == 0:  # what the value shares state with: changing the new name may change those
            sources = _alias_sources(node.value)
            for t in node.targets:
                for m in ast.walk(t):
                    if isinstance(m, ast.Name):
                        self.aliases.setdefault(m.id, set()).update(sources - {m.id})

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

    def visit_ExceptHandler(self, node):
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._bind(node.name)
        for n in node.body:
            self.visit(n)

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
            self.module_calls.append((_root(func), {r for r in map(_root, _call_args(call)) if r}))
        if isinstance(func, ast.Name) and func.id not in _BUILTINS:  # print(x), len(x) change nothing
            self.changes.update(r for r in map(_root, _call_args(call)) if r)
            if discarded:
                self.discarded_calls.add(func.id)

    def visit_Call(self, node):
        if self._depth == 0 and isinstance(node.func, ast.Name):
            self.calls.add(node.func.id)
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
    """The name an expression starts from: ``net`` for ``net.fc.weight[0]`` and for ``net.parameters()``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _alias_sources(value) -> set[str]:
    """Names whose objects the value of an assignment shares: ``model`` in ``w = model[0].weight`` and in
    ``opt = Adam(model.parameters())``; not in ``z = model(x)`` (a new result)."""
    def chain(node):  # an attribute/item chain, or a method call on one (model.parameters())
        if isinstance(node, ast.Call):
            node = node.func
            if not isinstance(node, ast.Attribute):
                return None
        return _root(node) if isinstance(node, (ast.Attribute, ast.Subscript)) else None

    if isinstance(value, (ast.Attribute, ast.Subscript)):
        return {r for r in [chain(value)] if r}
    if isinstance(value, ast.Call):
        return {r for r in map(chain, _call_args(value)) if r}
    return set()


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
    # forward: calls of functions defined earlier read and set what their bodies do; a change to a name
    # reaches what it was made from (the model behind an optimiser); np.random.shuffle(x) changes x
    functions: dict[str, tuple[set, set, set]] = {}
    aliases: dict[str, set] = {}
    free, changes = {}, {}
    for i, _ in cells:
        n = names[i]
        functions.update(n.functions)
        for name, sources in n.aliases.items():
            aliases.setdefault(name, set()).update(sources - imported)
        reads, sets, todo, seen = set(), set(), set(n.calls), set()
        while todo:  # functions calling functions
            f = todo.pop()
            if f in seen or f not in functions:
                continue
            seen.add(f)
            f_reads, f_sets, f_calls = functions[f]
            reads |= f_reads
            sets |= f_sets
            todo |= f_calls
        changed = set(n.changes) | sets | {r for mod, args in n.module_calls if mod in imported for r in args}
        stack = list(changed)
        while stack:
            for source in aliases.get(stack.pop(), ()):
                if source not in changed:
                    changed.add(source)
                    stack.append(source)
        free[i], changes[i] = n.free | (reads - n.binds), changed
    # backward from the last explorer: a cell is kept when it binds or changes a name a later kept cell
    # reads, or when it binds nothing and sets global state through an import (torch.manual_seed(0))
    needed: set[str] = set()
    for i, _ in reversed(cells):
        n = names[i]
        if i not in keep and i < max(keep):
            changed = n.binds | (changes[i] - imported)
            global_state = not n.binds and bool(n.discarded_calls & imported
                                                or any(mod in imported for mod, _ in n.module_calls))
            if changed & needed or global_state:
                keep.add(i)
        if i in keep:
            # names this cell binds itself (and does not read first) need no earlier cell, unless read too
            needed -= n.binds - free[i]
            needed |= free[i] - _BUILTINS  # len, print: nothing in the notebook defines them
    return sorted(keep)
