"""``python -m mailfate``: the command line."""

from mailfate.cli.app import main

main()
