"""Timeline.shared_dict: to_dict()'s very value without copying the captures, as the gate reads a side; and
plain_value's exact-type shortcuts give what its general cases give."""

from __future__ import annotations

import json
from collections import OrderedDict
from decimal import Decimal

import pytest

from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.gate.parity import ScenarioRun
from drs_parity.compare.normalise import NormaliseOptions
from drs_parity.run.capture import StepCapture, Stop, Timeline, plain_value
from tests.harness.run.seeded_runs import side_run


def small_timeline(stopped: bool = False) -> Timeline:
    steps = [StepCapture(index=0, name="setup", kind="setup", time=5, api=[{"body": {"id": "g-1"}}],
                         tables={"t": [{"k": Decimal(1)}]}),
             StepCapture(index=1, name="until", kind="until", time=65, until={"outcome": "met"},
                         state_machines={"m": []}, destinations=[{"function": "poller"}])]
    steps[1].tables = steps[0].tables  # a step after which nothing wrote holds the previous step's very lists
    stop = Stop(1, "until", "refused", 1, 0) if stopped else None
    return Timeline("decomposed", "s", "moto", 5, steps, {"group:A": "g-1"}, "e-1", stop)


@pytest.mark.parametrize("stopped", [False, True])
def test_shared_dict_is_to_dict_in_value_and_key_order(stopped: bool) -> None:
    timeline = small_timeline(stopped)
    shared, copied = timeline.shared_dict(), timeline.to_dict()
    assert shared == copied
    assert json.dumps(shared, default=plain_value) == json.dumps(copied, default=plain_value)
    assert [list(step) for step in shared["steps"]] == [list(step) for step in copied["steps"]]


def test_shared_dict_holds_the_captured_lists_themselves() -> None:
    timeline = small_timeline()
    steps = timeline.shared_dict()["steps"]
    assert steps[0]["tables"] is timeline.steps[0].tables and steps[0]["api"] is timeline.steps[0].api
    assert steps[1]["tables"]["t"] is steps[0]["tables"]["t"]  # a repeat stays one object for the normaliser
    assert timeline.to_dict()["steps"][0]["tables"] is not timeline.steps[0].tables


def test_the_gate_reads_a_side_without_copying_its_capture() -> None:
    timeline = small_timeline()
    run = ScenarioRun(lambda system, scenario, **_: timeline, "moto", NormaliseOptions(), 5)
    raw = run.capture("decomposed", "s", "decomposed")
    assert raw == timeline.to_dict() and raw["steps"][0]["tables"] is timeline.steps[0].tables


@pytest.mark.slow
def test_shared_dict_is_to_dict_on_a_real_run() -> None:
    timeline = side_run("decomposed", load_scenarios(["pause-resume"])[0], reuse=True).timeline
    assert timeline.shared_dict() == timeline.to_dict()
    assert json.dumps(timeline.shared_dict(), default=plain_value) == timeline.to_json(indent=None)


class Text(str):
    pass


def test_plain_value_keeps_plain_leaves_and_converts_the_rest() -> None:
    value = {"s": "x", "i": 3, "f": 1.5, "b": True, "n": None, "d": Decimal("2"), "e": Decimal("2.5"),
             "l": [Decimal(1), (2, Decimal(3))], "set": {"b", "a"}, "bytes": b"hi", "nested": {"x": [{"y": Decimal(4)}]}}
    assert plain_value(value) == {"s": "x", "i": 3, "f": 1.5, "b": True, "n": None, "d": 2, "e": 2.5, "l": [1, [2, 3]],
                                  "set": ["a", "b"], "bytes": "hi", "nested": {"x": [{"y": 4}]}}
    assert type(plain_value(value)["d"]) is int and type(plain_value(value)["b"]) is bool


def test_plain_value_treats_subclasses_as_their_base_types() -> None:
    assert plain_value(OrderedDict(a=Decimal(1))) == {"a": 1} and type(plain_value(OrderedDict())) is dict
    assert plain_value(Text("t")) == "t"
