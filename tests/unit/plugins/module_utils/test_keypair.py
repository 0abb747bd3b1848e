# SPDX-License-Identifier: GPL-3.0-or-later
"""The reconciler's decisions, against a real emulator on 127.0.0.1 and real files."""

import os
import re
import stat

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair import (
    create as _keypair_create, reconcile as _keypair, reservation as _reservation, steps as _keypair_steps,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.api import KeyPairs
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair import destination as _destination
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.keys import fingerprint, public_key_of_private
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.reconcile import KeyPairReconciler
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.spec import KeyPairInfoSpec, KeyPairSpec
from helpers import PEM_BEGIN, PEM_END, keypair_spec, make_client, module_options
import pytest


def manager(emulator, check_mode=False, **kw):
    client = make_client(emulator.url, sleep=lambda s: None, timeout=kw.pop("timeout", 10), **kw)
    return KeyPairReconciler(client, check_mode=check_mode)


def spec(**kw):
    kw.setdefault("name", "unit_key")
    return keypair_spec(**kw)


def ensure(emulator, check_mode=False, **kw):
    return manager(emulator, check_mode).run(spec(**kw))


def actions(emulator):
    return [r["action"] for r in emulator.requests()]


def local_blob(path):
    with open(path, "rb") as handle:
        return public_key_of_private(handle.read()).split()[1]


def test_create_then_converged(emulator, tmp_path):
    path = str(tmp_path / "key")
    first = ensure(emulator, private_key_path=path)
    assert first.changed and first.private_key_matches is True
    assert actions(emulator) == ["DescribeKeyPairs", "CreateKeyPair"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path + ".pub").st_mode) == 0o644
    remote = emulator.key_pairs()[0]
    assert local_blob(path) == remote["key_blob"]
    assert first.key_pair["key_id"] == remote["key_id"]
    assert first.key_pair["fingerprint"] == fingerprint(remote["public_key"])
    assert open(path + ".pub").read().split()[1] == remote["key_blob"]
    emulator.clear_requests()
    second = ensure(emulator, private_key_path=path)
    assert not second.changed and second.private_key_matches is True and not second.warnings
    assert second.key_pair["key_id"] == first.key_pair["key_id"]
    assert actions(emulator) == ["DescribeKeyPairs"]


def test_check_mode_predicts_without_writing(emulator, tmp_path):
    path = str(tmp_path / "key")
    predicted = ensure(emulator, check_mode=True, private_key_path=path)
    assert predicted.changed and predicted.key_pair["key_id"] is None
    assert not os.path.exists(path) and emulator.key_pairs() == [] and actions(emulator) == ["DescribeKeyPairs"]
    ensure(emulator, private_key_path=path)
    assert not ensure(emulator, check_mode=True, private_key_path=path).changed
    assert ensure(emulator, check_mode=True, state="absent").changed
    assert len(emulator.key_pairs()) == 1


def test_existing_file_without_key_pair_is_not_overwritten(emulator, tmp_path):
    path = tmp_path / "key"
    path.write_text("precious")
    with pytest.raises(TaskError, match="would overwrite") as info:
        ensure(emulator, private_key_path=str(path))
    assert info.value.code == "DestinationExists"
    assert path.read_text() == "precious" and emulator.key_pairs() == [] and emulator.writes() == []
    out = ensure(emulator, private_key_path=str(path), backup=True)
    assert out.changed and open(out.backup_file).read() == "precious"


def test_regenerate_modes(emulator, tmp_path):
    path = str(tmp_path / "key")
    original = ensure(emulator, private_key_path=path).key_pair["key_id"]
    os.unlink(path)
    never = ensure(emulator, private_key_path=path)
    assert not never.changed and never.warnings and "cannot return the private key" in never.warnings[0]
    with pytest.raises(TaskError, match="regenerate=fail"):
        ensure(emulator, private_key_path=path, regenerate="fail")
    replaced = ensure(emulator, private_key_path=path, regenerate="mismatch")
    assert replaced.changed and replaced.key_pair["key_id"] != original
    assert local_blob(path) == emulator.key_pairs()[0]["key_blob"]
    assert not ensure(emulator, private_key_path=path, regenerate="mismatch").changed
    again = ensure(emulator, private_key_path=path, regenerate="always", backup=True)
    assert again.changed and again.key_pair["key_id"] != replaced.key_pair["key_id"] and again.backup_file
    assert len(emulator.key_pairs()) == 1


