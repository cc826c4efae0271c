"""ASL definitions: what parses, and each refusal as one line naming the state and the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drs_parity.errors import InputError
from drs_parity.world.stepfunctions.definition import DefinitionError, parse_definition

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:Work"


def machine(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def test_a_definition_with_every_state_type_parses_from_json_text() -> None:
    source = {
        "Comment": "all types",
        "TimeoutSeconds": 300,
        "StartAt": "Pass",
        "States": {
            "Pass": {"Type": "Pass", "Result": 1, "ResultPath": "$.one", "Next": "Task"},
            "Task": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                     "Parameters": {"FunctionName": FUNCTION, "Payload": {"token.$": "$$.Task.Token"}},
                     "TimeoutSeconds": 60, "HeartbeatSeconds": 10,
                     "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"]}],
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}], "Next": "Wait"},
            "Wait": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Choice"},
            "Choice": {"Type": "Choice", "Default": "Parallel", "Choices": [
                {"And": [{"Variable": "$.a", "IsPresent": True}, {"Not": {"Variable": "$.a", "NumericEquals": 1}}],
                 "Next": "Map"}]},
            "Parallel": {"Type": "Parallel", "Next": "Done", "Branches": [
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]},
            "Map": {"Type": "Map", "ItemsPath": "$.items", "Next": "Done",
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I",
                                      "States": {"I": {"Type": "Succeed"}}}},
            "Done": {"Type": "Succeed"},
            "Failed": {"Type": "Fail", "Error": "Broken", "CausePath": "States.Format('at {}', $.where)"},
        },
    }

    definition = parse_definition(json.dumps(source))

    assert definition.start_at == "Pass" and definition.timeout_seconds == 300 and definition.comment == "all types"
    assert [state.type for state in definition.states.values()] == [
        "Pass", "Task", "Wait", "Choice", "Parallel", "Map", "Succeed", "Fail"]
    assert definition.states["Parallel"].branches[0].start_at == "B"
    assert definition.states["Map"].processor is not None and definition.states["Map"].processor.start_at == "I"
    assert {state.name for state in definition.walk()} == set(source["States"]) | {"B", "I"}
    assert definition.unsupported() == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{not json", "the definition is not JSON"),
        ({"States": {"A": {"Type": "Succeed"}}}, "field 'StartAt' is required"),
        ({"StartAt": "B", "States": {"A": {"Type": "Succeed"}}}, "'StartAt' names 'B'"),
        ({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}, "Extra": 1}, "field 'Extra' is not allowed"),
        (machine(A={"Type": "Sleep"}), "state 'A': field 'Type' must be one of"),
        (machine(A={"Type": "Pass", "End": True, "Resource": "x"}), "state 'A' (Pass): field 'Resource' is not"),
        (machine(A={"Type": "Pass"}), "state 'A': needs exactly one of 'Next' or 'End'"),
        (machine(A={"Type": "Pass", "Next": "B", "End": True}), "state 'A': needs exactly one of 'Next' or 'End'"),
        (machine(A={"Type": "Pass", "Next": "Nowhere"}), "state 'A': field 'Next' names 'Nowhere'"),
        (machine(A={"Type": "Succeed"}, B={"Type": "Succeed"}), "state 'B': is not reachable"),
        (machine(A={"Type": "Pass", "InputPath": "a.b", "End": True}), "state 'A': field 'InputPath' must be a path"),
        (machine(A={"Type": "Task", "End": True}), "state 'A': field 'Resource' is required"),
        (machine(A={"Type": "Task", "Resource": FUNCTION, "End": True, "TimeoutSeconds": 0}),
         "state 'A': field 'TimeoutSeconds' must be a positive integer"),
        (machine(A={"Type": "Task", "Resource": FUNCTION, "End": True, "TimeoutSeconds": 5, "HeartbeatSeconds": 5}),
         "state 'A': field 'HeartbeatSeconds' must be smaller"),
        (machine(A={"Type": "Task", "Resource": FUNCTION, "End": True, "TimeoutSeconds": 5,
                    "TimeoutSecondsPath": "$.t"}), "state 'A': fields 'TimeoutSeconds' and 'TimeoutSecondsPath'"),
        (machine(A={"Type": "Task", "Resource": FUNCTION, "End": True,
                    "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}),
         "state 'A': Retry[0]: 'States.ALL' must appear alone and in the last handler"),
        (machine(A={"Type": "Task", "Resource": FUNCTION, "End": True,
                    "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}),
         "state 'A': Retry[0]: field 'BackoffRate' must be a number of at least 1.0"),
        (machine(A={"Type": "Task", "Resource": FUNCTION, "End": True, "Catch": [{"ErrorEquals": ["X"]}]}),
         "state 'A': Catch[0]: field 'Next' is required"),
        (machine(A={"Type": "Wait", "Seconds": 1, "Timestamp": "2026-01-01T00:00:00Z", "End": True}),
         "state 'A': needs exactly one of Seconds"),
        (machine(A={"Type": "Wait", "Timestamp": "tomorrow", "End": True}),
         "state 'A': field 'Timestamp' must be an ISO 8601 timestamp"),
        (machine(A={"Type": "Choice", "Choices": []}), "state 'A': field 'Choices' must be a non-empty list"),
        (machine(A={"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEquals": "x"}]}),
         "state 'A': Choices[0]: field 'Next' is required on a top-level rule"),
        (machine(A={"Type": "Choice", "Choices": [{"Variable": "$.a", "StringLike": "x", "Next": "A"}]}),
         "state 'A': Choices[0]: field 'StringLike' is not a choice rule field"),
        (machine(A={"Type": "Choice", "Choices": [{"StringEquals": "x", "Next": "A"}]}),
         "state 'A': Choices[0]: field 'Variable' is required"),
        (machine(A={"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}), "state 'A': fields 'Error' and 'ErrorPath'"),
        (machine(A={"Type": "Parallel", "Branches": [], "End": True}), "state 'A': field 'Branches' must be"),
        (machine(A={"Type": "Parallel", "End": True, "Branches": [{"StartAt": "X", "States": {}}]}),
         "state 'A': field 'Branches': field 'States' must be a non-empty object"),
        (machine(A={"Type": "Map", "End": True}), "state 'A': needs exactly one of 'ItemProcessor' or 'Iterator'"),
        (machine(A={"Type": "Map", "End": True, "Iterator": {"StartAt": "X", "States": {"X": {"Type": "Pass"}}}}),
         "state 'X': needs exactly one of 'Next' or 'End'"),
    ],
)
def test_a_definition_aws_would_refuse_is_one_line_naming_state_and_field(source: Any, message: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_definition(source)

    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, InputError)


def test_what_the_interpreter_does_not_run_is_listed() -> None:
    definition = parse_definition(machine(
        Put={"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {}, "Next": "Each"},
        Each={"Type": "Map", "End": True, "ItemReader": {"Resource": "arn:aws:states:::s3:getObject"},
              "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "I",
                                "States": {"I": {"Type": "Pass", "End": True}}}},
    ))

    assert definition.unsupported() == [
        "state 'Put': Task resource arn:aws:states:::dynamodb:putItem (the harness runs Lambda tasks only)",
        "state 'Each': field 'ItemReader'",
        "state 'Each': Map mode DISTRIBUTED",
    ]
