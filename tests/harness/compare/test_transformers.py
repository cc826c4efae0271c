"""Transformers: a team's ids, aliases, generated names, volatile paths and record keys, on top of the preset."""

from __future__ import annotations

import re
import uuid
from typing import Any

import yaml

from drs_parity.compare.diff import diff_timelines
from drs_parity.compare.normalise import REFERENCE, NormaliseOptions, normalise_timeline
from drs_parity.compare.transformers import (
    FieldAlias, IdPattern, RecordKey, Transformers, VolatilePath, declared_transformers,
)
from drs_parity.fixtures.fields import Field
from drs_parity.fixtures.normalisation import parse_normalisation
from drs_parity.fixtures.system import SystemDescriptionError

START = 1768471200


def team_timeline(side: str, order_id: str, **item: Any) -> dict[str, Any]:
    """One step of a team's system: an `orders` table whose item holds ids of the team's own kinds."""
    order = {"orderId": order_id, "status": "OPEN",
             "lineItems": [{"sku": "sku-2", "qty": 1}, {"sku": "sku-1", "qty": 3}]}
    order.update(item)
    step = {"index": 0, "name": "setup", "kind": "setup", "time": START, "api": [],
            "tables": {"orders": [order]}, "calls": [], "logs": [], "invocations": []}
    return {"side": side, "scenario": "orders", "backend": "moto", "steps": [step]}


def declared(text: str) -> Transformers:
    """A `normalise:` section as a system description would declare it, as transformers."""
    return declared_transformers([parse_normalisation(Field(yaml.safe_load(text), "normalise", "team.yaml",
                                                            SystemDescriptionError))])


def normalised_item(timeline: dict[str, Any], transformers: Transformers = Transformers()) -> dict[str, Any]:
    options = NormaliseOptions().with_declared(transformers)
    [item] = normalise_timeline(timeline, START, options)["steps"][0]["tables"]["orders"].values()
    return item


def divergent_paths(left: dict[str, Any], right: dict[str, Any], transformers: Transformers) -> list[str]:
    options = NormaliseOptions().with_declared(transformers)
    return [d.path for d in diff_timelines(normalise_timeline(left, START, options),
                                           normalise_timeline(right, START, options), list_keys=options.list_keys)]


def test_the_reference_normalisation_is_the_preset_options_start_from() -> None:
    assert NormaliseOptions().transformers is REFERENCE
    assert NormaliseOptions().with_declared(Transformers()).transformers is REFERENCE
    assert FieldAlias("protectionGroupId", "groupId") in REFERENCE.aliases
    assert {pattern.kind for pattern in REFERENCE.id_patterns} >= {"jobId", "instanceId", "ip", "dns"}


def test_a_declared_id_pattern_gives_stable_references_where_the_preset_leaves_ids_raw() -> None:
    order = team_timeline("left", "ord-0123456789ab", note="see ord-0123456789ab")
    assert normalised_item(order)["orderId"] == "ord-0123456789ab"
    item = normalised_item(order, declared("ids: {orderId: 'ord-[0-9a-f]{12}'}"))
    assert (item["orderId"], item["note"]) == ("<orderId:1>", "see <orderId:1>")
    left, right = team_timeline("left", "ord-0123456789ab"), team_timeline("right", "ord-ba9876543210")
    assert divergent_paths(left, right, Transformers()) != []
    assert divergent_paths(left, right, declared("ids: {orderId: 'ord-[0-9a-f]{12}'}")) == []


def test_declared_patterns_apply_before_the_presets_so_the_more_specific_one_wins() -> None:
    order = team_timeline("left", "o-1", endpoint="endpoint-10.1.2.3")
    assert normalised_item(order)["endpoint"] == "endpoint-<ip:1>"
    item = normalised_item(order, declared(r"ids: {endpoint: 'endpoint-10\.\d+\.\d+\.\d+'}"))
    assert item["endpoint"] == "<endpoint:1>"


def test_a_field_alias_gives_the_aliased_fields_reference() -> None:
    parent = str(uuid.uuid4())
    order = team_timeline("left", str(uuid.uuid4()), parentOrderId=parent, previousOrderId=parent)
    without = normalised_item(order)
    assert without["parentOrderId"] == "<parentOrderId:1>"
    item = normalised_item(order, declared("aliases: {parentOrderId: orderId, previousOrderId: orderId}"))
    assert (item["orderId"], item["parentOrderId"], item["previousOrderId"]) == (
        "<orderId:1>", "<orderId:2>", "<orderId:2>")


def test_a_generated_name_keeps_its_group() -> None:
    order = team_timeline("left", "o-1", role="arn:aws:iam::123456789012:role/OrdersRole-a1B2c3D4e5")
    assert "a1B2c3D4e5" in normalised_item(order)["role"]
    item = normalised_item(order, declared(r"generatedNames: ['role/([A-Za-z]+)-[A-Za-z0-9]{10}\b']"))
    assert item["role"] == "arn:aws:iam::123456789012:<OrdersRole>"


def test_a_volatile_path_hides_its_value_on_both_sides_and_nothing_else() -> None:
    left = team_timeline("left", "o-1", etag="abc", status="OPEN")
    right = team_timeline("right", "o-1", etag="xyz", status="CLOSED")
    assert divergent_paths(left, right, Transformers()) == ["tables.orders[#0].etag", "tables.orders[#0].status"]
    transformers = declared("volatile: ['tables.orders[*].etag', {path: 'api[*].body.requestId', marker: '<rid>'}]")
    assert divergent_paths(left, right, transformers) == ["tables.orders[#0].status"]
    assert normalised_item(left, transformers)["etag"] == "<volatile>"


def test_declared_table_and_list_keys_key_records_and_their_readable_paths() -> None:
    left, right = team_timeline("left", "o-1"), team_timeline("right", "o-1")
    right["steps"][0]["tables"]["orders"][0]["lineItems"][1]["qty"] = 4
    item = normalised_item(left)
    assert isinstance(item["lineItems"], list)
    keyed = declared("tableKeys: {orders: [orderId, status]}\nlistKeys: {lineItems: sku}")
    options = NormaliseOptions().with_declared(keyed)
    tables = normalise_timeline(left, START, options)["steps"][0]["tables"]
    assert list(tables["orders"]) == ["o-1/OPEN"]
    assert list(tables["orders"]["o-1/OPEN"]["lineItems"]) == ["sku-1", "sku-2"]
    assert divergent_paths(left, right, keyed) == ["tables.orders[o-1/OPEN].lineItems[sku-1].qty"]


def test_a_team_declaration_overrides_the_presets_keys_and_adds_to_its_patterns() -> None:
    team = Transformers(id_patterns=(IdPattern("orderId", re.compile("ord-[0-9]+")),),
                        table_keys=(RecordKey("execution-history", ("executionId",)),),
                        volatile_paths=(VolatilePath("tables.*[*].etag"),))
    merged = REFERENCE.with_declared(team)
    assert merged.id_patterns[0].kind == "orderId" and len(merged.id_patterns) == len(REFERENCE.id_patterns) + 1
    assert dict((key.name, key.fields) for key in merged.table_keys)["execution-history"] == ("executionId",)
    assert len(merged.table_keys) == len(REFERENCE.table_keys)
    assert merged.volatile_paths == (VolatilePath("tables.*[*].etag"),)
