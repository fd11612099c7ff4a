"""The ``mailfate`` command."""
