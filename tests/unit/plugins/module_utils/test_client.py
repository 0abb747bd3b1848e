# SPDX-License-Identifier: GPL-3.0-or-later
"""The client against a real emulator on 127.0.0.1: styles, error envelope, retries, faults, proxies, TLS."""

import base64
import json
import socket

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core import transport as _transport
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings, parse_endpoint
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import ArgumentError, TencentCloudAPIError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.wait import Again, Backoff, Exhausted, Waiter
from helpers import CREDS, HostileEndpoint, drip, forwarding_proxy, make_client, self_signed, tls_proxy
import pytest


def make(emulator, api_style="tc3", retries=3, sleeps=None, **kw):
    """A client of the emulator; `kw` are Settings fields, or secret_id/secret_key/token."""
    sleeps = [] if sleeps is None else sleeps
    kw.setdefault("timeout", 10)
    return make_client(emulator.url, sleep=sleeps.append, api_style=api_style, retries=retries, **kw)


def plain(**settings):
    """A client with made-up credentials, for what happens before any call."""
    return Client(Credentials("a", "b"), Settings(region="ap-guangzhou", **settings))


@pytest.mark.parametrize("style", ["tc3", "v1", "legacy"])
def test_styles_create_and_describe(emulator, style):
    client = make(emulator, style)
    pair = client.call("CreateKeyPair", {"KeyName": "k_" + style, "ProjectId": 0,
                                         "TagSpecification": [{"ResourceType": "keypair",
                                                               "Tags": [{"Key": "t", "Value": "测试 team"}]}]},
                       retry=False)["KeyPair"]
    found = client.call("DescribeKeyPairs", {"Filters": [{"Name": "key-name", "Values": ["k_" + style]}]})
    assert found["KeyPairSet"][0]["KeyId"] == pair["KeyId"]
    assert found["KeyPairSet"][0]["Tags"] == [{"Key": "t", "Value": "测试 team"}]
    assert len(client.request_ids) == 2
    log = emulator.requests()
    assert {r["path"] for r in log} == {"/v2/index.php" if style == "legacy" else "/"}
    assert {r["signature_method"] for r in log} == {"TC3-HMAC-SHA256" if style == "tc3" else "HmacSHA256"}


def test_token_is_sent(emulator):
    emulator.credential(secret_id="AKIDsts", secret_key="stskey", token="tok")
    for style in ("tc3", "v1", "legacy"):
        make(emulator, style, secret_id="AKIDsts", secret_key="stskey", token="tok").call("DescribeKeyPairs", {})
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, secret_id="AKIDsts", secret_key="stskey").call("DescribeKeyPairs", {})
    assert info.value.code == "AuthFailure.TokenFailure"


def test_error_envelope_becomes_one_exception(emulator):
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, secret_key="wrong").call("DescribeKeyPairs", {})
    exc = info.value
    assert exc.code == "AuthFailure.SignatureFailure" and exc.request_id and not exc.ambiguous
    assert str(exc).endswith("(AuthFailure.SignatureFailure, RequestId %s)" % exc.request_id)
    assert exc.as_failure() == {"code": exc.code, "message": exc.message, "request_id": exc.request_id}


def test_throttling_is_retried_with_backoff(emulator):
    emulator.fault(action="DescribeKeyPairs", mode="error", code="RequestLimitExceeded", count=2)
    sleeps = []
    client = make(emulator, sleeps=sleeps)
    assert client.call("DescribeKeyPairs", {})["TotalCount"] == 0
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1] * 2
    assert len(client.request_ids) == 3


def test_retries_run_out(emulator):
    emulator.fault(action="DeleteKeyPairs", mode="error", code="InternalError", count=5)
    sleeps = []
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, retries=2, sleeps=sleeps).call("DeleteKeyPairs", {"KeyIds": ["skey-aaaaaaaa"]})
    assert info.value.code == "InternalError" and len(sleeps) == 2


