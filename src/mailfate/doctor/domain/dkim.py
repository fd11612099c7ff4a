"""The ``dkim`` check: each selector's key record, its type and length, and — when the private key is
given with ``--dkim-key`` — a real signature made with it and verified against DNS by dkimpy.

Without the private key nothing can be signed; the record is then checked by parsing it the way
dkimpy does (RSA) or with ``cryptography`` (ed25519, whose dkimpy path needs PyNaCl).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
from dataclasses import dataclass

import dkim as dkimpy
import dkim.util as dkimpy_util
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mailfate.doctor.domain.context import CheckContext
from mailfate.doctor.domain.report import CheckOutcome, dns_problem, txt_fix
from mailfate.doctor.findings import Severity
from mailfate.errors import InputError

__all__ = ["COMMON_SELECTORS", "DkimKey", "check", "load_dkim_key"]

COMMON_SELECTORS: tuple[str, ...] = (
    "default",
    "dkim",
    "google",
    "k1",
    "mail",
    "s1",
    "s2",
    "selector1",
    "selector2",
)
RFC = "RFC 6376"
GOOD_BITS = 2048
MIN_BITS = 1024


@dataclass(frozen=True, slots=True)
class DkimKey:
    """A private key given with ``--dkim-key``."""

    kind: str
    """``rsa`` or ``ed25519``."""
    record: str
    """The TXT value that publishes its public half."""
    signing_key: bytes
    """What dkimpy signs with: PKCS#1 PEM (RSA) or the base64 seed (ed25519)."""
    public: bytes
    """RSA modulus (big-endian) or the raw ed25519 public key: compared with DNS."""


