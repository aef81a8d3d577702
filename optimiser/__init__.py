"""optimiser: the cheapest commissioning mix for Extra Care Housing that keeps 24-hour cover."""

__version__ = "0.1.0"
