"""moto's DynamoDB model doing less per call: sizes summed in place, reads not re-copied, expressions parsed once."""

# Each function here replaces one moto function with an equivalent one and names the fix it suggests to moto; the
# same requests get byte-identical answers with and without them (tests/harness/world/test_fast_dynamodb.py). They
# are installed while an in-process moto world runs and undone when the last such world stops. Figures: a profiled
# `drs-parity run --no-calibrate --jobs 1` (the 12-scenario gate, 161 s under cProfile on a shared machine), where
# moto's DynamoDB was 30 s, UpdateItem 38 ms a call and Query 2.7 ms.

from __future__ import annotations

import base64
import copy
import functools
from typing import Any, Callable

from drs_parity.world.shared_patch import SharedPatch, applied, patch_attribute

_ATOMIC = frozenset({str, int, float, bool, bytes, type(None)})  # what copy.deepcopy hands back unchanged
_moto: dict[str, Any] = {}  # moto's classes the replacements use, bound when they are installed


# -- sizes: walked in place --------------------------------------------------------------------------------------------
def attribute_size(value: Any) -> int:
    """moto.dynamodb.models.dynamo_type.DynamoType.size, without rebuilding each member of a map or set to size it.

    moto sizes a map's member as `DynamoType(member).size()`, and building a DynamoType rebuilds its whole subtree:
    an item of nested maps and lists is rebuilt once per level. Items are sized on every write (the 400 KB check
    sums the whole item for each attribute set) and twice per Query or Scan result: 355,000 calls, 4.1 s of the
    gate. The same sum over the same members, read where they are. Suggested to moto: `member.size()` for a member
    that is already a DynamoType, as lists do."""
    kind, content = value.type, value.value
    if kind == "N":
        return len(str(content))
    if kind in ("SS", "NS", "BS"):
        return sum(_scalar_size(kind[0], member) for member in content)
    if kind == "L":
        return sum(member.size() for member in content)
    if kind == "M":
        bytesize = _moto["bytesize"]
        return sum(bytesize(key) + _member_size(member) for key, member in content.items())
    return 1 if isinstance(content, bool) else _moto["bytesize"](content)


def item_size(item: Any) -> int:
    """moto.dynamodb.models.dynamo_type.Item.size: the same sum, each attribute sized by attribute_size directly.

    moto sizes every Query and Scan result twice against the 1 MB page (and each written item): a generator, a
    bytesize call and a DynamoType.size dispatch per attribute, 6,000 items a side of the 520-server scenario.
    Suggested to moto: keep an item's size and update it on writes."""
    dynamo_type, total = _moto["DynamoType"], 0
    for key, value in item.attrs.items():
        total += len(key.encode("utf-8")) if type(key) is str else _moto["bytesize"](key)
        total += attribute_size(value) if type(value) is dynamo_type else value.size()
    return total


def equal(value: Any, other: Any) -> bool:
    """DynamoType.__eq__, with two strings compared directly (moto compares cast_value, a property that asks five
    type questions before handing a string back): Query sorts its results and matches keys with it, 30,000 times
    a side of the 520-server scenario. Anything else is moto's comparison."""
    if value.type == "S" and type(other) is _moto["DynamoType"] and other.type == "S":
        return value.value == other.value
    return _moto["eq"](value, other)


def less(value: Any, other: Any) -> bool:
    """DynamoType.__lt__, with two strings compared directly, as `equal`."""
    if value.type == "S" and type(other) is _moto["DynamoType"] and other.type == "S":
        return value.value < other.value
    return _moto["lt"](value, other)


def _scalar_size(kind: str, member: Any) -> int:
    """The size moto gives `DynamoType({kind: member})` for a member of a set."""
    return len(str(member)) if kind == "N" else _moto["bytesize"](member)


def _member_size(member: Any) -> int:
    dynamo_type = _moto["DynamoType"]
    return attribute_size(member) if type(member) is dynamo_type else dynamo_type(member).size()


