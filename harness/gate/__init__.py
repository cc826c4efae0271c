"""The parity gate: both sides of every scenario run, compared and diagnosed into results."""
