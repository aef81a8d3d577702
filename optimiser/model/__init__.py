"""The mixed-integer program, one module per concern, wired in build.py."""
