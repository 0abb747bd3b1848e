# SPDX-License-Identifier: GPL-3.0-or-later
"""The guests' ports follow the store: a port given to an instance that is not stored yet survives the lifecycle's
reconcile (the admin API opens the port, then stores the instance; a reconcile can fall in between), and goes once
its instance is gone."""

import socket

import pytest

from cvm_emulator.instances import Guests


def accepts(port):
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def guests():
    made = Guests()
    yield made
    made.close()


def stored(instance_id, port):
    return {"instance_id": instance_id, "ssh": 1, "ssh_port": port, "state": "STOPPED", "key_ids": [],
            "guest_agent": 1, "authorized_keys": ""}


def test_a_port_not_yet_stored_survives_a_reconcile(guests):
    port = guests.listen("ins-new00001")
    guests.reconcile([])  # the lifecycle read the store before the instance was put in it
    assert "ins-new00001" in guests.listeners and accepts(port)
    guests.reconcile([stored("ins-new00001", port)])
    assert guests.unseen == set()


def test_a_port_goes_with_its_instance(guests):
    port = guests.listen("ins-gone0001")
    guests.reconcile([stored("ins-gone0001", port)])
    guests.reconcile([])  # removed from the store (a reset)
    assert "ins-gone0001" not in guests.listeners and not accepts(port)


def test_forget_closes_a_port_never_stored(guests):
    port = guests.listen("ins-fail0001")
    guests.forget("ins-fail0001")
    assert not accepts(port) and guests.unseen == set()


def banner(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.settimeout(10)
        return sock.recv(64)


def test_a_connection_that_fails_does_not_stop_the_next(guests, monkeypatch, capsys):
    """An sshd that cannot be started fails its own connection; the acceptor serves the next one (one thread
    serves every guest, so an exception there would leave every later login hanging)."""
    port = guests.listen("ins-flaky001")
    guests.reconcile([dict(stored("ins-flaky001", port), state="RUNNING", login_user="root")])
    real, calls = guests._config, []

    def config_once_broken(instance_id, user):
        calls.append(instance_id)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real(instance_id, user)

    monkeypatch.setattr(guests, "_config", config_once_broken)
    assert banner(port) == b""  # closed at once
    assert banner(port).startswith(b"SSH-2.0-OpenSSH")
    assert "sshd for ins-flaky001: OSError" in capsys.readouterr().err


def test_peer_uid_names_the_user_of_the_client_end():
    """The guests' sshd serves only the emulator's own user (and root): the client's uid is read from
    /proc/net/tcp. A connection made by uid 65534 is told apart from one made by this process."""
    import os
    import subprocess

    from cvm_emulator.instances import peer_uid

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(2)
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            conn, _peer = server.accept()
            with conn:
                assert peer_uid(conn) == os.geteuid()
        if os.geteuid() != 0:
            return  # the second user needs root (CI runs as root)
        client = subprocess.Popen(  # bash's /dev/tcp: nobody may not run this venv's Python (under /root)
            ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/%d && echo up && sleep 10" % port],
            user=65534, group=65534, stdout=subprocess.PIPE, text=True, cwd="/")
        try:
            assert client.stdout.readline() == "up\n"
            conn, _peer = server.accept()
            with conn:
                assert peer_uid(conn) == 65534
        finally:
            client.kill()
            client.wait()
