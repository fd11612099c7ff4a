"""Delivery: the worker loop, retry schedule, transports, DKIM signing."""
