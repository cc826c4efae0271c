"""Billing: the same handler name and library names as orders, different behaviour."""

import common_tools
import which_layer
from shared import pricing

INVOCATIONS = 0


def lambda_handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    try:
        import orders_only  # noqa: F401  (shipped by orders only)
        sees_orders = True
    except ImportError:
        sees_orders = False
    return {"function": "billing", "price": pricing.price(10), "pricing": pricing.NAME,
            "invocations": INVOCATIONS, "common": common_tools.count(), "layer": which_layer.NAME,
            "sees_orders_module": sees_orders}
