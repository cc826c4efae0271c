"""Test function: writes `items` items one by one, logging before each write and when it is done."""

import json
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    dynamodb = boto3.client("dynamodb")
    for number in range(event["items"]):
        print(json.dumps({"message": f"writing item-{number}"}))
        dynamodb.put_item(TableName=event["table"], Item={"id": {"S": f"item-{number}"}, "status": {"S": "NEW"}})
    print(json.dumps({"message": "done"}))
    return {"written": event["items"]}
