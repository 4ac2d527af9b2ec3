"""SigV4 verification: AWS's published test vectors, and round trips with botocore's own signer."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from kubatch.http.sigv4 import (
    AuthError,
    SignedRequest,
    canonical_query,
    canonical_request,
    canonical_uri,
    parse_authorization,
    remove_dot_segments,
    signature,
    verify,
)

botocore_auth = pytest.importorskip("botocore.auth", reason="botocore is a test dependency (.[test])")
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SIGNED_AT = dt.datetime(2015, 8, 30, 12, 36, 0)
NOW = SIGNED_AT.replace(tzinfo=dt.UTC)


def botocore_signed(method: str, url: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
                    service: str = "batch", region: str = "us-east-1", secret: str = SECRET,
                    token: str | None = None, at: dt.datetime = SIGNED_AT) -> SignedRequest:
    """The request botocore's SigV4 signer produces, as the server receives it."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        botocore_auth.SigV4Auth(Credentials(KEY_ID, secret, token), service, region).add_auth(request)
    prepared = request.prepare()
    target = prepared.url.split("://", 1)[1]
    host, _, rest = target.partition("/")
    path, _, query = ("/" + rest).partition("?")
    sent = [(name, value) for name, value in prepared.headers.items()]
    if not any(name.lower() == "host" for name, _ in sent):
        sent.append(("Host", host))
    return SignedRequest(method=method, path=path, query=query, headers=sent, body=prepared.body or b"")


def check(request: SignedRequest, *, secret: str = SECRET, now: dt.datetime = NOW) -> None:
    verify(request, parse_authorization(request), secret, now=now)


# ---------------------------------------------------------------- AWS's published test suite vectors

