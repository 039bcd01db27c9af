"""The package's shape, held: stages import downward only, no import circle (imports
inside functions and under ``TYPE_CHECKING`` count), SQL only in ``storage``, small
modules, and a code map (docs/architecture.md) that names every module.

``LAYERS`` is the one declaration of the order, lowest first. A module may import from
its own stage or from a stage on a lower layer; stages that share a layer stay
independent of each other.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "citeseek"
ARCHITECTURE = PACKAGE.parents[1] / "docs" / "architecture.md"
LAYERS: list[set[str]] = [
    {"errors", "words", "markers", "places", "terminal", "display", "demo",
     "citation"},  # shared leaves
    {"config", "dates", "progress", "listing"},
    {"sentences"},  # sentence ends know the months' abbreviations
    {"document"},
    {"ingest", "embed"},  # files -> documents -> passages; texts -> vectors
    {"storage"},  # the collection on disk; the only place with SQL
    {"engines", "search"},  # building it; ranking passages in it
    {"answer"},
    {"collection"},  # the facade users hold
    {"evaluation", "server"},  # measuring retrieval; serving it over HTTP
    {"integrations"},  # MCP, LangChain, LlamaIndex, a watched folder (server's parts too)
    {"plots"},
    {"cli"},
    {"__init__", "__main__"},
]
MAX_LINES = 350
_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|BEGIN|COMMIT|"
                  r"ROLLBACK|SAVEPOINT|RELEASE|VACUUM|PRAGMA|ATTACH|DETACH)\b")


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def stage(module: str) -> str:
    """The stage a module belongs to: its subpackage, or its own name at the top."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def layer(name: str) -> int:
    for i, names in enumerate(LAYERS):
        if name in names:
            return i
    raise AssertionError(f"stage {name!r} is in no layer of LAYERS")


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every package module ``module`` imports, wherever the import statement is."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # ``from x import y`` imports module x.y when there is one, else names of x.
            targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else origin
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # ``import a.b.c`` or a name in it
                target = target.rpartition(".")[0]
            if target and target != module and target.startswith("citeseek"):
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_walker_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    """The checks below are only as good as the walk: it must see imports inside
    functions, under ``TYPE_CHECKING``, relative ones of every depth and modules named
    in a ``from`` list."""
    known = modules()
    source = PACKAGE / "collection.py"
    edges = imports("citeseek.collection", source, known)
    assert {"citeseek.storage.generation", "citeseek.engines.dispatch",
            "citeseek.answer.compose"} <= edges
    lazy = imports("citeseek.engines.dispatch", PACKAGE / "engines" / "dispatch.py", known)
    assert "citeseek.engines.ray_driver" in lazy  # imported inside a function
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\n"
                     "if TYPE_CHECKING:\n    from ..collection import Collection\n"
                     "def f():\n    from .. import cli\n    from ...citeseek import x\n",
                     encoding="utf-8")
    assert imports("citeseek.search.probe", probe, known) == {
        "citeseek.collection", "citeseek.cli", "citeseek"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle() -> None:
    assert cycles(graph()) == []


def test_stages_import_downward_only() -> None:
    upward = []
    for module, targets in graph().items():
        own = stage(module)
        for target in targets:
            other = stage(target)
            if other != own and layer(other) >= layer(own):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_every_stage_has_a_layer() -> None:
    for module in modules():
        layer(stage(module))


def _sql_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("execute", "executemany", "executescript"):
            found.append(f"{path.name}:{node.lineno} {node.func.attr}()")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                _SQL.match(node.value):
            found.append(f"{path.name}:{node.lineno} {node.value[:30]!r}")
    return found


def test_sql_lives_in_storage_only() -> None:
    outside = [call for name, path in modules().items() if stage(name) != "storage"
               for call in _sql_calls(path)]
    assert outside == []
    inside = [call for name, path in modules().items() if stage(name) == "storage"
              for call in _sql_calls(path)]
    assert len(inside) > 20  # the check sees the storage layer's own SQL


@pytest.mark.parametrize("name", sorted(modules()))
def test_module_is_small_and_says_what_it_does(name: str) -> None:
    path = modules()[name]
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES, f"{name} has over {MAX_LINES} lines"
    if path.stat().st_size > 200:
        assert ast.get_docstring(ast.parse(text)), f"{name} has no docstring"


@pytest.mark.parametrize("package", sorted(
    p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_each_package_docstring_names_its_modules(package: str) -> None:
    """A subpackage's docstring is its own code map: it names every module in it."""
    folder = PACKAGE / package
    doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
    assert doc, f"{package}/__init__.py has no docstring"
    missing = [path.stem for path in sorted(folder.glob("*.py")) if path.stem != "__init__"
               and f"``{path.stem}``" not in doc and f"``{path.name}``" not in doc]
    assert missing == [], f"{package}/__init__.py does not name {missing}"


def test_code_map_names_every_module() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    code_map = text[text.index("## Code map"):]
    code_map = code_map[:code_map.index("\n## ", 4)]
    missing = []
    for path in modules().values():
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.endswith("__init__.py") and rel != "__init__.py":
            rel = rel[:-len("__init__.py")]
        if rel != "__main__.py" and f"`{rel}`" not in code_map and \
                f"`{Path(rel).name}`" not in code_map:
            missing.append(rel)
    assert missing == []
