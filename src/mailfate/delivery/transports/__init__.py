"""Transports: one interface (:class:`~mailfate.delivery.transports.base.Transport`), several ways out."""