def new_item(item: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    """moto.dynamodb.models.dynamo_type.Item.__init__, with the item's size summed once instead of once per attribute.

    moto adds the attributes one by one to a dictionary that sums the size of everything already in it before
    each addition: O(attributes x item) per PutItem (2.6 s of 906 puts on a 500-server side). The attributes are
    typed and stored as moto does, and moto's own check runs once, for the last one, over the whole item: sizes
    only add up, so it fails exactly when one of moto's checks would. Suggested to moto: a running total in
    LimitedSizeDict.update."""
    item.hash_key = hash_key
    item.range_key = range_key
    item.attrs = _moto["LimitedSizeDict"]()
    for key, value in attrs.items():
        dict.__setitem__(item.attrs, key, _moto["DynamoType"](value))
    if item.attrs:
        last_key, last_value = item.attrs.popitem()
        item.attrs[last_key] = last_value  # moto's size check, over the whole item


# -- copies: made once -------------------------------------------------------------------------------------------------
def regular_json(value: Any) -> dict[str, Any]:
    """moto.dynamodb.models.dynamo_type.DynamoType.to_regular_json, copying each value once.

    moto deep-copies a map or list, then replaces each member of the copy by its own to_regular_json, which
    deep-copies that member again: a value nested d deep is copied d times (2.1 s of the gate, every UpdateItem's
    answer and every read of a map). The same JSON, each member converted from the value itself. Suggested to moto:
    this recursion instead of deepcopy-then-convert."""
    content = value.value
    if isinstance(content, dict):
        content = {key: _regular_member(member) for key, member in content.items()}
    elif isinstance(content, list):
        content = [_regular_member(member) for member in content]
    elif type(content) not in _ATOMIC:
        content = copy.deepcopy(content)
    if value.is_binary() and isinstance(content, str):
        content = base64.b64decode(content)
    return {value.type: content}


def _regular_member(member: Any) -> Any:
    return member.to_regular_json() if isinstance(member, _moto["DynamoType"]) else copy.deepcopy(member)


class ReadResults:
    """What moto's table module sees as `copy`: its Query and Scan results are the stored items, not deep copies.

    moto's Table.query deep-copies every result and Table.scan every item it returns (1.7 s + 0.4 s of the gate,
    3.1 s of a 500-server side), though nothing writes to them: the index projection and a ProjectionExpression
    build new items, a FilterExpression only reads, and the answer (DynamoResult) converts them into new dicts
    and lists before the request returns, as does the harness's own direct query (run/capture.py). A deep copy of
    anything else (a table backed up or restored) is moto's. Suggested to moto: no copy of read results, or a copy
    where a caller writes."""

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        item = _moto["Item"]
        if isinstance(value, item):
            return value
        if type(value) is list and all(isinstance(entry, item) for entry in value):
            return list(value)
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def node_copy(node: Any, memo: dict[int, Any]) -> Any:
    """What copy.deepcopy makes of an expression's syntax-tree node (moto's ast_nodes.Node), built directly.

    moto's validator deep-copies the parsed UpdateExpression before resolving it; copying each node through the
    pickle protocol (__reduce_ex__, then rebuilding its state) was 1.7 s of the gate's 370 UpdateItems. The same
    copy: a new node of the same class, its attributes copied with the same memo (children in order, parent
    pointing into the copy). Suggested to moto: Node.__deepcopy__."""
    clone = node.__class__.__new__(node.__class__)
    memo[id(node)] = clone
    for name, value in node.__dict__.items():
        if name == "children" and type(value) is list:
            value = [entry if type(entry) in _ATOMIC else copy.deepcopy(entry, memo) for entry in value]
        elif type(value) not in _ATOMIC:
            value = copy.deepcopy(value, memo)
        clone.__dict__[name] = value
    return clone


def traverse(processor: Any, node: Any) -> Any:
    """moto.dynamodb.parsing.ast_nodes.DepthFirstTraverser.traverse, asking once which node types it processes.

    moto's traversal rebuilds that tuple (from a new processing map) at every node it visits: the validator runs
    ten traversals per UpdateExpression, 0.8 s of the gate's 4.6 s of validation. The maps are fixed per
    processor, so the same traversal, in the same order, with the tuple asked for once. Suggested to moto: compute
    nodes_to_be_processed() in traverse and pass it down."""
    return _traverse(processor, node, -1, processor.nodes_to_be_processed())


def _traverse(processor: Any, node: Any, child_id: int, kinds: tuple[type, ...]) -> Any:
    """moto's traverse_node_recursively: children first (left to right), then the node, replaced by its processing."""
    if isinstance(node, _moto["Node"]):
        parent = node.parent
        if node.children is not None:
            for position, child in enumerate(node.children):
                processor.pre_processing_of_child(node, position)
                _traverse(processor, child, position, kinds)
        if isinstance(node, kinds):
            node = processor.process(node)
            node.parent = parent
            if parent:
                parent.children[child_id] = node
    return node


# -- answers: converted in one walk ------------------------------------------------------------------------------------
def result_dict(value: Any) -> Any:
    """moto.dynamodb.models.utilities.dynamo_to_dict, as every DynamoDB answer (DynamoResult) calls it, with the
    plain cases decided by exact type.

    moto asks each value of a result, strings and numbers included, whether it is a datetime, a DynamoType, has a
    to_json, is a dict, is a list, before handing it back: five checks and a call per leaf, 0.2 s of CPU a side of
    the 520-server scenario, whose reads return 521 items of a dozen attributes each. The same dicts and lists:
    exact str, int, float, bool and None are handed back, an exact dict (or an item's attribute dict), list or
    non-binary DynamoType converted member by member, anything else (binary values, datetimes, objects with
    to_json, subclasses) by moto's own function. Suggested to moto: test the common leaf types first."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict or kind is _moto["LimitedSizeDict"]:  # an item's attributes are the latter (no to_json)
        return {key: result_dict(member) for key, member in value.items()}
    if kind is list:
        return [result_dict(member) for member in value]
    if kind is _moto["DynamoType"] and value.type not in ("B", "BS"):
        return {value.type: result_dict(value.value)}
    return _moto["dynamo_to_dict"](value)


_LEAVES = frozenset({str, int, float, bool, type(None)})  # what moto's dynamo_to_dict hands back as it is


# -- update expressions: parsed once per text --------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def parsed_update_expression(text: str) -> Any:
    """moto.dynamodb.parsing.expressions.UpdateExpressionParser.make, once per expression text.

    moto parses each UpdateExpression twice per UpdateItem (the answer checks the names and values it uses, the
    model parses it again): 2.2 s of the gate for 370 calls, all of a handful of texts. A parse depends on the
    text alone, and no caller changes the tree: the answer only lists its clauses and the validator deep-copies
    it before resolving it. A text that does not parse raises moto's error every time (errors are not kept).
    Suggested to moto: the same cache on make, or parse once per request."""
    return _moto["make"](text)


def _make(_cls: type, expression_str: str) -> Any:
    return parsed_update_expression(expression_str)


# -- installing --------------------------------------------------------------------------------------------------------
def _patches() -> list[Callable[[], Callable[[], None]]]:
    from moto.dynamodb import responses  # moto's DynamoDB: only a moto world needs it
    from moto.dynamodb.models import dynamo_type, table, utilities
    from moto.dynamodb.parsing import ast_nodes
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    _moto.update(DynamoType=dynamo_type.DynamoType, Item=dynamo_type.Item, bytesize=utilities.bytesize,
                 dynamo_to_dict=utilities.dynamo_to_dict, eq=dynamo_type.DynamoType.__eq__,
                 lt=dynamo_type.DynamoType.__lt__,
                 LimitedSizeDict=dynamo_type.LimitedSizeDict, Node=ast_nodes.Node,
                 make=UpdateExpressionParser.__dict__["make"].__func__.__get__(UpdateExpressionParser))
    parsed_update_expression.cache_clear()  # trees of a moto imported afresh are not mixed with older ones
    return [lambda: patch_attribute(dynamo_type.DynamoType, "size", attribute_size),
            lambda: patch_attribute(dynamo_type.Item, "size", item_size),
            lambda: patch_attribute(dynamo_type.DynamoType, "__eq__", equal),
            lambda: patch_attribute(dynamo_type.DynamoType, "__lt__", less),
            lambda: patch_attribute(dynamo_type.Item, "__init__", new_item),
            lambda: patch_attribute(dynamo_type.DynamoType, "to_regular_json", regular_json),
            lambda: patch_attribute(table, "copy", ReadResults()),
            lambda: patch_attribute(ast_nodes.Node, "__deepcopy__", node_copy),
            lambda: patch_attribute(ast_nodes.DepthFirstTraverser, "traverse", traverse),
            lambda: patch_attribute(UpdateExpressionParser, "make", classmethod(_make)),
            lambda: patch_attribute(responses, "dynamo_to_dict", result_dict)]


def install_fast_dynamodb() -> Callable[[], None]:
    """Install the replacements (once, however many worlds ask); returns this world's undo."""
    return _PATCH.install()


_PATCH = SharedPatch(applied(_patches))
