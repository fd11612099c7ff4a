"""The dashboard's words in English and Korean.

``text(lang, key)`` gives a label; reasons and fates have their own tables so the timeline can say
in Korean what a receiver's reply means (the English meanings live in
:data:`mailfate.tracking.timeline.MEANING`).
"""

from __future__ import annotations

from mailfate.tracking.meanings_ko import MEANING_KO as _MEANING_KO
from mailfate.tracking.meanings_ko import meaning

__all__ = ["LANGS", "fate_label", "meaning", "pick_lang", "step_meaning", "text"]

LANGS = ("en", "ko")

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("mailfate", "mailfate"),
    "overview": ("Overview", "개요"),
    "domains": ("Receivers", "수신 도메인"),
    "events": ("Live events", "실시간 이벤트"),
    "messages": ("Messages", "메시지 검색"),
    "suppressions": ("Suppressions", "수신 차단 목록"),
    "alerts": ("Alerts", "경고"),
    "window": ("Window", "기간"),
    "last_1h": ("last hour", "최근 1시간"),
    "last_24h": ("last 24 hours", "최근 24시간"),
    "last_7d": ("last 7 days", "최근 7일"),
    "sent": ("Sent", "발송"),
    "delivered": ("Delivered", "전달됨"),
    "deferred": ("Deferred", "지연"),
    "bounced_hard": ("Hard bounced", "하드 바운스"),
    "bounced_soft": ("Soft bounced", "소프트 바운스"),
    "hard_means": (
        "Refused for good: the address or its domain does not exist or has moved "
        "(userunknown, hostunknown, hasmoved, notaccept)",
        "영구 거부: 주소나 도메인이 없거나 옮겨졌습니다 (userunknown, hostunknown, hasmoved, notaccept)",
    ),
    "soft_means": (
        "Failed for good for another reason (relay denied, mailbox full, blocked, spam …) "
        "or expired after deferrals",
        "다른 이유로 최종 실패 (릴레이 거부, 메일함 가득 참, 차단, 스팸 등) 또는 재시도 끝에 기한 만료",
    ),
    "of_which_expired": ("expired", "기한 만료"),
    "complained": ("Complaints", "스팸 신고"),
    "expired": ("Expired", "기한 만료"),
    "suppressed": ("Suppressed", "차단됨"),
    "queued": ("Submitted", "접수"),
    "open_now": ("In the queue now", "현재 대기열"),
    "bounce_rate": ("Bounce rate", "바운스율"),
    "complaint_rate": ("Complaint rate", "스팸 신고율"),
    "threshold": ("threshold", "기준"),
    "per_hour": ("Per hour", "시간대별"),
    "per_day": ("Per day (UTC)", "일별 (UTC)"),
    "time_to_deliver": ("Submit → accepted", "접수 → 수신 서버 수락"),
    "domain": ("Domain", "도메인"),
    "attempts": ("Attempts", "시도"),
    "deferral_rate": ("Deferral rate", "지연율"),
    "top_reasons": ("Top deferral reasons", "주요 지연 사유"),
    "p50": ("p50", "p50"),
    "p95": ("p95", "p95"),
    "search": ("Search", "검색"),
    "search_hint": ("recipient address or message id", "수신 주소 또는 메시지 ID"),
    "fate": ("Fate", "상태"),
    "any": ("any", "전체"),
    "reason": ("Reason", "사유"),
    "tag": ("Tag", "태그"),
    "created": ("Submitted (UTC)", "접수 시각 (UTC)"),
    "from": ("From", "보낸 사람"),
    "to": ("To", "받는 사람"),
    "subject": ("Subject", "제목"),
    "next_page": ("Next page", "다음 페이지"),
    "no_messages": ("No message matches.", "일치하는 메시지가 없습니다."),
    "timeline": ("Timeline", "타임라인"),
    "time": ("Time (UTC)", "시각 (UTC)"),
    "recipient": ("Recipient", "수신자"),
    "what_happened": ("What happened", "일어난 일"),
    "what_it_means": ("What it means", "의미와 조치"),
    "next": ("Next", "다음 단계"),
    "address": ("Address", "주소"),
    "scope": ("Sending domain", "발신 도메인"),
    "since": ("Since (UTC)", "차단 시각 (UTC)"),
    "detail": ("Detail", "상세"),
    "no_alerts": ("No threshold is crossed.", "기준을 넘은 지표가 없습니다."),
    "severity": ("Severity", "심각도"),
    "rule": ("Rule", "규칙"),
    "subject_of_alert": ("Concerns", "대상"),
    "value": ("Value", "값"),
    "source": ("Source", "근거"),
    "login": ("Sign in", "로그인"),
    "logout": ("Sign out", "로그아웃"),
    "cross_site": ("Refused: this form was sent from another site.", "거부됨: 다른 사이트에서 보낸 요청입니다."),
    "api_key": ("API key (read scope)", "API 키 (read 권한)"),
    "login_failed": ("That key is unknown, revoked or has no read scope.", "알 수 없거나 폐기되었거나 read 권한이 없는 키입니다."),
    "type": ("Event", "이벤트"),
    "backlog": ("events not yet counted", "아직 집계되지 않은 이벤트"),
    "paused": ("paused", "일시 정지"),
    "paused_note": ("Marketing mail held by a pause (a bounce or complaint line crossed)", "발송 중지로 보류된 마케팅 메일 (반송·신고 기준 초과)"),
    "none": ("none", "없음"),
    "not_found": ("No such message.", "해당 메시지가 없습니다."),
    "inquiry": ("Write the postmaster inquiry (the question, with their replies)", "수신 측 관리자에게 보낼 문의서 작성 (응답 인용 포함)"),
    "inquiry_short": ("inquiry", "문의서"),
}  # fmt: skip

