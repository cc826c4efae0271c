"""Also in the tools layer: the layer listed first wins."""

NAME = "common"
