"""The drs-parity command line: one module per subcommand, listed explicitly in registry.py."""

from drs_parity.cli.main import main

__all__ = ["main"]
