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

Then the finer :class:`~mailfate.model.causes.Cause`: the deciding rule's own cause, unless it is
a generic one and a cause rule (``phase = "cause"``: greylisting, a named blocklist, SPF, DKIM,
DMARC, a sender quota...) says more; else the cause rule's; else the reason's. A cause that never
makes a hard bounce (policy, authentication, reputation, quota...) turns a hard reason given by a
weaker rule into the cause rule's reason: hard means the address is dead, and only that. Last,
retry advice: a 4xx is retried unless the text says retrying will not succeed, a 5xx is not, and
a named wait ("try again in 10 minutes") is kept.

Text matching runs one Aho-Corasick pass over the normalized text to find which rules can match,
then checks only those, in order, so a reply costs a few microseconds however many rules exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import ahocorasick_rs

from mailfate.bounce.blocklist import blocklist_name
from mailfate.bounce.record import BounceRecord, Draft
from mailfate.bounce.retry import retry_hint
from mailfate.bounce.rules import Rule, load_rules, normalize_text, regex_anchors
from mailfate.model.causes import (
    ADDRESS_DEAD_CAUSES,
    NEVER_HARD_CAUSES,
    Cause,
    Evidence,
    cause_of_reason,
)
from mailfate.model.reasons import (
    ALWAYS_HARD,
    NOT_BOUNCES,
    RETRYABLE_REASONS,
    Kind,
    Reason,
    is_hard,
    kind_of,
)
from mailfate.model.reply import SmtpReply, find_replycode, normalize_status, parse_reply

__all__ = ["Classification", "Classifier", "Verdict", "classify_reply", "default_classifier"]

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
    evidence: Evidence
    """What kind of evidence decided: format, provider-rule, status, phrase, code-class, none."""
    status: str = ""
    replycode: str = ""
    source: str = ""
    cause: Cause = Cause.UNKNOWN
    """The finer cause a sender acts on (greylisted, spf-fail, ip-blocklisted...)."""
    cause_detail: str = ""
    """More about the cause: the blocklist's name for ``ip-blocklisted``."""
    retry: bool = False
    """Whether trying again later can succeed."""
    retry_after: float | None = None
    """Seconds the receiver asks the sender to wait, when it names a wait."""
    matched: str = ""
    """What matched: a phrase, a regex match or a status code."""

    @property
    def soft(self) -> bool:
        return not self.hardbounce

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "reason": str(self.reason),
            "cause": str(self.cause),
            "hardbounce": self.hardbounce,
            "kind": str(self.kind),
            "retry": self.retry,
            "status": self.status,
            "replycode": self.replycode,
            "rule_id": self.rule_id,
            "evidence": str(self.evidence),
            "matched": self.matched,
            "source": self.source,
        }
        if self.cause_detail:
            out["cause_detail"] = self.cause_detail
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


class Where(NamedTuple):
    """Where a reply was met: the remote host, the SMTP command it answered, the reporting MTA, and
    whether it came in an SMTP ``reply`` or in a bounce ``mail`` (rules can be limited to either)."""

    remote: str = ""
    command: str = ""
    reporting: str = ""
    context: str = "reply"


ANYWHERE = Where()


class Verdict(NamedTuple):
    """What :meth:`Classifier.decide` found, before hard/soft and retry advice."""

    reason: Reason
    rule_id: str
    matched: str
    source: str
    evidence: Evidence
    cause: Cause
    cause_detail: str
    norm: str = ""
    """The normalized text the rules read (lowercase, whitespace collapsed)."""
    retry_forbidden: bool = False
    """The reply says retrying will not succeed (a ``retry-forbidden`` cause rule's phrase occurs)."""


_GENERIC_CAUSES = frozenset(
    {
        Cause.UNKNOWN,
        Cause.AUTH_FAIL,
        Cause.POLICY,
        Cause.BLOCKED,
        Cause.SPAM_CONTENT,
        Cause.SERVER_ERROR,
        Cause.RECIPIENT_FILTER,
        Cause.RETRIES_EXHAUSTED,
        Cause.IP_REPUTATION,
        Cause.SENDER_REJECTED,
        Cause.MAILBOX_UNKNOWN,
    }
)
"""Causes a cause rule may refine (auth-fail → spf-fail, blocked → ip-blocklisted, an expiry →
the greylisting that caused it)."""