def test_create_is_never_retried(emulator):
    emulator.fault(action="CreateKeyPair", mode="error", code="InternalError", count=1)
    sleeps = []
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, sleeps=sleeps).call("CreateKeyPair", {"KeyName": "x", "ProjectId": 0}, retry=False)
    assert info.value.code == "InternalError" and info.value.retryable  # retryable, but not retried here
    assert sleeps == [] and emulator.key_pairs() == []


@pytest.mark.parametrize("mode,code,ambiguous", [
    ("http_error", "ServerNetworkError", True),
    ("malformed_json", "InvalidResponse", True),
    ("no_response", "InvalidResponse", True),
    ("close_before", "ClientNetworkError", True),
    ("close_after", "ClientNetworkError", True),
])
def test_transport_faults(emulator, mode, code, ambiguous):
    emulator.fault(action="CreateKeyPair", mode=mode, status=502)
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator).call("CreateKeyPair", {"KeyName": "x", "ProjectId": 0}, retry=False)
    assert (info.value.code, info.value.ambiguous, info.value.request_id) == (code, ambiguous, None)


def test_5xx_on_reads_is_retried(emulator):
    emulator.fault(action="DescribeKeyPairs", mode="http_error", status=503, count=1)
    emulator.fault(action="DescribeKeyPairs", mode="close_before", count=1)
    assert make(emulator).call("DescribeKeyPairs", {})["TotalCount"] == 0


def test_timeout_is_ambiguous(emulator):
    emulator.fault(action="CreateKeyPair", mode="latency", latency=1.0)
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, timeout=0.3).call("CreateKeyPair", {"KeyName": "x", "ProjectId": 0}, retry=False)
    assert info.value.ambiguous and "within 0.3s" in info.value.message


def test_refused_connection_is_not_ambiguous(emulator):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, endpoint="http://127.0.0.1:%d" % port, retries=0).call("CreateKeyPair", {}, retry=False)
    assert not info.value.ambiguous and "connection refused" in info.value.message


def test_proxy_variables_skip_loopback(emulator, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert make(emulator).call("DescribeKeyPairs", {})["TotalCount"] == 0
    assert make(emulator).proxy is None
    assert plain().proxy[:2] == ("127.0.0.1", 9)  # real endpoints use it
    monkeypatch.setenv("NO_PROXY", "example.com,.tencentcloudapi.com")
    assert plain().proxy is None


def test_requests_go_through_an_http_proxy(emulator, monkeypatch):
    """A real forwarding proxy on 127.0.0.1: the endpoint's name only resolves through it."""
    server, seen = forwarding_proxy(emulator.url)
    try:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:%d" % server.server_address[1])
        client = make(emulator, endpoint="http://cvm.proxied.invalid:8080", retries=0, allow_insecure_http=True)
        assert client.call("DescribeKeyPairs", {})["TotalCount"] == 0
        assert seen == [("http://cvm.proxied.invalid:8080/", None)]
    finally:
        server.shutdown()
        server.server_close()


def test_http_proxy_with_credentials(emulator, monkeypatch):
    server, seen = forwarding_proxy(emulator.url, credentials=("me", "p@ss:word"))
    try:
        port = server.server_address[1]
        monkeypatch.setenv("HTTP_PROXY", "http://me:p%%40ss%%3Aword@127.0.0.1:%d/" % port)
        client = make(emulator, endpoint="http://cvm.proxied.invalid:8080", retries=0, allow_insecure_http=True)
        assert client.call("DescribeKeyPairs", {})["TotalCount"] == 0
        assert seen == [("http://cvm.proxied.invalid:8080/", "Basic " + base64.b64encode(b"me:p@ss:word").decode())]
        monkeypatch.setenv("HTTP_PROXY", "http://me:wrong@127.0.0.1:%d" % port)
        with pytest.raises(TencentCloudAPIError, match="answered HTTP 407") as info:
            make(emulator, endpoint="http://cvm.proxied.invalid:8080", retries=3,
                 allow_insecure_http=True).call("DescribeKeyPairs", {})
        assert info.value.code == "ServerNetworkError" and len(seen) == 2  # not retried
        assert "wrong" not in str(info.value)
    finally:
        server.shutdown()
        server.server_close()


def test_keep_alive_connection_is_reused_and_survives_server_close(emulator):
    _transport._POOL.clear()
    client = make(emulator)
    client.call("DescribeKeyPairs", {})
    client.call("DescribeKeyPairs", {})
    make(emulator).call("DescribeKeyPairs", {})  # another client in the same process shares the pool
    first, second, third = [r["client_port"] for r in emulator.requests()]
    assert first == second == third  # one TCP connection for all three calls
    for conn in _transport._POOL.values():  # the server goes away between two calls
        conn.sock.shutdown(2)
    assert client.call("DescribeKeyPairs", {})["TotalCount"] == 0
    assert emulator.requests()[-1]["client_port"] != first  # a new connection, transparently


def test_legacy_url_secrets_stay_out_of_errors(emulator):
    emulator.fault(action="DescribeKeyPairs", mode="close_before", count=10)
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, "legacy", token="SECRET-TOKEN-XYZ", retries=0).call("DescribeKeyPairs", {})
    assert "SECRET-TOKEN-XYZ" not in str(info.value) and "Signature" not in str(info.value)


