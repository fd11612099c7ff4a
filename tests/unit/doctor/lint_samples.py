"""Hand-written messages for the lint tests: compliant Korean and English marketing mail and a
verification-code mail, built in any charset and transfer encoding."""

from __future__ import annotations

import base64
import quopri

KR_FOOTER = (
    "보낸 사람: 주식회사 메일페이트 | 전화 02-1234-5678 | help@mailfate.kr\n"
    "주소: 서울특별시 강남구 테헤란로 123\n"
    "수신을 원하지 않으시면 무료 수신거부를 눌러 주세요: https://mailfate.kr/unsubscribe?u=abc\n"
)
KR_BODY = "겨울 신상품이 나왔습니다.\n\n" + KR_FOOTER
EN_FOOTER = (
    "Mailfate Inc., 100 Main Street, Suite 5, Springfield, IL 62701\n"
    "Phone 217-555-0100 - help@mailfate.example\n"
    "This is an advertisement. To unsubscribe, visit https://mailfate.example/unsubscribe?u=abc\n"
)
EN_BODY = "Our new winter catalogue is out.\n\n" + EN_FOOTER
ONE_CLICK = {
    "List-Unsubscribe": "<https://mailfate.example/u/abc>, <mailto:unsubscribe@mailfate.example>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}
DAY = "Mon, 07 Dec 2026 10:00:00 +0900"
NIGHT = "Mon, 07 Dec 2026 22:30:00 +0900"


def encoded_word(text: str, charset: str) -> str:
    data = base64.b64encode(text.encode(charset)).decode("ascii")
    return f"=?{charset}?B?{data}?="


def make(
    subject: str,
    body: str,
    *,
    charset: str = "utf-8",
    cte: str = "base64",
    html: bool = False,
    from_header: str = "",
    date: str = DAY,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A single-part message; the subject and From name are RFC 2047-encoded in ``charset``."""
    codec = {"euc-kr": "cp949", "iso-2022-kr": "iso2022_kr"}.get(charset, charset)
    data = body.encode(codec)
    if cte == "base64":
        payload = base64.encodebytes(data)
    elif cte == "quoted-printable":
        payload = quopri.encodestring(data)
    else:
        payload = data
    lines = [
        f"From: {from_header or encoded_word('메일페이트', 'utf-8') + ' <news@mailfate.example>'}",
        "To: user@example.net",
        f"Subject: {encoded_word(subject, codec if charset != 'iso-2022-kr' else 'utf-8')}",
        f"Date: {date}",
        "Message-ID: <lint-1@mailfate.example>",
        "MIME-Version: 1.0",
        f"Content-Type: text/{'html' if html else 'plain'}; charset={charset}",
        f"Content-Transfer-Encoding: {cte}",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return "\r\n".join(lines).encode("ascii") + b"\r\n\r\n" + payload


def verification_code(lang: str = "en") -> bytes:
    if lang == "ko":
        return make(
            "[메일페이트] 인증번호 안내", "회원가입 인증번호는 482913 입니다. 10분 안에 입력해 주세요.\n"
        )
    return make(
        "Your Mailfate verification code",
        "Your verification code is 482913. It expires in 10 minutes.\n",
        from_header="Mailfate <no-reply@mailfate.example>",
    )
