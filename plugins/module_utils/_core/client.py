# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A minimal Tencent Cloud API client: signing, keep-alive transport, the error envelope, retries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
import json
import os
import random
import re
import time
from typing import Literal, TypeVar, Union
from urllib.parse import urlsplit
import uuid

from .credentials import Credentials, TaskOptions
from .errors import ArgumentError, TencentCloudAPIError
from .proxies import Proxy, ProxyError, is_loopback, proxy_for
from .shape import JSON
from .signing import Params, Tc3Request, V1Request, flatten_params, form_encode, json_body, tc3_sign, v1_sign
from .transport import Options, Request, TransportError, request
from .wait import Again, Backoff, Exhausted, waiter_for

# Whether a failed call is tried again: True (every failure worth it), False (never), or "throttled" (only a
# RequestLimitExceeded answer, which says that nothing was done: for calls that must not be repeated blindly).
Retry = Union[bool, Literal["throttled"]]

# service -> (API version, default host). Each signs with the service name in the TC3 credential scope. The Region
# API is global: its calls need no region (the SDK then sends no X-TC-Region header and no Region parameter).
SERVICES = {"cvm": ("2017-03-12", "cvm.tencentcloudapi.com"), "tag": ("2018-08-13", "tag.tencentcloudapi.com"),
            "region": ("2022-06-27", "region.tencentcloudapi.com"), "ssm": ("2019-09-23", "ssm.tencentcloudapi.com")}
LEGACY_ENDPOINT = "cvm.api.qcloud.com"
LEGACY_PATH = "/v2/index.php"
API_STYLES = ("tc3", "v1", "legacy")
USER_AGENT = "ansible-tencentcloud.cvm"

RETRYABLE_CODES = frozenset([
    "RequestLimitExceeded", "RequestLimitExceeded.UinLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded", "InternalError", "InternalServerError",
])


def parse_endpoint(endpoint: str | None, api_style: str = "tc3", service: str = "cvm",
                   option: str = "endpoint") -> tuple[str, str]:
    """Returns (scheme, host[:port]). Accepts a host, host:port, or a full URL. Raises ArgumentError, whose message
    repeats the endpoint only when it holds no user:password part."""
    endpoint = (endpoint or "").strip()
    if not endpoint:
        return "https", LEGACY_ENDPOINT if api_style == "legacy" else SERVICES[service][1]
    if "://" not in endpoint:
        endpoint = "https://" + endpoint
    shown = "" if "@" in endpoint or any(ord(c) < 32 for c in endpoint) else " %r" % endpoint
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ArgumentError("%s%s has an invalid host or port" % (option, shown)) from None
    if parts.scheme not in ("http", "https"):
        raise ArgumentError("%s%s: the scheme must be http or https" % (option, shown))
    if parts.username is not None or parts.password is not None:
        raise ArgumentError("%s must not hold a user or password (credentials go in secret_id/secret_key)" % option)
    if not parts.hostname or parts.query or parts.fragment or any(c.isspace() for c in endpoint):
        raise ArgumentError("%s%s is not a host name or a base URL" % (option, shown))
    if parts.path not in ("", "/"):
        raise ArgumentError("%s%s must not have a path" % (option, shown))
    return parts.scheme, parts.netloc.lower()


def derive_endpoint(endpoint: str, service: str) -> str:
    """The endpoint of another service next to a given CVM endpoint: `cvm.<rest>` becomes `<service>.<rest>`
    (cvm.intl.tencentcloudapi.com -> tag.intl.tencentcloudapi.com); the legacy gateway's host gives the service's
    default host (API 3.0 is not served there); any other host (an emulator, a gateway) is taken to serve every
    service."""
    scheme, host = parse_endpoint(endpoint)
    if host == LEGACY_ENDPOINT:
        return "https://%s" % SERVICES[service][1]
    if host.startswith("cvm."):
        host = service + host[3:]
    return "%s://%s" % (scheme, host)


# What an answer's RequestId and error Code may be: they reach messages and results (a uuid4, and Tencent's dotted
# codes, have always fitted). An error message is shown without control characters (no terminal escapes).
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._]{0,127}$")
MAX_MESSAGE = 1024


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text)


# The options of every module that make its client (the tencentcloud doc fragment): Settings.from_args and the
# credentials' resolution read them, and nothing else does.
CLIENT_OPTIONS = frozenset(["secret_id", "secret_key", "security_token", "profile", "region", "endpoint",
                            "tag_endpoint", "api_style", "validate_certs", "ca_path", "timeout", "retries",
                            "retry_max_delay", "throttle_timeout", "allow_insecure_http"])


