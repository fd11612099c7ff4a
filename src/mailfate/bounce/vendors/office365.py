"""Microsoft 365 / Exchange Online non-delivery reports ("Undeliverable: ...").

Exchange Online marks its NDRs with ``X-MS-Exchange-Message-Is-Ndr`` and generates them on hosts
under ``prod.outlook.com``, ``protection.outlook.com`` or ``exchangelabs.com``. The RFC 3464 part is
read when present; some NDRs have none, and then the "Diagnostic information for administrators"
section of the text is read instead::

    Generating server: AM0PR01MB0001.eurprd01.prod.outlook.com

    nobody@example.org
    Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found ...'

Enhanced codes with three-digit details (5.1.10, 5.4.312, 4.7.650) are Microsoft's and are kept.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import ADDRESS, dsn_drafts, dsn_text, host_of, text_before
from mailfate.model.reply import STATUS_PATTERN, normalize_status

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "office365"
PRIORITY = 255

# "Generating server" in the languages Exchange Online writes its NDRs in (en, de, fr, es, it, nl, pt, sv).
_GENERATING_LABEL = (
    r"(?:Generating server|Generierender Server|Serveur de g\S{1,3}ration|Servidor de generaci\S{1,3}n"
    r"|Server di generazione|Genererende server|Servidor gerador|Genererande server)"
)
_CLOUD = re.compile(
    r"(?:" + _GENERATING_LABEL + r"|Reporting-MTA)\s*:\s*(?:dns;\s*)?[A-Za-z0-9.\-]*"
    r"\.(?:outlook\.com|exchangelabs\.com|office365\.com|onmicrosoft\.com|outlook\.cn)\b",
    re.IGNORECASE,
)
_SUBJECTS = (
    "Undeliverable",
    "Unzustellbar",
    "Non remis",
    "No se puede entregar",
    "Non recapitabile",
    "Onbestelbaar",
    "N\u00e3o \u00e9 poss\u00edvel entregar",
    "Olevererbart",
)
_ADMIN = (
    "Diagnostic information for administrators:",
    "Diagnoseinformationen f\u00fcr Administratoren:",
    "Informations de diagnostic pour les administrateurs",
    "Informaci\u00f3n de diagn\u00f3stico para administradores:",
    "Informazioni di diagnostica per gli amministratori:",
    "Diagnostische gegevens voor beheerders:",
    "Informa\u00e7\u00f5es de diagn\u00f3stico para administradores:",
    "Diagnostisk information f\u00f6r administrat\u00f6rer:",
)
_HEADERS_END = (
    "Original message headers:",
    "Urspr\u00fcngliche Nachrichtenkopfzeilen:",
    "tes de message d'origine",
    "Encabezados del mensaje original:",
    "Intestazioni originali del messaggio:",
    "Oorspronkelijke berichtkoppen:",
    "Cabe\u00e7alhos da mensagem original:",
    "Ursprungshuvuden:",
    "Content-Type: ",
)
_GENERATING = re.compile(_GENERATING_LABEL + r"\s*:\s*([A-Za-z0-9.\-]+)", re.IGNORECASE)
_REMOTE_RETURNED = re.compile(r"Remote Server returned '(.{1,2000}?)'", re.IGNORECASE | re.DOTALL)
_HASHED = re.compile(
    r"^#<?\s{0,4}(?:#" + STATUS_PATTERN + r"\s{1,4}smtp;\s{0,4})?"
    r"([245]\d\d[ -].{1,1000}?)>?\s{0,20}(?:(?:##|#SMTP#).*)?$"
)
_MAILTO = re.compile(r"<mailto:[^>]*>")


def _is_exchange_online(mail: Mail) -> bool:
    if mail.message.get("X-MS-Exchange-Message-Is-Ndr") is None and not mail.subject.startswith(_SUBJECTS):
        return False
    return _CLOUD.search(mail.text) is not None


def _from_text(text: str) -> list[Draft]:
    start, mark = next(((text.find(m), m) for m in _ADMIN if m in text), (-1, ""))
    if start < 0:
        return []
    section = text_before(text[start + len(mark) :], *_HEADERS_END)
    generating = _GENERATING.search(section)
    reporting = generating.group(1).lower() if generating else ""
    drafts: list[Draft] = []
    lines = section.split("\n")
    for i, raw in enumerate(lines):
        line = _MAILTO.sub("", raw).strip().strip("<>")
        if not line or " " in line or not ADDRESS.fullmatch(line):
            continue
        rest = "\n".join(lines[i + 1 : i + 8])
        draft = Draft(recipient=line, action="failed", reporting_mta=reporting, diagnostic_type="SMTP")
        returned = _REMOTE_RETURNED.search(rest)
        if returned:
            draft.diagnostic = " ".join(returned.group(1).split())
        else:
            for candidate in rest.split("\n"):
                hashed = _HASHED.match(candidate.strip())
                if hashed:
                    draft.diagnostic = hashed.group(1).strip()
                    break
        draft.status = normalize_status(draft.diagnostic)
        drafts.append(draft)
    return drafts


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for an Exchange Online NDR, or None when the mail is not one."""
    if not _is_exchange_online(mail):
        return None
    status = dsn_text(mail)
    drafts = dsn_drafts(status) if status else []
    if not drafts:
        drafts = _from_text(mail.text)
    for d in drafts:
        if d.reporting_mta:
            d.reporting_mta = host_of(d.reporting_mta)
    return drafts or None
