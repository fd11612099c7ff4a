# ruff: noqa: E501 - one sentence per line, in two languages
"""The head of what ``mailfate report`` writes, per :class:`~mailfate.doctor.cases.Case`: a statement
(delivered, reported as spam, not sent), advice (remove a dead address, fix our side first, wait for
the retries) or the letter's opening and its one question, in English or Korean.

:mod:`mailfate.doctor.inquiry_text` adds the tables (our message, attempts, replies, our
authentication, other receivers) and writes the blocks out as Markdown or HTML.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from mailfate.doctor.cases import Case, Fix, target_envelope, topic
from mailfate.doctor.inquiry import Attempt, Inquiry
from mailfate.model.simulated import SIMULATED_LABEL
from mailfate.tracking.meanings_ko import meaning

__all__ = ["ASIDE", "KST", "Block", "head_blocks", "tr", "when"]

KST = timezone(timedelta(hours=9), "KST")

Block = tuple[str, str] | tuple[str, list[str], list[list[str]]]
"""("h1" | "h2" | "p" | "quote" | "code", text) or ("table", headers, rows)."""

_T: dict[str, tuple[str, str]] = {
    "simulated": (
        "Rehearsal — every reply below came from mailfate's built-in simulator ({label}), not from the mail servers of {receiver}: it shows what mailfate makes of such replies, not a real receiver's verdict.",
        "리허설 — 아래 응답은 모두 {receiver}의 실제 메일 서버가 아니라 mailfate에 내장된 {label}가 보낸 것입니다. 실제 수신 서버의 판단이 아니라, 이런 응답을 mailfate가 어떻게 해석하는지 보여 줍니다.",
    ),
    "simulated_letter": (
        "Rehearsal — every reply below came from mailfate's built-in simulator ({label}), not from the mail servers of {receiver}. Do not send this letter: it shows what mailfate would write to a real receiver that answered so.",
        "리허설 — 아래 응답은 모두 {receiver}의 실제 메일 서버가 아니라 mailfate에 내장된 {label}가 보낸 것입니다. 이 문의 메일은 보내지 마세요. 실제 수신 서버가 이렇게 응답했다면 mailfate가 작성했을 내용을 보여 줍니다.",
    ),
    "reading": ("Our reading: {meaning}", "당사 해석: {meaning}"),
    "why": ("{reason}, since {since}", "사유 {reason}, {since}부터"),
    "answered": ("{host} answered on {at}:", "{host} 서버가 {at}에 다음과 같이 응답했습니다."),
    "reported": (
        "{host} accepted the message, then sent a bounce report (DSN) on {at}:",
        "{host} 서버가 메일을 수락한 뒤 {at}에 반송 보고(DSN)를 보냈습니다.",
    ),
    "no_letter": ("There is nothing to ask the postmaster of {receiver}: no letter is written.", "{receiver} 메일 관리자에게 문의할 내용이 없으므로 문의 메일을 작성하지 않습니다."),
    # delivered
    "title_delivered": ("Delivered: our message to {receiver}", "전달 완료: {receiver}(으)로 보낸 메일"),
    "delivered": (
        "Our message to {recipients} was delivered: {host} accepted it on {at} (“{reply}”).",
        "{recipients} 수신자에게 보낸 메일이 전달되었습니다. {host} 서버가 {at}에 수락했습니다(“{reply}”).",
    ),
    "retried": (
        "Before that it was deferred {n} time(s), first on {at} (“{reply}”); a retry passed.",
        "그 전에 {n}회 지연되었고(처음 {at}, “{reply}”) 재시도에서 통과했습니다.",
    ),
    # complained
    "title_complained": ("Delivered, then reported as spam: our message to {receiver}", "전달 후 스팸 신고: {receiver}(으)로 보낸 메일"),
    "complained": (
        "On {at} the recipient reported it as spam (a feedback report, type {kind}). mailfate sends nothing more to that address from {senders}. This is the recipient's own judgement, not the receiver's policy, so there is nothing to ask the postmaster and no letter is written. Ask instead why this recipient did not want the mail: did they request it, and could they recognise the sender and the subject?",
        "{at}에 수신자가 이 메일을 스팸으로 신고했습니다(피드백 보고, 유형 {kind}). mailfate는 {senders}에서 이 주소로 더 이상 메일을 보내지 않습니다. 수신 기관의 정책이 아니라 수신자 본인의 판단이므로 메일 관리자에게 문의할 내용이 없으며 문의 메일을 작성하지 않습니다. 대신 수신자가 이 메일을 원하지 않은 이유를 살펴보세요. 수신자가 직접 요청한 메일인지, 발신자와 제목을 알아볼 수 있었는지 확인하세요.",
    ),
    # not sent
    "title_not_sent": ("Not sent: our message to {receiver}", "발송되지 않음: {receiver}(으)로 보낸 메일"),
    "not_sent": (
        "Our message to {recipients} was not sent: the address is on our suppression list ({why}). No server of {receiver} was contacted, so there is nothing to ask and no letter is written. Take the address off the list only if its owner asks for mail again.",
        "{recipients} 수신자에게 보낼 메일은 발송되지 않았습니다. 이 주소가 당사 수신 차단 목록에 있습니다({why}). {receiver}의 서버에 연결하지 않았으므로 문의할 내용이 없으며 문의 메일을 작성하지 않습니다. 주소의 주인이 다시 메일을 받겠다고 요청할 때만 목록에서 삭제하세요.",
    ),
    # dead
    "title_dead": ("Remove the address: {addresses}", "주소 삭제 필요: {addresses}"),
    "dead": (
        "The address does not exist, or its mailbox is disabled. Remove it from your list or ask its owner for a correct one: mail to it only bounces again, and a sender that keeps mailing unknown users loses reputation. This is not a question for the postmaster of {receiver}: no letter is written.",
        "이 주소는 존재하지 않거나 메일함이 정지되었습니다. 발송 목록에서 삭제하거나 주인에게 올바른 주소를 받으세요. 다시 보내도 반송될 뿐이며, 없는 주소로 계속 보내는 발신자는 평판이 떨어집니다. {receiver} 메일 관리자에게 문의할 사항이 아니므로 문의 메일을 작성하지 않습니다.",
    ),
    "suppressed_now": ("mailfate has already put it on the suppression list ({why}).", "mailfate가 이미 이 주소를 수신 차단 목록에 올렸습니다({why})."),
    # recipient
    "title_recipient": ("The recipient's mailbox cannot take mail now: {receiver}", "수신자 메일함 문제: {receiver}"),
    "recipient": (
        "This is about the recipient's mailbox, not about how {receiver} treats our mail: there is nothing to ask the postmaster and no letter is written. mailfate retries until the deadline; if it keeps failing, reach the recipient another way.",
        "이는 {receiver}가 당사 메일을 처리하는 방식이 아니라 수신자 메일함의 문제이므로 메일 관리자에게 문의할 내용이 없으며 문의 메일을 작성하지 않습니다. mailfate는 기한까지 재시도합니다. 계속 실패하면 다른 방법으로 수신자에게 연락하세요.",
    ),
    # pending
    "title_pending": ("Still being retried: our message to {receiver}", "재시도 중: {receiver}(으)로 보낸 메일"),
    "pending": (
        "mailfate is still retrying our message to {recipients} (deadline: {deadline}). Greylisting and short deferrals usually pass on a retry from the same IP with the same envelope sender: write to the postmaster only if the mail has not passed by the deadline.",
        "mailfate가 {recipients} 수신자에게 보낼 메일을 아직 재시도하고 있습니다(기한: {deadline}). 그레이리스팅이나 일시적인 지연은 같은 IP와 같은 봉투 발신자로 재시도하면 대개 통과합니다. 기한까지 통과하지 못한 경우에만 메일 관리자에게 문의하세요.",
    ),
    # ours
    "title_ours": ("Fix our side first: our mail to {receiver}", "당사 설정부터 수정: {receiver}(으)로 보낸 메일"),
    "ours": (
        "The replies of {receiver} point at us, not at them:",
        "{receiver}의 응답은 수신 측이 아니라 당사 쪽 문제를 가리킵니다.",
    ),
    "fix_h": ("What to fix first", "먼저 수정할 항목"),
    "fix_spf": (
        "SPF — the receiver found {evidence} for {about}, our envelope (MAIL FROM / VERP) domain: receivers check SPF against that domain, not the From domain. Publish an SPF record that lists our sending IPs for the envelope domain we send with, {target}:",
        "SPF — 수신 서버가 당사 봉투(MAIL FROM / VERP) 도메인 {about}에 대해 {evidence} 결과를 얻었습니다. 수신 서버는 From 도메인이 아니라 이 도메인으로 SPF를 검사합니다. 당사가 사용할 봉투 도메인 {target}에 발송 IP를 포함한 SPF 레코드를 게시하세요.",
    ),
    "fix_dkim": (
        "DKIM — the receiver found {evidence}: our mail to it was not signed, or the signature did not verify. Give mailfate a key for {about} and publish its public key:",
        "DKIM — 수신 서버가 {evidence} 결과를 얻었습니다. 당사 메일에 서명이 없거나 서명 검증에 실패했습니다. mailfate에 {about} 도메인의 키를 설정하고 공개키를 게시하세요.",
    ),
    "fix_dmarc": (
        "DMARC — the receiver found no DMARC record for {about} ({evidence}). Publish one; p=none at first, so that receivers send reports:",
        "DMARC — 수신 서버가 {about}의 DMARC 레코드를 찾지 못했습니다({evidence}). 레코드를 게시하세요. 처음에는 p=none으로 두어 수신 서버의 보고서를 받으세요.",
    ),
    "fix_align": (
        "Alignment — our envelope domain {about} is not under the From domain's organizational domain ({orgs}), so SPF can never count for DMARC. Send with a VERP domain under {header}, {target}, whose MX reaches our inbound server (bounce reports come back there):",
        "정렬 — 당사 봉투 도메인 {about}이(가) From 도메인과 같은 조직 도메인에 속하지 않아({orgs}) SPF가 DMARC 판정에 반영되지 않습니다. {header} 아래의 VERP 도메인 {target}(으)로 발송하고, 반송 보고가 돌아오도록 그 도메인의 MX가 당사 수신 서버를 가리키게 하세요.",
    ),
    "fix_finding": (
        "{about} — our DNS check found an error: {note}",
        "{about} — 당사 DNS 점검에서 오류가 발견되었습니다. 수신 서버도 같은 레코드를 봅니다. 아래 레코드를 게시하세요.",
    ),
    "fix_finding_bare": (
        "{about} — our DNS check found an error: {note}",
        "{about} — 당사 DNS 점검에서 오류가 발견되었습니다. 수신 서버도 같은 결과를 얻습니다. 자세한 내용은 mailfate doctor domain {header} --mail-from {envelope} 명령으로 확인하세요.",
    ),
    "fix_dns_unchecked": (
        "Our SPF, DKIM and DMARC were not checked (--no-dns). Check them before asking about authentication: run this report without --no-dns, or mailfate doctor domain {about} --mail-from {envelope}.",
        "당사 SPF, DKIM, DMARC를 점검하지 않았습니다(--no-dns). 인증에 대해 문의하기 전에 점검하세요. --no-dns 없이 이 보고서를 다시 만들거나 mailfate doctor domain {about} --mail-from {envelope} 명령을 실행하세요.",
    ),
    "fix_cause": ("{about} — {meaning}", "{about} — {meaning}"),
    "fix_done": ("our side checks clean", "당사 설정 점검 통과"),
    "ours_end": (
        "No letter is written while the evidence points at us. After the fix, check with mailfate doctor domain {header} --mail-from {envelope}, send again, and run this report again if {receiver} still refuses.",
        "근거가 당사 쪽 문제를 가리키는 동안에는 문의 메일을 작성하지 않습니다. 수정한 뒤 mailfate doctor domain {header} --mail-from {envelope} 명령으로 점검하고 다시 발송하세요. 그래도 {receiver}가 거부하면 이 보고서를 다시 만드세요.",
    ),
    # the letter
    "title_message": ("Delivery inquiry: our message to {receiver}", "메일 수신 문의: {receiver} 수신자에게 보낸 메일"),
    "title_domain": ("Delivery inquiry: our mail to {receiver}", "메일 수신 문의: {receiver}(으)로 보낸 메일"),
    "to": ("To the postmaster of {receiver},", "{receiver} 메일 관리자님께,"),
    "intro_message": (
        "we send transactional mail (such as sign-up verification codes) from {senders}. Our message below to {recipients} was {fate} by your mail servers. This letter gives every delivery attempt with your servers' own replies, our authentication state and how other receivers take the same mail.",
        "{senders}에서 회원가입 인증 코드 등 트랜잭션 메일을 발송하고 있습니다. 아래 메일이 {recipients} 수신자에게 전달되는 과정에서 귀사 메일 서버에 의해 {fate}. 각 발송 시도와 귀사 서버의 응답, 당사의 인증 상태, 다른 수신 기관의 처리 현황을 정리했습니다.",
    ),
    "fate_expired": ("deferred until we gave up", "재시도 기한까지 계속 지연되었습니다"),
    "fate_bounced": ("refused", "거부되었습니다"),
    "fate_deferred": ("deferred (we are still retrying)", "지연되고 있습니다(재시도 중)"),
    "intro_domain": (
        "we send transactional mail (such as sign-up verification codes) from {senders}. Between {first} and {last}, your mail servers deferred or refused our mail to {n} recipient(s) at {receiver} ({deferred} still deferred, {bounced} refused, {expired} given up after retries). This letter gives the attempts with your servers' own replies, our authentication state and how other receivers take the same mail.",
        "{senders}에서 회원가입 인증 코드 등 트랜잭션 메일을 발송하고 있습니다. {first}부터 {last}까지 {receiver}의 수신자 {n}명에게 보낸 메일이 귀사 메일 서버에서 지연되거나 거부되었습니다(현재 지연 {deferred}건, 거부 {bounced}건, 재시도 후 만료 {expired}건). 각 발송 시도와 귀사 서버의 응답, 당사의 인증 상태, 다른 수신 기관의 처리 현황을 정리했습니다.",
    ),
    "dead_aside": (
        "({n} of these recipient(s) were refused as addresses that do not exist; we remove them, and they are not what we ask about.)",
        "(이 중 {n}명은 존재하지 않는 주소로 거부되었습니다. 해당 주소는 당사가 삭제하며, 이번 문의와는 관계가 없습니다.)",
    ),
    "question_h": ("Our question", "문의 사항"),
    "q_block": (
        "Do your servers block mail from {senders}{ips}, or apply stricter rules to it than to other senders? If so, on what grounds (a blocklist, a reputation score, a content rule), and what should we change to be accepted?",
        "귀사 메일 서버가 {senders}{ips}에서 오는 메일을 차단하거나 다른 발신자보다 엄격한 규칙을 적용하고 있는지 확인 부탁드립니다. 그렇다면 어떤 근거(차단 목록, 평판 점수, 본문 규칙 등)인지, 수신되려면 당사가 무엇을 바꿔야 하는지 알려 주십시오.",
    ),
    "q_greylist": (
        "Your servers greylisted our mail and never accepted a retry: {n} attempt(s) between {first} and {last}, each with the same envelope sender, until we gave up. Does your greylisting accept our retries, and could you allow mail from {senders}{ips}?",
        "귀사 메일 서버가 당사 메일을 그레이리스팅한 뒤 재시도를 받아들이지 않았습니다. {first}부터 {last}까지 같은 봉투 발신자로 {n}회 시도했으나 통과하지 못해 발송을 포기했습니다. 귀사의 그레이리스팅이 당사의 재시도를 받아들이는지, 그리고 {senders}{ips}에서 오는 메일을 허용해 주실 수 있는지 문의드립니다.",
    ),
    "q_auth": (
        "Your servers say our mail failed authentication, but our SPF, DKIM and DMARC check clean from outside (below). Which check fails on your side, for which domain, and with what result?",
        "귀사 메일 서버는 당사 메일의 인증이 실패했다고 응답했지만, 외부에서 점검한 당사 SPF, DKIM, DMARC에는 문제가 없습니다(아래 참조). 귀사 측에서 어떤 검사가 어느 도메인에 대해 어떤 결과로 실패하는지 알려 주십시오.",
    ),
    "q_rate": (
        "Your servers limit how fast we may send. What rate (messages or connections per minute) do you accept from {senders}{ips}, and can it be raised for transactional mail such as verification codes?",
        "귀사 메일 서버가 당사의 발송 속도를 제한하고 있습니다. {senders}{ips}에서 분당 몇 통(또는 몇 개의 연결)까지 받으시는지, 인증 코드 같은 트랜잭션 메일에 대해서는 한도를 높여 주실 수 있는지 문의드립니다.",
    ),
    "q_other": (
        "Your servers did not accept our mail from {senders}{ips}. Could you tell us why, and what we should change?",
        "귀사 메일 서버가 {senders}{ips}에서 보낸 메일을 받지 않았습니다. 그 이유와 당사가 바꿔야 할 점을 알려 주십시오.",
    ),
    "ips": (" (our sending IPs: {ips})", "(당사 발송 IP: {ips})"),
    "question_end": (
        "If there is a rule we do not meet, please tell us which one and we will fix it. Thank you.",
        "당사가 충족하지 못한 정책이 있다면 알려 주시면 바로 조치하겠습니다. 감사합니다.",
    ),
}  # fmt: skip


def tr(lang: str, key: str, **values: object) -> str:
    """The string ``key`` in ``lang`` (en or ko), filled in."""
    en, ko = _T[key]
    return (ko if lang == "ko" else en).format(**values)


def when(at: datetime | None, lang: str) -> str:
    """A time for the reader: UTC, or KST with UTC beside it for a Korean reader."""
    if at is None:
        return "–"
    if lang == "ko":
        return f"{at.astimezone(KST):%Y-%m-%d %H:%M:%S} KST ({at.astimezone(UTC):%H:%M:%S} UTC)"
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _host(a: Attempt, receiver: str) -> str:
    if a.remote_host and a.remote_ip and a.remote_ip != a.remote_host:
        return f"{a.remote_host} ({a.remote_ip})"
    return a.remote_host or a.remote_ip or receiver


def _meaning(lang: str, a: Attempt) -> str:
    for name in (a.cause, a.reason):
        text = meaning(lang, name) if name else ""
        if text:
            return text
    return ""


def _evidence(inq: Inquiry, quoted: tuple[Attempt, ...], lang: str, *, meanings: bool = False) -> list[Block]:
    """Each quoted reply under the line that says who sent it and when."""
    out: list[Block] = []
    for a in quoted:
        key = "reported" if a.kind == "bounced" else "answered"
        out += [("p", tr(lang, key, host=_host(a, inq.receiver), at=when(a.at, lang))), ("quote", a.reply)]
        if meanings and _meaning(lang, a):
            out.append(("p", tr(lang, "reading", meaning=_meaning(lang, a))))
    return out


def _banner(inq: Inquiry, lang: str, *, letter: bool = False) -> list[Block]:
    """Said first whenever the replies came from the built-in simulator."""
    if not inq.simulated:
        return []
    key = "simulated_letter" if letter else "simulated"
    return [("p", tr(lang, key, label=SIMULATED_LABEL[lang], receiver=inq.receiver))]


_REASONS: dict[str, tuple[str, str]] = {
    "complaint": ("spam complaint", "스팸 신고"), "feedback": ("spam complaint", "스팸 신고"),
    "unsubscribe": ("unsubscribed", "수신 거부"), "unsubscribed": ("unsubscribed", "수신 거부"),
    "manual": ("added by hand", "수동 등록"), "userunknown": ("unknown user", "존재하지 않는 주소"),
    "hostunknown": ("unknown domain", "존재하지 않는 도메인"), "notaccept": ("domain accepts no mail", "메일을 받지 않는 도메인"),
    "suspend": ("mailbox disabled", "정지된 메일함"), "hasmoved": ("mailbox moved", "이전된 메일함"),
}  # fmt: skip
"""A suppression's reason in words (the stored code when it has none)."""


