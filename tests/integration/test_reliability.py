# SPDX-License-Identifier: GPL-3.0-or-later
"""Reliability suite: real ansible-playbook runs against the emulator's fault API. After every case the
invariants are checked: no key pair whose private key nobody holds (lost keys / orphans), no partial, temporary
or world-readable key file, no secret in any output. Each case's outcome is recorded for docs/reliability.md."""

import base64
import glob
import json
import os
import re
import socket
import subprocess
import sys

import pytest
import yaml

from helpers import (
    KP,
    checked as kp,
    PEM_BEGIN, PEM_END, ROOT, EmulatorProcess, forwarding_proxy, invariants, private_blob, self_signed,
)


def create_calls(admin):
    return [r for r in admin.requests() if r["action"] in ("CreateKeyPair", "ImportKeyPair")]


# --- throttling -------------------------------------------------------------------------------------

@pytest.mark.core
def test_throttled_describe_is_retried(ansible, admin, keys, tmp_path):
    admin.fault(action="DescribeKeyPairs", mode="error", code="RequestLimitExceeded", count=2)
    run = ansible.play(kp({"name": "throttled", "private_key_path": str(keys / "k"), "retry_max_delay": 1}))
    assert run.task("ensure")["changed"] is True
    assert [r["code"] for r in admin.requests() if r["action"] == "DescribeKeyPairs"] == \
        ["RequestLimitExceeded", "RequestLimitExceeded", "OK"]
    invariants("throttle: Describe x2 retried", admin, str(keys), run, expect_pairs=1)


def test_throttling_beyond_throttle_timeout_fails_clearly(ansible, admin, keys, tmp_path):
    admin.fault(action="DescribeKeyPairs", mode="error", code="RequestLimitExceeded", count=50)
    run = ansible.play(kp({"name": "throttled", "private_key_path": str(keys / "k"), "retries": 8,
                           "retry_max_delay": 1, "throttle_timeout": 2}))
    result = run.task("ensure")
    assert result["failure"]["code"] == "RequestLimitExceeded"
    assert "kept throttling the requests for throttle_timeout seconds" in result["msg"]
    assert 2 <= len([r for r in admin.requests() if r["action"] == "DescribeKeyPairs"]) <= 8
    assert create_calls(admin) == [] and os.listdir(keys) == []
    invariants("throttle: beyond throttle_timeout", admin, str(keys), run, expect_pairs=0)


def test_throttled_create_is_retried(ansible, admin, keys, tmp_path):
    """A throttled CreateKeyPair was not carried out (the service says so): sending it again is safe."""
    admin.fault(action="CreateKeyPair", mode="error", code="RequestLimitExceeded", count=2)
    run = ansible.play(kp({"name": "throttled", "private_key_path": str(keys / "k"), "retry_max_delay": 0.1}))
    assert run.task("ensure")["changed"] is True
    assert [r["code"] for r in create_calls(admin)] == ["RequestLimitExceeded", "RequestLimitExceeded", "OK"]
    invariants("throttle: Create x2 retried", admin, str(keys), run, expect_pairs=1)


def test_throttled_delete_is_retried(ansible, admin, keys, tmp_path):
    admin.seed(["doomed"])
    admin.fault(action="DeleteKeyPairs", mode="error", code="RequestLimitExceeded", count=2)
    run = ansible.play(kp({"name": "doomed", "state": "absent", "retry_max_delay": 1}))
    assert run.task("ensure")["changed"] is True
    invariants("throttle: Delete x2 retried", admin, str(keys), run, expect_pairs=0)


def test_rate_limit_with_a_loop(ansible, admin, keys, tmp_path):
    names = ["rate%d" % i for i in range(12)]
    first = ansible.play(kp({"name": "{{ item }}", "private_key_path": "%s/{{ item }}" % keys}, loop=names))
    assert first.rc == 0
    admin.rate_limit("DescribeKeyPairs", 5)
    admin.clear_requests()
    run = ansible.play(kp({"name": "{{ item }}", "private_key_path": "%s/{{ item }}" % keys,
                           "retry_max_delay": 1}, loop=names))
    items = [r for r in run.results if r["status"] == "item_ok"]
    assert len(items) == 12 and not any(r["result"].get("changed") for r in items)
    codes = [r["code"] for r in admin.requests()]
    assert "RequestLimitExceeded" in codes and codes.count("OK") == 12
    invariants("throttle: 10 req/s-style rate limit, loop of 12", admin, str(keys), run, expect_pairs=12)


