"""Every module the code imports is declared in pyproject.toml, at the level it is needed.

Read with ``ast`` from ``src/``: a third-party module imported at the top of a module must come from
a core dependency (``pip install mailfate`` has it); one imported only inside a function (a
transport or a store that is chosen by configuration) may come from an extra, and then the code
says which extra to install when it is missing. Exact versions live in constraints.txt; the
package declares ranges, so it installs beside an application's own pins.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from mailfate.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "mailfate"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    core = {_name(r) for r in PROJECT["dependencies"]}
    extras = {
        extra: {_name(r) for r in reqs if not r.startswith("mailfate")}
        for extra, reqs in PROJECT["optional-dependencies"].items()
    }
    return core, extras


def _third_party(tree: ast.AST, *, top_only: bool) -> set[str]:
    nodes: list[ast.AST] = list(ast.iter_child_nodes(tree)) if top_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in {"mailfate", "__future__"}}


def _distributions(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in packages_distributions().get(module, [])}


def test_every_import_is_declared() -> None:
    """An adapter package named after its extra (``mailfate/django/``) imports that extra freely."""
    core, extras = _declared()
    optional = set().union(*extras.values())
    missing: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        if "pytest_plugin" in path.name:  # loaded by pytest only: pytest is the caller's
            continue
        tree = ast.parse(path.read_text("utf-8"))
        package = path.relative_to(SRC).parts[0]
        allowed = core | extras.get(package, set())
        everywhere = _third_party(tree, top_only=False)
        top = _third_party(tree, top_only=True)
        for module in sorted(everywhere):
            dists = _distributions(module)
            where = f"{path.relative_to(ROOT)} imports {module} ({', '.join(sorted(dists)) or '?'})"
            if not dists:
                missing.append(f"{where}: no installed distribution provides it")
            elif module in top and not dists & allowed:
                missing.append(f"{where} at import time: not a core dependency")
            elif not dists & (core | optional):
                missing.append(f"{where}: declared nowhere in pyproject.toml")
    assert not missing, "\n".join(missing)


def test_the_package_declares_ranges_not_pins() -> None:
    pinned = [r for r in PROJECT["dependencies"] if "==" in r]
    for extra, reqs in PROJECT["optional-dependencies"].items():
        if extra != "dev":
            pinned += [r for r in reqs if "==" in r]
    assert not pinned, f"exact pins belong in constraints.txt: {pinned}"


def test_constraints_pin_every_declared_dependency() -> None:
    pins = {
        _name(line) for line in (ROOT / "constraints.txt").read_text("utf-8").splitlines() if "==" in line
    }
    core, extras = _declared()
    unpinned = sorted((core | set().union(*extras.values())) - pins)
    assert not unpinned, f"constraints.txt pins no version of {unpinned}"


def test_a_missing_extra_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the extras, a PostgreSQL store or the SES transport says what to install."""
    from mailfate.delivery.transports.ses import SesTransport
    from mailfate.store.engine import make_engine

    for module in ("psycopg", "boto3"):
        monkeypatch.setitem(sys.modules, module, None)  # import raises ModuleNotFoundError
    with pytest.raises(ConfigError, match=re.escape("pip install 'mailfate[postgres]'")):
        make_engine("postgresql+psycopg://u:secret@127.0.0.1:1/db")
    with pytest.raises(ConfigError, match=re.escape("pip install 'mailfate[ses]'")):
        SesTransport("eu-west-1")