def load_dkim_key(pem: bytes) -> DkimKey:
    """Read a PEM private key; ``InputError`` when it is not an RSA or ed25519 private key."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"--dkim-key: not an unencrypted PEM private key ({exc})") from exc
    if isinstance(key, rsa.RSAPrivateKey):
        spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        pkcs1 = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        modulus = key.public_key().public_numbers().n
        return DkimKey(
            "rsa",
            f"v=DKIM1; k=rsa; p={base64.b64encode(spki).decode('ascii')}",
            pkcs1,
            modulus.to_bytes((modulus.bit_length() + 7) // 8, "big"),
        )
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw_public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        seed = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return DkimKey(
            "ed25519",
            f"v=DKIM1; k=ed25519; p={base64.b64encode(raw_public).decode('ascii')}",
            base64.b64encode(seed),
            raw_public,
        )
    raise InputError(f"--dkim-key: a {type(key).__name__} cannot sign DKIM (use RSA 2048 or ed25519)")


@dataclass(frozen=True, slots=True)
class _Published:
    kind: str
    bits: int
    public: bytes


def _parse(record: str) -> tuple[dict[str, str], str]:
    try:
        tags = dkimpy_util.parse_tag_value(record.encode("ascii"))
    except UnicodeEncodeError:
        return {}, "holds characters that are not ASCII"
    except dkimpy_util.InvalidTagValueList as exc:
        return {}, f"is not a tag=value list ({type(exc).__name__}: {exc})"
    return {k.decode("ascii").lower(): v.decode("ascii") for k, v in tags.items()}, ""


def _key(name: str, record: str, tags: dict[str, str]) -> tuple[_Published | None, str]:
    kind = tags.get("k", "rsa").lower()
    p = "".join(tags.get("p", "").split())
    if kind == "ed25519":
        try:
            raw = base64.b64decode(p, validate=True)
            ed25519.Ed25519PublicKey.from_public_bytes(raw)
        except (binascii.Error, ValueError) as exc:
            return None, f"p= is not an ed25519 public key ({exc})"
        return _Published("ed25519", 256, raw), ""
    if kind != "rsa":
        return None, f"k={kind} is not a key type verifiers know (rsa, ed25519)"
    try:
        pk, bits, _ktag, _tlsrpt = dkimpy.evaluate_pk(name.encode("ascii"), record.encode("ascii"))
    except dkimpy.DKIMException as exc:
        return None, f"dkimpy cannot use the key: {exc}"
    except (ValueError, TypeError, IndexError) as exc:  # dkimpy's ASN.1 reader on garbage
        return None, f"dkimpy cannot use the key ({type(exc).__name__}: {exc})"
    if pk is None:  # dkimpy's answer for a key whose s= names no mail service
        service = tags.get("s", "")
        return None, f"s={service} says the key is not for email (RFC 6376 3.6.1: s=* or s=email)"
    modulus = int(pk["modulus"])
    return _Published("rsa", int(bits), modulus.to_bytes((modulus.bit_length() + 7) // 8, "big")), ""


def _placeholder(name: str, key: DkimKey | None) -> str:
    if key is not None:
        return txt_fix(name, key.record)
    return (
        txt_fix(name, "v=DKIM1; k=rsa; p=<base64 public key>")
        + "  (make the key: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim.pem;"
        " openssl pkey -in dkim.pem -pubout -outform DER | base64 -w0)"
    )


def _test_sign(ctx: CheckContext, selector: str, key: DkimKey) -> tuple[bool | None, str]:
    domain = ctx.domain.ascii
    message = (
        f"From: postmaster@{domain}\r\nTo: postmaster@{domain}\r\nSubject: mailfate doctor DKIM test\r\n"
        f"Date: {email.utils.formatdate(usegmt=True)}\r\nMessage-ID: <dkim-test@{domain}>\r\n\r\n"
        "This message checks the DKIM key.\r\n"
    ).encode("ascii")
    algorithm = b"rsa-sha256" if key.kind == "rsa" else b"ed25519-sha256"
    try:
        signature = dkimpy.sign(
            message,
            selector.encode("ascii"),
            domain.encode("ascii"),
            key.signing_key,
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=algorithm,
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        )
    except dkimpy.NaClNotFoundError:
        return None, "PyNaCl is not installed, so dkimpy cannot sign with ed25519; the keys were compared"
    except dkimpy.DKIMException as exc:
        return False, f"dkimpy could not sign: {exc}"

    def dnsfunc(name: bytes | str, timeout: float = 5) -> str:
        text = (name.decode("ascii") if isinstance(name, bytes) else name).rstrip(".")
        return next(iter(ctx.dns.txt(text).records), "")

    try:
        verified = bool(dkimpy.DKIM(signature + message).verify(dnsfunc=dnsfunc))
    except dkimpy.DKIMException as exc:
        return False, f"verification failed: {exc}"
    return verified, "signed and verified" if verified else "the signature did not verify"


@dataclass(frozen=True, slots=True)
class _Site:
    """One selector being checked: where its key lives, the private key given for it, what DNS said."""

    selector: str
    name: str
    key: DkimKey | None
    evidence: str


def _selector(ctx: CheckContext, selector: str, out: CheckOutcome) -> tuple[bool | None, _Published | None]:
    """Check one selector; ``(found, usable key or None)`` — found is ``None`` when DNS did not answer,
    which says nothing about whether a key is published."""
    name = f"{selector}._domainkey.{ctx.domain.ascii}"
    given = ctx.dkim_keys.get(selector)
    key = load_dkim_key(given) if given is not None else None
    answer = ctx.dns.txt(name)
    if answer.failed:
        if not ctx.selectors_guessed:
            out.findings.append(
                dns_problem("dkim", answer, ctx.timeout, what=f"the check of selector {selector!r}")
            )
        return None, None
    if not answer.records:
        if not ctx.selectors_guessed:
            _no_record(selector, name, key, out)
        return False, None
    site = _Site(selector, name, key, answer.presentation())
    if len(answer.records) > 1:
        _several_records(site, len(answer.records), out)
        return True, None
    record = answer.records[0]
    tags = _record_tags(site, record, out)
    if tags is None:
        return True, None
    usable = _tag_findings(site, record, tags, out)
    published, problem = _key(name, record, tags)
    if published is None:
        out.add(
            "dkim",
            Severity.ERROR,
            f"The key of selector {selector!r} is unusable: {problem}",
            evidence=site.evidence,
            fix=_placeholder(name, key),
            source=f"{RFC} §3.6.1",
            details={"selector": selector},
        )
        return True, None
    usable = _strength(ctx, site, published, out) and usable
    if key is not None:
        usable = _compare(ctx, site, key, published, out) and usable
    return True, published if usable else None


def _no_record(selector: str, name: str, key: DkimKey | None, out: CheckOutcome) -> None:
    out.add(
        "dkim",
        Severity.ERROR,
        f"No DKIM key for selector {selector!r}: {name} has no TXT record, so signatures with "
        f"s={selector} fail (permerror, no key)",
        fix=_placeholder(name, key),
        source=f"{RFC} §3.6.2",
        details={"selector": selector},
    )


def _several_records(site: _Site, count: int, out: CheckOutcome) -> None:
    out.add(
        "dkim",
        Severity.ERROR,
        f"{site.name} has {count} TXT records: verifiers may pick any one; keep exactly one key",
        evidence=site.evidence,
        fix=_placeholder(site.name, site.key) + "  (and delete the others)",
        source=f"{RFC} §3.6.2.2",
        details={"selector": site.selector},
    )


def _record_tags(site: _Site, record: str, out: CheckOutcome) -> dict[str, str] | None:
    """The record's tags; ``None`` (with the finding) when it is malformed or revoked."""
    selector = site.selector
    tags, problem = _parse(record)
    if not problem and "v" in tags and (tags["v"] != "DKIM1" or not record.lstrip().startswith("v")):
        problem = "v= must be DKIM1 and come first"
    if not problem and "p" not in tags:
        problem = "has no p= tag (the public key)"
    if problem:
        out.add(
            "dkim",
            Severity.ERROR,
            f"The DKIM record of selector {selector!r} {problem}: signatures fail (permerror)",
            evidence=site.evidence,
            fix=_placeholder(site.name, site.key),
            source=f"{RFC} §3.6.1",
            details={"selector": selector},
        )
        return None
    if not tags["p"].strip():
        out.add(
            "dkim",
            Severity.ERROR,
            f"Selector {selector!r} is revoked (empty p=): every signature with s={selector} fails",
            evidence=site.evidence,
            fix="Sign with a selector that has a key, or publish a new key: "
            + _placeholder(site.name, site.key),
            source=f"{RFC} §3.6.1",
            details={"selector": selector, "revoked": True},
        )
        return None
    return tags


