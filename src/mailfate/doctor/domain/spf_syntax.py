"""SPF record syntax (RFC 7208 §4.6, §5, §6, §7, §12): terms, their arguments, macros.

:func:`parse_spf` never raises: it returns the terms it understood and one problem per term it
did not, worded for a person (``ip4:192.0.2.300 is not an IPv4 address``). A record with any
problem is a ``permerror`` for receivers.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

__all__ = [
    "SpfRecord",
    "SpfTerm",
    "is_spf",
    "meant_record",
    "offline_problems",
    "open_range",
    "parse_spf",
    "record_with",
    "repair_spf",
    "spf_records",
    "split_glued",
    "vet_spf",
]

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
_MODIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9\-_.]*)=(.*)$", re.DOTALL)
_MECHANISM = re.compile(r"^([A-Za-z0-9_.\-]+)(.*)$", re.DOTALL)
_MACRO = re.compile(r"%\{[slodiphcrtvSLODIPHCRTV][0-9]*[rR]?[.\-+,/_=]*\}|%%|%_|%-")
_DUAL_CIDR = re.compile(r"^(?:/(0|[1-9][0-9]*))?(?://(0|[1-9][0-9]*))?$")
_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_\-]*[A-Za-z0-9_])?$")
_TOPLABEL = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?$")


@dataclass(frozen=True, slots=True)
class SpfTerm:
    """One directive (``-ip4:192.0.2.0/24``) or modifier (``redirect=_spf.example.com``)."""

    raw: str
    name: str
    """Lowercase mechanism or modifier name."""
    qualifier: str = "+"
    value: str = ""
    """The domain-spec or address, without ``:`` / ``=`` and without the CIDR lengths."""
    cidr4: int | None = None
    cidr6: int | None = None
    modifier: bool = False

    @property
    def has_macro(self) -> bool:
        return "%" in self.value


@dataclass(frozen=True, slots=True)
class SpfRecord:
    raw: str
    terms: tuple[SpfTerm, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Legal but questionable: ptr, terms after all, redirect ignored because of all."""

    @property
    def valid(self) -> bool:
        return not self.problems

    def modifier(self, name: str) -> SpfTerm | None:
        return next((t for t in self.terms if t.modifier and t.name == name), None)

    @property
    def all_term(self) -> SpfTerm | None:
        return next((t for t in self.terms if t.name == "all"), None)

    @property
    def evaluated(self) -> tuple[SpfTerm, ...]:
        """The mechanisms check_host() can reach: everything up to and including ``all``."""
        out = []
        for term in self.terms:
            if term.modifier:
                continue
            out.append(term)
            if term.name == "all":
                break
        return tuple(out)


def is_spf(text: str) -> bool:
    """Whether a TXT string is an SPF record (``v=spf1`` followed by a space or nothing)."""
    head = text[:7].lower()
    return head == "v=spf1 " or text.lower() == "v=spf1"


def spf_records(texts: tuple[str, ...] | list[str]) -> list[str]:
    return [t for t in texts if is_spf(t)]


def _macro_problem(value: str) -> str:
    rest = _MACRO.sub("", value)
    if "%" in rest:
        return "has a malformed macro (valid: %{s} %{l} %{o} %{d} %{i} %{p} %{h} %{v}, %%, %_, %-)"
    if any(not 0x21 <= ord(c) <= 0x7E for c in rest):
        return "contains characters that are not visible ASCII"
    return ""


def domain_spec_problem(value: str) -> str:
    """Why ``value`` is not a domain-spec (RFC 7208 §7.1), ``""`` when it is one."""
    if not value:
        return "is empty"
    if "%" in value:
        problem = _macro_problem(value)
        if problem:
            return problem
        # domain-end: "." toplabel, or a macro-expand at the end
        if value.endswith("}") or _TOPLABEL.match(value.rstrip(".").rsplit(".", 1)[-1]):
            return ""
        return "does not end in a top-level label or a macro"
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    if len(labels) < 2:
        return "is not a domain (it needs a dot: example.com)"
    if len(name) > 253 or any(len(label) > 63 or not _LABEL.match(label) for label in labels):
        return "is not a valid domain name"
    if not _TOPLABEL.match(labels[-1]):
        return "does not end in a valid top-level label"
    return ""


