"""Failed AWS calls of any service, named: the call, what it asked for, its error and the message a log line quoted."""

from __future__ import annotations

import re
from typing import Any, Mapping

from drs_parity.diagnose.timeline import TimelineView

# The parameter that says what a call was about, in the order they are looked for.
TARGET_PARAMETERS = ("IndexName", "TableName", "FunctionName", "stateMachineArn", "QueueUrl", "TopicArn", "Bucket")
# Errors that are an answer the code asked for, not a failure: a conditional write whose condition did its job.
EXPECTED_ERRORS = ("ConditionalCheckFailedException", "TransactionCanceledException")
CallKey = tuple[str, str, str, str]  # (function, service, operation, target)


def call_target(params: Mapping[str, Any] | None) -> str:
    """What a call was about (an index, a table, a function...), empty when none of the usual parameters says."""
    return next((str(params[name]) for name in TARGET_PARAMETERS if params and params.get(name)), "")


def failed_calls(view: TimelineView, skipped_services: tuple[str, ...] = ()) -> list[str]:
    """One line per call (function, operation, target) whose last attempt failed, in the order they first failed:
    `api dynamodb.Query on PlanIdIndex failed: ValidationException: <AWS's message>, 3×`. A call that later
    succeeded on the same target was transient; a failed condition is an answer, not a failure."""
    outcomes: dict[CallKey, list[str | None]] = {}
    for _, call in view.records("calls"):
        if call.get("service") not in skipped_services:
            key = (str(call.get("function")), str(call.get("service")), str(call.get("operation")),
                   call_target(call.get("params")))
            outcomes.setdefault(key, []).append(call.get("error"))
    return [_named(view, key, errors) for key, errors in outcomes.items()
            if errors[-1] is not None and errors[-1] not in EXPECTED_ERRORS]


def _named(view: TimelineView, key: CallKey, errors: list[str | None]) -> str:
    function, service, operation, target = key
    code = str(errors[-1])
    failures = sum(1 for error in errors if error == code)
    message = quoted_message(view, function, operation, code)
    on = f" on {target}" if target else ""
    return (f"{function} {service}.{operation}{on} failed: {code}" + (f": {message}" if message else "")
            + (f", {failures}×" if failures > 1 else ""))


def quoted_message(view: TimelineView, function: str, operation: str, code: str) -> str | None:
    """AWS's message for an error, as a log line printed it (botocore's `An error occurred (Code) when calling the
    Operation operation: message`, or `Code: message`); the calling function's own lines first."""
    patterns = (re.compile(rf"An error occurred \({re.escape(code)}\) when calling the {re.escape(operation)} "
                           rf"operation(?: \([^)]*\))?: (?P<message>.+)"),
                re.compile(rf"\b{re.escape(code)}: (?P<message>.+)"))
    lines = [record for _, record in view.records("logs")]
    ordered = [line for line in lines if line.get("function") == function]
    ordered += [line for line in lines if line.get("function") != function]
    for line in ordered:
        for pattern in patterns:
            found = pattern.search(str(line.get("message", "")))
            if found:
                return found["message"].strip().splitlines()[0]
    return None
