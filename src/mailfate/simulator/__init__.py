"""A receiving ISP on loopback: simulated domains with personalities (``mailfate simulator``)."""
