"""A handler that answers API Gateway in every wrong way a team has shipped (and one that takes too long)."""

import json
import time

ANSWERS = {
    "not-a-dict": "OK",
    "no-status": {"body": "{}"},
    "status-as-text": {"statusCode": "200", "body": "{}"},
    "body-object": {"statusCode": 200, "body": {"ok": True}},
    "extra-key": {"statusCode": 200, "body": "{}", "cookies": ["a=b"]},
    "headers-list": {"statusCode": 200, "headers": ["X-A"], "body": "{}"},
    "fine": {"statusCode": 201, "headers": {"X-Answer": "fine"}, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
             "body": json.dumps({"ok": True})},
}


def lambda_handler(event, context):
    what = event["pathParameters"]["proxy"]
    if what == "raise":
        raise ValueError("the team's bug")
    if what.startswith("sleep/"):
        time.sleep(float(what.split("/")[1]))  # a slow DRS call, say: virtual seconds, none really pass
        return {"statusCode": 200, "body": json.dumps({"slept": float(what.split("/")[1])})}
    return ANSWERS[what]
