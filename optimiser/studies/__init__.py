"""Studies built on solving: commissioning models side by side, sensitivity sweeps and
marginal costs of the rules."""
