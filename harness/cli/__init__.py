"""The drs-parity command line: one module per subcommand, registered explicitly."""

from drs_parity.cli.main import main

__all__ = ["main"]