def _tag_findings(site: _Site, record: str, tags: dict[str, str], out: CheckOutcome) -> bool:
    """The h=, s= and t= tags; ``False`` when one of them keeps the key from verifying email."""
    selector, name = site.selector, site.name
    usable = True
    hashes = [h.strip().lower() for h in tags.get("h", "sha256").split(":")]
    if "sha256" not in hashes:
        usable = False
        out.add(
            "dkim",
            Severity.ERROR,
            f"Selector {selector!r} allows only h={tags['h']}: rsa-sha1 is not verified any more",
            evidence=site.evidence,
            fix=txt_fix(name, record.replace(f"h={tags['h']}", "h=sha256")),
            source="RFC 8301 §3.1",
        )
    services = [s.strip() for s in tags.get("s", "*").split(":")]
    if "*" not in services and "email" not in services:
        usable = False
        out.add(
            "dkim",
            Severity.ERROR,
            f"Selector {selector!r} has s={tags['s']}: the key may not be used for email",
            evidence=site.evidence,
            fix=_placeholder(name, site.key),
            source=f"{RFC} §3.6.1",
        )
    if "y" in [f.strip() for f in tags.get("t", "").split(":")]:
        out.add(
            "dkim",
            Severity.WARNING,
            f"Selector {selector!r} is in test mode (t=y): receivers may treat signed mail as unsigned",
            evidence=site.evidence,
            fix=txt_fix(name, "; ".join(f"{k}={v}" for k, v in tags.items() if k != "t")),
            source=f"{RFC} §3.6.1",
        )
    return usable


def _strength(ctx: CheckContext, site: _Site, published: _Published, out: CheckOutcome) -> bool:
    """The key type and length; ``False`` when the RSA key is too short for verifiers."""
    selector, key, evidence = site.selector, site.key, site.evidence
    details = {"selector": selector, "key_type": published.kind, "bits": published.bits}
    if published.kind == "ed25519":
        out.add(
            "dkim",
            Severity.OK,
            f"Selector {selector!r}: ed25519 key (RFC 8463)",
            evidence=evidence,
            source="RFC 8463",
            details=details,
        )
    elif published.bits < MIN_BITS:
        out.add(
            "dkim",
            Severity.ERROR,
            f"Selector {selector!r}: RSA key of {published.bits} bits; verifiers reject keys under "
            f"{MIN_BITS} bits",
            evidence=evidence,
            fix=_placeholder(site.name, key if key and key.kind == "rsa" else None),
            source="RFC 8301 §3.2",
            details=details,
        )
    elif published.bits < GOOD_BITS:
        out.add(
            "dkim",
            Severity.WARNING,
            f"Selector {selector!r}: RSA key of {published.bits} bits is weak; use 2048 bits (a new "
            "selector, then retire this one)",
            evidence=evidence,
            fix=_placeholder(
                f"{'rsa2048' if selector != 'rsa2048' else 'rsa2048b'}._domainkey.{ctx.domain.ascii}", None
            ),
            source="RFC 8301 §3.2; Gmail: use a 2048-bit key",
            details=details,
        )
    else:
        out.add(
            "dkim",
            Severity.OK,
            f"Selector {selector!r}: RSA key of {published.bits} bits",
            evidence=evidence,
            source="RFC 8301 §3.2",
            details=details,
        )
    return published.kind == "ed25519" or published.bits >= MIN_BITS


