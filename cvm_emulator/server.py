# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP front of the emulator: protocol parsing, authentication, faults, admin API."""

from __future__ import annotations

import hmac
import json
import re
import secrets
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal, TypedDict, cast
from urllib.parse import SplitResult, parse_qsl, urlsplit

from . import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from .actions import (
    REGIONS, SCHEMAS, SSM_SCHEMAS, WRITE_ACTIONS, Actions, ApiError, Response, region_optional, route, schemas_of,
    unflatten, validate,
)
from .auth import (
    V1_COMMON, AuthError, Tc3Authorization, check_timestamp, constant_equal, parse_tc3_authorization,
    tc3_expected_signature, utc_date, v1_expected_signature,
)
from .admin import AdminApi
from .faults import FaultError, FaultRule, Faults
from .instances import Lifecycle
from .secrets import SecretActions
from .store import JSON, Store

API_WINDOW = 300          # API 3.0: five minutes either way
LEGACY_WINDOW = 7200      # the legacy gateway documents two hours
LEGACY_PATH = "/v2/index.php"
ADMIN_PREFIX = "/_emulator/"
MAX_BODY = 10 * 1024 * 1024   # the largest body the API takes (TC3 POST, 10 MB: reference section 2.1)
# After refusing a request from its headers alone, the rest of what the client sends is discarded (never parsed,
# never kept) for at most this long and this much, so that the client can read the answer before the connection is
# closed: closing a socket with unread data resets it, and a reset can destroy the answer in flight.
LINGER_SECONDS = 1.0
LINGER_BYTES = 1024 * 1024
_DIGITS = re.compile(r"[0-9]+")
ADMIN_TOKEN_ENV = "CVM_EMULATOR_ADMIN_TOKEN"

# What goes out: bytes as they are, an object or a list as JSON (Handler._send).
Body = bytes | dict[str, JSON] | list[JSON]
# (HTTP status, body, Content-Type)
Answer = tuple[int, Body, str]


class Credential(TypedDict):
    secret_key: str
    token: str | None  # the session token a request must carry, if any
    token_expired: bool


class _LogEntryFields(TypedDict):
    time: float
    method: str
    path: str
    action: str | None
    service: str | None
    region: str | None
    signature_method: str | None
    secret_id: str | None
    code: str
    request_id: str
    faults: list[str]
    key_name: str | None
    client_port: int


class LogEntry(_LogEntryFields, total=False):
    """An API request as the admin API's /_emulator/requests lists it."""
    write: bool
    duration_ms: float
    _post: list[FaultRule]  # the faults the answer still has to carry out; removed before the entry is logged


class _Context(TypedDict):
    signature_method: str
    method: str
    secret_id: str
    action: str
    version: str
    region: str
    timestamp: str | None
    token: str | None
    params: dict[str, JSON] | list[JSON]  # a list from a form/query of indexes only (actions.unflatten)
    from_strings: bool


class Tc3Context(_Context):
    """A TC3-HMAC-SHA256 request: what authentication and the action need."""
    style: Literal["tc3"]
    auth: Tc3Authorization
    headers: dict[str, str]
    raw_query: str
    body: bytes


class V1Context(_Context):
    """A v1 (HmacSHA256/HmacSHA1) request: what authentication and the action need."""
    style: Literal["v1"]
    flat: dict[str, str]
    path: str


RequestContext = Tc3Context | V1Context


class _Drop(Exception):
    """Close the connection without an answer."""


