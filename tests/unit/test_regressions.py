"""Catalogue machinery: entry parsing, template edits that keep intrinsic tags, code patches on a package copy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from drs_parity.fixtures.regressions import (
    CodePatch, RegressionError, Tagged, TemplateEdit, apply_code_patch, apply_template_edit, copy_package,
    parse_regression, read_template, write_template,
)

TEMPLATE = """\
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "items-${Environment}"
      GlobalSecondaryIndexes:
        - IndexName: StatusIndex
          KeySchema: [{AttributeName: status, KeyType: HASH}]
        - IndexName: planIdIndex
          KeySchema: [{AttributeName: planId, KeyType: HASH}]
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: poller
          PolicyDocument:
            Statement:
              - Sid: Poll
                Action: [dynamodb:Query, dynamodb:UpdateItem]
                Resource: [!GetAtt Table.Arn]
"""


@pytest.fixture
def template(tmp_path: Path) -> dict:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return read_template(path)


def test_remove_by_key_selector_and_keep_intrinsic_tags(template, tmp_path):
    apply_template_edit(template, TemplateEdit("remove", "Resources.Table.Properties.GlobalSecondaryIndexes"
                                                         "[IndexName=StatusIndex]"), "here")
    out = tmp_path / "out.yaml"
    write_template(template, out)
    text = out.read_text()
    assert "StatusIndex" not in text and "planIdIndex" in text
    assert "!Sub 'items-${Environment}'" in text or '!Sub "items-${Environment}"' in text
    assert "!GetAtt" in text


def test_remove_one_value_from_a_list_and_set_by_position(template):
    statement = "Resources.Role.Properties.Policies[PolicyName=poller].PolicyDocument.Statement[Sid=Poll]"
    apply_template_edit(template, TemplateEdit("remove", statement + ".Action[=dynamodb:UpdateItem]"), "here")
    apply_template_edit(template, TemplateEdit(
        "set", "Resources.Table.Properties.GlobalSecondaryIndexes[0].KeySchema[0].AttributeName", "Status"), "here")
    policy = template["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert policy["Action"] == ["dynamodb:Query"]
    assert template["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"][0]["KeySchema"][0] == \
        {"AttributeName": "Status", "KeyType": "HASH"}
    assert isinstance(policy["Resource"][0], Tagged)


@pytest.mark.parametrize("path, problem", [
    ("Resources.Table.Properties.GlobalSecondaryIndexes[IndexName=Nope]", "nothing in the list matches"),
    ("Resources.Nope.Properties", "the template has no 'Nope' there"),
    ("Resources.Table.Properties.Missing", "no 'Missing' to remove"),
])
def test_a_path_that_names_nothing_is_a_stale_entry(template, path, problem):
    with pytest.raises(RegressionError, match=problem):
        apply_template_edit(template, TemplateEdit("remove", path), "entry.yaml: template[0]")


def test_a_copy_gets_its_own_package_name_and_a_checked_patch(tmp_path):
    source = tmp_path / "decomposed"
    (source / "poller").mkdir(parents=True)
    (source / "__init__.py").write_text("")
    (source / "poller" / "rules.py").write_text("from decomposed.shared import log\nimport decomposed.shared.x\n"
                                                "wave['serverStatuses'] = s\n")
    copy_package(source, tmp_path / "copy_pkg", "decomposed", "copy_pkg")
    rules = tmp_path / "copy_pkg" / "poller" / "rules.py"
    assert rules.read_text().startswith("from copy_pkg.shared import log\nimport copy_pkg.shared.x\n")
    apply_code_patch(tmp_path / "copy_pkg", CodePatch("poller/rules.py", "'serverStatuses'", "'serverExecutions'"), "x")
    assert "serverExecutions" in rules.read_text()
    with pytest.raises(RegressionError, match="expected 1 occurrence.*found 0 .*stale"):
        apply_code_patch(tmp_path / "copy_pkg", CodePatch("poller/rules.py", "'serverStatuses'", "x"), "x")
    assert "serverStatuses" in (source / "poller" / "rules.py").read_text()  # the original is untouched


@pytest.mark.parametrize("document, problem", [
    ({"title": "t", "realWorld": "r", "link": "poller-invoked", "divergence": ["p"]}, "switches nothing on"),
    ({"title": "t", "realWorld": "r", "link": "no-such-link", "divergence": ["p"], "environment": {"A": "b"}},
     "'no-such-link' is not one of status-polling"),
    ({"title": "t", "realWorld": "r", "link": "poller-invoked", "divergence": ["p"], "environment": {"A": "b"},
      "extra": 1}, "unknown top-level key 'extra'"),
    ({"realWorld": "r", "link": "poller-invoked", "divergence": ["p"], "environment": {"A": "b"}},
     "title: required field is missing"),
])
def test_entry_errors_name_the_file_and_the_field(document, problem):
    with pytest.raises(RegressionError, match=problem) as error:
        parse_regression(yaml.safe_load(yaml.safe_dump(document)), Path("fixtures/regressions/entry.yaml"))
    assert str(error.value).startswith("fixtures/regressions/entry.yaml: ")
