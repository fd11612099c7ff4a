"""The SES endpoint against hostile input, over a real uvicorn on 127.0.0.1: bodies that are
correctly signed (botocore's signer) but hold anything at all — every answer a 200 or a 4xx in
SES's shape, never a 500 — and requests whose signature is not for this server."""

from __future__ import annotations

import base64
import email
import email.policy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.errors import InputError
from mailfate.intake.api.app import create_app
from mailfate.intake.api.ses_keys import load_master, new_key_id, secret_for
from mailfate.intake.api.ses_mail import tags_of, without_bcc
from mailfate.model import NewSuppression
from tests.support.asgi import serving
from tests.support.aws_sign import sign

FIELDS = [
    "FromEmailAddress", "Destination", "ToAddresses", "CcAddresses", "BccAddresses", "ReplyToAddresses",
    "Content", "Simple", "Raw", "Template", "Subject", "Body", "Text", "Html", "Data", "Charset",
    "Headers", "Name", "Value", "EmailTags", "ConfigurationSetName", "TemplateName", "TemplateData",
]  # fmt: skip
V1_FIELDS = [
    "Source", "Destination.ToAddresses.member.1", "Destination.CcAddresses.member.2",
    "Destination.BccAddresses.member.1", "Message.Subject.Data", "Message.Body.Text.Data",
    "Message.Body.Html.Data", "RawMessage.Data", "Destinations.member.1", "Tags.member.1.Name",
    "Tags.member.1.Value", "ConfigurationSetName", "ReplyToAddresses.member.1",
]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from mailfate.store import Store

    data: Path = tmp_path_factory.mktemp("ses-hostile")
    store = Store.open(data / "s.db")
    master = load_master(data)
    keys = {}
    for scope in ("send", "admin"):
        key_id = new_key_id()
        store.keys.add_key(secret_for(master, key_id), prefix=key_id, scopes={scope}, at=datetime.now(UTC))
        keys[scope] = (key_id, secret_for(master, key_id))
    app = create_app(store, Client(store, settings=load_settings(None, data_dir=data)), max_body=1 << 20)
    app.state.aws_master = master
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield {"http": http, "url": url, "keys": keys, "store": store}
    store.close()


def _post(server: dict[str, Any], path: str, body: bytes, scope: str = "send") -> httpx.Response:
    url = server["url"] + path
    headers = sign("POST", url, body, *server["keys"][scope], headers={"Content-Type": "application/json"})
    response: httpx.Response = server["http"].post(path, content=body, headers=headers)
    return response


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=25,
)
addresses = st.sampled_from(
    ["kim@accept.mailfate.test", "a@b", "x", "", "Lee <lee@x.test>", "@@", "\ud800@x.test"]
)
ses_shaped = st.fixed_dictionaries(
    {},
    optional={
        "FromEmailAddress": addresses,
        "Destination": st.fixed_dictionaries(
            {}, optional={k: st.lists(addresses, max_size=3) | json_values for k in FIELDS[2:5]}
        ),
        "Content": st.dictionaries(st.sampled_from(["Simple", "Raw", "Template"]), json_values, max_size=2),
        "EmailTags": st.lists(
            st.fixed_dictionaries({"Name": st.text(max_size=70), "Value": st.text(max_size=70)})
        ),
        "ConfigurationSetName": st.text(max_size=70),
        "ReplyToAddresses": st.lists(addresses, max_size=2),
    },
)


def _ses_answer(response: httpx.Response) -> None:
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.headers["x-amzn-ErrorType"] == response.json()["__type"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=ses_shaped | json_values)
def test_any_signed_v2_body_is_answered_without_a_500(server: dict[str, Any], body: Any) -> None:
    _ses_answer(_post(server, "/v2/email/outbound-emails", json.dumps(body).encode()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["EmailAddress", "Reason", "x"]), json_values, max_size=3))