@pytest.mark.parametrize(("query", "expected"), [
    ("", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),  # get-vanilla
    ("Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
])
def test_aws_test_suite_vectors(query: str, expected: str) -> None:
    """get-vanilla and get-vanilla-query-order-key-case (service "service", us-east-1, 20150830T123600Z)."""
    request = SignedRequest(method="GET", path="/", query=query, body=b"",
                            headers=[("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")])
    header = (f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20150830/us-east-1/service/aws4_request, "
              f"SignedHeaders=host;x-amz-date, Signature={expected}")
    auth = parse_authorization(SignedRequest(**{**request.__dict__,
                                                "headers": [*request.headers, ("Authorization", header)]}))
    assert signature(SECRET, timestamp="20150830T123600Z", scope=auth,
                     canonical=canonical_request(request, auth.signed_headers)) == expected


@pytest.mark.parametrize(("path", "normalised"), [
    ("", "/"), ("/", "/"), ("/v1/submitjob", "/v1/submitjob"), ("/a/./b/../c/", "/a/c/"), ("//a//b", "/a/b"),
    ("/a/..", "/"),
])
def test_paths_are_normalised_as_aws_does(path: str, normalised: str) -> None:
    assert remove_dot_segments(path) == normalised


def test_paths_are_encoded_once_more_and_queries_sorted() -> None:
    assert canonical_uri("/v1/tags/arn%3Aaws%3Abatch%3Aus-east-1%3A1%3Ajob-queue%2Fq") == \
        "/v1/tags/arn%253Aaws%253Abatch%253Aus-east-1%253A1%253Ajob-queue%252Fq"
    assert canonical_query("b=2&a=%20x&a=1&c") == "a=%20x&a=1&b=2&c="


# ---------------------------------------------------------------- round trips with botocore's signer

@pytest.mark.parametrize(("method", "url", "body"), [
    ("POST", "http://127.0.0.1:8000/v1/submitjob", b'{"jobName": "x"}'),
    ("POST", "http://127.0.0.1:8000/v1/describejobqueues", b""),
    ("GET", "http://kubatch.example/v1/tags/arn%3Aaws%3Abatch%3Aus-east-1%3A000000000000%3Ajob-queue%2Fq", b""),
    ("DELETE", "http://localhost/v1/tags/arn%3Aaws%3Abatch%3Aus-east-1%3A0%3Ajob%2Fabc?tagKeys=b&tagKeys=a%20b",
     b""),
    ("POST", "http://127.0.0.1:8000/v1/submitjob", '{"jobName": "ünïcode ✓"}'.encode()),
])
def test_botocore_signatures_verify(method: str, url: str, body: bytes) -> None:
    check(botocore_signed(method, url, body=body, headers={"Content-Type": "application/json",
                                                           "X-Odd-Header": "  a   b  "}))


def test_session_tokens_and_any_region_verify() -> None:
    check(botocore_signed("POST", "http://h/v1/listjobs", body=b"{}", token="FQoGZXIvYXdzE", region="eu-west-3"))


def test_a_changed_body_path_query_or_header_fails() -> None:
    good = botocore_signed("POST", "http://h/v1/terminatejob?x=1", body=b'{"jobId": "a"}',
                           headers={"Content-Type": "application/json"})
    changes = [{"body": b'{"jobId": "b"}'}, {"path": "/v1/canceljob"}, {"query": "x=2"},
               {"method": "PUT"},
               {"headers": [(k, "text/plain" if k.lower() == "content-type" else v) for k, v in good.headers]}]
    for change in changes:
        with pytest.raises(AuthError) as raised:
            check(SignedRequest(**{**good.__dict__, **change}))
        assert raised.value.code == "InvalidSignatureException"


def test_a_wrong_secret_fails_with_aws_message() -> None:
    with pytest.raises(AuthError) as raised:
        check(botocore_signed("POST", "http://h/v1/listjobs", body=b"{}"), secret="not-the-secret-at-all")
    assert (raised.value.code, raised.value.status) == ("InvalidSignatureException", 403)
    assert raised.value.message.startswith("The request signature we calculated does not match")


def test_old_and_future_signatures_fail() -> None:
    request = botocore_signed("POST", "http://h/v1/listjobs", body=b"{}")
    check(request, now=NOW + dt.timedelta(minutes=4))
    with pytest.raises(AuthError, match=r"Signature expired: 20150830T123600Z is now earlier than "
                                        r"20150830T123700Z \(20150830T124200Z - 5 min.\)"):
        check(request, now=NOW + dt.timedelta(minutes=6))
    with pytest.raises(AuthError, match="Signature not yet current"):
        check(request, now=NOW - dt.timedelta(minutes=6))


def test_scope_for_another_service_fails() -> None:
    with pytest.raises(AuthError, match="scoped to correct service: 'batch'"):
        check(botocore_signed("POST", "http://h/v1/listjobs", body=b"{}", service="ecs"))


def test_a_declared_payload_hash_must_match_the_body() -> None:
    request = botocore_signed("POST", "http://h/v1/listjobs", body=b"{}",
                              headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    with pytest.raises(AuthError, match="Unsigned payloads are not accepted"):
        check(request)
    request = botocore_signed("POST", "http://h/v1/listjobs", body=b"{}", headers={"X-Amz-Content-SHA256": "0" * 64})
    with pytest.raises(AuthError, match="x-amz-content-sha256"):
        check(request)


@pytest.mark.parametrize(("authorization", "code", "message"), [
    (None, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    ("Bearer abc", "IncompleteSignatureException", "Unsupported AWS 'algorithm'"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/batch/aws4_request", "IncompleteSignatureException",
     "requires 'Signature' parameter"),
    ("AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=00", "IncompleteSignatureException",
     "Credential should have 5 parts"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/batch/aws4_request, SignedHeaders=x-amz-date, "
     "Signature=00", "IncompleteSignatureException", "'Host' must be a 'SignedHeader'"),
])
def test_malformed_authorization_headers(authorization: str | None, code: str, message: str) -> None:
    headers = [("Host", "h")] + ([("Authorization", authorization)] if authorization else [])
    with pytest.raises(AuthError) as raised:
        parse_authorization(SignedRequest(method="POST", path="/", query="", headers=headers, body=b""))
    assert raised.value.code == code
    assert message in raised.value.message


def test_presigned_urls_are_refused_clearly() -> None:
    request = SignedRequest(method="GET", path="/v1/tags/x", query="X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=1",
                            headers=[("Host", "h")], body=b"")
    with pytest.raises(AuthError, match="Presigned URLs are not accepted"):
        parse_authorization(request)


def test_a_request_without_a_date_is_incomplete() -> None:
    request = botocore_signed("POST", "http://h/v1/listjobs", body=b"{}")
    undated = SignedRequest(**{**request.__dict__,
                               "headers": [(k, v) for k, v in request.headers if k.lower() != "x-amz-date"]})
    with pytest.raises(AuthError, match="'X-Amz-Date' or a 'Date' header"):
        check(undated)
