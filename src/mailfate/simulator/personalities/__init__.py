"""The personality registry: configuration slug → class, imported on first use.

One personality (or a small family) per module; adding one is one line here.
"""

from __future__ import annotations

import importlib

from mailfate.errors import ConfigError
from mailfate.simulator.model import Personality

__all__ = ["PERSONALITIES", "personality_class"]

PERSONALITIES: dict[str, str] = {
    "accept": "basic:Accept",
    "unknown-users": "basic:UnknownUsers",
    "mailbox-full": "basic:MailboxFull",
    "blocklist": "basic:Blocklist",
    "tarpit": "basic:Tarpit",
    "disconnect": "basic:Disconnect",
    "greylist": "greylist:Greylist",
    "rate-limit": "ratelimit:RateLimit",
    "strict-auth": "auth:StrictAuth",
    "lenient-auth": "auth:LenientAuth",
    "requires-ptr": "ptr:RequiresPtr",
    "late-bounce": "latebounce:LateBounce",
    "complaint": "complaint:Complaint",
    "mailbox-simulator": "mailbox:MailboxSimulator",
}


def personality_class(name: str) -> type[Personality]:
    """The class for a configuration slug; ``ConfigError`` naming the known ones otherwise."""
    target = PERSONALITIES.get(name)
    if target is None:
        known = ", ".join(sorted(PERSONALITIES))
        raise ConfigError(f"unknown simulator personality {name!r}; known: {known}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    cls = getattr(module, attr)
    if not (isinstance(cls, type) and issubclass(cls, Personality)):
        raise TypeError(f"{target} is not a Personality")
    return cls
