"""Test function: makes a few ordinary AWS calls (one of them failing) so the host can record them."""

from typing import Any

import boto3
from botocore.exceptions import ClientError


def handler(event: Any, context: Any) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb")
    outcome: dict[str, Any] = {}
    try:
        outcome["tables"] = dynamodb.list_tables(Limit=5)["TableNames"]
    except ClientError as exc:
        outcome["denied"] = {"code": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"],
                             "status": exc.response["ResponseMetadata"]["HTTPStatusCode"]}
    try:
        dynamodb.describe_table(TableName="no-such-table")
    except dynamodb.exceptions.ResourceNotFoundException:
        outcome["missing"] = True
    outcome["account"] = boto3.client("sts").get_caller_identity()["Account"]
    return outcome
