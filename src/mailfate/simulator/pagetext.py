"""The web inbox's words in English and Korean, and how a request picks its language.

The simulator stands apart from the dashboard (``mailfate.web``), so it keeps its own small
catalogue. Every label exists in both languages (``tests/unit/simulator/test_pages.py`` checks it).
"""

from __future__ import annotations

__all__ = ["LANGS", "outcome_label", "pick_lang", "text"]

LANGS = ("en", "ko")

_TEXT: dict[str, tuple[str, str]] = {
    "brand": ("mailfate simulator", "mailfate 시뮬레이터"),
    "inbox": ("Inbox", "받은 메일"),
    "attempts": ("Failed attempts", "실패한 시도"),
    "counters": ("Counters", "통계"),
    "search": ("Search", "검색"),
    "search_hint": (
        "to:alice@example.com subject:code is:unread …",
        "to:alice@example.com subject:인증 is:unread …",
    ),
    "search_help": (
        "to:, from:, subject:, is:unread, has:attachment, free text, "
        '"a phrase"; -term excludes; every term must match.',
        "to:, from:, subject:, is:unread, has:attachment, 일반 텍스트, "
        '"구절"; -조건은 제외; 모든 조건이 일치해야 합니다.',
    ),
    "clear": ("Clear", "지우기"),
    "from": ("From", "보낸 사람"),
    "to": ("To", "받는 사람"),
    "cc": ("Cc", "참조"),
    "subject": ("Subject", "제목"),
    "received": ("Received", "받은 시각"),
    "size": ("Size", "크기"),
    "no_subject": ("(no subject)", "(제목 없음)"),
    "empty": (
        "No mail yet. Send some to SMTP {smtp} and it shows up here.",
        "아직 받은 메일이 없습니다. SMTP {smtp}(으)로 보내면 여기에 나타납니다.",
    ),
    "no_match": ("No message matches “{q}”.", "“{q}”와(과) 일치하는 메시지가 없습니다."),
    "showing": ("{first}–{last} of {total}", "{total}통 중 {first}–{last}"),
    "total_unread": ("{total} in the inbox, {unread} unread", "받은 메일 {total}통, 읽지 않음 {unread}통"),
    "past_end": ("Nothing on this page: the list is shorter.", "이 페이지에는 메일이 없습니다."),
    "first_page": ("First page", "첫 페이지"),
    "newer": ("← Newer", "← 최신"),
    "older": ("Older →", "이전 →"),
    "attachments": ("Attachments", "첨부 파일"),
    "delete": ("Delete", "삭제"),
    "delete_all": ("Delete all", "모두 삭제"),
    "delete_matching": ("Delete matching ({n})", "검색된 {n}통 삭제"),
    "confirm_delete_all": ("Delete every message in the inbox?", "받은 메일을 모두 삭제할까요?"),
    "confirm_delete": ("Delete this message?", "이 메시지를 삭제할까요?"),
    "back": ("← Inbox", "← 받은 메일"),
    "tab_html": ("HTML", "HTML"),
    "tab_text": ("Text", "텍스트"),
    "tab_headers": ("Headers", "헤더"),
    "tab_raw": ("Raw source", "원본"),
    "tab_transcript": ("SMTP transcript", "SMTP 대화 기록"),
    "tab_attempts": ("Failed attempts", "실패한 시도"),
    "html_note": (
        "Shown sandboxed: no scripts run, no remote images or fonts load.",
        "격리된 화면에 표시합니다: 스크립트는 실행되지 않고 외부 이미지·글꼴은 불러오지 않습니다.",
    ),
    "no_text": ("This message has no text part.", "이 메시지에는 텍스트 본문이 없습니다."),
    "download_raw": ("Download .eml", ".eml 내려받기"),
    "header": ("Header", "헤더"),
    "value": ("Value", "값"),
    "reply": ("Simulator replied", "시뮬레이터 응답"),
    "decided_by": ("Decided by", "판정 주체"),
    "why": ("Why", "이유"),
    "no_transcript": ("No transcript was kept for this message.", "이 메시지의 대화 기록이 없습니다."),
    "no_failed": ("No failed attempt for these recipients.", "이 수신자들에 대한 실패한 시도가 없습니다."),
    "attempts_intro": (
        "Recipients the simulator did not accept: rejected (5xx), deferred (4xx) or silently dropped.",
        "시뮬레이터가 받지 않은 수신자: 거부(5xx), 지연(4xx), 또는 조용히 버림.",
    ),
    "filter_address": ("address, or part of one", "주소 또는 주소 일부"),
    "filter": ("Filter", "필터"),
    "time": ("Time", "시각"),
    "recipient": ("Recipient", "수신자"),
    "sender": ("Envelope sender", "봉투 발신자"),
    "outcome": ("Outcome", "결과"),
    "no_attempts": ("No failed attempt yet.", "아직 실패한 시도가 없습니다."),
    "not_found": (
        "No such message: it was deleted, or never arrived.",
        "해당 메시지가 없습니다: 삭제되었거나 도착하지 않았습니다.",
    ),
    "live": ("live", "실시간"),
    "date": ("Date", "날짜"),
    "smtp_at": ("SMTP on {smtp}", "SMTP 주소 {smtp}"),
    "envelope": ("Envelope", "봉투(SMTP)"),
    "line": ("Line", "내용"),
    "who_client": ("client", "클라이언트"),
    "who_server": ("simulator", "시뮬레이터"),
    "who_note": ("note", "메모"),
}  # fmt: skip

_OUTCOMES_KO = {
    "accepted": "수락",
    "deferred": "지연",
    "rejected": "거부",
    "dropped": "버림",
    "abandoned": "중단",
}


def text(lang: str, key: str, **values: object) -> str:
    """The label ``key`` in ``lang`` (English unless ``ko``), with ``{name}`` filled from ``values``."""
    en, ko = _TEXT[key]
    label = ko if lang == "ko" else en
    return label.format(**values) if values else label


def outcome_label(lang: str, outcome: str) -> str:
    return _OUTCOMES_KO.get(outcome, outcome) if lang == "ko" else outcome


def label_keys() -> list[str]:
    return list(_TEXT)


def pick_lang(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """``?lang=`` first, then the cookie it left, then the browser's most preferred of en/ko."""
    for choice in (query, cookie):
        if choice in LANGS:
            return choice
    best, best_q = "en", -1.0
    for item in (accept_language or "")[:500].split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best
