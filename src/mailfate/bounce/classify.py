"""The classifier: an SMTP reply or a parser's draft in, a reason and hard/soft out.

Order of decision for a draft (one recipient of a parsed bounce):

1. a reason the format itself states (an ARF report, an auto-reply, a vendor's own error class),
   unless it is one of the generic reasons a more specific signal may refine (a stated
   ``userunknown`` yields only to mailbox states, size limits, suspension, relaying and
   authentication failures);
2. a 2.x.x status: ``delivered``;
3. the text rules, in order (provider rules keyed on the remote host come first);
4. a generic reason the parser stated;
5. the status rules (RFC 3463 enhanced codes);
6. fallbacks: 4.6/5.6 contenterror, 4.7/5.7 securityerror, an X-Unix diagnostic mailererror, a
   delayed action expired, an EHLO/HELO failure blocked, any diagnostic at all onhold, else
   undefined.

Text matching runs one Aho-Corasick pass over the normalized text to find which rules can match,
then checks only those, in order, so a reply costs a few microseconds however many rules exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import ahocorasick_rs

from mailfate.bounce.reasons import RETRYABLE_REASONS, Kind, Reason, is_hard, kind_of
from mailfate.bounce.record import BounceRecord, Draft
from mailfate.bounce.reply import find_replycode, normalize_status, parse_reply
from mailfate.bounce.rules import Rule, load_rules, normalize_text, regex_anchors

__all__ = ["Classification", "Classifier", "classify_reply", "default_classifier"]

_OVERRIDE_USERUNKNOWN = frozenset(
    {
        Reason.MAILBOXFULL,
        Reason.MESGTOOBIG,
        Reason.EXCEEDLIMIT,
        Reason.SUSPEND,
        Reason.HASMOVED,
        Reason.NORELAYING,
        Reason.AUTHFAILURE,
    }
)
"""A parser that says "unknown user" is believed unless the text shows one of these instead."""


class Classification(NamedTuple):
    """The verdict on one reply (an immutable value; a named tuple because the delivery engine makes
    one per SMTP reply and a frozen dataclass costs four times as much to build)."""

    reason: Reason
    hardbounce: bool
    kind: Kind
    rule_id: str
    """The rule (or fallback step, ``fallback:...``) that decided."""
    evidence: str
    """What matched: a phrase, a regex match or a status code."""
    status: str = ""
    replycode: str = ""
    source: str = ""

    @property
    def soft(self) -> bool:
        return not self.hardbounce

    def to_dict(self) -> dict[str, object]:
        return {
            "reason": str(self.reason),
            "hardbounce": self.hardbounce,
            "kind": str(self.kind),
            "rule_id": self.rule_id,
            "evidence": self.evidence,
            "status": self.status,
            "replycode": self.replycode,
            "source": self.source,
        }


class Classifier:
    """A compiled, immutable rule set."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._text_rules = [i for i, r in enumerate(self.rules) if r.phase == "text"]
        self._status_rules = [i for i, r in enumerate(self.rules) if r.phase == "status"]
        self._always: list[int] = []
        table: dict[str, list[int]] = {}
        for i in self._text_rules:
            rule = self.rules[i]
            keys = rule.any or rule.all[:1]
            if not keys and rule.regex is not None:
                keys = tuple(regex_anchors(rule.regex.pattern) or ())
            if not keys:
                self._always.append(i)
                continue
            for phrase in keys:
                table.setdefault(phrase, []).append(i)
        # Text-phase rules with no phrase but exact status codes are looked up by status.
        always: list[int] = []
        self._always_by_status: dict[str, list[int]] = {}
        for i in self._always:
            patterns = self.rules[i].status
            if patterns and all(p.endswith(" ") for p in patterns):
                for p in patterns:
                    self._always_by_status.setdefault(p.strip(), []).append(i)
            else:
                always.append(i)
        self._always = always
        self._phrases: list[str] = list(table)
        self._phrase_rules: list[tuple[int, ...]] = [tuple(table[p]) for p in self._phrases]
        self._automaton = ahocorasick_rs.AhoCorasick(self._phrases) if self._phrases else None
        # Rules decided by the phrase the automaton found, and rules with no non-text condition:
        # both skip a Python call in the hot loop.
        self._phrase_only = frozenset(
            i
            for i in self._text_rules
            if self.rules[i].any and not self.rules[i].all and self.rules[i].regex is None
        )
        self._needs_remote = frozenset(i for i in self._text_rules if self.rules[i].remote is not None)
        self._needs_reporting = frozenset(i for i in self._text_rules if self.rules[i].reporting is not None)
        self._no_codes = frozenset(
            i
            for i in self._text_rules
            if not (
                self.rules[i].status
                or self.rules[i].codes
                or self.rules[i].not_status
                or self.rules[i].not_codes
                or self.rules[i].remote
                or self.rules[i].reporting
                or self.rules[i].command
            )
        )

        # Status rules indexed by the first three characters of the status ("5.1"); rules that
        # need no particular status ("" or prefixes shorter than x.y) are in every list.
        wild: list[int] = []
        keyed: dict[str, list[int]] = {}
        for i in self._status_rules:
            patterns = self.rules[i].status
            if not patterns or any(len(p.strip()) < 3 for p in patterns):
                wild.append(i)
            else:
                for p in patterns:
                    keyed.setdefault(p[:3], []).append(i)
        self._status_wild = wild
        self._status_index = {k: sorted(set(v) | set(wild)) for k, v in keyed.items()}

    @classmethod
    def from_files(cls, user_files: Sequence[Path] = ()) -> Classifier:
        return cls(load_rules(user_files))

    # -- core --------------------------------------------------------------------------------
    def _candidates(self, text: str, status: str = "") -> set[int]:
        """Indexes of the text rules that can match: a phrase (or regex anchor) of theirs occurs, or
        they have none."""
        found = set(self._always)
        by_status = self._always_by_status.get(status)
        if by_status:
            found.update(by_status)
        if self._automaton is not None and text:
            phrase_rules = self._phrase_rules
            for k, _start, _end in self._automaton.find_matches_as_indexes(text, overlapping=True):
                found.update(phrase_rules[k])
        return found

    def match_text(
        self, text: str, status: str, code: str, *, remote: str = "", command: str = "", reporting: str = ""
    ) -> tuple[Rule, str] | None:
        """The first text rule that decides, with its evidence."""
        found = self._candidates(text, status)
        # Without a remote (reporting) host, provider rules keyed on one cannot match: drop them
        # before paying for a call.
        if not remote:
            found -= self._needs_remote
        if not reporting:
            found -= self._needs_reporting
        rules, phrase_only, no_codes = self.rules, self._phrase_only, self._no_codes
        for i in sorted(found):
            rule = rules[i]
            if i not in no_codes and not rule.matches_codes(status, code, remote, command, reporting):
                continue
            if i in phrase_only:
                # The automaton saw one of its phrases; name the first in the rule's order.
                return rule, next((p for p in rule.any if p in text), "")
            evidence = rule.matches_text(text)
            if evidence is not None:
                return rule, evidence
        return None

    def match_status(
        self, text: str, status: str, code: str, *, remote: str = "", command: str = "", reporting: str = ""
    ) -> tuple[Rule, str] | None:
        for i in self._status_index.get(status[:3], self._status_wild):
            rule = self.rules[i]
            if not rule.matches_codes(status, code, remote, command, reporting):
                continue
            evidence = rule.matches_text(text) if rule.needs_text else (status or code)
            if evidence is not None:
                return rule, evidence
        return None

    def decide(
        self,
        *,
        status: str,
        code: str,
        text: str,
        remote: str = "",
        command: str = "",
        reporting: str = "",
        stated: Reason | None = None,
        action: str = "",
        diagnostic_type: str = "",
    ) -> tuple[Reason, str, str, str]:
        """(reason, rule id, evidence, source) by the order in the module docstring."""
        if stated is not None and stated not in RETRYABLE_REASONS:
            return stated, "parser", str(stated), ""
        norm = normalize_text(text)
        if status.startswith("2.") or (
            not status and code.startswith("2") and stated is None and (not norm or norm.startswith(code))
        ):
            return Reason.DELIVERED, "fallback:2xx", status or code, ""
        hit = self.match_text(norm, status, code, remote=remote, command=command, reporting=reporting)
        if hit is not None:
            rule, evidence = hit
            if stated is Reason.USERUNKNOWN and rule.reason not in _OVERRIDE_USERUNKNOWN | {stated}:
                return stated, "parser", str(stated), ""
            return rule.reason, rule.id, evidence, rule.source
        if stated is not None and stated not in (Reason.UNDEFINED, Reason.ONHOLD):
            return stated, "parser", str(stated), ""
        hit = self.match_status(norm, status, code, remote=remote, command=command, reporting=reporting)
        if hit is not None:
            rule, evidence = hit
            return rule.reason, rule.id, evidence, rule.source
        if status[:3] in ("5.6", "4.6"):
            return Reason.CONTENTERROR, "fallback:x.6", status, ""
        if status[:3] in ("5.7", "4.7"):
            return Reason.SECURITYERROR, "fallback:x.7", status, ""
        if diagnostic_type.upper().startswith("X-UNIX"):
            return Reason.MAILERERROR, "fallback:x-unix", diagnostic_type, ""
        if action in ("delayed", "expired"):
            return Reason.EXPIRED, "fallback:delayed", action, ""
        if command.upper() in ("EHLO", "HELO"):
            return Reason.BLOCKED, "fallback:helo", command, ""
        if stated is not None:
            return stated, "parser", str(stated), ""
        if norm:
            return Reason.ONHOLD, "fallback:onhold", "", ""
        return Reason.UNDEFINED, "fallback:undefined", "", ""

    def classify_reply(
        self,
        code: str | int | None,
        enhanced_status: str | None = None,
        text: str = "",
        *,
        remote_mta: str = "",
        command: str = "",
        reporting_mta: str = "",
    ) -> Classification:
        """Classify one SMTP reply. ``code`` may be the whole reply line when the rest is empty."""
        code_s = str(code).strip() if code else ""
        status = normalize_status(enhanced_status) if enhanced_status else ""
        if len(code_s) > 3 or (code_s and not code_s.isdigit()):
            parsed = parse_reply(code_s + (" " + text if text else ""))
            code_s, status, text = parsed.code, status or parsed.status, parsed.text
        if not status:
            status = normalize_status(text)
        if not code_s:
            code_s = find_replycode(text)
        reason, rule_id, evidence, source = self.decide(
            status=status, code=code_s, text=text, remote=remote_mta, command=command, reporting=reporting_mta
        )
        hard = is_hard(reason, status, code_s, text)
        return Classification(
            reason=reason,
            hardbounce=hard,
            kind=kind_of(reason, hard),
            rule_id=rule_id,
            evidence=evidence,
            status=status,
            replycode=code_s,
            source=source,
        )

    def resolve(self, draft: Draft, parser: str) -> BounceRecord:
        """Turn a parser's draft into a final record."""
        status = normalize_status(draft.status)
        code = draft.replycode.strip()
        text = draft.diagnostic
        if not code:
            code = find_replycode(text)
        if not status and text:
            status = normalize_status(text)
        reason, rule_id, _evidence, _source = self.decide(
            status=status,
            code=code,
            text=text,
            remote=draft.remote_mta,
            command=draft.command,
            reporting=draft.reporting_mta,
            stated=draft.reason,
            action=draft.action.lower(),
            diagnostic_type=draft.diagnostic_type,
        )
        hard = is_hard(reason, status, code, text)
        return BounceRecord(
            recipient=draft.recipient,
            action=draft.action.lower(),
            status=status,
            replycode=code,
            diagnostic=" ".join(text.split()),
            reason=reason,
            hardbounce=hard,
            kind=kind_of(reason, hard),
            remote_mta=draft.remote_mta,
            reporting_mta=draft.reporting_mta,
            original_message_id=draft.original_message_id,
            original_envelope_sender=draft.original_envelope_sender,
            timestamp=draft.timestamp,
            feedback_type=draft.feedback_type,
            parser=parser,
            rule_id=rule_id,
            command=draft.command.upper(),
        )


_DEFAULT: Classifier | None = None


def default_classifier() -> Classifier:
    """The packaged rules, compiled once per process."""
    global _DEFAULT  # noqa: PLW0603 - a process-wide compiled cache
    if _DEFAULT is None:
        _DEFAULT = Classifier(load_rules())
    return _DEFAULT


def classify_reply(
    code: str | int | None, enhanced_status: str | None = None, text: str = ""
) -> Classification:
    """Classify one SMTP reply with the packaged rules.

    >>> classify_reply(550, "5.1.1", "<x@y>: Recipient address rejected: User unknown").reason
    <Reason.USERUNKNOWN: 'userunknown'>
    """
    return default_classifier().classify_reply(code, enhanced_status, text)
