"""An :class:`~mailfate.doctor.inquiry.Inquiry` as a letter to a receiver's postmaster: Markdown or
HTML, English or Korean (times in KST for Korean readers, with UTC beside them).

The letter is built once as blocks (headings, paragraphs, tables, quotes) and then written out, so
both formats say the same thing; every value from the store or from a receiver is escaped for the
format (HTML: ``markupsafe``; Markdown: table pipes, backticks and line breaks).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from markupsafe import escape

from mailfate.doctor.inquiry import Inquiry
from mailfate.tracking.meanings_ko import meaning

__all__ = ["FORMATS", "LANGS", "render"]

LANGS = ("en", "ko")
FORMATS = ("md", "html")
KST = timezone(timedelta(hours=9), "KST")

Block = tuple[str, str] | tuple[str, list[str], list[list[str]]]

_T: dict[str, tuple[str, str]] = {
    "title_message": ("Delivery inquiry: our message to {receiver}", "메일 수신 문의: {receiver} 수신자에게 보낸 메일"),
    "title_domain": ("Delivery inquiry: our mail to {receiver}", "메일 수신 문의: {receiver}(으)로 보낸 메일"),
    "to": ("To the postmaster of {receiver},", "{receiver} 메일 관리자님께,"),
    "intro_message": (
        "we send transactional mail (such as sign-up verification codes) from {senders}. Our message below to {recipients} was deferred or refused by your mail servers. This letter gives every delivery attempt with your servers' own replies, our authentication state and how other receivers take the same mail.",
        "{senders}에서 회원가입 인증 코드 등 트랜잭션 메일을 발송하고 있습니다. 아래 메일이 {recipients} 수신자에게 전달되는 과정에서 귀사 메일 서버에 의해 지연되거나 거부되었습니다. 각 발송 시도와 귀사 서버의 응답, 당사의 인증 상태, 다른 수신 기관의 처리 현황을 정리했습니다.",
    ),
    "intro_domain": (
        "we send transactional mail (such as sign-up verification codes) from {senders}. Between {first} and {last}, your mail servers deferred or refused our mail to {n} recipient(s) at {receiver} ({deferred} still deferred, {bounced} refused, {expired} given up after retries). This letter gives the attempts with your servers' own replies, our authentication state and how other receivers take the same mail.",
        "{senders}에서 회원가입 인증 코드 등 트랜잭션 메일을 발송하고 있습니다. {first}부터 {last}까지 {receiver}의 수신자 {n}명에게 보낸 메일이 귀사 메일 서버에서 지연되거나 거부되었습니다(현재 지연 {deferred}건, 거부 {bounced}건, 재시도 후 만료 {expired}건). 각 발송 시도와 귀사 서버의 응답, 당사의 인증 상태, 다른 수신 기관의 처리 현황을 정리했습니다.",
    ),
    "question_h": ("Our question", "문의 사항"),
    "question": (
        "Do your servers apply stricter rules to mail from {senders}{ips} than to other senders, or block inbound mail from us? On {at} your server {host} answered:",
        "귀사 메일 서버가 {senders}{ips}에서 오는 메일에 다른 발신자보다 엄격한 규칙을 적용하고 있는지, 또는 당사 메일의 수신을 차단하고 있는지 확인 부탁드립니다. 귀사 서버 {host}는 {at}에 다음과 같이 응답했습니다.",
    ),
    "question_end": (
        "If there is a rule we do not meet, please tell us which one and we will fix it. Thank you.",
        "당사가 충족하지 못한 정책이 있다면 알려 주시면 바로 조치하겠습니다. 감사합니다.",
    ),
    "no_reply": ("(no reply text was recorded)", "(기록된 응답 문구가 없습니다)"),
    "ips": (" (our sending IPs: {ips})", "(당사 발송 IP: {ips})"),
    "ours_h": ("Our message", "당사 메일 정보"),
    "attempts_h": ("Delivery attempts", "발송 시도 내역"),
    "replies_h": ("Your servers' replies, grouped", "귀사 서버 응답 요약"),
    "auth_h": ("Our authentication (SPF, DKIM, DMARC)", "당사 인증 상태 (SPF, DKIM, DMARC)"),
    "auth_none": ("Our DNS records were not checked for this letter (mailfate report checks them unless --no-dns).", "이 문서에는 DNS 점검 결과가 포함되지 않았습니다 (mailfate report는 --no-dns가 없으면 점검합니다)."),
    "auth_ok": ("Every check passed.", "모든 점검을 통과했습니다."),
    "health_h": ("The same mail at other receivers (last 7 days)", "다른 수신 기관의 처리 현황 (최근 7일)"),
    "health_none": ("No other deliveries recorded.", "기록된 다른 발송이 없습니다."),
    "field": ("Field", "항목"),
    "value": ("Value", "값"),
    "time": ("Time", "시각"),
    "recipient": ("Recipient", "수신자"),
    "server": ("Your server (IP)", "귀사 서버 (IP)"),
    "reply": ("Reply", "응답"),
    "meaning": ("Our reading", "당사 해석"),
    "count": ("Times", "횟수"),
    "first_last": ("First – last", "처음 – 마지막"),
    "check": ("Check", "점검"),
    "severity": ("Result", "결과"),
    "finding": ("Finding", "내용"),
    "domain": ("Receiver", "수신 도메인"),
    "attempts": ("Attempts", "시도"),
    "delivered": ("Delivered", "전달"),
    "deferral": ("Deferred", "지연율"),
    "this": ("(you)", "(귀사)"),
    "message_id": ("Our message id", "메시지 ID (mailfate)"),
    "header_id": ("Message-ID header", "Message-ID 헤더"),
    "from": ("From", "보낸 사람"),
    "subject": ("Subject", "제목"),
    "submitted": ("Submitted", "접수 시각"),
    "fate": ("Fate now", "현재 상태"),
    "more": ("… and {n} earlier attempts (the full list: mailfate report --json).", "… 이전 시도 {n}건 생략 (전체 목록: mailfate report --json)."),
}  # fmt: skip


def _t(lang: str, key: str, **values: object) -> str:
    en, ko = _T[key]
    return (ko if lang == "ko" else en).format(**values)


def _when(at: datetime | None, lang: str) -> str:
    if at is None:
        return "–"
    if lang == "ko":
        return f"{at.astimezone(KST):%Y-%m-%d %H:%M:%S} KST ({at.astimezone(UTC):%H:%M:%S} UTC)"
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _meaning(lang: str, reason: str, cause: str = "") -> str:
    """The cause's meaning where the reply has a finer cause than Sisimai's reason (greylisted, not
    spamdetected), else the reason's."""
    for name in (cause, reason):
        text = meaning(lang, name) if name else ""
        if text:
            return f"{name}: {text}"
    return cause or reason


