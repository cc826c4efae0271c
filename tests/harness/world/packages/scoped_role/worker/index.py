"""A real team's worker: each AWS call it makes, and what IAM answered (ok, or the error code)."""

import json
import os
from typing import Any, Callable

import boto3
from botocore.exceptions import ClientError


def _attempt(results: dict[str, str], name: str, call: Callable[[], Any]) -> Any:
    try:
        answer = call()
    except ClientError as exc:
        results[name] = exc.response["Error"]["Code"]
        return None
    results[name] = "ok"
    return answer


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    dynamodb, functions = boto3.client("dynamodb"), boto3.client("lambda")
    states, logs, sns = boto3.client("stepfunctions"), boto3.client("logs"), boto3.client("sns")
    orders, results = os.environ["ORDERS_TABLE"], {}
    _attempt(results, "account", lambda: boto3.client("sts").get_caller_identity()["Account"])
    _attempt(results, "put order", lambda: dynamodb.put_item(TableName=orders, Item={
        "orderId": {"S": "o-1"}, "status": {"S": "OPEN"}}))
    _attempt(results, "query by status", lambda: dynamodb.query(
        TableName=orders, IndexName="StatusIndex", KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "OPEN"}}))
    _attempt(results, "query the table", lambda: dynamodb.query(
        TableName=orders, KeyConditionExpression="orderId = :o", ExpressionAttributeValues={":o": {"S": "o-1"}}))
    _attempt(results, "write audit", lambda: dynamodb.put_item(TableName=os.environ["AUDIT_TABLE"],
                                                               Item={"id": {"S": "a-1"}}))
    _attempt(results, "invoke poller", lambda: functions.invoke(FunctionName=os.environ["POLLER"],
                                                                Payload=json.dumps({"orderId": "o-1"})))
    _attempt(results, "invoke itself", lambda: functions.invoke(FunctionName=context.function_name,
                                                                InvocationType="Event"))
    started = _attempt(results, "start execution", lambda: states.start_execution(
        stateMachineArn=os.environ["STATE_MACHINE_ARN"], input="{}"))
    if started:
        _attempt(results, "describe execution", lambda: states.describe_execution(
            executionArn=started["executionArn"]))
        _attempt(results, "stop execution", lambda: states.stop_execution(executionArn=started["executionArn"]))
    _attempt(results, "list state machines", lambda: states.list_state_machines())
    group = os.environ["LOG_GROUP"]
    _attempt(results, "create log stream", lambda: logs.create_log_stream(logGroupName=group, logStreamName="run-1"))
    _attempt(results, "put log events", lambda: logs.put_log_events(
        logGroupName=group, logStreamName="run-1", logEvents=[{"timestamp": 0, "message": "hello"}]))
    _attempt(results, "delete log group", lambda: logs.delete_log_group(logGroupName=group))
    _attempt(results, "publish alert", lambda: sns.publish(TopicArn=os.environ["ALERTS_TOPIC"], Message="alert"))
    _attempt(results, "publish billing", lambda: sns.publish(TopicArn=os.environ["BILLING_TOPIC"], Message="bill"))
    return results


def poller_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"polled": event.get("orderId")}
