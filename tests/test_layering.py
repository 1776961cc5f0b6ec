"""Dependency direction api → timebank → ledger, and no settings read below api/, checked with ast."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ledger", "timebank", "api")
FORBIDDEN = {
    "ledger": {"flask", "werkzeug", "marshmallow", "api", "timebank"},
    "timebank": {"flask", "werkzeug", "marshmallow", "api"},
}
ENV_READERS = {("os", "environ"), ("os", "getenv"), ("os", "environb"), ("os", "getenvb")}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, package: list[str] | None = None) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved against
    `package` (default: the file's own)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        name = module_name(path).split(".")
        package = name if path.name == "__init__.py" else name[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            prefix = base + (node.module.split(".") if node.module else [])
            yield node.lineno, ".".join(prefix)
            for alias in node.names:  # `from . import x` may name a module
                yield node.lineno, ".".join([*prefix, alias.name])


def environment_reads(path: Path) -> Iterator[tuple[int, str]]:
    """(line, what) of every way the file could read the process environment."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in ENV_READERS:
                yield node.lineno, f"{node.value.id}.{node.attr}"
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if ("os", alias.name) in ENV_READERS:
                    yield node.lineno, f"from os import {alias.name}"


def test_every_package_has_modules() -> None:
    for package in PACKAGES:
        assert modules(package), package


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones_or_the_web_stack(package: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in modules(package)
        for line, name in imported(path)
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("package", ["ledger", "timebank"])
def test_nothing_below_api_reads_the_environment(package: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} reads the environment ({what})"
        for path in modules(package)
        for line, what in environment_reads(path)
    ]
    assert not offences, "\n".join(offences)


def test_the_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os\nimport flask.json\nfrom marshmallow import Schema\nfrom .. import api\n"
        "from timebank.demo import load_demo\nfrom os import getenv\nx = os.environ['A']\ny = os.getenv('B')\n",
        encoding="utf-8",
    )
    roots = {name.split(".")[0] for _, name in imported(probe, ["ledger"])}
    assert FORBIDDEN["ledger"] - {"werkzeug"} <= roots
    assert sorted(environment_reads(probe)) == [(6, "from os import getenv"), (7, "os.environ"), (8, "os.getenv")]
