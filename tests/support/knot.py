"""A real authoritative DNS server for the tests: Knot DNS from Debian on 127.0.0.1, port 0-style.

Each :class:`KnotServer` runs ``knotd`` from its own temporary directory on a free port with the
zones it was given, answers until :meth:`stop`, and can change records live
(:meth:`set_records`). Run as root, knotd drops to ``nobody``-readable files (the directory is
made world-readable); as a normal user it runs as that user.

Usage in a test module::

    @pytest.fixture(scope="module")
    def dns(knot_factory):
        return knot_factory({"example.test": ZONE})
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dns.resolver

__all__ = ["KNOTD", "KnotServer", "knot_available", "zone_text"]

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"


def knot_available() -> bool:
    return os.access(KNOTD, os.X_OK) and os.access(KNOTC, os.X_OK)


def _free_port() -> int:
    # A port free for both UDP and TCP on 127.0.0.1.
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port for the DNS server")


def zone_text(origin: str, records: str, *, serial: int = 1) -> str:
    """A zone file for ``origin`` with SOA and NS, then ``records`` (zone-file lines)."""
    origin = origin.rstrip(".") + "."
    return (
        f"$ORIGIN {origin}\n$TTL 60\n"
        f"@ IN SOA ns1.{origin} hostmaster.{origin} ( {serial} 3600 600 86400 60 )\n"
        f"@ IN NS ns1.{origin}\n"
        f"ns1 IN A 127.0.0.1\n"
        f"{records}\n"
    )


@dataclass
class KnotServer:
    """One running knotd with the given zones (origin → zone-file text)."""

    zones: Mapping[str, str]
    host: str = "127.0.0.1"
    port: int = 0
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="knot-")))
    signed: tuple[str, ...] = ()
    """Zones Knot signs itself (DNSSEC, its default policy: keys made at start)."""
    _proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> KnotServer:
        if not knot_available():
            raise RuntimeError(f"Knot DNS is not installed ({KNOTD}): apt-get install knot")
        self.port = self.port or _free_port()
        d = self.directory
        (d / "db").mkdir(parents=True, exist_ok=True)
        for origin, text in self.zones.items():
            (d / f"{origin.rstrip('.')}.zone").write_text(text)
        signed = {o.rstrip(".") for o in self.signed}
        zones = "\n".join(
            f"  - domain: {o.rstrip('.')}" + ("\n    dnssec-signing: on" if o.rstrip(".") in signed else "")
            for o in self.zones
        )
        (d / "knot.conf").write_text(
            f'server:\n    rundir: "{d}"\n    pidfile: "{d}/knot.pid"\n'
            f"    listen: [ {self.host}@{self.port} ]\n"
            f'database:\n    storage: "{d}/db"\n'
            f'control:\n    listen: "{d}/knot.sock"\n'
            f'log:\n  - target: "{d}/knot.log"\n    any: info\n'
            f'template:\n  - id: default\n    storage: "{d}"\n    file: "%s.zone"\n'
            f"    zonefile-sync: -1\n    journal-content: none\n"
            f"zone:\n{zones}\n"
        )
        if os.geteuid() == 0:
            # knotd may run as root here, but keep the tree readable for any user it drops to.
            for path in [d, *d.rglob("*")]:
                path.chmod(0o777 if path.is_dir() else 0o666)
        self._proc = subprocess.Popen(
            [KNOTD, "-c", str(d / "knot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        first = next(iter(self.zones)).rstrip(".")
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log = (d / "knot.log").read_text() if (d / "knot.log").exists() else ""
                raise RuntimeError(f"knotd exited with {self._proc.returncode}: {log[-2000:]}")
            try:
                self.resolver().resolve(first, "SOA", lifetime=0.5)
                return self
            except (dns.exception.DNSException, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"knotd did not answer on {self.host}:{self.port} within {timeout} s")

    def resolver(self) -> dns.resolver.Resolver:
        """A dnspython resolver that asks only this server."""
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = [self.host]
        r.port = self.port
        r.timeout = r.lifetime = 2.0
        return r

    @property
    def address(self) -> str:
        """``host:port``, the form ``--nameserver`` options take."""
        return f"{self.host}:{self.port}"

    def knotc(self, *args: str) -> str:
        out = subprocess.run(
            [KNOTC, "-c", str(self.directory / "knot.conf"), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=20,
        )
        if out.returncode != 0:
            raise RuntimeError(f"knotc {' '.join(args)}: {out.stdout}{out.stderr}")
        return out.stdout

    def set_records(self, origin: str, name: str, rtype: str, *values: str, ttl: int = 60) -> None:
        """Replace ``name``'s ``rtype`` records live (``values`` in zone-file syntax)."""
        origin = origin.rstrip(".")
        self.knotc("zone-begin", origin)
        with contextlib.suppress(RuntimeError):  # nothing to remove
            self.knotc("zone-unset", origin, name, rtype)
        for value in values:
            self.knotc("zone-set", origin, name, str(ttl), rtype, value)
        self.knotc("zone-commit", origin)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                self.knotc("stop")
                self._proc.wait(timeout=10)
            except (RuntimeError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> KnotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
