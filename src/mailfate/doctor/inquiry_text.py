"""An :class:`~mailfate.doctor.inquiry.Inquiry` as a letter to a receiver's postmaster: Markdown or
HTML, English or Korean (times in KST for Korean readers, with UTC beside them).

The letter is built once as blocks (headings, paragraphs, tables, quotes) and then written out, so
both formats say the same thing; every value from the store or from a receiver is escaped for the
format (HTML: ``markupsafe``; Markdown: table pipes, backticks and line breaks).
"""

from __future__ import annotations

from markupsafe import escape

from mailfate.doctor.case_text import ASIDE, KST, Block, head_blocks, when
from mailfate.doctor.cases import Case, decide, record
from mailfate.doctor.inquiry import Inquiry
from mailfate.tracking.meanings_ko import meaning

__all__ = ["FORMATS", "KST", "LANGS", "blocks", "render"]

LANGS = ("en", "ko")
FORMATS = ("md", "html")
FENCE = "`" * 3

_T: dict[str, tuple[str, str]] = {
    "ours_h": ("Our message", "당사 메일 정보"),
    "attempts_h": ("Delivery attempts", "발송 시도 내역"),
    "replies_h": ("Your servers' replies, grouped", "귀사 서버 응답 요약"),
    "replies_h_ours": ("The receiver's replies, grouped", "수신 서버 응답 요약"),
    "server_ours": ("Receiving server (IP)", "수신 서버 (IP)"),
    "align": ("alignment", "정렬"),
    "aligned": ("MAIL FROM (VERP) {envelope} aligns with From {header} (relaxed: both under {org})", "봉투(MAIL FROM, VERP) 도메인 {envelope}이(가) From 도메인 {header}와 정렬됩니다(완화 모드: 모두 {org} 소속)"),
    "not_aligned": ("MAIL FROM (VERP) {envelope} does not align with From {header} ({org_env} ≠ {org_hdr}): SPF cannot count for DMARC", "봉투(MAIL FROM, VERP) 도메인 {envelope}이(가) From 도메인 {header}와 정렬되지 않습니다({org_env} ≠ {org_hdr}). SPF가 DMARC 판정에 반영되지 않습니다"),
    "auth_h": ("Our authentication (SPF, DKIM, DMARC)", "당사 인증 상태 (SPF, DKIM, DMARC)"),
    "auth_none": ("Our DNS records were not checked (mailfate report checks them unless --no-dns).", "이 문서에는 DNS 점검 결과가 포함되지 않았습니다 (mailfate report는 --no-dns가 없으면 점검합니다)."),
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
    "proposed": ("proposed", "게시 제안"),
    "this_ours": ("(this receiver)", "(이 수신 도메인)"),
    "message_id": ("Our message id", "메시지 ID (mailfate)"),
    "header_id": ("Message-ID header", "Message-ID 헤더"),
    "from": ("From", "보낸 사람"),
    "subject": ("Subject", "제목"),
    "submitted": ("Submitted", "접수 시각"),
    "fate": ("Fate now", "현재 상태"),
    "ok": ("ok", "통과"), "warning": ("warning", "주의"), "error": ("error", "오류"), "info": ("info", "참고"),
    "o_attempt": ("attempt", "시도"), "o_deferred": ("deferred", "지연"), "o_bounced": ("bounced", "거부·반송"),
    "o_delivered": ("delivered", "전달"), "o_expired": ("expired", "만료"), "o_delayed": ("delay notice", "지연 통지"),
    "o_complained": ("reported as spam", "스팸 신고"), "o_queued": ("queued", "대기"), "o_sending": ("sending", "발송 중"),
    "o_suppressed": ("not sent (suppressed)", "발송 안 함(수신 차단)"),
    "more": ("… and {n} earlier attempts (the full list: mailfate report --json).", "… 이전 시도 {n}건 생략 (전체 목록: mailfate report --json)."),
}  # fmt: skip


def _t(lang: str, key: str, **values: object) -> str:
    en, ko = _T[key]
    return (ko if lang == "ko" else en).format(**values)


def _word(lang: str, outcome: str) -> str:
    """An outcome or fate in the reader's language (as stored when it has no translation)."""
    return _t(lang, f"o_{outcome}") if f"o_{outcome}" in _T else outcome


_when = when


def _meaning(lang: str, reason: str, cause: str = "") -> str:
    """The cause's meaning where the reply has a finer cause than Sisimai's reason (greylisted, not
    spamdetected), else the reason's."""
    for name in (cause, reason):
        text = meaning(lang, name) if name else ""
        if text:
            return f"{name}: {text}"
    return cause or reason


