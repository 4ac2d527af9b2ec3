"""Verifying AWS Signature Version 4, as AWS services verify the requests SDKs and the AWS CLI sign.

The algorithm is AWS's published one ("Create a signed AWS API request", Signature
Version 4): the server rebuilds the canonical request from what it received (method,
URI path normalised and URI-encoded once more, query parameters sorted, the headers
the client listed in ``SignedHeaders``, the SHA-256 of the body), derives the signing
key from the secret and the credential scope (date / region / service /
``aws4_request``), and compares HMAC-SHA256 signatures in constant time.

What is checked besides the signature, with the error codes AWS answers with:
no ``Authorization`` header (``MissingAuthenticationTokenException``), a malformed one
(``IncompleteSignatureException``), an unknown access key
(``UnrecognizedClientException``), a timestamp more than 5 minutes away from the
server's clock, a scope for another service or date, or a body that does not match
``x-amz-content-sha256`` (``InvalidSignatureException``). The scope's region is not
checked against the server's: the signature covers it, and tenancy is the namespace,
not the region. Unsigned payloads and presigned URLs are not accepted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "batch"
TERMINATOR = "aws4_request"
TIMESTAMP = "%Y%m%dT%H%M%SZ"
MAX_SKEW = timedelta(minutes=5)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
UNRESERVED = "-_.~"

MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")


class AuthError(Exception):
    """A request that is not (correctly) signed: AWS's error code, HTTP status and message."""

    def __init__(self, code: str, message: str, *, status: int = 403) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SignedRequest:
    """What the signature covers, exactly as received: the raw (percent-encoded) path and query."""

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name]


