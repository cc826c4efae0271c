"""A team's scanner: every minute, the runs in progress, each handed to the checker."""

import json
import os

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError


def lambda_handler(event, context):
    runs = boto3.resource("dynamodb").Table(os.environ["RUNS_TABLE"])
    found = runs.query(IndexName="state-index", KeyConditionExpression=Key("state").eq(os.environ["ACTIVE_STATE"]))
    print(f"Found {len(found['Items'])} executions needing polling")
    for run in found["Items"]:
        run_id = run["executionId"]
        print(f"Dispatching checker for {run_id}")
        try:
            boto3.client("lambda").invoke(FunctionName=os.environ["CHECKER_FUNCTION"], InvocationType="Event",
                                          Payload=json.dumps({"executionId": run_id}))
        except ClientError as error:
            print(f"Could not dispatch checker for {run_id}: {error}")
