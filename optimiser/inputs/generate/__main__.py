"""``python -m optimiser.inputs.generate``: see :func:`.command.main`."""

from optimiser.inputs.generate.command import main

main()
