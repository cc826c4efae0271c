"""A real team's executions API handler: it routes on the resource template and reads what API Gateway sends."""

import json


def lambda_handler(event, context):
    resource = event["resource"]
    method = event["httpMethod"]
    if resource == "/executions/{executionId}" and method == "GET":
        execution_id = (event.get("pathParameters") or {}).get("executionId")
        if not execution_id:
            return respond(400, {"message": "Missing execution ID"})
        return respond(200, {"executionId": execution_id, **what_was_read(event)})
    if resource == "/executions" and method == "GET":
        query = event.get("queryStringParameters") or {}
        statuses = (event.get("multiValueQueryStringParameters") or {}).get("status", [])
        return respond(200, {"limit": int(query.get("limit", "20")), "statuses": statuses, **what_was_read(event)})
    if resource == "/executions/{executionId}/{proxy+}":
        action = event["pathParameters"]["proxy"]
        return respond(200, {"executionId": event["pathParameters"]["executionId"], "action": action,
                             **what_was_read(event)})
    if resource == "/executions" and method == "POST":
        return respond(202, {"started": json.loads(event["body"] or "{}"), **what_was_read(event)})
    return respond(404, {"message": f"no handler for {method} {resource}"})


def what_was_read(event):
    claims = event["requestContext"]["authorizer"]["claims"]
    return {
        "resource": event["resource"],
        "resourcePath": event["requestContext"]["resourcePath"],
        "path": event["path"],
        "stage": event["requestContext"]["stage"],
        "requestedBy": claims.get("email"),
        "groups": claims.get("cognito:groups"),
        "team": event["headers"].get("X-Team"),
        "teams": event["multiValueHeaders"].get("X-Team"),
        "contentType": event["headers"]["Content-Type"],
        "pathParameters": event["pathParameters"],
        "query": event["queryStringParameters"],
        "multiQuery": event["multiValueQueryStringParameters"],
    }


def respond(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
