"""Unit: what each invocation and each answer cost the world, made cheap without changing what anyone sees."""

from __future__ import annotations

import os
import string

import pytest

from drs_parity.world import moto_workarounds
from drs_parity.world.clock import VirtualClock
from drs_parity.world.runtime import RequestIds, environ_without_aws, function_environ


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
        assert dict(os.environ) == before


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
