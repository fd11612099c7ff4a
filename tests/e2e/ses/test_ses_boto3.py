"""The SES endpoint with the real clients: boto3's ``sesv2`` and ``ses`` (and the AWS CLI when it
is installed) against ``mailfate serve`` started for the test, signing with keys from
``mailfate keys create --aws``. Each message is followed to its fate in the simulator."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.exceptions
import httpx
import pytest
from botocore.config import Config

from tests.support.aws_sign import sign
from tests.support.serve import clean_env, mailfate, running


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("ses")
    keys: dict[str, Any] = {}
    for scope in ("send,read", "admin", "read"):
        made = mailfate("keys", "create", "--aws", "--scope", scope, "--json", "--data-dir", str(data))
        assert made.returncode == 0, made.stderr
        keys[scope] = json.loads(made.stdout)
    args = ["serve", "--data-dir", str(data), "--http-port", "0", "--inbound-port", "0"]
    with running(*args, "--submission-port", "-1") as ready:
        yield {"url": ready["http"], "keys": keys, "data": data}


def client(served: dict[str, Any], service: str, scope: str = "send,read", **override: str) -> Any:
    key = served["keys"][scope]
    creds = {
        "aws_access_key_id": key["aws_access_key_id"],
        "aws_secret_access_key": key["aws_secret_access_key"],
    }
    creds.update(override)
    return boto3.client(
        service,
        endpoint_url=served["url"],
        region_name="eu-west-1",
        config=Config(retries={"max_attempts": 1}),
        **creds,
    )


def fate_of(served: dict[str, Any], message_id: str, want: str) -> dict[str, Any]:
    """The message's view once its fate is ``want`` (or after 20 s), read with the secret as a
    Bearer key: the AWS secret is a mailfate API key too."""
    bearer = {"Authorization": f"Bearer {served['keys']['send,read']['aws_secret_access_key']}"}
    deadline = time.monotonic() + 20
    while True:
        view: dict[str, Any] = httpx.get(
            f"{served['url']}/v1/messages/{message_id}", headers=bearer, timeout=10
        ).json()
        if view.get("fate") == want or time.monotonic() > deadline:
            return view
        time.sleep(0.05)


def tagged(served: dict[str, Any], tag: str) -> list[str]:
    bearer = {"Authorization": f"Bearer {served['keys']['send,read']['aws_secret_access_key']}"}
    found = httpx.get(f"{served['url']}/v1/messages", params={"tag": tag}, headers=bearer, timeout=10)
    return [m["message_id"] for m in found.json()["messages"]]


def test_sesv2_send_email_simple_reaches_its_fate(served: dict[str, Any]) -> None:
    answer = client(served, "sesv2").send_email(
        FromEmailAddress="App <no-reply@app.example>",
        Destination={
            "ToAddresses": ["kim@accept.mailfate.test"],
            "CcAddresses": ["lee@accept.mailfate.test"],
            "BccAddresses": ["audit@accept.mailfate.test"],
        },
        ReplyToAddresses=["help@app.example"],
        Content={
            "Simple": {
                "Subject": {"Data": "Your code", "Charset": "UTF-8"},
                "Body": {"Text": {"Data": "428913"}, "Html": {"Data": "<b>428913</b>"}},
                "Headers": [{"Name": "X-Request-Id", "Value": "r-1"}],
            }
        },
        EmailTags=[{"Name": "flow", "Value": "signup"}],
        ConfigurationSetName="transactional",
    )
    mid = answer["MessageId"]
    view = fate_of(served, mid, "delivered")
    assert view["fate"] == "delivered"
    assert sorted(r["address"] for r in view["recipients"]) == [
        "audit@accept.mailfate.test",
        "kim@accept.mailfate.test",
        "lee@accept.mailfate.test",
    ]
    assert mid in tagged(served, "flow:signup") and mid in tagged(served, "configset:transactional")


def test_sesv2_raw_and_template_content(served: dict[str, Any]) -> None:
    ses = client(served, "sesv2")
    raw = (
        b"From: no-reply@app.example\r\nTo: park@accept.mailfate.test\r\n"
        b"Subject: raw\r\nMessage-ID: <raw-1@app.example>\r\n\r\nhello\r\n"
    )
    first = ses.send_email(Content={"Raw": {"Data": raw}})["MessageId"]
    again = ses.send_email(Content={"Raw": {"Data": raw}})["MessageId"]
    assert again == first  # an SDK's retry of the same message is not sent twice
    assert fate_of(served, first, "delivered")["fate"] == "delivered"
    templated = ses.send_email(
        FromEmailAddress="no-reply@app.example",
        Destination={"ToAddresses": ["choi@accept.mailfate.test"]},
        Content={
            "Template": {"TemplateName": "verification-code.ko", "TemplateData": json.dumps({"code": "1234"})}
        },
    )["MessageId"]
    assert fate_of(served, templated, "delivered")["fate"] == "delivered"


def test_sesv2_attachments_reach_the_receiver_whole(served: dict[str, Any]) -> None:
    """boto3's ``Attachments`` (SES v2, Simple content): the copy the simulator received is
    ``multipart/mixed`` and the attachment decodes to the bytes the application gave."""
    pdf = b"%PDF-1.4\n\x00\xff binary"
    mid = client(served, "sesv2").send_email(
        FromEmailAddress="no-reply@app.example",
        Destination={"ToAddresses": ["han@accept.mailfate.test"]},
        Content={
            "Simple": {
                "Subject": {"Data": "invoice"},
                "Body": {"Text": {"Data": "attached"}},
                "Attachments": [
                    {"RawContent": pdf, "FileName": "invoice.pdf", "ContentType": "application/pdf"}
                ],
            }
        },
    )["MessageId"]
    assert fate_of(served, mid, "delivered")["fate"] == "delivered"
    received = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in (served["data"] / "simulator" / "maildir").rglob("*")
        if path.is_file() and b"Subject: invoice" in path.read_bytes()
    ]
    assert len(received) == 1
    assert received[0].get_content_type() == "multipart/mixed"
    assert [(p.get_filename(), p.get_payload(decode=True)) for p in received[0].iter_attachments()] == [
        ("invoice.pdf", pdf)
    ]


def test_sesv2_send_bulk_email_sends_each_entry(served: dict[str, Any]) -> None:
    answer = client(served, "sesv2").send_bulk_email(
        FromEmailAddress="no-reply@app.example",
        DefaultContent={
            "Template": {
                "TemplateName": "verification-code.ko",
                "TemplateData": json.dumps({"code": "000000"}),
            }
        },
        DefaultEmailTags=[{"Name": "flow", "Value": "bulk"}],
        BulkEmailEntries=[
            {
                "Destination": {"ToAddresses": ["yoon@accept.mailfate.test"]},
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {"ReplacementTemplateData": json.dumps({"code": "222222"})}
                },
            },
            {"Destination": {"ToAddresses": ["unknown-bulk@naver.test"]}},
        ],
    )
    results = answer["BulkEmailEntryResults"]
    assert [r["Status"] for r in results] == ["SUCCESS", "SUCCESS"]
    assert fate_of(served, results[0]["MessageId"], "delivered")["fate"] == "delivered"
    assert fate_of(served, results[1]["MessageId"], "bounced")["fate"] == "bounced"
    assert {r["MessageId"] for r in results} <= set(tagged(served, "flow:bulk"))


def test_ses_v1_send_raw_email_and_send_email(served: dict[str, Any]) -> None:
    ses = client(served, "ses")
    raw = b"From: no-reply@app.example\r\nTo: jung@accept.mailfate.test\r\nSubject: v1\r\n\r\nbody\r\n"
    mid = ses.send_raw_email(RawMessage={"Data": raw}, Tags=[{"Name": "via", "Value": "v1"}])["MessageId"]
    view = fate_of(served, mid, "delivered")
    assert view["fate"] == "delivered" and mid in tagged(served, "via:v1")
    sent = ses.send_email(
        Source="no-reply@app.example",
        Destination={"ToAddresses": ["unknown@naver.test"]},
        Message={"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "hello"}}},
    )["MessageId"]
    assert fate_of(served, sent, "bounced")["fate"] == "bounced"
    quota = ses.get_send_quota()
    assert quota["MaxSendRate"] > 0 and quota["Max24HourSend"] >= quota["MaxSendRate"]


def test_account_and_suppressions_map_to_mailfate_state(served: dict[str, Any]) -> None:
    admin = client(served, "sesv2", "admin")
    account = client(served, "sesv2").get_account()
    assert account["SendingEnabled"] and account["SendQuota"]["MaxSendRate"] > 0
    admin.put_suppressed_destination(EmailAddress="gone@accept.mailfate.test", Reason="COMPLAINT")
    listed = admin.list_suppressed_destinations()["SuppressedDestinationSummaries"]
    assert {"gone@accept.mailfate.test": "COMPLAINT"}.items() <= {
        s["EmailAddress"]: s["Reason"] for s in listed
    }.items()
    got = admin.get_suppressed_destination(EmailAddress="gone@accept.mailfate.test")
    assert got["SuppressedDestination"]["Reason"] == "COMPLAINT"
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        client(served, "sesv2").send_email(
            FromEmailAddress="no-reply@app.example",
            Destination={"ToAddresses": ["gone@accept.mailfate.test"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )
    assert refused.value.response["Error"]["Code"] == "MessageRejected"
    admin.delete_suppressed_destination(EmailAddress="gone@accept.mailfate.test")
    with pytest.raises(admin.exceptions.NotFoundException):
        admin.delete_suppressed_destination(EmailAddress="gone@accept.mailfate.test")
    with pytest.raises(botocore.exceptions.ClientError) as denied:  # a read key may not add
        client(served, "sesv2", "read").put_suppressed_destination(EmailAddress="x@y.test", Reason="BOUNCE")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def _code(call: Any) -> tuple[int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    err = caught.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]


def test_wrong_secret_unknown_key_and_tampered_body_are_refused(served: dict[str, Any]) -> None:
    secret = served["keys"]["send,read"]["aws_secret_access_key"]
    wrong = secret[:-1] + ("y" if secret.endswith("x") else "x")  # one character off, never the same
    assert _code(client(served, "sesv2", aws_secret_access_key=wrong).get_account) == (
        403,
        "InvalidSignatureException",
    )
    assert _code(client(served, "ses", aws_secret_access_key=wrong).get_send_quota) == (
        403,
        "SignatureDoesNotMatch",
    )
    stranger = {"aws_access_key_id": "MFAKAAAAAAAAAAAA"}
    assert _code(client(served, "sesv2", **stranger).get_account) == (403, "UnrecognizedClientException")
    assert _code(client(served, "ses", **stranger).get_send_quota) == (403, "InvalidClientTokenId")

    ses = client(served, "sesv2")

    def tamper(request: Any, **_: Any) -> None:  # after signing: the body no longer matches
        request.body = request.body.replace(b"kim@", b"eve@")

    ses.meta.events.register_last("before-send.sesv2.SendEmail", tamper)
    status, code = _code(
        lambda: ses.send_email(
            FromEmailAddress="no-reply@app.example",
            Destination={"ToAddresses": ["kim@accept.mailfate.test"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )
    )
    assert (status, code) == (403, "InvalidSignatureException")


def test_unsigned_stale_and_hostile_requests_get_ses_shaped_4xx(served: dict[str, Any]) -> None:
    url = served["url"]
    anon = httpx.post(f"{url}/v2/email/outbound-emails", json={}, timeout=10)
    assert (
        anon.status_code == 403 and anon.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    )
    half = httpx.get(f"{url}/v2/email/account", headers={"Authorization": "AWS4-HMAC-SHA256 x"}, timeout=10)
    assert half.status_code == 403 and half.headers["x-amzn-ErrorType"] == "IncompleteSignatureException"
    v1 = httpx.post(url + "/", data={"Action": "SendRawEmail"}, timeout=10)
    assert v1.status_code == 403 and "<Code>MissingAuthenticationToken</Code>" in v1.text
    key = served["keys"]["send,read"]
    ids = (key["aws_access_key_id"], key["aws_secret_access_key"])
    stale = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=6)
    old = httpx.get(
        f"{url}/v2/email/account", headers=sign("GET", f"{url}/v2/email/account", b"", *ids, when=stale)
    )
    assert old.status_code == 403 and old.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert "expired" in old.json()["message"]
    hostile = (
        b"{not json",
        b"[]",
        b'{"Content": {"Raw": {"Data": "!!"}}}',
        b'{"Content": 5}',
        b"\xff" * 64,
        b'{"FromEmailAddress": "a@b.test", "Destination": {"ToAddresses": [1]}, "Content": {"Simple": {}}}',
        b'{"Content": {"Simple": {"Subject": {"Data": "x"}}, "Raw": {"Data": ""}}}',
        b'{"Content": {"Template": {"TemplateName": "../../etc/passwd"}}, "FromEmailAddress": "a@b.test"}',
        b"[" * 100_000,
    )
    target = f"{url}/v2/email/outbound-emails"
    for body in hostile:
        answer = httpx.post(target, content=body, headers=sign("POST", target, body, *ids), timeout=10)
        assert answer.status_code == 400, (body[:40], answer.text)
        assert answer.headers["x-amzn-ErrorType"] == "BadRequestException"
    for form in (
        b"Action=SendRawEmail&RawMessage.Data=%%%",
        b"Action=Nope",
        b"\xff\xfe",
        b"Action=SendEmail",
    ):
        answer = httpx.post(url + "/", content=form, headers=sign("POST", url + "/", form, *ids), timeout=10)
        assert answer.status_code == 400 and "<ErrorResponse" in answer.text, (form, answer.text)


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_aws_cli_sends_through_the_endpoint(served: dict[str, Any]) -> None:
    key = served["keys"]["send,read"]
    env = clean_env() | {
        "AWS_ACCESS_KEY_ID": key["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": key["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    out = subprocess.run(
        [
            "aws", "sesv2", "send-email", "--endpoint-url", served["url"],
            "--from-email-address", "no-reply@app.example",
            "--destination", "ToAddresses=cli@accept.mailfate.test",
            "--content", "Simple={Subject={Data=cli},Body={Text={Data=hello}}}",
            "--output", "json",
        ],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    mid = json.loads(out.stdout)["MessageId"]
    assert fate_of(served, mid, "delivered")["fate"] == "delivered"


def test_a_revoked_aws_key_is_refused_and_keys_list_shows_its_key_id(served: dict[str, Any]) -> None:
    data = str(served["data"])
    made = json.loads(mailfate("keys", "create", "--aws", "--json", "--data-dir", data).stdout)
    key_id = made["aws_access_key_id"]
    listed = [
        json.loads(line)
        for line in mailfate("keys", "list", "--json", "--data-dir", data).stdout.splitlines()
    ]
    assert key_id in [k["prefix"] for k in listed]
    assert mailfate("keys", "revoke", key_id, "--data-dir", data).returncode == 0
    ses = boto3.client(
        "ses",
        endpoint_url=served["url"],
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=made["aws_secret_access_key"],
        config=Config(retries={"max_attempts": 1}),
    )
    assert _code(ses.get_send_quota) == (403, "InvalidClientTokenId")


def test_an_operation_not_offered_is_a_named_404(served: dict[str, Any]) -> None:
    ses = client(served, "sesv2")
    with pytest.raises(ses.exceptions.NotFoundException) as raised:
        ses.list_email_templates()
    assert "does not offer GET /v2/email/templates" in str(raised.value)
    with pytest.raises(ses.exceptions.NotFoundException):
        ses.create_email_identity(EmailIdentity="app.example")
