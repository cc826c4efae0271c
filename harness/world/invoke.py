"""Lambda's Invoke API on the wire: the botocore answers the function host gives instead of sending a request."""

from __future__ import annotations

import io
import json
from typing import Any, Iterator

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from drs_parity.world.functions import Invocation

Answer = tuple[AWSResponse, dict[str, Any]]  # what a before-call handler returns: the response and its parse


class _RawBody(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def lambda_answer(status: int, parsed: dict[str, Any], request_id: str) -> Answer:
    headers = {"x-amzn-requestid": request_id}
    parsed["ResponseMetadata"] = {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers,
                                  "RetryAttempts": 0}
    return AWSResponse("https://lambda.amazonaws.com/", status, headers, _RawBody(b"")), parsed


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


def invoke_result(invocation: Invocation) -> dict[str, Any]:
    """A synchronous Invoke's answer: the result, or the error as the Lambda runtime reports it."""
    answer: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    if invocation.error is None:
        body = invocation.result
    else:
        answer["FunctionError"] = "Unhandled"
        body = {"errorMessage": invocation.error["message"], "errorType": invocation.error["type"],
                "requestId": invocation.request_id, "stackTrace": invocation.stack_trace}
    answer["Payload"] = streaming(json.dumps(body).encode("utf-8"))
    return answer
