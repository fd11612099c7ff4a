"""The Received chain: hops in sending order, delays, TLS and anomalies."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from mailfate.doctor.findings import Severity
from mailfate.doctor.received import ReceivedChain, analyze_chain, parse_message, parse_received

# A message as Gmail shows it with "Show original": four hops, the second one held for twelve hours.
GMAIL_12H = b"""\
Delivered-To: bob@gmail.com
Received: by 2002:a05:6a10:8d0c:b0:5f1:2a3b:4c5d with SMTP id x12csp1234567pxb;
        Mon, 1 Apr 2024 13:05:12 -0700 (PDT)
Received: from mx.relay.example (mx.relay.example. [198.51.100.7])
        by mx.google.com with ESMTPS id a640c23a62f3a-a4e5f1b2c3dsi123456.66.2024.04.01.13.05.11
        for <bob@gmail.com>
        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);
        Mon, 01 Apr 2024 13:05:11 -0700 (PDT)
Received: from app.shop.example (app.shop.example [203.0.113.5])
\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))
\t(No client certificate requested)
\tby mx.relay.example (Postfix) with ESMTPS id 4V7Qx81234z
\tfor <bob@gmail.com>; Mon,  1 Apr 2024 20:05:09 +0000 (UTC)
Received: from localhost (localhost [127.0.0.1])
\tby app.shop.example (Postfix) with ESMTP id 11AA22BB33;
\tMon,  1 Apr 2024 17:05:00 +0900 (KST)
From: Shop <orders@shop.example>
To: bob@gmail.com
Subject: Your order
Date: Mon, 1 Apr 2024 17:04:59 +0900
Message-ID: <order-1@shop.example>

