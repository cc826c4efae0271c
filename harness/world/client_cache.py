"""botocore made cheaply: each service's model and client class built once per process, each response parser reused."""

# A gate makes ~370 botocore clients (the harness's own per world, each function's at its cold start). For each,
# botocore builds a new ServiceModel (every shape resolved again as calls use it), a new client class with one
# closure and one docstring object per operation (EC2: ~600), and copies its session's event emitter node by node
# (that copy stays: each client registers its own handlers). That was ~12% of a serial gate's samples and much of each
# world's cyclic garbage (the classes).
# While a world runs:
# - ClientCreator._load_service_model answers one ServiceModel per loaded model document (botocore's loader already
#   hands every client of a loader the same document; the model is read-only once built);
# - ClientCreator._create_client_class answers one class per (model, service name, creating-client-class handlers):
#   the handlers (botocore's presigned-URL method, boto3's S3 transfer methods) are what adds to a class, so two
#   sessions with equal handlers get equal classes. A handler we cannot identify by value turns the cache off for
#   that client. (The event exists to shape the class: a handler that did something else would run once per class.)
# - ResponseParserFactory.create_parser, asked for a new parser on every response, answers the one it made for the
#   protocol while the parser class and the factory's defaults are the same: botocore's parsers keep no state between
#   parses (nothing is assigned to one after __init__), and each new one was a cycle for the collector (the parser,
#   its event-stream parser, their bound methods): ~650 a side.

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from botocore import parsers
from botocore.client import ClientCreator
from botocore.model import ServiceModel

from drs_parity.world.shared_patch import SharedPatch, applied, patch_attribute

_original_create_client_class = ClientCreator._create_client_class
_original_create_parser = parsers.ResponseParserFactory.create_parser
_lock = threading.Lock()


@dataclass(eq=False)
class SharedModel:
    """A loaded model document, the ServiceModel made of it and the client classes made for it."""

    document: Any
    service_model: ServiceModel
    classes: dict[Hashable, type] = field(default_factory=dict)


# Per loader (weakly: a session's own loader takes its entries with it), (service name, id of the document) -> entry.
_by_loader: weakref.WeakKeyDictionary[Any, dict[tuple[str, int], SharedModel]] = weakref.WeakKeyDictionary()
_by_model: weakref.WeakValueDictionary[int, SharedModel] = weakref.WeakValueDictionary()  # id of its ServiceModel


def _shared_service_model(self: ClientCreator, service_name: str, api_version: str | None = None) -> ServiceModel:
    document = self._loader.load_service_model(service_name, "service-2", api_version=api_version)
    with _lock:
        models = _by_loader.setdefault(self._loader, {})
        shared = models.get((service_name, id(document)))
        if shared is None or shared.document is not document:
            shared = models[(service_name, id(document))] = SharedModel(
                document, ServiceModel(document, service_name=service_name))
            _by_model[id(shared.service_model)] = shared
    return shared.service_model


def _class_made_once(self: ClientCreator, service_name: str, service_model: ServiceModel) -> type:
    shared = _by_model.get(id(service_model))
    if shared is None or shared.service_model is not service_model:  # a model of a loader's own making: not shared
        return _original_create_client_class(self, service_name, service_model)  # type: ignore[no-any-return]
    handlers = class_handlers_key(self._event_emitter, f"creating-client-class.{service_model.service_id.hyphenize()}")
    if handlers is None:
        return _original_create_client_class(self, service_name, service_model)  # type: ignore[no-any-return]
    key = (service_name, handlers)
    made = shared.classes.get(key)
    if made is None:
        made = shared.classes.setdefault(key, _original_create_client_class(self, service_name, service_model))
    return made


# -- which handlers make a class --------------------------------------------------------------------------------------
def class_handlers_key(emitter: Any, event_name: str) -> Hashable | None:
    """What the handlers `emitter` would call for `event_name` are, by value; None if one cannot be told by value."""
    inner = getattr(emitter, "_emitter", emitter)  # an EventAliaser wraps the HierarchicalEmitter
    alias = getattr(emitter, "_alias_event_name", None)
    trie = getattr(inner, "_handlers", None)
    if trie is None or not hasattr(trie, "prefix_search"):
        return None
    try:
        return tuple(handler_identity(handler)
                     for handler in trie.prefix_search(alias(event_name) if alias else event_name))
    except TypeError:  # unhashable: no identity by value
        return None


def handler_identity(handler: Callable[..., Any]) -> Hashable:
    """A handler as a value: a plain function is itself; a closure (boto3's lazy_call) is its code and what it
    closes over, so that two sessions' equal handlers are equal. Raises TypeError for what has no such value."""
    closure = getattr(handler, "__closure__", None)
    if closure is None:
        hash(handler)
        return handler
    return handler.__code__, tuple(_frozen(cell.cell_contents) for cell in closure)


def _frozen(value: Any) -> Hashable:
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(key), _frozen(item)) for key, item in value.items())))
    hash(value)
    return value  # type: ignore[no-any-return]


def _parser_made_once(self: parsers.ResponseParserFactory, protocol_name: str) -> Any:
    made: dict[str, tuple[type, dict[str, Any], Any]] = self.__dict__.setdefault("_drs_parity_parsers", {})
    kept = made.get(protocol_name)
    if kept is None or kept[0] is not parsers.PROTOCOL_PARSERS[protocol_name] or kept[1] != self._defaults:
        parser = _original_create_parser(self, protocol_name)
        kept = made[protocol_name] = (type(parser), dict(self._defaults), parser)
    return kept[2]


_PATCH = SharedPatch(applied(lambda: [
    lambda: patch_attribute(ClientCreator, "_load_service_model", _shared_service_model),
    lambda: patch_attribute(ClientCreator, "_create_client_class", _class_made_once),
    lambda: patch_attribute(parsers.ResponseParserFactory, "create_parser", _parser_made_once)]))


def install_client_cache() -> Callable[[], None]:
    """The three shortcuts above, while the caller's world runs; returns the undo."""
    return _PATCH.install()
