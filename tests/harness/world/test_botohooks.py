"""Unit: botocore events reach the handlers registered for their kind and service, in order, as registrations change."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from drs_parity.world import botohooks

DISPATCH = botohooks._DISPATCHERS["before-call"]


@pytest.fixture
def undo() -> Iterator[list[Callable[[], None]]]:
    unregisters: list[Callable[[], None]] = []
    yield unregisters
    for unregister in unregisters:
        unregister()


def recorder(name: str, seen: list[str], answer: Any = None) -> Callable[..., Any]:
    def handler(event_name: str, **_: Any) -> Any:
        seen.append(f"{name}:{event_name}")
        return answer

    return handler


def test_handlers_run_in_order_for_their_service_and_the_first_answer_wins(undo: list) -> None:
    seen: list[str] = []
    undo.append(botohooks.register("before-call", recorder("any", seen)))
    undo.append(botohooks.register("before-call", recorder("drs", seen, answer="drs answer"), service="drs"))
    undo.append(botohooks.register("before-call", recorder("late", seen)))
    assert DISPATCH(event_name="before-call.dynamodb.Query") is None
    assert DISPATCH(event_name="before-call.drs.DescribeJobs") == "drs answer"
    assert seen == ["any:before-call.dynamodb.Query", "late:before-call.dynamodb.Query",
                    "any:before-call.drs.DescribeJobs", "drs:before-call.drs.DescribeJobs"]


def test_registering_and_unregistering_after_events_were_routed_changes_who_hears_the_next(undo: list) -> None:
    seen: list[str] = []
    first = botohooks.register("before-call", recorder("first", seen), service="sts")
    undo.append(first)
    DISPATCH(event_name="before-call.sts.GetCallerIdentity")
    undo.append(botohooks.register("before-call", recorder("second", seen)))
    DISPATCH(event_name="before-call.sts.GetCallerIdentity")
    first()
    DISPATCH(event_name="before-call.sts.GetCallerIdentity")
    assert [entry.split(":")[0] for entry in seen] == ["first", "first", "second", "second"]
    assert botohooks._DISPATCHERS["after-call"](event_name="after-call.sts.GetCallerIdentity") is None  # other kind


def test_a_handler_registered_during_an_event_hears_the_next_event_only(undo: list) -> None:
    seen: list[str] = []

    def registering(event_name: str, **_: Any) -> None:
        seen.append("registering")
        if len(seen) == 1:
            undo.append(botohooks.register("before-call", recorder("new", seen), service="ec2"))

    undo.append(botohooks.register("before-call", registering, service="ec2"))
    DISPATCH(event_name="before-call.ec2.RunInstances")
    DISPATCH(event_name="before-call.ec2.RunInstances")
    assert seen == ["registering", "registering", "new:before-call.ec2.RunInstances"]
