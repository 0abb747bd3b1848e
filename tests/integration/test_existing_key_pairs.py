# SPDX-License-Identifier: GPL-3.0-or-later
"""The guide to existing key pairs (guide_existing_key_pairs.rst), row by row: each option on a key pair that already exists, through real
ansible-playbook runs against the emulator, followed by a rerun that must be `ok`."""

import os
import re
import stat
import subprocess

import pytest

from helpers import PEM_BEGIN, checked as kp, guide


def blob_of_file(path, passphrase=None):
    args = ["ssh-keygen", "-y", "-f", path] + (["-P", passphrase] if passphrase else ["-P", ""])
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()[1]


@pytest.fixture
def existing(ansible, admin, keys):
    """A key pair `web` created by the module, with its files in keys/; returns (args, its key_pair)."""
    args = {"name": "web", "private_key_path": str(keys / "web")}
    created = ansible.play(kp(args)).task("ensure")
    assert created["changed"] is True
    admin.clear_requests()
    return args, created["key_pair"]


def ensure(ansible, args, **play):
    return ansible.play(kp(args), **play).task("ensure")


@pytest.mark.core
def test_private_key_mode(ansible, admin, keys, existing):
    args, _pair = existing
    os.chmod(keys / "web", 0o644)
    fixed = ansible.play(kp(args), diff=True).task("ensure")
    assert fixed["changed"] is True and stat.S_IMODE(os.stat(keys / "web").st_mode) == 0o600
    assert fixed["diff"]["before"]["local_files"]["private_key_mode"] == "0644"
    assert fixed["diff"]["after"]["local_files"]["private_key_mode"] == "0600"
    strict = ensure(ansible, dict(args, private_key_mode="0400"))
    assert strict["changed"] is True and stat.S_IMODE(os.stat(keys / "web").st_mode) == 0o400
    assert ensure(ansible, dict(args, private_key_mode="0400"))["changed"] is False
    assert [r["action"] for r in admin.requests()] == ["DescribeKeyPairs"] * 3  # files only: no API write


@pytest.mark.core
def test_passphrase_encrypts_a_plaintext_key(ansible, admin, keys, existing):
    args, _pair = existing
    remote = admin.key_pairs()[0]["key_blob"]
    encrypted = ensure(ansible, dict(args, passphrase="pass-phrase-1", backup=True))
    assert encrypted["changed"] is True and "ENCRYPTED" in (keys / "web").read_text()
    assert blob_of_file(str(keys / "web"), "pass-phrase-1") == remote
    assert blob_of_file(encrypted["backup_file"]) == remote and "ENCRYPTED" not in open(encrypted["backup_file"]).read()
    assert ensure(ansible, dict(args, passphrase="pass-phrase-1"))["changed"] is False
    assert admin.writes() == []


def test_passphrase_cannot_read_the_file(ansible, admin, keys, existing):
    args, _pair = existing
    ensure(ansible, dict(args, passphrase="pass-phrase-1"))
    before = (keys / "web").read_bytes()
    admin.clear_requests()
    other = ensure(ansible, dict(args, passphrase="pass-phrase-2"))
    assert other["failed"] is True and other["failure"]["code"] == "InvalidDestination"
    assert "could not be decrypted with the given passphrase" in other["msg"] and other["changed"] is False
    omitted = ensure(ansible, args)
    assert omitted["failure"]["code"] == "InvalidDestination" and "give its passphrase" in omitted["msg"]
    assert (keys / "web").read_bytes() == before and admin.requests() == []  # failed before any call


def damage_file(keys, name, damage):
    """Damage key file `name` ("web" or "web.pub") in `keys`: "missing" removes it, "other key" puts the same
    half of a new RSA key pair (PEM private key) in its place."""
    if damage == "missing":
        os.unlink(keys / name)
        return
    subprocess.run(["ssh-keygen", "-q", "-m", "PEM", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(keys / "x")],
                   check=True)
    os.replace(keys / ("x.pub" if name.endswith(".pub") else "x"), keys / name)
    for left in ("x", "x.pub"):
        if os.path.exists(keys / left):
            os.unlink(keys / left)


@pytest.mark.parametrize("damage", ["missing", "other key"])
def test_public_key_file_is_restored(ansible, admin, keys, existing, damage):
    args, pair = existing
    damage_file(keys, "web.pub", damage)
    fixed = ensure(ansible, args)
    assert fixed["changed"] is True and fixed["private_key_matches"] is True
    assert (keys / "web.pub").read_text().split()[1] == admin.key_pairs()[0]["key_blob"]
    assert fixed["key_pair"]["key_id"] == pair["key_id"] and admin.writes() == []
    assert ensure(ansible, args)["changed"] is False


