"""moto's requests built without EnvironBuilder: the environ and request moto's own from_primitives makes, always."""

from __future__ import annotations

import io
from typing import Any, Iterator

import pytest
from botocore.awsrequest import HeadersDict
from moto.core.request import Request

from drs_parity.world import fast_requests
from drs_parity.world.world import World

JSON = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Query",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=content-type;host;x-amz-date, Signature=00", "X-Amz-Date": "20260101T000000Z",
        "Content-Length": "2", "User-Agent": b"Boto3/1.44 md/Botocore"}
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Content-Length": "40"}
PLAIN = [  # (method, url, headers, body): what botocore sends, and the corners EnvironBuilder treats apart
    ("POST", "https://dynamodb.us-east-1.amazonaws.com/", JSON, b'{"TableName": "t", "Limit": 1}'),
    ("POST", "https://ec2.us-east-1.amazonaws.com/", FORM, "Action=DescribeInstances&Version=2016-11-15"),
    ("POST", "https://ec2.us-east-1.amazonaws.com/", FORM, b""),  # an empty form: its length is written, 0
    ("GET", "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f-1/configuration", {}, None),
    ("GET", "https://drs.us-east-1.amazonaws.com/tags/arn:aws:drs:us-east-1:1:job/j-1?a=b&c=%2F%20d", {}, b""),
    ("POST", "http://127.0.0.1:4566/", {**JSON, "Host": "other:80"}, b"{}"),  # a Host header wins over the URL's
    ("PUT", "https://s3.amazonaws.com/b/k", {"x-amz-meta-my_key": "v", "Transfer-Encoding": "chunked"}, b"x"),
    ("POST", "https://sts.amazonaws.com/", {"X-Twice": "1", "x-twice": "2", "content-type": "text/plain"}, "é"),
]
NOT_PLAIN = [  # moto's own code builds these
    ("GET", "https://s3.amazonaws.com/b/a%20key", {}, None),  # a percent-escape: unquoted into PATH_INFO
    ("GET", "https://s3.amazonaws.com/b/a;p", {}, None),  # urlparse's path parameters
    ("GET", "https://s3.amazonaws.com//b", {}, None),  # a path werkzeug would read as a host
    ("GET", "https://S3.amazonaws.com/b", {}, None),  # a host werkzeug's IRI encoding may change
    ("PUT", "https://s3.amazonaws.com/b/k", {}, io.BytesIO(b"streamed")),  # a file-like body
    ("POST", "https://sts.amazonaws.com/", {"X-Bad": "a\nb"}, b""),  # werkzeug refuses a header with a newline
]


def moto_request(method: str, url: str, headers: Any, body: Any) -> Request:
    """The request moto's own from_primitives builds (the one the fast path replaces while a world runs)."""
    if hasattr(body, "seek"):
        body.seek(0)
    return Request.__dict__["from_primitives"].__func__(Request, method, url, headers, body)


def comparable(request: Request) -> dict[str, Any]:
    body = {"data": request.data, "length": request.content_length, "form": request.form.to_dict(flat=False),
            "files": request.files.to_dict(flat=False), "values": request.values.to_dict(flat=False),
            "stream": (type(request.stream), request.stream.read()), "bytes": request.get_data()}  # as moto reads it
    environ = dict(request.environ)
    environ["wsgi.input"] = request.get_data()  # a stream of its own each time: compare what it holds
    if environ.get("werkzeug.request") is request:  # werkzeug's reference back to the request reading the environ
        environ["werkzeug.request"] = "itself"
    return {"environ": list(environ.items()), "headers": list(request.headers.items()), "url": request.raw_url,
            "path": request.raw_path, "args": request.args.to_dict(flat=False), "body": body}


@pytest.fixture
def fast() -> Iterator[None]:
    undo = fast_requests.install_fast_requests()
    yield
    undo()


@pytest.mark.parametrize("method, url, headers, body", PLAIN)
def test_a_plain_request_is_written_directly_as_moto_builds_it(method: str, url: str, headers: Any, body: Any,
                                                               fast: None) -> None:
    assert fast_requests.plain_environ(method, url, headers, body) is not None
    assert comparable(Request.from_primitives(method, url, headers, body)) == \
        comparable(moto_request(method, url, headers, body))


def test_a_body_that_is_no_form_is_read_ahead_and_a_form_is_left_to_werkzeug(fast: None) -> None:
    (query, _, _, query_body), (form, _, _, form_body) = PLAIN[0], PLAIN[1]
    json_request = Request.from_primitives(query, PLAIN[0][1], PLAIN[0][2], query_body)
    form_request = Request.from_primitives(form, PLAIN[1][1], PLAIN[1][2], form_body)
    assert {"content_length", "stream", "form", "files"} <= json_request.__dict__.keys()
    assert json_request._cached_data == query_body  # type: ignore[attr-defined]
    assert not {"content_length", "stream", "form", "files", "_cached_data"} & form_request.__dict__.keys()


@pytest.mark.parametrize("method, url, headers, body", NOT_PLAIN)
def test_any_other_request_is_built_by_moto(method: str, url: str, headers: Any, body: Any, fast: None) -> None:
    assert fast_requests.plain_environ(method, url, headers, body) is None
    if "X-Bad" in headers:
        with pytest.raises(ValueError):
            Request.from_primitives(method, url, headers, body)
        return
    assert comparable(Request.from_primitives(method, url, headers, body)) == \
        comparable(moto_request(method, url, headers, body))


def test_every_request_of_a_world_is_built_as_moto_builds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str, Any, Any]] = []
    written = fast_requests.plain_environ

    def recording(method: str, url: str, headers: Any, body: Any) -> dict[str, Any] | None:
        seen.append((method, url, HeadersDict(headers), body))
        return written(method, url, headers, body)

    monkeypatch.setattr(fast_requests, "plain_environ", recording)
    with World("moto") as world:
        dynamodb, ec2 = world.client("dynamodb"), world.client("ec2")
        dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        dynamodb.put_item(TableName="t", Item={"k": {"S": "é"}})
        dynamodb.query(TableName="t", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": {"S": "é"}})
        ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)
        ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["a b/c"]}])
        world.client("lambda").list_functions()
        world.client("sts").get_caller_identity()
        made = list(seen)
        monkeypatch.setattr(fast_requests, "plain_environ", written)  # the requests built again are not recorded
        assert len(made) == 7 and all(written(*request) is not None for request in made)
        for method, url, headers, body in made:
            assert comparable(Request.from_primitives(method, url, headers, body)) == \
                comparable(moto_request(method, url, headers, body))


def test_moto_builds_its_requests_again_after_the_last_world() -> None:
    moto_own = Request.__dict__["from_primitives"]
    with World("moto"):
        assert Request.__dict__["from_primitives"] is not moto_own
    assert Request.__dict__["from_primitives"] is moto_own
