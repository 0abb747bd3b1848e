# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's admin API (/_emulator/...): a route table, (HTTP method, name) -> one method each. The HTTP front
(server.py) authenticates the caller and parses the JSON body before a route is looked up."""

from __future__ import annotations

import getpass
import ipaddress
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from . import errorcodes
from .actions import REGIONS, random_id
from .faults import FaultRule, FaultState
from .instances import INSTANCE_ID_RE, LOGIN_USER_RE, STATES, find_sshd
from .store import INSTANCE_ATTRS, JSON, Image, Instance, Secret, State

if TYPE_CHECKING:  # server.py imports this module
    from .server import Emulator, LogEntry

# An admin call's JSON object: arbitrary until a route has checked the fields it reads.
Spec = Mapping[str, JSON]

IMAGE_ID_RE = re.compile(r"^img-[0-9a-z]{8}$")
CHOICES = {"error_codes": ("current", "seed"), "empty_description": ("clear", "missing"),
           "operation_report": ("request_id", "lagging"), "associate_mode": ("add", "replace"),
           # the codes no public source settles: any the action can answer (cvm_emulator.errorcodes)
           "held_key_pair_code": errorcodes.codes("DeleteKeyPairs"),
           "kms_key_missing_code": errorcodes.codes("CreateSSHKeyPairSecret"),
           "ssh_public_key_format": ("openssh", "base64")}
SETTINGS = ("quota", "projects", "clock_offset", "binding_linger", "operation_delay", "kms_keys") + tuple(CHOICES)
KMS_KEY_ID_RE = re.compile(r"^[0-9A-Za-z-]{1,128}$")

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "health"): "health",
    ("POST", "reset"): "reset",
    ("GET", "state"): "state",
    ("GET", "requests"): "requests",
    ("DELETE", "requests"): "clear_requests",
    ("GET", "faults"): "faults",
    ("POST", "faults"): "add_fault",
    ("DELETE", "faults"): "clear_faults",
    ("POST", "rate-limit"): "rate_limit",
    ("POST", "config"): "config",
    ("POST", "terminate"): "terminate",
    ("POST", "credentials"): "credentials",
    ("POST", "key-pairs"): "key_pairs",
    ("POST", "instances"): "instance",
    ("POST", "instance-batch"): "instance_batch",
    ("POST", "instance-state"): "instance_state",
    ("POST", "images"): "image",
    ("GET", "secrets"): "secrets",
    ("POST", "secrets"): "user_secret",
}


class AdminApi:
    """One method per route; each takes the request's JSON object and returns what to answer (None: {"ok": true}).
    A ValueError, KeyError or TypeError is a bad request (400), a LookupError a missing thing (404)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def route(self, method: str, name: str, spec: Spec) -> JSON:
        handler = ROUTES.get((method, name))
        if handler is None:
            raise LookupError("no admin route %s %s" % (method, name))
        call: Callable[[Spec], JSON] = getattr(self, handler)
        return call(spec)

    # the emulator ---------------------------------------------------------------------------------
    def health(self, _spec: Spec) -> dict[str, bool]:
        return {"ok": True}

    def reset(self, _spec: Spec) -> None:
        emu = self.emu
        emu.wait_idle()
        emu.store.reset()
        if emu.lifecycle.guests.listeners:
            emu.lifecycle.settle()  # every guest's port closed, every sshd session ended
        emu.faults.clear()
        emu.set_rate_limits(emu.default_rate_limits)
        with emu.log_lock:
            emu.request_log = []

    def state(self, _spec: Spec) -> State:
        state = self.emu.store.dump()
        for inst in state["instances"]:
            if inst.get("ssh"):  # connections handed to the instance's sshd: a test can see a login begin
                inst["ssh_connections"] = self.emu.lifecycle.guests.connections.get(inst["instance_id"], 0)
        return state

    def requests(self, _spec: Spec) -> dict[str, list[LogEntry]]:
        with self.emu.log_lock:
            return {"requests": list(self.emu.request_log)}

    def clear_requests(self, _spec: Spec) -> None:
        self.emu.wait_idle()
        with self.emu.log_lock:
            self.emu.request_log = []

    def faults(self, _spec: Spec) -> FaultState:
        return self.emu.faults.describe()

    def add_fault(self, spec: Spec) -> FaultRule:
        return self.emu.faults.add(spec)

    def clear_faults(self, _spec: Spec) -> None:
        self.emu.faults.clear()

    def rate_limit(self, spec: Spec) -> None:
        self.emu.faults.set_rate_limit(spec.get("action", "*"), spec.get("per_second"))

    def config(self, spec: Spec) -> None:
        if "operation_delay" in spec and not 0 <= float(spec["operation_delay"]) <= 600:
            raise ValueError("operation_delay must be 0 to 600 seconds")
        for key, allowed in CHOICES.items():
            if key in spec and spec[key] not in allowed:
                raise ValueError("%s must be one of %s" % (key, ", ".join(allowed)))
        kms_keys = spec.get("kms_keys", [])
        if not (isinstance(kms_keys, list) and all(isinstance(k, str) and KMS_KEY_ID_RE.match(k) for k in kms_keys)):
            raise ValueError("kms_keys must be a list of KMS key IDs (letters, digits and -)")
        if "rate_limits" in spec:
            self.emu.set_rate_limits(spec["rate_limits"])
        with self.emu.store:
            for key in SETTINGS:
                if key in spec:
                    self.emu.store.set_setting(key, spec[key])

    def credentials(self, spec: Spec) -> None:
        self.emu.add_credential(spec)

    # resources ------------------------------------------------------------------------------------
    def terminate(self, spec: Spec) -> None:
        with self.emu.store:
            if self.emu.store.instance(spec["instance_id"]) is None:
                raise LookupError("no instance %s" % spec["instance_id"])
            self.emu.store.terminate_instance(spec["instance_id"], time.time())

    def key_pairs(self, spec: Spec) -> dict[str, list[str]]:
        """Bulk seeding for tests and benchmarks: key pairs sharing one public key, no private key kept."""
        return {"key_ids": self.emu.actions.seed(spec.get("region", "ap-guangzhou"), spec["names"],
                                                 int(spec.get("project_id", 0)), spec.get("public_key"))}

    def secrets(self, _spec: Spec) -> dict[str, list[Secret]]:
        """The Secrets Manager secrets of every region (never their keys)."""
        with self.emu.store:
            found = self.emu.store.secrets()
        for secret in found:
            secret.pop("seq", None)
        return {"secrets": found}

    def user_secret(self, spec: Spec) -> Secret:
        """A user-defined secret (SecretType 0, no value): {"name", "region", "description"}."""
        region = spec.get("region", "ap-guangzhou")
        if region not in REGIONS:
            raise ValueError("region must be one the emulator serves")
        return self.emu.secrets.seed_user_secret(region, str(spec["name"]), str(spec.get("description", "")))

    def image(self, spec: Spec) -> Image:
        if spec.get("image_id") is not None and not IMAGE_ID_RE.match(str(spec["image_id"])):
            raise ValueError("image_id must look like img-xxxxxxxx (8 lower-case letters or digits)")
        image: Image
        image = {"image_id": spec.get("image_id") or random_id("img-"),
                 "region": spec.get("region", "ap-guangzhou"), "key_ids": spec.get("key_ids", [])}
        with self.emu.store:
            self.emu.store.put_image(image)
        return image

    def instance_state(self, spec: Spec) -> Instance:
        """Powers an instance on or off (or puts it in any state) at once, as a console would."""
        if spec.get("state") not in STATES:
            raise ValueError("state must be one of %s" % ", ".join(STATES))
        with self.emu.store:
            inst = self.emu.store.instance(spec["instance_id"])
            if inst is None:
                raise LookupError("no instance %s" % spec["instance_id"])
            inst["state"] = spec["state"]
            self.emu.store.put_instance(inst)
        return self._settled(spec["instance_id"])

    def instance(self, spec: Spec) -> Instance:
        """An instance: {instance_id, region, state, os, os_name, key_ids, ssh, login_user, guest_agent,
        private_ip, public_ip} and what an inventory reads (INSTANCE_ATTRS: instance_name, zone, project_id,
        instance_type, image_id, vpc_id, subnet_id, security_group_ids, tags, charge_type, ipv6_addresses).
        With ssh=true a real sshd serves it on 127.0.0.1 while it is RUNNING; its
        authorized_keys holds the public keys of the key pairs bound to it (unless guest_agent=false: an image
        without cloud-init, whose file never changes)."""
        emu = self.emu
        ssh = _checked_instance(spec, emu.ssh)
        instance_id = spec.get("instance_id") or random_id("ins-")
        inst = _new_instance(spec, instance_id, ssh)
        inst["ssh_port"] = emu.lifecycle.guests.listen(instance_id) if ssh else None
        try:
            with emu.store:
                bound = [emu.store.key_pair(k) for k in inst["key_ids"]]
                inst["authorized_keys"] = "".join(kp["public_key"].strip() + "\n" for kp in bound if kp)
                emu.store.put_instance(inst)
        except Exception:
            if ssh and emu.store.instance(instance_id) is None:
                emu.lifecycle.guests.forget(instance_id)
            raise
        return self._settled(instance_id)

    def instance_batch(self, spec: Spec) -> dict[str, list[str]]:
        """`count` instances without sshd in one call (for inventories, tests and benchmarks): each gets the fields of
        `spec` (as for one instance), a new ID and, unless given, a name `name_prefix`-N. Returns their IDs."""
        count = spec.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 20000:
            raise ValueError("count must be an integer from 1 to 20000")
        if spec.get("ssh") or spec.get("instance_id") is not None:
            raise ValueError("a batch takes neither ssh nor instance_id; add ssh instances one at a time")
        _checked_instance(spec, False)
        prefix = str(spec.get("name_prefix", "node"))
        made = []
        for number in range(count):
            instance_id = random_id("ins-")
            made.append(_new_instance(dict(spec, instance_name=spec.get("instance_name") or "%s-%d" % (prefix, number)),
                                      instance_id, False))
        with self.emu.store:
            self.emu.store.put_instances(made)
        return {"instance_ids": [inst["instance_id"] for inst in made]}

    def _settled(self, instance_id: str) -> Instance:
        """The instance once the lifecycle has acted on it (its sshd listening), with ssh_port; an sshd that could
        not start is an error."""
        # stored by the caller's request: only a concurrent reset could have removed it
        inst = self.emu.store.instance(instance_id)
        assert inst is not None
        error = self.emu.lifecycle.settle() if inst.get("ssh") else None
        inst = self.emu.store.instance(instance_id)
        assert inst is not None
        if error:
            raise ValueError(error)
        inst.pop("authorized_keys", None)
        return inst


