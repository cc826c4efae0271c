"""`normalise:` declared in a system description or a rules file: checked, merged for both sides, used by the gate."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from drs_parity.cli.main import main
from drs_parity.compare.rules import RulesError, load_rules
from drs_parity.compare.transformers import NormalisationError, declared_transformers
from drs_parity.fixtures.fields import Field
from drs_parity.fixtures.normalisation import parse_normalisation
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import SystemDescriptionError, load_system
from drs_parity.gate.parity import run_parity
from tests.harness.cli.test_cli import assert_one_line_error
from tests.harness.compare.parity_samples import timeline

REFERENCE_SYSTEMS = Path(__file__).resolve().parents[3] / "fixtures" / "systems"


def section(text: str, source: str = "team.yaml") -> Any:
    return parse_normalisation(Field(yaml.safe_load(text), "normalise", source, SystemDescriptionError))


@pytest.mark.parametrize(("text", "message"), [
    ("{bogus: 1}", "team.yaml: normalise: unknown key 'bogus' (allowed: ids, aliases, generatedNames"),
    ("ids: {orderId: '([a-'}", "team.yaml: normalise.ids.orderId: not a valid regular expression '([a-'"),
    (r"ids: {order-id: 'ord-\d+'}", "normalise.ids.order-id: 'order-id' is not a reference kind (letters only"),
    (r"ids: {orderId: '\d*'}", "normalise.ids.orderId: '\\\\d*' matches the empty string"),
    ("ids: [ord]", "normalise.ids: must be a mapping, got a list"),
    ("generatedNames: ['role/[A-Z]+']", "normalise.generatedNames[0]: 'role/[A-Z]+' needs a group (...)"),
    ("aliases: {parentId: parentId}", "normalise.aliases.parentId: a field cannot be an alias of itself"),
    ("aliases: {parentId: 3}", "normalise.aliases.parentId: must be a string, got an integer"),
    ("tableKeys: {orders: []}", "normalise.tableKeys.orders: must not be empty"),
    ("listKeys: {lineItems: {sku: 1}}", "normalise.listKeys.lineItems: must be a string, got a mapping"),
    ("volatile: [{path: x, mark: y}]", "normalise.volatile[0]: unknown key 'mark' (allowed: path, marker)"),
    ("volatile: [{marker: y}]", "normalise.volatile[0].path: required field is missing"),
    ("tokens: cursor", "normalise.tokens: must be a list, got a string"),
])
def test_each_bad_entry_is_one_line_naming_file_and_path(text: str, message: str) -> None:
    with pytest.raises(SystemDescriptionError) as raised:
        section(text)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_bad_volatile_glob_is_named_when_the_transformers_are_built() -> None:
    declaration = section("volatile: ['tables.orders[*.etag']")
    with pytest.raises(NormalisationError, match=r"^team\.yaml: normalise\.volatile\[0\]: unbalanced brackets"):
        declared_transformers([declaration])


def test_two_systems_naming_an_alias_differently_is_an_error_the_rules_file_may_settle() -> None:
    left, right = section("aliases: {parentId: orderId}", "left.yaml"), section("aliases: {parentId: planId}",
                                                                                   "right.yaml")
    with pytest.raises(NormalisationError, match=r"^right\.yaml: normalise\.aliases\.parentId: 'planId' disagrees "
                                                 r"with 'orderId' declared by the other side"):
        declared_transformers([left, right])
    settled = declared_transformers([left, left], section("aliases: {parentId: planId}", "rules.yaml"))
    assert [(alias.field, alias.same_as) for alias in settled.aliases] == [("parentId", "planId")]


def write_system(tmp_path: Path, normalise: str) -> Path:
    """The reference monolith's description with a `normalise:` section."""
    document = yaml.safe_load((REFERENCE_SYSTEMS / "monolithic.yaml").read_text())
    document["template"] = str((REFERENCE_SYSTEMS / document["template"]).resolve())
    document["normalise"] = yaml.safe_load(normalise)
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_system_description_carries_its_section(tmp_path: Path) -> None:
    system = load_system(write_system(tmp_path, "{ids: {orderId: 'ord-[0-9]+'}, tokens: [cursor]}"))
    assert system.normalise is not None and system.normalise.tokens == ("cursor",)
    assert [(entry.kind, entry.pattern) for entry in system.normalise.ids] == [("orderId", "ord-[0-9]+")]
    assert load_system("monolithic").normalise is None
    with pytest.raises(SystemDescriptionError, match=r"team\.yaml: normalise\.ids\.orderId: not a valid regular"):
        load_system(write_system(tmp_path, "{ids: {orderId: '('}}"))


def test_a_rules_file_declares_normalise_beside_its_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("normalise:\n  volatile: ['tables.*[*].etag']\nrules: []\n")
    assert [entry.path for entry in load_rules(path).normalisation.volatile] == ["tables.*[*].etag"]
    path.write_text("normalise:\n  ids: {x: '['}\n")
    with pytest.raises(RulesError, match=r"rules\.yaml: normalise\.ids\.x: not a valid regular expression"):
        load_rules(path)
    path.write_text("normalize: {}\n")
    with pytest.raises(RulesError, match="normalize: unknown key \\(allowed: rules, normalise\\)"):
        load_rules(path)


def sides_with_their_own_order_ids(system: Any, scenario: Any, *, backend: str, clock_start: int) -> dict[str, Any]:
    """Stand-in sides whose execution item names an order the side generated (as two real runs would)."""
    data = timeline(system.name)
    for step in data["steps"][1:]:
        for item in step["tables"]["execution-history"]:
            item["orderRef"] = "ord-1111" if system.name == "left" else "ord-2222"
    return data


def test_the_gate_applies_either_sides_declaration_to_both_sides() -> None:
    monolith = load_system("monolithic")
    plain = dataclasses.replace(monolith, name="left")
    declaring = dataclasses.replace(monolith, name="right", normalise=section("ids: {orderId: 'ord-[0-9]+'}"))
    scenarios = load_scenarios(["two-wave-drill"])
    for right, expected in ((dataclasses.replace(declaring, normalise=None), 1), (declaring, 0)):
        result = run_parity(plain, right, scenarios, "moto", runner=sides_with_their_own_order_ids, calibrate=False)
        assert result.exit_code == expected, [d.path for d in result.scenarios[0].active]


def test_the_cli_names_a_bad_declaration_in_one_line_and_exits_2(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("normalise:\n  generatedNames: ['role-[A-Z]+']\n")
    assert main(["run", "--rules", str(rules), "--scenario", "two-wave-drill", "--out", str(tmp_path / "out")]) == 2
    assert_one_line_error(capsys.readouterr().err, "rules.yaml: normalise.generatedNames[0]", "needs a group")
    rules.write_text("normalise:\n  volatile: ['api[*.body']\n")
    assert main(["run", "--rules", str(rules), "--scenario", "two-wave-drill", "--out", str(tmp_path / "out")]) == 2
    assert_one_line_error(capsys.readouterr().err, "rules.yaml: normalise.volatile[0]: unbalanced brackets")