def _why(inq: Inquiry, addresses: list[str], lang: str) -> str:
    """Why the addresses are on the suppression list (reason, since when, the note given)."""
    parts: list[str] = []
    for address in addresses:
        entry = inq.suppressed.get(address)
        if entry is None:
            continue
        since = entry.get("since")
        words = _REASONS.get(entry["reason"])
        reason = (words[1] if lang == "ko" else words[0]) if words else entry["reason"]
        text = tr(lang, "why", reason=reason, since=when(since, lang)) if since else reason
        parts.append(f"{text}: {entry['detail']}" if entry.get("detail") else text)
    return "; ".join(parts)


def _recipients(inq: Inquiry) -> str:
    return ", ".join(inq.recipients) or "?"


def _senders(inq: Inquiry) -> str:
    return ", ".join(inq.sending_domains) or "?"


def head_blocks(inq: Inquiry, case: Case, lang: str) -> list[Block]:
    """The title and what the reader must know first, for the case."""
    writer = {
        "delivered": _delivered, "complained": _delivered, "not_sent": _not_sent, "dead": _dead,
        "recipient": _recipient, "pending": _pending, "ours": _ours,
    }.get(case.kind, _letter)  # fmt: skip
    return writer(inq, case, lang)


def _delivered(inq: Inquiry, case: Case, lang: str) -> list[Block]:
    """Delivered (and perhaps reported as spam afterwards): a statement, no letter."""
    out: list[Block] = [("h1", tr(lang, f"title_{case.kind}", receiver=inq.receiver)), *_banner(inq, lang)]
    if case.delivered:
        a = case.delivered[-1]
        host = _host(a, inq.receiver)
        out.append(
            (
                "p",
                tr(
                    lang,
                    "delivered",
                    recipients=_recipients(inq),
                    host=host,
                    at=when(a.at, lang),
                    reply=a.reply,
                ),
            )
        )
    before = [a for a in inq.attempts if a.refusal and (not case.delivered or a.at <= case.delivered[-1].at)]
    if before:
        out.append(
            ("p", tr(lang, "retried", n=len(before), at=when(before[0].at, lang), reply=before[0].reply))
        )
    complaints = [a for a in inq.attempts if a.kind == "complained"]
    if case.kind == "complained" and complaints:
        c = complaints[-1]
        out.append(("p", tr(lang, "complained", at=when(c.at, lang), kind=c.text, senders=_senders(inq))))
    else:
        out.append(("p", tr(lang, "no_letter", receiver=inq.receiver)))
    return out


