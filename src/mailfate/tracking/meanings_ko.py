"""What each bounce reason means and what to do, in Korean (the English is
:data:`mailfate.tracking.timeline.MEANING`): for the dashboard and the postmaster inquiry."""

from __future__ import annotations

from mailfate.tracking.fault import SenderFacts, facts_of, fault_values, party_of
from mailfate.tracking.fault import fault as fault_en
from mailfate.tracking.timeline import MEANING

__all__ = ["FAULT_KO", "MEANING_KO", "fault", "meaning"]

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
    "greylisted": "수신 서버가 처음 보는 발신자를 그레이리스팅합니다. 같은 IP와 봉투로 재시도하면 통과합니다.",
    "rate-limited": "수신 서버가 발송 속도를 제한합니다. mailfate가 이 도메인으로의 속도를 낮춥니다.",
    "sender-quota": "수신자 메일함이 아니라 발신 계정의 발송 한도(릴레이나 발송 서비스의 한도)가 소진되었습니다. 한도를 늘리거나 초기화를 기다리세요.",
    "spf-fail": "봉투 발신자(MAIL FROM, VERP) 도메인의 SPF 레코드가 발송 IP를 허용하지 않습니다. 그 레코드에 IP를 추가하세요.",
    "dkim-fail": "DKIM 서명이 없거나 검증에 실패했습니다. DNS의 셀렉터 공개키와 서명 후 메시지 변경 여부를 확인하세요.",
    "dmarc-policy": "DMARC 검증에 실패했고(정렬된 SPF·DKIM 통과 없음) 도메인 정책이 거부를 요구합니다. From 도메인과 SPF 또는 DKIM을 정렬하세요.",
    "auth-fail": "수신 서버가 SPF, DKIM 또는 DMARC 인증에 실패했습니다. `mailfate doctor domain`으로 DNS 레코드를 점검하세요.",
    "no-ptr": "발송 IP에 맞는 역방향 DNS(PTR)가 없습니다. 호스팅 업체에 PTR 설정을 요청하세요.",
    "helo-invalid": "서버의 EHLO 이름이 없거나 형식이 잘못되었거나 조회되지 않습니다. 전체 호스트 이름을 쓰세요.",
    "tls-required": "수신 서버가 TLS(또는 더 높은 TLS 버전)를 요구합니다. STARTTLS를 켜세요.",
    "tls-failed": "수신 서버와의 TLS 핸드셰이크에 실패했습니다.",
    "ip-blocklisted": "발송 IP가 DNS 블랙리스트에 올라 있습니다. 해제를 요청하고 등록된 원인을 찾으세요.",
    "ip-reputation": "수신 서버가 발송 IP의 평판을 낮게 봅니다. 발송량을 줄이고 반송·신고율을 확인하세요.",
    "domain-reputation": "수신 서버가 발신 도메인(또는 본문의 도메인)의 평판을 낮게 봅니다. 링크, 신고율, 인증을 점검하세요.",
    "relay-denied": "수신자의 메일 서버가 아니어서 릴레이를 거부했습니다. MX 또는 스마트호스트 인증을 확인하세요.",
    "sender-rejected": "발신 주소(MAIL FROM) 또는 그 도메인이 거부되었습니다.",
    "mailbox-disabled": "수신자 계정이 정지되었거나 휴면 상태입니다.",
    "retry-forbidden": "수신 서버가 재시도해도 성공하지 않는다고 답했습니다. 재시도하지 않습니다.",
    "delayed": "지연 통지입니다. 발송 서버가 아직 재시도 중이며 실패한 것은 아닙니다.",
    "server-error": "수신 서버 내부 문제입니다. 주소의 문제가 아닙니다.",
    "too-many-recipients": "한 메시지의 수신자가 너무 많습니다. 메시지당 수신자를 줄이세요.",
    "too-many-connections": "수신 서버 연결이 너무 많습니다. 연결 수를 줄입니다.",
}