def test_mismatching_file_never_and_mismatch(emulator, tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    ensure(emulator, name="first", private_key_path=a)
    ensure(emulator, name="second", private_key_path=b)
    out = ensure(emulator, name="first", private_key_path=b)
    assert not out.changed and out.private_key_matches is False and "does not belong" in out.warnings[0]
    fixed = ensure(emulator, name="first", private_key_path=b, regenerate="mismatch", backup=True)
    assert fixed.changed and fixed.private_key_matches is True and os.path.exists(fixed.backup_file)


def test_bound_key_pair_is_never_deleted_implicitly(emulator, tmp_path):
    path = str(tmp_path / "key")
    key_id = ensure(emulator, private_key_path=path).key_pair["key_id"]
    inst = emulator.instance(key_ids=[key_id])
    os.unlink(path)
    with pytest.raises(TaskError, match=inst["instance_id"]):
        ensure(emulator, private_key_path=path, regenerate="mismatch")
    with pytest.raises(TaskError, match="disassociate"):
        ensure(emulator, state="absent")
    assert [kp["key_id"] for kp in emulator.key_pairs()] == [key_id]
    assert "DeleteKeyPairs" not in actions(emulator)


def test_import(emulator, tmp_path):
    path = str(tmp_path / "k")
    ensure(emulator, name="gen", private_key_path=path)
    public = open(path + ".pub").read()
    emulator.reset()
    first = ensure(emulator, name="imp", public_key=public)
    assert first.changed and actions(emulator) == ["DescribeKeyPairs", "ImportKeyPair"]
    assert first.key_pair["fingerprint"] == fingerprint(public)
    assert not ensure(emulator, name="imp", public_key=public).changed
    ensure(emulator, name="gen2", private_key_path=str(tmp_path / "k2"))
    other = open(str(tmp_path / "k2.pub")).read()
    emulator.reset()
    ensure(emulator, name="imp", public_key=public)
    kept = ensure(emulator, name="imp", public_key=other)
    assert not kept.changed and "differs" in kept.warnings[0]
    swapped = ensure(emulator, name="imp", public_key=other, regenerate="mismatch")
    assert swapped.changed and emulator.key_pairs()[0]["key_blob"] == other.split()[1]


def test_absent(emulator, tmp_path):
    path = str(tmp_path / "key")
    ensure(emulator, private_key_path=path)
    gone = ensure(emulator, state="absent")
    assert gone.changed and emulator.key_pairs() == [] and os.path.exists(path)
    assert not ensure(emulator, state="absent").changed


def test_description_is_idempotent(emulator, tmp_path):
    path = str(tmp_path / "key")
    created = ensure(emulator, private_key_path=path, description="first")
    assert created.key_pair["description"] == "first"
    assert actions(emulator) == ["DescribeKeyPairs", "CreateKeyPair", "ModifyKeyPairAttribute"]
    emulator.clear_requests()
    assert not ensure(emulator, private_key_path=path, description="first").changed
    changed = ensure(emulator, private_key_path=path, description="second")
    assert changed.changed and emulator.key_pairs()[0]["description"] == "second"


def test_tags_at_creation(emulator, tmp_path):
    out = ensure(emulator, private_key_path=str(tmp_path / "k"), tags={"team": "platform", "env": "prod"})
    assert out.key_pair["tags"] == {"team": "platform", "env": "prod"}
    assert {t["Key"] for t in emulator.key_pairs()[0]["tags"]} == {"team", "env"}


def test_return_private_key_only_when_asked(emulator, tmp_path):
    out = ensure(emulator, private_key_path=str(tmp_path / "k"))
    assert out.private_key is None
    out = ensure(emulator, name="returned", return_private_key=True)
    assert out.private_key.startswith(PEM_BEGIN)


def test_exact_name_across_pages(emulator, tmp_path):
    pairs = KeyPairs(manager(emulator).client)
    emulator.seed(["web_%03d" % i for i in range(130)] + ["web"])
    assert pairs.find("web")[0].key_name == "web"
    assert [kp.key_name for kp in pairs.find("web_129", "web_001")] == ["web_129", "web_001"]
    assert pairs.find("we") == [None]


# --- the ambiguous create -----------------------------------------------------------------------

def test_lost_answer_after_commit_is_recovered(emulator, tmp_path):
    path = str(tmp_path / "key")
    emulator.fault(action="CreateKeyPair", mode="close_after")
    out = ensure(emulator, private_key_path=path)
    assert out.changed and "never arrived" in out.warnings[0]
    pairs = emulator.key_pairs()
    assert len(pairs) == 1 and local_blob(path) == pairs[0]["key_blob"]
    assert actions(emulator) == ["DescribeKeyPairs", "CreateKeyPair", "DescribeKeyPairs", "DeleteKeyPairs",
                                 "CreateKeyPair"]


@pytest.mark.parametrize("mode", ["malformed_json", "missing_fields", "no_response"])
def test_unreadable_answers_after_commit_are_recovered(emulator, tmp_path, mode):
    path = str(tmp_path / "key")
    emulator.fault(action="CreateKeyPair", mode=mode)
    out = ensure(emulator, private_key_path=path)
    pairs = emulator.key_pairs()
    assert out.changed and len(pairs) == 1 and local_blob(path) == pairs[0]["key_blob"]
    assert actions(emulator).count("DeleteKeyPairs") == 1


@pytest.mark.parametrize("mode", ["close_before", "http_error"])
def test_lost_answers_before_commit_fail_without_retry(emulator, tmp_path, mode):
    path = str(tmp_path / "key")
    emulator.fault(action="CreateKeyPair", mode=mode, status=503)
    with pytest.raises(TaskError, match="nothing was created") as info:
        ensure(emulator, private_key_path=path)
    assert info.value.code in ("ClientNetworkError", "ServerNetworkError")
    assert emulator.key_pairs() == [] and os.listdir(tmp_path) == []
    assert actions(emulator) == ["DescribeKeyPairs", "CreateKeyPair", "DescribeKeyPairs"]


def test_lost_twice_fails_without_orphan(emulator, tmp_path):
    path = str(tmp_path / "key")
    emulator.fault(action="CreateKeyPair", mode="close_after", count=2)
    with pytest.raises(TaskError, match="lost twice"):
        ensure(emulator, private_key_path=path)
    assert emulator.key_pairs() == [] and not os.path.exists(path)


def test_timeout_on_create_is_recovered(emulator, tmp_path):
    import time

    path = str(tmp_path / "key")
    emulator.fault(action="CreateKeyPair", mode="latency", latency=1.5)
    client = make_client(emulator.url, sleep=time.sleep, timeout=0.5)
    out = KeyPairReconciler(client).run(spec(private_key_path=path))
    # the first CreateKeyPair commits a second after the client gave up: the lookups keep looking until it
    # appears, then it is deleted (its private key is lost) and created again
    assert out.changed and "never arrived" in out.warnings[0]
    pairs = emulator.key_pairs()
    assert len(pairs) == 1 and local_blob(path) == pairs[0]["key_blob"]
    assert [r["code"] for r in emulator.requests() if r["action"] == "CreateKeyPair"] == ["OK", "OK"]


def test_lost_import_answer_is_ours(emulator, tmp_path):
    ensure(emulator, name="gen", private_key_path=str(tmp_path / "k"))
    public = open(str(tmp_path / "k.pub")).read()
    emulator.reset()
    emulator.fault(action="ImportKeyPair", mode="close_after")
    out = ensure(emulator, name="imp", public_key=public)
    assert out.changed and len(emulator.key_pairs()) == 1
    assert actions(emulator) == ["DescribeKeyPairs", "ImportKeyPair", "DescribeKeyPairs"]


def test_duplicate_from_a_race_is_ok(emulator, tmp_path):
    mgr = manager(emulator)
    real_call = mgr.client.call

    def racing_call(action, params, retry=True):
        if action == "CreateKeyPair":  # someone else creates it between our Describe and our Create
            other = manager(emulator)
            other.client.call("CreateKeyPair", {"KeyName": params["KeyName"], "ProjectId": 0}, retry=False)
        return real_call(action, params, retry)

    mgr.client.call = racing_call
    path = str(tmp_path / "key")
    out = mgr.run(spec(private_key_path=path))
    assert not out.changed and out.private_key_matches is False and "concurrently" in out.warnings[0]
    assert len(emulator.key_pairs()) == 1 and not os.path.exists(path)


# --- writing fails after the create -------------------------------------------------------------

def disk_full(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), RuntimeError("anything else")],
                         ids=["ENOSPC", "any exception"])
