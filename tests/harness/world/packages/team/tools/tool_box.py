"""Only in the tools layer."""

NAME = "tool-box"
