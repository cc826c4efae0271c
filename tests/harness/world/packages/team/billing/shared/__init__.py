"""The billing team's copy of the shared library."""
