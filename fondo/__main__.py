"""``python -m fondo``: the command line."""

from fondo.cli import main

main()
