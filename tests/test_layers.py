"""The package's layers: no import cycle (imports inside functions count, and importing
`a.b.c` runs `a.b` first), nothing outside the Dagster wiring imports it, and the activity
register's domain (paccto_data/activities/) sits below the warehouse and the wiring."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "paccto_data"
ACTIVITIES_MAY_IMPORT = ("activities", "sources", "countries", "acquire", "settings", "errors",
                         "fileio", "lock", "yamlschema", "csv_reader")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports, anywhere in its code."""
    known = modules()

    def resolve(name: str) -> str | None:
        while name not in known and "." in name:
            name = name.rsplit(".", 1)[0]
        return name if name in known else None

    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        names = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                names += [base] + [f"{base}.{alias.name}" for alias in node.names]
        targets = set()
        for name in names:
            target = resolve(name) if name.startswith("paccto_data") else None
            if target is None:
                continue
            parts = target.split(".")
            targets |= {".".join(parts[:n]) for n in range(2, len(parts) + 1)}
        graph[module] = {t for t in targets if t != module and not module.startswith(t + ".")}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle():
    found = cycle(import_graph())
    assert found is None, " -> ".join(found)


def test_only_the_wiring_imports_the_wiring():
    outside = sorted((m, t) for m, targets in import_graph().items() for t in targets
                     if t.startswith("paccto_data.defs")
                     and not m.startswith("paccto_data.defs") and m != "paccto_data.definitions")
    assert outside == []


def test_the_activity_register_domain_sits_below_the_warehouse():
    graph = import_graph()
    allowed = tuple(f"paccto_data.{layer}" for layer in ACTIVITIES_MAY_IMPORT)
    wrong = sorted((m, t) for m, targets in graph.items() if m.startswith("paccto_data.activities")
                   for t in targets if not (t == "paccto_data" or t.startswith(allowed)))
    assert wrong == []
    assert "paccto_data.activities.register" in graph["paccto_data.sources.paccto_activities"]


def test_a_cycle_is_found():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
