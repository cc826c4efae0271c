"""Helpers of the old-style package."""

NAME = "legacy-helpers"