def _cidr(text: str | None, limit: int) -> int | None:
    if text is None:
        return None
    number = int(text)
    if number > limit:
        raise ValueError(f"/{number} is larger than /{limit}")
    return number


def _mechanism(raw: str, qualifier: str, body: str) -> tuple[SpfTerm | None, str]:
    match = _MECHANISM.match(body)
    if match is None:
        return None, f"{raw!r} is not an SPF term"
    name, rest = match.group(1).lower(), match.group(2)
    if name not in MECHANISMS:
        return None, f"{raw!r}: unknown mechanism {name!r} (valid: {', '.join(sorted(MECHANISMS))})"
    if name == "all":
        if rest:
            return None, f"{raw!r}: all takes no argument"
        return SpfTerm(raw, name, qualifier), ""
    if name in ("ip4", "ip6"):
        if not rest.startswith(":"):
            return None, f"{raw!r}: {name} needs an address ({name}:192.0.2.0/24)"
        address, _, length = rest[1:].partition("/")
        limit = 32 if name == "ip4" else 128
        try:
            parsed = ipaddress.ip_address(address)
            if parsed.version != (4 if name == "ip4" else 6):
                raise ValueError(f"{address} is not an IPv{name[-1]} address")
            if length and not length.isdigit():
                raise ValueError(f"/{length} is not a prefix length")
            cidr = _cidr(length or None, limit)
        except ValueError as exc:
            return None, f"{raw!r}: {exc}"
        if name == "ip4":
            return SpfTerm(raw, name, qualifier, address, cidr4=cidr), ""
        return SpfTerm(raw, name, qualifier, address, cidr6=cidr), ""
    domain, cidr_text = rest, ""
    if name in ("a", "mx"):
        slash = rest.find("/")
        domain, cidr_text = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    if domain and not domain.startswith(":"):
        return None, f"{raw!r}: expected ':' after {name}"
    domain = domain[1:]
    if name in ("include", "exists") and not domain:
        return None, f"{raw!r}: {name} needs a domain ({name}:_spf.example.com)"
    if domain:
        problem = domain_spec_problem(domain)
        if problem:
            return None, f"{raw!r}: {domain!r} {problem}"
    cidr4 = cidr6 = None
    if cidr_text:
        m = _DUAL_CIDR.match(cidr_text)
        if m is None:
            return None, f"{raw!r}: {cidr_text!r} is not a prefix length (/24, //64 or /24//64)"
        try:
            cidr4, cidr6 = _cidr(m.group(1), 32), _cidr(m.group(2), 128)
        except ValueError as exc:
            return None, f"{raw!r}: {exc}"
    return SpfTerm(raw, name, qualifier, domain, cidr4, cidr6), ""


