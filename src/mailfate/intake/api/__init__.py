"""The HTTP API (``/v1``): submit and search messages, follow events, manage suppressions."""
