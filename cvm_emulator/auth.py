# SPDX-License-Identifier: GPL-3.0-or-later
"""Signature verification for API 3.0 (TC3-HMAC-SHA256) and v1 (HmacSHA256/HmacSHA1).

Written from the reference (sections 3 and 4), independently of the collection's signer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TypedDict

# hashlib.sha256 and its like, as hmac.new takes them (hashlib._Hash: typeshed's name for a hash object)
Digest = Callable[[], "hashlib._Hash"]

TC3_ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "cvm"
V1_COMMON = (
    "Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature",
    "SignatureMethod", "Token", "Language", "RequestClient",
)
_AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<sh>[^,\s]+),\s*Signature=(?P<sig>[0-9a-fA-F]{64})$"
)


class AuthError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Tc3Authorization(TypedDict):
    """The parts of a TC3-HMAC-SHA256 Authorization header."""
    secret_id: str
    date: str
    service: str
    signed_headers: list[str]
    signature: str


def utc_date(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%d")


def _hmac(key: bytes, msg: str, digest: Digest = hashlib.sha256) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), digest).digest()


def parse_tc3_authorization(value: str) -> Tc3Authorization:
    m = _AUTH_RE.match(value.strip())
    if not m:
        raise AuthError("AuthFailure.InvalidAuthorization", "Authorization header is malformed or incomplete.")
    parts = m.group("cred").split("/")
    if len(parts) != 4 or parts[3] != "tc3_request":
        raise AuthError("AuthFailure.InvalidAuthorization", "Credential in the Authorization header is malformed.")
    signed = m.group("sh").lower().split(";")
    if "content-type" not in signed or "host" not in signed:
        raise AuthError("AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type and host.")
    return {
        "secret_id": parts[0], "date": parts[1], "service": parts[2],
        "signed_headers": signed, "signature": m.group("sig").lower(),
    }


def tc3_expected_signature(secret_key: str, method: str, raw_query: str, headers: Mapping[str, str],
                           signed_headers: Sequence[str], body: bytes, timestamp: int, date: str,
                           service: str = SERVICE) -> str:
    """headers: a case-insensitive mapping of the received headers."""
    canonical_headers = ""
    for name in signed_headers:
        value = headers.get(name)
        if value is None:
            raise AuthError("AuthFailure.SignatureFailure", "Signed header `%s` is missing from the request." % name)
        canonical_headers += "%s:%s\n" % (name, value.strip().lower())
    canonical_request = "\n".join([
        method, "/", raw_query, canonical_headers, ";".join(signed_headers),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = "%s/%s/tc3_request" % (date, service)
    string_to_sign = "\n".join([
        TC3_ALGORITHM, str(timestamp), scope,
        hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
    ])
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    k_service = hmac.new(k_date, service.encode(), hashlib.sha256).digest()
    k_signing = hmac.new(k_service, b"tc3_request", hashlib.sha256).digest()
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def v1_expected_signature(secret_key: str, method: str, host: str, path: str, params: Mapping[str, str],
                          signature_method: str) -> str:
    """params: flat dict of every received parameter except Signature (raw, decoded values)."""
    digest = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}.get(signature_method)
    if digest is None:
        raise AuthError("AuthFailure.SignatureFailure", "Unsupported SignatureMethod `%s`." % signature_method)
    items = sorted((k.replace("_", "."), v) for k, v in params.items() if k != "Signature")
    joined = "&".join("%s=%s" % (k, v) for k, v in items)
    string_to_sign = "%s%s%s?%s" % (method, host, path, joined)
    mac = hmac.new(secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), digest).digest()
    return base64.b64encode(mac).decode()


def check_timestamp(timestamp: str | None, now: float, window: int) -> int:
    try:
        ts = int(timestamp)  # type: ignore[arg-type]  # no timestamp (None) raises TypeError: refused below
    except (TypeError, ValueError):
        raise AuthError("AuthFailure.InvalidAuthorization", "Timestamp `%s` is not an integer." % timestamp)
    if abs(now - ts) > window:
        raise AuthError(
            "AuthFailure.SignatureExpire",
            "Signature expired. Timestamp %d is more than %d seconds from server time %d." % (ts, window, int(now)),
        )
    return ts


def constant_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
