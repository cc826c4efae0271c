"""moto's EC2 answers serialised from a plan per structure and model class, not member by member through the picker."""

# What moto does: for every member of every structure it serialises (an EC2 instance has ~150, nested included), it
# builds an AttributePickerContext with the joined key path, asks the value picker for the candidate attribute
# names, tries them, then finds the member's serialiser by name (`getattr(self, f"_serialize_type_{type}")`):
# ~10 Python calls a member. A 1,000-server side serialises 2,500 instances in DescribeInstances pages: 8 s of its
# 20 s of CPU, 70% of it in that per-member machinery (cProfile, 14.7k members a page of 100 instances).
# What we do: for moto's default pickers (XFormedAttributePicker and its base, default alias providers: the picker
# EC2's answers get), each (structure shape, model class, Meta aliases, key path, response transformers) gets a plan
# once: every member's candidate names as the picker lists them, the transformer the picker would apply (EC2's
# table is mutable, so a plan holds a copy of it and is made again when it changes) and the member's serialiser.
# An object is then serialised by trying those names and calling those methods, with the same path, the same
# `parent` links, the same values and the same dict as moto's walk. Other pickers keep moto's walk. The side's
# DescribeInstances serialising goes from 8.0 s to 3.7 s; a page's calls from 1.09M to 0.65M.
# Suggested to moto: cache the candidate names and the type dispatch in ResponseSerializer.

from __future__ import annotations

import functools
from typing import Any, Callable

from drs_parity.world.shared_patch import SharedPatch, patch_registry_entry

# member key, shape, candidate names, whether none has a dot, serialiser, transformer (None: the value as found), and
# for a plain string member the element name its str() is written under (None: the serialiser writes it)
Plan = tuple[tuple[str, Any, tuple[str, ...], bool, Callable[..., None], Callable[[Any], Any] | None, str | None],
             ...]
_plans: dict[tuple[Any, ...], tuple[Any, Any, tuple[Any, ...], Plan]] = {}  # -> shape, aliases, transformers, plan
_moto: dict[str, Any] = {}  # moto's names the walk uses, bound when the serialiser is installed


def planned_ec2_serializer() -> type:
    """moto's EC2 response serialiser, walking structures by plan."""
    from moto.core.serialize import EC2Serializer, ResponseSerializer  # moto's core takes 0.3 s to import

    walk = ("_serialize", "_serialize_type_structure", "_serialize_structure_member", "get_value")
    if any(getattr(EC2Serializer, name) is not getattr(ResponseSerializer, name) for name in walk):
        return EC2Serializer  # a moto whose EC2 walk is its own: the plan would not follow it
    return _planned(EC2Serializer)


