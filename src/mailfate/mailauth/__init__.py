"""Mail authentication: SPF, DKIM, DMARC and reverse DNS, on one injectable resolver.

Used by the simulator's auth personalities, ``mailfate doctor`` and the delivery engine (DKIM
signing). Blocking checks have ``*_async`` twins that run in a worker thread.
"""

from __future__ import annotations

from mailfate.mailauth.dkim import DkimResult, generate_key, sign_dkim, verify_dkim, verify_dkim_async
from mailfate.mailauth.dmarc import DmarcRecord, DmarcResult, check_dmarc, from_domain, parse_dmarc_record
from mailfate.mailauth.dns import DnsStatus, Lookup, make_resolver
from mailfate.mailauth.results import authentication_results
from mailfate.mailauth.spf import SpfResult, check_spf, check_spf_async

__all__ = [
    "DkimResult",
    "DmarcRecord",
    "DmarcResult",
    "DnsStatus",
    "Lookup",
    "SpfResult",
    "authentication_results",
    "check_dmarc",
    "check_spf",
    "check_spf_async",
    "from_domain",
    "generate_key",
    "make_resolver",
    "parse_dmarc_record",
    "sign_dkim",
    "verify_dkim",
    "verify_dkim_async",
]
