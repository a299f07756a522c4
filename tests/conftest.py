"""Shared fixtures and helpers: a small test knowledge base, broken copies of it, and the command line."""
import importlib.util
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import expert
from expert.cli.main import main

#: The service tests need the ``service`` extra and the libraries its clients use; an install
#: without it (the README's recipe for a host application) runs every other test.
SERVICE_MODULES = ("fastapi", "uvicorn", "fhir.resources", "jwt", "cryptography", "httpx")
if any(importlib.util.find_spec(name.split(".")[0]) is None for name in SERVICE_MODULES):
    collect_ignore = ["service"]

SMALL_KB = Path(__file__).parent / "fixtures" / "small_kb"


@pytest.fixture(scope="session")
def small() -> expert.Expert:
    """The small test knowledge base, compiled once."""
    return expert.Expert.from_directory(SMALL_KB)


@pytest.fixture
def kb_copy(tmp_path):
    """Copy the small knowledge base and let a test edit one file: ``kb_copy(file, old, new)``."""
    target = tmp_path / "kb"
    shutil.copytree(SMALL_KB, target)

    def edit(file: str | None = None, old: str = "", new: str = "", append: str = "") -> Path:
        if file:
            path = target / file
            text = path.read_text()
            if old:
                assert old in text, f"{old!r} not in {file}"
                text = text.replace(old, new, 1)
            path.write_text(text + append)
        return target
    return edit


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first occurrence of ``needle`` in a file."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not found in {path}")


def run(*args, input=None):
    """Run the real entry point (with its exit-code mapping) and capture stdout and stderr."""
    runner = CliRunner()
    result = runner.invoke(_Entry(), list(args), input=input, catch_exceptions=False)
    return result


class _Entry:
    """Adapts main() (which returns an exit code) to CliRunner, which expects a click command."""

    name = "spasm"

    def main(self, args=None, prog_name=None, **extra):
        raise SystemExit(main(args))