def blocks(inq: Inquiry, lang: str, *, max_rows: int = 50, case: Case | None = None) -> list[Block]:
    """What ``report`` writes for the inquiry's case (:func:`mailfate.doctor.cases.decide`): the head
    (a statement, advice or the letter), then the evidence — every table for a letter or a fix of
    ours, the message and its attempts for a statement."""
    case = case or decide(inq)
    head = head_blocks(inq, case, lang)
    if case.kind in ("ask", "ours"):
        return [
            *head,
            *_our_message(inq, lang),
            *_attempts(inq, lang, max_rows, letter=case.kind == "ask"),
            *_replies(inq, lang, letter=case.kind == "ask"),
            *_authentication(inq, case, lang),
            *_health(inq, lang, letter=case.kind == "ask"),
        ]
    return [*head, *_our_message(inq, lang), *_attempts(inq, lang, max_rows, letter=False)]


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
        [_t(lang, "fate"), _word(lang, str(m.get("fate", "")))],
    ]
    return [("h2", _t(lang, "ours_h")), ("table", [_t(lang, "field"), _t(lang, "value")], rows)]


def _attempts(inq: Inquiry, lang: str, max_rows: int, *, letter: bool = True) -> list[Block]:
    """The attempts (the last ``max_rows`` of them) with the receiver's replies."""
    if not inq.attempts:
        return []
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
            f"{_word(lang, a.kind if a.kind != 'attempt' else a.outcome)}: {a.reply}".rstrip(": "),
            a.header_message_id,
        ]
        for a in shown
    ]
    server = _t(lang, "server" if letter else "server_ours")
    headers = [_t(lang, "time"), _t(lang, "recipient"), server, _t(lang, "reply"), "Message-ID"]
    out.append(("table", headers, rows))
    return out


def _replies(inq: Inquiry, lang: str, *, letter: bool = True) -> list[Block]:
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
    return [("h2", _t(lang, "replies_h" if letter else "replies_h_ours")), ("table", headers, rows)]


def _record_ko(evidence: str, fix: str) -> str:
    """For a Korean reader: the record as found, else the record proposed (never English advice)."""
    if evidence:
        return evidence
    return f"{_t('ko', 'proposed')}: {ASIDE.sub('', fix)}" if record(fix) else ""


def _authentication(inq: Inquiry, case: Case, lang: str) -> list[Block]:
    """Our envelope/From alignment, then our DNS findings, problems first. A Korean reader gets the
    check and its result in Korean beside the record as found (the finding's English words are not
    put in a Korean letter)."""
    out: list[Block] = [("h2", _t(lang, "auth_h"))]
    rows: list[list[str]] = []
    if case.alignment is not None:
        al = case.alignment
        env, hdr = al.organizational
        text = (
            _t(lang, "aligned", envelope=al.envelope, header=al.header, org=hdr)
            if al.aligned
            else _t(lang, "not_aligned", envelope=al.envelope, header=al.header, org_env=env, org_hdr=hdr)
        )
        rows.append([_t(lang, "align"), _t(lang, "ok" if al.aligned else "warning"), text])
    if inq.auth is None:
        out.append(("p", _t(lang, "auth_none")))
    else:
        problems = [f for f in inq.auth if f.severity.value in ("error", "warning")]
        passed = [f for f in inq.auth if f.severity.value == "ok"]
        if not problems:
            out.append(("p", _t(lang, "auth_ok")))
        for f in [*problems, *passed]:
            said = f.message if lang != "ko" else _record_ko(f.evidence, f.fix)
            rows.append([f.check, _word(lang, f.severity.value), " ".join(said.split())[:400]])
    if rows:
        out.append(("table", [_t(lang, "check"), _t(lang, "severity"), _t(lang, "finding")], rows))
    return out


def _health(inq: Inquiry, lang: str, *, letter: bool = True) -> list[Block]:
    """How the same mail fares at other receivers."""
    if not inq.health:
        return [("h2", _t(lang, "health_h")), ("p", _t(lang, "health_none"))]
    rows = [
        [
            h["domain"] + (f" {_t(lang, 'this' if letter else 'this_ours')}" if h["this_receiver"] else ""),
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
        elif kind == "code":
            lines += [FENCE, *str(item[1]).replace(FENCE, "'" * 3).splitlines(), FENCE, ""]
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
        elif kind == "code":
            parts.append(f"<pre><code>{escape(str(item[1]))}</code></pre>")
        elif kind == "table" and len(item) == 3:
            head = "".join(f"<th>{escape(h)}</th>" for h in item[1])
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in item[2]
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def render(inq: Inquiry, *, lang: str = "en", fmt: str = "md", case: Case | None = None) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    items = blocks(inq, lang, case=case)
    return to_markdown(items) if fmt == "md" else to_html(items, lang)