Thanks.
"""

O365 = b"""\
Received: from DM6PR11MB4321.namprd11.prod.outlook.com (2603:10b6:5:1d0::15) by
 SJ0PR11MB5678.namprd11.prod.outlook.com with Microsoft SMTP Server
 (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7452.28;
 Mon, 1 Apr 2024 10:00:03 +0000
Received: from mail.sender.example (192.0.2.25) by
 DM6PR11MB4321.mail.protection.outlook.com (10.167.240.10) with Microsoft SMTP Server
 (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7452.22
 via Frontend Transport; Mon, 1 Apr 2024 10:00:01 +0000
Subject: hi

x
"""


def _chain(raw: bytes, now: datetime | None = None) -> ReceivedChain:
    return analyze_chain(parse_message(raw), now=now)


def test_gmail_chain_in_sending_order_with_delays_and_the_twelve_hours() -> None:
    chain = _chain(GMAIL_12H)
    assert [h.by_host for h in chain.hops] == [
        "app.shop.example",
        "mx.relay.example",
        "mx.google.com",
        "2002:a05:6a10:8d0c:b0:5f1:2a3b:4c5d",
    ]
    first, relay, google, last = chain.hops
    assert first.from_ip == "127.0.0.1" and first.internal
    assert first.at == datetime(2024, 4, 1, 8, 5, 0, tzinfo=UTC)
    assert relay.from_host == "app.shop.example" and relay.from_ip == "203.0.113.5"
    assert relay.tls == "TLSv1.3" and relay.id == "4V7Qx81234z" and relay.for_addr == "bob@gmail.com"
    assert relay.delay == timedelta(hours=12, seconds=9)
    assert google.tls == "TLSv1.3" and google.from_ip == "198.51.100.7"
    assert google.delay == timedelta(seconds=2)
    assert last.delay == timedelta(seconds=1)
    assert chain.total == timedelta(hours=12, seconds=12)
    assert chain.slowest == 2
    delay = [f for f in chain.findings if f.check == "delay"]
    assert delay and delay[0].severity is Severity.WARNING and "12h 00m" in delay[0].message
    assert delay[0].details["hop"] == 2


def test_office365_hops_carry_tls12_and_exchange_ids() -> None:
    chain = _chain(O365)
    assert [h.with_protocol for h in chain.hops] == ["Microsoft SMTP Server"] * 2
    assert [h.tls for h in chain.hops] == ["TLSv1.2", "TLSv1.2"]
    assert chain.hops[0].from_ip == "192.0.2.25" and chain.hops[0].id == "15.20.7452.22"
    assert chain.hops[1].from_ip == "2603:10b6:5:1d0::15"
    assert chain.hops[1].delay == timedelta(seconds=2)
    assert not [f for f in chain.findings if f.check == "tls"]


def test_no_received_headers_is_a_clear_finding() -> None:
    chain = _chain(b"From: a@b.example\nSubject: draft\n\nbody\n")
    assert chain.hops == [] and chain.total is None
    assert chain.findings[0].check == "received" and "No Received headers" in chain.findings[0].message


def test_dates_in_the_future_and_out_of_order_are_flagged() -> None:
    raw = (
        b"Received: from b.example ([192.0.2.2]) by c.example with ESMTPS; Mon, 1 Apr 2024 10:00:00 +0000\n"
        b"Received: from a.example ([192.0.2.1]) by b.example with ESMTPS; Mon, 1 Apr 2024 11:00:00 +0000\n"
        b"Received: from x.example ([192.0.2.9]) by a.example with ESMTPS; Fri, 1 Jan 2038 00:00:00 +0000\n"
        b"\nbody\n"
    )
    chain = _chain(raw, now=datetime(2024, 4, 2, tzinfo=UTC))
    messages = [f.message for f in chain.findings]
    assert any("Hop 2" in m and "before the hop below" in m for m in messages)
    assert any("Hop 1" in m and "later than now" in m for m in messages)
    assert any("Hop 2" in m and "later than the last hop" in m for m in messages)
    assert chain.slowest is None  # no positive delay at all


def test_unparseable_date_and_plaintext_public_hop() -> None:
    raw = (
        b"Received: from mail.a.example (mail.a.example [203.0.113.9]) by mx.b.example (Postfix) "
        b"with ESMTP id 1; yesterday-ish\n\nx\n"
    )
    chain = _chain(raw)
    hop = chain.hops[0]
    assert hop.at is None and hop.tls is None
    checks = {(f.check, f.severity) for f in chain.findings}
    assert ("received", Severity.WARNING) in checks
    assert ("tls", Severity.WARNING) in checks


def test_private_plaintext_hop_is_only_info_and_lmtp_is_not_reported() -> None:
    raw = (
        b"Received: from mx.b.example (mx.b.example [10.0.0.2]) by store.b.example with LMTP id 2; "
        b"Mon, 1 Apr 2024 10:00:01 +0000\n"
        b"Received: from edge.b.example (edge.b.example [10.0.0.1]) by mx.b.example with ESMTP id 1; "
        b"Mon, 1 Apr 2024 10:00:00 +0000\n\nx\n"
    )
    tls = [f for f in _chain(raw).findings if f.check == "tls"]
    assert [(f.severity, f.details["hop"]) for f in tls] == [(Severity.INFO, 1)]


def test_exim_and_sendmail_variants() -> None:
    exim = parse_received(
        "from [192.0.2.1] (helo=client.example) by mx.exim.example with esmtps (TLS1.3) tls "
        "TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@b.example>) id 1rABCD-000123-4x "
        "for x@y.example; Mon, 01 Apr 2024 10:00:00 +0200"
    )
    assert (exim.from_host, exim.from_ip, exim.with_protocol, exim.tls) == (
        "client.example",
        "192.0.2.1",
        "esmtps",
        "TLSv1.3",
    )
    assert exim.at == datetime(2024, 4, 1, 8, 0, tzinfo=UTC) and exim.for_addr == "x@y.example"
    sendmail = parse_received(
        "from out.example (out.example [198.51.100.3]) by in.example (8.17.1/8.17.1) with ESMTPSA id "
        "431A0abc012345 (version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NOT); "
        "Mon, 1 Apr 2024 10:00:00 -0000"
    )
    assert sendmail.tls == "TLSv1.2" and sendmail.with_protocol == "ESMTPSA"
    assert sendmail.at == datetime(2024, 4, 1, 10, 0, tzinfo=UTC)
    esmtps_only = parse_received("from a.example ([192.0.2.4]) by b.example with ESMTPS id Q; bad")
    assert esmtps_only.tls == "TLS (ESMTPS)"


def test_thousand_received_headers_finish_quickly() -> None:
    line = (
        b"Received: from a%d.example ([192.0.2.1]) by b%d.example with ESMTPS id %d; "
        b"Mon, 1 Apr 2024 10:00:00 +0000\n"
    )
    raw = b"".join(line % (i, i, i) for i in range(1000)) + b"\nbody\n"
    started = time.perf_counter()
    chain = _chain(raw)
    assert len(chain.hops) == 1000 and chain.total == timedelta(0)
    assert time.perf_counter() - started < 2.0


def test_date_without_the_semicolon_is_still_read() -> None:
    hop = parse_received("from mda by mx.example.lan id 0MPlTg-1XqZ921DSU Fri, 28 Nov 2014 18:00:14 +0100")
    assert hop.at == datetime(2014, 11, 28, 17, 0, 14, tzinfo=UTC) and hop.by_host == "mx.example.lan"
