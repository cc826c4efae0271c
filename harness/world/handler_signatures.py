"""botocore's check that an event handler takes **kwargs, answered once per function, not per registration."""

# Every session registers ~100 builtin handlers and every client dozens more; botocore checks each registration with
# inspect.getfullargspec (hooks.accepts_kwargs): ~11,000 signature inspections a gate, the same few hundred functions
# again and again. Whether a function takes **kwargs depends on its code alone, and a bound method's on its function:
# remembered per function (weakly: a closure made per session is forgotten with it). Other callables (partials,
# objects with __call__) are inspected as botocore does.

from __future__ import annotations

import types
import weakref
from typing import Any, Callable

from botocore import hooks

from drs_parity.world.shared_patch import SharedPatch, patch_attribute

_original: Callable[[Any], Any] = hooks.accepts_kwargs
_takes_kwargs: "weakref.WeakKeyDictionary[types.FunctionType, Any]" = weakref.WeakKeyDictionary()
_UNKNOWN = object()


def accepts_kwargs(handler: Any) -> Any:
    """hooks.accepts_kwargs, remembered per plain function (a bound method's function included)."""
    function = handler.__func__ if type(handler) is types.MethodType else handler
    if type(function) is not types.FunctionType:
        return _original(handler)
    answer = _takes_kwargs.get(function, _UNKNOWN)
    if answer is _UNKNOWN:
        answer = _takes_kwargs[function] = _original(function)
    return answer


_PATCH = SharedPatch(lambda: patch_attribute(hooks, "accepts_kwargs", accepts_kwargs))


def install_remembered_handler_signatures() -> Callable[[], None]:
    """Check handlers with `accepts_kwargs` until every world that installed it has undone it."""
    return _PATCH.install()
