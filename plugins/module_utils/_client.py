# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal Tencent Cloud API client: one requests.Session, signing, the error envelope, retries."""

from __future__ import annotations

import ipaddress
import json
import random
import time
import uuid
from urllib.parse import urlsplit

from ._errors import TencentCloudAPIError
from ._signing import flatten_params, form_encode, json_body, tc3_sign, v1_sign

try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - reported by the action plugin
    requests = None
    HAS_REQUESTS = False

SERVICE = "cvm"
API_VERSION = "2017-03-12"
DEFAULT_ENDPOINT = "cvm.tencentcloudapi.com"
LEGACY_ENDPOINT = "cvm.api.qcloud.com"
LEGACY_PATH = "/v2/index.php"
API_STYLES = ("tc3", "v1", "legacy")
USER_AGENT = "ansible-tencentcloud.cvm"

RETRYABLE_CODES = frozenset([
    "RequestLimitExceeded", "RequestLimitExceeded.UinLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded", "InternalError", "InternalServerError",
])

# Sessions live for the worker process: the items of a loop share one connection pool.
_SESSIONS = {}


def parse_endpoint(endpoint, api_style="tc3"):
    """Returns (scheme, host[:port]). Accepts a host, host:port, or a full URL."""
    endpoint = (endpoint or "").strip()
    if not endpoint:
        return "https", LEGACY_ENDPOINT if api_style == "legacy" else DEFAULT_ENDPOINT
    if "://" not in endpoint:
        endpoint = "https://" + endpoint
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https"):
        raise ValueError("endpoint scheme must be http or https, not %r" % parts.scheme)
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ValueError("endpoint %r has an invalid port" % endpoint)
    if not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("endpoint %r is not a host name or a base URL" % endpoint)
    if parts.path not in ("", "/"):
        raise ValueError("endpoint %r must not have a path" % endpoint)
    return parts.scheme, parts.netloc.lower()


def is_loopback(host):
    name = urlsplit("//" + host).hostname or ""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def retry_delay(attempt, max_delay, base=0.5, rand=random.random):
    """Exponential backoff with jitter: between half and all of min(max_delay, base * 2**attempt)."""
    ceiling = min(float(max_delay), base * (2 ** attempt))
    return ceiling / 2 + rand() * ceiling / 2


