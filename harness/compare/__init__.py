"""Comparing two sides: normalisation, step-by-step diff, accepted-divergence rules and noise."""
