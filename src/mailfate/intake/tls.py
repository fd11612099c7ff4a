"""The submission server's TLS: a configured certificate, or a self-signed one made once.

A self-signed certificate is enough for applications on the same host or network that pin it (or
skip verification, as many SMTP libraries allow); for anything else give ``[submission] cert`` and
``key`` (PEM). It is made with the ``openssl`` command (ConfigError when it is missing).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

from mailfate.errors import ConfigError

__all__ = ["self_signed", "server_context"]


def self_signed(folder: Path, hostname: str = "localhost") -> tuple[Path, Path]:
    cert, key = folder / "submission-cert.pem", folder / "submission-key.pem"
    if cert.exists() and key.exists():
        return cert, key
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ConfigError(
            "a TLS certificate is needed for SMTP submission: set [submission] cert and key, "
            "or install openssl to make a self-signed one"
        )
    folder.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "825",
                "-subj",
                f"/CN={hostname}",
                "-addext",
                f"subjectAltName=DNS:{hostname}",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"openssl could not make a certificate: {exc}") from exc
    key.chmod(0o600)
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"submission TLS: cannot load {cert} / {key}: {exc}") from exc
    return context
