"""Orders' pricing: ten percent on top."""

NAME = "orders-pricing"


def price(amount):
    return amount * 1.1
