"""Diagnosing one side: the doctor walks the polling chain and names the first broken link."""