# --- lost and broken answers on CreateKeyPair / ImportKeyPair --------------------------------------------

@pytest.mark.core
@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_errors_on_create(ansible, admin, keys, tmp_path, status):
    admin.fault(action="CreateKeyPair", mode="http_error", status=status)
    run = ansible.play(kp({"name": "http%d" % status, "private_key_path": str(keys / "k")}))
    result = run.task("ensure")
    assert result["failure"]["code"] == "ServerNetworkError"
    assert "HTTP %d" % status in result["msg"] and "nothing was created" in result["msg"]
    assert len(create_calls(admin)) == 1 and os.listdir(keys) == []
    invariants("Create answers HTTP %d (non-JSON)" % status, admin, str(keys), run, expect_pairs=0)


@pytest.mark.core
@pytest.mark.parametrize("mode", ["malformed_json", "missing_fields", "no_response", "close_after"])
def test_answers_lost_after_commit_are_recovered(ansible, admin, keys, tmp_path, mode):
    admin.fault(action="CreateKeyPair", mode=mode)
    run = ansible.play(kp({"name": "lost_" + mode, "private_key_path": str(keys / "k")}))
    result = run.task("ensure")
    assert result["changed"] is True and "never arrived" in " ".join(result["warnings"])
    state = invariants("Create committed, answer %s" % mode, admin, str(keys), run, expect_pairs=1)
    assert private_blob(str(keys / "k")) == state["key_pairs"][0]["key_blob"]
    assert [r["action"] for r in admin.requests()].count("DeleteKeyPairs") == 1


def test_connection_reset_before_processing(ansible, admin, keys, tmp_path):
    admin.fault(action="CreateKeyPair", mode="close_before")
    run = ansible.play(kp({"name": "reset", "private_key_path": str(keys / "k")}))
    result = run.task("ensure")
    assert result["failure"]["code"] == "ClientNetworkError" and "nothing was created" in result["msg"]
    assert len(create_calls(admin)) == 1
    invariants("Create: connection reset before processing", admin, str(keys), run, expect_pairs=0)


def test_answer_lost_twice_leaves_no_orphan(ansible, admin, keys, tmp_path):
    admin.fault(action="CreateKeyPair", mode="close_after", count=2)
    run = ansible.play(kp({"name": "twice", "private_key_path": str(keys / "k")}))
    assert "lost twice" in run.task("ensure")["msg"]
    invariants("Create: answer lost twice", admin, str(keys), run, expect_pairs=0)


def test_timeout_then_late_commit_is_recovered(ansible, admin, keys, tmp_path):
    admin.fault(action="CreateKeyPair", mode="latency", latency=2.5)
    run = ansible.play(kp({"name": "slow", "private_key_path": str(keys / "k"), "timeout": 1}))
    result = run.task("ensure")
    assert result["changed"] is True, result
    state = invariants("Create: timeout, commit after the client gave up", admin, str(keys), run,
                       expect_pairs=1)
    assert private_blob(str(keys / "k")) == state["key_pairs"][0]["key_blob"]


@pytest.mark.parametrize("mode,outcome", [("close_after", "ok"), ("http_error", "failed"),
                                          ("malformed_json", "ok"), ("close_before", "failed")])
def test_import_with_lost_answers(ansible, admin, keys, tmp_path, mode, outcome):
    key = tmp_path / "local"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key)], check=True)
    admin.fault(action="ImportKeyPair", mode=mode)
    run = ansible.play(kp({"name": "imp", "public_key": key.with_suffix(".pub").read_text()}))
    result = run.task("ensure")
    if outcome == "ok":
        assert result["changed"] is True and len(admin.key_pairs()) == 1
    else:
        assert result["failed"] is True and "nothing was created" in result["msg"] and admin.key_pairs() == []
    assert len(create_calls(admin)) == 1
    invariants("Import: %s" % mode, admin, str(keys), run)


# --- replacement: make-before-break -------------------------------------------------------------------

def _replace_setup(ansible, admin, keys):
    args = {"name": "rot", "private_key_path": str(keys / "rot")}
    assert ansible.play(kp(args)).task("ensure")["changed"] is True
    old = admin.key_pairs()[0]
    admin.clear_requests()
    return dict(args, regenerate="always"), old, (keys / "rot").read_bytes()