@pytest.mark.parametrize("endpoint,expected", [
    (None, ("https", "cvm.tencentcloudapi.com")),
    ("cvm.ap-guangzhou.tencentcloudapi.com", ("https", "cvm.ap-guangzhou.tencentcloudapi.com")),
    ("http://127.0.0.1:8080", ("http", "127.0.0.1:8080")),
    ("https://Example.COM/", ("https", "example.com")),
    ("127.0.0.1:9000", ("https", "127.0.0.1:9000")),
])
def test_parse_endpoint(endpoint, expected):
    assert parse_endpoint(endpoint) == expected


def test_parse_endpoint_legacy_default():
    assert parse_endpoint(None, "legacy") == ("https", "cvm.api.qcloud.com")


@pytest.mark.parametrize("endpoint,message", [
    ("ftp://x", "scheme must be http or https"), ("http://host:notaport", "invalid host or port"),
    ("http://u:p@host", "must not hold a user or password"), ("http://host/path", "must not have a path"),
    ("http://", "not a host name or a base URL"), ("https://host?x=1", "not a host name or a base URL"),
    ("https://me:s3cret/x@host", "invalid host or port|must not hold"), ("https://ho st", "not a host name"),
])
def test_parse_endpoint_rejects(endpoint, message):
    with pytest.raises(ArgumentError, match=message) as info:
        parse_endpoint(endpoint)
    assert info.value.code == "InvalidArgument" and "s3cret" not in info.value.msg and "u:p" not in info.value.msg


def test_retry_delay_is_bounded_exponential_with_jitter():
    backoff = Backoff(first=0.5, factor=2.0, ceiling=20, jitter=True)
    assert backoff.delay(0, rand=lambda: 0) == 0.25 and backoff.delay(0, rand=lambda: 1) == 0.5
    assert backoff.delay(3, rand=lambda: 1) == 4.0
    assert Backoff(first=0.5, factor=2.0, ceiling=5, jitter=True).delay(10, rand=lambda: 1) == 5.0
    assert Backoff(first=1, factor=2, ceiling=10).delay(2) == 4 and Backoff(first=1, factor=2, ceiling=10).delay(9) == 10


def test_wait_until_is_bounded_by_attempts_or_by_a_deadline_even_with_a_sleep_that_returns_at_once():
    sleeps, calls = [], []

    def never():
        calls.append(1)
        raise Again("still %d" % len(calls))

    waiter = Waiter(lambda: 1000.0, sleeps.append)  # a clock that stands still, a sleep that returns at once
    with pytest.raises(Exhausted, match="still 3"):
        waiter.wait_until(never, Backoff(first=1, factor=2, ceiling=10), attempts=3)
    assert len(calls) == 3 and sleeps == [1, 2]
    sleeps.clear()
    with pytest.raises(Exhausted, match="still"):
        waiter.wait_until(never, Backoff(first=1, factor=2, ceiling=10), deadline=1000.0 + 30)
    assert sum(sleeps) <= 30 and sleeps == [1, 2, 4, 8, 10]  # the time slept counts when the clock stands still
    assert waiter.wait_until(lambda: "done", Backoff()) == "done"