def _not_sent(inq: Inquiry, case: Case, lang: str) -> list[Block]:
    why = _why(inq, list(inq.recipients), lang) or "suppressed"
    return [
        ("h1", tr(lang, "title_not_sent", receiver=inq.receiver)),
        ("p", tr(lang, "not_sent", recipients=_recipients(inq), why=why, receiver=inq.receiver)),
    ]


def _dead(inq: Inquiry, case: Case, lang: str) -> list[Block]:
    """A dead address: the reply that says so, what it means, remove it."""
    names = list(dict.fromkeys(a.address for a in case.dead))
    addresses = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")
    out: list[Block] = [("h1", tr(lang, "title_dead", addresses=addresses)), *_banner(inq, lang)]
    out += _evidence(inq, case.dead[:5], lang)  # the rest are in the attempts below
    out.append(("p", tr(lang, "dead", receiver=inq.receiver)))
    why = _why(inq, list(dict.fromkeys(a.address for a in case.dead)), lang)
    if why:
        out.append(("p", tr(lang, "suppressed_now", why=why)))
    return out


def _recipient(inq: Inquiry, case: Case, lang: str) -> list[Block]:
    out: list[Block] = [("h1", tr(lang, "title_recipient", receiver=inq.receiver)), *_banner(inq, lang)]
    out += _evidence(inq, case.quoted, lang, meanings=True)
    out.append(("p", tr(lang, "recipient", receiver=inq.receiver)))
    return out


