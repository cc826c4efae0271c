"""Orders: prices an order with its own `shared` library and, when asked, asks billing (a synchronous invoke)."""

import json
import os

import boto3

import common_tools
import which_layer
from shared import pricing

INVOCATIONS = 0  # module state: survives warm invocations, reset by a cold start


def lambda_handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    answer = {"function": "orders", "price": pricing.price(10), "pricing": pricing.NAME,
              "invocations": INVOCATIONS, "common": common_tools.count(), "layer": which_layer.NAME,
              "task_root": os.environ["LAMBDA_TASK_ROOT"]}
    if event.get("ask"):
        response = boto3.client("lambda").invoke(FunctionName=event["ask"], Payload=json.dumps({}))
        answer["billing"] = json.loads(response["Payload"].read())
        from shared import pricing as after  # still our own shared, after billing ran with its own
        answer["pricing_after"] = after.NAME
    return answer
