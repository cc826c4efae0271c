"""A layer built by SAM (Metadata BuildMethod): the folder itself is what /opt/python holds."""

NAME = "tools"
