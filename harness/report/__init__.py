"""Reporting results: terminal summary, JSON, Markdown, HTML and JUnit XML."""
