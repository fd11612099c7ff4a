"""``mailfate bounce rules --check``: every rule compiles, every example reaches its rule, every
reason is reachable."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailfate.bounce.classify import Classifier
from mailfate.bounce.record import Draft
from mailfate.bounce.rules import Rule
from mailfate.model.reasons import Reason
from mailfate.model.reply import parse_reply

__all__ = ["BUILTIN_REASONS", "CheckReport", "check_rules"]

BUILTIN_REASONS: dict[Reason, str] = {
    Reason.DELIVERED: "a 2.x.x status or a success DSN (classifier step 2)",
    Reason.FEEDBACK: "an ARF complaint report (parser arf)",
    Reason.VACATION: "an RFC 3834 auto-reply (parser rfc3834)",
    Reason.ONHOLD: "a diagnostic that no rule explains (fallback:onhold)",
    Reason.UNDEFINED: "no diagnostic at all (fallback:undefined)",
    Reason.EXPIRED: "a delayed action without a better reason (fallback:delayed)",
    Reason.MAILERERROR: "an X-Unix diagnostic (fallback:x-unix)",
    Reason.SECURITYERROR: "an x.7.x status without a better reason (fallback:x.7)",
    Reason.CONTENTERROR: "an x.6.x status without a better reason (fallback:x.6)",
    Reason.SUPPRESSED: "an SES Suppressed / OnAccountSuppressionList bounce (parser amazonses-json)",
}


@dataclass
class CheckReport:
    rules: int = 0
    examples: int = 0
    examples_ok: int = 0
    problems: list[str] = field(default_factory=list)
    reachable: dict[str, list[str]] = field(default_factory=dict)
    """reason -> rule ids whose examples reach it."""
    builtin: dict[str, str] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)
    without_examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unreachable

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "rules": self.rules,
            "examples": self.examples,
            "examples_ok": self.examples_ok,
            "problems": self.problems,
            "reachable": self.reachable,
            "builtin": self.builtin,
            "unreachable": self.unreachable,
            "without_examples": self.without_examples,
        }


def check_rules(classifier: Classifier) -> CheckReport:
    """Check a compiled rule set (compilation errors were raised as ConfigError already)."""
    report = CheckReport(rules=len(classifier.rules))
    for rule in classifier.rules:
        if not rule.examples:
            report.without_examples.append(rule.id)
        for example in rule.examples:
            report.examples += 1
            host = _example_remote(rule)
            if rule.context == "mail":
                reply = parse_reply(example)
                draft = Draft(
                    recipient="example@example.org",
                    status=reply.status,
                    replycode=str(reply.code or ""),
                    diagnostic=example,
                    command=_example_command(rule),
                    remote_mta=host if rule.remote is not None else "",
                    reporting_mta=host if rule.reporting is not None else "",
                )
                record = classifier.resolve(draft, "rulecheck")
                got = classifier.classify_reply(example)._replace(
                    rule_id=record.rule_id, reason=record.reason, cause=record.cause
                )
            else:
                got = classifier.classify_reply(
                    example,
                    remote_mta=host if rule.remote is not None else "",
                    reporting_mta=host if rule.reporting is not None else "",
                    command=_example_command(rule),
                )
            if rule.phase == "cause":
                # A cause rule decides the cause, not the reason: its example must come out with it.
                if got.cause is rule.cause:
                    report.examples_ok += 1
                else:
                    report.problems.append(
                        f"{rule.id} ({rule.origin}): example {example!r} gets cause {got.cause} "
                        f"(rule {got.rule_id}), not {rule.cause}"
                    )
            elif got.rule_id == rule.id:
                report.examples_ok += 1
                report.reachable.setdefault(str(rule.reason), []).append(rule.id)
            else:
                report.problems.append(
                    f"{rule.id} ({rule.origin}): example {example!r} is decided by {got.rule_id} "
                    f"as {got.reason} — the rule is shadowed or the example does not match it"
                )
    for reason in Reason:
        if str(reason) in report.reachable:
            continue
        if reason in BUILTIN_REASONS:
            report.builtin[str(reason)] = BUILTIN_REASONS[reason]
            continue
        report.unreachable.append(str(reason))
    return report


def _example_remote(rule: Rule) -> str:
    pattern_of = rule.remote or rule.reporting
    if pattern_of is None:
        return ""
    example_host = rule.raw.get("example_remote")
    if isinstance(example_host, str):
        return example_host
    # Build a host name the pattern accepts from its first literal alternative.
    pattern = pattern_of.pattern
    literal = pattern.split("|")[0]
    for ch in "^$()?\\":
        literal = literal.replace(ch, "")
    literal = literal.replace(".*", "mx.").replace("[.]", ".").replace("+", "")
    return literal if pattern_of.search(literal) else pattern


def _example_command(rule: Rule) -> str:
    return rule.command[0] if rule.command else ""
