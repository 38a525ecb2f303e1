"""The package's import graph: no cycle, and no lower layer importing a higher one.

Read from the source with ``ast`` (nothing is imported), so a new cycle or an upward import fails
here before it fails at run time. Imports under ``if TYPE_CHECKING:`` are left out: they never run.
Imports inside functions count: hiding a cycle in a function is still a cycle.

Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first, so every import also
depends on the parent packages of what it names; that is how a package ``__init__`` that
re-exports its submodules eagerly closes a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "django_graceful_cancel"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

#: Layers, lowest first. A module may import its own layer and the ones below it, never above.
#: The first matching prefix wins, so more specific prefixes come first.
LAYERS: list[tuple[str, list[str]]] = [
    (
        "entry points",
        [
            "views",
            "api",
            "admin",
            "tasks",
            "management",
            "urls",
            "templatetags",
            "checks",
            "apps",
            "followups.views",
            "followups.urls",
            "followups.tasks",
            "followups.receivers",
            "webhooks.tasks",
            "webhooks.receivers",
            "webhooks.checks",
            "backends.stripe.webhooks",
            "forms",
            # Deprecated import paths kept for one release (each re-exports and warns).
            "receivers",
            "links",
            "link_views",
            "link_urls",
            "sequences",
            "channels",
            "stripe_webhooks",
        ],
    ),
    (
        "services",
        [
            "services",
            "followups",
            "policies",
            "analytics",
            "feedback",
            "webhooks",
            "alerts",
            "insights",
        ],
    ),
    (
        "backends and rendering",
        ["backends", "rendering", "priority", "compliance", "jurisdiction"],
    ),
    ("models", ["models", "migrations"]),
    (
        "foundation",
        [
            "conf",
            "choices",
            "exceptions",
            "signals",
            "catalogue",
            "sites",
            "dates",
            "intervals",
            "client_ip",
            "converters",
            "__init__",
        ],
    ),
]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    local = module.removeprefix(PACKAGE).lstrip(".") or "__init__"
    ranked = [
        (rank, prefix)
        for rank, (_, prefixes) in enumerate(reversed(LAYERS))
        for prefix in prefixes
        if local == prefix or local.startswith(prefix + ".")
    ]
    if not ranked:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")
    # The longest (most specific) prefix decides.
    return max(ranked, key=lambda item: len(item[1]))[0]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # "from package import submodule" imports the submodule too.
            found.update(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in ROOT.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for name in _imports(tree, module, path.name == "__init__.py"):
            if name != PACKAGE and not name.startswith(PACKAGE + "."):
                continue
            # The module itself when it is one, and every parent package it runs on the way.
            parts = name.split(".")
            for i in range(2, len(parts) + 1):
                candidate = ".".join(parts[:i])
                if candidate in files and candidate != module:
                    targets.add(candidate)
        # A module's own parent packages run before it: not an edge worth reporting.
        own_parents = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
        graph[module] = targets - own_parents
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == GREY:
                return [*stack[stack.index(nxt) :], nxt]
            if colour.get(nxt) == WHITE:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_module_imports_a_higher_layer() -> None:
    graph = import_graph()
    upward = sorted(
        f"{module} ({LAYERS[len(LAYERS) - 1 - layer_of(module)][0]}) imports {target} "
        f"({LAYERS[len(LAYERS) - 1 - layer_of(target)][0]})"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )
    assert not upward, "\n".join(upward)


def test_no_private_name_is_imported_across_modules() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (
                node.level or (node.module or "").startswith(PACKAGE)
            ):
                offenders += [
                    f"{path.relative_to(ROOT)}: {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    assert not offenders, "\n".join(offenders)


# --- the checker itself must be able to fail ----------------------------------------------------


def test_find_cycle_finds_a_cycle_and_only_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize(
    ("module", "higher"),
    [
        (f"{PACKAGE}.models.cases", f"{PACKAGE}.services.cases"),
        (f"{PACKAGE}.services.cases", f"{PACKAGE}.views"),
        (f"{PACKAGE}.followups.outbox", f"{PACKAGE}.followups.tasks"),
        (f"{PACKAGE}.services.cases", f"{PACKAGE}.api.views"),
    ],
)
def test_layers_rank_entry_points_above_services_above_models(module: str, higher: str) -> None:
    assert layer_of(higher) > layer_of(module)


def test_relative_imports_resolve_with_parent_packages() -> None:
    tree = ast.parse("from ..services.core import record\nfrom . import outbox\n")
    found = _imports(tree, f"{PACKAGE}.followups.actions", is_package=False)
    assert f"{PACKAGE}.services.core" in found
    assert f"{PACKAGE}.followups.outbox" in found


def test_services_exports_public_use_cases_only() -> None:
    from django_graceful_cancel import services

    for name in services.__all__:
        assert callable(getattr(services, name)), name
    # Worker internals stay in their modules.
    for internal in ("send_followup", "sweep_followups", "schedule_sequence", "pending_sync_cases"):
        assert internal not in services.__all__
        with pytest.raises(AttributeError):
            getattr(services, internal)
