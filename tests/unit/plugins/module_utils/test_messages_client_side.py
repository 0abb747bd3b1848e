# SPDX-License-Identifier: GPL-3.0-or-later
"""The messages a user meets in the first hour (issue 28): https:// to a plain-HTTP port, a mode YAML read as a
number, unknown keys in an inventory source, and the code every inventory failure ends with."""

import socket
import ssl
import threading

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core import tls as _tls, transport as _transport
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import ArgumentError, TencentCloudAPIError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.rules import parse_mode
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.reports import with_code
from ansible_collections.tencentcloud.cvm.plugins.module_utils._inventory.spec import unknown_keys, unknown_keys_text
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._runner import numbers_kept
from helpers import forwarding_proxy, make_client, self_signed
import pytest


@pytest.fixture(autouse=True)
def fresh_pool():
    _transport._POOL.clear()
    yield
    _transport._POOL.clear()


def call(url, **settings):
    with pytest.raises(TencentCloudAPIError) as info:
        make_client(None, endpoint=url, retries=2, sleep=lambda _s: pytest.fail("retried"),
                    **settings).call("DescribeKeyPairs", {})
    return info.value


# --- https:// to a port that does not speak TLS ------------------------------------------------------------

def test_https_to_the_plain_http_emulator_says_use_http(emulator):
    """Not a certificate problem: ca_path and validate_certs cannot help, so they are not offered."""
    port = emulator.url_host.split(":")[1]
    for host in ("127.0.0.1", "localhost"):
        error = call("https://%s:%s" % (host, port))
        assert (error.code, error.message, error.retryable, error.ambiguous) == (
            "ClientNetworkError",
            "Could not connect to %s:%s (the endpoint speaks plain HTTP, not TLS: use http://%s:%s)"
            % (host, port, host, port), False, False)
    assert emulator.requests() == []  # the probe's HEAD / is no API request


def test_plain_http_on_another_machine_also_needs_allow_insecure_http(emulator, monkeypatch):
    monkeypatch.setattr(_transport, "is_loopback", lambda _host: False)
    error = call("https://%s" % emulator.url_host)
    assert error.message == ("Could not connect to {0} (the endpoint speaks plain HTTP, not TLS: use http://{0} (and "
                             "allow_insecure_http=true: it is on another machine))".format(emulator.url_host))