FAULT_KO: dict[str, str] = {
    "helo": "책임: 발신 측 — mailfate가 보내는 HELO 이름{helo}이(가) 문제이며 발송 IP나 도메인의 문제가 아닙니다. "
    "[transports.direct]의 `helo`를 DNS에서 조회되는 이 호스트의 전체 이름(FQDN, 가능하면 발송 IP의 PTR 이름)으로 "
    "설정하세요.",
    "envelope-spf": "책임: 발신 측 — From 도메인이 아니라 봉투(VERP) 도메인{envelope}의 SPF 레코드입니다. 수신 "
    "서버는 MAIL FROM 도메인으로 SPF를 검사합니다. `mailfate doctor domain {envelope_cmd}`을(를) 실행하고 그 "
    "레코드에 발송 IP{ip}을(를) 허용하세요.",
    "dkim": "책임: 발신 측 — From 도메인{from_domain}의 DKIM 서명입니다. `mailfate doctor domain {from_cmd}`을(를) "
    "실행하고 셀렉터의 공개키를 확인하세요.",
    "dmarc": "책임: 발신 측 — 정렬 문제입니다. From 도메인{from_domain}의 DMARC는 정렬된 DKIM 서명이나 같은 조직 "
    "도메인에 속한 봉투 도메인{envelope}의 SPF가 통과해야 합니다. `mailfate doctor domain {from_cmd} --mail-from "
    "{envelope_cmd}`으로 두 도메인을 점검하세요.",
    "auth": "책임: 발신 측 — 인증입니다. SPF는 봉투(VERP) 도메인{envelope}, DKIM과 DMARC는 From 도메인{from_domain}"
    "으로 검사합니다. `mailfate doctor domain {from_cmd} --mail-from {envelope_cmd}`을(를) 실행하세요.",
    "ip": "책임: 발신 측 — 발송 IP{ip}(블랙리스트, 평판 또는 역방향 DNS)이며 수신자의 문제가 아닙니다. "
    "블랙리스트와 PTR을 확인한 뒤 수신 측 관리자에게 문의하세요.",
    "domain": "책임: 발신 측 — 도메인(또는 본문에 링크된 도메인)의 평판이며 수신자의 문제가 아닙니다.",
    "sender": "책임: 발신 측 — 봉투 발신자{envelope}입니다. 수신 서버가 MAIL FROM 주소나 그 도메인을 거부했습니다.",
    "account": "책임: 발신 측 — 릴레이나 발송 서비스의 발송 계정 한도이며 수신자의 문제가 아닙니다.",
    "route": "책임: 발신 측 — 경로입니다. 이 서버는 수신자의 메일 서버가 아닙니다. MX, [[routes]] 또는 스마트호스트 "
    "인증을 확인하세요.",
    "tls": "책임: 발신 측과 수신 서버 사이의 TLS입니다. 전송의 `tls` 설정을 확인하세요.",
    "message": "책임: 발신 측 — 메시지 자체(본문, 크기 또는 형식)이며 주소의 문제가 아닙니다.",
    "us": "책임: 발신 측 — SMTP 클라이언트입니다. 수신 서버가 명령을 이해하지 못했습니다.",
    "recipient": "책임: 수신자 측 — 주소{recipient}의 문제이며 발신 설정의 문제가 아닙니다.",
    "receiver": "책임: 수신 서버 측(서버 또는 네트워크)이며 발신자나 주소의 문제가 아닙니다.",
    "pace": "누구의 잘못도 아닙니다. 수신 서버의 일반적인 속도 조절이며 mailfate가 맞춰 재시도합니다.",
}
"""Who is at fault, in Korean: :data:`mailfate.tracking.fault.FAULT`'s keys and placeholders."""


def fault(
    lang: str, cause: str, reason: str, text: str, *, recipient: str = "", facts: SenderFacts | None = None
) -> str:
    """The party at fault for a refusal, in Korean for ``lang == "ko"`` ("" when none is named)."""
    if lang != "ko":
        return fault_en(cause, reason, text, recipient=recipient, facts=facts)
    party = party_of(cause, reason, text)
    if not party:
        return ""
    values = fault_values(facts_of({}, text, facts), recipient, placeholder="<VERP 도메인>|<From 도메인>")
    return FAULT_KO[party].format(**values)


def meaning(lang: str, reason: str | None) -> str:
    """What ``reason`` means, in Korean for ``lang == "ko"`` (English where no Korean exists)."""
    if not reason:
        return ""
    if lang == "ko":
        return MEANING_KO.get(reason, MEANING.get(reason, ""))
    return MEANING.get(reason, "")