def _pending(inq: Inquiry, case: Case, lang: str) -> list[Block]:
    out: list[Block] = [("h1", tr(lang, "title_pending", receiver=inq.receiver)), *_banner(inq, lang)]
    out += _evidence(inq, case.quoted, lang)
    deadline = inq.message.get("deadline")
    text = tr(lang, "pending", recipients=_recipients(inq), deadline=when(deadline, lang))
    return [*out, ("p", text)]


def _fix_blocks(inq: Inquiry, case: Case, fix: Fix, lang: str) -> list[Block]:
    header = inq.sending_domains[0] if inq.sending_domains else "?"
    values: dict[str, object] = {
        "about": fix.about, "evidence": fix.evidence, "header": header, "note": fix.note,
        "envelope": inq.envelope_domain or header, "target": target_envelope(inq, case.alignment),
    }  # fmt: skip
    if fix.what == "align" and case.alignment is not None:
        env, hdr = case.alignment.organizational
        values["orgs"] = f"{env} ≠ {hdr}"
    if fix.what == "cause":
        values["meaning"] = meaning(lang, fix.about) or fix.evidence
    key = "fix_finding_bare" if fix.what == "finding" and not fix.records else f"fix_{fix.what}"
    out: list[Block] = [("p", tr(lang, key, **values))]
    if fix.records:
        out.append(("code", _placeholders("\n".join(fix.records), lang)))
    return out