def test_write_failure_rolls_back(emulator, tmp_path, monkeypatch, failure):
    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr(_reservation.Reservation, "write_key", broken)
    path = str(tmp_path / "key")
    with pytest.raises(TaskError, match="was deleted again") as info:
        ensure(emulator, private_key_path=path)
    assert info.value.code == "KeyFileWriteFailed" and info.value.changed
    assert emulator.key_pairs() == [] and os.listdir(tmp_path) == []  # the reservation is gone too


def test_write_and_rollback_failure_says_so_and_the_next_run_cleans_up(emulator, tmp_path, monkeypatch):
    monkeypatch.setattr(_reservation.Reservation, "write_key", disk_full)
    emulator.fault(action="DeleteKeyPairs", mode="error", code="InvalidParameterValue", count=10)
    with pytest.raises(TaskError, match="rollback failed") as info:
        ensure(emulator, private_key_path=str(tmp_path / "key"))
    key_id = emulator.key_pairs()[0]["key_id"]
    assert key_id in info.value.msg and "BEGIN" not in info.value.msg
    assert os.listdir(tmp_path) == [".key.reservation"]  # the record of a creation whose key is lost
    monkeypatch.undo()
    emulator.clear_faults()
    out = ensure(emulator, private_key_path=str(tmp_path / "key"))
    assert out.changed and key_id in " ".join(out.warnings) and "deleted and created again" in " ".join(out.warnings)
    (pair,) = emulator.key_pairs()
    assert pair["key_id"] != key_id and local_blob(str(tmp_path / "key")) == pair["key_blob"]
    assert sorted(os.listdir(tmp_path)) == ["key", "key.pub"]


# --- validation: nothing happens on bad input ---------------------------------------------------

