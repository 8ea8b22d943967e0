"""The package layout of docs/architecture.md, checked from the source: no import cycles
anywhere in the repository, arrows pointing one way between packages, and torch kept out of the
search.

Imports are read with `ast` from every module (function-level and TYPE_CHECKING imports count
too, since a lazy import still ties two modules together); strings such as the player registry's
"module:attr" entries are not imports, which is what lets a registry be extended without a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"runs", "results", "node_modules", "build", "dist"}

# Packages that must stay independent of the Othello code ("arrows point one way").
GAME_AGNOSTIC = ("alphazero", "sae", "toymodels", "mazes")
# Allowed project imports per package (itself always allowed), from the layout table.
ALLOWED = {
    "common": (),
    "othello.rules": ("common",),
    "othello.players": ("common", "othello.rules"),
    "othello.az": ("common", "othello.rules", "othello.players", "alphazero"),
    "othello.interp": ("common", "othello.rules", "othello.players", "othello.az", "alphazero",
                       "sae"),
    "vis": ("common", "othello", "sae"),
    "mazes": ("common",),
    "alphazero": ("common",),
    "toymodels": ("common",),
    "sae": ("common",),
}
# Modules of alphazero/ that must not load torch (the search runs on numpy alone).
NUMPY_ONLY = ("alphazero.game", "alphazero.mcts", "alphazero.selfplay", "alphazero.arena",
              "alphazero.replay")


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the repository."""
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if any(part.startswith(".") or part in SKIP_DIRS or part == "__pycache__"
               for part in rel.parts[:-1]):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """Project modules that `name` imports (anywhere in the file)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` -> the deepest module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack, stack, out = set(), [], []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def owner(name: str, packages) -> str | None:
    """The longest package prefix of a module name, or None."""
    best = None
    for pkg in packages:
        if (name == pkg or name.startswith(pkg + ".")) and (best is None or len(pkg) > len(best)):
            best = pkg
    return best


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_the_repository():
    graph = import_graph()
    assert "othello.players.registry" in graph and "alphazero.mcts" in graph
    assert cycles(graph) == []


def test_arrows_point_one_way():
    """Each package imports only itself and the packages the layout table allows."""
    graph = import_graph()
    bad = []
    for name, targets in sorted(graph.items()):
        pkg = owner(name, ALLOWED)
        if pkg is None:
            continue
        for target in sorted(targets):
            if owner(target, (pkg, *ALLOWED[pkg])):
                continue
            bad.append(f"{name} -> {target}")
    assert bad == []


def test_game_agnostic_packages_import_no_othello():
    graph = import_graph()
    bad = sorted((name, target) for name, targets in graph.items()
                 if owner(name, GAME_AGNOSTIC) for target in targets
                 if owner(target, ("othello",)))
    assert bad == []


def test_the_search_runs_without_torch():
    code = ("import sys; import " + ", ".join(NUMPY_ONLY) +
            "; print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
