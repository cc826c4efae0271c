"""JSONPath reads, InputPath/OutputPath, payload templates and ResultPath as Step Functions applies them."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from drs_parity.world.stepfunctions import errors
from drs_parity.world.stepfunctions.errors import StatesError
from drs_parity.world.stepfunctions.paths import (
    NULL_PATH,
    apply_parameters,
    path_field,
    read_path,
    select,
    write_result,
)

DATA: dict[str, Any] = {
    "name": "drill",
    "a b": {"c": 1},
    "waves": [
        {"id": "w1", "servers": 2, "status": "DONE", "tags": {"tier": "web"}},
        {"id": "w2", "servers": 5, "status": "PENDING"},
        {"id": "w3", "servers": 1, "status": "DONE", "tags": {"tier": "db"}},
    ],
    "empty": [],
    "nothing": None,
    "flag": False,
}
CONTEXT = {"Execution": {"Id": "arn:exec", "Input": {"x": 1}}, "Map": {"Item": {"Index": 2, "Value": "v"}}}


def test_states_error_carries_its_name_and_cause() -> None:
    error = StatesError(errors.TASK_FAILED, "boom")
    assert (error.error, error.cause, str(error)) == ("States.TaskFailed", "boom", "States.TaskFailed: boom")
    assert StatesError("Lambda.Unknown").cause == "" and str(StatesError("Lambda.Unknown")) == "Lambda.Unknown"
    assert errors.RUNTIME == "States.Runtime" and errors.ALL == "States.ALL"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DATA),
        ("$.name", "drill"),
        ("$['a b'].c", 1),
        ('$["a b"]["c"]', 1),
        ("$.waves[0].id", "w1"),
        ("$.waves[-1].id", "w3"),
        ("$.waves[1]", DATA["waves"][1]),
        ("$.nothing", None),
        ("$.flag", False),
        ("$.waves.[2].id", "w3"),  # AWS's documentation writes `.[` for a bracket step
    ],
)
def test_a_definite_path_reads_one_value(path: str, expected: Any) -> None:
    assert read_path(path, DATA) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.waves[*].id", ["w1", "w2", "w3"]),
        ("$.waves.*.servers", [2, 5, 1]),
        ("$.waves[0:2].id", ["w1", "w2"]),
        ("$.waves[1:].id", ["w2", "w3"]),
        ("$.waves[:-1].id", ["w1", "w2"]),
        ("$.waves[0,2].id", ["w1", "w3"]),
        ("$.waves[*].tags.tier", ["web", "db"]),  # a missing field after a wildcard is skipped, not an error
        ("$.empty[*]", []),
        ("$['a b'].*", [1]),
        ("$..tier", ["web", "db"]),
        ("$..[0].id", ["w1"]),
        ("$.waves[?(@.status == 'DONE')].id", ["w1", "w3"]),
        ('$.waves[?(@.status != "DONE")].id', ["w2"]),
        ("$.waves[?(@.servers > 1 && @.status == 'DONE')].id", ["w1"]),
        ("$.waves[?(@.servers >= 5 || @.servers <= 1)].id", ["w2", "w3"]),
        ("$.waves[?(@.tags)].id", ["w1", "w3"]),
        ("$.waves[?(@.servers < $.waves[1].servers)].id", ["w1", "w3"]),
        ("$.waves[?(@.servers == '2')].id", []),  # a number never equals a string
    ],
)
def test_an_indefinite_path_reads_a_list(path: str, expected: list[Any]) -> None:
    assert read_path(path, DATA) == expected


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("$.missing", "$['missing']"),
        ("$.waves[7]", "$['waves'][7]"),
        ("$.waves[-4]", "$['waves'][-4]"),
        ("$.name.first", "$['name']['first']"),
        ("$.waves.id", "$['waves']['id']"),
        ("$.missing[*]", "$['missing']"),
        ("$.waves[0].tags.colour", "$['waves'][0]['tags']['colour']"),
    ],
)
def test_a_definite_path_that_names_nothing_is_a_runtime_error(path: str, where: str) -> None:
    with pytest.raises(StatesError) as raised:
        read_path(path, DATA)
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause == f"Invalid path '{path}' : No results for path: {where}"


def test_the_context_object_is_read_with_two_dollars() -> None:
    assert read_path("$$.Execution.Id", DATA, CONTEXT) == "arn:exec"
    assert read_path("$$.Map.Item.Value", DATA, CONTEXT) == "v"
    assert read_path("$$", DATA, CONTEXT) == CONTEXT
    with pytest.raises(StatesError, match="no context object"):
        read_path("$$.Execution.Id", DATA)
    with pytest.raises(StatesError, match="No results for path"):
        read_path("$$.Execution.Name", DATA, CONTEXT)


@pytest.mark.parametrize("path", ["name", "$.", "$.a[", "$[x]", "$.waves[?(@.a ~~ 1)]", "$..", "$a", ""])
def test_an_unreadable_path_is_a_runtime_error(path: str) -> None:
    with pytest.raises(StatesError) as raised:
        read_path(path, DATA)
    assert raised.value.error == "States.Runtime"


def test_select_implements_input_and_output_path() -> None:
    assert select(DATA, None) is DATA  # absent
    assert select(DATA, "$") is DATA
    assert select(DATA, NULL_PATH) == {}  # JSON null: the state sees an empty object
    assert select(DATA, "$.waves[0].id") == "w1"
    assert select(DATA, "$$.Execution.Input", CONTEXT) == {"x": 1}
    with pytest.raises(StatesError, match="Invalid path '\\$.gone' : No results for path: \\$\\['gone'\\]"):
        select(DATA, "$.gone")


def test_path_field_tells_an_absent_path_from_a_null_one() -> None:
    state = {"InputPath": "$.a", "OutputPath": None}
    assert path_field(state, "InputPath") == "$.a"
    assert path_field(state, "OutputPath") is NULL_PATH
    assert path_field(state, "ResultPath") == "$"
    assert repr(NULL_PATH) == "NULL_PATH"


def test_result_path_dollar_or_absent_replaces_and_null_discards() -> None:
    assert write_result(DATA, {"r": 1}, "$") == {"r": 1}
    assert write_result(DATA, {"r": 1}, path_field({}, "ResultPath")) == {"r": 1}
    assert write_result(DATA, {"r": 1}, None) is DATA
    assert write_result(DATA, {"r": 1}, path_field({"ResultPath": None}, "ResultPath")) is DATA


def test_result_path_merges_creating_objects_without_changing_the_input() -> None:
    data = {"a": {"keep": 1}, "list": [{"x": 1}, {"x": 2}]}
    before = copy.deepcopy(data)

    assert write_result(data, "r", "$.a.b.c") == {"a": {"keep": 1, "b": {"c": "r"}}, "list": data["list"]}
    assert write_result(data, "r", "$.a.keep") == {"a": {"keep": "r"}, "list": data["list"]}
    assert write_result(data, "r", "$['new key']")["new key"] == "r"
    assert write_result(data, 9, "$.list[1].x")["list"] == [{"x": 1}, {"x": 9}]
    assert write_result(data, 9, "$.list[-1]")["list"] == [{"x": 1}, 9]
    assert data == before


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ("text", "$.a"),
        ([1, 2], "$.a"),
        ({"a": "text"}, "$.a.b"),
        ({"a": None}, "$.a.b"),
        ({"a": [1]}, "$.a[3]"),
        ({"a": {}}, "$.a[0]"),
        ({"a": {}}, "$.a[*]"),
        ({"a": {}}, "$$.a"),
        ({"a": {}}, "a"),
    ],
)
def test_a_result_path_that_cannot_apply_is_a_match_failure(data: Any, path: str) -> None:
    with pytest.raises(StatesError) as raised:
        write_result(data, 1, path)
    assert raised.value.error == "States.ResultPathMatchFailure"
    assert raised.value.cause.startswith(f"Unable to apply ReferencePath {path} to input ")


def test_the_match_failure_quotes_the_input_as_compact_json() -> None:
    with pytest.raises(StatesError) as raised:
        write_result({"a": "x"}, 1, "$.a.b")
    assert raised.value.cause == 'Unable to apply ReferencePath $.a.b to input {"a":"x"}'


def test_a_payload_template_fills_dollar_keys_from_paths_context_and_intrinsics() -> None:
    template = {
        "Literal": "$.not-a-path",
        "Wave.$": "$.waves[0]",
        "Ids.$": "$.waves[*].id",
        "Execution.$": "$$.Execution.Id",
        "Nested": {"Count.$": "States.ArrayLength($.waves)", "List": [{"Name.$": "$.name"}, 3, None]},
        "Greeting.$": "States.Format('hello {}', $.name)",
        "Whole.$": "$",
    }
    result = apply_parameters(template, DATA, CONTEXT)
    assert result == {
        "Literal": "$.not-a-path",
        "Wave": DATA["waves"][0],
        "Ids": ["w1", "w2", "w3"],
        "Execution": "arn:exec",
        "Nested": {"Count": 3, "List": [{"Name": "drill"}, 3, None]},
        "Greeting": "hello drill",
        "Whole": DATA,
    }
    result["Wave"]["id"] = "changed"  # the payload is a copy: changing it leaves the input alone
    result["Whole"]["name"] = "changed"
    assert DATA["waves"][0]["id"] == "w1" and DATA["name"] == "drill"


def test_a_payload_template_without_dollar_keys_is_returned_as_is() -> None:
    assert apply_parameters("text", DATA) == "text"
    assert apply_parameters([1, {"a": 2}], DATA) == [1, {"a": 2}]
    assert apply_parameters({}, DATA) == {}


def test_a_missing_path_in_a_payload_template_names_the_field_and_the_input() -> None:
    with pytest.raises(StatesError) as raised:
        apply_parameters({"x": {"Id.$": "$.gone"}}, {"a": 1})
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause == (
        "The JSONPath '$.gone' specified for the field 'Id.$' could not be found in the input '{\"a\":1}'"
    )


def test_a_missing_path_inside_an_intrinsic_names_the_field_too() -> None:
    with pytest.raises(StatesError) as raised:
        apply_parameters({"Id.$": "States.Format('{}', $.gone)"}, {"a": 1})
    assert raised.value.cause.startswith("The JSONPath '$.gone' specified for the field 'Id.$'")


def test_a_missing_context_path_quotes_the_context_object() -> None:
    with pytest.raises(StatesError) as raised:
        apply_parameters({"Token.$": "$$.Task.Token"}, {"a": 1}, {"Execution": {}})
    assert raised.value.cause == (
        "The JSONPath '$$.Task.Token' specified for the field 'Token.$' "
        "could not be found in the input '{\"Execution\":{}}'"
    )


@pytest.mark.parametrize("value", [3, None, ["$.a"], "not a path", "States.Nope"])
def test_a_dollar_key_whose_value_is_neither_path_nor_intrinsic_is_a_runtime_error(value: Any) -> None:
    with pytest.raises(StatesError) as raised:
        apply_parameters({"x.$": value}, {"a": 1})
    assert raised.value.error == "States.Runtime"
    assert "'x.$'" in raised.value.cause


def test_an_intrinsic_failure_in_a_payload_template_keeps_its_name() -> None:
    with pytest.raises(StatesError) as raised:
        apply_parameters({"x.$": "States.ArrayLength($.name)"}, DATA)
    assert raised.value.error == "States.IntrinsicFailure"


def test_a_payload_template_passes_its_random_source_to_intrinsics() -> None:
    template = {"id.$": "States.UUID()", "n.$": "States.MathRandom(1, 1000)"}
    first = apply_parameters(template, {}, rng=random.Random(7))
    assert first == apply_parameters(template, {}, rng=random.Random(7))
    assert first != apply_parameters(template, {}, rng=random.Random(8))