NAME = "1 to 25 letters, digits or underscores"
BAD = [
    (dict(name=""), NAME), (dict(name="x" * 26), NAME), (dict(name="bad-name"), NAME),
    (dict(name="with space"), NAME), (dict(name="naïve"), NAME), (dict(name="a;rm -rf /"), NAME),
    (dict(name="x' OR '1'='1"), NAME), (dict(project_id=-1), "project_id must be an integer >= 0"),
    (dict(project_id="zero"), "project_id must be an integer"), (dict(project_id=2 ** 63), "project_id"),
    (dict(project_id=True), "project_id"),
    # public_key rows carry no private_key_path, so that they reach the key's own validation
    (dict(public_key="garbage", private_key_path=None), "public_key is invalid: not an OpenSSH public key"),
    (dict(public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
          private_key_path=None), "imports only OpenSSH RSA public keys"),
    (dict(public_key=PEM_BEGIN + "\nabc\n" + PEM_END, private_key_path=None), "holds a private key"),
    (dict(public_key="ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ"), "cannot be combined with private_key_path"),
    (dict(private_key_mode="0644"), "gives group or others access"),
    (dict(private_key_mode="0640"), "gives group or others access"),
    (dict(private_key_mode="rw"), "must be an octal string"),
    (dict(private_key_mode="0200"), "does not let the owner read"),
    (dict(passphrase="abcdefg"), "at least 8 characters"), (dict(description="d" * 61), "must not exceed 60"),
    (dict(tags=["a"]), "tags must be a dictionary"), (dict(tags={"": "x"}), "the key '' is empty"),
    (dict(tags={"env": ""}), "the value '' of tag 'env' is empty; Tencent Cloud refuses empty tag values"),
    (dict(tags={"env": None}), "tags must map strings to strings"),
    (dict(tags={"k" * 128: "v"}), "has 128 characters; at most 127"),
    (dict(tags={"k": "v" * 256}), "has 256 characters; at most 255"),
    (dict(tags={"qcs:owner": "v"}), "is reserved by Tencent Cloud"),
    (dict(tags={"Project": "v"}), "is reserved by Tencent Cloud"),
    (dict(tags={"项目": "v"}), "is reserved by Tencent Cloud"),
    (dict(tags={"a*b": "v"}), "characters Tencent Cloud does not allow in tags: *"),
    (dict(tags={" team": "v"}), "starts or ends with a space"),
    (dict(tags={"k%d" % i: "v" for i in range(51)}), "at most 50 tags, not 51"),
    (dict(wait_timeout=-1), "wait_timeout must be a number of seconds >= 0"),
    (dict(regenerate="sometimes"), "regenerate must be one of"), (dict(state="gone"), "state must be present"),
    (dict(private_key_path=None), "Give private_key_path"),
    (dict(private_key_path=None, return_private_key=True, regenerate="mismatch"),
     "regenerate=mismatch compares the remote key pair with the file"),
]


