# SPDX-License-Identifier: GPL-3.0-or-later
"""Interrupted plays: a real ansible-playbook creating a key pair is signalled at three points, then the same play
is run again with default options. Afterwards: exactly one key pair of each name, its private key in a 0600 file
that matches it, nothing else in the key directory, and no key pair anywhere without its private key.

How the signals travel (ansible-core 2.21): every worker is its own process group. Ctrl-C or a CI cancel reaches
the controller (the playbook's process group); the controller forwards the signal to each worker, raises
KeyboardInterrupt, and terminates the workers still alive (SIGTERM) without waiting. A SIGKILL to the playbook's
process group kills the controller only; a power cut or an OOM kill takes the worker too, which is what the
`hard` cases do (SIGKILL to the group and to every descendant)."""

import os
import signal
import stat
import time

import pytest

from helpers import interrupt, invariants, private_blob, task, until


pytestmark = pytest.mark.core  # also run on the oldest supported ansible-core (scripts/test-oldest.sh)
# The run interrupted "during the file write" is tencent_keypair through a test-only subclass whose fault-injection
# seam (steps.Faults.before_rename) pauses between writing the key into its reserved file and renaming it into place.
PAUSED = "tencent_keypair_paused"  # action_plugins/tencent_keypair_paused.py
PAUSED_ENV = {"ANSIBLE_ACTION_PLUGINS": os.path.join(os.path.dirname(os.path.abspath(__file__)), "action_plugins"),
              "CVM_TEST_PAUSE_BEFORE_RENAME": "4"}


def kp(args, **keywords):
    return task(args, **keywords)


POINTS = {
    # where the interrupt lands: (fault on CreateKeyPair, whether the interrupted run pauses before the rename)
    "before the commit": (dict(mode="latency", latency=3), False),
    "after the commit, answer held": (dict(mode="hold", latency=4), False),
    "during the file write": (None, True),
}


def wait_for_point(point, admin, keys):
    if point == "before the commit":  # Describe answered, CreateKeyPair in flight and not committed
        until(lambda: [r["action"] for r in admin.requests()] == ["DescribeKeyPairs"], what="DescribeKeyPairs")
        time.sleep(0.8)
        assert admin.key_pairs() == []
    elif point == "after the commit, answer held":
        until(admin.key_pairs, what="the commit")
    else:  # the key is in its reserved file, not yet renamed into place
        reserved = keys / ".k.reservation.key"
        until(lambda: reserved.exists() and 0 < reserved.stat().st_size < 8192, what="the key write")


@pytest.mark.parametrize("signame,hard", [("SIGINT", False), ("SIGTERM", False), ("SIGKILL", False),
                                          ("SIGKILL", True)],
                         ids=["SIGINT", "SIGTERM", "SIGKILL to the group", "SIGKILL to all"])
@pytest.mark.parametrize("point", list(POINTS))
def test_interrupted_creation_then_rerun(ansible, admin, tmp_path, point, signame, hard):
    keys = tmp_path / "keys"
    keys.mkdir()
    fault, paused = POINTS[point]
    if fault:
        admin.fault(action="CreateKeyPair", **fault)
    args = {"name": "k", "private_key_path": str(keys / "k")}
    task = kp(args)
    proc = ansible.spawn(kp(args, module=PAUSED), env=PAUSED_ENV) if paused else ansible.spawn(task)
    wait_for_point(point, admin, keys)
    sent_to = "every process" if hard else "the group"
    hard = interrupt(proc, getattr(signal, signame), hard)  # SIGKILL to the group is hard where workers share it
    ansible.finish(proc)
    until(admin.key_pairs, 15, "the emulator to commit")  # a request in flight still commits
    interrupted = admin.key_pairs()[0]["key_id"]
    rerun = ansible.play(task)  # the same play, default options
    assert rerun.rc == 0, rerun.stdout + rerun.stderr
    result = rerun.task("ensure")
    (pair,) = admin.key_pairs()
    assert pair["key_name"] == "k" and private_blob(str(keys / "k")) == pair["key_blob"]
    assert stat.S_IMODE(os.stat(keys / "k").st_mode) == 0o600 and sorted(os.listdir(keys)) == ["k", "k.pub"]
    if not hard:  # deferred: the interrupted worker finished writing the key, then obeyed the signal (SIGKILL to
        # the playbook's process group does not reach the worker, a group of its own: it finished alone)
        assert result["changed"] is False and pair["key_id"] == interrupted
    elif point == "during the file write":  # the key was complete in its reserved file: moved into place
        assert result["changed"] is True and pair["key_id"] == interrupted
        assert "warnings" not in result
    else:  # committed, key lost with the process: the rerun finds the record, deletes the orphan, creates again
        assert result["changed"] is True and pair["key_id"] != interrupted
        assert "%s) is one nobody can use" % interrupted in " ".join(result["warnings"])
    invariants("interrupt: %s, %s to %s, then rerun" % (point, signame, sent_to), admin, str(keys), rerun,
               expect_pairs=1)


def test_ctrl_c_in_the_middle_of_a_loop(ansible, admin, tmp_path):
    """Ctrl-C at one known moment: the sixth of twenty creations is committed and its answer held, so the worker is
    inside the deferred section. It writes that key, then the play stops: six key pairs, six key files."""
    keys = tmp_path / "keys"
    keys.mkdir()
    names = ["loop%02d" % i for i in range(20)]
    admin.fault(action="CreateKeyPair", mode="hold", latency=3, after=5)
    task = kp({"name": "{{ item }}", "private_key_path": "%s/{{ item }}" % keys}, loop=names)
    proc = ansible.spawn(task)
    until(lambda: len(admin.key_pairs()) == 6, 60, "the sixth creation to commit")
    interrupt(proc, signal.SIGINT, hard=False)
    interrupted = ansible.finish(proc)
    assert "User interrupted execution" in interrupted.stderr + interrupted.stdout, interrupted.stdout
    assert sorted(kp["key_name"] for kp in admin.key_pairs()) == names[:6]
    assert sorted(os.listdir(keys)) == sorted(names[:6] + [n + ".pub" for n in names[:6]])
    rerun = ansible.play(task)
    assert rerun.rc == 0, rerun.stdout + rerun.stderr
    assert sorted(kp["key_name"] for kp in admin.key_pairs()) == names
    assert sorted(os.listdir(keys)) == sorted(names + [n + ".pub" for n in names])
    for pair in admin.key_pairs():
        assert private_blob(str(keys / pair["key_name"])) == pair["key_blob"]
    invariants("interrupt: Ctrl-C in a loop of 20 creations, then rerun", admin, str(keys), rerun, expect_pairs=20)
