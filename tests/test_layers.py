"""The package's floors: imports only go down (docs/architecture.md), and no module imports itself round a circle.

Read from the source with ast, so a lazy import inside a function counts as much as one at the top: the
coupling is what matters, not when it is paid.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "musicvae_app"

# Lowest first. A module may import its own floor and those below; the first matching prefix wins.
FLOORS: list[tuple[str, ...]] = [
    ("errors", "atomic", "limits", "lanes", "resources", "userdata", "userfiles", "theory"),
    ("sketch.song", "sketch.spec", "model.nets", "model.fast", "model.reference"),
    (
        "sketch.pins",
        "sketch.midi",
        "sketch.sketchfile",
        "sketch.undo",
        "model",
        "evaluation.metrics",
        "evaluation.playing_metrics",
        "evaluation.groove_metrics",
        "evaluation.energy_rows",
        "evaluation.report",
        "evaluation.windows",
        "playback.schedule",
    ),
    ("engine", "training", "playback", "playback.stems"),
    (
        "sketch",
        "sketch.editing",
        "sketch.leadsheet",
        "playback.transport",
        "playback.headless",
        "playback.live",
        "evaluation",
    ),
    ("cli", "ui", "displaycheck", "__main__", "training.__main__"),  # the faces: entry points and the window
]


def _module(path: Path) -> str:
    rel = path.relative_to(PKG).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _floor(module: str) -> int:
    best, floor = -1, None
    for i, prefixes in enumerate(FLOORS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, floor = len(p), i
    assert floor is not None, f"{module} is on no floor: add it to FLOORS and to docs/architecture.md"
    return floor


def _runtime_nodes(tree: ast.AST):
    """Every node except those under `if TYPE_CHECKING:` (names for type hints, never imported at run time)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            test = getattr(child, "test", None)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package modules (of `modules`) that `path` imports (absolute names without the package prefix)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("musicvae_app"):
                target = node.module[len("musicvae_app") :].lstrip(".")
            else:
                continue
            for alias in node.names:  # `from . import sketchfile` names a module
                sub = f"{target}.{alias.name}" if target else alias.name
                out.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("musicvae_app."):
                    out.add(alias.name[len("musicvae_app.") :])
    out.discard("")
    return {m for m in out if m in modules}


def _graph() -> dict[str, set[str]]:
    paths = list(PKG.rglob("*.py"))
    modules = {_module(p) for p in paths}
    return {_module(p): _imports(p, modules) for p in paths if _module(p)}


def test_imports_only_go_down_the_floors():
    upward = [
        f"{m} (floor {_floor(m)}) imports {t} (floor {_floor(t)})"
        for m, targets in _graph().items()
        for t in targets
        if not m.endswith("__init__") and _floor(t) > _floor(m)
    ]
    assert upward == []


def test_no_module_imports_itself_round_a_circle():
    graph = _graph()
    circles = []
    for start in graph:
        seen, stack = set(), [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start and len(path) > 1:
                    circles.append(" -> ".join(path + [start]))
                elif nxt not in seen and nxt != node:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    # a package's __init__ re-exporting its modules is not a circle of ideas
    packages = {_module(p) for p in PKG.rglob("__init__.py")}
    circles = [c for c in circles if not packages & set(c.split(" -> "))]
    assert sorted(set(circles)) == []


def test_no_module_is_longer_than_an_idea():
    long = {_module(p): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > 700}
    assert long == {}