def test_any_signed_put_suppression_body_is_answered_without_a_500(server: dict[str, Any], body: Any) -> None:
    url = server["url"] + "/v2/email/suppression/addresses"
    raw = json.dumps(body).encode()
    headers = sign("PUT", url, raw, *server["keys"]["admin"])
    _ses_answer(server["http"].put("/v2/email/suppression/addresses", content=raw, headers=headers))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.sampled_from(["SendEmail", "SendRawEmail", "GetSendQuota", "Nope", ""]),
    fields=st.dictionaries(st.sampled_from(V1_FIELDS), st.text(max_size=60), max_size=8),
)
def test_any_signed_v1_form_is_answered_without_a_500(
    server: dict[str, Any], action: str, fields: dict[str, str]
) -> None:
    body = urlencode({"Action": action, **fields}).encode()
    response = _post(server, "/", body)
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text
    assert response.text.startswith("<?xml")
    if response.status_code != 200:
        assert "<ErrorResponse" in response.text and "<Code>" in response.text


def test_a_valid_v1_send_and_the_message_id_it_answers(server: dict[str, Any]) -> None:
    body = urlencode(
        {
            "Action": "SendEmail",
            "Source": "no-reply@app.example",
            "Destination.ToAddresses.member.1": "kim@accept.mailfate.test",
            "Message.Subject.Data": "hi",
            "Message.Body.Text.Data": "hello",
        }
    ).encode()
    response = _post(server, "/", body)
    assert response.status_code == 200, response.text
    assert "<SendEmailResponse" in response.text and "<MessageId>m" in response.text


