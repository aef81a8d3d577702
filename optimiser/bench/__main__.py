"""`python -m optimiser.bench` (``make bench``)."""

from optimiser.bench.cli import main

main()
