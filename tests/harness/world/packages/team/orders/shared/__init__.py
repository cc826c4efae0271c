"""The orders team's copy of the shared library."""
