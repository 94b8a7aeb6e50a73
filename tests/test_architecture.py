"""The shape of the package: imports run one way, private names stay home, small files.

Read from the source with ``ast``: every ``import`` between rnncast's modules
(type-checking-only imports aside) forms a graph without cycles; no name starting
with an underscore is imported from, or read off, another module (tests included);
no module is longer than 600 lines and no class longer than 400.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "rnncast"
MODULES = sorted(PACKAGE.rglob("*.py"))
TESTS = sorted((ROOT / "tests").rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST) -> list[ast.ImportFrom | ast.Import]:
    """Every import statement, without those under ``if TYPE_CHECKING:``."""
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    known = {_module_name(p) for p in MODULES}
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        name = _module_name(path)
        edges = graph.setdefault(name, set())
        for node in _imports(ast.parse(path.read_text())):
            targets = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                + [f"{node.module}.{a.name}" for a in node.names]
            )
            edges.update(t for t in targets if t in known and t != name)
    return graph


def test_imports_between_modules_have_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize(
    "path", [*MODULES, *TESTS], ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_private_name_is_used_outside_its_module(path):
    tree = ast.parse(path.read_text())
    private = []
    for node in _imports(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "rnncast"
        ):
            private += [a.name for a in node.names if _private(a.name)]
            private += (
                [node.module] if any(map(_private, node.module.split("."))) else []
            )
        if isinstance(node, ast.Import):
            private += [
                a.name for a in node.names if any(map(_private, a.name.split(".")))
            ]
    for node in ast.walk(tree):
        # model._read(...), rnncast.io._exchange: an underscore name read off an
        # object other than self or cls
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and not (
                isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}
            )
        ):
            private.append(ast.unparse(node))
    assert not private, f"private names used: {private}"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_modules_and_classes_stay_small(path):
    source = path.read_text()
    assert len(source.splitlines()) <= 600
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= 400, f"class {node.name} has {length} lines"


def test_help_datasets_and_import_rnncast_do_not_load_torch_or_pandas():
    code = (
        "import sys, contextlib, io\n"
        "import rnncast\n"
        "from rnncast.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for command in ([], ['forecast'], ['backtest'], ['report']):\n"
        "        try:\n"
        "            main([*command, '--help'])\n"
        "        except SystemExit:\n"
        "            pass\n"
        "    assert main(['datasets']) == 0\n"
        "print(sorted({'torch', 'pandas', 'numpy'} & set(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