@pytest.mark.parametrize("fault", [
    dict(mode="error", code="InvalidKeyPair.LimitExceeded"), dict(mode="http_error", status=502),
    dict(mode="close_before"), dict(mode="error", code="RequestLimitExceeded", count=10),
], ids=["quota", "http502", "reset", "throttled beyond throttle_timeout"])
def test_replacement_whose_create_fails_keeps_the_old_key_pair(ansible, admin, keys, tmp_path, fault):
    args, old, before = _replace_setup(ansible, admin, keys)
    admin.fault(action="CreateKeyPair", **fault)
    run = ansible.play(kp(dict(args, retry_max_delay=0.1, throttle_timeout=0.5)))
    result = run.task("ensure")
    assert result["failed"] is True and result["changed"] is False
    assert "Key pair rot (%s) and %s are unchanged" % (old["key_id"], keys / "rot") in result["msg"]
    assert [kp["key_id"] for kp in admin.key_pairs()] == [old["key_id"]] and (keys / "rot").read_bytes() == before
    invariants("replace: CreateKeyPair fails (%s)" % fault.get("code", fault["mode"]), admin, str(keys), run,
               expect_pairs=1)


@pytest.mark.core
@pytest.mark.parametrize("step,fault", [
    ("delete", dict(action="DeleteKeyPairs", mode="error", code="InvalidParameterValue")),
    ("rename", dict(action="ModifyKeyPairAttribute", mode="error", code="InvalidParameter")),
    ("lost delete answer", dict(action="DeleteKeyPairs", mode="http_error", status=503, count=5)),
])
@pytest.mark.parametrize("rerun", ["same task", "default options"])
def test_replacement_interrupted_later_converges_on_a_rerun(ansible, admin, keys, tmp_path, step, fault, rerun):
    """The same task again finishes the replacement. A rerun with default options (regenerate=never) finishes
    it too once the old key pair is gone; while the old key pair still matches its file, it keeps that one and
    deletes the new one instead. Either way no key pair is left whose private key nobody holds."""
    args, old, _before = _replace_setup(ansible, admin, keys)
    admin.fault(**fault)
    run = ansible.play(kp(dict(args, retries=1, retry_max_delay=0.1)))
    result = run.task("ensure")
    assert result["failed"] is True and result["changed"] is True
    assert re.search(r"created key pair rot_rp[0-9a-f]{8} \(skey-[0-9a-z]{8}\)", result["msg"])
    invariants("replace: %s fails, before the rerun" % step, admin, str(keys), run)
    new_id = [kp["key_id"] for kp in admin.key_pairs() if kp["key_name"] != "rot" or kp["key_id"] != old["key_id"]]
    again = ansible.play(kp(args if rerun == "same task" else {"name": "rot", "private_key_path": str(keys / "rot")}))
    out = again.task("ensure")
    assert out["changed"] is True and out["private_key_matches"] is True
    (pair,) = admin.key_pairs()
    kept_old = rerun == "default options" and step != "rename"
    assert pair["key_name"] == "rot" and pair["key_id"] == (old["key_id"] if kept_old else new_id[0])
    assert sorted(os.listdir(keys)) == ["rot", "rot.pub"]
    invariants("replace: %s fails, rerun (%s)" % (step, rerun), admin, str(keys), again, expect_pairs=1)


# --- what is retried ---------------------------------------------------------------------------------

def test_http_4xx_is_not_retried(ansible, admin, keys, tmp_path):
    admin.fault(action="DescribeKeyPairs", mode="http_error", status=404, count=5)
    run = ansible.play(kp({"name": "nf", "private_key_path": str(keys / "k"), "retry_max_delay": 0.1}))
    result = run.task("ensure")
    assert result["failure"]["code"] == "ServerNetworkError" and "HTTP 404" in result["msg"]
    assert [r["action"] for r in admin.requests()] == ["DescribeKeyPairs"]  # tried once
    admin.reset()
    admin.fault(action="DescribeKeyPairs", mode="http_error", status=503, count=2)
    retried = ansible.play(kp({"name": "nf", "private_key_path": str(keys / "k"), "retry_max_delay": 0.1}))
    assert retried.task("ensure")["changed"] is True
    assert [r["code"] for r in admin.requests() if r["action"] == "DescribeKeyPairs"] == ["HTTP503", "HTTP503", "OK"]
    invariants("HTTP 404 tried once, 503 retried", admin, str(keys), retried, expect_pairs=1)


