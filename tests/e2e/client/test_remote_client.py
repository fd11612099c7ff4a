"""``Client(url=..., key=...)`` against a running ``mailfate serve``: the in-process client's
interface over the HTTP API — send, send_raw, message, wait (one long-poll) and its errors — and
retries that never queue a second copy when an answer is lost."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailfate import Client
from mailfate.client.remote import RemoteClient
from mailfate.errors import ConfigError, InputError
from mailfate.submit.service import SuppressedError
from tests.support.serve import mailfate, running, serve_args


def _key(data: Path, *scopes: str) -> str:
    made = mailfate("keys", "create", "--scope", ",".join(scopes), "--json", "--data-dir", str(data))
    assert made.returncode == 0, made.stderr
    key: str = json.loads(made.stdout)["key"]
    return key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    data = tmp_path_factory.mktemp("remote") / "d"
    key = _key(data, "send", "read", "admin")
    with running(*serve_args(data)) as ready:
        yield ready["http"], key


def test_send_and_wait_over_http(server: tuple[str, str]) -> None:
    url, key = server
    with Client(url=url, key=key) as client:
        assert isinstance(client, RemoteClient)
        sent = client.send(from_="App <no-reply@app.example>", to="kim@naver.com", subject="Code",
                           text="428913", tags=["signup"], deadline="10m")  # fmt: skip
        assert sent.created
        started = time.monotonic()
        state = client.wait(sent.message_id, timeout=25)
        assert state.fate == "delivered" and state.no_worker is None
        assert time.monotonic() - started < 20  # answered when the fate was known, not at the timeout
        assert [r.address for r in state.recipients] == ["kim@naver.com"]
        assert state.recipients[0].last_code == 250 and state.tags == ("signup",)
        assert state.deadline is not None and [e.type for e in state.events][:2] == ["queued", "attempt"]
        attempt = next(e for e in state.events if e.type == "attempt")  # the API says who answered
        assert attempt.data["simulated"] is True and attempt.data["answered_by"] == "simulated receiver"
        again = client.message(sent.message_id)
        assert again.id == sent.message_id and again.fate == "delivered"


def test_an_idempotency_key_and_a_suppressed_recipient(server: tuple[str, str]) -> None:
    url, key = server
    with Client(url=url, key=key) as client:
        first = client.send(from_="no-reply@app.example", to="lee@naver.com", subject="s", text="t",
                            idempotency_key="signup-remote-1")  # fmt: skip
        second = client.send(from_="no-reply@app.example", to="lee@naver.com", subject="s", text="t",
                             idempotency_key="signup-remote-1")  # fmt: skip
        assert (second.message_id, second.created) == (first.message_id, False)
        gone = {"address": "gone@naver.com", "reason": "hard bounce"}
        headers = {"Authorization": f"Bearer {key}"}
        httpx.post(f"{url}/v1/suppressions", headers=headers, json=gone).raise_for_status()
        with pytest.raises(SuppressedError) as refused:
            client.send(from_="no-reply@app.example", to="gone@naver.com", subject="s", text="t")
        assert refused.value.suppressed[0][0] == "gone@naver.com" and refused.value.message_id
        with pytest.raises(InputError, match="from"):
            client.send(from_="not an address", to="kim@naver.com", subject="s", text="t")
        with pytest.raises(InputError, match="no message"):
            client.message("m0000000000000000000000000")
    with Client(url=url, key="mf_wrong") as wrong, pytest.raises(ConfigError, match="refused the key"):
        wrong.message(first.message_id)


def test_send_raw_is_delivered_and_the_same_bytes_again_are_the_first_message(
    server: tuple[str, str],
) -> None:
    url, key = server
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "App <no-reply@app.example>", "kim@gmail.com", "Welcome"
    mail["Message-ID"] = "<raw-1@app.example>"
    mail.set_content("hello")
    mail.add_alternative("<p>hello</p>", subtype="html")
    with Client(url=url, key=key) as client:
        sent = client.send_raw(bytes(mail), mail_from="no-reply@app.example", rcpt_to=["kim@gmail.com"],
                               tags=["welcome"])  # fmt: skip
        again = client.send_raw(bytes(mail), mail_from="no-reply@app.example", rcpt_to=["kim@gmail.com"])
        assert (again.message_id, again.created) == (sent.message_id, False)
        assert client.wait(sent.message_id, timeout=25).fate == "delivered"


class _LoseFirstAnswer(httpx.BaseTransport):
    """The request reaches the server, then the answer is lost (a timeout on the way back)."""

    def __init__(self) -> None:
        self.real = httpx.HTTPTransport()
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.real.handle_request(request)
        if request.method == "POST":
            self.posts += 1
            if self.posts == 1:
                answer.read()
                answer.close()
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return answer

    def close(self) -> None:
        self.real.close()


def test_a_lost_answer_is_retried_with_the_same_key_and_queues_one_copy(server: tuple[str, str]) -> None:
    url, key = server
    transport = _LoseFirstAnswer()
    with RemoteClient(url=url, key=key, transport=transport) as client:
        sent = client.send(from_="no-reply@app.example", to="once@naver.com", subject="s", text="t")
    assert transport.posts == 2 and not sent.created  # the retry found the message the first made
    found = httpx.get(f"{url}/v1/messages", params={"recipient": "once@naver.com"},
                      headers={"Authorization": f"Bearer {key}"}).json()  # fmt: skip
    assert [m["message_id"] for m in found["messages"]] == [sent.message_id]


def test_wait_returns_at_once_when_no_worker_runs(tmp_path: Path) -> None:
    data = tmp_path / "d"
    key = _key(data, "send", "read")
    serve = (*serve_args(data), "--no-workers")
    with running(*serve) as ready, Client(url=ready["http"], key=key) as client:
        sent = client.send(from_="no-reply@app.example", to="kim@naver.com", subject="s", text="t")
        started = time.monotonic()
        state = client.wait(sent.message_id, timeout=25)
    assert state.fate == "queued" and state.no_worker and "no worker has ever run" in state.no_worker
    assert time.monotonic() - started < 5


def test_the_long_poll_answers_when_the_fate_is_known(server: tuple[str, str]) -> None:
    url, key = server
    headers: dict[str, Any] = {"Authorization": f"Bearer {key}"}
    body = {"from": "no-reply@app.example", "to": ["park@naver.com"], "subject": "s", "text": "t"}
    sent = httpx.post(f"{url}/v1/messages", headers=headers, json=body)
    message_id = sent.json()["message_id"]
    answer = httpx.get(f"{url}/v1/messages/{message_id}", params={"wait": 25}, headers=headers, timeout=40)
    assert answer.status_code == 200 and answer.json()["fate"] == "delivered"
    assert (
        httpx.get(f"{url}/v1/messages/{message_id}", params={"wait": 31}, headers=headers).status_code == 422
    )