@dataclass(frozen=True)
class Settings:
    """How a client talks to the API: the checked client options (see the tencentcloud doc fragment)."""

    region: str | None = None
    endpoint: str | None = None
    api_style: str = "tc3"
    timeout: float = 30
    validate_certs: bool = True
    ca_path: str | None = None
    retries: int = 4
    retry_max_delay: float = 20.0
    throttle_timeout: float = 60.0
    allow_insecure_http: bool = False
    tag_endpoint: str | None = None
    service: str = "cvm"
    language: str = "en-US"

    def in_region(self, region: str | None) -> Settings:
        """These settings in another region (None: a call that needs none)."""
        return replace(self, region=region)

    @classmethod
    def from_args(cls, args: TaskOptions, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of a task's options (region not yet resolved: _credentials does that). Raises
        ArgumentError, never ValueError or TypeError."""
        environ = os.environ if environ is None else environ
        timeout, retries, delay = _number(args, "timeout"), _count(args, "retries"), _number(args, "retry_max_delay")
        throttle = _number(args, "throttle_timeout")
        for name, value in (("timeout", timeout), ("retries", retries), ("retry_max_delay", delay),
                            ("throttle_timeout", throttle)):
            if value is not None and (value < 0 or (name == "timeout" and value == 0)):
                raise ArgumentError("%s must be %s, not %s" % (
                    name, "a positive number of seconds" if name == "timeout" else "0 or more", value))
        api_style = _text(args, "api_style") or "tc3"
        if api_style not in API_STYLES:
            raise ArgumentError("api_style must be one of %s" % ", ".join(API_STYLES))
        endpoint = _text(args, "endpoint") or environ.get("TENCENTCLOUD_ENDPOINT") or None
        # The Tag API: its own option or variable; else beside an explicit CVM endpoint; else its default host.
        tag_endpoint = _text(args, "tag_endpoint") or environ.get("TENCENTCLOUD_TAG_ENDPOINT") or (
            derive_endpoint(endpoint, "tag") if endpoint else None)
        default = cls()
        return cls(endpoint=endpoint, api_style=api_style, tag_endpoint=tag_endpoint,
                   timeout=_given(timeout, default.timeout), retries=_given(retries, default.retries),
                   retry_max_delay=_given(delay, default.retry_max_delay),
                   throttle_timeout=_given(throttle, default.throttle_timeout),
                   validate_certs=_given(_flag(args, "validate_certs"), default.validate_certs),
                   allow_insecure_http=_given(_flag(args, "allow_insecure_http"), default.allow_insecure_http),
                   ca_path=_text(args, "ca_path"))

    def for_service(self, service: str) -> Settings:
        """The settings of another service (the Tag API, the Region API) beside this one, API 3.0: the Tag API's
        endpoint is its own setting; the Region API's is derived from an explicit CVM endpoint (as tag_endpoint is
        by default), else its default host."""
        if service == "tag":
            endpoint = self.tag_endpoint
        else:
            endpoint = derive_endpoint(self.endpoint, service) if self.endpoint else None
        return replace(self, service=service, endpoint=endpoint,
                       api_style="tc3" if self.api_style == "legacy" else self.api_style)


# The options as Ansible gives them (validated against the doc fragment's types); a value of another type comes
# from a caller that is not Ansible, and is refused the same way.
T = TypeVar("T")


def _given(value: T | None, default: T) -> T:
    return default if value is None else value


def _text(args: TaskOptions, name: str) -> str | None:
    value = args.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ArgumentError("%s must be a string" % name)


def _flag(args: TaskOptions, name: str) -> bool | None:
    value = args.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise ArgumentError("%s must be true or false" % name)


def _number(args: TaskOptions, name: str) -> float | None:
    value = args.get(name)
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise ArgumentError("%s must be a number" % name)


def _count(args: TaskOptions, name: str) -> int | None:
    value = args.get(name)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ArgumentError("%s must be a whole number" % name)


class Client:
    """Signed calls to one Tencent Cloud service (`settings.service`): the error envelope, retries, request_ids."""

    def __init__(self, credentials: Credentials, settings: Settings, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, request_ids: list[str] | None = None) -> None:
        self.credentials = credentials
        self.settings = settings
        self.region, self.service, self.api_style = settings.region, settings.service, settings.api_style
        self.version = SERVICES[settings.service][0]
        option = "tag_endpoint" if settings.service == "tag" else "endpoint"  # the option the endpoint comes from
        self.scheme, self.host = parse_endpoint(settings.endpoint, settings.api_style, settings.service, option)
        if self.insecure and not settings.allow_insecure_http:
            raise ArgumentError(
                "%s http://%s is not on this machine, and plain HTTP would send the request (and a private key "
                "the answer carries) in clear text over the network; use https://, or set allow_insecure_http=true "
                "for a test endpoint you trust" % (option, self.host))
        try:
            self.proxy  # noqa: B018 - a proxy setting that cannot be used fails here, before any call
        except ProxyError as exc:
            raise ArgumentError(str(exc)) from None
        self.path = LEGACY_PATH if settings.api_style == "legacy" else "/"
        self.url = "%s://%s%s" % (self.scheme, self.host, self.path)
        self.timeout, self.retries = settings.timeout, max(0, int(settings.retries))
        self.sleep, self.clock = sleep, clock
        self.request_ids = [] if request_ids is None else request_ids
        self._siblings: dict[str, Client] = {}

    def for_service(self, service: str) -> Client:
        """A client of another service (the Tag API, the Region API) with the same credentials, region (or none),
        TLS, timeout and retry settings, recording into the same request_ids."""
        if service == self.service:
            return self
        if service not in self._siblings:
            self._siblings[service] = Client(self.credentials, self.settings.for_service(service), sleep=self.sleep,
                                             clock=self.clock, request_ids=self.request_ids)
        return self._siblings[service]

    @property
    def hostname(self) -> str:
        return urlsplit("//" + self.host).hostname or ""

    @property
    def insecure(self) -> bool:
        """Plain HTTP to another machine (loopback, such as the emulator, is not the network)."""
        return self.scheme == "http" and not is_loopback(self.hostname)

    @property
    def proxy(self) -> Proxy | None:
        """The Proxy the environment names for this endpoint, or None (never for loopback)."""
        return proxy_for(self.scheme, self.hostname)

    # ---------------------------------------------------------------------------------------------
    def call(self, action: str, params: Params, retry: Retry = True) -> dict[str, JSON]:
        """Returns the `Response` dict of a successful call, or raises TencentCloudAPIError. Failures worth another
        attempt are tried again `retries` times, with exponential backoff and jitter. A throttled answer
        (RequestLimitExceeded: nothing was done) is tried again until `throttle_timeout` seconds have passed since
        the first attempt, and does not count against `retries`: a fleet of many forks meets it by design.

        retry=False never tries again; retry="throttled" for actions that must never be repeated blindly
        (CreateKeyPair, ImportKeyPair, CreateSSHKeyPairSecret): only a throttled answer is tried again."""
        waiter = waiter_for(self)
        backoff = Backoff(first=0.5, factor=2.0, ceiling=float(self.settings.retry_max_delay), jitter=True)
        throttled_until = waiter.now() + self.settings.throttle_timeout

        def unthrottled() -> dict[str, JSON]:  # one attempt, tried again while throttled, until throttled_until
            try:
                return self._call_once(action, params)
            except TencentCloudAPIError as exc:
                if retry is not False and exc.code.startswith("RequestLimitExceeded"):
                    raise Again(exc)
                raise

        def attempt() -> dict[str, JSON]:
            try:
                return waiter.wait_until(unthrottled, backoff, deadline=throttled_until)
            except Exhausted as exhausted:
                if isinstance(exhausted.reason, TencentCloudAPIError):  # always: unthrottled() gives Again its error
                    raise exhausted.reason from None
                raise
            except TencentCloudAPIError as exc:
                if retry is True and exc.retryable and not exc.code.startswith("RequestLimitExceeded"):
                    raise Again(exc)
                raise

        try:
            return waiter.wait_until(attempt, backoff, attempts=self.retries + 1)
        except Exhausted as exhausted:
            if isinstance(exhausted.reason, TencentCloudAPIError):  # always: attempt() gives Again its error
                raise exhausted.reason from None
            raise

    def _call_once(self, action: str, params: Params) -> dict[str, JSON]:
        method, path, headers, body = self._build(action, params)
        try:
            status, data = request(Request(method, self.scheme, self.host, path, headers, body),
                                   Options(self.timeout, self.settings.validate_certs, self.settings.ca_path))
        except TransportError as exc:
            if exc.invalid:
                raise TencentCloudAPIError(code="InvalidResponse", action=action, ambiguous=True,
                                           message="%s: %s" % (self.host, exc.reason))
            if exc.tls:
                message = ("TLS to %s failed (%s). Set ca_path to a CA bundle that signs the endpoint's "
                           "certificate, or validate_certs=false for a test endpoint" % (self.host, exc.reason))
            elif exc.timed_out:
                message = "No answer from %s within %ss" % (self.host, self.timeout)
            elif not exc.sent:
                message = "Could not connect to %s (%s)" % (self.host, exc.reason)
            else:
                message = "Connection lost with %s (%s)" % (self.host, exc.reason)
            raise TencentCloudAPIError(code="ClientNetworkError", action=action, ambiguous=exc.sent,
                                       timed_out=exc.timed_out, retryable=exc.transient, message=message)
        return self._parse(action, status, data)

    def _parse(self, action: str, status: int, content: bytes) -> dict[str, JSON]:
        if status != 200:  # 5xx: the server may have acted, and may do better next time; 4xx: it will not
            raise TencentCloudAPIError(
                code="ServerNetworkError", action=action, ambiguous=status >= 500, retryable=status >= 500,
                message="%s answered HTTP %d instead of an API response" % (self.host, status))
        try:
            data = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise TencentCloudAPIError(code="InvalidResponse", action=action, ambiguous=True,
                                       message="%s sent a body that is not valid JSON" % self.host)
        except RecursionError:
            raise TencentCloudAPIError(code="InvalidResponse", action=action, ambiguous=True,
                                       message="%s sent JSON nested too deep to be an API answer" % self.host)
        body = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(body, dict):
            raise TencentCloudAPIError(code="InvalidResponse", action=action, ambiguous=True,
                                       message="%s sent JSON without a Response object" % self.host)
        request_id = body.get("RequestId")
        if request_id is not None and not (isinstance(request_id, str) and REQUEST_ID_RE.match(request_id)):
            raise TencentCloudAPIError(code="InvalidResponse", action=action, ambiguous=True,
                                       message="%s sent a RequestId that is not one" % self.host)
        if request_id:
            self.request_ids.append(request_id)
        error = body.get("Error")
        if error is not None:
            code = error.get("Code") if isinstance(error, dict) else None
            if not isinstance(code, str) or not CODE_RE.match(code):
                raise TencentCloudAPIError(code="InvalidResponse", request_id=request_id, action=action,
                                           ambiguous=True, message="%s sent an Error without a valid Code" % self.host)
            message = error.get("Message")
            message = _printable(message if isinstance(message, str) else "")[:MAX_MESSAGE].strip()
            raise TencentCloudAPIError(code=code, message=message or "no message", request_id=request_id,
                                       action=action, retryable=code in RETRYABLE_CODES)
        return body

    # ---------------------------------------------------------------------------------------------
    def _common_v1(self, action: str, timestamp: int) -> dict[str, str]:
        common = {
            "Action": action, "Version": self.version, "Timestamp": str(timestamp),
            "Nonce": str(random.randint(1, 2 ** 31 - 1)), "SecretId": self.credentials.secret_id,
            "SignatureMethod": "HmacSHA256", "Language": self.settings.language,
        }
        if self.region:  # as the SDK: no region (the Region API, CVM's DescribeRegions), no Region parameter
            common["Region"] = self.region
        if self.credentials.token:
            common["Token"] = self.credentials.token
        return common

    def _build(self, action: str, params: Params) -> tuple[str, str, dict[str, str], bytes | None]:
        """(method, path with query, headers, body bytes) of a signed request."""
        timestamp = int(self.clock())
        if self.api_style == "tc3":
            body = json_body(params)
            headers = {
                "Content-Type": "application/json",
                "Host": self.host,
                "X-TC-Action": action,
                "X-TC-Version": self.version,
                "X-TC-Timestamp": str(timestamp),
                "X-TC-Language": self.settings.language,
                "X-TC-RequestClient": USER_AGENT,
                "X-TC-TraceId": str(uuid.uuid4()),
                "User-Agent": USER_AGENT,
            }
            if self.region:  # as the SDK (abstract_client.py): no region, no X-TC-Region header
                headers["X-TC-Region"] = self.region
            if self.credentials.token:
                headers["X-TC-Token"] = self.credentials.token
            signed = tc3_sign(self.credentials.secret_id, self.credentials.secret_key, self.service, timestamp,
                              Tc3Request("POST", headers, body))
            headers["Authorization"] = signed["authorization"]
            return "POST", self.path, headers, body
        flat = flatten_params(params)
        flat.update(self._common_v1(action, timestamp))
        method = "GET" if self.api_style == "legacy" else "POST"
        flat["Signature"] = v1_sign(self.credentials.secret_key, V1Request(method, self.host, self.path, flat))
        encoded = form_encode(flat)
        if method == "GET":
            return "GET", self.path + "?" + encoded, {"Host": self.host, "User-Agent": USER_AGENT}, None
        return "POST", self.path, {"Host": self.host, "Content-Type": "application/x-www-form-urlencoded",
                                   "User-Agent": USER_AGENT}, encoded.encode("ascii")