def parse_spf(record: str) -> SpfRecord:
    """Parse one ``v=spf1`` record. Never raises."""
    tokens = record.split(" ")
    problems: list[str] = []
    notes: list[str] = []
    if tokens[0].lower() != "v=spf1":
        return SpfRecord(record, problems=("the record does not start with v=spf1",))
    if any(c in record for c in "\t\r\n"):
        problems.append("terms must be separated by spaces (the record holds a tab or line break)")
    terms: list[SpfTerm] = []
    seen_modifiers: set[str] = set()
    for raw in tokens[1:]:
        if not raw:
            continue  # several spaces in a row are allowed
        modifier = _MODIFIER.match(raw)
        if modifier is not None and ":" not in modifier.group(1):
            name, value = modifier.group(1).lower(), modifier.group(2)
            if name in ("redirect", "exp"):
                if name in seen_modifiers:
                    problems.append(f"{name}= appears more than once (RFC 7208 §6)")
                seen_modifiers.add(name)
                problem = domain_spec_problem(value)
                if problem:
                    problems.append(f"{raw!r}: {value!r} {problem}")
                    continue
            else:
                problem = _macro_problem(value)
                if problem:
                    problems.append(f"{raw!r}: {problem}")
                    continue
            terms.append(SpfTerm(raw, name, "", value, modifier=True))
            continue
        qualifier, body = ("+", raw)
        if raw[0] in "+-~?":
            qualifier, body = raw[0], raw[1:]
        term, problem = _mechanism(raw, qualifier, body)
        if term is None:
            problems.append(problem)
        else:
            terms.append(term)
    parsed = SpfRecord(record, tuple(terms), tuple(problems))
    all_term = parsed.all_term
    mechanisms = [t for t in terms if not t.modifier]
    if all_term is not None and mechanisms[-1] is not all_term:
        after = " ".join(t.raw for t in mechanisms[mechanisms.index(all_term) + 1 :])
        notes.append(f"terms after {all_term.raw} are never evaluated: {after}")
    if all_term is not None and parsed.modifier("redirect") is not None:
        notes.append(f"redirect= is ignored because the record has {all_term.raw}")
    if any(t.name == "ptr" for t in terms):
        notes.append("the ptr mechanism is deprecated (RFC 7208 §5.5): slow, and many receivers skip it")
    return SpfRecord(record, tuple(terms), tuple(problems), tuple(notes))


def record_with(record: str | None, add: list[str], *, all_term: str | None = None) -> str:
    """``record`` with the mechanisms ``add`` inserted before its ``all`` (or redirect), and its
    ``all`` replaced by ``all_term`` when given. ``None`` builds a new record."""
    if record is None or not is_spf(record):
        return " ".join(["v=spf1", *add, all_term or "-all"])
    tokens = [t for t in record.split(" ") if t]
    keep = [t for t in tokens[1:] if t not in add]
    position = len(keep)
    for index, token in enumerate(keep):
        bare = token.lstrip("+-~?").lower()
        if bare == "all" or bare.startswith(("redirect=", "exp=")):
            position = index
            break
    keep[position:position] = add
    if all_term is not None:
        replaced = [all_term if t.lstrip("+-~?").lower() == "all" else t for t in keep]
        if replaced == keep:
            replaced = [*keep, all_term]
        keep = replaced
    return " ".join(["v=spf1", *keep])


# --- open ranges, offline problems and repairs (what a proposed record is checked against) ----------

WIDEST_V4 = 8
"""An ``ip4:`` range wider than /8 is wider than any block ever allocated to one organization."""
WIDEST_V6 = 19
"""An ``ip6:`` range wider than /19 is wider than any allocation to one organization (RIRs hold /12s)."""


def open_range(term: SpfTerm) -> int | None:
    """The prefix length when ``term`` (ip4, ip6, or a/mx with a CIDR length) spans so many addresses
    that it passes practically anyone (``ip4:0.0.0.0/0``, ``a/0``); ``None`` otherwise."""
    if term.name in ("ip4", "a", "mx") and term.cidr4 is not None and term.cidr4 < WIDEST_V4:
        return term.cidr4
    if term.name in ("ip6", "a", "mx") and term.cidr6 is not None and term.cidr6 < WIDEST_V6:
        return term.cidr6
    return None


def offline_problems(text: str) -> frozenset[str]:
    """Every problem the record shows without DNS, as stable codes: ``not-spf``, ``syntax:<problem>``,
    ``all:+``, ``all:?``, ``all:none``, ``open:<term>``, ``note:<note>``. A proposed record may only
    keep codes its original had (see :func:`vet_spf`)."""
    if not is_spf(text):
        return frozenset({"not-spf"})
    record = parse_spf(text)
    codes = {f"syntax:{p}" for p in record.problems} | {f"note:{n}" for n in record.notes}
    term = record.all_term
    if term is not None and term.qualifier in "+?":
        codes.add(f"all:{term.qualifier}")
    elif term is None and record.modifier("redirect") is None:
        codes.add("all:none")
    codes.update(
        f"open:{t.raw.lower()}" for t in record.evaluated if t.qualifier == "+" and open_range(t) is not None
    )
    return frozenset(codes)