@pytest.mark.core
def test_authenticated_proxy_gets_the_credentials_and_never_shows_them(ansible, admin, keys, tmp_path):
    server, seen = forwarding_proxy(ansible.emulator.url, credentials=("proxy-user", "proxy-p@ss-567"))
    expected = "Basic " + base64.b64encode(b"proxy-user:proxy-p@ss-567").decode()
    try:
        port = server.server_address[1]
        endpoint = "http://cvm.proxied.invalid:8080"  # resolvable only through the proxy
        good = "http://proxy-user:proxy-p%%40ss-567@127.0.0.1:%d" % port
        run = ansible.play(kp({"name": "proxied", "private_key_path": str(keys / "k"), "endpoint": endpoint,
                               "allow_insecure_http": True}), verbosity=4, env={"HTTP_PROXY": good})
        assert run.task("ensure")["changed"] is True, run.task("ensure")
        assert seen and all(auth == expected for _path, auth in seen)
        assert seen[0][0] == endpoint + "/"
        wrong = "http://proxy-user:wrong@127.0.0.1:%d" % port
        denied = ansible.play(kp({"name": "denied", "private_key_path": str(keys / "d"), "endpoint": endpoint,
                                  "retry_max_delay": 0.1, "allow_insecure_http": True}), verbosity=4,
                              env={"HTTP_PROXY": wrong})
        result = denied.task("ensure")
        assert result["failure"]["code"] == "ServerNetworkError" and "HTTP 407" in result["msg"]
        assert len(seen) == 3  # Describe + Create through the proxy, then the 407 once (not retried)
        secrets = ["proxy-p@ss-567", "proxy-p%40ss-567", expected.split()[1]]
        invariants("proxy with credentials", admin, str(keys), run, secrets=secrets, expect_pairs=1)
        invariants("proxy with wrong credentials", admin, str(keys), denied,
                   secrets=["wrong@", expected.split()[1]], expect_pairs=1)
    finally:
        server.shutdown()
        server.server_close()


# --- authentication ---------------------------------------------------------------------------------

def test_clock_skew(ansible, admin, keys, tmp_path):
    admin.config(clock_offset=900)
    run = ansible.play(kp({"name": "skewed", "private_key_path": str(keys / "k")}))
    result = run.task("ensure")
    assert result["failure"]["code"] == "AuthFailure.SignatureExpire" and "clock" in result["msg"]
    invariants("auth: clock 15 min off", admin, str(keys), run, expect_pairs=0)


def test_wrong_secret(ansible, admin, keys, tmp_path):
    run = ansible.play(kp({"name": "wrong", "private_key_path": str(keys / "k")}),
                       env={"TENCENTCLOUD_SECRET_KEY": "not-the-secret-key-at-all"})
    result = run.task("ensure")
    assert result["failure"]["code"] == "AuthFailure.SignatureFailure"
    assert "not-the-secret-key-at-all" not in run.stdout + json.dumps(run.results)
    invariants("auth: wrong secret key", admin, str(keys), run, secrets=["not-the-secret-key-at-all"],
               expect_pairs=0)


def test_expired_token(ansible, admin, keys, tmp_path):
    admin.credential(secret_id="AKIDsts", secret_key="sts-secret-key-123", token="sts-token-456",
                     token_expired=True)
    run = ansible.play(kp({"name": "sts", "private_key_path": str(keys / "k")}),
                       env={"TENCENTCLOUD_SECRET_ID": "AKIDsts", "TENCENTCLOUD_SECRET_KEY": "sts-secret-key-123",
                            "TENCENTCLOUD_TOKEN": "sts-token-456"})
    result = run.task("ensure")
    assert result["failure"]["code"] == "AuthFailure.TokenFailure" and "refresh" in result["msg"]
    invariants("auth: expired token", admin, str(keys), run, secrets=["sts-secret-key-123", "sts-token-456"],
               expect_pairs=0)


# --- the destination --------------------------------------------------------------------------------

def _no_writes(admin):
    return [r for r in admin.requests() if r.get("write")] == []


