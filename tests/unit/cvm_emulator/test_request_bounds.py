# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's request bounds, through real HTTP on raw sockets (to the in-process emulator, and to an emulator
process of its own where its memory is measured): a body it cannot delimit or take (Transfer-Encoding, a
Content-Length that is negative, not a number, given twice or too large) is refused from the headers alone on every
route, before any body is read and before authentication, and the connection is closed, so that what follows is
never taken for another request."""

import http.client
import json
import select
import socket
import time
from types import SimpleNamespace

import pytest

from cvm_emulator.server import LINGER_BYTES, MAX_BODY
from helpers import Admin, EmulatorProcess

# (extra header lines, status): each must be refused before a byte of the body is read
BAD_HEADERS = [
    (["Content-Length: -1"], 400),
    (["Content-Length: abc"], 400),
    (["Content-Length: +5"], 400),
    (["Content-Length: 1_0"], 400),        # int() would read 10
    (["Content-Length: 0x10"], 400),
    (["Content-Length: 5, 5"], 400),
    (["Content-Length: 5", "Content-Length: 5"], 400),
    (["Content-Length: "], 400),
    (["Transfer-Encoding: chunked"], 411),
    (["Transfer-Encoding: chunked", "Content-Length: 5"], 411),
    (["Transfer-Encoding: identity", "Content-Length: 0"], 411),
    (["Content-Length: %d" % (MAX_BODY + 1)], 413),
    (["Content-Length: 99999999999999999999999999"], 413),
]
# every kind of route: the Tencent API, the legacy gateway, the admin API (with and without its token), unknown paths
ROUTES = [("POST", "/", False), ("GET", "/v2/index.php", False), ("POST", "/_emulator/reset", True),
          ("POST", "/_emulator/reset", False), ("DELETE", "/_emulator/requests", True), ("POST", "/nowhere", False)]


@pytest.fixture
def emulator_here(emulator_server):
    """The in-process emulator (a real HTTP server in a thread of this process), as url, token and admin. A thread
    ends with its process: under ansible-test units every test runs in a forked process, which never stops the
    session's emulator processes (one was left running per test)."""
    admin = Admin(emulator_server.url, emulator_server.emulator.admin_token)
    admin.reset()
    return SimpleNamespace(url=emulator_server.url, token=emulator_server.emulator.admin_token, admin=admin)


@pytest.fixture
def emulator_of_its_own():
    """An emulator process that this test starts and stops, whose memory alone is measured."""
    emu = EmulatorProcess("--port", "0").start()
    try:
        yield emu
    finally:
        emu.stop()


def host_port(emu):
    host, port = emu.url.split("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def head(emu, method, path, lines, token=False):
    out = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % host_port(emu), "Content-Type: application/json"]
    if token:
        out.append("Authorization: Bearer %s" % emu.token)
    return ("\r\n".join(out + lines) + "\r\n\r\n").encode("latin-1")


def smuggled(emu):
    """A whole admin request, sent where a body would be: it resets the emulator if it is ever parsed."""
    body = b"{}"
    return head(emu, "POST", "/_emulator/reset", ["Content-Length: %d" % len(body)], token=True) + body


def exchange(emu, data, timeout=10):
    """Send `data` on a new connection and read until the server closes it (or `timeout`)."""
    received = b""
    with socket.create_connection(host_port(emu), timeout=timeout) as conn:
        conn.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return received


def parse(raw):
    """(status, {header: value}, body, what follows the first answer) of raw HTTP/1.1 answers."""
    top, _blank, rest = raw.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    return int(lines[0].split()[1]), headers, rest[:length], rest[length:]


def proc_status_kib(pid, field):
    """A memory figure of /proc/<pid>/status, in KiB."""
    with open("/proc/%d/status" % pid) as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith(field + ":"))


ROUTE_IDS = ["%s %s%s" % (m, p, " +token" if t else "") for m, p, t in ROUTES]


@pytest.mark.parametrize("lines,status", BAD_HEADERS, ids=[" + ".join(lines) for lines, _s in BAD_HEADERS])
@pytest.mark.parametrize("method,path,token", ROUTES, ids=ROUTE_IDS)
def test_a_body_that_cannot_be_taken_is_refused_from_the_headers(
        emulator_here, method, path, token, lines, status):
    admin = emulator_here.admin
    key_id = admin.seed(["kept"])[0]
    admin.clear_requests()
    raw = exchange(emulator_here, head(emulator_here, method, path, lines, token) + smuggled(emulator_here))
    got, headers, body, after = parse(raw)
    assert (got, headers.get("connection"), headers.get("content-type")) == (status, "close", "application/json")
    assert json.loads(body)["error"]
    assert after == b""  # one answer: the smuggled request was not read as a request
    assert [kp["key_id"] for kp in admin.key_pairs()] == [key_id]  # nothing was done: no reset
    assert admin.requests() == []  # and nothing reached the API


