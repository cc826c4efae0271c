"""Lambda's Invoke API on the wire: the botocore answers the function host gives instead of sending a request."""

from __future__ import annotations

import io
import json
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from drs_parity.world.botohooks import wire_response
from drs_parity.world.functions import Invocation

LAMBDA_URL = "https://lambda.amazonaws.com/"
Answer = tuple[AWSResponse, dict[str, Any]]  # what a before-call handler returns: the response and its parse


def lambda_answer(status: int, parsed: dict[str, Any], request_id: str) -> Answer:
    headers = {"x-amzn-requestid": request_id}
    parsed["ResponseMetadata"] = {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers,
                                  "RetryAttempts": 0}
    return wire_response(LAMBDA_URL, status, headers, b""), parsed


def error_answer(code: str, message: str, status: int, request_id: str) -> Answer:
    return lambda_answer(status, {"Error": {"Code": code, "Message": message}, "Message": message, "Type": "User"},
                         request_id)


def streaming(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def read_payload(payload: Any) -> Any:
    if payload is None:
        return {}
    raw = payload.read() if hasattr(payload, "read") else payload
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else str(raw)
    return json.loads(text) if text.strip() else {}


def error_payload(invocation: Invocation) -> dict[str, Any]:
    """A failed invocation's error as the Lambda runtime reports it (Invoke's payload, a destination's record)."""
    assert invocation.error is not None
    return {"errorMessage": invocation.error["message"], "errorType": invocation.error["type"],
            "requestId": invocation.request_id, "stackTrace": invocation.stack_trace}


def invoke_result(invocation: Invocation) -> dict[str, Any]:
    """A synchronous Invoke's answer: the result, or the error as the Lambda runtime reports it."""
    answer: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    if invocation.error is None:
        body = invocation.result
    else:
        answer["FunctionError"] = "Unhandled"
        body = error_payload(invocation)
    answer["Payload"] = streaming(json.dumps(body).encode("utf-8"))
    return answer


def throttled_answer(request_id: str) -> AWSResponse:
    """Invoke refused for the function's concurrency (429), on the wire: botocore retries it as it would AWS's."""
    body = {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}
    return _wire(429, {"x-amzn-ErrorType": "TooManyRequestsException"}, json.dumps(body).encode(), request_id)


def on_the_wire(answer: Answer) -> AWSResponse:
    """An Invoke answer as the HTTP response Lambda sends (for a before-send handler, whose answer botocore parses)."""
    _, parsed = answer
    metadata = parsed["ResponseMetadata"]
    if "Error" in parsed:
        body = {"Type": parsed.get("Type", "User"), "message": parsed["Error"]["Message"]}
        return _wire(metadata["HTTPStatusCode"], {"x-amzn-ErrorType": parsed["Error"]["Code"]},
                     json.dumps(body).encode(), metadata["RequestId"])
    headers = {"X-Amz-Executed-Version": parsed.get("ExecutedVersion"),
               "X-Amz-Function-Error": parsed.get("FunctionError")}
    return _wire(metadata["HTTPStatusCode"], {key: value for key, value in headers.items() if value},
                 parsed["Payload"].read(), metadata["RequestId"])


def _wire(status: int, headers: dict[str, str], body: bytes, request_id: str) -> AWSResponse:
    return wire_response(LAMBDA_URL, status, {"x-amzn-RequestId": request_id, "Content-Type": "application/json",
                                              **headers}, body)
