"""What a message body shows: sender name, phone, e-mail, postal address and the opt-out means.

Heuristics over the decoded text, in Korean, English and Japanese. Each returns the matched text (the
evidence a finding quotes) or ``""`` when nothing was found.
"""

from __future__ import annotations

import re

from mailfate.doctor.compliance.message import LintMessage

__all__ = [
    "ad_label",
    "company_name",
    "email_address",
    "free_optout",
    "optout_link",
    "optout_means",
    "optout_wording",
    "phone",
    "postal_address",
]

_PHONE = re.compile(
    r"(?<![\d-])(?:\+\d{1,3}[\s.-]?)?\(?\d{2,4}\)?[\s.-]\d{3,4}[\s.-]\d{4}(?![\d-])"
    r"|(?<![\d-])1[5-9]\d{2}-\d{4}(?![\d-])"
)
_EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_ADDRESS = re.compile(
    # Korean road-name or lot addresses: 테헤란로 123, 세종대로 110, 역삼동 12-3
    r"[가-힣0-9]{1,12}(?:로|길)\s?\d{1,5}(?:-\d{1,4})?(?:번길)?"
    r"|[가-힣]{1,10}(?:구|군)\s+[가-힣0-9]{1,10}(?:동|읍|면|리)\s*\d{1,5}"
    # US/Canada street addresses, P.O. boxes, ZIP and postal codes
    r"|\b\d{1,6}\s+(?:[A-Za-z0-9.'-]+\s+){1,5}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Square|Sq"
    r"|Suite|Ste|Parkway|Pkwy|Highway|Hwy|Terrace|Plaza)\b\.?"
    r"|\bP\.?\s?O\.?\s+Box\s+\d+"
    r"|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"
    r"|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b"
    # Japan: 〒100-0001, 東京都千代田区…
    r"|〒\s?\d{3}-?\d{4}"
    r"|(?:東京都|北海道|大阪府|京都府|[一-龥]{2,3}県)[一-龥ぁ-んァ-ン0-9０-９-]{1,12}[市区町村]"
    # European street lines: Hauptstraße 5, 12 rue de Rivoli, 10115 Berlin
    r"|\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|weg|platz|gasse)\s+\d{1,5}\b"
    r"|\b\d{1,4},?\s+(?:rue|avenue|boulevard|via|calle|plaza)\s+[\w' -]{2,30}",
    re.IGNORECASE,
)
_COMPANY = re.compile(
    r"주식회사\s*[\w가-힣]+|\(주\)\s*[\w가-힣]+|㈜\s*[\w가-힣]+|[\w가-힣]+\s*(?:주식회사|\(주\)|㈜)"
    r"|(?:회사명|상호|보낸\s?사람|발신자|전송자)\s*[:：]?\s*\S+"
    r"|\b[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,4},?\s+(?:Inc|LLC|Ltd|Corp|Co|GmbH|S\.A|B\.V|K\.K)\b\.?"
    r"|株式会社\s*\S+|\S+\s*株式会社|有限会社\s*\S+"
    r"|\b(?:Sender|Sent by|From)\s*:\s*\S+",
)
_OPTOUT = re.compile(
    r"수신\s?거부|수신\s?동의\s?철회|수신을\s?원하지\s?않|구독\s?(?:취소|해지)"
    r"|unsubscribe|opt[\s-]?out|manage\s+(?:your\s+)?(?:e-?mail\s+)?preferences"
    r"|配信停止|配信解除|受信拒否|メール配信を?停止"
    r"|se\s+désabonner|désinscri|abbestellen|abmelden|darse\s+de\s+baja",
    re.IGNORECASE,
)
_OPTOUT_URL = re.compile(
    r"unsub|opt-?out|optout|reject|refuse|suppress|preferences|수신거부|%EC%88%98%EC%8B%A0", re.I
)
_FREE = re.compile(
    r"무료\s*수신\s*거부|수신\s*거부[^\n]{0,40}무료|무료[^\n]{0,40}수신\s*거부|(?<!\d)080-?\d{3,4}-?\d{4}"
)
_AD_LABEL = re.compile(
    r"\(광고\)|\badvertisement\b|\badvertising\b|\bthis\s+is\s+an\s+ad\b|\bsponsored\b|\bpromotion(?:al)?\b",
    re.IGNORECASE,
)


def _first(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return " ".join(match.group(0).split()) if match else ""


def phone(msg: LintMessage) -> str:
    return _first(_PHONE, msg.text)


def email_address(msg: LintMessage) -> str:
    return _first(_EMAIL, msg.text)


def postal_address(msg: LintMessage) -> str:
    return _first(_ADDRESS, msg.text)


def company_name(msg: LintMessage) -> str:
    """The sender's name as the body states it: the From display name found in the body, or a
    company marker (주식회사, Inc., 株式会社, 보낸 사람: …)."""
    display = msg.from_display.strip()
    if len(display) >= 2 and display.casefold() in msg.text.casefold():
        return display
    return _first(_COMPANY, msg.text)


def optout_wording(msg: LintMessage) -> str:
    return _first(_OPTOUT, msg.text)


def optout_link(msg: LintMessage) -> str:
    """A body link that looks like an unsubscribe link, else any web link when opt-out wording is shown."""
    for link in msg.links:
        if _OPTOUT_URL.search(link):
            return link
    if optout_wording(msg):
        for link in msg.links:
            if link.lower().startswith(("https://", "http://")):
                return link
    return ""


def optout_means(msg: LintMessage) -> str:
    """How the recipient can opt out: a link, a mailto/e-mail address or an 080 free-call number."""
    link = optout_link(msg)
    if link:
        return link
    for link in msg.links:
        if link.lower().startswith("mailto:"):
            return link
    return _first(_FREE, msg.text) if "080" in msg.text else email_address(msg)


def free_optout(msg: LintMessage) -> str:
    return _first(_FREE, msg.text)


def ad_label(msg: LintMessage) -> str:
    head = msg.subject + "\n" + "\n".join(msg.text.splitlines()[:5])
    return _first(_AD_LABEL, head)
