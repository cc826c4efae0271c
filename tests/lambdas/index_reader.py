"""Test function: reads a table the ways a finder does: a Query of an index (one page, or every page), a base-table
GetItem, a DescribeTable; a ClientError is answered as its code and message."""

from typing import Any

import boto3
from botocore.exceptions import ClientError


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb")
    try:
        if event.get("describe"):
            indexes = dynamodb.describe_table(TableName=event["table"])["Table"]["GlobalSecondaryIndexes"]
            return {"indexes": {index["IndexName"]: [index["IndexStatus"], index.get("Backfilling", False)]
                                for index in indexes}}
        if event.get("get"):
            item = dynamodb.get_item(TableName=event["table"], Key={"id": {"S": event["get"]}}).get("Item")
            return {"item": item and item["status"]["S"]}
        return _query(dynamodb, event)
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}


def _query(dynamodb: Any, event: dict[str, Any]) -> dict[str, Any]:
    params = {"TableName": event["table"], "IndexName": event.get("index", "StatusIndex"),
              "KeyConditionExpression": "#s = :s", "ExpressionAttributeNames": {"#s": "status"},
              "ExpressionAttributeValues": {":s": {"S": event.get("status", "NEW")}}}
    ids, pages = [], 0
    while True:
        page = dynamodb.query(**params)
        pages += 1
        ids += [item["id"]["S"] for item in page["Items"]]
        if not event.get("follow") or "LastEvaluatedKey" not in page:  # a finder that ignores it reads one page
            return {"ids": sorted(ids), "pages": pages}
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