def test_destination_problems_fail_before_create(ansible, admin, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "adir").mkdir()
    os.symlink(str(tmp_path / "nowhere"), str(keys / "dangling"))
    foreign = tmp_path / "foreign"
    foreign.write_text("someone else's file")
    os.chown(str(foreign), 65534, 65534)
    os.symlink(str(foreign), str(keys / "foreignlink"))
    (keys / "other").write_text(open(__file__).read()[:10] + " precious")  # not a key: must stay untouched
    cases = [("missing", str(tmp_path / "no" / "such" / "dir" / "k"), "does not exist"),
             ("adir", str(keys / "adir"), "is a directory"),
             ("dangling", str(keys / "dangling"), "dangling"),
             ("foreign", str(keys / "foreignlink"), "owned by another user"),
             ("other", str(keys / "other"), "would overwrite")]
    tasks = "".join(kp({"name": "dest_" + name, "private_key_path": path}, title=name) for name, path, _m in cases)
    run = ansible.play(tasks)
    for name, _path, message in cases:
        result = run.task(name)
        assert result["failed"] is True and message in result["msg"], (name, result["msg"])
    assert _no_writes(admin) and "precious" in (keys / "other").read_text()
    assert foreign.read_text() == "someone else's file"
    invariants("destination: missing dir, directory, dangling/foreign link, foreign file", admin, str(keys), run,
               expect_pairs=0)


def _mount_tmpfs(path, size="64k"):
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here: %s" % done.stderr.strip())


