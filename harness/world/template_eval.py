"""What CloudFormation evaluates before it creates anything: parameter values, Conditions, Fn::If, AWS::NoValue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

NO_VALUE = {"Ref": "AWS::NoValue"}
PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
                     "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}
CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition")
CONDITION_REFERENCES = ("Condition", "Fn::Condition")  # the YAML reader spells the short form !Condition so
_SUB_NAMES = re.compile(r"\$\{(?!!)([^}.]+)(?:\.[^}]*)?\}")
_DROPPED = object()  # what AWS::NoValue (directly or from Fn::If) leaves: the key or member is removed


class TemplateProblem(ValueError):
    """What CloudFormation would reject, with where: a logical resource id (or a template section) and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


@dataclass
class StackContext:
    """The pseudo parameters a condition may compare (the account is asked for only when one needs it)."""

    stack_name: str
    region: str
    account_id: Callable[[], str]

    def pseudo(self, name: str) -> str:
        values = {"AWS::Region": lambda: self.region, "AWS::StackName": lambda: self.stack_name,
                  "AWS::AccountId": self.account_id, "AWS::Partition": lambda: "aws",
                  "AWS::URLSuffix": lambda: "amazonaws.com"}
        if name not in values:
            raise TemplateProblem("Conditions", f"{name} has no value a condition can compare")
        return values[name]()


def _single(node: Any) -> tuple[str, Any] | None:
    """(function, argument) of an intrinsic function node ({"Fn::If": [...]}), else None."""
    if isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        if key == "Ref" or key.startswith("Fn::") or key in CONDITION_REFERENCES:
            return key, node[key]
    return None


