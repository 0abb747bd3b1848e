# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tencent Cloud request signing: TC3-HMAC-SHA256 (API 3.0) and v1 HmacSHA256/HmacSHA1. Pure functions, no I/O."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
import hashlib
import hmac
import json
from typing import NamedTuple, Union
from urllib.parse import quote, urlencode

# The parameters of an API call, as the API's reference lists them: strings, numbers and booleans, in lists and
# objects (Filters.N.Values.M). None stands for a parameter not sent.
Param = Union[str, int, float, bool, None, Sequence["Param"], Mapping[str, "Param"]]
Params = Mapping[str, Param]

TC3_ALGORITHM = "TC3-HMAC-SHA256"
V1_METHODS = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}


def utc_date(timestamp: float) -> str:
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).strftime("%Y-%m-%d")


def sha256_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _hmac_sha256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_signing_key(secret_key: str, date: str, service: str) -> bytes:
    k_date = _hmac_sha256(("TC3" + secret_key).encode("utf-8"), date)
    k_service = _hmac_sha256(k_date, service)
    return _hmac_sha256(k_service, "tc3_request")


class Tc3Request(NamedTuple):
    """What TC3-HMAC-SHA256 signs. headers: {name: value} of at least the signed headers (any case); payload: the
    exact body bytes (or the literal b"UNSIGNED-PAYLOAD")."""

    method: str
    headers: Mapping[str, str]
    payload: str | bytes
    query: str = ""
    signed_headers: Sequence[str] = ("content-type", "host")
    uri: str = "/"

    @property
    def signed(self) -> list[str]:
        return sorted(h.lower() for h in self.signed_headers)


def tc3_canonical_request(request: Tc3Request) -> str:
    lowered = {k.lower(): v for k, v in request.headers.items()}
    canonical_headers = "".join("%s:%s\n" % (name, lowered[name].strip().lower()) for name in request.signed)
    return "\n".join([request.method, request.uri, request.query, canonical_headers, ";".join(request.signed),
                      sha256_hex(request.payload)])


def tc3_sign(secret_id: str, secret_key: str, service: str, timestamp: float,
             request: Tc3Request) -> dict[str, str]:
    """Returns a dict with the Authorization header value and every intermediate value."""
    date = utc_date(timestamp)
    scope = "%s/%s/tc3_request" % (date, service)
    canonical_request = tc3_canonical_request(request)
    string_to_sign = "\n".join([TC3_ALGORITHM, str(int(timestamp)), scope, sha256_hex(canonical_request)])
    key = tc3_signing_key(secret_key, date, service)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    authorization = "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        TC3_ALGORITHM, secret_id, scope, ";".join(request.signed), signature)
    return {
        "date": date,
        "credential_scope": scope,
        "canonical_request": canonical_request,
        "string_to_sign": string_to_sign,
        "signature": signature,
        "authorization": authorization,
    }


def flatten_params(params: Params | Sequence[Param], prefix: str = "") -> dict[str, str]:
    """Nested params to the dotted form of form/GET requests: {"Filters": [{"Name": "x"}]} -> {"Filters.0.Name": "x"}.
    Booleans become true/false (not Python's True/False)."""
    flat: dict[str, str] = {}
    items: Iterable[tuple[str, Param]]
    if isinstance(params, dict):
        items = params.items()
    else:
        items = ((str(i), v) for i, v in enumerate(params))
    for key, value in items:
        name = "%s%s" % (prefix, key)
        if isinstance(value, (dict, list, tuple)):
            flat.update(flatten_params(value, name + "."))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif value is None:
            continue
        else:
            flat[name] = str(value)
    return flat


class V1Request(NamedTuple):
    """What the v1 signature signs. params: every flattened parameter, common ones included (Signature
    excluded)."""

    method: str
    host: str
    path: str
    params: Mapping[str, str]


def v1_string_to_sign(request: V1Request) -> str:
    items = sorted((k.replace("_", "."), str(v)) for k, v in request.params.items() if k != "Signature")
    return "%s%s%s?%s" % (request.method.upper(), request.host, request.path, "&".join("%s=%s" % kv for kv in items))


def v1_sign(secret_key: str, request: V1Request, signature_method: str = "HmacSHA256") -> str:
    """The base64 signature of a V1Request."""
    digest = V1_METHODS[signature_method]
    string_to_sign = v1_string_to_sign(request)
    mac = hmac.new(secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), digest).digest()
    return base64.b64encode(mac).decode("ascii")


def json_body(params: Params) -> bytes:
    """Compact, ASCII-only JSON: what is hashed is exactly what is sent."""
    return json.dumps(params, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def form_encode(params: Mapping[str, str]) -> str:
    """URL-encode flattened params the way the SDK does ('+' for spaces)."""
    return urlencode(sorted(params.items()), quote_via=_quote_plus)


def _quote_plus(value: str | bytes, safe: str | bytes = "", encoding: str | None = None,
                errors: str | None = None) -> str:
    quoted = quote(value, safe="") if isinstance(value, bytes) else quote(value, safe="", encoding=encoding,
                                                                          errors=errors)
    return quoted.replace("%20", "+")