@pytest.mark.parametrize("damage", ["missing", "other key"])
def test_missing_or_other_private_key(ansible, admin, keys, existing, damage):
    args, pair = existing
    damage_file(keys, "web", damage)
    kept = ensure(ansible, args)
    assert kept["changed"] is False and kept["private_key_matches"] is False
    assert "regenerate=never" in " ".join(kept["warnings"])
    failed = ensure(ansible, dict(args, regenerate="fail"))
    assert failed["failed"] is True and failed["failure"]["code"] == "KeyMismatch" and admin.writes() == []
    replaced = ensure(ansible, dict(args, regenerate="mismatch"))
    assert replaced["changed"] is True and replaced["private_key_matches"] is True
    (remote,) = admin.key_pairs()
    assert remote["key_id"] == replaced["key_pair"]["key_id"] != pair["key_id"]
    assert blob_of_file(str(keys / "web")) == remote["key_blob"]
    assert ensure(ansible, dict(args, regenerate="mismatch"))["changed"] is False


def test_regenerate_always(ansible, admin, keys, existing):
    args, pair = existing
    ids = [pair["key_id"]]
    for _run in range(2):
        out = ensure(ansible, dict(args, regenerate="always"))
        assert out["changed"] is True
        ids.append(out["key_pair"]["key_id"])
    (remote,) = admin.key_pairs()
    assert len(set(ids)) == 3 and remote["key_id"] == ids[-1] and blob_of_file(str(keys / "web")) == remote["key_blob"]
    assert sorted(os.listdir(keys)) == ["web", "web.pub"]


@pytest.mark.parametrize("regenerate", ["never", "fail", "mismatch", "always"])
def test_project_id(ansible, admin, keys, existing, regenerate):
    args, pair = existing
    assert ensure(ansible, dict(args, project_id=0))["changed"] is False
    assert ensure(ansible, args)["changed"] is False  # omitted: any project
    out = ensure(ansible, dict(args, project_id=1000, regenerate=regenerate))
    (remote,) = admin.key_pairs()
    if regenerate == "never":
        assert out["changed"] is False and "is in project 0, not 1000" in " ".join(out["warnings"])
        assert remote["project_id"] == 0
    elif regenerate == "fail":
        assert out["failure"]["code"] == "KeyMismatch" and "is in project 0, not 1000" in out["msg"]
        assert remote["project_id"] == 0
    else:
        assert out["changed"] is True and remote["project_id"] == 1000 and remote["key_id"] != pair["key_id"]
        assert out["key_pair"]["project_id"] == 1000 and blob_of_file(str(keys / "web")) == remote["key_blob"]
        assert ensure(ansible, dict(args, project_id=1000, regenerate="mismatch"))["changed"] is False


def test_public_key(ansible, admin, tmp_path):
    for name in ("a", "b"):
        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(tmp_path / name)],
                       check=True)
    first, second = ((tmp_path / n).with_suffix(".pub").read_text() for n in ("a", "b"))
    args = {"name": "imported", "public_key": first}
    original = ensure(ansible, args)["key_pair"]
    kept = ensure(ansible, dict(args, public_key=second))
    assert kept["changed"] is False and "differs from public_key" in " ".join(kept["warnings"])
    failed = ensure(ansible, dict(args, public_key=second, regenerate="fail"))
    assert failed["failure"]["code"] == "KeyMismatch"
    admin.clear_requests()
    swapped = ensure(ansible, dict(args, public_key=second, regenerate="mismatch"))
    assert swapped["changed"] is True and swapped["key_pair"]["key_id"] != original["key_id"]
    assert [r["action"] for r in admin.requests()] == ["DescribeKeyPairs", "ImportKeyPair", "DeleteKeyPairs",
                                                       "ModifyKeyPairAttribute"]
    (remote,) = admin.key_pairs()
    assert remote["key_blob"] == second.split()[1] and remote["key_name"] == "imported"
    assert ensure(ansible, dict(args, public_key=second, regenerate="mismatch"))["changed"] is False
    again = ensure(ansible, dict(args, public_key=second, regenerate="always"))
    assert again["changed"] is True and admin.key_pairs()[0]["key_id"] == again["key_pair"]["key_id"]


