"""A real receiving MTA for the tests: a throwaway Postfix (Debian's postfix) on 127.0.0.1 and a
free port, that takes mail for one domain and bounces it *after* the 250.

Each :class:`PostfixServer` has its own ``config_directory`` and ``queue_directory`` in a
temporary directory (nothing under /etc/postfix is read or touched), listens on 127.0.0.1 only,
never uses DNS, and:

- accepts any recipient at ``domain`` at RCPT time (``local_recipient_maps =``), then hands it to
  ``error:`` (``bounce``, default ``5.1.1 user unknown``): Postfix writes a DSN at once, after it
  answered 250 to the sender — the late bounce of a real receiver;
- delivers the addresses in ``deliver`` (to ``discard:``: accepted and gone, a plain 250);
- sends its DSNs (and any other mail) for a domain in ``routes`` over SMTP to the given
  ``host:port`` — a sender's VERP bounce domain pointed at its inbound server — retrying a refused
  or unreachable one every second or so.

Postfix's master must start as root; :func:`postfix_unavailable` says why it cannot run here.

Usage in a test module (the fixture is defined below; ``tests/conftest.py`` may import it)::

    @pytest.fixture(scope="module")
    def receiver(postfix_factory):
        return postfix_factory(routes={"bounces.app.example": ("127.0.0.1", inbound_port)},
                               deliver=["ok@rcpt.test"])
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.debian import not_installed

__all__ = ["MASTER_CF", "POSTFIX", "PostfixServer", "free_port", "postfix_factory", "postfix_unavailable"]

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
HOST = "127.0.0.1"

# chroot n everywhere: no copies of /etc files into the queue directory. Only smtpd listens, on
# loopback (``{listen}``: host:port). Also the DKIM benchmark's throwaway Postfix.
MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
"""

_STATUS = re.compile(r"\bto=<([^>]*)>.*?\bstatus=(\w+)")


def postfix_unavailable() -> str | None:
    """Why no Postfix can be started here, or None when one can."""
    if not (os.access(POSTFIX, os.X_OK) and os.access(POSTCONF, os.X_OK)):
        return not_installed(f"Postfix ({POSTFIX})", "postfix")
    if os.geteuid() != 0:
        return "a Postfix instance needs root (its master process starts as root): run the tests as root"
    return None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=0.2).close()
    except OSError:
        return False
    return True


