"""AWS access keys for the SES endpoint: an API key that doubles as an access key id and a secret.

SigV4 needs the secret itself on the server (it recomputes the HMAC), and mailfate stores API keys
only as SHA-256 hashes. So an AWS key's secret is not stored at all: it is *derived*,
``secret = "mf_" + base32(HMAC-SHA256(master, key id))``, from a server secret kept the way
mailfate keeps the VERP secret — ``<data_dir>/aws.key``, made once with mode 0600. The store holds
the key id (as the key's ``prefix``) and the secret's hash, as for any key: a copy of the
database alone gives no usable secret, a revoked key stops at once, and the secret is also a
plain ``Authorization: Bearer`` key for ``/v1``. Replacing ``aws.key`` voids every AWS key (the
hash no longer matches); every process that checks signatures needs the same file.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hmac
import os
import re
import tempfile
from pathlib import Path

from mailfate.errors import ConfigError

__all__ = ["KEY_ID", "MASTER_FILE", "load_master", "new_key_id", "secret_for"]

MASTER_FILE = "aws.key"
KEY_ID = re.compile(r"MFAK[A-Z2-7]{12}")
"""An access key id: ``MFAK`` and 12 base32 characters (16: the store's prefix column)."""


def new_key_id() -> str:
    return "MFAK" + base64.b32encode(os.urandom(10)).decode("ascii")[:12]


@functools.lru_cache(maxsize=1024)  # every signed request names its key id: derived once each
def secret_for(master: bytes, key_id: str) -> str:
    """The secret access key of ``key_id`` (an API key: ``mf_`` + 40 base32 characters)."""
    digest = hmac.digest(master, b"mailfate-aws-key:" + key_id.encode("ascii"), "sha256")
    return "mf_" + base64.b32encode(digest[:25]).decode("ascii").lower()


def load_master(data_dir: Path) -> bytes:
    """The server secret the AWS keys derive from: ``<data_dir>/aws.key``, made once (0600).

    Made whole under a temporary name and linked into place, so two processes starting together
    agree on one secret and neither reads a half-written file."""
    path = data_dir / MASTER_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".aws.key.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(os.urandom(32).hex().encode())
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    master = path.read_bytes().strip()
    if len(master) < 32:
        raise ConfigError(f"{path}: too short for a secret; delete it to make a new one (voids AWS keys)")
    return master
