"""Benchmark: DKIM-signed delivery, Postfix + OpenDKIM beside mailfate, to the same smtp-sink.

usage: python benchmarks/dkim_vs_postfix.py [--n N] [--shared DIR] [--skip-postfix] [--milter unix|inet]

Both sides sign every message with one 2048-bit RSA key (d=app.example, s=bench, rsa-sha256,
relaxed/relaxed) and relay it over loopback to Postfix's ``smtp-sink``:
  1. Postfix + OpenDKIM (Debian ``postfix`` and ``opendkim``, installed when missing; needs root):
     a throwaway Postfix instance under a temporary directory (the layout of
     ``../shared/bench/postfix_peer.sh``, built here) whose smtpd hands each message to
     ``opendkim -f`` (``smtpd_milters``, ``milter_default_action = tempfail``); N messages of 1 KB
     injected with smtp-source from sender@app.example to {i}user@ 5 domains, timed from the first
     injection until smtp-sink has counted the Nth. The milter listens on a UNIX socket, as
     Debian's opendkim does by default; ``--milter inet`` puts it on 127.0.0.1:<port> instead,
     where it ran about 4× slower here (the milter protocol's small writes over TCP seem to wait
     on delayed ACKs): a cost of that setup rather than of DKIM;
  2. mailfate end to end: ``Client.send`` from one process (10 threads) while one ``mailfate worker`` with a
     ``[dkim]`` key directory signs and delivers — from the first submit to the last 250;
  3. mailfate delivery only: N messages queued first, then the worker starts.
Before timing, each side sends warm-up mail to a second smtp-sink that dumps what it receives
(``-d``); every dumped message must carry a DKIM-Signature that dkimpy verifies with the key, or
the run stops: a benchmark that signs nothing measures nothing. The Postfix knobs (destination
concurrency, in_flow_delay) are read from DIR/bench/postfix_peer.sh so both Postfix peers match.
The last line is ``key=value`` pairs: postfix_dkim_e2e, milter, mailfate_dkim_e2e,
mailfate_dkim_drain, ratio (mailfate / Postfix end to end) and target.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dkim as dkimpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from tests.support.postfix import MASTER_CF  # the same throwaway master.cf as the tests'

from delivery_vs_postfix import (
    DOMAINS,
    LO,
    ROOT,
    Worker,
    free_port,
    smtp_sink,
    submit_all,
    submit_parallel,
    tool,
    wait_delivered,
    write_config,
)
from mailfate.mailauth.dkim import generate_key

SIGNING_DOMAIN = "app.example"
SELECTOR = "bench"
SIZE = 1024
WARMUP = 50
TARGET = 1.5
WARMUP_DOMAIN = "warmup.test"  # Postfix routes it to the dumping sink; the timed mail to the other
_QUIET = logging.getLogger("benchmarks.dkim_vs_postfix")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def wait_port(port: int | Path, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20) -> None:
    """Until something accepts on 127.0.0.1:``port`` (or on the UNIX socket ``port``)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if isinstance(port, Path):
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as unix:
                unix.connect(str(port))
                return
        else:
            with contextlib.suppress(OSError), socket.create_connection((LO, port), timeout=0.2):
                return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.02)
    raise SystemExit(f"nothing listens on {port if isinstance(port, Path) else f'{LO}:{port}'}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def dump_sink(folder: Path) -> Iterator[int]:
    """An smtp-sink that writes each message it receives into ``folder`` (one file each)."""
    sink = tool("smtp-sink")
    if sink is None:
        raise SystemExit("smtp-sink is missing (Debian package postfix)")
    folder.mkdir(parents=True)
    folder.chmod(0o777)  # smtp-sink writes as nobody
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    cmd = [sink, *user, "-d", f"{folder}/%H%M%S.", f"{LO}:{port}", "1024"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        yield port
    finally:
        stop(proc)


def check_signed(folder: Path, txt: str, who: str) -> int:
    """How many dumped messages there are; SystemExit unless each has a DKIM-Signature that verifies."""
    files = sorted(folder.iterdir())
    if not files:
        raise SystemExit(f"{who}: the warm-up sink received nothing")

    def dnsfunc(name: bytes, timeout: float = 5) -> str:
        return txt if name == f"{SELECTOR}._domainkey.{SIGNING_DOMAIN}.".encode() else ""

    for path in files:
        data = path.read_bytes()
        if b"\ndkim-signature:" not in b"\n" + data.lower():
            raise SystemExit(
                f"{who}: {path.name} carries no DKIM-Signature:\n{data[:600].decode(errors='replace')}"
            )
        if not dkimpy.verify(data, logger=_QUIET, dnsfunc=dnsfunc):
            raise SystemExit(f"{who}: the DKIM-Signature of {path.name} does not verify:\n{data[:900]!r}")
    return len(files)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timeout after {timeout:.0f} s: {what}")
        time.sleep(0.05)


# --- the peer: Postfix + OpenDKIM ---------------------------------------------------------------


def peer_knobs(shared: Path) -> dict[str, str]:
    """CONC and IN_FLOW_DELAY as postfix_peer.sh sets them by default (20 and 1s without it)."""
    knobs = {"CONC": "20", "IN_FLOW_DELAY": "1s"}
    script = shared / "bench" / "postfix_peer.sh"
    if script.exists():
        text = script.read_text("utf-8", "replace")
        for name in knobs:
            found = re.search(rf"^{name}=\$\{{{name}:-([^}}]+)\}}", text, re.MULTILINE)
            if found:
                knobs[name] = found.group(1)
    return knobs


def why_no_peer() -> str | None:
    """Why the Postfix + OpenDKIM peer cannot run, or None once the packages are there."""
    if os.geteuid() != 0:
        return "needs root (Postfix's master and the Debian packages)"
    missing = [
        pkg
        for pkg, program in (("postfix", "postfix"), ("postfix", "smtp-source"), ("opendkim", "opendkim"))
        if tool(program) is None
    ]
    if not missing:
        return None
    if shutil.which("apt-get") is None:
        return f"{', '.join(sorted(set(missing)))} missing and no apt-get"
    print(f"installing {' '.join(sorted(set(missing)))} (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["debconf-set-selections"],
        input=b"postfix postfix/main_mailer_type select No configuration\n",
        check=False,
    )
    install = [
        "apt-get",
        "-o",
        "DPkg::Lock::Timeout=600",  # wait for another apt/dpkg to finish
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "-o",
        "Dpkg::Options::=--force-confold",
        *sorted(set(missing)),
    ]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update", "-qq"], env=env, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"apt-get install failed: {done.stderr.strip()[-300:]}"
    return None


class OpenDkim:
    """``opendkim -f`` signing mail from app.example with the benchmark key.

    ``milter_socket``: ``unix`` (a socket file under ``base``) or ``inet`` (127.0.0.1, a free port);
    :attr:`address` is where Postfix finds it (``smtpd_milters``).
    """

    def __init__(self, base: Path, pem: bytes, milter_socket: str) -> None:
        key = base / "opendkim" / f"{SELECTOR}.private"
        key.parent.mkdir()
        key.write_bytes(pem)
        key.chmod(0o600)
        with contextlib.suppress(KeyError):  # the package's own user, when it made one
            account = pwd.getpwnam("opendkim")
            os.chown(key.parent, account.pw_uid, account.pw_gid)
            os.chown(key, account.pw_uid, account.pw_gid)
        user = "UserID opendkim\n" if key.stat().st_uid != 0 else ""
        endpoint: int | Path  # what wait_port polls
        if milter_socket == "unix":
            endpoint = base / "opendkim" / "milter.sock"
            listen, self.address = f"local:{endpoint}", f"unix:{endpoint}"
        else:
            endpoint = free_port()
            listen, self.address = f"inet:{endpoint}@{LO}", f"inet:{LO}:{endpoint}"
        conf = base / "opendkim" / "opendkim.conf"
        conf.write_text(
            "Syslog no\n"
            "Mode s\n"
            f"Domain {SIGNING_DOMAIN}\n"
            f"Selector {SELECTOR}\n"
            f"KeyFile {key}\n"
            f"Socket {listen}\n"
            "UMask 000\n"  # the socket file: Postfix's smtpd connects as user postfix
            "Canonicalization relaxed/relaxed\n"
            "SignatureAlgorithm rsa-sha256\n"
            f"InternalHosts {LO}\n"
            "Nameservers 127.0.0.1\n"  # signing asks no DNS; if anything did, it stays on loopback
            "RequireSafeKeys no\n"
            "AutoRestart no\n"
            f"PidFile {base / 'opendkim' / 'opendkim.pid'}\n"
            f"{user}",
            "utf-8",
        )
        self.log = base / "opendkim" / "stderr"
        program = tool("opendkim") or "opendkim"
        self.version = subprocess.run([program, "-V"], capture_output=True, text=True, check=False).stdout
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                [program, "-f", "-x", str(conf)], stdout=subprocess.DEVNULL, stderr=err
            )
        try:
            wait_port(endpoint, self.proc)
        except SystemExit:
            self.stop()
            raise SystemExit(
                f"opendkim did not start: {self.log.read_text('utf-8', 'replace')[-600:]}"
            ) from None

    def stop(self) -> None:
        stop(self.proc)


class Postfix:
    """A Postfix instance of its own (config, queue, log under ``base``), relaying to loopback sinks.

    Mail for :data:`WARMUP_DOMAIN` goes to ``warmup_port``, all else to ``sink_port``; smtpd asks
    the ``milter`` about every message and tempfails when it does not answer.
    """

    def __init__(
        self, base: Path, sink_port: int, warmup_port: int, milter: str, knobs: dict[str, str]
    ) -> None:
        self.conf, self.spool, self.maillog = base / "etc", base / "spool", base / "maillog"
        self.port = free_port()
        data = base / "data"
        for folder in (self.conf, self.spool, data):
            folder.mkdir()
        shutil.chown(data, "postfix")
        sink = f"[{LO}]:{sink_port}"
        (self.conf / "main.cf").write_text(
            f"""\
compatibility_level = 3.6
config_directory = {self.conf}
queue_directory = {self.spool}
data_directory = {data}
maillog_file = {self.maillog}
maillog_file_prefixes = {base}
myhostname = bench.localdomain
mydomain = localdomain
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 local delivery disabled in benchmark
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
inet_interfaces = {LO}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
smtpd_peername_lookup = no
smtpd_tls_security_level = none
smtpd_milters = {milter}
non_smtpd_milters =
milter_default_action = tempfail
relayhost = {sink}
transport_maps = inline:{{{WARMUP_DOMAIN}=smtp:[{LO}]:{warmup_port}}}
smtp_bind_address = {LO}
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_tls_security_level = none
default_destination_concurrency_limit = {knobs["CONC"]}
smtp_connection_cache_on_demand = yes
smtp_connection_cache_destinations = {sink}
in_flow_delay = {knobs["IN_FLOW_DELAY"]}
notify_classes =
""",
            "utf-8",
        )
        (self.conf / "master.cf").write_text(MASTER_CF.format(listen=f"{LO}:{self.port}"), "utf-8")
        self._postfix("check")
        self.started = True
        self._postfix("start")
        wait_port(self.port)
        self.version = self._run("postconf", "-h", "mail_version").stdout.strip()

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [tool(program) or program, "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def _postfix(self, command: str) -> None:
        done = self._run("postfix", command)
        if done.returncode != 0:
            log = self.maillog.read_text("utf-8", "replace")[-800:] if self.maillog.exists() else ""
            raise SystemExit(f"postfix {command} failed: {done.stderr.strip()}\n{log}")

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        pid_file = self.spool / "pid" / "master.pid"
        pid = int(pid_file.read_text().strip() or 0) if pid_file.exists() else 0
        self._run("postfix", "stop")
        for _ in range(100):
            if not pid or not Path(f"/proc/{pid}").exists():
                return
            time.sleep(0.1)
        self._run("postfix", "abort")

    def inject(self, count: int, domain: str, sessions: int) -> subprocess.Popen[bytes]:
        """smtp-source: ``count`` messages of 1 KB to {i}user@``domain`` over ``sessions`` sessions."""
        cmd = [
            tool("smtp-source") or "smtp-source",
            "-d",
            "-s",
            str(sessions),
            "-m",
            str(count),
            "-l",
            str(SIZE),
            "-N",
            "-M",
            SIGNING_DOMAIN,
            "-f",
            f"sender@{SIGNING_DOMAIN}",
            "-t",
            f"user@{domain}",
            "-S",
            "dkim bench",
            f"{LO}:{self.port}",
        ]
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def counting_sink(n: int) -> tuple[int, subprocess.Popen[bytes], list[float]]:
    """An smtp-sink that exits once it has counted ``n`` messages; the list gets the exit time."""
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    proc = subprocess.Popen(
        [tool("smtp-sink") or "smtp-sink", *user, "-M", str(n), f"{LO}:{port}", "1024"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ended: list[float] = []

    def watch() -> None:
        proc.wait()
        ended.append(time.time())

    threading.Thread(target=watch, daemon=True).start()
    wait_port(port, proc)
    return port, proc, ended


def run_peer(
    base: Path, n: int, pem: bytes, txt: str, *, knobs: dict[str, str], milter_socket: str
) -> dict[str, str | float]:
    """Postfix + OpenDKIM end to end: msgs/s from the first injection to the Nth at the sink."""
    base.mkdir()
    base.chmod(0o755)  # postfix and nobody go through it
    with contextlib.ExitStack() as cleanup:
        milter = OpenDkim(base, pem, milter_socket)
        cleanup.callback(milter.stop)
        sink_port, sink, ended = counting_sink(n)
        cleanup.callback(stop, sink)
        with dump_sink(base / "warmup") as warmup_port:
            postfix = Postfix(base, sink_port, warmup_port, milter.address, knobs)
            cleanup.callback(postfix.stop)
            _, err = postfix.inject(WARMUP, WARMUP_DOMAIN, 2).communicate(timeout=120)
            wait_for(
                lambda: len(list((base / "warmup").iterdir())) >= WARMUP,
                120,
                f"{WARMUP} warm-up messages through Postfix + OpenDKIM\n{err.decode(errors='replace')[-300:]}"
                f"\n{milter.log.read_text('utf-8', 'replace')[-400:]}",
            )
        signed = check_signed(base / "warmup", txt, "Postfix + OpenDKIM")
        shares = [n // len(DOMAINS) + (1 if i < n % len(DOMAINS) else 0) for i in range(len(DOMAINS))]
        started = time.time()
        injectors = [postfix.inject(count, domain, 2) for count, domain in zip(shares, DOMAINS, strict=True)]
        for proc in injectors:
            _, err = proc.communicate(timeout=900)
            if proc.returncode != 0:
                raise SystemExit(f"smtp-source failed: {err.decode(errors='replace')[-300:]}")
        wait_for(lambda: bool(ended), 900, f"{n} messages at the sink through Postfix + OpenDKIM")
        if sink.returncode != 0:
            raise SystemExit(f"smtp-sink exited with {sink.returncode}")
        return {
            "rate": n / (ended[0] - started),
            "postfix": postfix.version,
            "opendkim": " ".join(re.findall(r"OpenDKIM Filter (v\S+)", milter.version)[:1]) or "?",
            "knobs": f"milter on {milter_socket}, concurrency {knobs['CONC']}, "
            f"in_flow_delay {knobs['IN_FLOW_DELAY']}",
            "signed": signed,
        }


# --- mailfate ------------------------------------------------------------------------------------


def mailfate_config(folder: Path, sink_port: int, keys: Path) -> Path:
    config = write_config(folder, str(folder / "store.db"), sink_port, concurrency=100)
    with config.open("a", encoding="utf-8") as out:
        out.write(f'[dkim]\nkeys = "{keys}"\n')
    return config


def mailfate_warmup(folder: Path, keys: Path, txt: str) -> int:
    """A few messages through a signing worker to a dumping sink; each must verify."""
    from mailfate.client import Client
    from mailfate.config import load_settings
    from mailfate.store import Store

    with dump_sink(folder / "dump") as port:
        config = mailfate_config(folder, port, keys)
        store = Store.open(str(folder / "store.db"))
        client = Client(store, settings=load_settings(config))
        submit_all(client, len(DOMAINS), SIZE)
        worker = Worker(config)
        try:
            wait_delivered(store, len(DOMAINS), timeout=60)
        finally:
            worker.stop()
            store.close()
    return check_signed(folder / "dump", txt, "mailfate")


def run_mailfate(folder: Path, n: int, sink_port: int, keys: Path) -> tuple[float, float]:
    """(end-to-end msgs/s, delivery-only msgs/s), every message DKIM-signed by the worker."""
    from mailfate.client import Client
    from mailfate.config import load_settings
    from mailfate.store import Store

    config = mailfate_config(folder, sink_port, keys)
    url = str(folder / "store.db")
    store = Store.open(url)
    client = Client(store, settings=load_settings(config))
    worker = Worker(config)
    started = submit_parallel(url, n, SIZE, 1)
    done = wait_delivered(store, n)
    e2e = n / (done - started)
    worker.stop()
    submit_all(client, n, SIZE, start=n)
    worker = Worker(config)
    done = wait_delivered(store, 2 * n)
    drain = n / (done - worker.ready)
    worker.stop()
    store.close()
    return e2e, drain


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--skip-postfix", action="store_true")
    parser.add_argument(
        "--milter",
        choices=("unix", "inet"),
        default="unix",
        help="OpenDKIM's socket: a UNIX socket (Debian's default) or TCP on 127.0.0.1",
    )
    args = parser.parse_args()
    if args.n < len(DOMAINS):
        parser.error(f"--n must be at least {len(DOMAINS)}")
    out: dict[str, float | int | str] = {"n": args.n}
    with tempfile.TemporaryDirectory(prefix="mailfate-dkim-bench-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        pem, txt = generate_key(2048)
        keys = base / "keys"
        (keys / SIGNING_DOMAIN).mkdir(parents=True)
        (keys / SIGNING_DOMAIN / f"{SELECTOR}.pem").write_bytes(pem)
        print(
            f"DKIM-signed delivery of {args.n} messages of ~1 KB to smtp-sink on {LO}: one RSA-2048 key, "
            f"d={SIGNING_DOMAIN} s={SELECTOR}, rsa-sha256, relaxed/relaxed",
            flush=True,
        )
        peer: dict[str, str | float] = {}
        if args.skip_postfix:
            print("Postfix + OpenDKIM peer skipped (--skip-postfix)")
        elif (why := why_no_peer()) is not None:
            print(f"Postfix + OpenDKIM peer skipped: {why}")
        else:
            peer = run_peer(
                base / "peer", args.n, pem, txt, knobs=peer_knobs(args.shared), milter_socket=args.milter
            )
            out["postfix_dkim_e2e"], out["milter"] = float(peer["rate"]), args.milter
            print(
                f"postfix+opendkim  end to end     {peer['rate']:8.0f} msg/s   (Postfix {peer['postfix']} + "
                f"OpenDKIM {peer['opendkim']}, {peer['knobs']}; {peer['signed']} warm-up messages signed "
                "and verified)",
                flush=True,
            )
        signed = mailfate_warmup(base / "mailfate-warmup", keys, txt)
        with smtp_sink() as sink_port:
            e2e, drain = run_mailfate(base / "mailfate", args.n, sink_port, keys)
        out["mailfate_dkim_e2e"], out["mailfate_dkim_drain"] = e2e, drain
        print(
            f"mailfate          end to end     {e2e:8.0f} msg/s   (SQLite; Client.send from 1 process × "
            f"10 threads, one worker; {signed} warm-up messages signed and verified)"
        )
        print(f"mailfate          delivery only  {drain:8.0f} msg/s")
    if "postfix_dkim_e2e" in out:
        out["ratio"] = e2e / float(out["postfix_dkim_e2e"])
        out["target"] = TARGET
        print(f"ratio mailfate/postfix+opendkim end to end {out['ratio']:.2f} (target {TARGET})")
    print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