ASIDE = re.compile(r"\s{2,}\([^()]*(?:\([^()]*\)[^()]*)*\)\s*$", re.M)
_PLACEHOLDERS_KO = {
    "<base64 public key>": "<base64 공개키>",
    "<sending IP>": "<발송 IP>",
    "<inbound host>": "<수신 서버 호스트>",
    "<selector>": "<셀렉터>",
    "<public key>": "<공개키>",
    "<key directory>": "<키 디렉터리>",
    "# holding": "# 다음 파일을 둔 곳:",
}


def _placeholders(text: str, lang: str) -> str:
    """The records' placeholders in the reader's language (the records themselves are DNS and TOML)."""
    if lang == "ko":
        for en, ko in _PLACEHOLDERS_KO.items():
            text = text.replace(en, ko)
        text = ASIDE.sub("", text)  # the doctor's English asides after a record
    return text


def _ours(inq: Inquiry, case: Case, lang: str) -> list[Block]:
    """The evidence points at us: the replies that show it, then what to fix, no letter."""
    header = inq.sending_domains[0] if inq.sending_domains else "?"
    out: list[Block] = [("h1", tr(lang, "title_ours", receiver=inq.receiver)), *_banner(inq, lang)]
    out += [("p", tr(lang, "ours", receiver=inq.receiver)), *_evidence(inq, case.quoted, lang)]
    out.append(("h2", tr(lang, "fix_h")))
    for fix in case.fixes:
        out += _fix_blocks(inq, case, fix, lang)
    target = target_envelope(inq, case.alignment)
    end = tr(lang, "ours_end", header=header, envelope=target, receiver=inq.receiver)
    return [*out, ("p", end)]


