"""The simulator's data files agree with mailfate's own bounce classifier.

Every reply the simulator can give (the default book and every provider preset) must be a real
SMTP reply whose declared ``reason`` is what :func:`mailfate.bounce.classify.classify_reply`
says of it, whichever way a client reads it: the wire text (multi-line for Gmail), the text
after the code as aiosmtplib reports it, or code + status + text apart. The domain table must
only name known personalities and presets, and its aliases must not collide.

The files are read with :mod:`tomllib` directly, and through the simulator's config loader once
it exists.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from importlib import resources
from typing import Any

import pytest

from mailfate.bounce.classify import classify_reply
from mailfate.model.reasons import Reason, is_hard
from mailfate.simulator.model import OutgoingReport, Reply, Services, SystemClock
from mailfate.simulator.personalities import PERSONALITIES, personality_class

# The reply keys every book has (see the personality and server code that asks for them).
REPLY_KEYS = frozenset(
    {
        "accepted",
        "greylisted",
        "unknown_user",
        "mailbox_full_temp",
        "mailbox_full",
        "rate_limited",
        "blocklisted",
        "no_ptr",
        "auth_strict",
        "auth_lenient",
        "relay_denied",
        "suppressed",
        "dropped",
        "tarpit_banner",
        "message_too_big",
        "bare_lf",
        "line_too_long",
        "too_many_recipients",
        "internal_error",
    }
)
# Fields the server fills at render time, plus {detail} which the auth personalities fill.
FIELDS = {
    "rcpt": "someone@naver.test",
    "domain": "naver.test",
    "local_part": "someone",
    "mail_from": "bounces@sender.example",
    "client_ip": "192.0.2.45",
    "helo": "out.sender.example",
    "hostname": "mx.mailfate.test",
    "queue_id": "4XkP2m0Zq1z9",
    "detail": "SPF fail for 192.0.2.45, DKIM none, DMARC fail (p=reject)",
}
REPLY_FIELDS = frozenset({"code", "status", "text", "reason", "source", "drop"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _load(name: str) -> dict[str, Any]:
    data = resources.files("mailfate").joinpath("data", "simulator", name).read_bytes()
    return tomllib.loads(data.decode("utf-8"))


REPLIES = _load("replies.toml")
DOMAINS = _load("domains.toml")
DEFAULT_BOOK: dict[str, dict[str, Any]] = REPLIES["replies"]
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    name: preset.get("replies", {}) for name, preset in REPLIES.get("presets", {}).items()
}
ALL_REPLIES = [("default", key, value) for key, value in DEFAULT_BOOK.items()] + [
    (name, key, value) for name, book in PRESETS.items() for key, value in book.items()
]
IDS = [f"{book}.{key}" for book, key, _ in ALL_REPLIES]
REFUSALS = [entry for entry in ALL_REPLIES if entry[2]["code"] >= 400]
REFUSAL_IDS = [f"{book}.{key}" for book, key, _ in REFUSALS]


def _reply(value: dict[str, Any]) -> Reply:
    reason = value.get("reason")
    return Reply(
        code=value["code"],
        status=value["status"],
        text=value["text"],
        reason=Reason(reason) if reason else None,
        source=value.get("source", ""),
        drop=value.get("drop", False),
    )


def test_default_book_has_every_key_and_no_other() -> None:
    assert set(DEFAULT_BOOK) == REPLY_KEYS


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_keys_exist_in_the_default_book(name: str) -> None:
    assert PRESETS[name], f"preset {name} overrides nothing"
    assert set(PRESETS[name]) <= REPLY_KEYS


@pytest.mark.parametrize(("book", "key", "value"), ALL_REPLIES, ids=IDS)
def test_reply_is_a_real_smtp_reply(book: str, key: str, value: dict[str, Any]) -> None:
    assert set(value) <= REPLY_FIELDS
    code, status, text = value["code"], value["status"], value["text"]
    assert isinstance(code, int) and 200 <= code <= 599
    if key == "tarpit_banner":
        assert code == 220 and status == ""
    else:
        assert re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", status), status
        assert status[0] == str(code)[0], "enhanced status class must equal the code's class"
    words = re.findall(r"[A-Za-z]{2,}", text)
    assert len(words) >= 2, "a reply text says something"
    unknown = set(_PLACEHOLDER.findall(text)) - set(FIELDS)
    assert not unknown, f"fields nobody fills: {unknown}"
    if code >= 400:
        assert value.get("reason"), "a refusal declares what the classifier must say of it"
        assert Reason(value["reason"]) not in (Reason.DELIVERED, Reason.UNDEFINED)
    else:
        assert "reason" not in value
    assert value.get("drop", False) is (key == "dropped")


@pytest.mark.parametrize(("book", "key", "value"), REFUSALS, ids=REFUSAL_IDS)
def test_classifier_agrees_with_the_declared_reason(book: str, key: str, value: dict[str, Any]) -> None:
    reply = _reply(value)
    assert reply.reason is not None
    wire = reply.render(**FIELDS)
    after_code = "\n".join(line[4:] for line in wire.split("\r\n"))  # what aiosmtplib reports
    readings = {
        "wire": classify_reply(wire),
        "client": classify_reply(reply.code, None, after_code),
        "parts": classify_reply(reply.code, reply.status, reply.fill(**FIELDS).text),
    }
    for how, result in readings.items():
        assert result.reason is reply.reason, f"{how}: {result.reason} by {result.rule_id}"
        assert result.hardbounce is is_hard(reply.reason, reply.status, str(reply.code))
        assert result.status == reply.status, how


def test_hard_and_soft_follow_the_reason() -> None:
    """The replies a sender must stop on are hard; deferrals and full mailboxes are soft."""
    wire = _reply(DEFAULT_BOOK["unknown_user"]).render(**FIELDS)
    assert classify_reply(wire).hardbounce
    for key in ("greylisted", "mailbox_full", "auth_lenient", "rate_limited"):
        assert not classify_reply(_reply(DEFAULT_BOOK[key]).render(**FIELDS)).hardbounce, key


def test_gmail_replies_are_multi_line_on_the_wire() -> None:
    wire = _reply(PRESETS["gmail"]["unknown_user"]).render(**FIELDS)
    lines = wire.split("\r\n")
    assert len(lines) >= 3
    assert all(line.startswith("550-5.1.1 ") for line in lines[:-1])
    assert lines[-1].startswith("550 5.1.1 ") and lines[-1].endswith(" - gsmtp")


def test_provider_texts_cite_a_source() -> None:
    for name, book in PRESETS.items():
        for key, value in book.items():
            assert value.get("source"), f"{name}.{key}: a provider's wording needs its source"


# -- domains ------------------------------------------------------------------------------------

SERVED: dict[str, dict[str, Any]] = DOMAINS["domains"]


def test_server_defaults() -> None:
    server = DOMAINS["server"]
    assert server["hostname"] == "mx.mailfate.test"
    assert server["greylist_delay"] == 300
    assert server["unknown_domains"] == "accept.mailfate.test"
    assert server["max_message_size"] > 0 and server["max_recipients"] > 0
    assert DOMAINS["reports"]["smtp"] == "" and DOMAINS["reports"]["delay"] > 0
    assert DOMAINS["dns"]["nameserver"] == ""


def test_one_domain_per_personality_and_the_providers() -> None:
    for slug in PERSONALITIES:
        if slug == "mailbox-simulator":
            continue
        assert SERVED[f"{slug}.mailfate.test"]["personalities"] == [slug]
    assert SERVED["simulator.mailfate.test"]["personalities"] == ["mailbox-simulator"]
    for domain in ("naver.test", "daum.test", "kakao.test", "gmail.test", "corp.test"):
        assert SERVED[domain]["preset"] == domain.removesuffix(".test")
    assert SERVED["daum.test"]["aliases"] == ["hanmail.test"]
    assert SERVED["corp.test"]["personalities"][-2:] == ["greylist", "strict-auth"]


@pytest.mark.parametrize("domain", sorted(SERVED))
def test_domain_names_known_personalities_and_presets(domain: str) -> None:
    table = SERVED[domain]
    slugs = table["personalities"]
    assert slugs and len(set(slugs)) == len(slugs)
    assert set(slugs) <= set(PERSONALITIES)
    assert table.get("preset", "") in {"", *PRESETS}
    options = {key for key, value in table.items() if isinstance(value, dict)}
    assert options <= set(slugs), f"options for personalities the domain does not run: {options - set(slugs)}"
    for slug in options:
        for pattern in table[slug].get("patterns", []):
            re.compile(pattern)


def test_aliases_do_not_collide() -> None:
    seen = {name.lower() for name in SERVED}
    assert len(seen) == len(SERVED)
    for table in SERVED.values():
        for alias in table.get("aliases", []):
            assert alias.lower() not in seen, alias
            seen.add(alias.lower())


def test_ordinary_recipients_of_providers_are_not_selected_by_local_part() -> None:
    """user@naver.test is accepted unless its local part asks for a behaviour."""
    for domain in ("naver.test", "daum.test", "kakao.test", "gmail.test", "corp.test"):
        table = SERVED[domain]
        for slug in ("unknown-users", "mailbox-full"):
            if slug not in table["personalities"]:
                continue
            options = table.get(slug, {})
            assert options.get("addresses") or options.get("patterns"), f"{domain} {slug} hits everyone"
            for pattern in options.get("patterns", []):
                assert not re.search(pattern, "user"), (domain, pattern)
                assert not re.search(pattern, "someone.else"), (domain, pattern)


# -- through the simulator's config loader ------------------------------------------------------


def test_config_loader_builds_the_same_books() -> None:
    config_module = pytest.importorskip("mailfate.simulator.config")
    config = config_module.load_config()
    for domain, table in SERVED.items():
        names = [domain, *table.get("aliases", [])]
        for name in names:
            assert name in config.domains
            book = config.reply_book(name)
            preset = PRESETS.get(table.get("preset", ""), {})
            for key in REPLY_KEYS:
                expected = preset.get(key, DEFAULT_BOOK[key])
                reply = book.get(key)
                assert (reply.code, reply.status, reply.text) == (
                    expected["code"],
                    expected["status"],
                    expected["text"],
                ), (name, key)
                if reply.code >= 400:
                    assert classify_reply(reply.render(**FIELDS)).reason is reply.reason, (name, key)


class _NoReports:
    def schedule(self, report: OutgoingReport) -> None:
        raise AssertionError("a personality must not send anything when built")


DOMAIN_PERSONALITIES = [
    (domain, slug) for domain, table in sorted(SERVED.items()) for slug in table["personalities"]
]


@pytest.mark.parametrize(
    ("domain", "slug"), DOMAIN_PERSONALITIES, ids=[f"{d}:{s}" for d, s in DOMAIN_PERSONALITIES]
)
def test_personalities_accept_the_packaged_options(domain: str, slug: str) -> None:
    """Each personality validates its options in __init__: the packaged ones must pass."""
    module = PERSONALITIES[slug].partition(":")[0]
    if importlib.util.find_spec(f"mailfate.simulator.personalities.{module}") is None:
        pytest.skip(f"personality module {module} not written yet")
    cls = personality_class(slug)
    options = SERVED[domain].get(slug, {})
    services = Services(clock=SystemClock(), reports=_NoReports(), hostname=DOMAINS["server"]["hostname"])
    personality = cls(options, services)
    assert personality.name == slug