class Client:
    def __init__(self, credentials, region, endpoint=None, api_style="tc3", timeout=30, validate_certs=True,
                 ca_path=None, retries=4, retry_max_delay=20.0, language="en-US", session=None,
                 sleep=time.sleep, clock=time.time):
        if api_style not in API_STYLES:
            raise ValueError("api_style must be one of %s" % ", ".join(API_STYLES))
        self.credentials = credentials
        self.region = region
        self.api_style = api_style
        self.scheme, self.host = parse_endpoint(endpoint, api_style)
        self.path = LEGACY_PATH if api_style == "legacy" else "/"
        self.url = "%s://%s%s" % (self.scheme, self.host, self.path)
        self.timeout = timeout
        self.verify = (ca_path or True) if validate_certs else False
        self.retries = max(0, int(retries))
        self.retry_max_delay = retry_max_delay
        self.language = language
        self.sleep = sleep
        self.clock = clock
        self.proxies = {"http": None, "https": None} if is_loopback(self.host) else None
        self.session = session or self._shared_session()
        self.request_ids = []
        self.calls = []

    def _shared_session(self):
        key = (self.scheme, self.host, str(self.verify))
        session = _SESSIONS.get(key)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            _SESSIONS[key] = session
        return session

    # ---------------------------------------------------------------------------------------------
    def call(self, action, params, retry=True):
        """Returns the `Response` dict of a successful call, or raises TencentCloudAPIError.

        retry=False for actions that must never be repeated blindly (CreateKeyPair, ImportKeyPair)."""
        attempt = 0
        while True:
            try:
                return self._call_once(action, params)
            except TencentCloudAPIError as exc:
                if not (retry and attempt < self.retries and self._retryable(exc)):
                    raise
                self.sleep(retry_delay(attempt, self.retry_max_delay))
                attempt += 1

    @staticmethod
    def _retryable(exc):
        if exc.code in RETRYABLE_CODES:
            return True
        return exc.transport and exc.code in ("ClientNetworkError", "ServerNetworkError")

    def _call_once(self, action, params):
        self.calls.append(action)
        request = self._build(action, params)
        try:
            response = self.session.request(timeout=self.timeout, proxies=self.proxies, verify=self.verify,
                                            allow_redirects=False, **request)
        except requests.exceptions.SSLError as exc:
            raise TencentCloudAPIError(
                code="ClientNetworkError", action=action, ambiguous=False,
                message="TLS to %s failed (%s). Set ca_path to a CA bundle that signs the endpoint's certificate, "
                        "or validate_certs=false for a test endpoint" % (self.host, _reason(exc)))
        except requests.exceptions.ConnectTimeout:
            raise TencentCloudAPIError(code="ClientNetworkError", action=action, ambiguous=False,
                                       message="Timed out connecting to %s after %ss" % (self.host, self.timeout))
        except requests.exceptions.ReadTimeout:
            raise TencentCloudAPIError(code="ClientNetworkError", action=action, ambiguous=True, timed_out=True,
                                       message="No answer from %s within %ss" % (self.host, self.timeout))
        except requests.exceptions.ConnectionError as exc:
            refused = _never_sent(exc)
            raise TencentCloudAPIError(
                code="ClientNetworkError", action=action, ambiguous=not refused,
                message="%s %s (%s)" % ("Could not connect to" if refused else "Connection lost with",
                                        self.host, _reason(exc)))
        except requests.exceptions.RequestException as exc:
            raise TencentCloudAPIError(code="ClientNetworkError", action=action, ambiguous=True,
                                       message="Request to %s failed (%s)" % (self.host, _reason(exc)))
        return self._parse(action, response)

    def _parse(self, action, response):
        if response.status_code != 200:
            raise TencentCloudAPIError(
                code="ServerNetworkError", action=action, ambiguous=response.status_code >= 500,
                http_status=response.status_code,
                message="%s answered HTTP %d instead of an API response" % (self.host, response.status_code))
        try:
            data = json.loads(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise TencentCloudAPIError(code="InvalidResponse", action=action, ambiguous=True,
                                       message="%s sent a body that is not valid JSON" % self.host)
        body = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(body, dict):
            raise TencentCloudAPIError(code="InvalidResponse", action=action, ambiguous=True,
                                       message="%s sent JSON without a Response object" % self.host)
        request_id = body.get("RequestId")
        if request_id:
            self.request_ids.append(request_id)
        error = body.get("Error")
        if error is not None:
            if not isinstance(error, dict):
                error = {"Code": "InvalidResponse", "Message": "malformed Error object"}
            raise TencentCloudAPIError(code=str(error.get("Code") or "UnknownError"),
                                       message=str(error.get("Message") or "").strip() or "no message",
                                       request_id=request_id, action=action)
        return body

    # ---------------------------------------------------------------------------------------------
    def _common_v1(self, action, timestamp):
        common = {
            "Action": action, "Version": API_VERSION, "Region": self.region, "Timestamp": str(timestamp),
            "Nonce": str(random.randint(1, 2 ** 31 - 1)), "SecretId": self.credentials.secret_id,
            "SignatureMethod": "HmacSHA256", "Language": self.language,
        }
        if self.credentials.token:
            common["Token"] = self.credentials.token
        return common

    def _build(self, action, params):
        timestamp = int(self.clock())
        if self.api_style == "tc3":
            body = json_body(params)
            headers = {
                "Content-Type": "application/json",
                "Host": self.host,
                "X-TC-Action": action,
                "X-TC-Version": API_VERSION,
                "X-TC-Timestamp": str(timestamp),
                "X-TC-Region": self.region,
                "X-TC-Language": self.language,
                "X-TC-RequestClient": USER_AGENT,
                "X-TC-TraceId": str(uuid.uuid4()),
            }
            if self.credentials.token:
                headers["X-TC-Token"] = self.credentials.token
            signed = tc3_sign(self.credentials.secret_id, self.credentials.secret_key, SERVICE, timestamp,
                              "POST", headers, body)
            headers["Authorization"] = signed["authorization"]
            return {"method": "POST", "url": self.url, "headers": headers, "data": body}
        flat = flatten_params(params)
        flat.update(self._common_v1(action, timestamp))
        method = "GET" if self.api_style == "legacy" else "POST"
        flat["Signature"] = v1_sign(self.credentials.secret_key, method, self.host, self.path, flat)
        encoded = form_encode(flat)
        if method == "GET":
            return {"method": "GET", "url": self.url + "?" + encoded, "headers": {"Host": self.host}}
        return {"method": "POST", "url": self.url, "data": encoded.encode("ascii"),
                "headers": {"Host": self.host, "Content-Type": "application/x-www-form-urlencoded"}}


def _never_sent(exc):
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "Connection refused", "Name or service not known",
                                             "nodename nor servname", "Temporary failure in name resolution",
                                             "No route to host", "Network is unreachable"))


def _reason(exc):
    """A short cause without the request URL (a legacy GET URL carries the session token)."""
    seen, depth = exc, 0
    while seen is not None and depth < 10:
        depth += 1
        for marker, text in (("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"),
                             ("WRONG_VERSION_NUMBER", "the server does not speak TLS on this port"),
                             ("Connection refused", "connection refused"),
                             ("RemoteDisconnected", "the server closed the connection without an answer"),
                             ("Connection reset", "connection reset by peer"),
                             ("Name or service not known", "unknown host name"),
                             ("Temporary failure in name resolution", "host name lookup failed")):
            if marker in repr(seen) or marker in str(seen):
                return text
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = seen.__cause__ or seen.__context__ or nested
    return type(exc).__name__
