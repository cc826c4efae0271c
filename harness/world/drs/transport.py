"""How clients reach the DRS emulator: in-process botocore adapter and loopback HTTP server, given its handler."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse

from drs_parity.world import botohooks

from .responses import WireResponse

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


# -- loopback HTTP -----------------------------------------------------------------------------------------------------
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


def _request_handler_for(handle: Handle) -> type[BaseHTTPRequestHandler]:
    class DrsRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
        disable_nagle_algorithm = True  # headers and body are two writes: without this each answer waits ~40 ms

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = handle(self.command, url.path, url.query, dict(self.headers.items()), body)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # requests are recorded by the emulator instead
            return

    return DrsRequestHandler


def serve_http(handle: Handle, host: str = "127.0.0.1", port: int = 0) -> DrsServer:
    httpd = ThreadingHTTPServer((host, port), _request_handler_for(handle))
    httpd.daemon_threads = True
    # a short poll interval keeps stop() fast (shutdown waits for the serve loop to notice)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              name=f"drs-emulator-{httpd.server_address[1]}", daemon=True)
    thread.start()
    return DrsServer(httpd, thread)
