"""``[submission] cert`` and ``key``: SMTP submission presents the configured certificate, and a
client that trusts its CA verifies it as it would any server's (no self-signed pinning)."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import pytest

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.errors import ConfigError
from mailfate.intake.smtp_submission import SubmissionServer
from mailfate.intake.tls import server_context
from mailfate.store import Store


def _ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for mail.app.test it signed (openssl, as a real CA's would be)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA")  # fmt: skip
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "mail.key", "-out", "mail.csr", "-subj", "/CN=mail.app.test")  # fmt: skip
    (folder / "ext").write_text("subjectAltName=DNS:mail.app.test,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "mail.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "mail.pem", "-days", "2", "-extfile", "ext")  # fmt: skip
    return folder / "ca.pem", folder / "mail.pem", folder / "mail.key"


def test_the_configured_certificate_is_verified_by_a_client_trusting_its_ca(tmp_path: Path) -> None:
    ca, cert, key = _ca_and_server_cert(tmp_path)
    config = tmp_path / "mailfate.toml"
    config.write_text(f'[submission]\ncert = "{cert}"\nkey = "{key}"\n')
    settings = load_settings(config, data_dir=tmp_path / "d")
    assert (settings.submission_cert, settings.submission_key) == (str(cert), str(key))
    store = Store.open(tmp_path / "s.db")
    secret = store.keys.create_key({"send"}, at=datetime.now(UTC))

    async def main(trusting: ssl.SSLContext) -> str:
        client = Client(store, settings=settings)
        server = SubmissionServer(
            store, client, server_context(Path(settings.submission_cert), Path(settings.submission_key))
        )
        await server.start()
        try:
            smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, tls_context=trusting, timeout=10)
            async with smtp:
                await smtp.login("app", secret)
                mail = b"From: no-reply@app.example\r\nSubject: x\r\n\r\nx\r\n"
                reply = await smtp.sendmail("no-reply@app.example", ["kim@naver.test"], mail)
            return str(reply)
        finally:
            await server.stop()

    try:  # verified: the chain up to the CA and the name (the certificate's IP address here)
        assert "queued as" in asyncio.run(main(ssl.create_default_context(cafile=str(ca))))
        with pytest.raises((aiosmtplib.SMTPException, ssl.SSLError)):  # a client without the CA refuses
            asyncio.run(main(ssl.create_default_context()))
    finally:
        store.close()


def test_cert_without_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "mailfate.toml"
    config.write_text('[submission]\ncert = "/x.pem"\n')
    with pytest.raises(ConfigError, match="both or neither"):
        load_settings(config)