_FATES_KO = {
    "queued": "대기", "sending": "발송 중", "deferred": "지연(재시도 예정)", "delivered": "전달됨",
    "bounced": "반송됨", "expired": "기한 만료", "suppressed": "차단됨", "rejected": "거부됨",
    "complained": "스팸 신고", "autoreplied": "자동 응답",
}  # fmt: skip


_STEPS_KO = {
    "queued": "애플리케이션에서 접수했습니다.",
    "delivered": "수신 서버가 메시지를 수락했습니다.",
    "expired": "재시도를 포기했습니다.",
    "suppression_added": "이 주소로 보내는 메일은 앞으로 거부됩니다.",
    "complained": "수신자가 스팸으로 신고했습니다. 주소가 차단 목록에 올랐습니다.",
    "autoreplied": "자동 응답(부재중)입니다. 메시지는 전달되었습니다.",
}


def step_meaning(lang: str, kind: str, outcome: str, reason: str, english: str) -> str:
    """One timeline step's meaning: the English one, or in Korean the reason's, else the step's."""
    if lang != "ko":
        return english
    if kind == "attempt" and outcome == "delivered":
        return _STEPS_KO["delivered"]
    found = _MEANING_KO.get(reason) if reason else None
    if kind == "bounced" and found:
        return "수신 서버가 수락한 뒤 반송이 도착했습니다. " + found
    return found or _STEPS_KO.get(kind, english)


def pick_lang(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language: ``?lang=`` first, then the cookie, then the browser's Accept-Language."""
    for choice in (query, cookie):
        if choice in LANGS:
            return choice
    if accept_language and accept_language.strip().lower().startswith("ko"):
        return "ko"
    return "en"


def text(lang: str, key: str) -> str:
    en, ko = _TEXT.get(key, (key, key))
    return ko if lang == "ko" else en


def fate_label(lang: str, fate: str) -> str:
    return _FATES_KO.get(fate, fate) if lang == "ko" else fate