def _path(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _place(path: tuple[Any, ...]) -> str:
    """Where in a resource: `property Policies[1]` under Properties, else the attribute's path (`DependsOn`)."""
    return f"property {_path(path[1:])}" if path[:1] == ("Properties",) and path[1:] else _path(path)


# -- parameters --------------------------------------------------------------------------------------------------------
def parameter_values(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Each declared parameter's value (given, else its Default); every one without a value in one TemplateProblem."""
    declared = template.get("Parameters") or {}
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = str(given[name])
        elif isinstance(spec, dict) and "Default" in spec:
            values[name] = spec["Default"]
        kind = str(spec.get("Type", "")) if isinstance(spec, dict) else ""
        if name in values and (kind == "CommaDelimitedList" or kind.startswith("List<")):
            values[name] = [item.strip() for item in str(values[name]).split(",")]
    missing = [name for name in declared if name not in values]
    if missing:
        users = _users_of(template, set(missing))
        listed = ", ".join(f"{name} ({'used by ' + ', '.join(users[name]) if users.get(name) else 'not used'})"
                           for name in missing)
        count = "1 parameter has" if len(missing) == 1 else f"{len(missing)} parameters have"
        raise TemplateProblem("Parameters", f"{count} no value (no Default, not given): {listed}")
    return values


def _users_of(template: dict[str, Any], names: set[str]) -> dict[str, list[str]]:
    """name -> the resources, outputs and conditions that refer to it."""
    users: dict[str, list[str]] = {}
    for section, prefix in (("Conditions", "condition "), ("Resources", ""), ("Outputs", "output ")):
        for entry, body in (template.get(section) or {}).items():
            for name, _ in references(body):
                if name in names and f"{prefix}{entry}" not in users.setdefault(name, []):
                    users[name].append(f"{prefix}{entry}")
    return users


def references(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(name, path) of every Ref, Fn::GetAtt and Fn::Sub ${name} in a node (DependsOn is the caller's)."""
    function = _single(node)
    if function is not None and function[0] == "Ref" and isinstance(function[1], str):
        yield function[1], path
        return
    if function is not None and function[0] == "Fn::GetAtt" and function[1]:
        target = function[1][0] if isinstance(function[1], list) else str(function[1]).split(".", 1)[0]
        yield str(target), path
        return
    if function is not None and function[0] == "Fn::Sub":
        text, local = (function[1], {}) if isinstance(function[1], str) else (list(function[1]) + [None, {}])[:2]
        local = local if isinstance(local, dict) else {}
        for name in _SUB_NAMES.findall(text if isinstance(text, str) else ""):
            if name not in local:
                yield name, path
        yield from references(local, path)
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield from references(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from references(value, (*path, index))


# -- conditions --------------------------------------------------------------------------------------------------------
class Conditions:
    """The template's Conditions, each evaluated once, the way CloudFormation does, on first use."""

    def __init__(self, template: dict[str, Any], values: dict[str, Any], context: StackContext) -> None:
        self.declared = template.get("Conditions") or {}
        self.mappings = template.get("Mappings") or {}
        self.values = values
        self.context = context
        self.results: dict[str, bool] = {}
        self._evaluating: list[str] = []

    def all(self) -> dict[str, bool]:
        return {name: self[name] for name in self.declared}

    def __getitem__(self, name: str) -> bool:
        if name not in self.results:
            if name not in self.declared:
                raise KeyError(name)
            if name in self._evaluating:
                raise TemplateProblem(f"Conditions.{name}", f"conditions refer to each other in a loop: "
                                                           f"{' -> '.join([*self._evaluating, name])}")
            self._evaluating.append(name)
            try:
                self.results[name] = self._truth(self.declared[name], name)
            finally:
                self._evaluating.pop()
        return self.results[name]

    def _truth(self, node: Any, name: str) -> bool:
        function = _single(node)
        if function is None or function[0] not in (*CONDITION_FUNCTIONS, *CONDITION_REFERENCES):
            raise TemplateProblem(f"Conditions.{name}", f"{node!r} is no condition function "
                                                       f"({', '.join(CONDITION_FUNCTIONS)})")
        kind, argument = function
        if kind in CONDITION_REFERENCES:
            if argument not in self.declared:
                raise TemplateProblem(f"Conditions.{name}", f"refers to condition {argument}, which is not declared")
            return self[argument]
        if not isinstance(argument, list):
            raise TemplateProblem(f"Conditions.{name}", f"{kind} takes a list, not {argument!r}")
        if kind == "Fn::Equals":
            if len(argument) != 2:
                raise TemplateProblem(f"Conditions.{name}", f"Fn::Equals compares two values, not {len(argument)}")
            return self._value(argument[0], name) == self._value(argument[1], name)
        if kind == "Fn::Not":
            if len(argument) != 1:
                raise TemplateProblem(f"Conditions.{name}", "Fn::Not takes one condition")
            return not self._truth(argument[0], name)
        truths = [self._truth(item, name) for item in argument]
        return all(truths) if kind == "Fn::And" else any(truths)

    def _value(self, node: Any, name: str) -> Any:
        """A value Fn::Equals compares: literals as CloudFormation's strings, Ref, FindInMap, Join, Select."""
        if isinstance(node, bool):
            return "true" if node else "false"
        if isinstance(node, (int, float, str)):
            return str(node)
        function = _single(node)
        if function is not None and function[0] in (*CONDITION_FUNCTIONS, "Fn::Condition"):
            return "true" if self._truth(node, name) else "false"
        if function is not None and function[0] == "Ref":
            return self._ref(function[1], name)
        if function is not None and function[0] == "Fn::FindInMap" and isinstance(function[1], list):
            keys = [self._value(key, name) for key in function[1]]
            try:
                return self._value(self.mappings[keys[0]][keys[1]][keys[2]], name)
            except (KeyError, IndexError, TypeError):
                raise TemplateProblem(f"Conditions.{name}", f"Fn::FindInMap {keys} finds nothing in Mappings") from None
        if function is not None and function[0] in ("Fn::Join", "Fn::Select") and isinstance(function[1], list) \
                and len(function[1]) == 2:
            first, items = self._value(function[1][0], name), self._value(function[1][1], name)
            if not isinstance(items, list):
                raise TemplateProblem(f"Conditions.{name}", f"{function[0]} needs a list, not {items!r}")
            return first.join(items) if function[0] == "Fn::Join" else items[int(first)]
        if isinstance(node, list):
            return [self._value(item, name) for item in node]
        raise TemplateProblem(f"Conditions.{name}", f"cannot evaluate {node!r} in a condition")

    def _ref(self, target: Any, name: str) -> Any:
        if target in self.values:
            value = self.values[target]
            return [str(item) for item in value] if isinstance(value, list) else self._value(value, name)
        if target in PSEUDO_PARAMETERS:
            return self.context.pseudo(str(target))
        raise TemplateProblem(f"Conditions.{name}", f"Ref {target}: a condition can refer to parameters only")


# -- the template as CloudFormation creates it -------------------------------------------------------------------------
def resolve(template: dict[str, Any], given: dict[str, Any], context: StackContext) -> dict[str, Any]:
    """The template with parameters checked, Conditions applied and Fn::If / AWS::NoValue evaluated, as moto's input.

    Resources and outputs whose Condition is false are left out; Fn::If becomes the branch its condition picks; a
    key or list member whose value is AWS::NoValue is removed; the Conditions section goes. TemplateProblem names
    the logical resource and the property for anything CloudFormation would reject on the way.
    """
    conditions = Conditions(template, parameter_values(template, given), context)
    conditions.all()  # every declared condition evaluates, as on CloudFormation, used or not
    resources, dropped = {}, {}
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict):
            raise TemplateProblem(logical_id, f"a resource is a mapping with Type and Properties, not {resource!r}")
        name = resource.get("Condition")
        if name is not None and not _condition(conditions, name, logical_id, (), "its Condition"):
            dropped[logical_id] = name
            continue
        body = {key: value for key, value in resource.items() if key != "Condition"}
        resources[logical_id] = _evaluate(body, conditions, logical_id, ())
        _check_nulls(resources[logical_id].get("Properties"), logical_id, ("Properties",))
    outputs = {}
    for output_id, output in (template.get("Outputs") or {}).items():
        name = output.get("Condition") if isinstance(output, dict) else None
        if name is None or _condition(conditions, name, f"Outputs.{output_id}", (), "its Condition"):
            outputs[output_id] = _evaluate({k: v for k, v in output.items() if k != "Condition"}, conditions,
                                           f"Outputs.{output_id}", ())
    resolved = {key: value for key, value in template.items() if key not in ("Conditions", "Resources", "Outputs")}
    resolved["Resources"] = resources
    if outputs:
        resolved["Outputs"] = outputs
    if "Transform" not in template:  # a transform (SAM) adds resources of its own that templates refer to
        check_references(resolved, dropped)
    return resolved


def _condition(conditions: Conditions, name: Any, where: str, path: tuple[Any, ...], used_by: str) -> bool:
    try:
        return conditions[name]
    except (KeyError, TypeError):
        place = f"{_place(path)}: " if path else ""
        raise TemplateProblem(where, f"{place}{used_by} names condition {name!r}, which is not declared in "
                                     f"Conditions") from None


def _evaluate(node: Any, conditions: Conditions, where: str, path: tuple[Any, ...]) -> Any:
    """The node with Fn::If decided and AWS::NoValue removed (_DROPPED when the node itself is AWS::NoValue)."""
    if node == NO_VALUE:
        return _DROPPED
    function = _single(node)
    if function is not None and function[0] == "Fn::If":
        argument = function[1]
        if not isinstance(argument, list) or len(argument) != 3:
            raise TemplateProblem(where, f"{_place(path)}: Fn::If takes [condition, value if true, "
                                         f"value if false], not {argument!r}")
        branch = argument[1] if _condition(conditions, argument[0], where, path, "Fn::If") else argument[2]
        return _evaluate(branch, conditions, where, path)
    if isinstance(node, dict):
        evaluated = {key: _evaluate(value, conditions, where, (*path, key)) for key, value in node.items()}
        return {key: value for key, value in evaluated.items() if value is not _DROPPED}
    if isinstance(node, list):
        evaluated = [_evaluate(value, conditions, where, (*path, index)) for index, value in enumerate(node)]
        return [value for value in evaluated if value is not _DROPPED]
    return node


def _check_nulls(node: Any, where: str, path: tuple[Any, ...]) -> None:
    """CloudFormation's "'null' values are not allowed in templates", with the property that holds one."""
    if node is None and path != ("Properties",):
        raise TemplateProblem(where, f"{_place(path)} is null: 'null' values are not allowed in templates")
    if isinstance(node, dict):
        for key, value in node.items():
            _check_nulls(value, where, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_nulls(value, where, (*path, index))


def check_references(template: dict[str, Any], dropped: dict[str, str]) -> None:
    """Every Ref, Fn::GetAtt, Fn::Sub name and DependsOn names a parameter, pseudo parameter or created resource."""
    known = set(template.get("Parameters") or {}) | set(template["Resources"]) | PSEUDO_PARAMETERS
    for section, label in (("Resources", ""), ("Outputs", "Outputs.")):
        for entry, body in (template.get(section) or {}).items():
            depends = body.get("DependsOn") if isinstance(body, dict) else None
            named = [(str(name), ("DependsOn",)) for name in ([depends] if isinstance(depends, str) else depends or [])]
            for name, path in [*named, *references(body)]:
                if name not in known:
                    raise TemplateProblem(f"{label}{entry}", _unresolved(name, path, dropped))


def _unresolved(name: str, path: tuple[Any, ...], dropped: dict[str, str]) -> str:
    where = _place(path)
    if name in dropped:
        return f"{where} refers to {name}, which is not created: its Condition {dropped[name]} is false"
    return f"{where} refers to {name}, which is no parameter, resource or pseudo parameter of the template"
