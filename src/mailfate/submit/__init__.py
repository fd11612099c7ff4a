"""Turning what an application hands over into a message that is safe to send, and queuing it:
:mod:`.service` (prepare → commit → finish, the one path of ``Client``, the HTTP API and SMTP
submission), :mod:`.compose` and :mod:`.raw` (the two ways to prepare), :mod:`.batcher` (group
commit on an event loop), :mod:`.idempotency`, :mod:`.addresses`, :mod:`.templates`."""
