"""DynamoDB's AttributeValues in botocore's JSON answers parsed directly, not member by member through the model."""

# botocore parses every AttributeValue of a DynamoDB answer (each attribute of each item, and each element of its
# maps and lists) as a structure of ten members: it asks the answer for each member in turn and finds a handler by
# name for the one present, 5% of a long drill (whose tables are read every minute). An AttributeValue on the wire
# has exactly one member set; its value is kept as it is (S, N, NULL, BOOL), decoded (B, BS), copied (SS, NS) or
# parsed the same way (M, L). Anything else (no member, several, one the model does not know) gets botocore's own
# code, and so its answer or its error. tests/harness/world/test_fast_parsing.py compares both parsers' results.

from __future__ import annotations

from typing import Any, Callable

import botocore.parsers
from botocore.parsers import JSONParser

from drs_parity.world.shared_patch import SharedPatch, patch_attribute

Member = Callable[["AttributeValueParser", Any], Any]  # (parser, the member's wire value) -> its parsed value
# member name -> (its shape's type, what its list or map holds: a type name, or None)
_ATTRIBUTE_VALUE = {"S": ("string", None), "N": ("string", None), "B": ("blob", None), "SS": ("list", "string"),
                    "NS": ("list", "string"), "BS": ("list", "blob"), "M": ("map", "structure"),
                    "L": ("list", "structure"), "NULL": ("boolean", None), "BOOL": ("boolean", None)}
_plans: dict[int, tuple[Any, dict[str, Member] | None]] = {}  # id(shape) -> (the shape, its plan or None)


class AttributeValueParser(JSONParser):
    """botocore's JSON parser, with a shortcut for a DynamoDB AttributeValue that has one member set."""

    def _handle_structure(self, shape: Any, value: Any) -> Any:
        plan = _plan(shape)
        if plan is not None and type(value) is dict and len(value) == 1:
            ((tag, member),) = value.items()
            parse = plan.get(tag)
            if parse is not None and member is not None:
                return {tag: parse(self, member)}
        return super()._handle_structure(shape, value)


def _plan(shape: Any) -> dict[str, Member] | None:
    """How to parse each member of `shape` if it is an AttributeValue as DynamoDB's model has it, else None."""
    remembered = _plans.get(id(shape))
    if remembered is None or remembered[0] is not shape:
        remembered = _plans[id(shape)] = (shape, _attribute_value_plan(shape))
    return remembered[1]


def _attribute_value_plan(shape: Any) -> dict[str, Member] | None:
    if shape.type_name != "structure" or shape.name != "AttributeValue" or shape.is_document_type:
        return None
    members = shape.members
    if set(members) != set(_ATTRIBUTE_VALUE) or any(member.serialization for member in members.values()):
        return None
    for name, (type_name, held) in _ATTRIBUTE_VALUE.items():
        member = members[name]
        inner = member.value if type_name == "map" else member.member if type_name == "list" else None
        if member.type_name != type_name or (inner is not None and inner.type_name != held):
            return None
        if type_name == "map" and member.key.type_name != "string":
            return None
    map_values, list_members = members["M"].value, members["L"].member
    return {"S": _kept, "N": _kept, "NULL": _kept, "BOOL": _kept, "B": _blob, "SS": _copied, "NS": _copied,
            "BS": _blobs, "M": lambda parser, value: _map(parser, map_values, value),
            "L": lambda parser, value: _list(parser, list_members, value)}


def _kept(_: AttributeValueParser, value: Any) -> Any:
    return value


def _copied(_: AttributeValueParser, value: Any) -> list[Any]:
    return list(value)


def _blob(parser: AttributeValueParser, value: Any) -> Any:
    return parser._blob_parser(value)


def _blobs(parser: AttributeValueParser, value: Any) -> list[Any]:
    return [None if item is None else parser._blob_parser(item) for item in value]


def _map(parser: AttributeValueParser, value_shape: Any, value: Any) -> dict[Any, Any]:
    return {key: parser._handle_structure(value_shape, item) for key, item in value.items()}


def _list(parser: AttributeValueParser, member_shape: Any, value: Any) -> list[Any]:
    return [None if item is None else parser._handle_structure(member_shape, item) for item in value]


_PATCH = SharedPatch(lambda: patch_attribute(botocore.parsers, "PROTOCOL_PARSERS",
                                             {**botocore.parsers.PROTOCOL_PARSERS, "json": AttributeValueParser}))


def install_fast_attribute_values() -> Callable[[], None]:
    """Parse JSON answers with AttributeValueParser until every world that installed it has undone it."""
    return _PATCH.install()