def test_request_body_is_what_was_signed(emulator):
    client = make(emulator)
    _method, _path, headers, body = client._build("DescribeKeyPairs",
                                                  {"Filters": [{"Name": "key-name", "Values": ["é"]}]})
    assert body == json.dumps({"Filters": [{"Name": "key-name", "Values": ["é"]}]}, separators=(",", ":")).encode()
    assert headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=%s/" % CREDS["secret_id"])


def test_https_through_a_connect_proxy(monkeypatch, tmp_path):
    """HTTPS tunnelled through a real CONNECT proxy on 127.0.0.1, certificate checked against ca_path."""
    import socketserver
    import threading

    from helpers import self_signed

    from cvm_emulator.server import start

    cert, key = self_signed(tmp_path, names=("cvm.tunnel.invalid",))
    server = start(tls_cert=cert, tls_key=key)
    port = server.server_address[1]
    seen, auth = [], []

    class Tunnel(socketserver.BaseRequestHandler):
        def handle(self):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                head += chunk
            seen.append(head.split(b"\r\n", 1)[0].decode())
            auth.extend(line.split(b": ", 1)[1].decode() for line in head.split(b"\r\n")
                        if line.lower().startswith(b"proxy-authorization:"))
            upstream = socket.create_connection(("127.0.0.1", port))
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

            def pipe(src, dst):
                try:
                    while True:
                        data = src.recv(65536)
                        if not data:
                            break
                        dst.sendall(data)
                except OSError:
                    pass
                finally:
                    for sock in (src, dst):
                        try:
                            sock.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass

            back = threading.Thread(target=pipe, args=(upstream, self.request), daemon=True)
            back.start()
            pipe(self.request, upstream)
            back.join(5)
            upstream.close()

    proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", "http://tunnel%%20user:s3cr%%3At@127.0.0.1:%d" % proxy.server_address[1])
        client = make_client(None, endpoint="https://cvm.tunnel.invalid:%d" % port, ca_path=cert, retries=0,
                             timeout=10)
        assert client.proxy[:2] == ("127.0.0.1", proxy.server_address[1])
        assert client.call("DescribeKeyPairs", {})["TotalCount"] == 0
        assert seen[0].startswith("CONNECT cvm.tunnel.invalid:%d HTTP/1." % port) and len(seen) == 1  # 1.0: Py 3.10
        assert auth == ["Basic " + base64.b64encode(b"tunnel user:s3cr:t").decode()]  # percent-decoded
        assert "s3cr" not in repr(client.proxy)
        with pytest.raises(TencentCloudAPIError) as info:
            make_client(None, endpoint="https://cvm.tunnel.invalid:%d" % port, retries=0,
                        timeout=10).call("DescribeKeyPairs", {})
        assert "certificate verify failed" in info.value.message and not info.value.ambiguous
    finally:
        proxy.shutdown()
        proxy.server_close()
        server.shutdown()
        server.server_close()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("fault,code,attempts", [
    (dict(mode="error", code="InternalError"), "InternalError", 3),
    (dict(mode="http_error", status=503), "ServerNetworkError", 3),
    (dict(mode="close_before"), "ClientNetworkError", 3),
    (dict(mode="http_error", status=404), "ServerNetworkError", 1),
    (dict(mode="http_error", status=403), "ServerNetworkError", 1),
    (dict(mode="http_error", status=407), "ServerNetworkError", 1),
    (dict(mode="error", code="InvalidParameter"), "InvalidParameter", 1),
    (dict(mode="error", code="AuthFailure.SignatureFailure"), "AuthFailure.SignatureFailure", 1),
], ids=str)
def test_what_is_retried(emulator, fault, code, attempts):
    emulator.fault(action="DescribeKeyPairs", count=10, **fault)
    sleeps = []
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, retries=2, sleeps=sleeps).call("DescribeKeyPairs", {})
    assert info.value.code == code
    assert len(emulator.requests()) == attempts and len(sleeps) == attempts - 1