_DEAD_REASONS = ALWAYS_HARD | {Reason.NOTACCEPT}
"""Reasons that say the address is dead (hard unless temporary)."""

_NEVER_HARD_REASON: dict[Cause, Reason] = {
    Cause.SPF_FAIL: Reason.AUTHFAILURE,
    Cause.DKIM_FAIL: Reason.AUTHFAILURE,
    Cause.DMARC_POLICY: Reason.AUTHFAILURE,
    Cause.AUTH_FAIL: Reason.AUTHFAILURE,
    Cause.NO_PTR: Reason.REQUIREPTR,
    Cause.IP_BLOCKLISTED: Reason.BLOCKED,
    Cause.IP_REPUTATION: Reason.BADREPUTATION,
    Cause.DOMAIN_REPUTATION: Reason.BADREPUTATION,
    Cause.BLOCKED: Reason.BLOCKED,
    Cause.RATE_LIMITED: Reason.SPEEDING,
    Cause.SENDER_QUOTA: Reason.SPEEDING,
    Cause.TOO_MANY_CONNECTIONS: Reason.TOOMANYCONN,
    Cause.GREYLISTED: Reason.SPAMDETECTED,
    Cause.TLS_REQUIRED: Reason.FAILEDSTARTTLS,
    Cause.TLS_FAILED: Reason.FAILEDSTARTTLS,
    Cause.HELO_INVALID: Reason.BLOCKED,
    Cause.RELAY_DENIED: Reason.NORELAYING,
    Cause.SENDER_REJECTED: Reason.REJECTED,
    Cause.SPAM_CONTENT: Reason.SPAMDETECTED,
    Cause.VIRUS: Reason.VIRUSDETECTED,
    Cause.MAILBOX_FULL: Reason.MAILBOXFULL,
    Cause.MAILBOX_DISABLED: Reason.SUSPEND,
    Cause.MESSAGE_TOO_BIG: Reason.MESGTOOBIG,
    Cause.SERVER_ERROR: Reason.SYSTEMERROR,
    Cause.SERVER_FULL: Reason.SYSTEMFULL,
    Cause.POLICY: Reason.POLICYVIOLATION,
}
"""The reason a never-hard cause puts in place of a hard reason a weaker rule gave."""

_PASSES_WITH_TIME = frozenset({Cause.SENDER_QUOTA, Cause.RATE_LIMITED})
"""Causes a later attempt outlives, whatever the reply code's class."""

_TRANSIENT_WITHOUT_CODE = frozenset(
    {
        Reason.SPEEDING,
        Reason.TOOMANYCONN,
        Reason.NETWORKERROR,
        Reason.SYSTEMERROR,
        Reason.SYSTEMFULL,
        Reason.MAILBOXFULL,
    }
)
"""Reasons that pass with time, for a report that carries no reply code to say so."""

_STATUS_SUBJECT_OF: dict[Reason, str] = {
    Reason.USERUNKNOWN: ".1.",
    Reason.HOSTUNKNOWN: ".1.",
    Reason.HASMOVED: ".1.",
    Reason.MAILBOXFULL: ".2.",
}


def _keys_of(rule: Rule) -> tuple[str, ...]:
    """The phrases the automaton looks for on a rule's behalf: one of its ``any`` phrases, its first
    ``all`` phrase, or its regex's literal anchors; () when it has none (checked on every reply)."""
    keys = rule.any or rule.all[:1]
    if not keys and rule.regex is not None:
        keys = tuple(regex_anchors(rule.regex.pattern) or ())
    return keys


def _stated_evidence(stated: Reason, status: str) -> Evidence:
    """A generic reason a parser inferred (user unknown after a 5xx to RCPT): as strong as the
    status code's subject agrees with it, else only the code class."""
    subject = _STATUS_SUBJECT_OF.get(stated)
    if subject is not None and status[1:4] == subject:
        return Evidence.STATUS
    return Evidence.CODE_CLASS