@pytest.fixture
def not_http():
    """A server on 127.0.0.1 that answers every connection with an SSH banner: neither TLS nor HTTP."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                try:
                    conn.recv(4096)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield "127.0.0.1:%d" % server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_a_port_that_speaks_neither_tls_nor_http(not_http):
    error = call("https://" + not_http)
    assert (error.code, error.message) == (
        "ClientNetworkError", "Could not connect to %s (the server does not speak TLS on this port)" % not_http)


def test_an_https_proxy_url_for_a_plain_http_proxy_names_the_proxy(emulator, monkeypatch):
    proxy, seen = forwarding_proxy(emulator.url)
    try:
        port = proxy.server_address[1]
        monkeypatch.setenv("HTTPS_PROXY", "https://127.0.0.1:%d" % port)
        error = call("https://cvm.example.test")
        assert error.message == ("Could not connect to cvm.example.test (the proxy 127.0.0.1:%d does not speak TLS on "
                                 "this port (is its URL http://, given as https://?))" % port)
        assert seen == []
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_a_certificate_problem_still_points_at_ca_path(tmp_path):
    from cvm_emulator.server import start

    cert, key = self_signed(tmp_path, names=("127.0.0.1",))
    server = start(tls_cert=cert, tls_key=key)
    try:
        host = "127.0.0.1:%d" % server.server_address[1]
        error = call("https://" + host)
        assert error.message == ("TLS to %s failed (certificate verify failed). Set ca_path to a CA bundle that signs "
                                 "the endpoint's certificate, or validate_certs=false for a test endpoint" % host)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("text,expected", [
    ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1020)", True),  # OpenSSL up to 3.1
    ("[SSL: RECORD_LAYER_FAILURE] record layer failure (_ssl.c:1028)", True),  # OpenSSL 3.2 and later
    ("[SSL: PACKET_LENGTH_TOO_LONG] packet length too long (_ssl.c:1000)", True),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1020)", False),
    ("[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1020)", False),
])
def test_what_counts_as_no_tls_at_all(text, expected):
    assert _tls.not_tls(ssl.SSLError(1, text)) is expected


# --- private_key_mode as YAML reads it -----------------------------------------------------------------------

@pytest.mark.parametrize("given,message", [
    (256, "private_key_mode was read as the decimal number 256 (YAML reads 0400 without quotes as an octal number); "
          "quote it: private_key_mode: '0400'"),
    (384, "private_key_mode was read as the decimal number 384 (YAML reads 0600 without quotes as an octal number); "
          "quote it: private_key_mode: '0600'"),
    (416, "private_key_mode was read as the decimal number 416 (YAML reads 0640 without quotes as an octal number); "
          "quote it: private_key_mode: '0640'"),
    (0, "private_key_mode must be an octal string such as '0600', not the number 0"),
    (99999, "private_key_mode must be an octal string such as '0600', not the number 99999"),
    ("256", "private_key_mode 0256 gives group or others access; ssh refuses such keys (use 0600 or 0400)"),
])
def test_a_mode_yaml_read_as_a_number_says_to_quote_it(given, message):
    with pytest.raises(ArgumentError) as info:
        parse_mode(given)
    assert (info.value.msg, info.value.code) == (message, "InvalidArgument")


@pytest.mark.parametrize("given,mode", [(600, 0o600), (400, 0o400), ("0400", 0o400), ("600", 0o600)])
def test_unquoted_modes_without_a_leading_zero_keep_working(given, mode):
    assert parse_mode(given) == mode


def test_the_runner_puts_back_what_yaml_gave_as_a_number():
    converted = {"private_key_mode": "256", "name": "123"}
    assert numbers_kept({"private_key_mode": 256, "name": 123}, converted) == {"private_key_mode": 256, "name": "123"}
    assert numbers_kept({"private_key_mode": True}, {"private_key_mode": "True"}) == {"private_key_mode": "True"}
    assert numbers_kept({"private_key_mode": "0400"}, {"private_key_mode": "0400"}) == {"private_key_mode": "0400"}
    assert numbers_kept({}, {"private_key_mode": "0600"}) == {"private_key_mode": "0600"}


# --- unknown keys in an inventory source -----------------------------------------------------------------------

DEFINITIONS = {"plugin": {}, "filters": {}, "exclude_filters": {}, "hostnames": {}, "strict": {},
               "security_token": {"aliases": ["token"]}, "regions": {}, "region": {}}


def test_unknown_keys_and_the_options_they_likely_mean():
    config = {"plugin": "x", "filter": {}, "token": "t", "hostname": [], "colour": "blue", 3: "x", "regions": []}
    found = unknown_keys(config, DEFINITIONS)
    assert found == [("filter", "filters"), ("hostname", "hostnames"), ("colour", None), (3, None)]
    assert unknown_keys_text(found[:1]) == "the key 'filter' (did you mean 'filters'?) is not an option of this plugin"
    assert unknown_keys_text(found, ignored=True) == (
        "the keys 'filter' (did you mean 'filters'?), 'hostname' (did you mean 'hostnames'?), 'colour', '3' are not "
        "options of this plugin and were ignored")
    assert unknown_keys({"plugin": "x", "token": "t"}, DEFINITIONS) == []


def test_an_unknown_key_is_shown_short_and_printable():
    assert unknown_keys_text([("a\nb" + "x" * 100, None)]) == (
        "the key 'a?b%s...' is not an option of this plugin" % ("x" * 57))


@pytest.mark.parametrize("message,code,expected", [
    ("concurrency must be an integer from 1 to 32", "InvalidArgument",
     "concurrency must be an integer from 1 to 32 (InvalidArgument)"),
    ("Could not list instances: denied (AuthFailure, RequestId 1-2) ", "AuthFailure",
     "Could not list instances: denied (AuthFailure, RequestId 1-2) "),
    ("Could not list instances: refused (ClientNetworkError)", "ClientNetworkError",
     "Could not list instances: refused (ClientNetworkError)"),
])
def test_inventory_failures_end_with_their_code_once(message, code, expected):
    assert with_code(message, code) == expected
