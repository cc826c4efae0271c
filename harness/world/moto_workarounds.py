"""moto's costs that grow with a big world, worked around: each replaces one moto function by an equivalent one."""

# Each workaround names the moto function it replaces, why, and the fix it suggests to moto; each gives the same
# answers (tests/harness/world/test_moto_workarounds.py compares them with moto's own). They are installed while a
# moto world runs (in-process, or moto's server in this process) and undone when the last such world stops; the
# template reader only while a stack is created on such a world (`fast_stack_templates`).

from __future__ import annotations

import contextlib
import functools
import pickle
import random
import re
import string
from typing import Any, Callable, Iterator

import yaml

from drs_parity.world.shared_patch import SharedPatch, applied, patch_attribute


# -- EC2 tags: a dictionary lookup, not a scan of every tag in the region ---------------------------------------------
def resource_tags(resource: Any) -> list[dict[str, str]]:
    """moto.ec2.models.core.TaggedEC2Resource.get_tags, without scanning every tag of the region.

    moto asks `describe_tags(filters={"resource-id": [id]})`, which walks every tag of every resource: an
    instance's tags, read when it is described or filtered, cost O(instances), so DescribeInstances over n
    instances costs O(n^2) (18% of a 1,000-server side). The tags of one resource are `backend.tags[id]`: the
    same entries, in the same order, with the same resource type (an EC2 id has no wildcard characters, so the
    filter's pattern matches that id alone). Suggested to moto: this lookup in get_tags."""
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix  # moto's EC2: only a moto world needs it

    resource_id = resource.id
    tags = resource.ec2_backend.tags.get(resource_id) if resource_id else None
    if not tags:
        return []
    resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
    return [{"resource_id": resource_id, "key": key, "value": value, "resource_type": resource_type}
            for key, value in tags.items()]


# -- EC2 instances: found by id without copying every reservation ------------------------------------------------------
def instance_by_id(backend: Any, instance_id: str) -> Any:
    """moto.ec2.models.instances.InstanceBackend.get_instance, without copying every reservation first.

    moto walks `all_instances()`, which makes a shallow copy of every reservation, to find one instance: launching
    an instance looks itself up to attach its root volume, so n launches cost O(n^2) copies (11% of a 1,000-server
    side). The reservations' own instance lists hold the same instances in the same order. Suggested to moto: an
    index of instances by id, or this loop."""
    for reservation in backend.reservations.values():
        for instance in reservation.instances:
            if instance.id == instance_id:
                return instance
    from moto.ec2.exceptions import InvalidInstanceIdError  # as above

    raise InvalidInstanceIdError(instance_id)


# -- moto's serialiser: each member's candidate attribute names found once, not once per object ------------------------
_candidates: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # picker key -> (shape, parent, aliases, names)
_moto: dict[str, Any] = {}  # the moto names the serialiser's hot path uses, bound when the workarounds install


def pick_attribute(picker: Any, context: Any) -> Any:
    """moto.core.serialize.AttributePicker.__call__, with the candidate attribute names of a member remembered.

    moto finds each member of each object it serialises by asking six alias providers, made anew for every member,
    which names to try (`get_possible_keys`): 40% of serialising an EC2 instance, and DescribeInstances over a
    1,000-server estate serialises thousands. The default providers answer from the member's key, its shape and
    the shape's parent, the object's class and its `Meta.serialization_aliases` only, so the names are remembered
    under those (holding them, so no identity is reused). Pickers with other providers, or another way of listing
    names, keep moto's own path. Suggested to moto: the same memo inside AttributePicker.get_possible_keys."""
    key = _candidate_key(picker, context)
    if key is None:
        return _picked(picker, context, tuple(picker.get_possible_keys(context)))
    shape, parent, aliases = context.shape, getattr(context.shape, "parent", None), _serialization_aliases(context.obj)
    remembered = _candidates.get(key)
    if remembered is None or remembered[0] is not shape or remembered[1] is not parent or remembered[2] is not aliases:
        remembered = _candidates[key] = (shape, parent, aliases, tuple(picker.get_possible_keys(context)))
    return _picked(picker, context, remembered[3])


def _serialization_aliases(obj: Any) -> Any:
    meta = getattr(obj, "Meta", None)
    return getattr(meta, "serialization_aliases", None) if meta is not None else None


