"""The package's layering, read from its imports: no cycle between packages, no package importing a higher one.

Layers, lowest first (a unit may import its own layer's other units and any lower layer):

0. neutral modules at the top of migrate/: errors, model, units, datafiles, secrets, pwsh, volumedigest,
   helpertools, winbuilds, collector, output, reference (each imports only others of this list);
1. inventory: reading sources (the docker SDK lives in inventory/engine.py alone);
2. assess: rules over an inventory;
3. render (reports) and plan (decisions, steps);
4. verify, emit, validate, rehearse, fleet: what is done with a plan, two inventories or many bundles;
5. pipeline and the command line (cli*.py, __main__).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "migrate"

LAYERS: dict[str, int] = {
    "errors": 0, "model": 0, "units": 0, "datafiles": 0, "secrets": 0, "pwsh": 0, "volumedigest": 0,
    "collector": 0, "output": 0, "reference": 0, "helpertools": 0, "winbuilds": 0, "migrate": 0,
    "inventory": 1,
    "assess": 2,
    "render": 3, "plan": 3,
    "verify": 4, "emit": 4, "validate": 4, "rehearse": 4, "fleet": 4,
    "pipeline": 5, "cli": 5, "__main__": 5,
}

EXCEPTIONS: set[tuple[str, str]] = set()
"""Imports allowed for now against the layering, each (importer, imported) module, with the reason."""


def _unit(module: str) -> str:
    """The layering unit of a module: its package under migrate/, the module for top-level ones; cli*.py is one."""
    parts = module.split(".")
    if len(parts) == 1:
        return "migrate"
    name = parts[1]
    if name.startswith("cli"):
        return "cli"
    return name


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path) -> set[str]:
    """migrate modules imported by module, at any depth of its code (function-local imports count too)."""
    found = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "migrate"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base
                                                                                                 else []))
            if base.split(".")[0] != "migrate":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in _MODULES else base)
    return {m for m in found if m in _MODULES and m != module}


_MODULES = _modules()


def _edges() -> set[tuple[str, str]]:
    return {(m, dep) for m, path in _MODULES.items() for dep in _imports(m, path)}


def test_every_unit_has_a_layer() -> None:
    units = {_unit(m) for m in _MODULES}
    assert units - set(LAYERS) == set(), "a new package or top-level module: give it a layer above"


def _upward(edges: set[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, b in edges - EXCEPTIONS if LAYERS[_unit(b)] > LAYERS[_unit(a)])


def test_no_import_goes_up_a_layer() -> None:
    assert _upward(_edges()) == []


def test_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for a, b in _edges() - EXCEPTIONS:
        if _unit(a) != _unit(b):
            graph.setdefault(_unit(a), set()).add(_unit(b))
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif len(path) < len(LAYERS):
                visit(nxt, path + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []


def test_the_exceptions_are_still_needed() -> None:
    """An exception nobody needs any more is removed, so the list stays the lead's to-do list."""
    assert EXCEPTIONS <= _edges()


def test_the_docker_sdk_is_imported_by_inventory_engine_alone() -> None:
    importers = set()
    for module, path in _MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "docker" or n.startswith("docker.") for n in names):
                importers.add(module)
    assert importers == {"migrate.inventory.engine"}


def test_the_layer_check_would_catch_an_upward_import() -> None:
    """The walk is real: it sees imports (function-local ones too), and one upward import added to them fails."""
    edges = _edges()
    assert ("migrate.plan.build", "migrate.volumedigest") in edges
    assert ("migrate.cli", "migrate.inventory.scan") in edges  # function-local imports are seen
    assert _upward(edges | {("migrate.plan.build", "migrate.verify.manifest")}) == [
        ("migrate.plan.build", "migrate.verify.manifest")]
