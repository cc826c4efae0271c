"""Billing's pricing: a flat fee."""

NAME = "billing-pricing"


def price(amount):
    return amount + 5
