"""Unit: botocore's event names aliased once per process give every emitter botocore's names and debug lines."""

from __future__ import annotations

import logging
from typing import Any, Iterator

import pytest
from botocore import hooks

from drs_parity.world import event_aliases
from drs_parity.world.event_aliases import install_shared_event_aliases

NAMES = ["before-call.dynamodb.Query", "before-call.events.PutRule", "needs-retry.stepfunctions.StartExecution",
         "after-call.api.sagemaker.ListModels", "creating-client-class.logs", "before-send"]


def aliased(names: list[str], aliaser: Any) -> list[str]:
    return [aliaser._alias_event_name(name) for name in names]


@pytest.fixture
def shared() -> Iterator[None]:
    undo = install_shared_event_aliases()
    yield
    undo()


def test_names_and_debug_lines_are_botocore_s_for_every_new_emitter(shared: None,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="botocore.hooks"):
        first = aliased(NAMES, hooks.EventAliaser(hooks.HierarchicalEmitter()))
        first_lines = [record.getMessage() for record in caplog.records]
        caplog.clear()
        again = aliased(NAMES, hooks.EventAliaser(hooks.HierarchicalEmitter()))
        assert [record.getMessage() for record in caplog.records] == first_lines
    assert first == again == [event_aliases._original(hooks.EventAliaser(hooks.HierarchicalEmitter()), name)
                              for name in NAMES]
    assert again[1] == "before-call.eventbridge.PutRule" and again[2] == "needs-retry.sfn.StartExecution"


def test_a_new_emitter_works_out_no_name_an_earlier_one_found(shared: None) -> None:
    first = aliased(NAMES, hooks.EventAliaser(hooks.HierarchicalEmitter()))
    copied = hooks.EventAliaser(hooks.HierarchicalEmitter()).__copy__()
    # botocore joins a renamed name anew for each emitter; remembered, it is the very string found first
    assert all(name is earlier for name, earlier in zip(aliased(NAMES, copied), first))


def test_an_emitter_with_its_own_aliases_keeps_botocore_s_aliasing(shared: None) -> None:
    own = hooks.EventAliaser(hooks.HierarchicalEmitter(), event_aliases={"dynamodb": "ddb"})
    assert aliased(NAMES[:2], own) == ["before-call.ddb.Query", "before-call.events.PutRule"]
    assert aliased(NAMES[:1], hooks.EventAliaser(hooks.HierarchicalEmitter())) == ["before-call.dynamodb.Query"]