@pytest.mark.parametrize("bad,message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_changes_nothing(emulator, tmp_path, bad, message):
    kw = dict(private_key_path=str(tmp_path / "key"))
    kw.update(bad)
    with pytest.raises(TaskError, match=re.escape(message)) as info:
        ensure(emulator, **kw)
    assert info.value.code == "InvalidArgument" and not info.value.changed
    assert emulator.requests() == [] and os.listdir(tmp_path) == []


# --- make-before-break replacement ---------------------------------------------------------------

def holds(emulator, *paths):
    """Every key pair in the emulator has its private key in one of `paths` (no orphan, nothing lost)."""
    blobs = {local_blob(p) for p in paths if os.path.exists(p)}
    return all(kp["key_blob"] in blobs for kp in emulator.key_pairs())


def replaced_setup(emulator, tmp_path):
    path = str(tmp_path / "key")
    old = ensure(emulator, private_key_path=path, description="kept", tags={"team": "a"}).key_pair
    with open(path, "rb") as handle:
        before = handle.read()
    emulator.clear_requests()
    return path, old, before


def test_replacement_is_make_before_break(emulator, tmp_path):
    path, old, _before = replaced_setup(emulator, tmp_path)
    out = ensure(emulator, private_key_path=path, regenerate="always")
    pending = _keypair.pending_name("unit_key")
    assert actions(emulator) == ["DescribeKeyPairs", "CreateKeyPair", "DeleteKeyPairs", "ModifyKeyPairAttribute"]
    create, _delete, rename = emulator.requests()[1:]
    assert create["key_name"] == pending and rename["key_name"] == "unit_key"
    (pair,) = emulator.key_pairs()
    assert pair["key_name"] == "unit_key" and pair["key_id"] != old["key_id"] and pair["key_id"] == out.key_pair["key_id"]
    assert pair["description"] == "kept" and pair["tags"] == [{"Key": "team", "Value": "a"}]  # carried over
    assert local_blob(path) == pair["key_blob"] and open(path + ".pub").read().split()[1] == pair["key_blob"]
    assert sorted(os.listdir(tmp_path)) == ["key", "key.pub"]
    assert out.changed and out.before["key_id"] == old["key_id"] and out.private_key_matches is True


@pytest.mark.parametrize("fault", [
    dict(mode="error", code="InvalidKeyPair.LimitExceeded"), dict(mode="http_error", status=503),
    dict(mode="close_before"), dict(mode="error", code="InternalServerError"),
], ids=["quota", "http503", "reset", "internal"])
def test_replacement_whose_create_fails_leaves_the_old_key_pair_and_file(emulator, tmp_path, fault):
    path, old, before = replaced_setup(emulator, tmp_path)
    emulator.fault(action="CreateKeyPair", **fault)
    with pytest.raises(TaskError, match=r"Key pair unit_key \(%s\) and .*key are unchanged" % old["key_id"]) as info:
        ensure(emulator, private_key_path=path, regenerate="always")
    assert info.value.code and not info.value.changed
    assert [kp["key_id"] for kp in emulator.key_pairs()] == [old["key_id"]]
    assert open(path, "rb").read() == before and sorted(os.listdir(tmp_path)) == ["key", "key.pub"]
    assert "DeleteKeyPairs" not in actions(emulator)


def test_replacement_whose_create_answer_is_lost_recovers(emulator, tmp_path):
    path, old, _before = replaced_setup(emulator, tmp_path)
    emulator.fault(action="CreateKeyPair", mode="close_after")
    out = ensure(emulator, private_key_path=path, regenerate="always")
    assert out.changed and "never arrived" in " ".join(out.warnings)
    (pair,) = emulator.key_pairs()
    assert pair["key_id"] != old["key_id"] and local_blob(path) == pair["key_blob"]


def test_delete_failure_mid_replacement_is_finished_by_the_next_run(emulator, tmp_path):
    path, old, before = replaced_setup(emulator, tmp_path)
    emulator.fault(action="DeleteKeyPairs", mode="error", code="InvalidParameterValue")
    with pytest.raises(TaskError, match="Could not delete key pair unit_key") as info:
        ensure(emulator, private_key_path=path, regenerate="mismatch", project_id=1000)
    pending = [kp for kp in emulator.key_pairs() if kp["key_name"] == _keypair.pending_name("unit_key")][0]
    assert info.value.changed and info.value.code == "InvalidParameterValue"
    assert "created key pair %s (%s)" % (pending["key_name"], pending["key_id"]) in info.value.msg
    assert "Run the task again to finish" in info.value.msg
    assert open(path, "rb").read() == before and local_blob(path + ".new") == pending["key_blob"]
    assert holds(emulator, path, path + ".new")  # both key pairs, each with its key file
    emulator.clear_requests()
    out = ensure(emulator, private_key_path=path, regenerate="mismatch", project_id=1000)
    assert actions(emulator) == ["DescribeKeyPairs", "DeleteKeyPairs", "ModifyKeyPairAttribute"]
    (pair,) = emulator.key_pairs()
    assert out.changed and pair["key_id"] == pending["key_id"] and pair["key_name"] == "unit_key"
    assert pair["project_id"] == 1000 and local_blob(path) == pair["key_blob"]
    assert sorted(os.listdir(tmp_path)) == ["key", "key.pub"]
    assert not ensure(emulator, private_key_path=path, regenerate="mismatch", project_id=1000).changed


def test_rename_failure_mid_replacement_is_finished_by_the_next_run(emulator, tmp_path):
    path, old, _before = replaced_setup(emulator, tmp_path)
    emulator.fault(action="ModifyKeyPairAttribute", mode="error", code="InvalidParameter")
    with pytest.raises(TaskError, match="Could not rename key pair") as info:
        ensure(emulator, private_key_path=path, regenerate="always")
    assert info.value.changed and "deleted key pair unit_key (%s)" % old["key_id"] in info.value.msg
    (pending,) = emulator.key_pairs()  # the old key pair is gone; the new one holds its key in key.new
    assert pending["key_name"] == _keypair.pending_name("unit_key") and holds(emulator, path + ".new")
    out = ensure(emulator, private_key_path=path)  # even with default options the next run finishes it
    (pair,) = emulator.key_pairs()
    assert out.changed and pair["key_id"] == pending["key_id"] and pair["key_name"] == "unit_key"
    assert local_blob(path) == pair["key_blob"] and sorted(os.listdir(tmp_path)) == ["key", "key.pub"]


def test_install_failure_mid_replacement_is_finished_by_the_next_run(emulator, tmp_path, monkeypatch):
    path, _old, _before = replaced_setup(emulator, tmp_path)

    def broken(dest, mode):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(_destination, "install_staged", broken)
    with pytest.raises(TaskError, match="Could not update the key files") as info:
        ensure(emulator, private_key_path=path, regenerate="always")
    assert info.value.changed and info.value.code == "KeyFileWriteFailed"
    (pair,) = emulator.key_pairs()
    assert pair["key_name"] == "unit_key" and holds(emulator, path + ".new")
    monkeypatch.undo()
    out = ensure(emulator, private_key_path=path)
    assert out.changed and local_blob(path) == pair["key_blob"] and not os.path.exists(path + ".new")


def test_staging_write_failure_rolls_the_new_key_pair_back(emulator, tmp_path, monkeypatch):
    path, old, before = replaced_setup(emulator, tmp_path)
    monkeypatch.setattr(_reservation.Reservation, "write_key", disk_full)
    with pytest.raises(TaskError, match="was deleted again") as info:
        ensure(emulator, private_key_path=path, regenerate="always")
    assert info.value.code == "KeyFileWriteFailed" and info.value.changed  # created, then deleted again
    assert [kp["key_id"] for kp in emulator.key_pairs()] == [old["key_id"]] and open(path, "rb").read() == before


def test_unexpected_error_still_says_what_was_changed(emulator, tmp_path, monkeypatch):
    path, old, _before = replaced_setup(emulator, tmp_path)

    def bug(*args):
        raise RuntimeError("a bug that shows sec-ret-456")

    monkeypatch.setattr(_keypair_steps, "public_key_line", bug)
    with pytest.raises(TaskError, match=r"Unexpected error: RuntimeError at test_keypair.py:\d+ \(a bug") as info:
        ensure(emulator, private_key_path=path, regenerate="always")
    assert info.value.code == "UnexpectedError" and info.value.changed
    assert "sec-ret-456" not in info.value.msg  # an exception's text may hold anything: it is not shown
    assert "deleted key pair unit_key (%s)" % old["key_id"] in info.value.msg


def test_replacement_without_a_file_returns_the_key_even_when_the_rename_fails(emulator, tmp_path):
    ensure(emulator, name="mem", return_private_key=True, private_key_path=None)
    emulator.fault(action="ModifyKeyPairAttribute", mode="error", code="InvalidParameter")
    with pytest.raises(TaskError, match="Could not rename key pair mem_rp") as info:
        ensure(emulator, name="mem", return_private_key=True, private_key_path=None, regenerate="always")
    (pending,) = emulator.key_pairs()
    assert info.value.changed and info.value.result["private_key"].startswith(PEM_BEGIN)
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.keys import public_key_of_private
    assert public_key_of_private(info.value.result["private_key"].encode()).split()[1] == pending["key_blob"]


def test_replacement_without_a_file_takes_the_new_key_pair_back_when_the_delete_fails(emulator, tmp_path):
    old = ensure(emulator, name="mem", return_private_key=True, private_key_path=None).key_pair
    emulator.fault(action="DeleteKeyPairs", mode="error", code="InvalidParameterValue")
    with pytest.raises(TaskError, match="Could not delete key pair mem"):
        ensure(emulator, name="mem", return_private_key=True, private_key_path=None, regenerate="always")
    assert [kp["key_id"] for kp in emulator.key_pairs()] == [old["key_id"]]


def test_import_replacement(emulator, tmp_path):
    ensure(emulator, name="gen1", private_key_path=str(tmp_path / "k1"))
    ensure(emulator, name="gen2", private_key_path=str(tmp_path / "k2"))
    first, second = (open(str(tmp_path / n)).read() for n in ("k1.pub", "k2.pub"))
    emulator.reset()
    ensure(emulator, name="imp", public_key=first)
    emulator.clear_requests()
    other = ensure(emulator, name="imp", public_key=second, regenerate="mismatch")  # make-before-break
    assert other.changed and actions(emulator) == ["DescribeKeyPairs", "ImportKeyPair", "DeleteKeyPairs",
                                                   "ModifyKeyPairAttribute"]
    emulator.clear_requests()
    same = ensure(emulator, name="imp", public_key=second, regenerate="always")  # the same key: delete first
    assert same.changed and actions(emulator) == ["DescribeKeyPairs", "DeleteKeyPairs", "ImportKeyPair"]
    (pair,) = emulator.key_pairs()
    assert pair["key_blob"] == second.split()[1] and pair["key_id"] == same.key_pair["key_id"]


def test_absent_also_deletes_a_pending_replacement(emulator, tmp_path):
    path, _old, _before = replaced_setup(emulator, tmp_path)
    emulator.fault(action="ModifyKeyPairAttribute", mode="error", code="InvalidParameter")
    with pytest.raises(TaskError):
        ensure(emulator, private_key_path=path, regenerate="always")
    gone = ensure(emulator, state="absent")
    assert gone.changed and emulator.key_pairs() == []


# --- existing key pairs: every option converges ---------------------------------------------------

def test_mode_encryption_and_pub_converge_on_an_existing_key_pair(emulator, tmp_path):
    path = str(tmp_path / "key")
    ensure(emulator, private_key_path=path)
    os.chmod(path, 0o644)
    os.unlink(path + ".pub")
    emulator.clear_requests()
    fixed = ensure(emulator, private_key_path=path)
    assert fixed.changed and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert open(path + ".pub").read().split()[1] == emulator.key_pairs()[0]["key_blob"]
    assert actions(emulator) == ["DescribeKeyPairs"]
    encrypted = ensure(emulator, private_key_path=path, passphrase="pass-phrase", private_key_mode="0400",
                       backup=True)
    assert encrypted.changed and "ENCRYPTED" in open(path).read() and stat.S_IMODE(os.stat(path).st_mode) == 0o400
    assert "ENCRYPTED" not in open(encrypted.backup_file).read()  # backup=true keeps the plaintext copy
    assert public_key_of_private(open(path, "rb").read(), "pass-phrase").split()[1] == \
        emulator.key_pairs()[0]["key_blob"]
    assert not ensure(emulator, private_key_path=path, passphrase="pass-phrase", private_key_mode="0400").changed


def test_check_mode_changes_nothing_on_an_existing_key_pair(emulator, tmp_path):
    path = str(tmp_path / "key")
    ensure(emulator, private_key_path=path)
    os.chmod(path, 0o644)
    before = open(path, "rb").read()
    emulator.clear_requests()
    predicted = manager(emulator, check_mode=True).run(spec(private_key_path=path, passphrase="pass-phrase",
                                                            regenerate="always", description="x"))
    assert predicted.changed and predicted.key_pair["key_id"] is None and predicted.private_key_matches is True
    assert open(path, "rb").read() == before and stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert actions(emulator) == ["DescribeKeyPairs"] and sorted(os.listdir(tmp_path)) == ["key", "key.pub"]


def spec_fields(**given):
    import dataclasses

    options = module_options("tencent_keypair", **given)
    return {f.name: options[f.name] for f in dataclasses.fields(KeyPairSpec)}


def test_spec_and_outcome_reject_unknown_fields():
    with pytest.raises(TypeError, match="colour"):
        KeyPairSpec(**spec_fields(name="x"), colour="red")
    with pytest.raises(TypeError, match="operations"):
        _keypair.Outcome(operations=[])
    with pytest.raises(TypeError, match="mode"):
        KeyPairSpec(**spec_fields(name="x"), mode=0o600)  # derived from private_key_mode, never given


def test_a_concurrent_creator_is_reported_as_it_is(emulator, tmp_path):
    mgr = manager(emulator)
    real_call = mgr.client.call

    def racing_call(action, params, retry=True):
        if action == "CreateKeyPair":
            manager(emulator).client.call("CreateKeyPair", {"KeyName": params["KeyName"], "ProjectId": 0}, retry=False)
        return real_call(action, params, retry)

    mgr.client.call = racing_call
    out = mgr.run(spec(private_key_path=str(tmp_path / "key")))
    assert not out.changed and out.before is None  # the task saw no key pair, and changed nothing
    assert out.key_pair["key_id"] == emulator.key_pairs()[0]["key_id"] and out.private_key_matches is False


# --- interrupted creations: reservations and recovery ------------------------------------------------

class SignalWaiting:
    """A DeferredSignals stand-in whose signal arrived during the section (and is not re-raised here)."""

    def __init__(self):
        import signal

        self.pending = [signal.SIGTERM]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_lost_answer_with_a_signal_waiting_stops_at_once_and_the_next_run_recovers(
        emulator, tmp_path, monkeypatch):
    path = str(tmp_path / "key")
    emulator.fault(action="CreateKeyPair", mode="close_after")
    monkeypatch.setattr(_keypair_create, "DeferredSignals", SignalWaiting)
    with pytest.raises(TaskError, match="Interrupted while CreateKeyPair for unit_key got no answer") as info:
        ensure(emulator, private_key_path=path)
    assert info.value.code == "Interrupted" and info.value.changed
    assert actions(emulator) == ["DescribeKeyPairs", "CreateKeyPair"]  # no lookups, no waiting
    assert os.listdir(tmp_path) == [".key.reservation"]  # the record stays for the next run
    (orphan,) = emulator.key_pairs()
    monkeypatch.undo()
    out = ensure(emulator, private_key_path=path)
    assert out.changed and "%s) is one nobody can use" % orphan["key_id"] in " ".join(out.warnings)
    (pair,) = emulator.key_pairs()
    assert pair["key_id"] != orphan["key_id"] and local_blob(path) == pair["key_blob"]
    assert sorted(os.listdir(tmp_path)) == ["key", "key.pub"]


def reservation_left(tmp_path, emulator, key_pair="unit_key", when=None, **extra):
    """The record a killed run leaves in the key directory."""
    import json
    import socket
    import time

    record = {"version": 1, "name": "unit_key", "key_pair": key_pair, "region": "ap-guangzhou",
              "endpoint": emulator.url.rstrip("/") + "/", "project_id": 0, "path": str(tmp_path / "key"),
              "time": time.time() if when is None else when, "timeout": 10, "pid": 1, "host": socket.gethostname()}
    record.update(extra)
    (tmp_path / ".key.reservation").write_text(json.dumps(record))


def test_recovery_leaves_alone_what_it_cannot_be_sure_of(emulator, tmp_path):
    import time

    emulator.seed(["unit_key"])  # created now, by someone: bound to nothing, its key nowhere here
    reservation_left(tmp_path, emulator, when=time.time() - 3600)  # ...an hour after the interrupted creation
    with pytest.raises(TaskError, match="which is not when that creation ran; it may be someone else's") as info:
        ensure(emulator, private_key_path=str(tmp_path / "key"))
    assert info.value.code == "InterruptedCreation" and emulator.writes() == []
    reservation_left(tmp_path, emulator, region="ap-shanghai")
    with pytest.raises(TaskError, match="cannot tell what that creation left") as info:
        ensure(emulator, private_key_path=str(tmp_path / "key"))
    assert info.value.code == "InterruptedCreation" and len(emulator.key_pairs()) == 1


def test_recovery_never_deletes_a_bound_key_pair(emulator, tmp_path):
    key_id = emulator.seed(["unit_key"])[0]
    emulator.instance(key_ids=[key_id])
    reservation_left(tmp_path, emulator)
    with pytest.raises(TaskError, match="bound to instances") as info:
        ensure(emulator, private_key_path=str(tmp_path / "key"))
    assert info.value.code == "InterruptedCreation" and [kp["key_id"] for kp in emulator.key_pairs()] == [key_id]


def test_a_stale_record_is_cleaned_up(emulator, tmp_path):
    reservation_left(tmp_path, emulator)  # nothing was committed
    out = ensure(emulator, private_key_path=str(tmp_path / "key"))
    assert out.changed and sorted(os.listdir(tmp_path)) == ["key", "key.pub"]
    (tmp_path / ".key.reservation").write_text("{not json")  # a record cut short: the process died before the call
    assert ensure(emulator, private_key_path=str(tmp_path / "key")).changed
    assert sorted(os.listdir(tmp_path)) == ["key", "key.pub"] and len(emulator.key_pairs()) == 1


def test_check_mode_predicts_the_recovery_and_touches_nothing(emulator, tmp_path):
    emulator.seed(["unit_key"])
    reservation_left(tmp_path, emulator)
    out = manager(emulator, check_mode=True).run(spec(private_key_path=str(tmp_path / "key")))
    assert out.changed and "is one nobody can use" in " ".join(out.warnings) and out.key_pair["key_id"] is None
    assert os.listdir(tmp_path) == [".key.reservation"] and emulator.writes() == []


def test_the_reservation_goes_on_every_way_out(emulator, tmp_path):
    path = str(tmp_path / "key")
    pending = _keypair.pending_name("unit_key")
    emulator.seed([pending])  # an interrupted replacement's key pair whose key nobody holds: deleted first
    emulator.fault(action="DeleteKeyPairs", mode="error", code="InvalidParameterValue")
    with pytest.raises(TaskError, match="Could not delete key pair %s" % pending):
        ensure(emulator, private_key_path=path)  # fails after the reservation, before CreateKeyPair
    assert os.listdir(tmp_path) == [] and "CreateKeyPair" not in actions(emulator)
    emulator.fault(action="CreateKeyPair", mode="error", code="InvalidKeyPair.LimitExceeded")
    with pytest.raises(TaskError, match="quota"):
        ensure(emulator, private_key_path=path)
    assert os.listdir(tmp_path) == []  # a create that certainly failed leaves no record either


def test_info_query_limits_and_empty_lists(emulator):
    pairs = KeyPairs(manager(emulator).client)
    with pytest.raises(TaskError, match="At most 8 tags") as info:
        KeyPairInfoSpec.from_args(module_options("tencent_keypair_info", tags={"t%d" % i: "v" for i in range(9)}))
    assert info.value.code == "InvalidArgument"
    assert pairs.query(names=[]) == [] and pairs.query(key_ids=[]) == [] and emulator.requests() == []


def test_public_key_comment_on_new_and_existing_key_files(emulator, tmp_path):
    path = str(tmp_path / "key")
    ensure(emulator, private_key_path=path, public_key_comment="deploy@ci")
    assert open(path + ".pub").read().split(" ", 2)[2] == "deploy@ci\n"
    emulator.clear_requests()
    assert not ensure(emulator, private_key_path=path, public_key_comment="deploy@ci").changed
    assert not ensure(emulator, private_key_path=path).changed  # not given: an existing comment is left alone
    out = ensure(emulator, private_key_path=path, public_key_comment="ops team")
    assert out.changed and open(path + ".pub").read().split(" ", 2)[2] == "ops team\n"
    assert actions(emulator) == ["DescribeKeyPairs"] * 3  # a local change: no API write
    with pytest.raises(TaskError, match="public_key_comment must be at most 255 printable") as info:
        ensure(emulator, private_key_path=path, public_key_comment="two\nlines")
    assert info.value.code == "InvalidArgument" and open(path + ".pub").read().endswith("ops team\n")
