"""The layers, as the imports show them: the domain imports nothing of the layers above it,
and no module imports itself back through another (no import cycle, lazy imports counted).

    app, run ──► web ──► forms ──► workflow
                  │                   ▲
                  ├──► notify ──► pdf ┘
                  └──► pdf ───────────┘
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = ("app", "run", "config", "web", "forms", "workflow", "pdf", "notify")

# What each package may import from the others (config is everyone's).
ALLOWED = {
    "workflow": set(),
    "pdf": {"workflow"},
    "notify": {"workflow", "pdf"},
    "forms": {"workflow"},
    "web": {"forms", "workflow", "pdf", "notify"},
    "app": {"web", "forms", "workflow", "pdf", "notify"},
    "run": {"app", "workflow", "pdf", "notify"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if not (rel.parts[0] in TOP if len(rel.parts) > 1 else rel.stem in TOP):
            continue
        parts = rel.with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (at the top or inside a function)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
                    source = f"{base}.{node.module}" if node.module else base
                else:
                    source = node.module or ""
                for alias in node.names:  # ``from pkg import module`` depends on that module alone
                    deps.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_scan_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_back():
    graph = import_graph()
    assert len(graph) > 60
    assert cycles(graph) == []


def test_each_layer_imports_only_the_layers_below_it():
    wrong = sorted((name, dep) for name, deps in import_graph().items() for dep in deps
                   if dep.split(".")[0] != name.split(".")[0] and dep.split(".")[0] != "config"
                   and dep.split(".")[0] not in ALLOWED[name.split(".")[0]])
    assert wrong == []
