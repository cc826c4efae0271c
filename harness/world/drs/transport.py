"""How clients reach the DRS emulator: in-process botocore adapter and loopback HTTP server, given its handler."""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any, BinaryIO, Callable, Iterator, Mapping, Protocol
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse

from drs_parity.world import botohooks

from .responses import MAX_BODY_BYTES, WireResponse, too_large

Handle = Callable[[str, str, str, dict[str, str], bytes], WireResponse]
# moto answers "404 Not yet implemented" for amazonaws.com URLs it has no backend for; DRS must get past it.


# -- in-process --------------------------------------------------------------------------------------------------------
class _RawBody(BytesIO):
    """The raw stream botocore reads an AWSResponse body from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        if chunk:
            yield chunk


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, "read"):
        return body.read()
    return bytes(body)


def _text_headers(headers: Any) -> dict[str, str]:
    return {key: value.decode() if isinstance(value, bytes) else str(value) for key, value in headers.items()}


def install_inprocess(handle: Handle) -> Callable[[], None]:
    """Serve every boto3 `drs` request in this process with `handle`; returns the unregister function."""

    def before_send(request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        status, headers, body = handle(request.method, url.path, url.query, _text_headers(request.headers),
                                       _body_bytes(request.body))
        return AWSResponse(request.url, status, headers, _RawBody(body))

    # botohooks puts its dispatchers ahead of moto's stubber, so this answer wins even under mock_aws
    return botohooks.register("before-send", before_send, service="drs")


# -- loopback HTTP: reading a request body the way a real endpoint does ------------------------------------------------
IDLE_TIMEOUT_SECONDS = 60.0  # as a load balancer's idle timeout: a client that stops sending is let go
LINGER_SECONDS = 1.0  # after a refusal, how long to discard what the client still sends (so it is not reset)
_MAX_CHUNK_LINE = 1024
_MAX_TRAILER_LINES = 100
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # methods whose request must declare its body's framing
_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(rb"[0-9a-fA-F]{1,16}")


class Refusal(Exception):
    """A request the transport will not pass on: its HTTP status and why, for the error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def declared_length(method: str, headers: Message) -> int | None:
    """Content-Length as a number, None for a chunked body; Refusal for a length that is missing or not a number."""
    codings = [coding.strip().lower() for value in headers.get_all("Transfer-Encoding", [])
               for coding in value.split(",")]
    if codings:
        if codings != ["chunked"]:
            raise Refusal(400, f"Transfer-Encoding {', '.join(codings)} is not supported (use chunked)")
        return None
    values = {part.strip() for value in headers.get_all("Content-Length", []) for part in value.split(",")}
    if not values:
        if method in _BODY_METHODS:
            raise Refusal(400, f"Content-Length is required on a {method} request")
        return 0
    text = ", ".join(sorted(values))
    if not _DIGITS.fullmatch(text):  # also "5, 6": two lengths for one body
        raise Refusal(400, f"Content-Length must be one non-negative integer, got {text[:40]!r}")
    if len(text) > 18 or int(text) > MAX_BODY_BYTES:  # int() of thousands of digits is refused by Python itself
        raise Refusal(413, too_large(f"{text[:20]} bytes"))
    return int(text)


def _read_exactly(rfile: BinaryIO, size: int, what: str) -> bytes:
    data = rfile.read(size)
    if len(data) < size:
        raise Refusal(400, f"{what} ended after {len(data)} of {size} bytes")
    return data


def _read_line(rfile: BinaryIO, what: str) -> bytes:
    line = rfile.readline(_MAX_CHUNK_LINE + 1)
    if len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n"):
        raise Refusal(400, f"malformed chunked body: {what} line too long or cut short")
    return line.strip()


def read_chunked(rfile: BinaryIO) -> bytes:
    """A Transfer-Encoding: chunked body, chunk by chunk, refused once it passes MAX_BODY_BYTES."""
    body = bytearray()  # one buffer: a list of tiny chunks would cost far more memory than their bytes
    while True:
        size_text = _read_line(rfile, "chunk size").split(b";")[0].strip()
        if not _HEX.fullmatch(size_text):
            raise Refusal(400, f"malformed chunked body: chunk size {size_text[:20]!r} is not hexadecimal")
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > MAX_BODY_BYTES:
            raise Refusal(413, too_large("more bytes (chunked)"))
        body += _read_exactly(rfile, size, "chunk")
        if _read_exactly(rfile, 2, "chunk end") != b"\r\n":
            raise Refusal(400, "malformed chunked body: a chunk is not followed by CRLF")
    for _ in range(_MAX_TRAILER_LINES):
        if not _read_line(rfile, "trailer"):
            return bytes(body)
    raise Refusal(400, f"malformed chunked body: more than {_MAX_TRAILER_LINES} trailer lines")


