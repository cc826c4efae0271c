"""boto3's copy of a DynamoDB resource call's params, made without deepcopy's dispatch for dicts, lists, conditions."""

# Every call through a boto3 Table (or the DynamoDB service resource) first deep-copies its params
# (boto3.dynamodb.transform.copy_dynamodb_params, at provide-client-params), so that the Key/Attr conditions and
# Python values can be turned into expressions and AttributeValues in place: 2% of a finder's Query. boto3 copies
# with a memo that forgets everything (_ForgetfulDict): no object is ever shared between copies, so the copy is a
# pure function of each value on its own. `copied_params` copies exactly what deepcopy copies that way: a dict
# (string keys) or list made afresh, member by member; a str, int, float, bool, None, bytes or Decimal is itself
# (deepcopy returns these as they are); a tuple as deepcopy copies it; a Key/Attr condition object as deepcopy
# rebuilds a plain object (a new one of its class, its __dict__ copied); anything else (sets, subclasses, any other
# object) goes to deepcopy with a fresh forgetful memo, as boto3 does. tests/harness/world/test_fast_param_copy.py
# compares it with boto3's copy.

from __future__ import annotations

import copy
import copyreg
from decimal import Decimal
from typing import Any, Callable

from boto3.dynamodb import transform

from drs_parity.world.shared_patch import SharedPatch, patch_attribute

_ITSELF = frozenset({str, int, float, bool, type(None), bytes, Decimal})  # deepcopy hands these back unchanged


def copied_params(value: Any) -> Any:
    """copy.deepcopy(value, memo=boto3's _ForgetfulDict()), without deepcopy's per-object dispatch."""
    kind = type(value)
    if kind in _ITSELF:
        return value
    if kind is dict:
        if all(type(key) is str for key in value):
            return {key: copied_params(member) for key, member in value.items()}
    elif kind is list:
        return [copied_params(member) for member in value]
    elif kind is tuple:  # deepcopy keeps the tuple itself when every member copies to itself
        members = [copied_params(member) for member in value]
        return value if all(copied is member for copied, member in zip(members, value)) else tuple(members)
    elif _plain_condition(kind):
        return _copied_condition(value)
    return copy.deepcopy(value, memo=_forgetful_memo())


def _forgetful_memo() -> dict[Any, Any]:
    return transform._ForgetfulDict()  # the memo boto3 copies with


def _copied_condition(value: Any) -> Any:
    """What deepcopy makes of a plain object (through __reduce_ex__): a new one of its class, its __dict__ copied."""
    clone = object.__new__(type(value))
    if value.__dict__:
        clone.__dict__.update({name: copied_params(member) for name, member in value.__dict__.items()})
    return clone


_COPY_PROTOCOL = ("__deepcopy__", "__reduce_ex__", "__reduce__", "__getstate__", "__setstate__", "__slots__",
                  "__new__")
_CONDITIONS = "boto3.dynamodb.conditions"  # the module of Key, Attr and the conditions they build
_plain: dict[type, bool] = {}  # class -> whether it is one of boto3's condition classes deepcopy copies as plain


def _plain_condition(kind: type) -> bool:
    """A class of boto3.dynamodb.conditions (Key, Attr, Equals, And...) with no copy protocol of its own."""
    plain = _plain.get(kind)
    if plain is None:
        plain = _plain[kind] = (kind.__module__ == _CONDITIONS and kind not in copyreg.dispatch_table
                                and not any(name in klass.__dict__ for klass in kind.__mro__[:-1]
                                            for name in _COPY_PROTOCOL))
    return plain


def copy_dynamodb_params(params: Any, **_: Any) -> Any:
    """boto3.dynamodb.transform.copy_dynamodb_params, the same copy made by `copied_params`."""
    return copied_params(params)


def _swap_copy() -> Callable[[], None]:
    # looked up by name each time a DynamoDB resource registers it on its client
    return patch_attribute(transform, "copy_dynamodb_params", copy_dynamodb_params)


_PATCH = SharedPatch(_swap_copy)


def install_fast_param_copy() -> Callable[[], None]:
    """DynamoDB resources made from now on copy their params with `copied_params`, until every world that installed
    it has undone it (resources made meanwhile keep it: the copy is the same)."""
    return _PATCH.install()