@dataclass
class PostfixServer:
    """One running Postfix; :meth:`start`, then :meth:`stop` (which removes everything)."""

    domain: str = "rcpt.test"
    """The domain it accepts mail for (any local part)."""
    routes: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    """Domain → (host, port) where mail for it goes over SMTP: the DSNs to a VERP bounce domain."""
    deliver: Iterable[str] = ()
    """Addresses at ``domain`` that are delivered (discarded after the 250) instead of bounced."""
    bounce: str = "5.1.1 user unknown"
    """The DSN status and text of every other recipient."""
    retry: int = 1
    """Seconds between two tries of deferred mail (a DSN its destination refused, for one)."""
    port: int = 0
    """0: a free port, chosen at :meth:`start`."""
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mailfate-postfix-")))
    host: str = field(default=HOST, init=False)
    _started: bool = field(default=False, init=False)

    @property
    def config_dir(self) -> Path:
        return self.directory / "etc"

    @property
    def queue_dir(self) -> Path:
        return self.directory / "spool"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _write_config(self) -> None:
        d = self.directory
        for sub in ("etc", "spool", "data"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        d.chmod(0o755)  # the postfix user traverses it to its queue and data directories
        shutil.chown(d / "data", "postfix")
        # texthash: read as is (no postmap); a full address key wins over the domain key.
        lines = [f"{dom} smtp:[{host}]:{port}" for dom, (host, port) in self.routes.items()]
        lines += [f"{address} discard:delivered by the test receiver" for address in self.deliver]
        (self.config_dir / "transport").write_text("".join(f"{line}\n" for line in lines))
        retry = f"{self.retry}s"
        (self.config_dir / "main.cf").write_text(
            f"""\
compatibility_level = 3.6
config_directory = {self.config_dir}
queue_directory = {self.queue_dir}
data_directory = {d}/data
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
myhostname = mx.{self.domain}
mydomain = {self.domain}
myorigin = $myhostname
mydestination = {self.domain}
local_recipient_maps =
local_transport = error:{self.bounce}
transport_maps = texthash:{self.config_dir}/transport
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
inet_interfaces = {HOST}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
smtpd_reject_unlisted_recipient = no
smtpd_peername_lookup = no
smtpd_tls_security_level = none
relayhost =
default_transport = error:5.4.4 the test receiver sends nowhere but its routes
smtp_bind_address = {HOST}
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_tls_security_level = none
in_flow_delay = 0
queue_run_delay = {retry}
minimal_backoff_time = {retry}
maximal_backoff_time = {retry}
bounce_queue_lifetime = 60s
maximal_queue_lifetime = 60s
delay_warning_time = 0
notify_classes =
"""
        )
        (self.config_dir / "master.cf").write_text(MASTER_CF.format(listen=f"{HOST}:{self.port}"))

    def _postfix(self, *args: str) -> subprocess.CompletedProcess[str]:
        # Postfix prints its fatal errors to stderr only when that is a terminal (else to the
        # maillog): ``script`` gives it one, so a failure says why.
        command = shlex.join([POSTFIX, "-c", str(self.config_dir), *args])
        return subprocess.run(
            ["script", "-qec", command, "/dev/null"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            cwd=self.directory,
            stdin=subprocess.DEVNULL,
        )

    def start(self, timeout: float = 20.0) -> PostfixServer:
        reason = postfix_unavailable()
        if reason is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise RuntimeError(reason)
        self.port = self.port or free_port()
        self._write_config()
        self._started = True
        try:
            done = self._postfix("start")
            if done.returncode != 0:
                raise RuntimeError(f"postfix start failed: {done.stdout.strip()}\n{self.maillog()[-2000:]}")
            deadline = time.monotonic() + timeout
            while not _listening(self.port):
                if time.monotonic() > deadline:
                    log = self.maillog()[-2000:]
                    raise RuntimeError(f"Postfix did not listen on {self.address} within {timeout} s: {log}")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        return self

    def maillog(self) -> str:
        path = self.directory / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def statuses(self) -> dict[str, list[str]]:
        """Recipient → the ``status=`` of each delivery Postfix logged for it, in order."""
        found: dict[str, list[str]] = {}
        for address, status in _STATUS.findall(self.maillog()):
            found.setdefault(address.lower(), []).append(status)
        return found

    def queued(self) -> int:
        """Messages in the queue (incoming, active, deferred, on hold)."""
        return sum(
            1
            for sub in ("maildrop", "incoming", "active", "deferred", "hold")
            for path in (self.queue_dir / sub).rglob("*")
            if path.is_file()
        )

    def wait_for(self, check: Callable[[PostfixServer], bool], timeout: float = 20.0) -> None:
        """Poll until ``check(self)``; a RuntimeError with the end of the maillog at the timeout."""
        deadline = time.monotonic() + timeout
        while not check(self):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Postfix: condition not met within {timeout} s:\n{self.maillog()[-3000:]}"
                )
            time.sleep(0.05)

    def _ours(self) -> list[int]:
        """Processes of this instance still running: Postfix's daemons run with MAIL_CONFIG set to
        this configuration directory, and the master inherits it from ``postfix start``."""
        mark = f"MAIL_CONFIG={self.config_dir}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
        return found

    def stop(self) -> None:
        """Stop every process of this instance and delete its directory."""
        try:
            if self._started:
                with contextlib.suppress(subprocess.SubprocessError, OSError):
                    self._postfix("abort")
                deadline = time.monotonic() + 10
                while self._ours() and time.monotonic() < deadline:
                    time.sleep(0.05)
                for pid in self._ours():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self._started = False
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostfixServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def postfix_factory() -> Iterator[Callable[..., PostfixServer]]:
    """Start real Postfix receivers (``PostfixServer(**options)``); all stopped at the end.

    Skips the test, with the reason, where Postfix is not installed or the tests do not run as root.
    """
    reason = postfix_unavailable()
    if reason is not None:
        pytest.skip(reason)
    started: list[PostfixServer] = []

    def start(**options: Any) -> PostfixServer:
        server = PostfixServer(**options)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
