"""What spam filters wrote into a received message: SpamAssassin (``X-Spam-Status``, ``-Score``,
``-Flag``), Microsoft 365 (``X-Forefront-Antispam-Report`` SCL/SFV/CAT, ``X-Microsoft-Antispam`` BCL,
``X-MS-Exchange-Organization-SCL``) and Gmail (``X-Gm-Spam``), each verdict explained."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

from mailfate.doctor.received import header_text

__all__ = ["SpamVerdict", "parse_spam_headers"]


@dataclass(frozen=True, slots=True)
class SpamVerdict:
    """What one spam filter's headers say."""

    filter: str
    verdict: str  # "spam", "not spam", "bulk", "unknown"
    score: float | None
    threshold: float | None
    tests: list[str]
    explanation: str
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "filter": self.filter,
            "verdict": self.verdict,
            "score": self.score,
            "threshold": self.threshold,
            "tests": self.tests,
            "explanation": self.explanation,
            "evidence": self.evidence,
        }


# -- spam filters -------------------------------------------------------------------------------
_SFV = {
    "NSPM": ("not spam", "filtered and judged not spam"),
    "SPM": ("spam", "filtered and judged spam"),
    "SKS": ("spam", "marked spam before filtering (a mail flow rule)"),
    "SKN": ("not spam", "marked not spam before filtering (a mail flow rule)"),
    "SKA": ("not spam", "skipped: the sender is on the tenant's allow list"),
    "SKB": ("spam", "the sender is on the tenant's block list"),
    "SKI": ("not spam", "skipped: intra-organisation mail"),
    "SFE": ("not spam", "skipped: the sender is in the recipient's safe senders"),
    "BLK": ("spam", "the sender is in the recipient's blocked senders"),
}
_CAT = {
    "BULK": "bulk mail",
    "SPM": "spam",
    "HSPM": "high-confidence spam",
    "PHSH": "phishing",
    "HPHSH": "high-confidence phishing",
    "HPHISH": "high-confidence phishing",
    "MALW": "malware",
    "SPOOF": "spoofing",
    "DIMP": "domain impersonation",
    "UIMP": "user impersonation",
    "GIMP": "mailbox-intelligence impersonation",
    "NONE": "none",
}


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse_spam_headers(msg: Message) -> list[SpamVerdict]:
    out: list[SpamVerdict] = []
    status = header_text(msg.get("X-Spam-Status", ""))
    score_h, flag = header_text(msg.get("X-Spam-Score", "")), header_text(msg.get("X-Spam-Flag", "")).upper()
    if status or score_h or flag:
        score = re.search(r"\b(?:score|hits)=(-?[\d.]+)", status)
        req = re.search(r"\brequired=(-?[\d.]+)", status)
        tests = re.search(r"\btests=((?:[\w.-]+,\s*)*[\w.-]*)", status)
        names = (
            [t.strip() for t in tests.group(1).split(",") if t.strip() and t.strip() != "none"]
            if tests
            else []
        )
        value = _num(score.group(1)) if score else _num(score_h)
        threshold = _num(req.group(1)) if req else None
        is_spam = status.lower().startswith("yes") or flag == "YES"
        verdict = "spam" if is_spam else "not spam" if status or flag else "unknown"
        out.append(
            SpamVerdict(
                "spamassassin",
                verdict,
                value,
                threshold,
                names,
                f"SpamAssassin: {verdict}"
                + (f", score {value:g}" if value is not None else "")
                + (f" (spam from {threshold:g})" if threshold is not None else "")
                + (f"; rules hit: {', '.join(names[:12])}" if names else "")
                + ".",
                status or score_h or flag,
            )
        )
    forefront = header_text(msg.get("X-Forefront-Antispam-Report", ""))
    ms = header_text(msg.get("X-Microsoft-Antispam", ""))
    org_scl = header_text(msg.get("X-MS-Exchange-Organization-SCL", ""))
    if forefront or ms or org_scl:
        tags = {k.upper(): v.strip() for k, v in re.findall(r"([A-Za-z]+):([^;]*)", forefront)}
        bcl_m = re.search(r"\bBCL:(-?\d+)", ms)
        scl = _num(tags.get("SCL", "") or org_scl)
        sfv = tags.get("SFV", "").upper()
        cat = tags.get("CAT", "").upper()
        verdict, sfv_text = _SFV.get(sfv, ("unknown", ""))
        if verdict == "unknown" and scl is not None:
            verdict = "spam" if scl >= 5 else "not spam"
        if cat in {"SPM", "HSPM", "PHSH", "HPHSH", "HPHISH", "MALW", "SPOOF"}:
            verdict = "spam"
        elif cat == "BULK" and verdict != "spam":
            verdict = "bulk"
        parts = [f"Microsoft 365: {verdict}"]
        if scl is not None:
            level = "skipped" if scl < 0 else "spam" if scl >= 5 else "not spam"
            parts.append(f"SCL {scl:g} ({level}; 5–6 spam, 7–9 high-confidence spam)")
        if sfv:
            parts.append(f"SFV {sfv}" + (f": {sfv_text}" if sfv_text else ""))
        if cat:
            parts.append(f"CAT {cat}: {_CAT.get(cat, 'see Microsoft docs')}")
        if bcl_m:
            parts.append(
                f"BCL {bcl_m.group(1)} (bulk complaint level 0–9; filtered as bulk from 7 by default)"
            )
        out.append(
            SpamVerdict(
                "microsoft",
                verdict,
                scl,
                5.0,
                [f"{k}:{tags[k]}" for k in ("SFV", "CAT", "SFS", "IPV", "CTRY") if tags.get(k)],
                "; ".join(parts) + ".",
                "; ".join(x for x in (forefront, ms, org_scl and f"Organization-SCL: {org_scl}") if x),
            )
        )
    gm = header_text(msg.get("X-Gm-Spam", ""))
    if gm:
        verdict = "spam" if gm.strip() == "1" else "not spam"
        out.append(SpamVerdict("gmail", verdict, None, None, [], f"Gmail: {verdict} (X-Gm-Spam: {gm}).", gm))
    return out
