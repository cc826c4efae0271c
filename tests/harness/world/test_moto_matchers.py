"""Unit: moto's request matchers built once per process are the ones moto registers, in its order, every start."""

from __future__ import annotations

from typing import Any

from moto import mock_aws
from moto.core import models

from drs_parity.world.moto_matchers import install_reused_matchers


def registered_while_mocked() -> list[Any]:
    mock = mock_aws()
    mock.start()
    try:
        return list(models.responses_mock.registered())
    finally:
        mock.stop()


def described(matchers: list[Any]) -> list[tuple[Any, ...]]:
    return [(matcher.method, matcher.url, matcher.callback) for matcher in matchers]


def test_every_start_registers_moto_s_own_matchers_built_once() -> None:
    own = registered_while_mocked()
    undo = install_reused_matchers()
    try:
        first, again = registered_while_mocked(), registered_while_mocked()
    finally:
        undo()

    assert len(own) > 1000 and described(first) == described(own)
    assert [id(matcher) for matcher in again] == [id(matcher) for matcher in first]  # the same objects
    assert [id(matcher) for matcher in registered_while_mocked()] != [id(matcher) for matcher in first]  # undone
