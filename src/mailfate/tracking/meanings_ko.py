"""What each bounce reason means and what to do, in Korean (the English is
:data:`mailfate.tracking.timeline.MEANING`): for the dashboard and the postmaster inquiry."""

from __future__ import annotations

from mailfate.tracking.timeline import MEANING

__all__ = ["MEANING_KO", "meaning"]

MEANING_KO: dict[str, str] = {
    "greylisting": "수신 서버가 처음 보는 발신자를 그레이리스팅합니다. 같은 IP와 봉투로 재시도하면 통과합니다.",
    "speeding": "수신 서버가 발송 속도를 제한합니다. mailfate가 이 도메인으로의 속도를 낮춥니다.",
    "toomanyconn": "수신 서버 연결이 너무 많습니다. 연결 수를 줄입니다.",
    "authfailure": "수신 서버가 SPF, DKIM 또는 DMARC 인증에 실패했습니다. `mailfate doctor domain`으로 DNS 레코드를 점검하세요.",
    "requireptr": "발송 IP에 맞는 역방향 DNS(PTR)가 없습니다. 호스팅 업체에 PTR 설정을 요청하세요.",
    "blocked": "수신 서버가 발송 IP나 호스트를 차단합니다. 블랙리스트를 확인하고 수신 측 관리자에게 문의하세요.",
    "badreputation": "수신 서버가 IP나 도메인의 평판을 낮게 봅니다. 발송량을 줄이고 반송·신고율을 확인하세요.",
    "spamdetected": "수신 측 필터가 스팸으로 판단했습니다. 본문과 인증을 점검하세요.",
    "policyviolation": "수신 측 정책에 의해 거부되었습니다. 응답 문구에서 어떤 규칙인지 확인하세요.",
    "userunknown": "존재하지 않는 메일함입니다. 주소가 차단 목록에 올랐습니다. 사용자에게 주소 확인을 요청하세요.",
    "hostunknown": "도메인이 없거나 메일 서버가 없습니다. 주소 오타일 가능성이 큽니다.",
    "mailboxfull": "수신자의 메일함이 가득 찼습니다.",
    "systemfull": "수신 서버의 저장 공간이 부족합니다.",
    "exceedlimit": "메시지가 수신 서버의 허용 크기보다 큽니다.",
    "mesgtoobig": "메시지가 수신 서버의 허용 크기보다 큽니다.",
    "networkerror": "수신 서버에 연결할 수 없습니다 (연결 거부, 시간 초과, 끊김).",
    "failedstarttls": "수신 서버와 TLS를 설정하지 못했습니다.",
    "notaccept": "이 도메인은 메일을 받지 않습니다 (null MX).",
    "suspend": "메일함(또는 발송 계정)이 정지되었습니다.",
    "rejected": "발신 주소가 거부되었습니다.",
    "norelaying": "서버가 이 도메인의 릴레이를 거부했습니다.",
    "filtered": "수신 측 필터가 메시지를 거부했습니다.",
    "contenterror": "수신 서버가 메시지 형식을 거부했습니다.",
    "securityerror": "수신 측 보안 규칙에 의해 거부되었습니다.",
    "virusdetected": "수신 서버가 메시지에서 악성코드를 발견했습니다.",
    "systemerror": "수신 서버 내부 오류입니다.",
    "expired": "기한 또는 최대 보관 기간 전에 재시도를 모두 소진했습니다.",
    "suppressed": "주소가 수신 차단 목록에 있습니다.",
    "syntaxerror": "수신 서버가 명령을 이해하지 못했습니다.",
    "onhold": "수신 서버가 검토를 위해 메시지를 보류 중입니다.",
    "hasmoved": "메일함이 이전되었습니다.",
    "vacation": "자동 응답(부재중)입니다.",
    "feedback": "수신자가 스팸으로 신고했습니다.",
}


def meaning(lang: str, reason: str | None) -> str:
    """What ``reason`` means, in Korean for ``lang == "ko"`` (English where no Korean exists)."""
    if not reason:
        return ""
    if lang == "ko":
        return MEANING_KO.get(reason, MEANING.get(reason, ""))
    return MEANING.get(reason, "")
