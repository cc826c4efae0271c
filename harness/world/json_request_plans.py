"""moto's JSON request parse (JSONParser) planned once per input shape: the same parameters, without its dispatch."""

# moto parses a JSON request by walking the operation's input shape for every request: each node looks its handler
# up by name (getattr of f"_parse_{type}") and each structure tries every member it has (an AttributeValue tries
# its ten for the one it holds). A body sent once (an UpdateItem's timestamps, a PutItem's item) cannot be kept as
# fast_moto_requests keeps repeated ones: this walks it with a plan made once per shape instead, each step what
# JSONParser does at that node, in the same order: a structure's members in the shape's order, only those not
# None; a list's items; a map's keys then values; blobs base64-decoded, timestamps through moto's parser, numbers
# through float/int (the UNDEFINED marker kept), every other scalar as it is. Suggested to moto: this plan in
# RequestParser. tests/harness/world/test_json_request_plans.py compares it with moto's parse on every request of
# a world's run.

from __future__ import annotations

from typing import Any, Callable

from moto.core import parse
from moto.core.parse import JSONParser

Plan = Callable[[Any], Any]  # parsed JSON of one shape -> what JSONParser's handler for that shape returns

# JSONParser's handler of each shape type (the moto functions the plans stand for); any other is called as moto does
_HANDLERS = {name: getattr(JSONParser, f"_parse_{name}", None) for name in
             ("structure", "list", "map", "blob", "timestamp", "float", "double", "integer", "byte", "short", "long")}


def _itself(value: Any) -> Any:
    return value


def _number(kind: type) -> Plan:
    def convert(value: Any) -> Any:
        return value if value is parse.UNDEFINED else kind(value)

    return convert


class ShapePlans:
    """The plans of one service model's shapes for one map type (moto's PROTOCOL_PARSER_MAP_TYPE of a response)."""

    def __init__(self, map_type: type) -> None:
        self._map_type = map_type
        self._plans: dict[str, Plan] = {}  # shape name -> its plan (names are unique in a service model)

    def plan(self, shape: Any) -> Plan:
        plan = self._plans.get(shape.name)
        if plan is None:
            made: list[Plan] = []
            self._plans[shape.name] = lambda value: made[0](value)  # what a recursive shape finds while it is made
            plan = self._plans[shape.name] = self._made(shape)
            made.append(plan)
        return plan

    def _made(self, shape: Any) -> Plan:
        kind = shape.type_name
        handler = getattr(JSONParser, f"_parse_{kind}", None)
        if handler is not _HANDLERS.get(kind):  # moto's parser changed under us: its own handler, as it calls it
            parser = JSONParser(None, map_type=self._map_type)
            return lambda value: parser._parse_shape(shape, value)
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        if kind == "blob":
            return lambda value: parse.default_blob_parser(value)
        if kind == "timestamp":
            return lambda value: parse.default_timestamp_parser(value)
        if kind in ("float", "double"):
            return _number(float)
        if kind in ("integer", "byte", "short", "long"):
            return _number(int)
        return _itself  # RequestParser._default_handle

    def _structure(self, shape: Any) -> Plan:
        if shape.is_document_type:
            return _itself
        members = [(name, member.serialization.get("name", name), self.plan(member))
                   for name, member in shape.members.items()]
        by_json_name = {json_name: (name, plan) for name, json_name, plan in members}
        one_key_shortcut = len(by_json_name) == len(members)  # a one-key dict: only its member can be set
        map_type = self._map_type

        def structure(value: Any) -> Any:
            if value is None:
                return None
            parsed = map_type()
            if one_key_shortcut and type(value) is dict and len(value) == 1:
                (json_name, raw), = value.items()
                found = by_json_name.get(json_name)
                if found is not None and raw is not None:
                    parsed[found[0]] = found[1](raw)
                return parsed
            get = value.get
            for name, json_name, plan in members:
                raw = get(json_name)
                if raw is not None:
                    parsed[name] = plan(raw)
            return parsed

        return structure

    def _list(self, shape: Any) -> Plan:
        item = self.plan(shape.member)
        return lambda node: [item(entry) for entry in node]

    def _map(self, shape: Any) -> Plan:
        key_plan, value_plan, map_type = self.plan(shape.key), self.plan(shape.value), self._map_type

        def mapping(value: Any) -> Any:
            parsed = map_type()
            for key, entry in value.items():
                actual_key = key_plan(key)
                parsed[actual_key] = value_plan(entry)
            return parsed

        return mapping


_plans: dict[tuple[Any, type], ShapePlans] = {}  # (moto's service model, map type) -> its shapes' plans


def planned_json_parse(operation_model: Any, map_type: type, body: Any) -> Any:
    """JSONParser(operation_model, map_type=map_type).parse({... "body": body}): the same parameters."""
    shape = operation_model.input_shape
    if shape is None:
        return {}
    key = (operation_model.service_model, map_type)
    plans = _plans.get(key)
    if plans is None:
        plans = _plans[key] = ShapePlans(map_type)
    parser = JSONParser(operation_model, map_type=map_type)
    return plans.plan(shape)(parser._parse_body_as_json(body))