@dataclass(frozen=True)
class Authorization:
    """The parts of an ``Authorization: AWS4-HMAC-SHA256 …`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


def parse_authorization(request: SignedRequest) -> Authorization:
    """The request's Authorization header, or the AuthError AWS answers a missing or malformed one with."""
    values = request.header_values("authorization")
    if not values:
        if any(key.lower() == "x-amz-algorithm" for key, _ in parse_qsl(request.query)):
            raise AuthError("IncompleteSignatureException", "Presigned URLs are not accepted: sign the "
                            "Authorization header")
        raise AuthError("MissingAuthenticationTokenException", "Missing Authentication Token")
    header = values[0].strip()
    algorithm, _, rest = header.partition(" ")
    if algorithm != ALGORITHM:
        raise AuthError("IncompleteSignatureException", f"Unsupported AWS 'algorithm': '{algorithm}' (only "
                        f"{ALGORITHM} is accepted)")
    parts = dict(item.strip().partition("=")[::2] for item in rest.split(",") if item.strip())
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not parts.get(name)]
    if missing:
        raise AuthError("IncompleteSignatureException", " ".join(
            f"Authorization header requires '{name}' parameter." for name in missing) + f" Authorization={header}")
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or not all(scope):
        raise AuthError("IncompleteSignatureException", "Credential should have 5 parts "
                        f"(access key id/date/region/service/aws4_request), not '{parts['Credential']}'")
    signed = tuple(name.strip().lower() for name in parts["SignedHeaders"].split(";"))
    if "host" not in signed:
        raise AuthError("IncompleteSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    access_key_id, date, region, service, terminator = scope
    return Authorization(access_key_id=access_key_id, date=date, region=region, service=service,
                         terminator=terminator, signed_headers=signed, signature=parts["Signature"].lower())


def _timestamp(request: SignedRequest) -> datetime:
    if amz_date := request.header_values("x-amz-date"):
        try:
            return datetime.strptime(amz_date[0].strip(), TIMESTAMP).replace(tzinfo=UTC)
        except ValueError:
            raise AuthError("IncompleteSignatureException",
                            f"X-Amz-Date must be in ISO 8601 basic format (20240131T235959Z), not "
                            f"'{amz_date[0]}'") from None
    if date := request.header_values("date"):
        try:
            return parsedate_to_datetime(date[0]).astimezone(UTC)
        except (TypeError, ValueError):
            raise AuthError("IncompleteSignatureException", f"Date header is not an HTTP date: '{date[0]}'") from None
    raise AuthError("IncompleteSignatureException",
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, and empty segments dropped, as AWS normalises a path before signing it."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and segments else ""
    return lead + "/".join(segments) + trail


def canonical_uri(path: str) -> str:
    """The path as sent (already percent-encoded), normalised and encoded once more (all services but S3)."""
    return quote(remove_dot_segments(path), safe="/~")


def canonical_query(query: str) -> str:
    """Each name and value URI-encoded (unreserved characters kept), sorted by name, then value."""
    pairs = parse_qsl(query, keep_blank_values=True) if query else []
    encoded = sorted((quote(key, safe=UNRESERVED), quote(value, safe=UNRESERVED)) for key, value in pairs)
    return "&".join(f"{key}={value}" for key, value in encoded)


def _trimmed(value: str) -> str:
    return " ".join(value.split())


def payload_hash(request: SignedRequest) -> str:
    """The body's SHA-256; a client's ``x-amz-content-sha256`` must match it."""
    computed = hashlib.sha256(request.body).hexdigest()
    declared = request.header_values("x-amz-content-sha256")
    if declared and declared[0].strip().lower() != computed:
        if declared[0].strip() == UNSIGNED_PAYLOAD:
            raise AuthError("InvalidSignatureException", "Unsigned payloads are not accepted: sign the body")
        raise AuthError("InvalidSignatureException",
                        "The provided 'x-amz-content-sha256' header does not match what was computed.")
    return computed


def canonical_request(request: SignedRequest, signed_headers: Sequence[str]) -> str:
    headers = "".join(f"{name}:{','.join(_trimmed(v) for v in request.header_values(name))}\n"
                      for name in sorted(signed_headers))
    return "\n".join([request.method.upper(), canonical_uri(request.path), canonical_query(request.query), headers,
                      ";".join(sorted(signed_headers)), payload_hash(request)])


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signature(secret: str, *, timestamp: str, scope: Authorization, canonical: str) -> str:
    """The hex signature of a canonical request: AWS's string to sign, under the derived signing key."""
    string_to_sign = "\n".join([ALGORITHM, timestamp, scope.scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(f"AWS4{secret}".encode(), scope.date)
    for part in (scope.region, scope.service, scope.terminator):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _check_scope(auth: Authorization, moment: datetime, now: datetime) -> None:
    stamp = moment.strftime(TIMESTAMP)
    if auth.terminator != TERMINATOR:
        raise AuthError("InvalidSignatureException", "Credential should be scoped with a valid terminator: "
                        f"'{TERMINATOR}', not '{auth.terminator}'.")
    if auth.service != SERVICE:
        raise AuthError("InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'. ")
    if auth.date != stamp[:8]:
        raise AuthError("InvalidSignatureException",
                        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                        f"'{auth.date}' != '{stamp[:8]}', from '{stamp}'.")
    if moment < now - MAX_SKEW:
        raise AuthError("InvalidSignatureException",
                        f"Signature expired: {stamp} is now earlier than {(now - MAX_SKEW).strftime(TIMESTAMP)} "
                        f"({now.strftime(TIMESTAMP)} - 5 min.)")
    if moment > now + MAX_SKEW:
        raise AuthError("InvalidSignatureException",
                        f"Signature not yet current: {stamp} is still later than "
                        f"{(now + MAX_SKEW).strftime(TIMESTAMP)} ({now.strftime(TIMESTAMP)} + 5 min.)")


def verify(request: SignedRequest, auth: Authorization, secret: str, *, now: datetime) -> None:
    """Return if ``request`` is signed with ``secret`` as ``auth`` says, within 5 minutes of ``now``."""
    moment = _timestamp(request)
    _check_scope(auth, moment, now)
    expected = signature(secret, timestamp=moment.strftime(TIMESTAMP), scope=auth,
                         canonical=canonical_request(request, auth.signed_headers))
    if not hmac.compare_digest(expected, auth.signature):
        raise AuthError("InvalidSignatureException", MISMATCH)
