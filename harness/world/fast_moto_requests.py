"""moto's per-request setup doing less: a JSON body or an Authorization header seen again is not read again."""

# moto parses every request's parameters (BaseResponse.parse_parameters: the service model, the operation's input
# shape walked member by member, each scalar through its type's handler) before the action runs: 5% of the finder's
# Query into in-process moto, and the finder sends the same two bodies every virtual minute. For the JSON protocols
# (DynamoDB, and the other services moto answers with x-amz-json) the parameters depend on the response class, the
# operation and the body alone: what moto parsed from a body it has now seen twice is kept pickled, and every later
# request with that body gets its own unpickled copy (moto's actions may change the dict they are given); a body
# seen for the first or second time is parsed by a plan made once per input shape (json_request_plans: 3.6 times
# faster on a poll's UpdateItem). Other protocols read the URL, headers or form: moto's own code. tests/harness/world/test_fast_moto_requests.py compares
# the parameters with moto's on every request of a world's run.
# moto also looks for the access key in the Authorization header (twice a request) with a pattern that backtracks
# over the whole header, and fails for the world's "testing" key: 1.5% of a Query. The answer depends on the header's
# text alone, which hardly changes: each text's match is remembered (`RememberedPattern`).
# Every answer's Date header is http_date(utcnow()): 12 us a request to write the same text all second long. The
# text depends on the second of the clock reading alone: the second's text is kept until the clock leaves it
# (`date_header_now` and `DateHeaders`).

from __future__ import annotations

import functools
import pickle
import re
import time
from typing import Any, Callable

from drs_parity.world.shared_patch import SharedPatch, applied, patch_attribute

_JSON_CONTENT_TYPES = frozenset({"application/x-amz-json-1.0", "application/x-amz-json-1.1"})
_MAX_BODIES = 2048  # bodies remembered (seen once, or parsed) before both tables start afresh
_seen: set[tuple[Any, ...]] = set()  # bodies seen once: a body sent once (a write's timestamps) is not pickled
_parsed: dict[tuple[Any, ...], bytes] = {}  # bodies seen twice or more -> moto's parameters for them, pickled
_moto: dict[str, Callable[..., Any]] = {}  # moto's functions this module calls, bound when the patch installs


def parse_parameters(response: Any, request: Any) -> None:
    """moto.core.responses.BaseResponse.parse_parameters, its answer for a JSON body kept from the second time on.

    Suggested to moto: a parser compiled per input shape, or this memo keyed by operation and body."""
    key = _body_key(response, request)
    if key is None:
        return _moto["parse_parameters"](response, request)
    blob = _parsed.get(key)
    if blob is not None:
        response.params = pickle.loads(blob)  # noqa: S301 (pickled below, from moto's own parse)
        return None
    planned_parse_parameters(response, request)
    if key in _seen:
        _parsed[key] = pickle.dumps(response.params, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        if len(_seen) + len(_parsed) >= _MAX_BODIES:
            forget_bodies()
        _seen.add(key)
    return None


def planned_parse_parameters(response: Any, request: Any) -> None:
    """moto's BaseResponse.parse_parameters, a JSON protocol's body walked by its planned parse (json_request_plans)."""
    service_model = _moto["get_service_model"](response.boto3_service_name)
    operation_model = service_model.operation_model(response._get_action())
    if not _moto["parses_json"](service_model, request.content_type):
        return _moto["parse_parameters"](response, request)
    _ = request.values, request.headers, request.method, request.path, response.uri_match  # what moto's reads
    response.params = _moto["planned_json_parse"](operation_model, response.PROTOCOL_PARSER_MAP_TYPE, request.data)
    return None


def _body_key(response: Any, request: Any) -> tuple[Any, ...] | None:
    """What moto's JSON parser reads for this request; None for a request of another protocol."""
    content_type = request.headers.get("Content-Type")
    if content_type not in _JSON_CONTENT_TYPES:
        return None
    return (type(response), response.boto3_service_name, response._get_action(), content_type,
            response.PROTOCOL_PARSER_MAP_TYPE, request.data)


class RememberedPattern:
    """A compiled pattern whose search() remembers its answer (a Match is read-only) for the last texts searched."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.search = functools.lru_cache(maxsize=64)(pattern.search)

    def __getattr__(self, name: str) -> Any:  # anything else a pattern offers: the pattern's own
        return getattr(self.pattern, name)


def date_header_now() -> float:
    """What moto.core.responses reads as `utcnow()` for the Date header: the clock's reading, for `DateHeaders`."""
    return time.time()


class DateHeaders:
    """moto.core.responses' `http_date`, the text of the last second it wrote kept (a reading's text is its second's).

    moto writes http_date(utcnow()), utcnow() being datetime.now(UTC) without its zone: the same clock reading as
    time.time(), and http_date writes only its second. Suggested to moto: the Date header written once a second."""

    def __init__(self, http_date: Callable[[Any], str]) -> None:
        self._http_date = http_date
        self._second, self._text = -1, ""

    def __call__(self, value: Any) -> str:
        if type(value) is not float:
            return self._http_date(value)
        second = int(value)
        if second != self._second:
            self._second, self._text = second, self._http_date(second)
        return self._text


def forget_bodies() -> None:
    """Start both tables afresh (a world starting, or the tables full)."""
    _seen.clear()
    _parsed.clear()


def _swap_parser() -> Callable[[], None]:
    # moto's core, and the plans made of its parsers: only a moto world needs them (0.3 s to import, not in the CLI's
    # start): bound here once, when the first moto world installs the patch
    from moto.core.parse import PROTOCOL_PARSERS, JSONParser
    from moto.core.request import determine_request_protocol
    from moto.core.responses import BaseResponse
    from moto.core.utils import get_service_model

    from drs_parity.world.json_request_plans import planned_json_parse

    _moto.update(parse_parameters=BaseResponse.__dict__["parse_parameters"], get_service_model=get_service_model,
                 planned_json_parse=planned_json_parse,
                 parses_json=lambda model, content_type: PROTOCOL_PARSERS[
                     determine_request_protocol(model, content_type)] is JSONParser)
    return patch_attribute(BaseResponse, "parse_parameters", parse_parameters)


def _remember_access_keys() -> Callable[[], None]:
    from moto.core.responses import BaseResponse  # as above

    return patch_attribute(BaseResponse, "access_key_regex", RememberedPattern(BaseResponse.access_key_regex))


def _remember_date_headers() -> Callable[[], None]:
    from moto.core import responses  # as above: moto's response module reads both names for the Date header alone

    undo_now = patch_attribute(responses, "utcnow", date_header_now)
    undo_date = patch_attribute(responses, "http_date", DateHeaders(responses.http_date))
    return lambda: (undo_date(), undo_now())


_PATCH = SharedPatch(applied(lambda: [_swap_parser, _remember_access_keys, _remember_date_headers]))


def install_fast_moto_requests() -> Callable[[], None]:
    """Parse moto's JSON requests with `parse_parameters`, find access keys with a RememberedPattern and write Date
    headers with DateHeaders, until every world that installed them has undone them."""
    undo = _PATCH.install()
    forget_bodies()
    return undo
