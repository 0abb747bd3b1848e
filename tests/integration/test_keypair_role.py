# SPDX-License-Identifier: GPL-3.0-or-later
"""The role tencentcloud.cvm.keypair in check mode, when the directory of the private key does not exist yet: it
changes nothing (no directory, no file, no API write) and says what a real run would do there."""

import pytest
import yaml

ROLE = "tencentcloud.cvm.keypair"
ENSURE = ROLE + " : Ensure the key pair (check mode, before its private key's directory exists), repro_check"
RECORD = ROLE + " : Record the result a real run would have"


def role_play(path, **role_vars):
    role_vars.update({"keypair_name": "repro_check", "keypair_private_key_path": str(path)})
    return yaml.safe_dump([{"name": "role", "hosts": "localhost", "connection": "local", "gather_facts": False,
                            "roles": [{"role": ROLE, "vars": role_vars}]}], sort_keys=False)


def results_of(run):
    return {r["task"]: r for r in run.results}


def key_pair_id(ansible, tmp_path, **options):
    made = ansible.play(yaml.safe_dump([{"name": "made", "tencentcloud.cvm.tencent_keypair": dict(
        name="repro_check", private_key_path=str(tmp_path / "elsewhere"), **options), "register": "made"}]))
    return made.task("made")["key_pair"]["key_id"]


def test_check_mode_before_the_directory_exists_says_it_would_create_both(ansible, admin, tmp_path):
    path = tmp_path / "newdir" / "repro_check"
    admin.clear_requests()
    run = ansible.play(None, raw=role_play(path), check=True)
    assert run.rc == 0, run.stdout + run.stderr
    done = results_of(run)
    mkdir = done[ROLE + " : Create the directory of the private key (0700) when it is missing"]
    assert mkdir["result"]["changed"] is True, mkdir  # would create it (0700: the real run below)
    assert done[ROLE + " : Ensure the key pair and its private key for repro_check"]["status"] == "skipped"
    result = done[RECORD]["result"]["ansible_facts"]["keypair_result"]
    assert result["changed"] is True and result["private_key_matches"] is True and "private_key" not in result
    assert result["key_pair"]["key_name"] == "repro_check" and result["key_pair"]["key_id"] is None
    assert result["private_key_path"] == str(path) and result["public_key_path"] == str(path) + ".pub"
    assert not path.parent.exists()
    assert [r["action"] for r in admin.requests()] == ["DescribeKeyPairs"] and admin.writes() == []
    # the real run does what check mode said
    real = ansible.play(None, raw=role_play(path))
    assert real.rc == 0, real.stdout + real.stderr
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700) and path.exists()
    assert [k["key_name"] for k in admin.key_pairs()] == ["repro_check"]


@pytest.mark.parametrize("regenerate", ["never", "fail", "mismatch", "always"])
def test_check_mode_before_the_directory_exists_with_the_key_pair_elsewhere(ansible, admin, tmp_path, regenerate):
    """The key pair exists, so its private key cannot be in a directory that does not exist: what the real run
    does then depends on keypair_regenerate, and check mode says the same."""
    key_id = key_pair_id(ansible, tmp_path)
    path = tmp_path / "newdir" / "repro_check"
    admin.clear_requests()
    run = ansible.play(None, raw=role_play(path, keypair_regenerate=regenerate), check=True)
    missing = ("%s does not exist and Tencent Cloud cannot return the private key of key pair repro_check (%s) again"
               % (path, key_id))
    done = results_of(run)
    result = done[RECORD]["result"]["ansible_facts"]["keypair_result"]
    assert not path.parent.exists() and admin.writes() == []
    real = ansible.play(None, raw=role_play(path, keypair_regenerate=regenerate))
    real_result = real.task(ROLE + " : Ensure the key pair and its private key for repro_check")
    if regenerate == "never":
        assert run.rc == 0 and real.rc == 0, run.stdout + run.stderr
        said = done[ROLE + " : Say the warning of a real run (regenerate=never keeps a key pair whose private key is "
                           "not here)"]["result"]["msg"]
        assert said == ("A real run would warn: %s; keeping it (regenerate=never). Use regenerate=mismatch to replace "
                        "the key pair." % missing)
        assert real_result["warnings"] == [said.split(": ", 1)[1]]
        assert result["changed"] is False and result["private_key_matches"] is False
        assert result["key_pair"]["key_id"] == key_id == real_result["key_pair"]["key_id"]
    elif regenerate == "fail":
        assert run.rc == 2 and real.rc == 2, run.stdout + run.stderr
        failed = [r for r in run.results if r["status"] == "failed"]
        assert [r["task"] for r in failed] == [ROLE + " : Fail as a real run would (regenerate=fail, and the key "
                                                      "pair's private key is not on this machine)"]
        assert failed[0]["result"]["msg"] == "regenerate=fail: %s (KeyMismatch)" % missing
        assert result["failed"] is True and result["failure"] == real_result["failure"] == {
            "code": "KeyMismatch", "message": "regenerate=fail: " + missing, "request_id": None}
    else:
        assert run.rc == 0 and real.rc == 0, run.stdout + run.stderr
        assert result["changed"] is True and result["private_key_matches"] is True
        assert result["key_pair"]["key_id"] is None and real_result["key_pair"]["key_id"] != key_id
        assert real_result["changed"] is True and real_result["private_key_matches"] is True


def test_check_mode_before_the_directory_exists_fails_as_the_real_run_would(ansible, admin, tmp_path):
    """regenerate=mismatch must replace the key pair, but it is bound to an instance: both runs fail the same way."""
    key_id = key_pair_id(ansible, tmp_path)
    admin.instance(state="RUNNING", key_ids=[key_id])
    path = tmp_path / "newdir" / "repro_check"
    admin.clear_requests()
    run = ansible.play(None, raw=role_play(path, keypair_regenerate="mismatch"), check=True)
    assert run.rc == 2, run.stdout + run.stderr
    assert run.task(ENSURE)["failure"]["code"] == "KeyPairInUse"
    assert not path.parent.exists() and admin.writes() == []
    real = ansible.play(None, raw=role_play(path, keypair_regenerate="mismatch"))
    assert real.task(ROLE + " : Ensure the key pair and its private key for repro_check")["failure"]["code"] == \
        "KeyPairInUse"
