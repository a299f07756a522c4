"""The shape of the code: no import cycles, Experta behind one boundary, plain data out of it."""
import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import expert
from expert.trace import Firing, Run

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"expert": ROOT / "expert", "expert.cli": ROOT / "cli"}


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.glob("*.py")):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def _runtime_nodes(tree: ast.AST):
    """Every node outside ``if TYPE_CHECKING:`` blocks (those imports never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, at module level or inside functions."""
    package = name if path.stem == "__init__" else name.rsplit(".", 1)[0]
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            submodules = {f"{module}.{alias.name}" for alias in node.names} & set(known)
            found |= submodules or ({module} & set(known))
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & set(known)
    return found - {name}


def test_no_import_cycles():
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    cycles = []

    def visit(node, trail):
        for nxt in sorted(graph[node]):
            if nxt in trail:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in done:
                visit(nxt, trail + [nxt])
        done.add(node)

    done: set[str] = set()
    for name in graph:
        if name not in done:
            visit(name, [name])
    assert not cycles, cycles
    assert graph["expert.engine"] and graph["expert.assessment"], "the import graph was not read"


def test_only_the_engine_and_the_compiler_use_experta():
    users = set()
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("experta") or \
                    isinstance(node, ast.ImportFrom) and node.module == "_experta" or \
                    isinstance(node, ast.Import) and any(a.name.startswith("experta") for a in node.names):
                users.add(name)
    assert users == {"expert._experta", "expert.engine", "expert.compiler"}


def _plain(value) -> bool:
    if isinstance(value, (str, int, float, bool, type(None), frozenset)):
        return all(_plain(v) for v in value) if isinstance(value, frozenset) else True
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if dataclasses.is_dataclass(value):
        return all(_plain(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def test_a_run_is_plain_data():
    run = expert.default_expert().new_engine().evaluate(
        {"movement": "cramp", "sites": frozenset({"calf"}), "swelling": True, "pain": "severe"})
    assert isinstance(run, Run) and all(isinstance(f, Firing) for f in run.firings)
    assert run.firings and _plain(run.firings) and _plain(dict(run.scores)) and isinstance(run.triage, str)


def test_importing_expert_loads_no_engine_and_configures_no_logging():
    code = ("import logging, sys; import expert, expert.errors, expert.cli.main; "
            "print(bool(logging.getLogger().handlers), 'experta' in sys.modules, 'expert.engine' in sys.modules); "
            "expert.assess({'answers': {}}); print(bool(logging.getLogger().handlers))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False", "False"]
