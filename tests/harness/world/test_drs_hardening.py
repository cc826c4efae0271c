"""The loopback DRS endpoint against bad clients: bad framing is a 400, an oversized body a 413, memory is bounded."""

from __future__ import annotations

import gc
import http.client
import json
import random
import socket
import time
import tracemalloc
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drs_parity.world.clock import VirtualClock
from drs_parity.world.drs import DrsEmulator, DrsServer, transport
from drs_parity.world.drs.responses import MAX_BODY_BYTES, MAX_RECORDED_PARAMS_BYTES, RequestLog

WEB = "s-0000000000000000a"
SERVERS = [{"sourceServerId": WEB, "hostname": "web-01", "launch": {"status": "LAUNCHED", "seconds": 60}}]
REQUESTS = 1_000
# An unbounded record would keep each of the flood's 125 near-limit bodies: over 250 MB on either measure.
KEPT_GROWTH_BOUND_MB = 8  # Python objects still allocated after the flood (tracemalloc): the record's entries
RSS_GROWTH_BOUND_MB = 64  # the process: the C allocator may keep some freed 2 MiB buffers per thread arena
FLOOD_SECONDS_BOUND = 120


@pytest.fixture
def drs() -> Iterator[tuple[DrsEmulator, DrsServer]]:
    emulator = DrsEmulator(VirtualClock())
    emulator.load({"jobStartSeconds": 30, "jobEndSeconds": 20}, SERVERS)
    server = emulator.serve()
    yield emulator, server
    server.stop()
    emulator.close()


def client(url: str | None, validate: bool = True) -> Any:
    config = Config(retries={"total_max_attempts": 1}, parameter_validation=validate)
    return boto3.client("drs", region_name="us-east-1", endpoint_url=url, config=config,
                        aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="dummy")


def exchange(port: int, raw: bytes, stop_sending: bool = True) -> bytes:
    """Send `raw` over a fresh loopback connection and read until the server closes it (5 s at most)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        if stop_sending:
            sock.shutdown(socket.SHUT_WR)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    return bytes(received)


def error_answer(response: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """(status, headers, error body) of one whole response that must be a DRS error."""
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    assert status_line.startswith(("HTTP/1.1 4", "HTTP/1.1 5")), response[:200]
    assert headers["x-amzn-ErrorType"] == "ValidationException" and int(headers["Content-Length"]) == len(body)
    return int(status_line.split()[1]), headers, json.loads(body)


def refusal(response: bytes) -> tuple[int, str]:
    """(status, message) of one refusal: DRS's error shape, and the server closes the connection."""
    status, headers, error = error_answer(response)
    assert headers["Connection"] == "close" and set(error) == {"message", "reason"}, (headers, error)
    assert error["reason"] == "cannotParse"
    return status, error["message"]


def post(headers: str, body: bytes = b"", path: str = "/DescribeJobs") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode() + body


def chunked(body: bytes) -> bytes:
    return post("Transfer-Encoding: chunked\r\n", body)


# -- one of each: the status and what the message says ---------------------------------------------------------------
CASES = {
    "non-numeric length": (post("Content-Length: abc\r\n", b"{}"), 400, "Content-Length must be"),
    "negative length": (post("Content-Length: -5\r\n", b"{}"), 400, "'-5'"),
    "float length": (post("Content-Length: 1e3\r\n", b"{}"), 400, "'1e3'"),
    "two lengths": (post("Content-Length: 2\r\nContent-Length: 3\r\n", b"{}"), 400, "one non-negative integer"),
    "missing length": (post("", b'{"filters": {}}'), 400, "Content-Length is required on a POST"),
    "oversized length": (post(f"Content-Length: {10 * 2**20}\r\n", b"{" * 65536), 413, f"limit of {MAX_BODY_BYTES}"),
    "5000-digit length": (post(f"Content-Length: {'9' * 5000}\r\n"), 413, "exceeds the limit"),
    "truncated body": (post("Content-Length: 100\r\n", b'{"filters"'), 400, "body ended after 10 of 100 bytes"),
    "chunk size not hex": (chunked(b"zz\r\n{}\r\n0\r\n\r\n"), 400, "not hexadecimal"),
    "chunk without CRLF": (chunked(b"2\r\n{}XX0\r\n\r\n"), 400, "not followed by CRLF"),
    "chunk cut short": (chunked(b"10\r\n{}"), 400, "chunk ended after 2 of 16 bytes"),
    "no last chunk": (chunked(b"2\r\n{}\r\n"), 400, "cut short"),
    "oversized chunk": (chunked(b"FFFFFFFF\r\n{}"), 413, "exceeds the limit"),
    "gzip coding": (post("Transfer-Encoding: gzip\r\n"), 400, "gzip is not supported"),
    "random bytes": (b"\x00\xff\x13garbage\r\n\r\n", 400, "Bad request syntax"),
    "101 headers": (post("".join(f"X-{n}: v\r\n" for n in range(101))), 431, "Too many headers"),
    "70 KB request line": (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "URI Too Long"),
    "unknown method": (b"BREW /DescribeJobs HTTP/1.1\r\n\r\n", 501, "Unsupported method ('BREW')"),
    "HTTP/2.0": (b"GET / HTTP/2.0\r\n\r\n", 505, "Invalid HTTP version"),
}


