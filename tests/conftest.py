"""Shared test options: where ../shared is (corpora stay there, never copied into the project)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.debian import not_installed
from tests.support.postfix import postfix_factory

__all__ = ["postfix_factory"]  # a fixture: real Postfix receivers (tests/support/postfix.py)

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shared",
        default=os.environ.get("MAILFATE_SHARED", str(DEFAULT_SHARED)),
        help="the shared/ folder with corpus/ and bench/ (default: ../shared beside the checkout)",
    )


LEVELS = ("unit", "integration", "e2e", "qa", "corpus")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked with its level, the folder it lives in: ``bin/test -m unit`` runs the fast
    ones, ``-m "integration or e2e"`` the ones that start real servers or mailfate's processes."""
    for item in items:
        parts = item.path.relative_to(Path(__file__).parent).parts
        if parts and parts[0] in LEVELS:
            item.add_marker(parts[0])


@pytest.fixture(scope="session")
def shared_dir(request: pytest.FixtureRequest) -> Path:
    path = Path(str(request.config.getoption("--shared")))
    if not (path / "corpus").is_dir():
        pytest.skip(f"no shared corpus at {path}: pass --shared DIR or set MAILFATE_SHARED")
    return path


@pytest.fixture(scope="session")
def knot_factory():
    """Start real Knot DNS servers (``KnotServer``) with given zones; all stopped at the end."""
    from tests.support.knot import KnotServer, knot_available

    if not knot_available():
        pytest.skip(not_installed("Knot DNS", "knot"))
    started: list[KnotServer] = []

    def start(zones: dict[str, str]) -> KnotServer:
        server = KnotServer(zones).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the session (skipped with the reason where it cannot run)."""
    from tests.support.postgres import PostgresServer, pg_bin

    if pg_bin() is None:
        pytest.skip(not_installed("PostgreSQL", "postgresql"))
    try:
        server = PostgresServer().start()
    except Exception as exc:
        pytest.skip(f"PostgreSQL could not start here: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    server = request.getfixturevalue("pg_server")
    return str(server.new_database())
