"""Classification rules as data: loading, overlaying, compiling and checking them.

Rules live in TOML files (``mailfate/data/bounce_rules/*.toml``, loaded in file-name order) as
``[[rule]]`` tables. The first rule whose every condition holds decides. A rule has:

``id``
    unique, stable, shown in every classification ("the id of the rule that decided").
``reason``
    a :class:`~mailfate.model.reasons.Reason` value (optional for ``phase = "cause"`` rules).
``cause``
    a :class:`~mailfate.model.causes.Cause` value: the finer cause this rule means (optional:
    without it the cause comes from the cause rules, else from the reason).
``any`` / ``all``
    case-insensitive phrases: at least one of ``any`` and every one of ``all`` must occur in the
    diagnostic text (whitespace is collapsed before matching).
``regex``
    a case-insensitive regular expression that must match the normalized text.
``unless``
    phrases none of which may occur (a guard: "user unknown" is not a dead address when the same
    reply says "blocked" or "SPF"), or the name of a list in a ``[phrases]`` table of any packaged
    rule file (``unless = "policy-words"``). Plain substring tests: far cheaper than a
    ``^(?!.*(?:...))`` guard regex, which scans the text once per alternative.
``status`` / ``codes``
    enhanced status codes and reply codes the reply must have. A complete status (``"5.4.3"``)
    matches exactly; a shorter value, or one ending in ``.`` or ``*``, matches as a prefix
    (``"5.7."``, ``"5.4.3*"``, ``"4"``). Reply codes match as prefixes (``"55"``, ``"4"``).
``not_status`` / ``not_codes``
    the reply must not have these.
``remote``
    a regular expression on the remote MTA's host name (provider-specific rules).
``command``
    the SMTP commands the failure happened at (``RCPT``, ``DATA``, ``CONN``...).
``context``
    ``"mail"`` or ``"reply"``: the rule applies only to a recipient of a parsed bounce mail, or only
    to a bare SMTP reply (``classify_reply``, the worker's own replies); absent: both. Sisimai reads
    dead-address wording in a bounce mail that names no failed RCPT as a recipient-side filter
    (``filtered``); a reply on its own is answered to RCPT far more often than not.
``phase``
    ``"text"`` (default), ``"status"`` or ``"cause"``: status rules run after every text rule and after
    a reason a parser named from the format itself. Cause rules (``cause`` required) do not decide
    the reason: the first one that holds names the cause of any verdict (greylisting, a blocklist,
    an SPF failure), and when its cause is one that never makes a hard bounce, a hard reason given
    by a weaker rule yields to the cause rule's ``reason``.
``source``
    where the rule comes from (a provider's published documentation, an RFC).
``examples``
    replies the rule must decide; ``mailfate bounce rules --check`` verifies each reaches its rule.
``reporting``
    a regular expression on the reporting MTA's host name: for providers that generate the bounce
    themselves and report what the next server said.
``example_remote``
    for a rule with ``remote`` or ``reporting``: the host name its examples are checked with.

A user's file overlays the packaged rules: a rule with an existing id replaces it in place; a new
rule goes before the rule named by ``before`` or after ``after``, else before every packaged rule.
``disable = ["id", ...]`` at the top of a file removes rules.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mailfate.errors import ConfigError
from mailfate.model.causes import Cause, Evidence
from mailfate.model.reasons import Reason
from mailfate.model.reply import STATUS_PATTERN

__all__ = [
    "Rule",
    "load_rule_files",
    "load_rules",
    "normalize_text",
    "packaged_phrase_lists",
    "packaged_rule_files",
    "regex_anchors",
]

_KEYS = {
    "id",
    "reason",
    "cause",
    "any",
    "all",
    "regex",
    "unless",
    "status",
    "codes",
    "not_status",
    "not_codes",
    "remote",
    "reporting",
    "command",
    "phase",
    "context",
    "source",
    "note",
    "examples",
    "example_remote",
    "before",
    "after",
}


PROVIDER_FILES = frozenset({"20-korea.toml", "30-providers.toml"})
"""Packaged files of rules for one receiver's published replies: their verdicts are
``provider-rule`` evidence even where a rule is not keyed on the receiver's host."""

MAX_MATCH_CHARS = 16 * 1024
"""Rules read the first 16 KiB of a diagnostic: replies are short, a longer text is a quoted body."""

_CONTINUATION = re.compile(r"(?<=\s)[245]\d\d-(?:" + STATUS_PATTERN + r"\s)?")


