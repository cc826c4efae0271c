"""Unit: botocore's **kwargs check of event handlers, remembered per function, answers as botocore's own does."""

from __future__ import annotations

import functools
import gc
import weakref
from typing import Any, Callable, Iterator

import pytest
from botocore import hooks
from botocore.compat import accepts_kwargs as botocore_accepts_kwargs

from drs_parity.world import handler_signatures
from drs_parity.world.handler_signatures import install_remembered_handler_signatures


def with_kwargs(a: Any, **kwargs: Any) -> None:
    pass


def without_kwargs(a: Any) -> None:
    pass


class Handlers:
    def method(self, **params: Any) -> None:
        pass

    def strict(self, a: Any) -> None:
        pass

    def __call__(self, **kwargs: Any) -> None:
        pass


def closure() -> Callable[..., None]:
    def handler(**extra: Any) -> None:
        pass

    return handler


HANDLERS: list[Callable[..., Any]] = [with_kwargs, without_kwargs, Handlers().method, Handlers().strict, Handlers(),
                                      closure(), functools.partial(with_kwargs, 1), len]


@pytest.fixture
def remembered() -> Iterator[None]:
    undo = install_remembered_handler_signatures()
    yield
    undo()


def botocore_answer(handler: Callable[..., Any]) -> Any:
    try:
        return botocore_accepts_kwargs(handler)
    except TypeError as error:
        return type(error)


def remembered_answer(handler: Callable[..., Any]) -> Any:
    try:
        return hooks.accepts_kwargs(handler)
    except TypeError as error:
        return type(error)


def test_every_kind_of_handler_gets_botocore_s_answer_first_and_again(remembered: None) -> None:
    expected = [botocore_answer(handler) for handler in HANDLERS]
    assert expected[:2] == ["kwargs", None] and expected[2] == "params"

    assert [remembered_answer(handler) for handler in HANDLERS] == expected
    assert [remembered_answer(handler) for handler in HANDLERS] == expected


def test_a_function_is_inspected_once_for_all_its_bound_methods(remembered: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    class Fresh:  # a function not seen yet
        def method(self, **kwargs: Any) -> None:
            pass

    inspected: list[Any] = []
    monkeypatch.setattr(handler_signatures, "_original", lambda function: inspected.append(function) or "kwargs")

    for _ in range(3):
        assert hooks.accepts_kwargs(Fresh().method) == "kwargs"

    assert inspected == [Fresh.method]


def test_registering_a_handler_without_kwargs_is_still_refused(remembered: None) -> None:
    emitter = hooks.HierarchicalEmitter()
    emitter.register("before-call", with_kwargs)
    for _ in range(2):
        with pytest.raises(ValueError, match="must accept keyword arguments"):
            emitter.register("before-call", without_kwargs)


def test_a_remembered_closure_is_not_kept_alive(remembered: None) -> None:
    handler = closure()
    assert hooks.accepts_kwargs(handler) == "extra"
    witness = weakref.ref(handler)

    del handler
    gc.collect()

    assert witness() is None


def test_undone_botocore_checks_with_its_own_function_again() -> None:
    undo = install_remembered_handler_signatures()
    assert hooks.accepts_kwargs is handler_signatures.accepts_kwargs
    undo()
    assert hooks.accepts_kwargs is botocore_accepts_kwargs