def _letter(inq: Inquiry, case: Case, lang: str) -> list[Block]:
    """The letter: who we are, what happened, the one question the case asks, their replies."""
    senders = _senders(inq)
    if inq.kind == "message":
        fate = str(inq.message.get("fate", ""))
        fate_key = f"fate_{fate}" if fate in ("expired", "bounced", "deferred") else "fate_bounced"
        intro = tr(
            lang, "intro_message", senders=senders, recipients=_recipients(inq), fate=tr(lang, fate_key)
        )
    else:
        fates = list(inq.recipients.values())
        intro = tr(
            lang, "intro_domain", senders=senders, receiver=inq.receiver, n=len(inq.recipients),
            first=when(inq.first_at, lang), last=when(inq.last_at, lang),
            deferred=fates.count("deferred"), bounced=fates.count("bounced"), expired=fates.count("expired"),
        )  # fmt: skip
    title = "title_message" if inq.kind == "message" else "title_domain"
    out: list[Block] = [("h1", tr(lang, title, receiver=inq.receiver)), *_banner(inq, lang, letter=True)]
    out += [("p", tr(lang, "to", receiver=inq.receiver)), ("p", intro)]
    if case.dead and inq.kind == "domain":
        out.append(("p", tr(lang, "dead_aside", n=len(case.dead))))
    on_topic = [a for a in inq.attempts if a.refusal and topic(a) == case.topic]
    ips = tr(lang, "ips", ips=", ".join(inq.ips)) if inq.ips else ""
    question = tr(
        lang, f"q_{case.topic or 'other'}", senders=senders, ips=ips, n=len(on_topic),
        first=when(on_topic[0].at if on_topic else None, lang), last=when(on_topic[-1].at if on_topic else None, lang),
    )  # fmt: skip
    out += [("h2", tr(lang, "question_h")), ("p", question), *_evidence(inq, case.quoted, lang)]
    return [*out, ("p", tr(lang, "question_end"))]