@functools.cache
def _planned(base: type) -> type:
    # keyed on moto's class: a process that imports moto afresh (pytester does) gets a subclass of the new one
    class PlannedEC2Serializer(base):  # type: ignore[misc,valid-type]
        def _serialize(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
            path = self.path
            path.append(key if key else shape.name)
            _serialiser(type(self), shape.type_name)(self, serialized, value, shape, key)
            path.pop()

        def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
            if value is None or not _plannable(self._value_picker):
                super()._serialize_type_structure(serialized, value, shape, key)
                return
            wrapper = self.MAP_TYPE() if key else serialized
            path = self.path
            by_attribute = not hasattr(value, "__getitem__")  # moto's get_value: getattr then, obj[name] otherwise
            for member_key, member_shape, names, plain, serialiser, transform, text_name in _plan(self, shape, value):
                member_shape.parent = shape
                member_value = _member_value(value, names, by_attribute and plain)
                if transform is not None:  # applied to a missing member too, as the picker does
                    member_value = transform(member_value)
                if member_value is None:
                    continue
                if text_name is not None:  # what moto's string serialiser writes, without its calls
                    wrapper[text_name] = str(member_value)
                else:
                    path.append(member_key)
                    serialiser(self, wrapper, member_value, member_shape, member_key)
                    path.pop()
            if key:
                self._default_serialize(serialized, wrapper, shape, key)

    return PlannedEC2Serializer


def _member_value(obj: Any, names: tuple[str, ...], by_attribute: bool) -> Any:
    """The picker's search: the value of the first name the object has (None if none), as moto's get_value finds it
    (an object without __getitem__ and a name without dots: getattr)."""
    missing = _moto["MISSING"]
    if by_attribute:
        for name in names:
            found = getattr(obj, name, missing)
            if found is not missing:
                return found
        return None
    get_value = _moto["get_value"]
    for name in names:
        found = get_value(obj, name, missing)
        if found is not missing:
            return found
    return None


@functools.cache
def _serialiser(serializer_class: type, type_name: str) -> Callable[..., None]:
    """What moto's _serialize calls for a shape type: `_serialize_type_<type>` of the class, or _default_serialize."""
    return getattr(serializer_class, f"_serialize_type_{type_name}", serializer_class._default_serialize)


def _plannable(picker: Any) -> bool:
    """A picker whose candidate names depend on the member, its shapes, the model class and Meta aliases only."""
    return type(picker) in _moto["pickers"] and _moto["providers"].issuperset(picker.alias_providers)


def _plan(serializer: Any, shape: Any, obj: Any) -> Plan:
    aliases, picker, key_path = _serialization_aliases(obj), serializer._value_picker, ".".join(serializer.path)
    transformers = tuple(picker.response_transformers.items())
    key = (type(serializer), type(picker), tuple(picker.alias_providers), obj.__class__, id(shape), id(aliases),
           key_path)
    remembered = _plans.get(key)
    if (remembered is None or remembered[0] is not shape or remembered[1] is not aliases
            or remembered[2] != transformers):
        remembered = _plans[key] = (shape, aliases, transformers,
                                    _new_plan(serializer, shape, obj, key_path, transformers))
    return remembered[3]


def _new_plan(serializer: Any, shape: Any, obj: Any, key_path: str,
              transformers: tuple[tuple[str, Callable[[Any], Any]], ...]) -> Plan:
    context_class, picker = _moto["AttributePickerContext"], serializer._value_picker
    plan = []
    for member_key, member_shape in shape.members.items():
        member_shape.parent = shape  # the providers read it, as they do in moto's walk
        context = context_class(obj=obj, key=member_key, shape=member_shape, operation_model=serializer.operation_model,
                                service_model=serializer.operation_model.service_model, key_path=key_path)
        member_path = f"{key_path}.{member_key}"  # the picker's first transformer whose path ends the member's
        transform = next((found for path, found in transformers if member_path.endswith(path)), None)
        names = tuple(picker.get_possible_keys(context))
        serialiser = _serialiser(type(serializer), member_shape.type_name)
        plan.append((member_key, member_shape, names, not any("." in name for name in names), serialiser, transform,
                     _text_name(serializer, serialiser, member_shape, member_key)))
    return tuple(plan)


def _text_name(serializer: Any, serialiser: Callable[..., None], shape: Any, key: str) -> str | None:
    """The element name of a member moto's XML string serialiser writes as plain text (str() of the value under its
    serialized name: no namespace, not an attribute), else None. Neither that serialiser nor the name reads the
    walk's path, so the walk writes the text directly."""
    xml, serialization = _moto["BaseXMLSerializer"], shape.serialization
    if (serialiser is not xml._serialize_type_string
            or type(serializer)._default_serialize is not xml._default_serialize
            or "xmlNamespace" in serialization or serialization.get("xmlAttribute", False)):
        return None
    return serializer.get_serialized_name(shape, key)


def _serialization_aliases(obj: Any) -> Any:
    meta = getattr(obj, "Meta", None)
    return getattr(meta, "serialization_aliases", None) if meta is not None else None


def install_planned_ec2_serializer() -> Callable[[], None]:
    """Make in-process moto serialise EC2 answers by plan, once for any number of worlds; returns the undo."""
    return _PATCH.install()


def _swap_serializer() -> Callable[[], None]:
    from moto.core import serialize, utils  # as above

    _moto.update(MISSING=utils.MISSING, get_value=utils.get_value, BaseXMLSerializer=serialize.BaseXMLSerializer,
                 AttributePickerContext=serialize.AttributePickerContext,
                 pickers=(serialize.AttributePicker, serialize.XFormedAttributePicker),
                 providers=frozenset(serialize.DEFAULT_ALIAS_PROVIDERS))
    unregister = patch_registry_entry(serialize.SERVICE_SPECIFIC_SERIALIZERS, "ec2", "ec2", planned_ec2_serializer())

    def undo() -> None:
        unregister()
        _plans.clear()

    return undo


_PATCH = SharedPatch(_swap_serializer)
