"""The dashboard: server-rendered pages over the store (see :mod:`mailfate.web.dashboard`)."""