def read_body(method: str, headers: Message, rfile: BinaryIO) -> bytes:
    """The request's body as its headers frame it; Refusal (400, 408, 413) for one that cannot be read."""
    length = declared_length(method, headers)
    try:
        if length is None:
            return read_chunked(rfile)
        return _read_exactly(rfile, length, "body") if length else b""
    except TimeoutError:
        raise Refusal(408, f"request body not received within {IDLE_TIMEOUT_SECONDS:g} seconds") from None


# -- loopback HTTP: the server -----------------------------------------------------------------------------------------
class Endpoint(Protocol):
    """What the loopback server answers with: `handle` for a readable request, `refuse` for one it cannot read."""

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> WireResponse: ...

    def refuse(self, status: int, message: str, headers: Mapping[str, str]) -> WireResponse: ...


class DrsServer:
    """A running loopback HTTP server: `url`, `port`, `stop()`."""

    def __init__(self, httpd: ThreadingHTTPServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self.host, self.port = httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Httpd(ThreadingHTTPServer):
    """One thread per connection, none of which keeps the process alive."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # a client that went away: routine
            return
        super().handle_error(request, client_address)


def _request_handler_for(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    class DrsRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
        disable_nagle_algorithm = True  # headers and body are two writes: without this each answer waits ~40 ms
        timeout = IDLE_TIMEOUT_SECONDS

        def _serve(self) -> None:
            try:
                url = urlsplit(self.path)
                body = read_body(self.command, self.headers, self.rfile)
            except Refusal as refusal:
                self._refuse(refusal.status, refusal.message)
                return
            except ValueError:  # urlsplit: a target such as "//[" is not a URL
                self._refuse(400, f"request target {self.path[:100]!r} is not a URL path")
                return
            self._answer(endpoint.handle(self.command, url.path, url.query, dict(self.headers.items()), body))

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

        def _answer(self, response: WireResponse) -> None:
            status, headers, payload = response
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _refuse(self, status: int, message: str) -> None:
            """Answer in DRS's error shape, then close: what follows on this connection cannot be trusted."""
            self.close_connection = True
            request_headers = dict(self.headers.items()) if getattr(self, "headers", None) else {}
            status, headers, payload = endpoint.refuse(status, message, request_headers)
            self._answer((status, {**headers, "Connection": "close"}, payload))
            self._linger()

        def _linger(self) -> None:
            """Stop sending, then discard what the client still sends for a moment: it reads our answer, not a reset."""
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(LINGER_SECONDS / 4)
                deadline = time.monotonic() + LINGER_SECONDS
                while time.monotonic() < deadline and self.connection.recv(65536):
                    pass
            except OSError:  # the client already left, or stayed silent until the timeout
                pass

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """http.server's own refusals (bad request line, headers, version, method) in DRS's error shape too."""
            if self.request_version == "HTTP/0.9":  # its default before a request line is understood: no status line
                self.request_version = self.protocol_version
            self._refuse(code, message or self.responses.get(code, ("Bad request",))[0])

        def handle_expect_100(self) -> bool:
            try:  # a body that will be refused is not invited
                declared_length(self.command, self.headers)
            except Refusal:
                return True
            return super().handle_expect_100()

        def log_message(self, format: str, *args: Any) -> None:  # requests are recorded by the emulator instead
            return

    return DrsRequestHandler


def serve_http(endpoint: Endpoint, host: str = "127.0.0.1", port: int = 0) -> DrsServer:
    """Serve `endpoint` on host:port (0 picks a free port); OSError if the port cannot be bound."""
    httpd = _Httpd((host, port), _request_handler_for(endpoint))
    # a short poll interval keeps stop() fast (shutdown waits for the serve loop to notice)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              name=f"drs-emulator-{httpd.server_address[1]}", daemon=True)
    thread.start()
    return DrsServer(httpd, thread)
