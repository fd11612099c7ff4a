"""``python -m mailfate.cli``."""

from mailfate.cli.app import main

main()
