"""A team's read side: one run by its path parameter, or every run."""

import json
import os
from decimal import Decimal

import boto3


def lambda_handler(event, context):
    runs = boto3.resource("dynamodb").Table(os.environ["RUNS_TABLE"])
    if event["resource"] == "/executions":
        return reply(200, {"executions": runs.scan()["Items"]})
    if event["resource"] != "/executions/{executionId}":
        return reply(404, {"message": "not supported"})
    run_id = (event.get("pathParameters") or {}).get("executionId")
    run = runs.get_item(Key={"executionId": run_id}).get("Item")
    return reply(200, run) if run else reply(404, {"message": f"no run {run_id}"})


def reply(status, body):
    def plain(value):
        return int(value) if isinstance(value, Decimal) else str(value)
    return {"statusCode": status, "body": json.dumps(body, default=plain)}
