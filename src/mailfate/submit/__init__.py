"""Turning what an application hands over into a message that is safe to send."""