def blocks(inq: Inquiry, lang: str, *, max_rows: int = 50) -> list[Block]:
    return [
        *_opening(inq, lang),
        *_question(inq, lang),
        *_our_message(inq, lang),
        *_attempts(inq, lang, max_rows),
        *_replies(inq, lang),
        *_authentication(inq, lang),
        *_health(inq, lang),
    ]


def _senders(inq: Inquiry) -> str:
    return ", ".join(inq.sending_domains) or "?"


def _opening(inq: Inquiry, lang: str) -> list[Block]:
    """The title, the greeting and who we are and what happened."""
    senders = _senders(inq)
    title = "title_message" if inq.kind == "message" else "title_domain"
    if inq.kind == "message":
        intro = _t(lang, "intro_message", senders=senders, recipients=", ".join(inq.recipients) or "?")
    else:
        fates = list(inq.recipients.values())
        intro = _t(
            lang, "intro_domain", senders=senders, receiver=inq.receiver, n=len(inq.recipients),
            first=_when(inq.first_at, lang), last=_when(inq.last_at, lang),
            deferred=fates.count("deferred"), bounced=fates.count("bounced"), expired=fates.count("expired"),
        )  # fmt: skip
    return [
        ("h1", _t(lang, title, receiver=inq.receiver)),
        ("p", _t(lang, "to", receiver=inq.receiver)),
        ("p", intro),
    ]


def _question(inq: Inquiry, lang: str) -> list[Block]:
    """The question, with the receiver's own reply quoted."""
    quoted = inq.quoted
    ips = _t(lang, "ips", ips=", ".join(inq.ips)) if inq.ips else ""
    host = (quoted.remote_host or quoted.remote_ip or inq.receiver) if quoted else inq.receiver
    at = _when(quoted.at if quoted else None, lang)
    return [
        ("h2", _t(lang, "question_h")),
        ("p", _t(lang, "question", senders=_senders(inq), ips=ips, at=at, host=host)),
        ("quote", quoted.reply if quoted else _t(lang, "no_reply")),
        ("p", _t(lang, "question_end")),
    ]


def _our_message(inq: Inquiry, lang: str) -> list[Block]:
    if inq.kind != "message":
        return []
    m = inq.message
    rows = [
        [_t(lang, "message_id"), str(m.get("id", ""))],
        [_t(lang, "header_id"), str(m.get("message_id_header", ""))],
        [_t(lang, "from"), str(m.get("from", ""))],
        [_t(lang, "subject"), str(m.get("subject", ""))],
        [_t(lang, "submitted"), _when(m.get("submitted_at"), lang)],
        [_t(lang, "fate"), str(m.get("fate", ""))],
    ]
    return [("h2", _t(lang, "ours_h")), ("table", [_t(lang, "field"), _t(lang, "value")], rows)]