def test_a_signature_for_another_service_key_or_server_is_refused(server: dict[str, Any]) -> None:
    url = server["url"] + "/v2/email/account"
    key_id, secret = server["keys"]["send"]

    def get(headers: dict[str, str]) -> httpx.Response:
        response: httpx.Response = server["http"].get("/v2/email/account", headers=headers)
        return response

    other_service = get(sign("GET", url, b"", key_id, secret, service="sqs"))
    assert other_service.status_code == 403
    assert other_service.headers["x-amzn-ErrorType"] == "IncompleteSignatureException"
    unknown = get(sign("GET", url, b"", new_key_id(), secret))
    assert unknown.headers["x-amzn-ErrorType"] == "UnrecognizedClientException"
    # the same secret under another key id: the derived secret belongs to one id only
    other_id = server["keys"]["admin"][0]
    assert (
        get(sign("GET", url, b"", other_id, secret)).headers["x-amzn-ErrorType"]
        == "InvalidSignatureException"
    )
    # the send key may not read the account
    denied = get(sign("GET", url, b"", key_id, secret))
    assert denied.status_code == 403 and denied.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_v2_simple_cc_bcc_and_tags_become_headers_envelope_and_tags(server: dict[str, Any]) -> None:
    body = {
        "FromEmailAddress": "App <no-reply@app.example>",
        "Destination": {
            "ToAddresses": ["Kim <kim@accept.mailfate.test>"],
            "CcAddresses": ["lee@accept.mailfate.test"],
            "BccAddresses": ["audit@accept.mailfate.test"],
        },
        "ReplyToAddresses": ["help@app.example"],
        "Content": {"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "hello"}}}},
        "EmailTags": [{"Name": "flow", "Value": "signup"}],
        "ConfigurationSetName": "tx",
    }
    answer = _post(server, "/v2/email/outbound-emails", json.dumps(body).encode())
    assert answer.status_code == 200, answer.text
    mid = answer.json()["MessageId"]
    store = server["store"]
    view = store.messages.message(mid)
    assert sorted(r.address for r in view.recipients) == [
        "audit@accept.mailfate.test",
        "kim@accept.mailfate.test",
        "lee@accept.mailfate.test",
    ]
    assert set(view.tags) == {"flow:signup", "configset:tx"}
    head = store.queue.raw(mid).partition(b"\r\n\r\n")[0]
    assert b"\r\nCc: lee@accept.mailfate.test" in b"\r\n" + head
    assert b"Reply-To: help@app.example" in head and b"audit@" not in head


def test_v2_raw_keeps_bcc_in_the_envelope_only(server: dict[str, Any]) -> None:
    raw = (
        b"From: no-reply@app.example\r\nTo: kim@accept.mailfate.test\r\n"
        b"Bcc: hidden@accept.mailfate.test,\r\n other@accept.mailfate.test\r\n"
        b"Subject: s\r\n\r\nBcc: in the body\r\n"
    )
    body = {"Content": {"Raw": {"Data": base64.b64encode(raw).decode()}}}
    answer = _post(server, "/v2/email/outbound-emails", json.dumps(body).encode())
    assert answer.status_code == 200, answer.text
    mid = answer.json()["MessageId"]
    view = server["store"].messages.message(mid)
    assert sorted(r.address for r in view.recipients) == [
        "hidden@accept.mailfate.test",
        "kim@accept.mailfate.test",
        "other@accept.mailfate.test",
    ]
    stored = server["store"].queue.raw(mid)
    assert b"hidden@" not in stored and b"other@" not in stored and stored.endswith(b"Bcc: in the body\r\n")


@pytest.mark.parametrize(
    ("tags", "config", "wanted"),
    [
        ([("flow", "signup")], None, ["flow:signup"]),
        ([("flow", "")], "tx", ["flow", "configset:tx"]),
        ([("a", "b"), ("a", "b")], None, ["a:b"]),
    ],
)
def test_tags_of_maps_ses_tags(tags: list[tuple[str, str]], config: str | None, wanted: list[str]) -> None:
    assert tags_of(tags, config) == wanted


@pytest.mark.parametrize(
    ("tags", "config"),
    [
        ([("", "x")], None),
        ([("a b", "x")], None),
        ([("n" * 40, "v" * 40)], None),
        ([], "x" * 60),
        ([], "a/b"),
    ],
)
def test_tags_that_do_not_fit_are_refused_not_cut(tags: list[tuple[str, str]], config: str | None) -> None:
    with pytest.raises(InputError):
        tags_of(tags, config)


def test_without_bcc_handles_folding_and_bare_newlines() -> None:
    assert without_bcc(b"To: a@x\nBCC: b@x,\n\tc@x\nSubject: s\n\nbody") == b"To: a@x\nSubject: s\n\nbody"
    assert without_bcc(b"no header at all") == b"no header at all"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_v2_attachments_make_the_message_mixed_and_arrive_whole(server: dict[str, Any]) -> None:
    pdf, csv, png = b"%PDF-1.4\n\x00\xff\xfe binary", "이름,코드\n김,1\n".encode(), b"\x89PNG\r\n\x1a\n"
    body = {
        "FromEmailAddress": "no-reply@app.example",
        "Destination": {"ToAddresses": ["kim@accept.mailfate.test"]},
        "Content": {
            "Simple": {
                "Subject": {"Data": "your invoice"},
                "Body": {"Text": {"Data": "attached"}, "Html": {"Data": '<img src="cid:logo1">'}},
                "Attachments": [
                    {"RawContent": _b64(pdf), "FileName": "invoice.pdf"},
                    {
                        "RawContent": _b64(csv),
                        "FileName": "보고서.csv",
                        "ContentType": "text/csv",
                        "ContentTransferEncoding": "QUOTED_PRINTABLE",
                        "ContentDescription": "the report",
                    },
                    {
                        "RawContent": _b64(png),
                        "FileName": "logo.png",
                        "ContentDisposition": "INLINE",
                        "ContentId": "logo1",
                    },
                ],
            }
        },
    }
    answer = _post(server, "/v2/email/outbound-emails", json.dumps(body).encode())
    assert answer.status_code == 200, answer.text
    stored = server["store"].queue.raw(answer.json()["MessageId"])
    message = email.message_from_bytes(stored, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/mixed"
    assert stored.count(b"MIME-Version") == 1
    assert message["Subject"] == "your invoice"
    first = next(message.iter_parts())
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content().strip() for p in first.iter_parts()] == ["attached", '<img src="cid:logo1">']
    parts = list(message.iter_attachments())
    assert [(p.get_filename(), p.get_content_type(), p.get_content_disposition()) for p in parts] == [
        ("invoice.pdf", "application/pdf", "attachment"),
        ("보고서.csv", "text/csv", "attachment"),
        ("logo.png", "image/png", "inline"),
    ]
    assert [p.get_payload(decode=True) for p in parts] == [pdf, csv, png]
    assert parts[1]["Content-Transfer-Encoding"] == "quoted-printable"
    assert parts[1]["Content-Description"] == "the report"
    assert parts[2]["Content-ID"] == "<logo1>"


def test_v2_template_content_takes_attachments_too(server: dict[str, Any]) -> None:
    body = {
        "FromEmailAddress": "no-reply@app.example",
        "Destination": {"ToAddresses": ["kim@accept.mailfate.test"]},
        "Content": {
            "Template": {
                "TemplateName": "verification-code.ko",
                "TemplateData": json.dumps({"code": "428913"}),
                "Attachments": [{"RawContent": _b64(b"terms"), "FileName": "terms.txt"}],
            }
        },
    }
    answer = _post(server, "/v2/email/outbound-emails", json.dumps(body).encode())
    assert answer.status_code == 200, answer.text
    message = email.message_from_bytes(
        server["store"].queue.raw(answer.json()["MessageId"]), policy=email.policy.default
    )
    assert isinstance(message, EmailMessage)
    plain = message.get_body(("plain",))
    assert plain is not None and "428913" in plain.get_content()
    assert [(p.get_filename(), p.get_payload(decode=True)) for p in message.iter_attachments()] == [
        ("terms.txt", b"terms")
    ]


@pytest.mark.parametrize(
    ("attachment", "says"),
    [
        ({"FileName": "a.pdf"}, None),  # no RawContent: an empty file, which SES takes too
        ({"RawContent": "%%%", "FileName": "a.pdf"}, "Attachments[0].RawContent: base64"),
        ({"RawContent": _b64(b"x")}, "Attachments[0].FileName is required"),
        ({"RawContent": _b64(b"x"), "FileName": "a\r\nBcc: x@evil.test"}, "line breaks"),
        ({"RawContent": _b64(b"x"), "FileName": "a", "ContentId": "a>\r\nX: y"}, "line breaks"),
        ({"RawContent": _b64(b"x"), "FileName": "a", "ContentType": "multipart/mixed"}, "single part"),
        ({"RawContent": _b64(b"x"), "FileName": "a", "ContentType": "text"}, "type/subtype"),
        ({"RawContent": _b64(b"x"), "FileName": "a", "ContentDisposition": "HIDDEN"}, "ATTACHMENT or INLINE"),
        (
            {"RawContent": _b64("é".encode()), "FileName": "a", "ContentTransferEncoding": "SEVEN_BIT"},
            "Attachments[0]",
        ),
        ("a.pdf", "Attachments[0]: an object"),
    ],
)
def test_v2_attachments_out_of_shape_are_refused_by_name(
    server: dict[str, Any], attachment: Any, says: str | None
) -> None:
    body = {
        "FromEmailAddress": "no-reply@app.example",
        "Destination": {"ToAddresses": ["kim@accept.mailfate.test"]},
        "Content": {
            "Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}, "Attachments": [attachment]}
        },
    }
    answer = _post(server, "/v2/email/outbound-emails", json.dumps(body).encode())
    if says is None:
        assert answer.status_code == 200, answer.text
        return
    assert answer.status_code == 400, answer.text
    assert answer.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert says in answer.json()["message"]


@pytest.mark.parametrize(
    "template",
    [
        {"TemplateContent": {"Subject": "hi {{name}}", "Text": "code {{code}}"}, "TemplateData": "{}"},
        {"TemplateName": "verification-code", "TemplateContent": {"Subject": "s"}, "TemplateData": "{}"},
        {"TemplateArn": "arn:aws:ses:eu-west-1:1:template/x", "TemplateName": "verification-code"},
    ],
)
def test_v2_inline_and_arn_templates_are_refused_not_sent_without_them(
    server: dict[str, Any], template: dict[str, Any]
) -> None:
    body = {
        "FromEmailAddress": "no-reply@app.example",
        "Destination": {"ToAddresses": ["kim@accept.mailfate.test"]},
        "Content": {"Template": template},
    }
    answer = _post(server, "/v2/email/outbound-emails", json.dumps(body).encode())
    assert answer.status_code == 400, answer.text
    assert answer.headers["x-amzn-ErrorType"] == "BadRequestException"


def _bulk(entries: list[Any], **over: Any) -> bytes:
    body = {
        "FromEmailAddress": "no-reply@app.example",
        "DefaultContent": {
            "Template": {
                "TemplateName": "verification-code.ko",
                "TemplateData": json.dumps({"code": "000000"}),
            }
        },
        "DefaultEmailTags": [{"Name": "flow", "Value": "signup"}],
        "BulkEmailEntries": entries,
        **over,
    }
    return json.dumps(body).encode()


def test_v2_bulk_sends_one_message_per_entry_with_its_own_data(server: dict[str, Any]) -> None:
    server["store"].suppressions.suppress(
        NewSuppression("*", "gone@accept.mailfate.test", "hard_bounce"), at=datetime.now(UTC)
    )
    entries = [
        {
            "Destination": {"ToAddresses": ["kim@accept.mailfate.test"]},
            "ReplacementEmailContent": {
                "ReplacementTemplate": {"ReplacementTemplateData": '{"code": "111111"}'}
            },
            "ReplacementTags": [{"Name": "flow", "Value": "reset"}],
        },
        {"Destination": {"ToAddresses": ["lee@accept.mailfate.test"]}},  # the default data
        {"Destination": {"ToAddresses": ["gone@accept.mailfate.test"]}},
        {"Destination": "kim@accept.mailfate.test"},
        {
            "Destination": {"ToAddresses": ["park@accept.mailfate.test"]},
            "ReplacementEmailContent": {"ReplacementTemplate": {"ReplacementTemplateData": "[1]"}},
        },
    ]
    answer = _post(server, "/v2/email/outbound-bulk-emails", _bulk(entries))
    assert answer.status_code == 200, answer.text
    results = answer.json()["BulkEmailEntryResults"]
    assert [r["Status"] for r in results] == [
        "SUCCESS",
        "SUCCESS",
        "MESSAGE_REJECTED",
        "INVALID_PARAMETER",
        "INVALID_PARAMETER",
    ]
    assert "Destination" in results[3]["Error"] and "ReplacementTemplateData" in results[4]["Error"]
    store = server["store"]
    first, second = (store.messages.message(r["MessageId"]) for r in results[:2])
    assert [r.address for r in first.recipients] == ["kim@accept.mailfate.test"]
    assert set(first.tags) == {"flow:reset"} and set(second.tags) == {"flow:signup"}
    texts = [
        email.message_from_bytes(store.queue.raw(r["MessageId"]), policy=email.policy.default)
        for r in results[:2]
    ]
    bodies = [m.get_body(("plain",)).get_content() for m in texts]  # type: ignore[union-attr]
    assert "111111" in bodies[0] and "000000" in bodies[1]


def test_v2_bulk_with_an_unknown_template_says_so_per_entry(server: dict[str, Any]) -> None:
    body = _bulk(
        [{"Destination": {"ToAddresses": ["kim@accept.mailfate.test"]}}],
        DefaultContent={"Template": {"TemplateName": "no-such-template", "TemplateData": "{}"}},
    )
    answer = _post(server, "/v2/email/outbound-bulk-emails", body)
    assert answer.status_code == 200, answer.text
    assert [r["Status"] for r in answer.json()["BulkEmailEntryResults"]] == ["TEMPLATE_NOT_FOUND"]


@pytest.mark.parametrize(
    ("over", "says"),
    [
        ({"BulkEmailEntries": []}, "1 to 50"),
        ({"BulkEmailEntries": [{"Destination": {}}] * 51}, "1 to 50"),
        ({"DefaultContent": {}}, "DefaultContent"),
        ({"DefaultContent": {"Simple": {"Subject": {"Data": "s"}}}}, "DefaultContent"),
        ({"FromEmailAddress": ""}, "FromEmailAddress"),
        ({"DefaultEmailTags": [{"Name": "bad tag", "Value": "x"}]}, "EmailTags"),
    ],
)
def test_v2_bulk_requests_out_of_shape_are_refused_whole(
    server: dict[str, Any], over: dict[str, Any], says: str
) -> None:
    body = json.loads(_bulk([{"Destination": {"ToAddresses": ["kim@accept.mailfate.test"]}}]))
    body.update(over)
    answer = _post(server, "/v2/email/outbound-bulk-emails", json.dumps(body).encode())
    assert answer.status_code == 400, answer.text
    assert answer.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert says in answer.json()["message"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=st.lists(json_values | st.fixed_dictionaries({"Destination": ses_shaped}), max_size=4),
    extra=json_values,
)
def test_any_signed_bulk_body_is_answered_without_a_500(
    server: dict[str, Any], entries: Any, extra: Any
) -> None:
    body = json.loads(_bulk(entries))
    if isinstance(extra, dict):
        body.update(extra)
    _ses_answer(_post(server, "/v2/email/outbound-bulk-emails", json.dumps(body).encode()))


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_413_in_ses_shape(server: dict[str, Any], chunked: bool) -> None:
    """Over the API's body limit (1 MiB here), by Content-Length or counted while reading a chunked
    body: SES's shape on the SES routes (boto3 raises MessageRejected), FastAPI's on /v1."""
    big = json.dumps({"Content": {"Raw": {"Data": "A" * (1 << 20)}}}).encode()
    form = b"Action=SendRawEmail&RawMessage.Data=" + b"A" * (1 << 20)

    def post(path: str, body: bytes, kind: str) -> httpx.Response:
        url = server["url"] + path
        headers = sign("POST", url, body, *server["keys"]["send"], headers={"Content-Type": kind})
        content: Any = iter([body]) if chunked else body
        response: httpx.Response = server["http"].post(path, content=content, headers=headers)
        return response

    v2 = post("/v2/email/outbound-emails", big, "application/json")
    assert v2.status_code == 413
    assert v2.headers["x-amzn-ErrorType"] == "MessageRejected" == v2.json()["__type"]
    assert "larger than" in v2.json()["message"]
    v1 = post("/", form, "application/x-www-form-urlencoded")
    assert v1.status_code == 413 and b"<Code>MessageRejected</Code>" in v1.content
    plain = post("/v1/messages", big, "application/json")
    assert plain.status_code == 413 and "larger than" in plain.json()["detail"]


def test_template_data_nested_past_the_parser_is_400_not_500(server: dict[str, Any]) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    body = {
        "FromEmailAddress": "no-reply@app.example",
        "Destination": {"ToAddresses": ["kim@accept.mailfate.test"]},
        "Content": {"Template": {"TemplateName": "verification-code", "TemplateData": deep}},
    }
    answer = _post(server, "/v2/email/outbound-emails", json.dumps(body).encode())
    assert answer.status_code == 400, answer.text
    assert "TemplateData" in answer.json()["message"]
