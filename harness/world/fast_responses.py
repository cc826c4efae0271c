"""moto's DynamoDB responses, fast: AttributeValues copied to the wire instead of walked through the model."""

from __future__ import annotations

import base64
import functools
from typing import Any, Callable, Mapping

from .shared_patch import patch_registry_entry

# moto's response serialiser looks up every member of every AttributeValue (10 per value, each through a chain of
# alias providers): ~40% of a 30-minute drill's CPU time. The values moto hands it are already wire-shaped dicts
# ({"S": "x"}, {"M": {...}}, raw bytes for B/BS), so copying them gives the same JSON; everything else (table
# descriptions, consumed capacity, errors) still goes through moto's own code.
_ATTRIBUTE_VALUE = "AttributeValue"
_ATTRIBUTE_TAGS = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})


def wire_attribute_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """One AttributeValue as moto holds it, in the JSON form moto's serialiser gives it."""
    # moto's serialiser emits only the shape's members, and none whose value is None
    return {tag: _wire_member(tag, item) for tag, item in value.items() if tag in _ATTRIBUTE_TAGS and item is not None}


def _wire_member(tag: str, item: Any) -> Any:
    if tag == "B":
        return _base64(item)
    if tag == "BS":
        return [_base64(blob) for blob in item]
    if tag == "M":  # a None entry of a map is left out, a None in a list kept: what moto's serialiser does
        return {key: wire_attribute_value(entry) for key, entry in item.items() if entry is not None}
    if tag == "L":
        return [None if entry is None else wire_attribute_value(entry) for entry in item]
    if tag in ("SS", "NS"):
        return list(item)
    return item


def _base64(blob: str | bytes) -> str:
    raw = blob.encode("utf-8") if isinstance(blob, str) else blob
    return base64.b64encode(raw).strip().decode("utf-8")


def wire_shaped_dynamodb_serializer() -> type:
    """moto's DynamoDB (JSON protocol) response serialiser that copies AttributeValues instead of walking them."""
    from moto.core.serialize import JSONSerializer  # moto's core takes 0.3 s to import: only a moto world needs it

    return _wire_shaped(JSONSerializer)


@functools.cache
def _wire_shaped(base: type) -> type:
    # keyed on moto's class: a process that imports moto afresh (pytester does) gets a subclass of the new one
    class WireShapedDynamoDBSerializer(base):  # type: ignore[misc,valid-type]
        def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
            if key and shape.name == _ATTRIBUTE_VALUE and isinstance(value, Mapping):
                self._default_serialize(serialized, wire_attribute_value(value), shape, key)
            else:
                super()._serialize_type_structure(serialized, value, shape, key)

    return WireShapedDynamoDBSerializer


def install_fast_dynamodb_responses() -> Callable[[], None]:
    """Make in-process moto serialise DynamoDB responses with the wire-shaped fast path; returns the undo."""
    from moto.core.serialize import SERVICE_SPECIFIC_SERIALIZERS  # as above: imported when a moto world starts

    return patch_registry_entry(SERVICE_SPECIFIC_SERIALIZERS, "dynamodb", "json", wire_shaped_dynamodb_serializer())

