"""The reconciler's decisions, against a real emulator on 127.0.0.1 and real files."""

import os
import stat

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _keypair
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import Client
from ansible_collections.tencentcloud.cvm.plugins.module_utils._credentials import Credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils._errors import TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keyfile import fingerprint, public_key_of_private
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair import KeyPairManager, Spec, run
from helpers import CREDS, PEM_BEGIN, PEM_END


def manager(emulator, check_mode=False, **kw):
    client = Client(Credentials(CREDS["secret_id"], CREDS["secret_key"]), "ap-guangzhou", endpoint=emulator.url,
                    sleep=lambda s: None, timeout=kw.pop("timeout", 10), **kw)
    return KeyPairManager(client, check_mode=check_mode)


def spec(**kw):
    kw.setdefault("name", "unit_key")
    return Spec(**kw)


def ensure(emulator, check_mode=False, **kw):
    return run(manager(emulator, check_mode), spec(**kw))


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
    mgr = manager(emulator)
    emulator.seed(["web_%03d" % i for i in range(130)] + ["web"])
    assert mgr.find("web")[0]["KeyName"] == "web"
    assert [kp["KeyName"] for kp in mgr.find("web_129", "web_001")] == ["web_129", "web_001"]
    assert mgr.find("we") == [None]


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
    client = Client(Credentials(CREDS["secret_id"], CREDS["secret_key"]), "ap-guangzhou", endpoint=emulator.url,
                    sleep=time.sleep, timeout=0.5)
    out = run(KeyPairManager(client), spec(private_key_path=path))
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
    out = run(mgr, spec(private_key_path=path))
    assert not out.changed and out.private_key_matches is False and "concurrently" in out.warnings[0]
    assert len(emulator.key_pairs()) == 1 and not os.path.exists(path)


# --- writing fails after the create -------------------------------------------------------------

def test_write_failure_rolls_back(emulator, tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_keypair, "atomic_write", disk_full)
    path = str(tmp_path / "key")
    with pytest.raises(TaskError, match="was deleted again") as info:
        ensure(emulator, private_key_path=path)
    assert info.value.code == "KeyFileWriteFailed"
    assert emulator.key_pairs() == [] and os.listdir(tmp_path) == []


def test_write_and_rollback_failure_says_so(emulator, tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_keypair, "atomic_write", disk_full)
    emulator.fault(action="DeleteKeyPairs", mode="error", code="InvalidParameterValue", count=10)
    with pytest.raises(TaskError, match="rollback failed") as info:
        ensure(emulator, private_key_path=str(tmp_path / "key"))
    key_id = emulator.key_pairs()[0]["key_id"]
    assert key_id in info.value.msg and "BEGIN" not in info.value.msg


# --- validation: nothing happens on bad input ---------------------------------------------------

BAD = [
    dict(name=""), dict(name="x" * 26), dict(name="bad-name"), dict(name="with space"), dict(name="naïve"),
    dict(name="a;rm -rf /"), dict(name="x' OR '1'='1"), dict(project_id=-1), dict(project_id="zero"),
    dict(project_id=2 ** 63), dict(project_id=True), dict(public_key="garbage"),
    dict(public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"),
    dict(public_key=PEM_BEGIN + "\nabc\n" + PEM_END),
    dict(private_key_mode="0644"), dict(private_key_mode="0640"), dict(private_key_mode="rw"),
    dict(private_key_mode="0200"), dict(passphrase="abc"), dict(description="d" * 61), dict(tags=["a"]),
    dict(regenerate="sometimes"), dict(state="gone"), dict(private_key_path=None),
    dict(private_key_path=None, return_private_key=True, regenerate="mismatch"),
]


@pytest.mark.parametrize("bad", BAD)
def test_bad_input_changes_nothing(emulator, tmp_path, bad):
    kw = dict(private_key_path=str(tmp_path / "key"))
    kw.update(bad)
    with pytest.raises(TaskError):
        ensure(emulator, **kw)
    assert emulator.requests() == [] and os.listdir(tmp_path) == []