def _candidate_key(picker: Any, context: Any) -> tuple[Any, ...] | None:
    """What a default picker's candidate names depend on; None for a picker this memo cannot vouch for."""
    if type(picker) not in _moto["pickers"]:
        return None
    providers = tuple(picker.alias_providers)
    if not _moto["providers"].issuperset(providers):
        return None
    shape = context.shape
    return (type(picker), providers, context.obj.__class__, context.key, id(shape), id(getattr(shape, "parent", None)),
            id(_serialization_aliases(context.obj)))


def _picked(picker: Any, context: Any, names: tuple[str, ...]) -> Any:
    """The rest of AttributePicker.__call__: the first name the object has, then the response transformers."""
    missing, get_value = _moto["MISSING"], _moto["get_value"]
    obj = context.obj
    value = None
    for name in names:
        found = get_value(obj, name, missing)
        if found is not missing:
            value = found
            break
    transformers = picker.response_transformers
    if transformers:
        transform = _transform_for(transformers, f"{context.key_path}.{context.key}")
        if transform is not None:
            return transform(value)
    return value


_transforms: dict[int, tuple[Any, int, dict[str, Any]]] = {}  # id(transformers) -> (them, size, key path -> path)


def _transform_for(transformers: dict[str, Any], key_path: str) -> Any:
    """The first response transformer whose path ends `key_path` (moto tries them all for every member of every
    object: half of what is left of picking a member). Which path matches is remembered per transformers table
    and key path, while the table keeps its size; the transform itself is read from the table every time, since
    moto re-sets entries at run time (VPC peering puts a new function under the same path on every call)."""
    table = _transforms.get(id(transformers))
    if table is None or table[0] is not transformers or table[1] != len(transformers):
        table = _transforms[id(transformers)] = (transformers, len(transformers), {})
    by_path = table[2]
    if key_path not in by_path:
        by_path[key_path] = next((path for path in transformers if key_path.endswith(path)), None)
    matched = by_path[key_path]
    return transformers.get(matched) if matched is not None else None


# -- moto's request routing: each URL's handler found once, not by matching every service's patterns each time -------
_url_handlers: dict[str, Any] = {}  # clean URL -> moto's handler for it (None: moto's own path decides)


def route_request(stubber: Any, request: Any) -> Any:
    """moto.core.botocore_stubber.BotocoreStubber.process_request, with each URL's handler found once per world.

    moto matches every request's URL against the patterns of every service it mocks, then against each URL of the
    matching service, rebuilding that service's URL table (regular expressions substituted) on the way: 5% of a
    drill, for an answer that depends on the URL and moto's configuration alone. Both are fixed while a world runs
    (the table is emptied when a world starts). A URL moto answers itself otherwise (passed through, a service not
    on the whitelist, no backend: 404) keeps moto's own path. Suggested to moto: the same cache in the stubber."""
    stubber_module = _moto["stubber"]
    parsed_url, _ = stubber_module.get_equivalent_url_in_aws_domain(request.url)
    clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
    if clean_url not in _url_handlers:
        _url_handlers[clean_url] = _handler_for(stubber_module, clean_url)
    handler = _url_handlers[clean_url]
    if handler is None:
        return _moto["process_request"](stubber, request)
    normalized = stubber_module.normalize_request(request)
    try:
        _moto["recorder"]._record_request(normalized)
        return handler(normalized, raw_url(normalized), normalized.headers)
    except _moto["HTTPException"] as error:
        return error.code, error.get_headers(), error.get_body()
    finally:  # werkzeug's request keeps itself in its environ: a cycle per request, freed now instead of by the GC
        normalized.environ.pop("werkzeug.request", None)


# what werkzeug builds a request's host, root URL, raw path and query string from
_RAW_URL_PARTS = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME", "RAW_URI", "PATH_INFO",
                  "QUERY_STRING")
_raw_urls: dict[tuple[Any, ...], str] = {}  # those environ values -> moto's raw URL (emptied when a world starts)


def raw_url(request: Any) -> str:
    """moto.core.request.Request.raw_url, remembered per the environ values it is made of.

    werkzeug rebuilds the host (with its port rules), the root URL and moto the raw path from the environ on every
    request (4% of a small Query), for the few URLs a world asks again and again. Suggested to moto: build it once
    per request in normalize_request, from the parts botocore sent."""
    environ = request.environ
    key = tuple(environ.get(name) for name in _RAW_URL_PARTS)
    found = _raw_urls.get(key)
    if found is None:
        found = _raw_urls[key] = request.raw_url
    return found


