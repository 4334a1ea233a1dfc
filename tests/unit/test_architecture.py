"""The shape of the house (issue #18), checked on the code as it is: no import cycle anywhere in
``src/dualsign`` (``TYPE_CHECKING`` imports included), a small ``application/`` and top level, no
private engine module used outside the engines, and no source file over 600 lines.

The import-linter contracts in ``pyproject.toml`` say which package may import which; these tests
keep the counts and sizes, and find cycles between modules, which layers alone do not forbid.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp

import dualsign

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "src" / "dualsign"
SOURCE_ROOTS = (ROOT / "src", ROOT / "packages" / "dualsign-verify" / "src")
MAX_LINES = 600
MAX_APPLICATION_MODULES = 10
MAX_LOOSE_MODULES = 4


def import_graph() -> grimp.ImportGraph:
    assert Path(dualsign.__file__).parent == PACKAGE, f"dualsign is imported from {dualsign.__file__}"
    return grimp.build_graph("dualsign", exclude_type_checking_imports=False, cache_dir=None)


def strongly_connected(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of nodes that reach each other (Tarjan, iterative); a group of more than one node, or a
    node that imports itself, is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges.get(node, ()):
                    groups.append(sorted(group))
    return groups


def test_the_cycle_finder_finds_cycles_and_nothing_else() -> None:
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"a"}, "b": {"a"}}) == [["a"]]
    assert strongly_connected({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycle_between_modules() -> None:
    graph = import_graph()
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    cycles = strongly_connected(edges)
    assert cycles == [], "import cycles (each group imports itself round): " + "; ".join(
        " -> ".join(c) for c in cycles
    )


def test_no_import_cycle_between_sibling_packages() -> None:
    """Inside every package, its children (a subpackage counted with everything in it) import each other
    without a cycle: capabilities, layers and adapters depend one way."""
    graph = import_graph()
    cycles = []
    for parent in sorted(m for m in graph.modules if graph.find_children(m)):
        depth = parent.count(".") + 1

        def child_of(module: str, parent: str = parent, depth: int = depth) -> str | None:
            if not module.startswith(parent + "."):
                return None
            return ".".join(module.split(".")[: depth + 1])

        edges: dict[str, set[str]] = {c: set() for c in graph.find_children(parent)}
        for module in graph.find_descendants(parent):
            source = child_of(module)
            for imported in graph.find_modules_directly_imported_by(module):
                target = child_of(imported)
                if source is not None and target is not None and target != source:
                    edges[source].add(target)
        cycles += strongly_connected(edges)
    assert cycles == [], "sibling packages importing each other round: " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def modules_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.py") if p.name != "__init__.py")


def test_application_holds_at_most_ten_modules_directly() -> None:
    """Use cases live in capability packages; ``application/`` keeps what they all share."""
    direct = modules_in(PACKAGE / "application")
    assert len(direct) <= MAX_APPLICATION_MODULES, direct


def test_the_top_of_the_package_holds_at_most_four_loose_modules() -> None:
    loose = modules_in(PACKAGE)
    assert len(loose) <= MAX_LOOSE_MODULES, loose


def imported_modules(tree: ast.AST) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def test_nothing_outside_the_engines_imports_a_private_engine_module() -> None:
    """Decoding is ``dualsign.media``'s, public; ``engines._*`` is the adapters' own glue. Checked in the
    product and in the tests, benches and scripts that use it."""
    engines = PACKAGE / "engines"
    offenders = []
    for folder in (ROOT / "src", ROOT / "tests", ROOT / "bench", ROOT / "scripts"):
        for path in sorted(folder.rglob("*.py")):
            if path.is_relative_to(engines):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            private = {m for m in imported_modules(tree) if m.startswith("dualsign.engines._")}
            offenders += [f"{path.relative_to(ROOT)}: {m}" for m in sorted(private)]
    assert offenders == []


def lines_of(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_source_file_is_over_600_lines() -> None:
    sizes = {
        path.relative_to(ROOT).as_posix(): lines_of(path)
        for root in SOURCE_ROOTS
        for path in sorted(root.rglob("*.py"))
    }
    over = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert over == {}, f"split these modules (at most {MAX_LINES} lines each): {over}"