@pytest.mark.parametrize("code", ["RequestLimitExceeded", "RequestLimitExceeded.UinLimitExceeded"])
def test_throttling_is_retried_within_its_time_not_against_retries(emulator, code):
    """Three throttled answers, retries=0: all three are tried again (throttling did nothing), the fourth works."""
    emulator.fault(action="DescribeKeyPairs", mode="error", code=code, count=3)
    sleeps = []
    answer = make(emulator, retries=0, sleeps=sleeps, throttle_timeout=30).call("DescribeKeyPairs", {})
    assert "KeyPairSet" in answer and len(emulator.requests()) == 4 and len(sleeps) == 3
    assert [r["code"] for r in emulator.requests()] == [code] * 3 + ["OK"]


def test_throttling_beyond_its_time_fails_with_the_code(emulator):
    """Throttled for longer than throttle_timeout: the throttled answer is the failure; the sleeps stay within it."""
    emulator.fault(action="DescribeKeyPairs", mode="error", code="RequestLimitExceeded", count=1000)
    sleeps = []
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, retries=5, sleeps=sleeps, throttle_timeout=6, retry_max_delay=2).call("DescribeKeyPairs", {})
    assert info.value.code == "RequestLimitExceeded"
    assert sum(sleeps) <= 6 and len(sleeps) >= 3 and len(emulator.requests()) == len(sleeps) + 1


def test_throttle_timeout_zero_fails_at_the_first_throttled_answer(emulator):
    emulator.fault(action="DescribeKeyPairs", mode="error", code="RequestLimitExceeded", count=2)
    sleeps = []
    with pytest.raises(TencentCloudAPIError, match="throttl|limit|Limit") as info:
        make(emulator, retries=5, sleeps=sleeps, throttle_timeout=0).call("DescribeKeyPairs", {})
    assert info.value.code == "RequestLimitExceeded" and sleeps == [] and len(emulator.requests()) == 1


def test_retry_false_never_retries_a_throttled_answer(emulator):
    emulator.fault(action="DescribeKeyPairs", mode="error", code="RequestLimitExceeded", count=2)
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, retries=5).call("DescribeKeyPairs", {}, retry=False)
    assert info.value.code == "RequestLimitExceeded" and len(emulator.requests()) == 1


@pytest.mark.parametrize("endpoint,reason,retried", [
    ("refused", "connection refused", True),
    ("tls", "the endpoint speaks plain HTTP, not TLS: use http://127.0.0.1:", False),
    ("dns", "host name", False),
])
def test_connection_failures_retried_only_when_transient(emulator, endpoint, reason, retried):
    url = {"refused": "http://127.0.0.1:%d" % _free_port(),
           "tls": emulator.url.replace("http://", "https://"),
           "dns": "https://cvm.does-not-exist.invalid"}[endpoint]
    sleeps = []
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, endpoint=url, retries=2, sleeps=sleeps).call("DescribeKeyPairs", {})
    assert info.value.code == "ClientNetworkError" and reason in info.value.message
    assert len(sleeps) == (2 if retried else 0)


@pytest.mark.parametrize("code", ["RequestLimitExceeded", "RequestLimitExceeded.UinLimitExceeded"])
def test_create_is_retried_when_throttled(emulator, code):
    """A throttled CreateKeyPair was not carried out: safe to send again, whatever retries says."""
    emulator.fault(action="CreateKeyPair", mode="error", code=code, count=2)
    sleeps = []
    make(emulator, retries=0, sleeps=sleeps).call("CreateKeyPair", {"KeyName": "x", "ProjectId": 0},
                                                  retry="throttled")
    assert [r["code"] for r in emulator.requests()] == [code, code, "OK"] and len(emulator.key_pairs()) == 1


@pytest.mark.parametrize("code", ["InternalError", "InternalServerError"])
def test_create_is_not_retried_otherwise(emulator, code):
    """Anything but throttling may have been carried out: never sent again."""
    emulator.fault(action="CreateKeyPair", mode="error", code=code, count=10)
    sleeps = []
    with pytest.raises(TencentCloudAPIError) as info:
        make(emulator, retries=2, sleeps=sleeps).call("CreateKeyPair", {"KeyName": "x", "ProjectId": 0},
                                                      retry="throttled")
    assert info.value.code == code and len(emulator.requests()) == 1 and emulator.key_pairs() == []