def _attempts(inq: Inquiry, lang: str, max_rows: int) -> list[Block]:
    """The attempts (the last ``max_rows`` of them) with the receiver's replies."""
    out: list[Block] = [("h2", _t(lang, "attempts_h"))]
    shown = inq.attempts[-max_rows:]
    if len(inq.attempts) > len(shown):
        out.append(("p", _t(lang, "more", n=len(inq.attempts) - len(shown))))
    rows = [
        [
            _when(a.at, lang),
            a.address,
            (
                f"{a.remote_host} ({a.remote_ip})"
                if a.remote_ip and a.remote_ip != a.remote_host
                else a.remote_host
            )
            + (f" {a.tls}" if a.tls else ""),
            f"{a.kind if a.kind != 'attempt' else a.outcome}: {a.reply}",
            a.header_message_id,
        ]
        for a in shown
    ]
    headers = [_t(lang, "time"), _t(lang, "recipient"), _t(lang, "server"), _t(lang, "reply"), "Message-ID"]
    out.append(("table", headers, rows))
    return out


def _replies(inq: Inquiry, lang: str) -> list[Block]:
    groups = inq.replies
    if not groups:
        return []
    rows = [
        [
            g.example,
            str(g.count),
            f"{_when(g.first_at, lang)} – {_when(g.last_at, lang)}",
            _meaning(lang, g.reason, g.cause),
        ]
        for g in groups[:20]
    ]
    headers = [_t(lang, "reply"), _t(lang, "count"), _t(lang, "first_last"), _t(lang, "meaning")]
    return [("h2", _t(lang, "replies_h")), ("table", headers, rows)]


def _authentication(inq: Inquiry, lang: str) -> list[Block]:
    """Our DNS findings, problems first."""
    out: list[Block] = [("h2", _t(lang, "auth_h"))]
    if inq.auth is None:
        out.append(("p", _t(lang, "auth_none")))
        return out
    problems = [f for f in inq.auth if f.severity.value in ("error", "warning")]
    passed = [f for f in inq.auth if f.severity.value == "ok"]
    if not problems:
        out.append(("p", _t(lang, "auth_ok")))
    rows = [[f.check, f.severity.value, f.message] for f in [*problems, *passed]]
    out.append(("table", [_t(lang, "check"), _t(lang, "severity"), _t(lang, "finding")], rows))
    return out


def _health(inq: Inquiry, lang: str) -> list[Block]:
    """How the same mail fares at other receivers."""
    if not inq.health:
        return [("h2", _t(lang, "health_h")), ("p", _t(lang, "health_none"))]
    rows = [
        [
            h["domain"] + (f" {_t(lang, 'this')}" if h["this_receiver"] else ""),
            f"{h['attempts']:,}",
            f"{h['delivered']:,}",
            f"{h['deferral_rate']:.1%}",
        ]
        for h in inq.health
    ]
    headers = [_t(lang, "domain"), _t(lang, "attempts"), _t(lang, "delivered"), _t(lang, "deferral")]
    return [("h2", _t(lang, "health_h")), ("table", headers, rows)]


def _md_cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").replace("`", "'").split())


def to_markdown(items: list[Block]) -> str:
    lines: list[str] = []
    for item in items:
        kind = item[0]
        if kind == "h1":
            lines += [f"# {_md_cell(str(item[1]))}", ""]
        elif kind == "h2":
            lines += [f"## {_md_cell(str(item[1]))}", ""]
        elif kind == "p":
            lines += [" ".join(str(item[1]).split()), ""]
        elif kind == "quote":
            lines += [f"> `{_md_cell(str(item[1]))}`", ""]
        elif kind == "table" and len(item) == 3:
            headers, rows = item[1], item[2]
            lines.append("| " + " | ".join(_md_cell(h) for h in headers) + " |")
            lines.append("|" + "---|" * len(headers))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines)


def to_html(items: list[Block], lang: str) -> str:
    parts = [
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{escape(str(items[0][1]))}</title>',
        "<style>body{font:15px/1.5 system-ui,'Noto Sans KR',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;"
        "text-align:left;vertical-align:top;overflow-wrap:anywhere}blockquote{background:#fff8e1;border-left:4px solid #f9a825;margin:1rem 0;"
        "padding:.6rem 1rem}code{word-break:break-word}</style></head><body>",
    ]
    for item in items:
        kind = item[0]
        if kind in ("h1", "h2", "p"):
            parts.append(f"<{kind}>{escape(str(item[1]))}</{kind}>")
        elif kind == "quote":
            parts.append(f"<blockquote><code>{escape(str(item[1]))}</code></blockquote>")
        elif kind == "table" and len(item) == 3:
            head = "".join(f"<th>{escape(h)}</th>" for h in item[1])
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in item[2]
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def render(inq: Inquiry, *, lang: str = "en", fmt: str = "md") -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    items = blocks(inq, lang)
    return to_markdown(items) if fmt == "md" else to_html(items, lang)
