"""``python -m seawall`` runs the command line."""

from seawall.cli import main

main()