def _handler_for(stubber_module: Any, clean_url: str) -> Any:
    """The handler moto's process_request would call for `clean_url`, found the way it finds it; None when it would
    answer otherwise."""
    if stubber_module.passthrough_url(clean_url):
        return None
    for service, pattern in stubber_module.backend_index.backend_url_patterns:
        if not pattern.match(clean_url):
            continue
        if stubber_module.passthrough_service(service) or not stubber_module.service_whitelisted(service):
            return None
        for url, handler in _default_backend(stubber_module, service).urls.items():
            if re.compile(url).match(clean_url):
                return handler
    return None


def _default_backend(stubber_module: Any, service: str) -> Any:
    """The backend whose URL table moto reads for `service` (the default account's us-east-1, aws or global one)."""
    from moto import backends  # as above
    from moto.core import DEFAULT_ACCOUNT_ID

    backend_dict = backends.get_backend(service)
    if not isinstance(backend_dict, stubber_module.BackendDict):
        return backend_dict["global"]
    account = backend_dict[DEFAULT_ACCOUNT_ID]
    return account["us-east-1"] if "us-east-1" in account else account["aws"]


# -- moto's dispatch: a response class's method names listed once --------------------------------------------------
@functools.cache
def method_names(response_class: type) -> list[str]:
    """moto.core.utils.method_names_from_class, once per class: moto lists every function of the response class
    with inspect.getmembers on every request, to check that the action is one of them (3% of a request); the
    classes do not change while a world runs. Suggested to moto: functools.cache on method_names_from_class."""
    return _moto["method_names_from_class"](response_class)


# -- moto's request ids: drawn from a stream of their own -------------------------------------------------------------
_REQUEST_ID_CHARACTERS = string.ascii_letters + string.digits
_request_ids = random.Random()


def request_id(headerdict: dict[str, Any] | None = None) -> str:
    """moto.utilities.aws_headers.gen_amzn_requestid_long, as moto's responses call it, from a random stream of its own.

    moto draws each answer's 52-character request id one character at a time (2% of a drill) from the stream its
    resources' ids and addresses come from (mock_random): a request more or fewer, such as a console read reused
    instead of made again, would change every later instance's IP address. The same characters, the same length.
    Suggested to moto: `choices(k=52)` from a generator of the request ids' own."""
    generated = "".join(_request_ids.choices(_REQUEST_ID_CHARACTERS, k=52))
    if isinstance(headerdict, dict):
        headerdict["x-amzn-requestid"] = generated
    return generated


# -- CloudFormation templates: read with libyaml, once per text ------------------------------------------------------
class _MotoCLoader(yaml.CLoader):  # type: ignore[misc]
    """yaml.Loader's constructors and resolvers (moto's tag constructor among them) on libyaml's parser."""


def stack_template(template: str) -> Any:
    """moto.cloudformation.models.Stack.parse_template, with libyaml and each text read once per process.

    moto reads every stack's template with PyYAML's pure-Python yaml.Loader (even the JSON a deploy sends): 42 ms a
    deploy of the monolith, half of its CreateStack. libyaml's parser gives the same nodes to the same constructors
    (yaml.Loader's tables, moto's `!Ref`-style tag constructor included) in 3.5 ms, and a text read before is
    unpickled (0.1 ms): every call still gets objects of its own. A text libyaml refuses, or a document that is not
    plain data, is read by moto's own code, so moto's answers and errors stay its own. Suggested to moto:
    yaml.CLoader where PyYAML has it."""
    try:
        blob = _read_stack_template(template)
    except Exception:  # noqa: BLE001 (not YAML to libyaml, or not plain data: moto's own reading decides)
        return _moto["parse_template"](template)
    return pickle.loads(blob)  # noqa: S301 (bytes pickled below)


@functools.lru_cache(maxsize=32)
def _read_stack_template(template: str) -> bytes:
    """The template's document as moto's Loader reads it, on libyaml, pickled: kept per exact text."""
    yaml.add_multi_constructor("", _moto["yaml_tag_constructor"])  # as moto does before each read
    for table in ("yaml_constructors", "yaml_multi_constructors", "yaml_implicit_resolvers", "yaml_path_resolvers"):
        setattr(_MotoCLoader, table, getattr(yaml.Loader, table))
    document = yaml.load(template, Loader=_MotoCLoader)  # noqa: S506 (moto's own Loader, on libyaml)
    return pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL)