def test_description(ansible, admin, keys, existing):
    args, _pair = existing
    described = ensure(ansible, dict(args, description="for CI"))
    assert described["changed"] is True and admin.key_pairs()[0]["description"] == "for CI"
    assert ensure(ansible, args)["changed"] is False and admin.key_pairs()[0]["description"] == "for CI"
    assert ensure(ansible, dict(args, description="for CI"))["changed"] is False
    cleared = ensure(ansible, dict(args, description=""))
    assert cleared["changed"] is True and admin.key_pairs()[0]["description"] == ""


@pytest.mark.core
def test_tags(ansible, admin, keys):
    args = {"name": "tagged", "private_key_path": str(keys / "tagged"), "tags": {"team": "a", "env": "dev"}}
    assert ensure(ansible, args)["key_pair"]["tags"] == {"team": "a", "env": "dev"}
    admin.clear_requests()
    changed = ansible.play(kp(dict(args, tags={"team": "b", "owner": "ops"})), diff=True).task("ensure")
    assert changed["changed"] is True and changed["key_pair"]["tags"] == {"team": "b", "owner": "ops"}
    assert changed["diff"]["before"]["tags"] == {"team": "a", "env": "dev"}
    assert changed["diff"]["after"]["tags"] == {"team": "b", "owner": "ops"}
    assert [r["action"] for r in admin.requests()] == ["DescribeKeyPairs", "ModifyResourceTags"]
    assert {t["Key"]: t["Value"] for t in admin.key_pairs()[0]["tags"]} == {"team": "b", "owner": "ops"}
    kept = ensure(ansible, dict(args, tags={"extra": "1"}, purge_tags=False))
    assert kept["key_pair"]["tags"] == {"team": "b", "owner": "ops", "extra": "1"}
    admin.clear_requests()
    for same in (dict(args, tags={"team": "b", "owner": "ops", "extra": "1"}), dict(args, tags=None),
                 dict(args, tags={"team": "b"}, purge_tags=False)):
        assert ensure(ansible, same)["changed"] is False
    assert [r["action"] for r in admin.requests()] == ["DescribeKeyPairs"] * 3  # converged: one call each
    cleared = ensure(ansible, dict(args, tags={}))
    assert cleared["changed"] is True and admin.key_pairs()[0]["tags"] == []
    replaced = ensure(ansible, dict(args, tags={"team": "c"}, regenerate="always"))
    assert replaced["key_pair"]["tags"] == {"team": "c"} and admin.key_pairs()[0]["tags"] == [
        {"Key": "team", "Value": "c"}]
    carried = ensure(ansible, dict(args, tags=None, regenerate="always"))  # a replacement keeps the tags
    assert carried["changed"] is True and admin.key_pairs()[0]["tags"] == [{"Key": "team", "Value": "c"}]


def test_backup(ansible, admin, keys, existing):
    args, _pair = existing
    old = (keys / "web").read_bytes()
    out = ensure(ansible, dict(args, regenerate="always", backup=True))
    assert out["changed"] is True and open(out["backup_file"], "rb").read() == old
    assert re.search(r"web\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$", out["backup_file"])
    assert "backup_file" not in ensure(ansible, dict(args, backup=True))  # nothing replaced, no copy


def test_return_private_key(ansible, admin, keys):
    args = {"name": "returned", "return_private_key": True}
    created = ansible.play(kp(args, no_log=True)).task("ensure")
    assert created["censored"]  # no_log hides the result, key included, from every callback
    raw = ansible.play(kp(args)).task("ensure")  # without no_log, to look at the result itself
    assert raw["changed"] is False and "private_key" not in raw
    replaced = ansible.play(kp(dict(args, regenerate="always"))).task("ensure")
    assert replaced["changed"] is True and replaced["private_key"].startswith(PEM_BEGIN)


def test_absent(ansible, admin, keys, existing):
    args, _pair = existing
    admin.fault(action="ModifyKeyPairAttribute", mode="error", code="InvalidParameter")
    unfinished = ensure(ansible, dict(args, regenerate="always"))
    assert unfinished["failed"] is True and unfinished["changed"] is True
    gone = ensure(ansible, {"name": "web", "state": "absent"})
    assert gone["changed"] is True and admin.key_pairs() == []
    assert sorted(os.listdir(keys)) == ["web", "web.new", "web.pub"]  # local files stay
    assert ensure(ansible, {"name": "web", "state": "absent"})["changed"] is False


def test_the_table_names_a_test_per_row():
    with open(guide("existing_key_pairs"), encoding="utf-8") as handle:
        named = set(re.findall(r"^ {5}- ``(test_\w+)``$", handle.read(), re.M))
    defined = {name for name in globals() if name.startswith("test_") and name != "test_the_table_names_a_test_per_row"}
    assert named == defined
