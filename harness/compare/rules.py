"""Rules files: reading accepted divergences (path pattern, scope, reason) from YAML or TOML, one-line errors."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drs_parity.compare.divergence import Rule, pattern_problem
from drs_parity.errors import InputError
from drs_parity.fixtures.fields import Field, read_yaml
from drs_parity.fixtures.normalisation import Normalisation, parse_normalisation

RULE_KEYS = {"path", "scope", "reason"}
FILE_KEYS = ("rules", "normalise")  # the accepted divergences, and normalisation declared for both sides
SCOPE_KEYS = {"scenario", "step", "kind"}
RULE_KINDS = ("api", "tables", "calls", "logs")
# The reason every paste-ready rule carries until someone writes the real one; such a rule accepts nothing.
PLACEHOLDER_REASON = "TODO: say why this difference is acceptable"
PLACEHOLDER = re.compile(r"^\s*(TODO|FIXME|TBD)\b")


class RulesError(InputError):
    """A rules file that cannot be used; the message names the file, the field and the problem."""


@dataclass(frozen=True)
class RuleSet:
    """The rules of one run (possibly none) and where they came from."""

    rules: list[Rule] = field(default_factory=list)
    source: str | None = None
    normalisation: Normalisation | None = None  # the file's `normalise:` section


def parse_document(path: Path) -> Any:
    """The parsed YAML or TOML (by suffix) of a rules file; unreadable or malformed is a one-line RulesError (a YAML
    mistake as `file:LINE: not valid YAML: problem`, like every other fixture file)."""
    if path.suffix != ".toml":
        return read_yaml(path, RulesError)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise RulesError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:  # its one-line text says where: "(at line N, column M)"
        raise RulesError(f"{path}: not valid TOML: {error}") from None


def parse_scope(scope: Any, where: str) -> dict[str, Any]:
    """A rule's `scope` mapping, checked (scenario and step as glob text, kind one of RULE_KINDS)."""
    if scope is None:
        return {}
    if not isinstance(scope, dict):
        raise RulesError(f"{where}.scope: must be a mapping of {', '.join(sorted(SCOPE_KEYS))}")
    unknown = sorted(set(scope) - SCOPE_KEYS)
    if unknown:
        raise RulesError(f"{where}.scope.{unknown[0]}: unknown key (allowed: {', '.join(sorted(SCOPE_KEYS))})")
    for name in ("scenario", "step"):
        if name in scope:
            scope[name] = str(scope[name])
            problem = pattern_problem(scope[name])
            if problem:
                raise RulesError(f"{where}.scope.{name}: {problem}")
    if "kind" in scope and scope["kind"] not in RULE_KINDS:
        raise RulesError(f"{where}.scope.kind: must be one of {', '.join(RULE_KINDS)}, not {scope['kind']!r}")
    return scope


def reason_problem(entry: dict[str, Any]) -> str | None:
    """Why a rule's reason is none (None when it is one): missing, or blank or still the paste-ready placeholder
    (then naming the rule's path, which says which of many pasted rules it is)."""
    if "reason" not in entry:
        return "missing"
    reason = entry["reason"]
    if not isinstance(reason, str) or not reason.strip():
        problem = "must be non-empty text"
    elif PLACEHOLDER.match(reason):  # a pasted rules file nobody reviewed must not turn a broken run green
        problem = f"still the placeholder {reason.strip()!r}"
    else:
        return None
    return f"{problem} in the rule for path {entry['path']!r}"


def parse_rule(entry: Any, where: str) -> Rule:
    """One entry of the `rules` list; `where` (`file: rules[i]`) becomes the rule's source."""
    if not isinstance(entry, dict):
        raise RulesError(f"{where}: must be a mapping with path, scope, reason")
    unknown = sorted(set(entry) - RULE_KEYS)
    if unknown:
        raise RulesError(f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(sorted(RULE_KEYS))})")
    problem = pattern_problem(entry.get("path"))
    if problem:
        raise RulesError(f"{where}.path: {'missing' if 'path' not in entry else problem}")
    problem = reason_problem(entry)
    if problem:
        raise RulesError(f"{where}.reason: {problem} (say why this divergence is accepted)")
    scope = parse_scope(entry.get("scope"), where)
    return Rule(path=entry["path"], reason=entry["reason"].strip(), scenario=scope.get("scenario", "*"),
                step=scope.get("step", "*"), kind=scope.get("kind"), source=where)


def load_rules(path: str | Path | None) -> RuleSet:
    """Rules from a YAML or TOML file (`rules: [...]` and an optional `normalise:` section, or a bare YAML list of
    rules); None -> no rules."""
    if path is None:
        return RuleSet()
    path = Path(path)
    if path.is_dir():
        raise RulesError(f"{path}: a folder, not a rules file")
    if not path.is_file():
        raise RulesError(f"{path}: rules file not found")
    document = parse_document(path)
    entries = document.get("rules", None) if isinstance(document, dict) else document
    if isinstance(document, dict) and set(document) - set(FILE_KEYS):
        unknown = sorted(set(document) - set(FILE_KEYS))[0]
        raise RulesError(f"{path}: {unknown}: unknown key (allowed: {', '.join(FILE_KEYS)})")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise RulesError(f"{path}: rules: must be a list of rules")
    normalisation = parse_normalisation(Field(document.get("normalise"), "normalise", str(path), RulesError)) \
        if isinstance(document, dict) else None
    return RuleSet([parse_rule(entry, f"{path}: rules[{i}]") for i, entry in enumerate(entries)], str(path),
                   normalisation)