def test_a_client_waiting_for_100_continue_is_refused_before_it_sends_the_body(emulator_here):
    data = head(emulator_here, "POST", "/", ["Content-Length: %d" % (MAX_BODY + 1), "Expect: 100-continue"])
    status, headers, _body, after = parse(exchange(emulator_here, data))
    assert (status, headers.get("connection"), after) == (413, "close", b"")


def test_the_admin_api_refuses_a_body_without_its_token_unread(emulator_here):
    """Without the token nothing is read: 401, the connection closed, what was sent as the body never parsed."""
    admin = emulator_here.admin
    admin.seed(["kept"])
    request = smuggled(emulator_here)
    data = head(emulator_here, "POST", "/_emulator/reset", ["Content-Length: %d" % len(request)]) + request
    status, headers, _body, after = parse(exchange(emulator_here, data))
    assert (status, headers.get("connection"), headers.get("www-authenticate"), after) == (
        401, "close", 'Bearer realm="cvm-emulator admin"', b"")
    assert [kp["key_name"] for kp in admin.key_pairs()] == ["kept"]


def test_requests_without_a_body_keep_working_on_one_connection(emulator_here):
    """A plain GET (no Content-Length) and a POST with Content-Length 0 are answered, and the connection stays
    open for the next request."""
    conn = http.client.HTTPConnection(*host_port(emulator_here), timeout=10)
    auth = {"Authorization": "Bearer %s" % emulator_here.token}
    try:
        sockets = []
        for method, path, body in (("GET", "/_emulator/state", None), ("POST", "/_emulator/reset", b""),
                                   ("GET", "/_emulator/requests", None), ("GET", "/nowhere", None)):
            typed = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=dict(auth, **typed))
            response = conn.getresponse()
            answer = response.read()
            assert (response.status, response.will_close) == (404 if path == "/nowhere" else 200, False), answer
            sockets.append(conn.sock)
        assert len(set(map(id, sockets))) == 1  # one connection throughout
    finally:
        conn.close()


@pytest.mark.parametrize("path,token", [("/", False), ("/_emulator/reset", False), ("/_emulator/reset", True)])
def test_minus_one_and_200_mib_do_not_reach_the_emulator_memory(emulator_of_its_own, path, token):
    """`Content-Length: -1` once passed the size bound and made the emulator read to the end of the connection
    before the admin token was checked (200 MiB sent: its peak resident memory grew by ~480 MB). Now: 400 at once,
    the connection closed after at most LINGER_BYTES more, and the emulator's peak resident memory (VmHWM, reset
    first through /proc/<pid>/clear_refs) grows by less than a few MB."""
    pid = emulator_of_its_own.proc.pid
    emulator_of_its_own.admin.state()  # warm: the first requests grow the process a little whatever they carry
    with open("/proc/%d/clear_refs" % pid, "w") as handle:  # our own child: allowed as any user
        handle.write("5")  # VmHWM := VmRSS now
    before = proc_status_kib(pid, "VmHWM")
    total, chunk = 200 * 1024 * 1024, b"x" * (1024 * 1024)
    sent, received, closed, shut = 0, b"", False, False
    with socket.create_connection(host_port(emulator_of_its_own), timeout=10) as conn:
        conn.sendall(head(emulator_of_its_own, "POST", path, ["Content-Length: -1"], token))
        conn.setblocking(False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (b"\r\n\r\n" in received and (closed or shut)):
            if sent >= total and not shut:  # all sent and no answer yet: end the body, as a client would
                conn.shutdown(socket.SHUT_WR)
                shut = True
            readable, writable, _x = select.select([conn], [conn] if not (closed or shut) else [], [], 1)
            if readable:
                try:
                    data = conn.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                received += data
                closed = closed or not data
            if writable:
                try:
                    sent += conn.send(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                except BlockingIOError:
                    pass
    peak = proc_status_kib(pid, "VmHWM")
    assert received, "no answer within 30 s (%d bytes sent)" % sent
    status, headers, _body, _rest = parse(received)
    assert (status, headers.get("connection")) == (400, "close")
    # stopped by the server: what it discarded, plus what the kernel's socket buffers held on both sides
    assert closed and not shut and sent < LINGER_BYTES + 32 * 1024 * 1024, sent
    assert peak - before < 4 * 1024, (before, peak)  # KiB: a few MB at most, not the 200 MiB sent
