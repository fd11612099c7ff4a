"""Bad input on the socket: clear 5xx replies, no crash, bounded memory, nothing smuggled through.

Raw blocking sockets against the simulator on its own thread (the ``mailfate_simulator`` fixture).
"""

from __future__ import annotations

import socket
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mailfate.simulator.config import load_config
from mailfate.simulator.runtime import SimulatorThread
from tests.unit.simulator.simkit import RawClient

SMALL = {
    "server": {"max_message_size": 4096, "max_recipients": 3, "max_errors": 30, "unknown_domains": "reject"}
}


def _open(sim: SimulatorThread) -> RawClient:
    client = RawClient(sim.port)
    assert client.banner.startswith("220 mx.mailfate.test ESMTP")
    assert client.cmd(b"EHLO out.app.example").startswith("250-mx.mailfate.test")
    return client


def _transaction(client: RawClient, rcpt: bytes = b"x@accept.mailfate.test") -> None:
    assert client.cmd(b"MAIL FROM:<a@app.example>").startswith("250")
    assert client.cmd(b"RCPT TO:<" + rcpt + b">").startswith("250")
    assert client.cmd(b"DATA").startswith("354")


@pytest.mark.simulator(overrides=SMALL)
def test_garbage_and_binary_lines_get_500_and_the_session_goes_on(
    mailfate_simulator: SimulatorThread,
) -> None:
    client = _open(mailfate_simulator)
    for junk in (b"\x00\xff\xfe binary", b"", b"HELLO WORLD", "ÉHLO x".encode(), b"\x1b[31m"):
        assert client.cmd(junk).startswith("500 5.5.2"), junk
    assert client.cmd(b"NOOP") == "250 OK"
    client.close()


