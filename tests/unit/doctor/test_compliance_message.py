"""What the lint reads from a message: charsets, transfer encodings, HTML and malformed input."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from mailfate.doctor.compliance.message import decode_bytes, html_to_text, read_message
from tests.unit.doctor.lint_samples import KR_BODY, encoded_word, make


@pytest.mark.parametrize("charset", ["utf-8", "euc-kr", "iso-2022-kr"])
@pytest.mark.parametrize("cte", ["base64", "quoted-printable", "8bit"])
def test_korean_body_and_subject_decode_in_every_charset(charset: str, cte: str) -> None:
    if charset == "iso-2022-kr" and cte == "8bit":
        cte = "7bit"  # ISO-2022-KR is a 7-bit encoding
    msg = read_message(make("(광고) 겨울 신상품", KR_BODY, charset=charset, cte=cte))
    assert msg.subject == "(광고) 겨울 신상품"
    assert "무료 수신거부" in msg.text
    assert "https://mailfate.kr/unsubscribe?u=abc" in msg.links
    assert msg.from_display == "메일페이트"
    assert msg.from_addr == "news@mailfate.example"


def test_ks_c_5601_label_and_cp949_only_characters_decode() -> None:
    # 똠 is in CP949 but not in strict EUC-KR: mail labelled ks_c_5601-1987 carries CP949.
    raw = (
        b"Subject: "
        + encoded_word("똠방 할인", "cp949").replace("cp949", "ks_c_5601-1987").encode()
        + b"\r\n"
        b"Content-Type: text/plain; charset=ks_c_5601-1987\r\n\r\n" + "똠방 수신거부".encode("cp949")
    )
    msg = read_message(raw)
    assert msg.subject == "똠방 할인"
    assert msg.text == "똠방 수신거부"


def test_raw_8bit_headers_in_utf8_and_euc_kr_are_read() -> None:
    for codec in ("utf-8", "cp949"):
        raw = "Subject: (광고) 세일\r\nFrom: 상점 <a@shop.kr>\r\n\r\nbody".encode(codec)
        msg = read_message(raw)
        assert msg.subject == "(광고) 세일"
        assert msg.from_display == "상점"


def test_html_part_becomes_text_and_links_without_scripts() -> None:
    text, links = html_to_text(
        "<html><head><style>p{color:red}</style></head><body><p>세일&nbsp;안내</p>"
        "<script>var x='수신거부';</script><a href='https://x.kr/unsub'>수신거부</a></body></html>"
    )
    assert "세일" in text and "안내" in text
    assert "color" not in text and "var x" not in text
    assert "수신거부" in text
    assert links == ["https://x.kr/unsub"]


def test_multipart_alternative_reads_both_parts_and_skips_attachments() -> None:
    html = base64.b64encode("<p>HTML 본문 <a href='https://a.kr/u'>수신거부</a></p>".encode()).decode()
    attachment = base64.b64encode("첨부 수신거부 텍스트".encode()).decode()
    raw = (
        "Subject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n"
        "--X\r\nContent-Type: multipart/alternative; boundary=Y\r\n\r\n"
        "--Y\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n평문 본문\r\n"
        "--Y\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{html}\r\n"
        "--Y--\r\n"
        "--X\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Disposition: attachment; filename=a.txt\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n--X--\r\n"
    ).encode()
    msg = read_message(raw)
    assert "평문 본문" in msg.text and "HTML 본문" in msg.text
    assert "첨부" not in msg.text
    assert msg.links == ("https://a.kr/u",)


def test_date_header_becomes_aware_utc_and_bad_dates_become_none() -> None:
    assert read_message(b"Date: Mon, 07 Dec 2026 22:30:00 +0900\r\n\r\nx").date == datetime(
        2026, 12, 7, 13, 30, tzinfo=UTC
    )
    assert read_message(b"Date: yesterday at noon\r\n\r\nx").date is None
    assert read_message(b"Date: Mon, 07 Dec 99999 22:30:00 +0900\r\n\r\nx").date is None


def test_unknown_charset_falls_back_instead_of_failing() -> None:
    assert decode_bytes("수신거부".encode(), "x-no-such-charset") == "수신거부"
    assert decode_bytes("수신거부".encode("cp949"), "us-ascii") == "수신거부"
    assert decode_bytes(b"\xff\xfe\xfa", "utf-8")  # replacement characters, no exception


def test_reply_headers_are_noticed() -> None:
    assert read_message(b"Subject: Re: x\r\nIn-Reply-To: <a@b>\r\n\r\nx").is_reply
    assert not read_message(b"Subject: Re: x\r\n\r\nx").is_reply
