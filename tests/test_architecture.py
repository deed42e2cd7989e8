"""The layout's rules, read from the source: no import circles anywhere, no Qt outside `emotiondesk/_qt/`."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "emotiondesk"
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "matplotlib.backends.backend_qtagg")


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports count; TYPE_CHECKING ones too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = {module_name(path, package): path for path in package.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {target for target in imports_of(path) if target in modules and target != name}
        # A package's __init__ is imported with any of its modules: count it as a step only when named.
        edges[name] = targets - {package.name}
    return edges


def test_no_import_circles():
    sorter = graphlib.TopologicalSorter(graph())
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        raise AssertionError(f"import circle: {' -> '.join(error.args[1])}") from None


# Layers, highest first (as import-linter's layers contract): a module imports only from its own layer or below.
LAYERS = [
    ("emotiondesk.__main__", "emotiondesk.cli"),
    ("emotiondesk._qt",),
    ("emotiondesk.runs",),
    ("emotiondesk.analysis",),
    ("emotiondesk.sinks",),
    ("emotiondesk.pipeline",),
    ("emotiondesk.stages", "emotiondesk.sources", "emotiondesk.samples"),
    ("emotiondesk.types", "emotiondesk.errors", "emotiondesk.assets", "emotiondesk.palette", "emotiondesk.metadata"),
]


def layer(name: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            return index
    raise AssertionError(f"{name} is in no layer: add it to LAYERS in tests/test_architecture.py")


def test_rooms_depend_on_each_other_one_way():
    """stages, sinks, runs, analysis, cli and _qt each import only what lies below them."""
    upward = [
        f"{name} ({LAYERS[layer(name)][0]}) imports {target} ({LAYERS[layer(target)][0]})"
        for name, targets in graph().items()
        if name != "emotiondesk"
        for target in targets
        if layer(target) < layer(name)
    ]
    assert not upward, "\n".join(upward)


def test_no_qt_outside_the_qt_package():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "_qt" in path.relative_to(PACKAGE).parts:
            continue
        for target in imports_of(path):
            if target.startswith(QT_MODULES) or target.startswith("emotiondesk._qt"):
                offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {target}")
    # The CLI's window command is the one door into the window, opened lazily.
    offenders = [o for o in offenders if not o.startswith("emotiondesk/cli/main.py imports emotiondesk._qt.app")]
    assert not offenders, "\n".join(offenders)


def test_the_public_api_imports_without_qt():
    code = (
        "import sys, emotiondesk\n"
        "for name in emotiondesk.__all__: getattr(emotiondesk, name)\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
        "assert not qt, qt\n"
        "print(len(emotiondesk.__all__))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 14


def test_the_checker_sees_a_circle(tmp_path):
    """The circle check itself can fail: a circle through a function-level import is reported."""
    package = tmp_path / "emotiondesk"
    (package / "sinks").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sinks" / "__init__.py").write_text("")
    (package / "sinks" / "a.py").write_text("from emotiondesk.pipeline import run\n")
    (package / "pipeline.py").write_text("def run():\n    from emotiondesk.sinks import a\n")
    edges = graph(package)
    assert edges["emotiondesk.pipeline"] == {"emotiondesk.sinks", "emotiondesk.sinks.a"}
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError:
        return
    raise AssertionError("a circle went unreported")