class Classifier:
    """A compiled, immutable rule set."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._text_rules = [i for i, r in enumerate(self.rules) if r.phase == "text"]
        self._status_rules = [i for i, r in enumerate(self.rules) if r.phase == "status"]
        self._cause_rules = [i for i, r in enumerate(self.rules) if r.phase == "cause"]
        cause_table = self._index_cause_rules()
        self._forbid_rules = self._retry_forbidden_rules()
        table = self._index_text_rules()
        self._index_phrases(table, cause_table)
        self._index_conditions()
        self._index_status_rules()

    def _index_cause_rules(self) -> dict[str, list[int]]:
        """Sort cause rules by how :meth:`_scan` finds them: by exact status, on every reply, or by
        phrase (returned: phrase -> rules, for the automaton)."""
        cause_table: dict[str, list[int]] = {}
        self._cause_always: list[int] = []
        self._cause_by_status: dict[str, list[int]] = {}
        for i in self._cause_rules:
            rule = self.rules[i]
            keys = _keys_of(rule)
            if not keys and rule.status and all(p.endswith(" ") for p in rule.status):
                for p in rule.status:
                    self._cause_by_status.setdefault(p.strip(), []).append(i)
            elif not keys:
                self._cause_always.append(i)
            for phrase in keys:
                cause_table.setdefault(phrase, []).append(i)
        return cause_table

    def _retry_forbidden_rules(self) -> frozenset[int]:
        # Phrase-only retry-forbidden rules: their phrase occurring is the whole condition.
        return frozenset(
            i
            for i in self._cause_rules
            if self.rules[i].cause is Cause.RETRY_FORBIDDEN
            and self.rules[i].any
            and not (self.rules[i].all or self.rules[i].regex or self.rules[i].status or self.rules[i].codes)
        )

    def _index_text_rules(self) -> dict[str, list[int]]:
        """Sort text rules the same way as :meth:`_index_cause_rules`; returns phrase -> rules."""
        self._always: list[int] = []
        table: dict[str, list[int]] = {}
        for i in self._text_rules:
            rule = self.rules[i]
            keys = _keys_of(rule)
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
        return table

    def _index_phrases(self, table: dict[str, list[int]], cause_table: dict[str, list[int]]) -> None:
        # One automaton for the phrases of text rules and of cause rules: one pass finds both.
        self._phrases: list[str] = list(dict.fromkeys([*table, *cause_table]))
        self._phrase_rules: list[tuple[int, ...]] = [tuple(table.get(p, ())) for p in self._phrases]
        self._cause_phrase_rules: list[tuple[int, ...]] = [
            tuple(cause_table.get(p, ())) for p in self._phrases
        ]
        self._automaton = ahocorasick_rs.AhoCorasick(self._phrases) if self._phrases else None

    def _index_conditions(self) -> None:
        """Precompute, per rule, which checks :meth:`match_text` can skip."""
        # Rules decided by the phrase the automaton found, and rules with no non-text condition:
        # both skip a Python call in the hot loop.
        self._phrase_only = frozenset(
            i
            for i in self._text_rules + self._cause_rules
            if self.rules[i].any
            and not self.rules[i].all
            and self.rules[i].regex is None
            and not self.rules[i].unless
        )
        self._needs_remote = frozenset(i for i in self._text_rules if self.rules[i].remote is not None)
        self._only = {
            ctx: frozenset(i for i in range(len(self.rules)) if self.rules[i].context == ctx)
            for ctx in ("mail", "reply")
        }
        self._needs_reporting = frozenset(i for i in self._text_rules if self.rules[i].reporting is not None)
        # (mail context, no remote host, no reporting host) -> text rules that cannot match.
        self._skip: dict[tuple[bool, bool, bool], frozenset[int]] = {
            (mail, no_remote, no_reporting): self._only["reply" if mail else "mail"]
            | (self._needs_remote if no_remote else frozenset())
            | (self._needs_reporting if no_reporting else frozenset())
            for mail in (False, True)
            for no_remote in (False, True)
            for no_reporting in (False, True)
        }
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

    def _index_status_rules(self) -> None:
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
    def _scan(self, text: str, status: str = "") -> tuple[set[int], set[int]]:
        """(text rules, cause rules) that can match: a phrase (or regex anchor) of theirs occurs, their
        exact status is the reply's, or they have neither. One automaton pass finds both."""
        found = set(self._always)
        by_status = self._always_by_status.get(status)
        if by_status:
            found.update(by_status)
        causes = set(self._cause_always)
        by_status = self._cause_by_status.get(status)
        if by_status:
            causes.update(by_status)
        if self._automaton is not None and text:
            phrase_rules, cause_rules = self._phrase_rules, self._cause_phrase_rules
            for k, _start, _end in self._automaton.find_matches_as_indexes(text, overlapping=True):
                found.update(phrase_rules[k])
                causes.update(cause_rules[k])
        return found, causes

    def match_text(
        self, text: str, status: str, code: str, where: Where = ANYWHERE, found: set[int] | None = None
    ) -> tuple[Rule, str] | None:
        """The first text rule that decides, with its evidence (``found``: the candidates a
        :meth:`_scan` of the same text gave)."""
        if found is None:
            found = self._scan(text, status)[0]
        remote, command, reporting, context = where
        # Rules for the other context, and provider rules keyed on a remote (reporting) host when
        # there is none, cannot match: skip them before paying for a call. (A membership test per
        # candidate: the candidates are a handful, the excluded sets are large.)
        skip = self._skip[(context == "mail", not remote, not reporting)]
        rules, phrase_only, no_codes = self.rules, self._phrase_only, self._no_codes
        for i in sorted(found):
            if i in skip:
                continue
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
        self, text: str, status: str, code: str, where: Where = ANYWHERE
    ) -> tuple[Rule, str] | None:
        """The first status rule that decides, with its evidence."""
        remote, command, reporting, context = where
        for i in self._status_index.get(status[:3], self._status_wild):
            rule = self.rules[i]
            if rule.context and rule.context != context:
                continue
            if not rule.matches_codes(status, code, remote, command, reporting):
                continue
            evidence = rule.matches_text(text) if rule.needs_text or rule.unless else (status or code)
            if evidence is not None:
                return rule, evidence
        return None

    def _cause_rule(self, found: set[int], text: str, status: str, code: str) -> tuple[Rule, str] | None:
        """The first cause rule that holds, of those :meth:`_scan` found."""
        rules, phrase_only = self.rules, self._phrase_only
        for i in sorted(found):
            rule = rules[i]
            if (rule.status or rule.codes) and not rule.matches_codes(status, code, "", "", ""):
                continue
            if i in phrase_only:
                return rule, next((p for p in rule.any if p in text), "")
            evidence = rule.matches_text(text) if rule.needs_text or rule.unless else (status or code)
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
        vouched: bool = False,
        context: str = "reply",
    ) -> Verdict:
        """The reason, the rule, the evidence and the cause, by the order in the module docstring."""
        norm = normalize_text(text)
        found, hits = self._scan(norm, status)
        reason, rule_id, matched, source, evidence, rule_cause = self._reason(
            norm, status, code, remote, command, reporting, stated, action, diagnostic_type, context, found
        )
        if vouched and rule_id == "parser":
            evidence = Evidence.FORMAT
        cause: Cause | None = rule_cause
        detail = ""
        if reason in NOT_BOUNCES:
            hits = set()
        forbidden = not hits.isdisjoint(self._forbid_rules)
        if hits and (cause is None or cause in _GENERIC_CAUSES):
            hit = self._cause_rule(hits, norm, status, code)
            if hit is not None:
                crule = hit[0]
                assert crule.cause is not None  # compile_rule requires it for phase "cause"
                if cause is None or crule.cause not in ADDRESS_DEAD_CAUSES:
                    cause = crule.cause
                weak = rule_id.startswith("fallback:")
                if (reason in _DEAD_REASONS or weak) and crule.cause in NEVER_HARD_CAUSES:
                    # Hard means the address is dead: a policy, authentication or quota refusal
                    # says nothing of that, whatever code or weak phrase came with it. And a
                    # cause rule's phrase says more than a fallback on the code class.
                    reason = (
                        crule.reason
                        if crule.reason is not Reason.UNDEFINED
                        else _NEVER_HARD_REASON.get(crule.cause, Reason.POLICYVIOLATION)
                    )
                    rule_id, matched, source = crule.id, hit[1], crule.source
                    evidence = crule.evidence
        if cause is None:
            cause = cause_of_reason(reason)
        if action == "delayed":
            cause = Cause.DELAYED if cause in _GENERIC_CAUSES else cause
        if cause is Cause.IP_BLOCKLISTED:
            # The cause rule saw a list's name or "blocked using": say which list.
            detail = blocklist_name(norm)
        return Verdict(reason, rule_id, matched, source, evidence, cause, detail, norm, forbidden)

    def _reason(  # noqa: PLR0917 - private; one call site passes the decide() arguments through
        self,
        norm: str,
        status: str,
        code: str,
        remote: str,
        command: str,
        reporting: str,
        stated: Reason | None,
        action: str,
        diagnostic_type: str,
        context: str,
        found: set[int],
    ) -> tuple[Reason, str, str, str, Evidence, Cause | None]:
        if stated is not None and stated not in RETRYABLE_REASONS:
            return stated, "parser", str(stated), "", Evidence.FORMAT, None
        if status.startswith("2.") or (
            not status and code.startswith("2") and stated is None and (not norm or norm.startswith(code))
        ):
            return Reason.DELIVERED, "fallback:2xx", status or code, "", Evidence.STATUS, None
        where = Where(remote, command, reporting, context)
        hit = self.match_text(norm, status, code, where, found)
        if hit is not None:
            rule, matched = hit
            if stated is Reason.USERUNKNOWN and rule.reason not in _OVERRIDE_USERUNKNOWN | {stated}:
                return stated, "parser", str(stated), "", _stated_evidence(stated, status), None
            return rule.reason, rule.id, matched, rule.source, rule.evidence, rule.cause
        if stated is not None and stated not in (Reason.UNDEFINED, Reason.ONHOLD):
            return stated, "parser", str(stated), "", _stated_evidence(stated, status), None
        hit = self.match_status(norm, status, code, where)
        if hit is not None:
            rule, matched = hit
            return rule.reason, rule.id, matched, rule.source, rule.evidence, rule.cause
        if status[:3] in ("5.6", "4.6"):
            return Reason.CONTENTERROR, "fallback:x.6", status, "", Evidence.STATUS, None
        if status[:3] in ("5.7", "4.7"):
            return Reason.SECURITYERROR, "fallback:x.7", status, "", Evidence.STATUS, None
        if diagnostic_type.upper().startswith("X-UNIX"):
            return Reason.MAILERERROR, "fallback:x-unix", diagnostic_type, "", Evidence.FORMAT, None
        if action in ("delayed", "expired"):
            return Reason.EXPIRED, "fallback:delayed", action, "", Evidence.CODE_CLASS, None
        if command.upper() in ("EHLO", "HELO"):
            return Reason.BLOCKED, "fallback:helo", command, "", Evidence.CODE_CLASS, Cause.HELO_INVALID
        if stated is not None:
            return stated, "parser", str(stated), "", Evidence.NONE, None
        if norm:
            return Reason.ONHOLD, "fallback:onhold", "", "", Evidence.NONE, None
        return Reason.UNDEFINED, "fallback:undefined", "", "", Evidence.NONE, None

    @staticmethod
    def advise(
        v: Verdict, hard: bool, *, status: str, code: str, action: str = ""
    ) -> tuple[bool, float | None]:
        """(retry, retry_after): whether trying again can succeed, and the wait the receiver names."""
        reason, cause, text = v.reason, v.cause, v.norm
        if reason in NOT_BOUNCES or hard or v.retry_forbidden or cause is Cause.RETRY_FORBIDDEN:
            return False, None
        klass = (code or status)[:1]
        if klass == "4" or action == "delayed":
            retry = True
        elif klass == "5":
            # Permanent, except a quota or rate that resets with time (Gmail's "550 5.4.5 Daily
            # sending quota exceeded", Microsoft's 5.7.232 daily limit): later, it goes through.
            retry = cause in _PASSES_WITH_TIME
        else:
            retry = reason in _TRANSIENT_WITHOUT_CODE or cause is Cause.GREYLISTED
        return retry, (retry_hint(text) if retry else None)

    def classify_reply(
        self,
        code: SmtpReply | str | int | None,
        enhanced_status: str | None = None,
        text: str = "",
        *,
        remote_mta: str = "",
        command: str = "",
        reporting_mta: str = "",
    ) -> Classification:
        """Classify one SMTP reply: an :class:`SmtpReply`, or its parts. ``code`` may be the whole
        reply line when the rest is empty."""
        if isinstance(code, SmtpReply):
            reply = code
            code, enhanced_status, text = reply.code, enhanced_status or reply.status, text or reply.text
        code_s = str(code).strip() if code else ""
        status = normalize_status(enhanced_status) if enhanced_status else ""
        if len(code_s) > 3 or (code_s and not code_s.isdigit()):
            parsed = parse_reply(code_s + (" " + text if text else ""))
            code_s, status, text = str(parsed.code or ""), status or parsed.status, parsed.text
        if not status:
            status = normalize_status(text)
        if not code_s:
            code_s = find_replycode(text)
        v = self.decide(
            status=status, code=code_s, text=text, remote=remote_mta, command=command, reporting=reporting_mta
        )
        hard = is_hard(v.reason, status, code_s, text)
        retry, after = self.advise(v, hard, status=status, code=code_s)
        return Classification(
            reason=v.reason,
            hardbounce=hard,
            kind=kind_of(v.reason, hard),
            rule_id=v.rule_id,
            evidence=v.evidence,
            status=status,
            replycode=code_s,
            source=v.source,
            cause=v.cause,
            cause_detail=v.cause_detail,
            retry=retry,
            retry_after=after,
            matched=v.matched,
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
        action = draft.action.lower()
        v = self.decide(
            status=status,
            code=code,
            text=text,
            remote=draft.remote_mta,
            command=draft.command,
            reporting=draft.reporting_mta,
            stated=draft.reason,
            action=action,
            diagnostic_type=draft.diagnostic_type,
            vouched=draft.vouched,
            context="mail",
        )
        # A delay notice is not a failure: the sending MTA is still trying.
        hard = action != "delayed" and is_hard(v.reason, status, code, text)
        retry, _after = self.advise(v, hard, status=status, code=code, action=action)
        kind = (
            Kind.DELAYED if action == "delayed" and v.reason not in NOT_BOUNCES else kind_of(v.reason, hard)
        )
        return BounceRecord(
            recipient=draft.recipient,
            action=action,
            status=status,
            replycode=code,
            diagnostic=" ".join(text.split()),
            reason=v.reason,
            hardbounce=hard,
            kind=kind,
            remote_mta=draft.remote_mta,
            reporting_mta=draft.reporting_mta,
            original_message_id=draft.original_message_id,
            original_envelope_sender=draft.original_envelope_sender,
            timestamp=draft.timestamp,
            feedback_type=draft.feedback_type,
            parser=parser,
            rule_id=v.rule_id,
            command=draft.command.upper(),
            cause=v.cause,
            cause_detail=v.cause_detail,
            evidence=v.evidence,
            retry=retry,
        )


_DEFAULT: Classifier | None = None


def default_classifier() -> Classifier:
    """The packaged rules, compiled once per process."""
    global _DEFAULT  # noqa: PLW0603 - a process-wide compiled cache
    if _DEFAULT is None:
        _DEFAULT = Classifier(load_rules())
    return _DEFAULT


def classify_reply(
    code: SmtpReply | str | int | None, enhanced_status: str | None = None, text: str = ""
) -> Classification:
    """Classify one SMTP reply (an :class:`SmtpReply` or its parts) with the packaged rules.

    >>> classify_reply(550, "5.1.1", "<x@y>: Recipient address rejected: User unknown").reason
    <Reason.USERUNKNOWN: 'userunknown'>
    >>> classify_reply(SmtpReply(452, "4.2.2", "The recipient's inbox is out of storage space")).kind
    <Kind.SOFT: 'soft'>
    """
    return default_classifier().classify_reply(code, enhanced_status, text)
