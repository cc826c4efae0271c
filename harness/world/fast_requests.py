"""moto's in-process requests built without werkzeug's EnvironBuilder: the same WSGI environ, written directly."""

# moto turns every botocore request into a werkzeug Request (moto.core.request.Request.from_primitives) through
# werkzeug's EnvironBuilder, a general test-client tool: IRI quoting, a Headers object copied twice, properties
# reflected to and from headers. That is 11% of a small DynamoDB Query into in-process moto, and the finder's every
# tick makes two. For the requests botocore sends (a bytes or text body, an ASCII path and query that need no
# quoting, string headers), the environ EnvironBuilder writes is a fixed recipe: written here key by key, in its
# order. Any other request (a file-like or chunked body, percent-escapes, a multipart form) is built by moto's code.
# moto then reads every body through werkzeug's Request.data: a form parser made per request, the length looked up
# among the headers (a KeyError raised for the Transfer-Encoding such a request never has), 4% of a Query. A body that
# is no form is read ahead here into the same state (`_read_body_ahead`).
# tests/harness/world/test_fast_requests.py compares both environs on every request of a world's run.

from __future__ import annotations

import re
import sys
from collections import defaultdict
from io import BytesIO
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from werkzeug.wsgi import LimitedStream

from drs_parity.world.shared_patch import SharedPatch, patch_attribute

# what werkzeug's iri_to_uri leaves as it is and unquote does not change: no "%", nothing outside ASCII
_PLAIN_PATH = re.compile(r"(?!//)[A-Za-z0-9_.~!$&'()*+,/:=@-]*")  # no ";" (urlparse's params), no "//" start
_PLAIN_QUERY = re.compile(r"[\x20-\x7e]*")
_PLAIN_HOST = re.compile(r"[a-z0-9.-]+(:[1-9][0-9]*)?")
_ENVIRON_HEADERS = ("content-type", "content-length")  # environ keys of their own, never HTTP_*
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")  # werkzeug parses these into `form`
_moto: dict[str, Any] = {}  # moto's own from_primitives and header helpers, bound when the patch installs


def request_from_primitives(cls: type, method: str, url: str, headers: Mapping[str, Any], body: Any = None) -> Any:
    """moto.core.request.Request.from_primitives, with the environ written directly when the request is plain."""
    environ = plain_environ(method, url, headers, body)
    if environ is None:
        return _moto["from_primitives"](cls, method, url, headers, body)
    request = cls(environ)
    environ[_moto["PRESERVED_KEY"]] = {_moto["environ_key"](key): key for key in _header_names(headers)
                                       if _moto["preserve"](key)}
    environ.setdefault("CONTENT_LENGTH", "0")
    _read_body_ahead(request, environ)
    return request


def _read_body_ahead(request: Any, environ: dict[str, Any]) -> None:
    """What werkzeug's Request.data leaves on a request whose body is no form: its length, the input stream (limited
    to that length) read to its end, an empty form and files, the bytes cached. A form, a compressed body (moto
    swaps the stream to decompress it) or a request with a maximum length are left to werkzeug."""
    mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    if mimetype in _FORM_TYPES or "HTTP_CONTENT_ENCODING" in environ or request.max_content_length is not None:
        return
    length = int(environ["CONTENT_LENGTH"])  # written by plain_environ (the body's length) or 0
    stream = LimitedStream(environ["wsgi.input"], length)
    request.__dict__.update(content_length=length, stream=stream, form=request.parameter_storage_class(),
                            files=request.parameter_storage_class())
    request._cached_data = stream.read()


def _header_names(headers: Mapping[str, Any]) -> list[str]:
    return [key for key in headers.keys() if key.lower() != "transfer-encoding"]


def plain_environ(method: str, url: str, headers: Mapping[str, Any], body: Any) -> dict[str, Any] | None:
    """The environ werkzeug's EnvironBuilder writes for moto's from_values call; None for a request not plain."""
    data = body.encode() if isinstance(body, str) else (b"" if body is None else body)
    items = _header_items(headers)
    if not isinstance(data, bytes) or items is None:
        return None
    scheme, netloc, path, query, fragment = urlsplit(url)
    if scheme not in ("http", "https") or fragment or not _PLAIN_HOST.fullmatch(netloc) \
            or not _PLAIN_PATH.fullmatch(path) or not _PLAIN_QUERY.fullmatch(query):
        return None
    content_type = next((value for key, value in items if key.lower() == "content-type"), None)
    mimetype = content_type.partition(";")[0].strip() if content_type else None
    if not data and mimetype == "multipart/form-data":
        return None
    host, _, port = netloc.partition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "REQUEST_URI": path, "RAW_URI": path, "SERVER_NAME": host,
        "SERVER_PORT": port or ("443" if scheme == "https" else "80"), "HTTP_HOST": netloc,
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.url_scheme": scheme,
        "wsgi.input": BytesIO(data), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": False, "wsgi.run_once": False}
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if data or mimetype == "application/x-www-form-urlencoded":  # werkzeug measures the body (an empty form: 0)
        environ["CONTENT_LENGTH"] = str(len(data))
    environ.update(_http_headers(items))
    return environ


def _header_items(headers: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    """moto's header list (bytes values decoded, Transfer-Encoding dropped); None when werkzeug would change one."""
    items = []
    for key, value in headers.items():
        if key.lower() == "transfer-encoding":
            continue
        value = value.decode("utf-8") if isinstance(value, bytes) else value
        if not isinstance(key, str) or not isinstance(value, str) or "\n" in value or "\r" in value:
            return None
        items.append((key, value))
    return items


def _http_headers(items: list[tuple[str, str]]) -> dict[str, str]:
    """Every header but the two the environ holds apart, as HTTP_* keys; a repeated header's values joined."""
    combined: defaultdict[str, list[str]] = defaultdict(list)
    for key, value in items:
        if key.lower() not in _ENVIRON_HEADERS:
            combined[f"HTTP_{key.upper().replace('-', '_')}"].append(value)
    return {key: ", ".join(values) for key, values in combined.items()}


def _swap_builder() -> Callable[[], None]:
    from moto.core import request  # moto's core: only a moto world needs it

    _moto.update(from_primitives=request.Request.__dict__["from_primitives"].__func__,
                 PRESERVED_KEY=request.PRESERVED_HEADER_NAMES_ENVIRON_KEY, environ_key=request.environ_key_for_header,
                 preserve=request.should_preserve_original_header_name)
    return patch_attribute(request.Request, "from_primitives", classmethod(request_from_primitives))


_PATCH = SharedPatch(_swap_builder)


def install_fast_requests() -> Callable[[], None]:
    """Build moto's requests with `request_from_primitives` until every world that installed it has undone it."""
    return _PATCH.install()