@pytest.fixture
def unwritable(tmp_path):
    """Directories that root cannot write in, whatever os.access says: yields (kind -> key path) and undoes them."""
    made, cleanup = {}, []

    def make(kind):
        if kind == "proc":
            made[kind] = "/proc/deploy_key"
        elif kind == "immutable":
            path = tmp_path / "immutable"
            path.mkdir()
            subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
            cleanup.append(["chattr", "-i", str(path)])
            made[kind] = str(path / "k")
        elif kind == "read-only mount":
            path = tmp_path / "ro"
            _mount_tmpfs(path)
            cleanup.append(["umount", str(path)])
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)
            made[kind] = str(path / "k")
        elif kind == "full file system":
            path = tmp_path / "full"
            _mount_tmpfs(path, size="16k")
            cleanup.append(["umount", str(path)])
            fd = os.open(str(path / "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while os.write(fd, b"\0" * 4096):
                    pass
            except OSError:  # ENOSPC: full
                pass
            finally:
                os.close(fd)
            made[kind] = str(path / "k")
        return made[kind]

    yield make
    for command in reversed(cleanup):
        subprocess.run(command, check=False, capture_output=True)


@pytest.mark.core
@pytest.mark.parametrize("kind", ["proc", "immutable", "read-only mount", "full file system"])
def test_unwritable_destination_fails_before_any_write(ansible, admin, unwritable, kind):
    """As root (as in CI), os.access says yes to all of these; the reservation made before CreateKeyPair says no."""
    key = unwritable(kind)
    directory = os.path.dirname(key)
    listing = sorted(os.listdir(directory)) if kind != "proc" else None
    run = ansible.play(kp({"name": "nowhere", "private_key_path": key}))
    result = run.task("ensure")
    assert result["failure"]["code"] == "InvalidDestination" and result["changed"] is False
    assert "cannot write in %s" % directory in result["msg"], result["msg"]
    assert admin.writes() == [] and admin.key_pairs() == []  # zero write calls
    if listing is not None:
        assert sorted(os.listdir(directory)) == listing  # nothing changed on disk
    assert not os.path.exists(key)


@pytest.mark.core
def test_write_failure_after_create_rolls_back(ansible, admin, tmp_path):
    """The key directory becomes unwritable while CreateKeyPair is on its way (the immutable flag, which stops root
    too): the rename into place fails after the create, and the key pair is deleted again (the rollback path,
    reached as root). Moving the directory away would not do: the task writes through the directory it opened."""
    import threading
    import time

    keys = tmp_path / "keys"
    keys.mkdir()
    admin.fault(action="CreateKeyPair", mode="latency", latency=3)
    runs = []
    task = kp({"name": "vanished", "private_key_path": str(keys / "k")})
    player = threading.Thread(target=lambda: runs.append(ansible.play(task)))
    player.start()
    deadline = time.monotonic() + 60
    while not admin.requests() and time.monotonic() < deadline:  # DescribeKeyPairs is done, Create is sent
        time.sleep(0.05)
    time.sleep(0.5)
    subprocess.run(["chattr", "+i", str(keys)], check=True)
    try:
        player.join(120)
    finally:
        subprocess.run(["chattr", "-i", str(keys)], check=True)
    result = runs[0].task("ensure")
    assert result["failure"]["code"] == "KeyFileWriteFailed" and "was deleted again" in result["msg"]
    assert result["changed"] is True  # a key pair was created and deleted: said, with its KeyId
    assert [r["action"] for r in admin.requests()] == ["DescribeKeyPairs", "CreateKeyPair", "DeleteKeyPairs"]
    created = [r for r in admin.requests() if r["action"] == "CreateKeyPair"]
    assert created[0]["code"] == "OK" and admin.key_pairs() == []
    assert "k" not in os.listdir(keys)  # the reserved files stay (the flag kept them); the next run removes them
    rerun = ansible.play(task)
    assert rerun.task("ensure")["changed"] is True and sorted(os.listdir(keys)) == ["k", "k.pub"]
    invariants("destination: directory unwritable after create (rollback), then rerun", admin, str(keys), rerun,
               expect_pairs=1)


# --- bad input --------------------------------------------------------------------------------------

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x"
BAD_INPUT = [
    ("name empty", {"name": ""}, "letters, digits or underscores"),
    ("name 26 chars", {"name": "n" * 26}, "letters, digits or underscores"),
    ("name with -", {"name": "bad-name"}, "letters, digits or underscores"),
    ("name with space", {"name": "bad name"}, "letters, digits or underscores"),
    ("name unicode", {"name": "密钥"}, "letters, digits or underscores"),
    ("name SQL", {"name": "x'; DROP TABLE key_pairs;--"}, "letters, digits or underscores"),
    ("name shell", {"name": "$(touch /tmp/pwned)"}, "letters, digits or underscores"),
    ("project -1", {"project_id": -1}, "project_id must be an integer >= 0"),
    ("project string", {"project_id": "default"}, "project_id"),
    ("project huge", {"project_id": 2 ** 64}, "project_id"),
    ("public key garbage", {"public_key": "hello world", "private_key_path": None}, "public_key is invalid"),
    ("public key ed25519", {"public_key": ED25519, "private_key_path": None}, "only OpenSSH RSA"),
    ("public key truncated", {"public_key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAB", "private_key_path": None},
     "public_key is invalid"),
    ("private key pasted", {"public_key": PEM_BEGIN + "\nMIIEpAIBAAKCAQEA\n" + PEM_END, "private_key_path": None},
     "holds a private key"),
    ("public key + path", {"public_key": ED25519}, "mutually exclusive"),
    ("mode 0644", {"private_key_mode": "0644"}, "gives group or others access"),
    ("mode 0640", {"private_key_mode": "0640"}, "gives group or others access"),
    ("mode text", {"private_key_mode": "rw-------"}, "octal string"),
    ("mode 0200", {"private_key_mode": "0200"}, "does not let the owner read"),
    ("passphrase short", {"passphrase": "abcdefg"}, "at least 8 characters"),
    ("passphrase empty", {"passphrase": ""}, "at least 8 characters"),
    ("description 61", {"description": "d" * 61}, "must not exceed 60"),
    ("tags list", {"tags": ["team", "x"]}, "tags"),
    ("regenerate bad", {"regenerate": "sometimes"}, "regenerate must be one of"),
    ("state bad", {"state": "gone"}, "state must be one of"),
    ("unknown option", {"colour": "red"}, "Unsupported parameters"),
    ("endpoint garbage", {"endpoint": "ht!tp://::bad"}, "endpoint"),
    ("endpoint ftp", {"endpoint": "ftp://cvm.example.com"}, "scheme must be http or https"),
    ("endpoint with path", {"endpoint": "https://cvm.tencentcloudapi.com/v3"}, "must not have a path"),
    ("timeout negative", {"timeout": -1}, "timeout"),
    ("retries negative", {"retries": -3}, "retries"),
    ("only secret_id", {"secret_id": "AKIDonly"}, "both secret_id and secret_key"),
]


def test_bad_input_changes_nothing(ansible, admin, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    tasks = ""
    for i, (label, args, _m) in enumerate(BAD_INPUT):
        full = {"name": "good_name", "private_key_path": str(keys / ("k%d" % i))}
        full.update(args)
        full = {k: v for k, v in full.items() if v is not None}
        tasks += kp(full, title="case%d" % i)
    run = ansible.play(tasks)
    misses = []
    for i, (label, _args, message) in enumerate(BAD_INPUT):
        result = run.task("case%d" % i)
        if not (result["failed"] and message in result["msg"]):
            misses.append((label, result.get("msg")))
    assert misses == []
    assert _no_writes(admin) and os.listdir(keys) == [] and not os.path.exists("/tmp/pwned")
    invariants("bad input: %d rows" % len(BAD_INPUT), admin, str(keys), run, expect_pairs=0)


def test_bad_region_and_https_to_plain_port(ansible, admin, keys, tmp_path):
    run = ansible.play(kp({"name": "r", "private_key_path": str(keys / "a"), "region": "moon-base-1"}, "region")
                       + kp({"name": "t", "private_key_path": str(keys / "b"),
                             "endpoint": ansible.emulator.url.replace("http://", "https://")}, "tls"))
    assert run.task("region")["failure"]["code"] == "UnsupportedRegion"
    tls = run.task("tls")
    plain = ansible.emulator.url.replace("http://", "")
    assert tls["failure"]["code"] == "ClientNetworkError" and tls["failure"]["message"] == (
        "Could not connect to %s (the endpoint speaks plain HTTP, not TLS: use http://%s)" % (plain, plain))
    assert _no_writes(admin)
    invariants("bad region, https to a plain-HTTP port", admin, str(keys), run, expect_pairs=0)


# --- concurrency ------------------------------------------------------------------------------------

def _inventory(tmp_path, n):
    path = tmp_path / "inventory.ini"
    path.write_text("".join("host%02d ansible_connection=local ansible_python_interpreter=%s\n"
                            % (i, sys.executable) for i in range(n)))
    return str(path)


def test_twenty_forks_same_key_same_file(ansible, admin, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    run = ansible.play(kp({"name": "shared_key", "private_key_path": str(keys / "shared")}),
                       hosts="all", inventory=_inventory(tmp_path, 20), forks=20)
    results = run.by_action()
    assert len(results) == 20 and all(not r["result"]["failed"] for r in results)
    assert sum(1 for r in results if r["result"]["changed"]) == 1
    assert all(r["result"]["private_key_matches"] is True for r in results)
    assert [r["code"] for r in admin.requests() if r["action"] == "CreateKeyPair"] == ["OK"]
    assert sorted(os.listdir(keys)) == ["shared", "shared.pub"]
    invariants("concurrency: 20 forks, one name, one file", admin, str(keys), run, expect_pairs=1)


def test_twenty_forks_distinct_keys(ansible, admin, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    run = ansible.play(kp({"name": "{{ inventory_hostname }}", "private_key_path": "%s/{{ inventory_hostname }}"
                           % keys}), hosts="all", inventory=_inventory(tmp_path, 20), forks=20)
    assert all(r["result"]["changed"] for r in run.by_action()) and len(run.by_action()) == 20
    assert len(glob.glob(str(keys / "host*.pub"))) == 20
    invariants("concurrency: 20 forks, 20 names", admin, str(keys), run, expect_pairs=20)


# --- secrets at -vvvv -------------------------------------------------------------------------------

@pytest.mark.core
def test_no_secret_in_any_output(ansible, admin, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    admin.credential(secret_id="AKIDvvvv", secret_key="vvvv-secret-key-987", token="vvvv-session-token-654")
    tree = tmp_path / "tree"
    tasks = (kp({"name": "noisy", "private_key_path": str(keys / "noisy"), "passphrase": "vvvv-passphrase-321",
                 "secret_id": "AKIDvvvv", "secret_key": "vvvv-secret-key-987",
                 "security_token": "vvvv-session-token-654"}, "first")
             + kp({"name": "noisy", "private_key_path": str(keys / "noisy"), "passphrase": "vvvv-passphrase-321",
                   "secret_id": "AKIDvvvv", "secret_key": "vvvv-secret-key-987",
                   "security_token": "vvvv-session-token-654"}, "second")
             + kp({"name": "failing", "private_key_path": str(keys / "noisy"), "passphrase": "wrong-passphrase-0",
                   "secret_id": "AKIDvvvv", "secret_key": "vvvv-secret-key-987",
                   "security_token": "vvvv-session-token-654"}, "third"))
    secrets = ["vvvv-secret-key-987", "vvvv-session-token-654", "vvvv-passphrase-321", "wrong-passphrase-0"]
    for callback in ("ansible.builtin.default", "ansible.builtin.tree"):
        admin.reset()
        admin.credential(secret_id="AKIDvvvv", secret_key="vvvv-secret-key-987", token="vvvv-session-token-654")
        for leftover in glob.glob(str(keys / "*")):
            os.unlink(leftover)
        # ansible.posix.json cannot be installed here (no Galaxy); the core `tree` callback writes the same
        # JSON results, one file per host
        env = {"ANSIBLE_CALLBACK_TREE_DIR": str(tree)}
        if callback.endswith("tree"):
            env["ANSIBLE_CALLBACKS_ENABLED"] = "results_to_file,ansible.builtin.tree"
        run = ansible.play(tasks, verbosity=4, env=env)
        assert run.task("first")["changed"] is True and run.task("second")["changed"] is False
        assert run.task("third")["failed"] is True
        if callback.endswith("tree"):
            dumped = "".join(open(p).read() for p in glob.glob(str(tree / "*")))
            assert '"failure"' in dumped  # the JSON results really are there (the last task's, per host)
            run.stdout += dumped
        invariants("secrets: -vvvv, %s callback" % callback.rsplit(".", maxsplit=1)[-1], admin, str(keys), run,
                   secrets=secrets, passphrase="vvvv-passphrase-321", expect_pairs=1)


# --- TLS --------------------------------------------------------------------------------------------

def test_tls_self_signed(ansible, tmp_path):
    cert, key = self_signed(tmp_path)
    emu = EmulatorProcess("--port", "0", "--tls-cert", cert, "--tls-key", key, cafile=cert).start()
    try:
        keys = tmp_path / "keys"
        keys.mkdir()
        base = {"endpoint": emu.url}
        run = ansible.play(kp(dict(base, name="tls_default", private_key_path=str(keys / "a")), "default")
                           + kp(dict(base, name="tls_ca", private_key_path=str(keys / "b"), ca_path=cert), "ca")
                           + kp(dict(base, name="tls_off", private_key_path=str(keys / "c"), validate_certs=False),
                                "off"))
        default = run.task("default")
        assert default["failed"] is True and "certificate verify failed" in default["msg"]
        assert "ca_path" in default["msg"]
        assert run.task("ca")["changed"] is True
        off = run.task("off")
        assert off["changed"] is True and any("validate_certs=false" in w for w in off["warnings"])
        assert sorted(kp["key_name"] for kp in emu.admin.key_pairs()) == ["tls_ca", "tls_off"]
    finally:
        emu.stop()


# --- emulator restart mid-play ---------------------------------------------------------------------

def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_emulator_restart_mid_play(ansible, tmp_path):
    port, db = _free_port(), str(tmp_path / "state.db")
    keys = tmp_path / "keys"
    keys.mkdir()
    first = EmulatorProcess("--port", str(port), "--db", db).start()
    url = first.url
    restart = tmp_path / "restart.sh"
    restart.write_text("#!/bin/sh\nkill %d\nsleep 0.5\ncd %s\nPYTHONPATH=%s setsid %s -m cvm_emulator --port %d "
                       "--db %s > %s/url2 2>&1 < /dev/null &\necho $! > %s/pid2\nsleep 1\n"
                       % (first.proc.pid, ROOT, ROOT, sys.executable, port, db, tmp_path, tmp_path))
    restart.chmod(0o755)
    raw = yaml.safe_dump([{"name": "restart", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "a1", KP: {"name": "before", "private_key_path": str(keys / "before"), "endpoint": url},
         "register": "a1"},
        {"name": "restart the emulator", "ansible.builtin.command": str(restart)},
        {"name": "a2", KP: {"name": "before", "private_key_path": str(keys / "before"), "endpoint": url},
         "register": "a2"},
        {"name": "b", KP: {"name": "after", "private_key_path": str(keys / "after"), "endpoint": url}},
        {"name": "same id", "ansible.builtin.assert": {"that": ["a1.key_pair.key_id == a2.key_pair.key_id",
                                                                "a1 is changed", "a2 is not changed"]}},
    ]}], sort_keys=False)
    try:
        run = ansible.play(None, raw=raw)
        assert run.rc == 0, run.stdout + run.stderr
        rerun = yaml.safe_dump([{"name": "rerun", "hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": name, KP: {"name": name, "private_key_path": str(keys / name), "endpoint": url}}
            for name in ("before", "after")]}], sort_keys=False)
        again = ansible.play(None, raw=rerun)
        assert again.rc == 0 and "changed=0" in again.stdout.split("PLAY RECAP")[1], again.stdout
    finally:
        first.stop()
        pid = (tmp_path / "pid2").read_text().strip() if (tmp_path / "pid2").exists() else None
        if pid:
            subprocess.run(["kill", pid], check=False)