@pytest.mark.parametrize("raw, status, message", CASES.values(), ids=CASES.keys())
def test_a_request_that_cannot_be_read_is_refused_in_drs_error_shape(
        drs: tuple[DrsEmulator, DrsServer], capfd: pytest.CaptureFixture[str], raw: bytes, status: int,
        message: str) -> None:
    emulator, server = drs
    answered, text = refusal(exchange(server.port, raw))
    assert answered == status and message in text, text
    assert emulator.requests[-1]["status"] == status and emulator.requests[-1]["operation"] == "Unknown"
    assert "Traceback" not in capfd.readouterr().err


def test_a_chunked_body_is_read(drs: tuple[DrsEmulator, DrsServer]) -> None:
    emulator, server = drs
    job = client(server.url).start_recovery(sourceServers=[{"sourceServerID": WEB}])["job"]["jobID"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    body = json.dumps({"filters": {"jobIDs": [job]}}).encode()
    pieces = iter([body[:5], body[5:17], body[17:]])
    connection.request("POST", "/DescribeJobs", body=pieces, encode_chunked=True,
                       headers={"Transfer-Encoding": "chunked"})
    answer = connection.getresponse()
    assert answer.status == 200 and [item["jobID"] for item in json.loads(answer.read())["items"]] == [job]
    connection.close()
    assert emulator.requests[-1]["params"] == {"filters": {"jobIDs": [job]}}


def test_a_body_with_trailers_and_extensions_is_read(drs: tuple[DrsEmulator, DrsServer]) -> None:
    _, server = drs
    raw = chunked(b"2;name=value\r\n{}\r\n0\r\nX-Checksum: none\r\n\r\n")
    assert exchange(server.port, raw).startswith(b"HTTP/1.1 200 OK")


def test_an_oversized_body_after_expect_100_continue_is_refused_without_inviting_it(
        drs: tuple[DrsEmulator, DrsServer]) -> None:
    _, server = drs
    response = exchange(server.port, post(f"Content-Length: {MAX_BODY_BYTES + 1}\r\nExpect: 100-continue\r\n"))
    assert response.startswith(b"HTTP/1.1 413 ") and b"100 Continue" not in response


def test_a_client_that_stops_sending_its_body_gets_408(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "IDLE_TIMEOUT_SECONDS", 0.3)
    emulator = DrsEmulator(VirtualClock())
    server = emulator.serve()
    try:
        started = time.monotonic()
        response = exchange(server.port, post("Content-Length: 100\r\n", b"{"), stop_sending=False)
        assert refusal(response) == (408, "request body not received within 0.3 seconds")
        assert time.monotonic() - started < 3
    finally:
        server.stop()


@pytest.mark.parametrize("transport_kind", ["inprocess", "http"])
def test_boto3_gets_413_for_an_oversized_request_on_either_transport(transport_kind: str) -> None:
    emulator = DrsEmulator(VirtualClock())
    server = emulator.serve() if transport_kind == "http" else None
    uninstall = emulator.install_inprocess() if server is None else server.stop
    try:
        job_ids = [f"drsjob-{n:017x}" for n in range(100_000)]  # about 3 MB of JSON
        with pytest.raises(ClientError) as info:
            client(server.url if server else None, validate=False).describe_jobs(filters={"jobIDs": job_ids})
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        assert info.value.response["Error"]["Code"] == "ValidationException"
    finally:
        uninstall()


# -- the record of requests is bounded -------------------------------------------------------------------------------
def test_the_log_keeps_the_newest_requests_and_counts_them_all() -> None:
    log = RequestLog(max_count=3, max_bytes=10**9)
    for n in range(5):
        log.add({"n": n}, 0)
    assert [entry["n"] for entry in log.entries()] == [2, 3, 4] and log.served == 5


def test_the_log_drops_the_oldest_requests_past_its_memory_budget() -> None:
    log = RequestLog(max_count=100, max_bytes=4 * (1024 + 100_000))
    for n in range(10):
        log.add({"n": n, "params": {"big": "x"}}, 100_000)
    assert [entry["n"] for entry in log.entries()] == [6, 7, 8, 9]


def test_a_request_whose_params_are_too_large_to_keep_is_recorded_without_them() -> None:
    emulator = DrsEmulator(VirtualClock())
    body = json.dumps({"filters": {"jobIDs": ["x" * MAX_RECORDED_PARAMS_BYTES]}}).encode()
    status, _, _ = emulator.handle("POST", "/DescribeJobs", "", {}, body)
    recorded = emulator.requests[-1]
    assert status == 400 and recorded["operation"] == "DescribeJobs" and recorded["error"] == "ValidationException"
    assert list(recorded["params"]) == ["omitted"] and "bytes" in recorded["params"]["omitted"]


# -- a flood of bad requests, then a good one ------------------------------------------------------------------------
def _flood_kinds(rng: random.Random) -> list[Callable[[], bytes]]:
    near_limit = json.dumps({"filters": {"jobIDs": ["x" * (MAX_BODY_BYTES - 100)]}}).encode()
    return [
        lambda: post(f"Content-Length: {rng.choice(['abc', '1e3', '0x10', ' ', '5, 6', '+7'])}\r\n", b"{}"),
        lambda: post(f"Content-Length: -{rng.randint(1, 10**9)}\r\n", b"{}"),
        lambda: post("", b'{"filters": {}}'),
        lambda: chunked(rng.choice([b"zz\r\n{}\r\n", b"2\r\n{}XX", b"10\r\n{}", b"2\r\n{}\r\n", b"-1\r\n"])),
        lambda: post(f"Content-Length: {rng.randint(MAX_BODY_BYTES + 1, 10**12)}\r\n", b"{" * 65536),
        lambda: post("Content-Length: 1000\r\n", b'{"filters": {"jobIDs": ["drsjob-'),
        lambda: b"X" + rng.randbytes(rng.randint(1, 4096)),
        lambda: post(f"Content-Length: {len(near_limit)}\r\n", near_limit),  # read in full, refused, not kept
    ]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def test_a_thousand_bad_requests_leave_the_endpoint_answering_in_bounded_memory(
        drs: tuple[DrsEmulator, DrsServer], capfd: pytest.CaptureFixture[str]) -> None:
    emulator, server = drs
    drs_client = client(server.url)
    job = drs_client.start_recovery(sourceServers=[{"sourceServerID": WEB}])["job"]["jobID"]
    kinds = _flood_kinds(random.Random(14))
    for kind in kinds:  # warm up: every code path once, so what follows measures growth, not first use
        error_answer(exchange(server.port, kind()))
    gc.collect()
    tracemalloc.start()
    try:
        served, kept_before, rss_before = emulator.requests_served, tracemalloc.get_traced_memory()[0], rss_mb()
        started = time.monotonic()
        statuses = [error_answer(exchange(server.port, kinds[n % len(kinds)]()))[0] for n in range(REQUESTS)]
        elapsed = time.monotonic() - started
        gc.collect()
        kept, growth = (tracemalloc.get_traced_memory()[0] - kept_before) / 2**20, rss_mb() - rss_before
    finally:
        tracemalloc.stop()
    items = drs_client.describe_jobs(filters={"jobIDs": [job]})["items"]
    assert "Traceback" not in capfd.readouterr().err
    print(f"{REQUESTS} bad requests in {elapsed:.1f} s; kept {kept:.1f} MB; RSS grew {growth:.1f} MB")
    assert [(item["jobID"], item["participatingServers"][0]["sourceServerID"]) for item in items] == [(job, WEB)]
    assert set(statuses) == {400, 413} and statuses.count(413) == REQUESTS // len(kinds)
    assert emulator.requests_served == served + REQUESTS + 1
    assert kept < KEPT_GROWTH_BOUND_MB and growth < RSS_GROWTH_BOUND_MB and elapsed < FLOOD_SECONDS_BOUND
