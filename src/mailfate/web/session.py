"""The dashboard's sign-in session and its cross-site request guard.

A session cookie is ``<key id>.<expiry>.<mac>``: the API key's row id, the Unix second it ends,
and HMAC-SHA256 over both keyed with the key's stored hash (:mod:`mailfate.store.keys`). Nothing
is stored per session, so any number of ``serve`` processes on one database accept each other's
cookies; checking one reads the key by id, so a revoked key ends its sessions at once. The cookie
never holds the key itself, and it cannot be made without the key (its hash is only in the
database, and whoever reads the database reads everything the dashboard shows anyway).

:func:`cross_site` tells a browser's cross-site POST (a forged sign-in or sign-out) from a
same-origin one: ``Sec-Fetch-Site`` when the browser sends it, else ``Origin``, else ``Referer``,
compared with the request's own scheme and host.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

__all__ = [
    "LEGACY_COOKIE",
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "Session",
    "cross_site",
    "parse_session",
    "sign_session",
    "valid_session",
]

SESSION_COOKIE = "mailfate_session"
LEGACY_COOKIE = "mailfate_key"
"""Where older versions kept the raw key: never read, deleted at sign-in and sign-out."""
SESSION_SECONDS = 12 * 3600
_MAX_ID = 2**63
_COOKIE = re.compile(r"^([1-9][0-9]{0,18})\.([1-9][0-9]{0,11})\.([0-9a-f]{64})$")
_ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Session:
    key_id: int
    expires: int
    mac: str


def _mac(stored_hash: str, key_id: int, expires: int) -> str:
    message = f"mailfate-dashboard-session|{key_id}|{expires}".encode("ascii")
    return hmac.new(stored_hash.encode("ascii"), message, hashlib.sha256).hexdigest()


def sign_session(key_id: int, stored_hash: str, *, now: float, seconds: int = SESSION_SECONDS) -> str:
    """The cookie value for a session of ``key_id`` ending ``seconds`` after ``now``."""
    expires = int(now) + seconds
    return f"{key_id}.{expires}.{_mac(stored_hash, key_id, expires)}"


def parse_session(value: str | None) -> Session | None:
    """The cookie's parts when it is well formed (not yet checked against the key)."""
    match = _COOKIE.fullmatch(value or "")
    if match is None:
        return None
    key_id = int(match.group(1))
    if key_id >= _MAX_ID:
        return None
    return Session(key_id, int(match.group(2)), match.group(3))


def valid_session(session: Session, stored_hash: str, *, now: float) -> bool:
    """The MAC is the key's and the session has not ended (nor ends implausibly late)."""
    if not now < session.expires <= now + SESSION_SECONDS + 60:
        return False
    return hmac.compare_digest(session.mac, _mac(stored_hash, session.key_id, session.expires))


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host or port is None:
        return None
    return scheme, host, port


def cross_site(request: Request) -> bool:
    """Whether a state-changing request must be refused as cross-site.

    ``Sec-Fetch-Site`` decides when present (``same-origin`` and ``none``, a typed address or a
    bookmark, pass). Without it, the ``Origin`` (else the ``Referer``) must be this site's own
    scheme, host and port; ``Origin: null`` (a sandboxed frame, a privacy redirect) is refused.
    A request with none of the three is not a browser's (every browser sends ``Origin`` with a
    POST): a script or ``curl``, which has no cookie to abuse, passes.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.strip().lower() not in _ALLOWED_FETCH_SITES
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is None:
        return False
    host = request.headers.get("host")
    if not host:
        return True
    own = _origin(f"{request.url.scheme}://{host}")
    return own is None or _origin(claimed.strip()) != own
