"""The layout is the architecture, and the README's map of it stays true.

- every package of ``indexer/``, ``search/`` and ``api/`` has a row in the README's "where to change
  what" table listing exactly its modules (a new module without a row fails, a row naming a module
  that is gone fails);
- imports flow one way, ``api`` → ``search`` → ``indexer``, with no cycle between modules;
- a function-level import carries a comment saying why (on its line or the line above).
"""

from __future__ import annotations

import ast
import gc
import re
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("indexer", "search", "api")
LAYER = {"indexer": 0, "search": 1, "api": 2}


def readme_map() -> dict[str, set[str]]:
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("## How it works, and where to change what", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        m = re.match(r"^\| `([\w/]+/)` \|[^|]*\| (.*) \|$", line)
        if m:
            rows[m.group(1)] = set(re.findall(r"`([\w.]+\.py)`", m.group(2)))
    return rows


def code_packages() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for top in PACKAGES:
        for init in (ROOT / top).rglob("__init__.py"):
            folder = init.parent
            modules = {p.name for p in folder.glob("*.py") if p.name != "__init__.py"}
            if init.read_text("utf-8").strip():
                modules.add("__init__.py")  # a package whose __init__ holds code
            if modules:
                out[folder.relative_to(ROOT).as_posix() + "/"] = modules
    return out


def test_readme_map_lists_every_package_and_module() -> None:
    documented, actual = readme_map(), code_packages()
    assert set(actual) - set(documented) == set(), "packages missing from the README map"
    for package, modules in actual.items():
        assert documented[package] == modules, f"{package}: README lists {documented[package]}, code has {modules}"
    for package in documented:
        assert (ROOT / package).is_dir(), f"README names {package}, which does not exist"


def parse(path: Path) -> ast.Module:
    """The module's syntax tree. CPython 3.11.7 once failed here in a full run (never alone) with
    "AST constructor recursion depth mismatch": its AST conversion checks the thread's recursion
    counter before and after, and Python code run in between (a finalizer the garbage collector
    calls) moves it. So: a fresh thread, with the collector paused while it parses."""
    out: list[ast.Module] = []

    def work() -> None:
        gc.disable()
        try:
            out.append(ast.parse(path.read_text("utf-8")))
        finally:
            gc.enable()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(60)
    assert out, f"could not parse {path}"
    return out[0]


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, inside a function) for every import of the project's packages."""
    tree = parse(path)
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    nested.add(id(inner))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            out.append((name, node.lineno, id(node) in nested))
    return out


def _module_files() -> dict[str, Path]:
    files = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def test_imports_flow_one_way_without_cycles() -> None:
    files = _module_files()
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        layer = LAYER[module.split(".")[0]]
        deps = set()
        for name, line, _ in _imports(path):
            top = name.split(".")[0]
            if top not in LAYER:
                continue
            assert LAYER[top] <= layer, f"{path.relative_to(ROOT)}:{line} imports {name} (upward)"
            target = name if name in files else name.rsplit(".", 1)[0]
            if target in files and target != module:
                deps.add(target)
        graph[module] = deps
    # Depth-first search for a cycle; report it as a path.
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            # A package's __init__ importing its own sub-modules is how registration works, not a cycle.
            if dep.startswith(node + "."):
                continue
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " → ".join([*trail, node, dep]))
            if dep not in state:
                visit(dep, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_function_level_imports_say_why() -> None:
    unexplained = []
    for path in _module_files().values():
        lines = path.read_text("utf-8").splitlines()
        tree = parse(path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    here, above = lines[inner.lineno - 1], lines[inner.lineno - 2]
                    if "#" not in here and not above.strip().startswith("#"):
                        unexplained.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert unexplained == [], f"function-level imports without a comment saying why: {unexplained}"
