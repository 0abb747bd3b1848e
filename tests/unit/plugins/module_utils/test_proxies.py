# SPDX-License-Identifier: GPL-3.0-or-later
"""What counts as this machine (is_loopback): literal loopback addresses and `localhost` itself; a name under
.localhost only when everything it resolves to is loopback. What counts gets plain HTTP and no proxy."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import ArgumentError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.proxies import is_loopback, proxy_for
import pytest


@pytest.mark.parametrize("hostname,expected", [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("LOCALHOST.", True), ("10.0.0.1", False), ("cvm.tencentcloudapi.com", False), ("localhost.example.com", False),
    ("::ffff:10.0.0.1", False),
])
def test_literal_addresses_and_localhost_itself(hostname, expected):
    def never(name):
        raise AssertionError("resolved %s" % name)
    assert is_loopback(hostname, resolve=never) is expected


@pytest.mark.parametrize("addresses,expected", [
    (("127.0.0.1",), True), (("127.0.0.1", "::1"), True), (("203.0.113.7",), False),
    (("127.0.0.1", "203.0.113.7"), False), ((), False),
])
def test_a_name_under_localhost_counts_only_when_it_resolves_to_loopback_alone(addresses, expected):
    asked = []
    assert is_loopback("emulator.localhost", resolve=lambda name: asked.append(name) or addresses) is expected
    assert asked == ["emulator.localhost"]


def test_a_localhost_name_is_judged_by_what_the_real_resolver_says():
    """The real resolver. Where a name under .localhost does not resolve (these machines), it is not this machine:
    plain HTTP to it is refused as to any other machine, and a proxy from the environment applies to it. (Where
    nss-myhostname or systemd-resolved map it to loopback, it is this machine.)"""
    import ipaddress
    import socket

    name = "no-such-name-cvm-test.localhost"
    try:
        found = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        found = set()
    local = bool(found) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)
    assert is_loopback(name) is local
    settings = Settings(region="ap-guangzhou", endpoint="http://%s:8080" % name)
    if local:
        assert Client(Credentials("AKIDx", "secret"), settings).insecure is False
        return
    with pytest.raises(ArgumentError, match="is not on this machine"):
        Client(Credentials("AKIDx", "secret"), settings)
    proxy = proxy_for("https", name, {"HTTPS_PROXY": "http://proxy.example:3128"})
    assert proxy is not None and proxy.host == "proxy.example"
