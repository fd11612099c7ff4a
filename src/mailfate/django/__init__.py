"""Django integration: ``EMAIL_BACKEND = "mailfate.django.EmailBackend"`` and a tracking view.

The backend hands each ``EmailMessage`` (``send_mail``, ``EmailMultiAlternatives``, attachments,
cc/bcc, reply-to, headers) to mailfate as the MIME Django built, with the envelope Django names;
mailfate tracks it to its fate — in process (the store) or remote (the HTTP API: URL and key).
:mod:`mailfate.django.tracking` turns mailfate's webhooks into a Django signal in the shape of
django-anymail's tracking events. Needs the ``django`` extra (``pip install 'mailfate[django]'``).
See ``docs/django.md``.
"""

from __future__ import annotations

from mailfate.django.backend import EmailBackend

__all__ = ["EmailBackend"]