def test_tag_client_shares_settings_and_request_ids(emulator):
    client = make(emulator, tag_endpoint=emulator.url)
    client.call("DescribeKeyPairs", {})
    tags = client.for_service("tag")
    assert (tags.service, tags.version, tags.host, tags.timeout) == ("tag", "2018-08-13", client.host, client.timeout)
    assert tags is client.for_service("tag") and tags.request_ids is client.request_ids
    with pytest.raises(TencentCloudAPIError) as info:
        tags.call("ModifyResourceTags", {"Resource": "qcs::cvm:ap-guangzhou:uin/:keypair/skey-zzzzzzzz",
                                         "ReplaceTags": [{"TagKey": "k", "TagValue": "v"}]})
    assert info.value.code == "InvalidParameterValue.ResourceIdInvalid" and len(client.request_ids) == 2
    assert [r["signature_method"] for r in emulator.requests()] == ["TC3-HMAC-SHA256"] * 2
    legacy = make(emulator, "legacy", tag_endpoint=emulator.url)
    assert legacy.for_service("tag").api_style == "tc3"  # the legacy gateway is CVM's only


@pytest.mark.parametrize("endpoint,expected", [
    ("cvm.tencentcloudapi.com", "https://tag.tencentcloudapi.com"),
    ("https://cvm.intl.tencentcloudapi.com", "https://tag.intl.tencentcloudapi.com"),
    ("cvm.ap-guangzhou.tencentcloudapi.com", "https://tag.ap-guangzhou.tencentcloudapi.com"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("https://gateway.example.com:8443", "https://gateway.example.com:8443"),
])
def test_tag_endpoint_beside_the_cvm_endpoint(endpoint, expected):
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import derive_endpoint

    assert derive_endpoint(endpoint, "tag") == expected


# --- plain HTTP, proxies that speak TLS, and hostile answers ----------------------------------------------------

def test_plain_http_off_this_machine_is_refused_unless_allowed(emulator):
    """A private key travels in CreateKeyPair's answer: http:// to another machine is refused before any request,
    unless allow_insecure_http says the user means it. Loopback (the emulator) is not the network."""
    with pytest.raises(ArgumentError, match="clear text over the network.*allow_insecure_http=true"):
        make(emulator, endpoint="http://cvm.example.test")
    with pytest.raises(ArgumentError, match="tag_endpoint http://tag.example.test"):
        make(emulator, endpoint="https://cvm.example.test", tag_endpoint="http://tag.example.test").for_service("tag")
    assert make(emulator, endpoint="http://cvm.example.test", allow_insecure_http=True).insecure
    assert not make(emulator).insecure and emulator.requests() == []


@pytest.mark.parametrize("value", ["http://me:pa/ss-word@proxy.example:3128", "http://me:Zq9secret@proxy:port",
                                   "ftp://me:Zq9secret@proxy:21", "http://me:Zq9secret@[::1:3128"])
def test_a_proxy_url_that_cannot_be_used_never_shows_its_password(monkeypatch, value):
    """A password with a / (not percent-encoded) used to fail with part of the password in the message."""
    monkeypatch.setenv("HTTPS_PROXY", value)
    with pytest.raises(ArgumentError, match="HTTPS_PROXY is not a usable proxy URL") as info:
        plain()
    assert not any(part in info.value.msg for part in ("pa/", "ss-word", "Zq9secret"))


def test_an_https_proxy_gets_tls_and_tunnels_tls_inside(tmp_path, monkeypatch):
    """HTTPS_PROXY=https://...: TLS to the proxy itself (its credentials never travel in clear), a CONNECT tunnel
    inside that TLS, and the endpoint's own TLS inside the tunnel."""
    from cvm_emulator.server import start

    cert, key = self_signed(tmp_path, names=("cvm.tunnel.test", "proxy.test"))
    emulator = start(tls_cert=cert, tls_key=key)
    proxy, seen = tls_proxy(("127.0.0.1", emulator.server_address[1]), cert, key, credentials=("me", "p@ss"))
    try:
        monkeypatch.setenv("HTTPS_PROXY", "https://me:p%%40ss@127.0.0.1:%d" % proxy.server_address[1])
        client = make_client(None, endpoint="https://cvm.tunnel.test", ca_path=cert, retries=0)
        assert client.call("DescribeKeyPairs", {})["TotalCount"] == 0
        assert client.call("DescribeKeyPairs", {})["TotalCount"] == 0
        assert seen and set(seen) == {("CONNECT", "cvm.tunnel.test:443",
                                       "Basic " + base64.b64encode(b"me:p@ss").decode())}
    finally:
        proxy.shutdown()
        proxy.server_close()
        emulator.shutdown()
        emulator.server_close()
        _transport._POOL.clear()


def test_a_dripping_answer_is_cut_at_the_deadline():
    """Each read gets a byte in time, so only a deadline for the whole call ends it."""
    import time

    with HostileEndpoint({"DescribeKeyPairs": drip}) as hostile:
        started = time.monotonic()
        with pytest.raises(TencentCloudAPIError, match="within 1.0s") as info:
            make(hostile, endpoint=hostile.url, timeout=1.0, retries=0).call("DescribeKeyPairs", {})
        assert time.monotonic() - started < 3 and info.value.code == "ClientNetworkError" and info.value.timed_out


def huge(handler, _params):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b" " * 65536
    try:
        for _chunk in range(100):  # 6.4 MB of white space: valid JSON padding, but no API answer is that large
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass


@pytest.mark.parametrize("answer,message", [
    (huge, "larger than the 4194304 bytes accepted"),
    (b"[" * 100000, "nested too deep"),
    ({"RequestId": None, "Error": {"Code": "Bad Code\n", "Message": "x"}}, "Error without a valid Code"),
    ({"Error": {"Code": "X", "Message": "m"}, "Extra": 1}, None),
], ids=["huge", "deep", "bad code", "fine"])
def test_hostile_answers_fail_with_a_code(answer, message):
    with HostileEndpoint({"DescribeKeyPairs": answer}) as hostile:
        with pytest.raises(TencentCloudAPIError) as info:
            make(hostile, endpoint=hostile.url, retries=0).call("DescribeKeyPairs", {})
    if message is None:
        assert info.value.code == "X"
    else:
        assert info.value.code == "InvalidResponse" and message in info.value.message


def test_error_messages_lose_control_characters():
    answer = {"Error": {"Code": "InvalidParameter", "Message": "bad \x1b[31mred\x1b[0m\n" + "x" * 5000}}
    with HostileEndpoint({"DescribeKeyPairs": answer}) as hostile:
        with pytest.raises(TencentCloudAPIError) as info:
            make(hostile, endpoint=hostile.url, retries=0).call("DescribeKeyPairs", {})
    assert "\x1b" not in info.value.message and len(info.value.message) <= 1024


def test_a_request_id_that_is_not_one_is_refused():
    with HostileEndpoint({}) as hostile:
        hostile.answers["DescribeKeyPairs"] = lambda handler, params: _raw(handler, {"Response": {
            "RequestId": {"nested": ["x"] * 10}, "KeyPairSet": [], "TotalCount": 0}})
        with pytest.raises(TencentCloudAPIError, match="RequestId that is not one"):
            make(hostile, endpoint=hostile.url, retries=0).call("DescribeKeyPairs", {})


def _raw(handler, obj):
    body = json.dumps(obj).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_kept_alive_connections_do_not_wait_for_delayed_acks(emulator):
    """The transport opens its own sockets: they must set TCP_NODELAY as http.client's do, or every call on a
    kept-alive connection waits ~40 ms for the previous answer's delayed ACK (a loop of 100 converged items took
    5 s instead of 0.6)."""
    import socket as _socket

    client = make(emulator)
    client.call("DescribeKeyPairs", {})
    (conn,) = [c for key, c in _transport._POOL.items() if key[1] == client.host]
    assert conn.raw.getsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY) == 1
