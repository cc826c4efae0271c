"""A module only the orders function ships."""

NAME = "orders-only"