def _compare(ctx: CheckContext, site: _Site, key: DkimKey, published: _Published, out: CheckOutcome) -> bool:
    selector, name, evidence = site.selector, site.name, site.evidence
    matches = key.kind == published.kind and key.public == published.public
    verified, how = _test_sign(ctx, selector, key) if matches else (False, "the public keys differ")
    if verified is None:
        verified = matches
    out.facts["dkim.test_sign"] = bool(verified) and out.facts.get("dkim.test_sign", True)
    if verified:
        out.add(
            "dkim",
            Severity.OK,
            f"Selector {selector!r}: a test message signed with --dkim-key verified against DNS ({how})",
            evidence=evidence,
            source=RFC,
        )
        return True
    out.add(
        "dkim",
        Severity.ERROR,
        f"Selector {selector!r}: the --dkim-key private key does not match the published key ({how}); "
        "every signature fails",
        evidence=evidence,
        fix=txt_fix(name, key.record),
        source=f"{RFC} §6.1.3",
    )
    return False


def _unanswered_guesses(ctx: CheckContext, unanswered: list[str], out: CheckOutcome) -> None:
    """No --selector, no key found, and DNS did not answer for some common selectors: that is not
    "no key" — say the check could not finish, and which selectors went unanswered."""
    domain = ctx.domain.ascii
    first = ctx.dns.txt(f"{unanswered[0]}._domainkey.{domain}")
    every = len(unanswered) == len(ctx.selectors)
    out.findings.append(
        dns_problem(
            "dkim",
            first,
            ctx.timeout,
            severity=Severity.ERROR if every else Severity.WARNING,
            what=f"the dkim check ({len(unanswered)} of {len(ctx.selectors)} common selectors unanswered: "
            f"{', '.join(unanswered)}; no key was found at the others)"
            if not every
            else "the dkim check (no selector could be looked up; this is not the same as having no key)",
        )
    )


def check(ctx: CheckContext) -> CheckOutcome:
    """The ``dkim`` check of :func:`mailfate.doctor.domain.check_domain`."""
    out = CheckOutcome()
    domain = ctx.domain.ascii
    ctx.dns.prefetch((f"{s}._domainkey.{domain}", "TXT") for s in ctx.selectors)
    results = [(s, *_selector(ctx, s, out)) for s in ctx.selectors]
    found = [r for r in results if r[1]]
    unanswered = [r[0] for r in results if r[1] is None]
    usable = [r[2] for r in results if r[2] is not None]
    if ctx.selectors_guessed and unanswered and not found:
        _unanswered_guesses(ctx, unanswered, out)
        return out
    if ctx.selectors_guessed:
        if not found:
            out.add(
                "dkim",
                Severity.WARNING,
                f"No --selector given and none of the common selectors ({', '.join(ctx.selectors)}) has a "
                "key: DKIM was not checked",
                fix=f"mailfate doctor domain {domain} --selector <the s= of a DKIM-Signature you sent>",
                source=RFC,
            )
            return out
        out.add(
            "dkim",
            Severity.INFO,
            f"No --selector given; found keys at the common selectors: {', '.join(r[0] for r in found)}",
            source=RFC,
        )
    out.facts["dkim.selectors"] = len(found)
    if usable or not unanswered:  # a selector DNS did not answer for may hold the key: unknown
        out.facts["dkim.any_valid"] = bool(usable)
    if not unanswered or len(usable) < len(found):
        out.facts["dkim.valid"] = len(usable) == (len(found) if ctx.selectors_guessed else len(results))
    rsa_bits = [k.bits for k in usable if k.kind == "rsa"]
    out.facts["dkim.min_rsa_bits"] = min(rsa_bits, default=0)
    if usable and not rsa_bits:
        out.add(
            "dkim",
            Severity.WARNING,
            "Only ed25519 keys: not every receiver verifies ed25519 signatures, and to those the mail "
            "looks unsigned; sign with an RSA 2048 key as well (two signatures)",
            fix=_placeholder(f"rsa._domainkey.{domain}", None),
            source="RFC 8463; RFC 6376 §4.2",
        )
    return out