def _meant_terms(text: str) -> list[SpfTerm]:
    """The record's valid terms, counting those written together without a space
    (``ip4:192.0.2.10-all`` holds ``ip4:192.0.2.10`` and ``-all``): what the author meant."""
    if text[:6].lower() != "v=spf1":
        return []
    out: list[SpfTerm] = []
    for token in text[6:].split(" "):
        if not token:
            continue
        pieces = [token] if _single_term(token) else split_glued(token) or []
        for piece in pieces:
            out.extend(parse_spf(f"v=spf1 {piece}").terms)
    return out


def vet_spf(
    originals: list[str],
    proposal: str,
    *,
    fixing: frozenset[str] = frozenset(),
    drop: frozenset[str] = frozenset(),
) -> str:
    """Why ``proposal`` is not better than ``originals`` (``""`` when it is).

    Better means: it is an SPF record; its own problems are a subset of the originals' (as published,
    or as meant: terms written together split apart) minus the ``fixing`` codes; every valid term
    of every original is in it (same text, case-insensitive),
    except terms whose name or text is in ``drop`` (the terms the fix changes on purpose)."""
    if not is_spf(proposal):
        return "it is not an SPF record"
    before: set[str] = set()
    for original in originals:
        before |= offline_problems(original) if is_spf(original) else set()
        meant = " ".join(["v=spf1", *(t.raw for t in _meant_terms(original))])
        before |= offline_problems(meant)  # restoring what the author wrote is no new problem
    new = offline_problems(proposal) - (before - fixing)
    if new:
        return "it has problems of its own: " + "; ".join(sorted(new))
    have = {t.raw.lower() for t in parse_spf(proposal).terms}
    for original in originals:
        for term in _meant_terms(original):
            if term.raw.lower() not in have and term.name not in drop and term.raw.lower() not in drop:
                return f"it loses {term.raw}"
    return ""


def _single_term(text: str) -> bool:
    parsed = parse_spf(f"v=spf1 {text}")
    return parsed.valid and len(parsed.terms) == 1


def split_glued(token: str, depth: int = 0) -> list[str] | None:
    """``token`` as several valid terms when it is valid terms written without spaces
    (``ip4:192.0.2.10-all`` → ``ip4:192.0.2.10 -all``); ``None`` when it is not."""
    if depth > 8:
        return None
    for cut in range(1, len(token)):
        left, right = token[:cut], token[cut:]
        if not _single_term(left):
            continue
        if _single_term(right):
            return [left, right]
        rest = split_glued(right, depth + 1)
        if rest is not None:
            return [left, *rest]
    return None


def meant_record(text: str, strings: tuple[bytes, ...] = ()) -> str:
    """The record as its author meant it: when it was published as several TXT strings and joining
    them with a space gives fewer problems than the RFC's join without one, the spaced text (long
    records split in the middle of a term stay as the RFC joins them)."""
    if len(strings) > 1:
        spaced = " ".join(s.decode("utf-8", "replace").strip() for s in strings)
        if is_spf(spaced) and len(offline_problems(spaced)) < len(offline_problems(text) | {"not-spf"}):
            return spaced
    return text


def repair_spf(text: str, strings: tuple[bytes, ...] = ()) -> str:
    """``text`` with its broken terms repaired where the intent is plain, dropped where it is not.

    TXT strings are joined without a space (RFC 7208 §3.3), so a record published as
    ``"v=spf1 ip4:192.0.2.10" "-all"`` reads ``ip4:192.0.2.10-all``: the strings are joined with a
    space instead, and any token that is valid terms written together is split into them."""
    text = meant_record(text, strings)
    if not is_spf(text) and text[:6].lower() == "v=spf1":
        text = f"v=spf1 {text[6:]}"
    tokens = [t for t in text.split(" ")[1:] if t]
    out: list[str] = []
    for token in tokens:
        if _single_term(token):
            out.append(token)
            continue
        parts = split_glued(token)
        out.extend(parts or [])
    return " ".join(["v=spf1", *out])