def _stack_template_patches() -> list[Callable[[], Callable[[], None]]]:
    from moto.cloudformation.models import Stack  # 2.3 s to import (every resource model): deploys only
    from moto.cloudformation.utils import yaml_tag_constructor

    _moto.update(yaml_tag_constructor=yaml_tag_constructor,
                 parse_template=Stack.__dict__["parse_template"].__func__)  # moto's, not installed yet
    return [lambda: patch_attribute(Stack, "parse_template", staticmethod(stack_template))]


@contextlib.contextmanager
def fast_stack_templates() -> Iterator[None]:
    """moto reads stack templates with `stack_template` while the block runs (any number of blocks at once)."""
    undo = _STACK_TEMPLATES.install()
    try:
        yield
    finally:
        undo()


def _patches() -> list[Callable[[], Callable[[], None]]]:
    from moto.core import botocore_stubber, exceptions, responses, serialize, utils  # as above
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.models.instances import InstanceBackend
    from moto.moto_api import recorder

    _moto.update(MISSING=utils.MISSING, get_value=utils.get_value,
                 pickers=(serialize.AttributePicker, serialize.XFormedAttributePicker),
                 providers=frozenset(serialize.DEFAULT_ALIAS_PROVIDERS), stubber=botocore_stubber,
                 process_request=botocore_stubber.BotocoreStubber.process_request, recorder=recorder,
                 HTTPException=exceptions.HTTPException, method_names_from_class=responses.method_names_from_class)
    method_names.cache_clear()
    return [lambda: patch_attribute(TaggedEC2Resource, "get_tags", resource_tags),
            lambda: patch_attribute(InstanceBackend, "get_instance", instance_by_id),
            lambda: patch_attribute(serialize.AttributePicker, "__call__", pick_attribute),
            lambda: patch_attribute(botocore_stubber.BotocoreStubber, "process_request", route_request),
            lambda: patch_attribute(responses, "method_names_from_class", method_names),
            lambda: patch_attribute(responses, "gen_amzn_requestid_long", request_id)]


_WORKAROUNDS = SharedPatch(applied(_patches))
_STACK_TEMPLATES = SharedPatch(applied(_stack_template_patches))


def install_moto_workarounds() -> Callable[[], None]:
    """Install every workaround (once for any number of worlds); returns this world's undo."""
    undo = _WORKAROUNDS.install()
    _url_handlers.clear()  # moto's configuration (passed-through URLs and services) is read anew per world
    _raw_urls.clear()
    return undo


# -- EC2 RunInstances for the DRS emulator's recovery instances, without the wire --------------------------------------
def run_instance(account_id: str, region: str, image_id: str, instance_type: str,
                 tags: dict[str, str]) -> dict[str, str]:
    """One instance made by in-process moto's EC2 model exactly as `RunInstances(ImageId, InstanceType, MinCount=1,
    MaxCount=1, TagSpecifications=[instance tags])` makes it; the facts a launcher returns.

    The request through botocore costs a 1,000-server drill a third of its time: moto serialises each answer (an
    instance is ~60 members, each found through moto's attribute aliases) and botocore parses the XML back, only for
    the launcher to read four fields. The keyword arguments are those moto's EC2 response handler
    (moto.ec2.responses.instances.InstanceResponse.run_instances) passes for such a request, but one:
    `is_instance_type_default`, which (without a launch template) only decides whether the type is matched against
    every offering of the region (1,270 filter matches a launch, 7% of a 1,000-server side), a match moto uses only
    to refuse an unknown type when MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION is set: it is skipped when it is not.
    Suggested to moto: match the offerings only when validating."""
    from moto import settings  # as above
    from moto.ec2.models import ec2_backends

    validated = settings.EC2_ENABLE_INSTANCE_TYPE_VALIDATION
    reservation = ec2_backends[account_id][region].run_instances(
        image_id, 1, None, [], instance_type=instance_type, is_instance_type_default=not validated, placement=None,
        placement_hostid=None, region_name=region, subnet_id=None, key_name=None, security_group_ids=[], nics=[],
        private_ip=None, associate_public_ip=None, tags={"instance": dict(tags)}, ebs_optimized=False,
        disable_api_stop=False, instance_market_options={}, instance_initiated_shutdown_behavior=None,
        launch_template={}, hibernation_options={}, iam_instance_profile_name=None, iam_instance_profile_arn=None,
        monitoring_state="disabled", ipv6_address_count=None, metadata_options={}, client_token="ABCDE")
    instance = reservation.instances[0]
    return {"instanceId": instance.id, "privateIp": instance.private_ip, "instanceType": instance.instance_type,
            "privateDnsName": instance.private_dns_name}
