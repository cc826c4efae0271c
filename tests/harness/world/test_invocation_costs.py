"""Unit: what each invocation and each answer cost the world, made cheap without changing what anyone sees."""

from __future__ import annotations

import json
import logging
import os
import string
import subprocess
import sys

import pytest

from drs_parity.world import moto_workarounds
from drs_parity.world.clock import VirtualClock
from drs_parity.world.runtime import OutputCapture, RequestIds, environ_without_aws, function_environ


@pytest.fixture
def process_environment(monkeypatch):
    monkeypatch.setenv("DRS_PARITY_TEST_OUTER", "outer")
    monkeypatch.setenv("AWS_PROFILE", "not-for-functions")


def test_a_function_sees_its_environment_and_the_process_gets_its_own_back(process_environment) -> None:
    before = dict(os.environ)
    extra = {"TABLE": "history", "DRS_PARITY_TEST_OUTER": "shadowed"}
    for _ in range(3):  # the first time builds the switch, the next ones reuse it
        with function_environ(extra):
            assert dict(os.environ) == environ_without_aws(extra)
            assert "AWS_PROFILE" not in os.environ
            inherited = process_level_environ()  # putenv'd too: what a child process gets
            assert inherited["TABLE"] == "history" and "AWS_PROFILE" not in inherited
        assert dict(os.environ) == before
    inherited = process_level_environ()
    assert "TABLE" not in inherited and inherited["AWS_PROFILE"] == "not-for-functions"


def process_level_environ() -> dict[str, str]:
    """The environment a child process inherits (the C library's, not os.environ's mapping)."""
    code = "import os, json; print(json.dumps(dict(os.environ)))"
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_a_function_that_changes_its_environment_leaves_the_process_untouched(process_environment) -> None:
    before = dict(os.environ)
    with function_environ({"TABLE": "history"}):
        os.environ["SET_BY_THE_HANDLER"] = "1"
        del os.environ["TABLE"]
    assert dict(os.environ) == before
    with function_environ({"TABLE": "history"}):
        assert os.environ["TABLE"] == "history" and "SET_BY_THE_HANDLER" not in os.environ


def test_a_changed_process_environment_is_seen_by_the_next_invocation(process_environment, monkeypatch) -> None:
    with function_environ({"TABLE": "history"}):
        assert os.environ["DRS_PARITY_TEST_OUTER"] == "outer"
    monkeypatch.setenv("DRS_PARITY_TEST_OUTER", "changed")
    with function_environ({"TABLE": "history"}):
        assert os.environ["DRS_PARITY_TEST_OUTER"] == "changed"
    assert os.environ["DRS_PARITY_TEST_OUTER"] == "changed"


def test_an_invocation_in_a_known_environment_writes_only_the_variables_that_differ(process_environment,
                                                                                   monkeypatch) -> None:
    extra = {"TABLE": "history", "DRS_PARITY_TEST_OUTER": "shadowed"}
    with function_environ(extra):  # the first time works the switch out
        pass
    inside, outside = environ_without_aws(extra), dict(os.environ)
    differing = [key for key in inside.keys() | outside.keys() if inside.get(key) != outside.get(key)]
    writes: list[str] = []
    real_put, real_unset = os.putenv, os.unsetenv
    monkeypatch.setattr(os, "putenv", lambda key, value: writes.append(os.fsdecode(key)) or real_put(key, value))
    monkeypatch.setattr(os, "unsetenv", lambda key: writes.append(os.fsdecode(key)) or real_unset(key))
    monkeypatch.setattr("drs_parity.world.runtime._turn_environ", None)  # no walk over the whole environment
    with function_environ(extra):
        assert os.environ["TABLE"] == "history"
    assert {"TABLE", "DRS_PARITY_TEST_OUTER", "AWS_PROFILE"} <= set(differing)
    assert sorted(writes) == sorted(differing * 2)  # each set or removed going in, and again going out


def captured(capture: OutputCapture, logs: list, levels: dict, body) -> None:
    with capture.capturing(logs, levels, "f"):
        body()


def test_a_reused_capture_gives_each_invocation_its_own_lines_and_nesting_as_before() -> None:
    outer, inner, stdout = OutputCapture(), OutputCapture(), sys.stdout
    first, second, nested, levels = [], [], [], {}
    log = logging.getLogger("function-code")

    def outer_body() -> None:
        print("outer before")
        captured(inner, nested, levels, lambda: (print("inner"), log.warning("inner logged")))
        print("outer after")

    writers: list[int] = []  # ids: a reference would keep the writer
    captured(outer, first, levels, lambda: (writers.append(id(sys.stdout)), outer_body()))
    captured(outer, second, levels, lambda: (writers.append(id(sys.stdout)), print("second")))
    assert writers[0] == writers[1]  # made once, pointed at each invocation's lines
    assert [entry["message"] for entry in first] == ["outer before", "inner logged", "outer after"]
    assert [entry["message"] for entry in nested] == ["inner", "inner logged"]  # records reach every level
    assert second == [{"level": "RAW", "message": "second"}]
    assert sys.stdout is stdout


def test_a_writer_the_function_kept_still_writes_into_its_own_invocations_lines() -> None:
    capture, first, second, kept = OutputCapture(), [], [], []
    captured(capture, first, {}, lambda: kept.append(sys.stdout))
    captured(capture, second, {}, lambda: print("second"))
    print("late", file=kept[0])
    assert first == [{"level": "RAW", "message": "late"}]  # as a writer made for that invocation alone
    assert second == [{"level": "RAW", "message": "second"}]


def test_request_ids_count_and_skip() -> None:
    ids = RequestIds()
    assert [next(ids), next(ids)] == [1, 2] and ids.issued == 2
    ids.skip(3)
    assert next(ids) == 6


def test_the_clock_names_every_timer_it_fired_in_order() -> None:
    clock = VirtualClock(0)
    clock.call_at(30, lambda: None, name="drs-timeline")
    clock.call_every(20, lambda: None, name="rule:finder")
    clock.advance(45)
    assert clock.fired == ["rule:finder", "drs-timeline", "rule:finder"]


def test_moto_request_ids_look_like_motos_and_leave_its_random_stream_alone() -> None:
    from moto.moto_api._internal import mock_random

    mock_random.seed(7)
    expected = mock_random.random()
    mock_random.seed(7)
    headers: dict[str, str] = {}
    generated = moto_workarounds.request_id(headers)
    assert headers == {"x-amzn-requestid": generated} and len(generated) == 52
    assert set(generated) <= set(string.ascii_letters + string.digits)
    assert mock_random.random() == expected  # moto's ids and addresses come next from where they would have
