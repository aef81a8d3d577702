"""`python -m optimiser.cli`: the command line."""

from optimiser.cli import main

main()
