"""One module per vendor bounce format (see :mod:`mailfate.bounce.registry`)."""
