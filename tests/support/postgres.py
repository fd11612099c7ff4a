"""A throwaway PostgreSQL server for the tests (Debian's postgresql), on 127.0.0.1 and a free port.

initdb/pg_ctl refuse to run as root, so as root they run as the ``postgres`` user. The server
runs with fsync off (test data) and is stopped and deleted at the end of the session; each test
gets its own database (``new_database``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid

__all__ = ["PostgresServer", "pg_bin"]


def pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self, *, durable: bool = False) -> None:
        """``durable``: fsync and synchronous commits on, as a production server runs (benchmarks
        that compare with Postfix, which fsyncs); off by default, for test data."""
        self.durable = durable
        binary = pg_bin()
        if binary is None:
            raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
        self.bin = binary
        self.dir = tempfile.mkdtemp(prefix="mailfate-pg-")
        self.port = _free_port()
        self.root = os.geteuid() == 0

    def _run(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.root else []
        subprocess.run(
            [*prefix, *cmd], check=True, cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )

    def start(self) -> PostgresServer:
        if self.root:
            shutil.chown(self.dir, "postgres", "postgres")
        data = os.path.join(self.dir, "data")
        self._run(
            f"{self.bin}/initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            f"{self.bin}/pg_ctl",
            "-D",
            data,
            "-l",
            f"{self.dir}/server.log",
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(
                f"{self.bin}/pg_ctl", "-D", os.path.join(self.dir, "data"), "-m", "immediate", "-w", "stop"
            )
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