class Emulator:
    """Everything the handlers share."""

    def __init__(self, store: Store | None = None, credentials: Iterable[Mapping[str, JSON]] | None = None,
                 seed: int | None = None, verbose: bool = False, admin_token: str | None = None,
                 ssh: bool = False) -> None:
        """`admin_token`: the secret every admin call must carry (`Authorization: Bearer <token>`); a random one
        when not given. `ssh`: whether the admin API may create instances served by a real sshd (which log in as
        the user running the emulator)."""
        if admin_token is not None and not _token_ok(admin_token):
            raise ValueError("the admin token must be 16 to 256 printable ASCII characters without spaces")
        self.admin_token = admin_token or secrets.token_urlsafe(32)
        self.ssh = bool(ssh)
        self.store = store or Store()
        self.actions = Actions(self.store)
        self.secrets = SecretActions(self.actions)
        self.actions.serve("ssm", self.secrets)
        self.faults = Faults(seed)
        self.verbose = verbose
        self.log_lock = threading.Lock()
        self.request_log: list[LogEntry] = []
        self.inflight = 0
        self.idle = threading.Condition(self.log_lock)
        self.credentials: dict[str, Credential] = {}
        self.default_rate_limits = "off"
        self.lifecycle = Lifecycle(self.store)
        self.admin = AdminApi(self)
        for cred in credentials or [{"secret_id": DEFAULT_SECRET_ID, "secret_key": DEFAULT_SECRET_KEY}]:
            self.add_credential(cred)

    def close(self) -> None:
        """Stops the lifecycle thread and every sshd it started."""
        self.lifecycle.close()

    def add_credential(self, cred: Mapping[str, JSON]) -> None:
        if not cred.get("secret_id") or not cred.get("secret_key"):
            raise ValueError("a credential needs secret_id and secret_key")
        self.credentials[cred["secret_id"]] = {
            "secret_key": cred["secret_key"], "token": cred.get("token") or None,
            "token_expired": bool(cred.get("token_expired", False)),
        }

    def now(self) -> float:
        return time.time() + float(self.store.setting("clock_offset"))

    def set_rate_limits(self, mode: str, default: bool = False) -> None:
        """"realistic": what the real service always enforces (10 requests/s for each CVM key-pair action, doc
        213/15702 and siblings; 20/s for Tag writes and 100/s for DescribeResourceTagsByResourceIds, doc 651/33003;
        20/s for each Secrets Manager action, the usual default of Tencent Cloud's API pages, unverified for SSM).
        "off": none (the default, for speed)."""
        if mode not in ("realistic", "off"):
            raise ValueError("rate_limits must be realistic or off")
        for action in SCHEMAS:  # CVM's and the Tag API's; DescribeRegions counts for the Region API's too
            per_second = 0 if mode == "off" else 20 if action == "ModifyResourceTags" else \
                100 if action == "DescribeResourceTagsByResourceIds" else 10
            self.faults.set_rate_limit(action, per_second)
        for action in SSM_SCHEMAS:
            self.faults.set_rate_limit(action, 0 if mode == "off" else 20)
        if default:  # what --rate-limits asked for: kept across /_emulator/reset
            self.default_rate_limits = mode

    def log(self, entry: LogEntry) -> None:
        with self.log_lock:
            self.request_log.append(entry)

    def begin(self) -> None:
        with self.log_lock:
            self.inflight += 1

    def end(self) -> None:
        with self.log_lock:
            self.inflight -= 1
            self.idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait for API requests in progress (a latency fault, say) so that a reset really starts clean."""
        with self.log_lock:
            return self.idle.wait_for(lambda: self.inflight == 0, timeout)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the client's delayed
    # ACK add ~40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    server_version = "cvm-emulator"
    sys_version = ""
    server: EmulatorServer  # the server this handler serves (socketserver sets it)

    @property
    def emu(self) -> Emulator:
        return self.server.emulator

    def log_message(self, fmt: str, *args: object) -> None:
        if self.emu.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    # plumbing ---------------------------------------------------------------------------------
    def _length_problem(self) -> tuple[int, str] | None:
        """(HTTP status, reason) when the body a request announces cannot be taken, else None. Judged from the
        headers alone, for every route, before any byte of a body is read and before any authentication:
          - Transfer-Encoding (chunked or any other), with or without Content-Length: 411 Length Required. The
            server reads bodies by Content-Length only; a body it cannot delimit must not be read, nor be taken
            for the next request on the connection (and both headers together is how requests are smuggled).
          - Content-Length that is not one run of ASCII digits (negative, signed, spaced, a list, non-ASCII
            digits, which int() would accept), or given more than once: 400 Bad Request.
          - Content-Length above MAX_BODY: 413 Content Too Large.
        No Content-Length and no Transfer-Encoding is a request without a body (RFC 9112, 6.3)."""
        if self.headers.get_all("Transfer-Encoding"):
            return 411, "a request body needs a Content-Length; Transfer-Encoding is not supported"
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return None
        value = values[0].strip(" \t")
        if len(values) > 1 or not _DIGITS.fullmatch(value):
            return 400, "Content-Length must be given once, as a decimal number of bytes"
        if len(value.lstrip("0")) > len(str(MAX_BODY)) or int(value) > MAX_BODY:
            return 413, "the request body may be at most %d bytes" % MAX_BODY
        return None

    def _refuse(self, status: int, reason: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Answer an HTTP error without reading the request's body, and close the connection: what the client
        still sends is never parsed as another request."""
        body = json.dumps({"error": reason}).encode("utf-8")
        self.close_connection = True
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        if self.headers.get_all("Transfer-Encoding") or (self.headers.get("Content-Length") or "0").strip() != "0":
            self._linger()

    def _linger(self) -> None:
        """After an answer that left a body unread: end our side, then discard (in a fixed buffer, bounded by
        LINGER_SECONDS and LINGER_BYTES) what the client is still sending, so that closing does not reset the
        connection under the answer."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline, discarded = time.monotonic() + LINGER_SECONDS, 0
            while discarded < LINGER_BYTES:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.connection.settimeout(left)
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                discarded += len(chunk)
        except OSError:  # the client went away, or the time is up
            pass

    def handle_expect_100(self) -> bool:
        """A client that waits for `100 Continue` before sending its body is refused before it sends it."""
        problem = self._length_problem()
        if problem:
            self._refuse(*problem)
            return False
        return super().handle_expect_100()

    def _body(self) -> bytes:
        """The body, by its Content-Length (already checked by _length_problem)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Body, content_type: str = "application/json") -> None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        problem = self._length_problem()
        if problem:  # every route: before any body is read and before authentication
            return self._refuse(*problem)
        url = urlsplit(self.path)
        if url.path.startswith(ADMIN_PREFIX):
            return self._admin(method, url)
        if url.path not in ("/", LEGACY_PATH) or method not in ("GET", "POST"):
            body = self._body()
            del body
            return self._send(404, b"not found\n", "text/plain")
        self._api(method, url)

    # the Tencent protocol -------------------------------------------------------------------
    def _api(self, method: str, url: SplitResult) -> None:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        entry: LogEntry
        entry = {"time": time.time(), "method": method, "path": url.path, "action": None, "service": None,
                 "region": None,
                 "signature_method": None, "secret_id": None, "code": "OK", "request_id": request_id,
                 "faults": [], "key_name": None, "client_port": self.client_address[1]}
        self.emu.begin()
        answer: Answer | None = None
        try:
            body = self._body()
            try:
                response = self._handle(method, url, body, entry)
            except (ApiError, AuthError) as exc:
                entry["code"] = exc.code
                response = {"Error": {"Code": exc.code, "Message": exc.message}}
            response["RequestId"] = request_id
            answer = self._answer(response, entry)
        except _Drop:
            answer = None
        except _Handled as handled:
            answer = handled.args[0]
        except Exception:
            entry["code"] = "EmulatorBug"  # closes the connection; the traceback goes to stderr
            raise
        finally:
            # The log entry is recorded before the client can see any answer, so that the log's order is the
            # order in which the client observed its calls.
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            entry.pop("_post", None)
            self.emu.log(entry)
            try:
                if answer is None:
                    self._drop()
                else:
                    self._send(*answer)
            finally:
                self.emu.end()

    def _answer(self, response: Response, entry: LogEntry) -> Answer:
        """(status, body, content type) for the response, after the post-processing faults; raises _Drop."""
        post = list(entry.pop("_post", []))
        modes = {f["mode"]: f for f in post}
        if "hold" in modes:  # the action is committed; the answer waits (a client can be interrupted right here)
            time.sleep(modes["hold"]["latency"])
        if "close_after" in modes:
            raise _Drop()
        if "private_key_no_newline" in modes and isinstance(response.get("KeyPair"), dict):
            response["KeyPair"]["PrivateKey"] = response["KeyPair"].get("PrivateKey", "").rstrip("\n")
        if "no_response" in modes:
            return 200, {"RequestId": response["RequestId"], "Result": response}, "application/json"
        if "missing_fields" in modes:
            return 200, {"Response": {"RequestId": response["RequestId"]}}, "application/json"
        payload = json.dumps({"Response": response}).encode("utf-8")
        if "malformed_json" in modes:
            return 200, payload[: max(1, len(payload) // 2)], "application/json"
        if "wrong_content_type" in modes:
            return 200, payload, "application/json; charset=utf-8"
        return 200, payload, "application/json"

    def _handle(self, method: str, url: SplitResult, body: bytes, entry: LogEntry) -> Response:
        legacy = url.path == LEGACY_PATH
        auth_header = self.headers.get("Authorization")
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        ctx: RequestContext
        if auth_header and not legacy:
            ctx = self._tc3(method, url, body, auth_header, content_type)
        else:
            if auth_header and legacy:
                raise AuthError("AuthFailure.InvalidAuthorization",
                                "The legacy gateway accepts only the v1 signature in request parameters.")
            ctx = self._v1(method, url, body, content_type, legacy)
        action = ctx["action"]
        # CVM and the Region API both have DescribeRegions: the signed service (TC3) or the Version (v1) tells which
        service, version = route(action, ctx["version"], ctx["auth"]["service"] if ctx["style"] == "tc3" else None)
        entry.update({"action": action, "service": service, "region": ctx["region"],
                      "signature_method": ctx["signature_method"], "secret_id": ctx["secret_id"],
                      "write": action in WRITE_ACTIONS})
        if legacy and service != "cvm":
            raise ApiError("InvalidAction", "The legacy gateway serves CVM actions only.")
        self._authenticate(ctx, legacy, service)
        if action not in schemas_of(service):
            raise ApiError("InvalidAction", "The action `%s` does not exist." % action)
        if ctx["version"] != version:
            raise ApiError("NoSuchVersion", "The API version `%s` does not exist for %s." % (ctx["version"], service))
        if not ctx["region"] and not region_optional(service, action):
            raise ApiError("MissingParameter", "The request is missing a required parameter `Region`.")
        if ctx["region"] and ctx["region"] not in REGIONS:  # given where it is not needed, it must still be one
            raise ApiError("UnsupportedRegion", "The region `%s` is not supported." % ctx["region"])

        fired = self.emu.faults.take(action)
        entry["faults"] = [f["mode"] for f in fired]
        handled_here = ("latency", "error", "http_error", "close_before", "operation_failed")
        entry["_post"] = [f for f in fired if f["mode"] not in handled_here]
        failed = next((f for f in fired if f["mode"] == "operation_failed"), None)
        for fault in fired:
            if fault["mode"] == "latency":
                time.sleep(fault["latency"])
        for fault in fired:
            if fault["mode"] == "close_before":
                raise _Drop()
            if fault["mode"] == "http_error":
                entry["code"] = "HTTP%d" % fault["status"]
                raise _Handled((fault["status"],
                                b"<html><body><h1>%d Server Error</h1></body></html>\n" % fault["status"],
                                "text/html"))
            if fault["mode"] == "error":
                raise ApiError(fault["code"], fault["message"] or "Injected fault: %s." % fault["code"])
        over = self.emu.faults.over_rate(action)
        if over:
            raise ApiError("RequestLimitExceeded",
                           "Your current request times equals to `%d` in a second, which exceeds the frequency "
                           "limit `%d` for a second. Please reduce the frequency of calls." % over)

        given = ctx["params"]
        if isinstance(given, list):  # a signed query or form of indexes only (`0=x`): names no parameter of the API
            raise ApiError("UnknownParameter", "The parameter `0` is not recognized.")
        params = validate(action, given, ctx["from_strings"], service)
        if isinstance(params.get("KeyName"), str):
            entry["key_name"] = params["KeyName"]
        with self.emu.store:
            result = self.emu.actions.run(action, ctx["region"], params, request_id=entry["request_id"],
                                          fail=failed and (failed["message"] or "Injected fault: the operation failed."),
                                          service=service)
        return result

    def _tc3(self, method: str, url: SplitResult, body: bytes, auth_header: str, content_type: str) -> Tc3Context:
        auth = parse_tc3_authorization(auth_header)
        if method == "POST" and content_type != "application/json":
            raise ApiError("InvalidParameter",
                           "A TC3-HMAC-SHA256 POST request must have Content-Type application/json.")
        params: dict[str, JSON] | list[JSON]
        if method == "POST":
            try:
                params = json.loads(body.decode("utf-8")) if body else {}
            except (UnicodeDecodeError, ValueError):
                raise ApiError("InvalidParameter", "The request body is not valid JSON.")
            if not isinstance(params, dict):
                raise ApiError("InvalidParameter", "The request body must be a JSON object.")
            from_strings = False
        else:
            params = unflatten(_single(parse_qsl(url.query, keep_blank_values=True)))
            from_strings = True
        headers = {k.lower(): v for k, v in self.headers.items()}
        return {
            "style": "tc3", "signature_method": "TC3-HMAC-SHA256", "auth": auth, "headers": headers,
            "method": method, "raw_query": url.query if method == "GET" else "", "body": body,
            "secret_id": auth["secret_id"], "action": headers.get("x-tc-action", ""),
            "version": headers.get("x-tc-version", ""), "region": headers.get("x-tc-region", ""),
            "timestamp": headers.get("x-tc-timestamp"), "token": headers.get("x-tc-token"),
            "params": params, "from_strings": from_strings,
        }

    def _v1(self, method: str, url: SplitResult, body: bytes, content_type: str, legacy: bool) -> V1Context:
        if method == "POST":
            if content_type != "application/x-www-form-urlencoded":
                raise AuthError("AuthFailure.InvalidAuthorization",
                                "The request has no Authorization header and no v1 signature parameters.")
            raw = body.decode("utf-8", "replace")
        else:
            raw = url.query
        flat = _single(parse_qsl(raw, keep_blank_values=True))
        for name in ("Action", "SecretId", "Signature", "Timestamp", "Nonce"):
            if name not in flat:
                raise ApiError("MissingParameter", "The request is missing a required parameter `%s`." % name)
        business = {k: v for k, v in flat.items() if k not in V1_COMMON}
        return {
            "style": "v1", "signature_method": flat.get("SignatureMethod", "HmacSHA1"), "flat": flat,
            "method": method, "path": url.path, "secret_id": flat["SecretId"], "action": flat["Action"],
            "version": flat.get("Version", ""), "region": flat.get("Region", ""), "timestamp": flat["Timestamp"],
            "token": flat.get("Token"), "params": unflatten(business), "from_strings": True,
        }

    def _authenticate(self, ctx: RequestContext, legacy: bool, service: str = "cvm") -> None:
        cred = self.emu.credentials.get(ctx["secret_id"])
        if cred is None:
            raise AuthError("AuthFailure.SecretIdNotFound", "The SecretId `%s` is not found." % ctx["secret_id"])
        window = LEGACY_WINDOW if legacy else API_WINDOW
        ts = check_timestamp(ctx["timestamp"], self.emu.now(), window)
        if ctx["style"] == "tc3":
            auth = ctx["auth"]
            if auth["service"] != service:
                raise AuthError("AuthFailure.SignatureFailure",
                                "The credential scope service must be `%s` for %s." % (service, ctx["action"]))
            if auth["date"] != utc_date(ts):
                raise AuthError("AuthFailure.SignatureFailure",
                                "The credential scope date `%s` is not the UTC date of X-TC-Timestamp." % auth["date"])
            expected = tc3_expected_signature(
                cred["secret_key"], ctx["method"], ctx["raw_query"], ctx["headers"], auth["signed_headers"],
                ctx["body"], ts, auth["date"], service)
            given = auth["signature"]
        else:
            host = self.headers.get("Host", "")
            expected = v1_expected_signature(cred["secret_key"], ctx["method"], host, ctx["path"], ctx["flat"],
                                             ctx["signature_method"])
            given = ctx["flat"]["Signature"]
        if not constant_equal(expected, given):
            raise AuthError("AuthFailure.SignatureFailure",
                            "The provided credentials could not be validated. Please check your signature is correct.")
        if cred["token"] is not None:
            if ctx["token"] is None or not constant_equal(ctx["token"], cred["token"]):
                raise AuthError("AuthFailure.TokenFailure", "The token is invalid.")
            if cred["token_expired"]:
                raise AuthError("AuthFailure.TokenFailure", "The token has expired.")

    # admin API --------------------------------------------------------------------------------
    def _admin(self, method: str, url: SplitResult) -> None:
        name = url.path[len(ADMIN_PREFIX):].strip("/")
        # Authentication first, before the body is even read: without the token nothing is done, whoever can
        # reach the port (another local user, a container sharing the network, a web page's cross-site POST), and
        # the connection is closed with the body unread.
        given = self.headers.get("Authorization") or ""
        scheme, _space, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode("utf-8", "replace"),
                                                                 self.emu.admin_token.encode("utf-8")):
            return self._refuse(401, "the admin API needs the emulator's admin token: Authorization: Bearer <token> "
                                     "(printed at start as `admin-token: ...`)",
                                [("WWW-Authenticate", 'Bearer realm="cvm-emulator admin"')])
        raw = self._body()
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if (raw or method == "POST") and content_type != "application/json":
            return self._send(415, {"error": "admin calls take Content-Type: application/json"})
        try:
            spec = json.loads(raw.decode("utf-8")) if raw else {}
            if not isinstance(spec, dict):
                raise ValueError("the body must be a JSON object")
            result = self.emu.admin.route(method, name, spec)
            self._send(200, result if result is not None else {"ok": True})
        except (FaultError, ValueError, KeyError, TypeError) as exc:
            self._send(400, {"error": "%s: %s" % (type(exc).__name__, exc)})
        except ApiError as exc:
            self._send(400, {"error": "%s: %s" % (exc.code, exc.message)})
        except LookupError as exc:
            self._send(404, {"error": str(exc)})


class _Handled(Exception):
    pass


def _token_ok(token: object) -> bool:
    return isinstance(token, str) and 16 <= len(token) <= 256 and all(33 <= ord(c) <= 126 for c in token)


def _single(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise ApiError("InvalidParameter", "The parameter `%s` is given more than once." % key)
        out[key] = value
    return out


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0, tls_cert: str | None = None,
                 tls_key: str | None = None) -> None:
        super().__init__((host, port), Handler)
        self.emulator = emulator
        self.scheme = "http"
        if tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_cert, tls_key)
            self.socket = context.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"

    @property
    def url(self) -> str:
        # an AF_INET or AF_INET6 socket's own address: the host is a str
        host, port = cast("tuple[str, int]", self.server_address[:2])
        if ":" in host:
            host = "[%s]" % host
        return "%s://%s:%d" % (self.scheme, host, port)

    def server_close(self) -> None:
        super().server_close()
        self.emulator.close()

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        # A client that went away mid-answer is normal under fault injection; anything else is a bug to show.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def start(host: str = "127.0.0.1", port: int = 0, db: str = ":memory:",
          credentials: Iterable[Mapping[str, JSON]] | None = None, tls_cert: str | None = None,
          tls_key: str | None = None, seed: int | None = None, verbose: bool = False, admin_token: str | None = None,
          ssh: bool = False) -> EmulatorServer:
    """Start a server in a background thread (for in-process tests). Returns the server (its admin token is
    server.emulator.admin_token); call shutdown()."""
    server = EmulatorServer(Emulator(Store(db), credentials, seed, verbose, admin_token, ssh), host, port, tls_cert,
                            tls_key)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server