def _new_instance(spec: Spec, instance_id: str, ssh: bool) -> Instance:
    inst: Instance
    inst = {"instance_id": instance_id, "region": spec.get("region", "ap-guangzhou"),
            "state": spec.get("state", "STOPPED"), "os": spec.get("os", "linux"), "os_name": spec.get("os_name"),
            "key_ids": spec.get("key_ids", []), "ssh": int(ssh),
            "login_user": spec.get("login_user") or (getpass.getuser() if ssh else "root"),
            "guest_agent": int(bool(spec.get("guest_agent", True))),
            "private_ip": spec.get("private_ip") or ("127.0.0.1" if ssh else "10.%d.%d.%d" % (
                int(instance_id[4:6], 36) % 250, int(instance_id[6:9], 36) % 250, int(instance_id[9:], 36) % 250 + 2)),
            "public_ip": spec.get("public_ip") or ("127.0.0.1" if ssh else None),
            "created_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for name in INSTANCE_ATTRS:
        if spec.get(name) is not None:
            inst[name] = spec[name]
    return inst


def _checked_attrs(spec: Spec) -> None:
    """The fields an inventory reads: each the type and form the real service answers."""
    patterns = {"image_id": IMAGE_ID_RE, "vpc_id": re.compile(r"^vpc-[0-9a-z]{8}$"),
                "subnet_id": re.compile(r"^subnet-[0-9a-z]{8}$"), "zone": re.compile(r"^[a-z]+-[a-z0-9-]+-\d+$"),
                "instance_type": re.compile(r"^[A-Z0-9a-z.]{1,32}$"),
                "charge_type": re.compile(r"^(PREPAID|POSTPAID_BY_HOUR|CDHPAID|SPOTPAID|CDCPAID)$")}
    for field, pattern in patterns.items():
        if spec.get(field) is not None and not (isinstance(spec[field], str) and pattern.match(spec[field])):
            raise ValueError("%s is not in the form the service answers (%s)" % (field, pattern.pattern))
    name = spec.get("instance_name")
    if name is not None and not (isinstance(name, str) and 0 < len(name) <= 128):
        raise ValueError("instance_name must be a string of 1 to 128 characters")
    project = spec.get("project_id")
    if project is not None and (isinstance(project, bool) or not isinstance(project, int) or project < 0):
        raise ValueError("project_id must be an integer >= 0")
    groups = spec.get("security_group_ids")
    if groups is not None and not (isinstance(groups, list) and all(
            isinstance(g, str) and re.match(r"^sg-[0-9a-z]{8}$", g) for g in groups)):
        raise ValueError("security_group_ids must be a list of sg-xxxxxxxx")
    tags = spec.get("tags")
    if tags is not None and not (isinstance(tags, dict) and all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in tags.items())):
        raise ValueError("tags must be a dict of non-empty strings")
    for address in spec.get("ipv6_addresses") or []:
        if not isinstance(address, str) or ipaddress.ip_address(address).version != 6:
            raise ValueError("ipv6_addresses must be IPv6 addresses")


