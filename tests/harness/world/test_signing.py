"""Unit: while an in-process moto world runs, SigV4 requests carry botocore's headers with an unchecked signature."""

from __future__ import annotations

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from drs_parity.world.signing import UNCHECKED_SIGNATURE, install_unchecked_signatures, signed_headers

CREDENTIALS = Credentials("AKIAEXAMPLE", "secret", "session-token")


def signed(signer_class: type[SigV4Auth], service: str = "dynamodb") -> dict[str, str]:
    request = AWSRequest("POST", "https://dynamodb.us-west-2.amazonaws.com/", data=b"{}")
    signer_class(CREDENTIALS, service, "us-west-2").add_auth(request)
    return dict(request.headers)


def test_the_headers_are_botocores_and_only_the_signature_is_a_constant() -> None:
    real = signed(SigV4Auth)
    undo = install_unchecked_signatures()
    try:
        unchecked = signed(SigV4Auth)
    finally:
        undo()
    assert set(unchecked) == set(real) and unchecked["X-Amz-Security-Token"] == "session-token"
    credential, signed_headers, signature = unchecked["Authorization"].split(", ")
    assert credential.startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/")
    assert credential.endswith("/us-west-2/dynamodb/aws4_request")  # what moto reads: the account's key, the region
    assert signed_headers == real["Authorization"].split(", ")[1]
    assert signature == f"Signature={UNCHECKED_SIGNATURE}" != real["Authorization"].split(", ")[2]


def test_other_signers_and_the_process_after_the_last_world_sign_as_botocore_does() -> None:
    first, second = install_unchecked_signatures(), install_unchecked_signatures()
    try:
        assert not signed(S3SigV4Auth, "s3")["Authorization"].endswith(UNCHECKED_SIGNATURE)
        first()
        first()  # an undo counts once
        assert signed(SigV4Auth)["Authorization"].endswith(UNCHECKED_SIGNATURE)  # the second world still runs
    finally:
        second()
    assert not signed(SigV4Auth)["Authorization"].endswith(UNCHECKED_SIGNATURE)


def test_the_signed_header_names_are_those_botocore_signs_whatever_the_headers() -> None:
    signer = SigV4Auth(CREDENTIALS, "dynamodb", "us-west-2")
    header_sets = [{}, {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Query"},
                   {"Host": "example.com:8443", "User-Agent": "ua", "Expect": "100-continue", "X-Amzn-Trace-Id": "t"},
                   {"traceparent": "00", "X-Amz-Date": "20260101T000000Z", "Content-MD5": "x", "Connection": "close"}]
    for headers in header_sets:
        request = AWSRequest("POST", "https://dynamodb.us-west-2.amazonaws.com:443/", data=b"{}", headers=headers)
        assert signed_headers(request) == signer.signed_headers(signer.headers_to_sign(request))