@pytest.mark.simulator(overrides={"server": {"max_errors": 3}})
def test_too_many_errors_close_the_session(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    assert client.cmd(b"BOGUS").startswith("500")
    assert client.cmd(b"BOGUS").startswith("500")
    assert client.cmd(b"BOGUS").startswith("421 4.7.0")
    assert client.closed()
    client.close()


@pytest.mark.simulator(overrides=SMALL)
def test_overlong_command_line_is_refused_and_discarded(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    assert client.cmd(b"NOOP " + b"x" * 100_000) == "500 5.5.2 Error: line too long"
    assert client.cmd(b"MAIL FROM:<" + b"a" * 700 + b"@app.example>").startswith("500 5.5.2")
    assert client.cmd(b"NOOP") == "250 OK"
    client.close()


@pytest.mark.simulator(overrides=SMALL)
def test_data_over_the_size_limit_is_552_and_not_stored(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    _transaction(client)
    line = b"y" * 998 + b"\r\n"
    client.send(b"Subject: big\r\n\r\n" + line * 2000 + b".\r\n")  # 2 MB against a 4 kB limit
    assert client.reply() == "552 5.3.4 Message size exceeds fixed limit"
    assert client.cmd(b"NOOP") == "250 OK"
    client.close()
    assert mailfate_simulator.stored("accept.mailfate.test") == []
    assert mailfate_simulator.counters()["total"]["rejected"] == 1


@pytest.mark.simulator(overrides=SMALL)
def test_mail_from_size_over_the_limit(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    assert client.cmd(b"MAIL FROM:<a@app.example> SIZE=999999").startswith("552 5.3.4")
    assert client.cmd(b"MAIL FROM:<a@app.example> SIZE=100").startswith("250")
    client.close()


@pytest.mark.simulator(overrides=SMALL)
def test_overlong_data_line_is_refused(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    _transaction(client)
    client.send(b"Subject: x\r\n\r\n" + b"z" * 3000 + b"\r\n.\r\n")
    assert client.reply() == "500 5.5.2 Error: line too long"
    client.close()
    assert mailfate_simulator.stored("accept.mailfate.test") == []


@pytest.mark.parametrize("smuggle", [b"\n.\n", b"\r.\n", b"\n.\r\n", b"\r.\r"])
def test_smtp_smuggling_bare_lf_is_refused_and_nothing_is_stored(tmp_path: Path, smuggle: bytes) -> None:
    with SimulatorThread(load_config(), maildir=tmp_path / "m", journal=tmp_path / "j.jsonl") as sim:
        client = _open(sim)
        _transaction(client)
        payload = (
            b"Subject: hi\r\n\r\nhello"
            + smuggle
            + b"MAIL FROM:<admin@bank.example>\r\nRCPT TO:<x@accept.mailfate.test>\r\nDATA\r\n"
            + b"Subject: forged\r\n\r\nforged\r\n.\r\n"
        )
        client.send(payload)
        assert client.reply() == "550 5.5.2 mx.mailfate.test Error: bare <LF> received"
        assert client.cmd(b"NOOP") == "250 OK", "the smuggled commands were read as data, not run"
        client.close()
        assert sim.stored("accept.mailfate.test") == []
    assert "admin@bank.example" not in (tmp_path / "j.jsonl").read_text()


@pytest.mark.simulator(overrides=SMALL)
def test_too_many_recipients(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    assert client.cmd(b"MAIL FROM:<a@app.example>").startswith("250")
    for n in range(3):
        assert client.cmd(f"RCPT TO:<u{n}@accept.mailfate.test>".encode()).startswith("250")
    assert client.cmd(b"RCPT TO:<u9@accept.mailfate.test>") == "452 4.5.3 Error: too many recipients"
    client.close()


@pytest.mark.simulator(overrides=SMALL)
def test_invalid_addresses_get_501_or_553(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    assert client.cmd(b"MAIL FROM:<a@@b>")[:3] in {"501", "553"}
    assert client.cmd(b"MAIL FROM:nonsense<<").startswith(("501", "553"))
    assert client.cmd(b"MAIL FROM:<a@app.example>").startswith("250")
    assert client.cmd(b"RCPT TO:<no-domain>").startswith("501 5.1.3")
    assert client.cmd(b"RCPT TO:<a b@c>")[:3] in {"501", "553"}
    assert client.cmd(b"RCPT TO:<x@nowhere.example>") == "554 5.7.1 <x@nowhere.example>: Relay access denied"
    assert client.cmd(b"RCPT TO:<x@accept.mailfate.test>").startswith("250 2.1.5")
    client.close()


@pytest.mark.simulator(overrides=SMALL)
def test_pipelining_many_commands_in_one_packet(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    burst = b"NOOP\r\n" * 2000 + b"MAIL FROM:<a@app.example>\r\nRCPT TO:<x@accept.mailfate.test>\r\nDATA\r\n"
    client.send(burst + b"Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    replies = [client.reply() for _ in range(2000 + 5)]
    assert replies[:2000] == ["250 OK"] * 2000
    assert [r[:3] for r in replies[2000:]] == ["250", "250", "354", "250", "221"]
    client.close()
    assert len(mailfate_simulator.stored("accept.mailfate.test")) == 1


@pytest.mark.simulator(overrides=SMALL)
def test_null_sender_is_accepted(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    assert client.cmd(b"MAIL FROM:<>").startswith("250")
    assert client.cmd(b"RCPT TO:<x@accept.mailfate.test>").startswith("250")
    assert client.cmd(b"DATA").startswith("354")
    assert client.cmd(b"Subject: dsn\r\n\r\nbounce\r\n.").startswith("250 2.0.0")
    client.close()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorThread]:
    tmp = tmp_path_factory.mktemp("fuzz")
    with SimulatorThread(load_config(overrides=SMALL), maildir=tmp / "m", journal=tmp / "j.jsonl") as sim:
        yield sim


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")), min_size=1, max_size=10))
def test_random_byte_lines_never_kill_the_server(fuzz_server: SimulatorThread, lines: list[bytes]) -> None:
    for line in lines:
        assume(not line.strip().upper().startswith((b"QUIT", b"DATA", b"STARTTLS", b"AUTH", b"BDAT")))
    with socket.create_connection(("127.0.0.1", fuzz_server.port), timeout=10) as raw:
        raw.sendall(b"".join(line + b"\r\n" for line in lines) + b"NOOP\r\nQUIT\r\n")
        data = b""
        while chunk := raw.recv(65536):
            data += chunk
    replies = [x for x in data.split(b"\r\n") if x]
    assert replies[-1].startswith(b"221"), replies
    assert replies[-2] == b"250 OK", replies
    fresh = RawClient(fuzz_server.port)
    assert fresh.cmd(b"NOOP") == "250 OK"
    fresh.close()


@pytest.mark.simulator(overrides={"server": {"timeout": 1}})
def test_an_idle_session_is_closed_and_an_active_one_is_not(mailfate_simulator: SimulatorThread) -> None:
    client = _open(mailfate_simulator)
    for _ in range(5):  # 2 s of activity, twice the timeout: every command pushes the deadline
        time.sleep(0.4)
        assert client.cmd(b"NOOP") == "250 OK"
    started = time.monotonic()
    assert client.closed()  # blocks until the server hangs up
    assert 0.8 <= time.monotonic() - started <= 3
    client.close()


def test_50_mb_of_data_is_refused_with_memory_bounded_by_the_limit(tmp_path: Path) -> None:
    limit = 1024 * 1024
    config = load_config(overrides={"server": {"max_message_size": limit}})
    with SimulatorThread(config, maildir=tmp_path / "m", journal=tmp_path / "j.jsonl") as sim:
        client = RawClient(sim.port, timeout=60)
        assert client.cmd(b"EHLO out.app.example").startswith("250")
        _transaction(client)
        line = b"y" * 998 + b"\r\n"
        block = line * 1024  # 1 MB
        tracemalloc.start()
        try:
            client.send(b"Subject: huge\r\n\r\n")
            for _ in range(50):
                client.send(block)
            client.send(b".\r\n")
            assert client.reply() == "552 5.3.4 Message size exceeds fixed limit"
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 4 * limit, f"peak {peak} bytes while reading 50 MB against a {limit} byte limit"
        assert client.cmd(b"NOOP") == "250 OK"
        client.close()
        assert sim.stored("accept.mailfate.test") == []
