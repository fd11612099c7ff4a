"""The rule engine itself: order, conditions, overlays and errors, on small rule sets written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailfate.bounce.classify import Classifier
from mailfate.bounce.record import Draft
from mailfate.bounce.rules import compile_rule, load_rules, overlay
from mailfate.errors import ConfigError
from mailfate.model.reasons import Kind, Reason


def make(*tables: dict[str, object]) -> Classifier:
    return Classifier([compile_rule(dict(t), "test") for t in tables])


def test_first_matching_rule_wins_in_file_order() -> None:
    clf = make(
        {"id": "a", "reason": "mailboxfull", "any": ["quota"]},
        {"id": "b", "reason": "userunknown", "any": ["user unknown", "quota"]},
    )
    assert clf.classify_reply(550, "", "user unknown, quota").rule_id == "a"
    assert clf.classify_reply(550, "", "User  Unknown").rule_id == "b"


def test_phrases_match_case_and_whitespace_insensitively() -> None:
    clf = make({"id": "a", "reason": "userunknown", "any": ["No  Such User"]})
    got = clf.classify_reply("550", "5.1.1", "<a@example.org>: NO such\n   user here")
    assert got.reason is Reason.USERUNKNOWN
    assert got.matched == "no such user"
    assert got.evidence == "phrase"


def test_all_phrases_must_occur() -> None:
    clf = make({"id": "a", "reason": "blocked", "all": ["ip", "listed"]})
    assert clf.classify_reply(554, "", "your ip is listed").reason is Reason.BLOCKED
    assert clf.classify_reply(554, "", "your ip is fine").rule_id == "fallback:onhold"


def test_status_and_code_conditions_are_prefixes() -> None:
    clf = make(
        {"id": "temp", "reason": "toomanyconn", "any": ["too many"], "codes": ["4"]},
        {"id": "perm", "reason": "speeding", "any": ["too many"], "status": ["5.7.*"]},
    )
    assert clf.classify_reply(421, "4.7.0", "too many connections").rule_id == "temp"
    assert clf.classify_reply(550, "5.7.1", "too many messages").rule_id == "perm"
    assert clf.classify_reply(550, "5.1.1", "too many recipients").rule_id == "fallback:onhold"


def test_not_status_excludes() -> None:
    clf = make({"id": "a", "reason": "rejected", "any": ["sender"], "not_status": ["5.1.1"]})
    assert clf.classify_reply(550, "5.1.8", "bad sender").rule_id == "a"
    assert clf.classify_reply(550, "5.1.1", "bad sender").rule_id != "a"


def test_regex_and_remote_conditions() -> None:
    clf = make(
        {"id": "g", "reason": "blocked", "regex": r"ip\s+\S+\s+blocked", "remote": r"\.example\.net$"},
    )
    assert clf.classify_reply(550, "", "IP 192.0.2.1 blocked", remote_mta="mx.example.net").rule_id == "g"
    assert clf.classify_reply(550, "", "IP 192.0.2.1 blocked", remote_mta="mx.example.org").rule_id != "g"


def test_status_phase_runs_after_text_and_after_a_stated_reason() -> None:
    clf = make(
        {"id": "s", "reason": "userunknown", "phase": "status", "status": ["5.1.1"]},
        {"id": "t", "reason": "mailboxfull", "any": ["full"]},
    )
    assert clf.classify_reply(550, "5.1.1", "mailbox full").rule_id == "t"
    assert clf.classify_reply(550, "5.1.1", "whatever").rule_id == "s"
    rec = clf.resolve(Draft(recipient="a@example.org", status="5.1.1", reason=Reason.HASMOVED), "p")
    assert rec.reason is Reason.HASMOVED and rec.rule_id == "parser"
    rec = clf.resolve(
        Draft(recipient="a@example.org", status="5.1.1", reason=Reason.EXPIRED, diagnostic="mailbox full"),
        "p",
    )
    assert rec.reason is Reason.MAILBOXFULL, "a generic stated reason yields to a text rule"


def test_fallbacks() -> None:
    clf = make({"id": "x", "reason": "blocked", "any": ["zzz-never"]})
    assert clf.classify_reply(250, "2.0.0", "ok").reason is Reason.DELIVERED
    assert clf.classify_reply(550, "5.7.1", "").reason is Reason.SECURITYERROR
    assert clf.classify_reply(550, "5.6.0", "").reason is Reason.CONTENTERROR
    assert clf.classify_reply(550, "", "something odd").reason is Reason.ONHOLD
    assert clf.classify_reply(None, "", "").reason is Reason.UNDEFINED
    delayed = clf.resolve(Draft(recipient="a@example.org", action="delayed"), "p")
    assert delayed.reason is Reason.EXPIRED
    unix = clf.resolve(Draft(recipient="a@example.org", diagnostic_type="X-Unix", diagnostic="exit 75"), "p")
    assert unix.reason is Reason.MAILERERROR


def test_whole_reply_line_is_split() -> None:
    clf = make({"id": "u", "reason": "userunknown", "any": ["does not exist"]})
    got = clf.classify_reply(
        "550-5.1.1 The email account that you tried to reach does not exist.\n550 5.1.1 Try"
    )
    assert (got.replycode, got.status, got.reason, got.hardbounce, got.kind) == (
        "550",
        "5.1.1",
        Reason.USERUNKNOWN,
        True,
        Kind.HARD,
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"reason": "blocked", "any": ["x"]}, "no 'id'"),
        ({"id": "a", "reason": "nonsense", "any": ["x"]}, "not one of"),
        ({"id": "a", "reason": "blocked", "regex": "("}, "does not compile"),
        ({"id": "a", "reason": "blocked"}, "no condition"),
        ({"id": "a", "reason": "blocked", "any": ["x"], "colour": "red"}, "unknown keys"),
        ({"id": "a", "reason": "blocked", "any": ["x"], "phase": "later"}, "phase"),
    ],
)
def test_bad_rules_raise_config_error_naming_the_problem(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compile_rule(table, "test")


def test_user_overlay_replaces_inserts_and_disables(tmp_path: Path) -> None:
    base = [
        compile_rule(t, "base")
        for t in (
            {"id": "one", "reason": "blocked", "any": ["alpha"]},
            {"id": "two", "reason": "userunknown", "any": ["beta"]},
        )
    ]
    user = tmp_path / "mine.toml"
    user.write_text(
        'disable = ["two"]\n'
        '[[rule]]\nid = "one"\nreason = "spamdetected"\nany = ["alpha"]\n'
        '[[rule]]\nid = "mine"\nreason = "policyviolation"\nany = ["gamma"]\n'
        '[[rule]]\nid = "late"\nreason = "suspend"\nany = ["alpha"]\nafter = "one"\n',
        encoding="utf-8",
    )
    rules = overlay(base, user)
    assert [r.id for r in rules] == ["mine", "one", "late"]
    assert rules[1].reason is Reason.SPAMDETECTED


def test_overlay_with_unknown_anchor_is_refused(tmp_path: Path) -> None:
    user = tmp_path / "mine.toml"
    user.write_text(
        '[[rule]]\nid = "x"\nreason = "blocked"\nany = ["a"]\nbefore = "nope"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="before"):
        overlay([], user)


def test_packaged_rules_load_with_unique_ids() -> None:
    rules = load_rules()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    assert rules, "the package ships rules"


def test_full_status_matches_exactly_shorter_as_prefix() -> None:
    clf = make(
        {"id": "exact", "reason": "mailboxfull", "any": ["x"], "status": ["5.4.3"]},
        {"id": "star", "reason": "systemerror", "any": ["x"], "status": ["5.4.3*"]},
        {"id": "dot", "reason": "networkerror", "any": ["x"], "status": ["5.4."]},
    )
    assert clf.classify_reply(550, "5.4.3", "x").rule_id == "exact"
    assert clf.classify_reply(550, "5.4.312", "x").rule_id == "star"
    assert clf.classify_reply(550, "5.4.4", "x").rule_id == "dot"


def test_a_stated_userunknown_yields_only_to_specific_states() -> None:
    clf = make(
        {"id": "filter", "reason": "filtered", "any": ["rejected"]},
        {"id": "full", "reason": "mailboxfull", "any": ["full"]},
    )
    kept = clf.resolve(
        Draft(recipient="a@example.org", diagnostic="rejected", reason=Reason.USERUNKNOWN), "p"
    )
    assert (kept.reason, kept.rule_id) == (Reason.USERUNKNOWN, "parser")
    full = clf.resolve(
        Draft(recipient="a@example.org", diagnostic="box full", reason=Reason.USERUNKNOWN), "p"
    )
    assert full.reason is Reason.MAILBOXFULL


def test_a_2xx_code_in_the_middle_of_a_text_is_not_delivery() -> None:
    clf = make({"id": "x", "reason": "blocked", "any": ["zzz-never"]})
    rec = clf.resolve(Draft(recipient="a@example.org", diagnostic="X-Unix; exit 250 from program"), "p")
    assert rec.reason is not Reason.DELIVERED
    ok = clf.resolve(Draft(recipient="a@example.org", diagnostic="250 2.0.0 OK queued"), "p")
    assert ok.reason is Reason.DELIVERED


def test_reporting_condition_and_continuation_prefixes() -> None:
    clf = make(
        {
            "id": "rep",
            "reason": "userunknown",
            "any": ["no such user"],
            "reporting": r"\.relay\.example\.net$",
        },
        {"id": "ptr", "reason": "requireptr", "any": ["does not have a ptr record"]},
    )
    assert clf.classify_reply(550, "", "No such user", reporting_mta="mx.relay.example.net").rule_id == "rep"
    assert clf.classify_reply(550, "", "No such user").rule_id == "fallback:onhold"
    split = "550-5.7.25 The IP address does not have a\n550-5.7.25 PTR record setup"
    assert clf.classify_reply(split).rule_id == "ptr"


def test_regex_anchors() -> None:
    from mailfate.bounce.rules import regex_anchors

    assert regex_anchors(r"ip\s+\S+\s+blocked") == ["blocked"]
    assert regex_anchors(r"(user|mailbox) (unknown|not found)") == ["unknown", "not found"]
    assert regex_anchors(r"a|bc") is None
    assert regex_anchors(r"(x") is None


def test_regex_only_rule_with_anchor_still_matches_and_order_holds() -> None:
    clf = make(
        {"id": "re", "reason": "blocked", "regex": r"client host \[[\d.]+\] blocked"},
        {"id": "ph", "reason": "spamdetected", "any": ["blocked"]},
    )
    assert clf.classify_reply(554, "", "Client host [192.0.2.1] blocked using a list").rule_id == "re"
    assert clf.classify_reply(554, "", "message blocked as spam").rule_id == "ph"


def test_unless_phrases_veto_a_rule_and_a_named_list_is_shared(tmp_path: Path) -> None:
    clf = make(
        {"id": "dead", "reason": "userunknown", "any": ["user unknown"], "unless": ["blocked", "spf"]},
        {"id": "block", "reason": "blocked", "any": ["blocked"]},
    )
    assert clf.classify_reply(550, "", "user unknown").rule_id == "dead"
    assert clf.classify_reply(550, "", "user unknown: you are BLOCKED").rule_id == "block"
    assert clf.classify_reply(550, "", "user unknown (SPF fail)").rule_id != "dead"
    user = tmp_path / "mine.toml"
    user.write_text(
        '[[rule]]\nid = "mine"\nreason = "userunknown"\nany = ["nobody here"]\nunless = "policy-words"\n',
        encoding="utf-8",
    )
    rules = overlay(load_rules(), user)
    mine = next(r for r in rules if r.id == "mine")
    assert "dmarc" in mine.unless
    user.write_text('[[rule]]\nid = "x"\nreason = "userunknown"\nany = ["a"]\nunless = "no-such-list"\n')
    with pytest.raises(ConfigError, match="names no \\[phrases\\] list"):
        overlay(load_rules(), user)
