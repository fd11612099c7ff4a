"""Parsers for standard formats: RFC 3464 DSNs, ARF complaints, RFC 3834 auto-replies, SES JSON."""