def normalize_text(text: str) -> str:
    """Lowercase, whitespace collapsed, and the "550-5.7.25 " prefixes of continuation lines of a
    multi-line reply removed, so a phrase split over two reply lines still matches."""
    norm = " ".join(text[:MAX_MATCH_CHARS].lower().split())
    i = norm.find("-", 4)
    while i != -1:
        # The regex runs only when a " 550-" shape is really there: most texts have none.
        if norm[i - 4] == " " and norm[i - 3] in "245" and norm[i - 2 : i].isdigit():
            return _CONTINUATION.sub("", norm)
        i = norm.find("-", i + 1)
    return norm


def _prefixes(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(v.rstrip("*").strip() for v in values)


def _status_patterns(values: Iterable[str]) -> tuple[str, ...]:
    """Status patterns: a complete x.y.z is exact (stored with a trailing space); anything shorter,
    ending in "." or in "*" is a prefix. "5.4.3" then does not catch Microsoft's 5.4.312."""
    out = []
    for value in values:
        v = value.strip()
        if v.endswith("*"):
            out.append(v.rstrip("*"))
        elif v.count(".") == 2 and not v.endswith("."):
            out.append(v + " ")
        else:
            out.append(v)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled classification rule."""

    id: str
    reason: Reason
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = None
    unless: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    not_status: tuple[str, ...] = ()
    not_codes: tuple[str, ...] = ()
    remote: re.Pattern[str] | None = None
    reporting: re.Pattern[str] | None = None
    command: tuple[str, ...] = ()
    phase: str = "text"
    context: str = ""
    cause: Cause | None = None
    source: str = ""
    note: str = ""
    examples: tuple[str, ...] = ()
    origin: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _status_t: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)
    _codes_t: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)
    _not_status_t: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)
    _not_codes_t: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)

    @property
    def needs_text(self) -> bool:
        return bool(self.any or self.all or self.regex)

    @property
    def evidence(self) -> Evidence:
        """How strong a verdict this rule gives: a provider's own wording or host, a generic phrase,
        a complete enhanced status code, or only a reply code class / command."""
        if self.remote is not None or self.reporting is not None or self.origin in PROVIDER_FILES:
            return Evidence.PROVIDER_RULE
        if self.needs_text:
            return Evidence.PHRASE
        if any(p.count(".") == 2 and len(p.strip()) >= 5 for p in self.status):
            return Evidence.STATUS
        return Evidence.CODE_CLASS

    def __post_init__(self) -> None:
        # Tuples for str.startswith: one C call per condition. "\0" never matches.
        object.__setattr__(self, "_status_t", tuple(p for p in self.status if p) or ("\0",))
        object.__setattr__(self, "_codes_t", tuple(p for p in self.codes if p) or ("\0",))
        object.__setattr__(self, "_not_status_t", tuple(p for p in self.not_status if p) or ("\0",))
        object.__setattr__(self, "_not_codes_t", tuple(p for p in self.not_codes if p) or ("\0",))

    def matches_codes(self, status: str, code: str, remote: str, command: str, reporting: str = "") -> bool:
        """Every non-text condition."""
        if self.status:
            if status:
                if not (status + " ").startswith(self._status_t):
                    return False
            elif "" not in self.status:
                return False
        if self.codes:
            if code:
                if not code.startswith(self._codes_t):
                    return False
            elif "" not in self.codes:
                return False
        if self.not_status and status and (status + " ").startswith(self._not_status_t):
            return False
        if self.not_codes and code and code.startswith(self._not_codes_t):
            return False
        if self.remote is not None and not (remote and self.remote.search(remote)):
            return False
        if self.reporting is not None and not (reporting and self.reporting.search(reporting)):
            return False
        return not (self.command and command.upper() not in self.command)

    def matches_text(self, text: str) -> str | None:
        """The evidence (phrase or regex match) when the text conditions hold, else None."""
        if self.unless:
            for phrase in self.unless:
                if phrase in text:
                    return None
        evidence = ""
        if self.any:
            for phrase in self.any:
                if phrase in text:
                    evidence = phrase
                    break
            else:
                return None
        for phrase in self.all:
            if phrase not in text:
                return None
            evidence = evidence or phrase
        if self.regex is not None:
            m = self.regex.search(text)
            if m is None:
                return None
            evidence = evidence or m.group(0)
        return evidence


_MIN_ANCHOR = 3


def _anchors_of(items: Any) -> list[str] | None:
    """Strings one of which every match of this parsed sequence contains, or None if unknown."""
    best: list[str] | None = None
    run: list[str] = []

    def rank(option: list[str]) -> tuple[int, int]:
        # Fewer alternatives first ("spf" beats "fail|error|check|..."), then the longer shortest.
        return (-len(option), min(len(x) for x in option))

    def consider(option: list[str] | None) -> None:
        nonlocal best
        if (
            option
            and min(len(x) for x in option) >= _MIN_ANCHOR
            and (best is None or rank(option) > rank(best))
        ):
            best = option

    for op, av in [*list(items), (None, None)]:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(av))
            continue
        consider(["".join(run).lower()] if run else None)
        run = []
        if name == "SUBPATTERN":
            consider(_anchors_of(av[-1]))
        elif name == "BRANCH":
            alternatives = [_anchors_of(alt) for alt in av[1]]
            if all(alternatives):
                consider([a for alt in alternatives if alt for a in alt])
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            consider(_anchors_of(av[2]))
    return best


def regex_anchors(pattern: str) -> list[str] | None:
    """Literal strings (lowercase) one of which occurs in every text the pattern matches, so the
    Aho-Corasick prefilter can skip the regex when none occurs; None when no such set is known."""
    try:
        # CPython's own regex parser (re._parser, sre_parse before 3.11): a private module, so
        # looked up by name; any surprise below means "no anchors".
        parser: Any = importlib.import_module("re._parser")
        parsed = parser.parse(pattern, re.IGNORECASE)
    except Exception:  # any surprise means "no anchors": the rule is then always checked
        return None
    try:
        return _anchors_of(parsed)
    except (TypeError, ValueError, IndexError, AttributeError):
        return None


def _as_list(rule_id: str, key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(f"rule {rule_id!r}: {key!r} must be a string or a list of strings")


def compile_rule(raw: dict[str, Any], origin: str, phrases: dict[str, list[str]] | None = None) -> Rule:
    """Compile one ``[[rule]]`` table, or raise ConfigError naming the rule and the fix.

    ``phrases`` are the named phrase lists (``[phrases]`` tables) an ``unless`` may name."""
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise ConfigError(f"{origin}: a rule has no 'id' (every [[rule]] needs a unique string id)")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConfigError(
            f"{origin}: rule {rule_id!r} has unknown keys {sorted(unknown)}; known: {sorted(_KEYS)}"
        )
    phase = raw.get("phase", "text")
    if phase not in ("text", "status", "cause"):
        raise ConfigError(f"{origin}: rule {rule_id!r}: phase must be 'text', 'status' or 'cause'")
    cause: Cause | None = None
    if raw.get("cause") is not None:
        try:
            cause = Cause(str(raw["cause"]).lower())
        except ValueError:
            raise ConfigError(
                f"{origin}: rule {rule_id!r} names cause {raw.get('cause')!r}, which is not one of "
                f"{', '.join(c.value for c in Cause)}"
            ) from None
    context = raw.get("context", "")
    if context not in ("", "mail", "reply"):
        raise ConfigError(f"{origin}: rule {rule_id!r}: context must be 'mail' or 'reply'")
    if phase == "cause" and cause is None:
        raise ConfigError(f"{origin}: rule {rule_id!r}: a phase = 'cause' rule needs a 'cause'")
    try:
        reason = Reason(str(raw.get("reason", "undefined" if phase == "cause" else "")).lower())
    except ValueError:
        raise ConfigError(
            f"{origin}: rule {rule_id!r} names reason {raw.get('reason')!r}, which is not one of "
            f"{', '.join(r.value for r in Reason)}"
        ) from None

    def regex(key: str) -> re.Pattern[str] | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{origin}: rule {rule_id!r}: {key!r} must be a string")
        try:
            return re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(f"{origin}: rule {rule_id!r}: {key!r} does not compile: {exc}") from exc

    rule = Rule(
        id=rule_id,
        reason=reason,
        any=tuple(normalize_text(p) for p in _as_list(rule_id, "any", raw.get("any", []))),
        all=tuple(normalize_text(p) for p in _as_list(rule_id, "all", raw.get("all", []))),
        regex=regex("regex"),
        unless=tuple(normalize_text(p) for p in _unless(rule_id, origin, raw.get("unless"), phrases or {})),
        status=_status_patterns(_as_list(rule_id, "status", raw.get("status", []))),
        codes=_prefixes(_as_list(rule_id, "codes", raw.get("codes", []))),
        not_status=_status_patterns(_as_list(rule_id, "not_status", raw.get("not_status", []))),
        not_codes=_prefixes(_as_list(rule_id, "not_codes", raw.get("not_codes", []))),
        remote=regex("remote"),
        reporting=regex("reporting"),
        command=tuple(c.upper() for c in _as_list(rule_id, "command", raw.get("command", []))),
        phase=phase,
        context=context,
        cause=cause,
        source=str(raw.get("source", "")),
        note=str(raw.get("note", "")),
        examples=tuple(_as_list(rule_id, "examples", raw.get("examples", []))),
        origin=origin,
        raw=raw,
    )
    if any(not p for p in rule.any + rule.all):
        raise ConfigError(f"{origin}: rule {rule_id!r} has an empty phrase")
    if not (rule.needs_text or rule.status or rule.codes or rule.remote or rule.reporting or rule.command):
        raise ConfigError(f"{origin}: rule {rule_id!r} has no condition and would match every reply")
    return rule


def _unless(rule_id: str, origin: str, value: Any, phrases: dict[str, list[str]]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) and value in phrases:
        return phrases[value]
    if isinstance(value, str):
        raise ConfigError(
            f"{origin}: rule {rule_id!r}: unless = {value!r} names no [phrases] list "
            f"(known: {', '.join(sorted(phrases)) or 'none'}); give a list of phrases or a known name"
        )
    return _as_list(rule_id, "unless", value)


def _phrase_lists(data: dict[str, Any], origin: str) -> dict[str, list[str]]:
    """The ``[phrases]`` table of a rule file: name -> list of phrases."""
    table = data.get("phrases", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: [phrases] must be a table of name = [phrases]")
    return {str(k): _as_list(f"[phrases] {k}", "phrases", v) for k, v in table.items()}


def _read(path: Path | Any, origin: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{origin}: cannot read: {exc}") from exc
    return data


def packaged_rule_files() -> list[Any]:
    """The packaged rule files in load order."""
    folder = resources.files("mailfate").joinpath("data", "bounce_rules")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)


def packaged_phrase_lists() -> dict[str, list[str]]:
    """The named phrase lists of the packaged rule files (for a user's overlay to name)."""
    out: dict[str, list[str]] = {}
    for f in packaged_rule_files():
        out.update(_phrase_lists(_read(f, f.name), f.name))
    return out


def load_rule_files(files: Sequence[Any]) -> list[Rule]:
    """Compile rules from files, in order; duplicate ids are an error."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    loaded = [(getattr(f, "name", str(f)), f) for f in files]
    datas = [(origin, _read(f, origin)) for origin, f in loaded]
    phrases: dict[str, list[str]] = {}
    for origin, data in datas:
        phrases.update(_phrase_lists(data, origin))
    for origin, data in datas:
        for raw in data.get("rule", []):
            rule = compile_rule(raw, origin, phrases)
            if rule.id in seen:
                raise ConfigError(f"{origin}: rule id {rule.id!r} is already used in {seen[rule.id]}")
            seen[rule.id] = origin
            rules.append(rule)
    return rules


def overlay(rules: list[Rule], path: Path) -> list[Rule]:
    """Apply a user's rule file on top of ``rules`` (see the module docstring)."""
    origin = str(path)
    data = _read(path, origin)
    out = list(rules)
    disabled = _as_list("<file>", "disable", data.get("disable", []))
    known = {r.id for r in out}
    for rid in disabled:
        if rid not in known:
            raise ConfigError(f"{origin}: disable names unknown rule {rid!r}")
    out = [r for r in out if r.id not in set(disabled)]
    phrases = {**packaged_phrase_lists(), **_phrase_lists(data, origin)}
    head = 0
    for raw in data.get("rule", []):
        rule = compile_rule(raw, origin, phrases)
        index = {r.id: i for i, r in enumerate(out)}
        if rule.id in index:
            out[index[rule.id]] = rule
            continue
        anchor_before, anchor_after = raw.get("before"), raw.get("after")
        if anchor_before is not None:
            if anchor_before not in index:
                raise ConfigError(
                    f"{origin}: rule {rule.id!r}: before = {anchor_before!r} is not a known rule"
                )
            out.insert(index[anchor_before], rule)
        elif anchor_after is not None:
            if anchor_after not in index:
                raise ConfigError(f"{origin}: rule {rule.id!r}: after = {anchor_after!r} is not a known rule")
            out.insert(index[anchor_after] + 1, rule)
        else:
            out.insert(head, rule)
            head += 1
    return out


def load_rules(user_files: Sequence[Path] = ()) -> list[Rule]:
    """The packaged rules with each user file overlaid in turn."""
    rules = load_rule_files(packaged_rule_files())
    for path in user_files:
        rules = overlay(rules, Path(path))
    return rules