def _checked_instance(spec: Spec, ssh_allowed: bool) -> bool:
    """Whether the instance is an ssh one; every field that reaches sshd_config or a path is checked first."""
    if spec.get("state", "STOPPED") not in STATES:
        raise ValueError("state must be one of %s" % ", ".join(STATES))
    if spec.get("os", "linux") not in ("linux", "windows"):
        raise ValueError("os must be linux or windows")
    _checked_attrs(spec)
    ssh = spec.get("ssh", False)
    if not isinstance(ssh, bool):
        raise ValueError("ssh must be true or false")
    if ssh and not ssh_allowed:
        raise ValueError("ssh=true starts a real sshd that logs in as the user running the emulator; start the "
                         "emulator with --ssh to allow it")
    if ssh and find_sshd() is None:
        raise ValueError("ssh=true needs OpenSSH's sshd on this machine (Debian: apt-get install openssh-server)")
    if spec.get("instance_id") is not None and not INSTANCE_ID_RE.match(str(spec["instance_id"])):
        raise ValueError("instance_id must look like ins-xxxxxxxx (8 lower-case letters or digits)")
    login_user = spec.get("login_user")
    if login_user is not None and not (isinstance(login_user, str) and LOGIN_USER_RE.match(login_user)):
        raise ValueError("login_user must be a plain POSIX user name (letters, digits, _ . -; not starting with - or "
                         "a digit; at most 32 characters)")
    for field in ("private_ip", "public_ip"):  # the real service answers IP addresses only
        if spec.get(field) is not None:
            try:
                ipaddress.ip_address(spec[field])
            except (TypeError, ValueError):
                raise ValueError("%s must be an IP address" % field)
    return ssh
