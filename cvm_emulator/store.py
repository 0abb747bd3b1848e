# SPDX-License-Identifier: GPL-3.0-or-later
"""Emulator state in SQLite: in memory by default, a file with --db (survives a restart)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, Literal, TypedDict, cast, get_args

# A value decoded from JSON or bound for it: a setting (the admin API stores what it is given, unchecked), a request
# log entry's field, an admin call's answer. Its shape is data, checked (where it is) at run time, not a type.
JSON = Any


class Tag(TypedDict):
    """A key pair's tag, as the CVM API writes it."""
    Key: str
    Value: str


class _KeyPairColumns(TypedDict):
    key_id: str
    region: str
    key_name: str
    project_id: int
    public_key: str
    key_blob: str
    created_time: str
    tags: list[Tag]


class KeyPair(_KeyPairColumns, total=False):
    """A row of key_pairs (tags decoded), with its bindings unless they were skipped."""
    description: str
    seq: int
    associated_instance_ids: list[str]
    bound_images: list[str]


class Operation(TypedDict):
    """An Associate/Disassociate operation in progress on an instance (cvm_emulator.instances)."""
    action: str
    request_id: str
    add: list[str]
    remove: list[str]
    from_state: str
    forced: bool
    started: float
    duration: float
    applied: bool
    fail: str | None
    # latest_operation, latest_operation_state, latest_operation_request_id, latest_operation_error_msg before it
    previous: list[str | None]


class _InstanceKeys(TypedDict):
    instance_id: str
    region: str
    state: str
    os: str
    key_ids: list[str]


class Instance(_InstanceKeys, total=False):
    """An instance: a row of instances (key_ids, operation and attrs decoded, attrs merged in), or one being made.
    A field missing here is its column's default (INSTANCE_COLUMNS)."""
    terminated_at: float | None
    os_name: str | None
    login_user: str | None
    private_ip: str | None
    public_ip: str | None
    ssh: int
    ssh_port: int | None
    guest_agent: int
    authorized_keys: str
    created_time: str | None
    latest_operation: str | None
    latest_operation_state: str | None
    latest_operation_request_id: str | None
    latest_operation_error_msg: str | None
    operation: Operation | None
    # INSTANCE_ATTRS (the `attrs` column): as the admin API was given them, each checked (admin._checked_attrs)
    instance_name: str
    zone: str
    project_id: int
    instance_type: str
    image_id: str
    vpc_id: str
    subnet_id: str
    security_group_ids: list[str]
    tags: dict[str, str]
    charge_type: str
    ipv6_addresses: list[str]
    # in the admin API's state only: connections handed to the instance's sshd so far
    ssh_connections: int


class Image(TypedDict):
    image_id: str
    region: str
    key_ids: list[str]


class _SecretColumns(TypedDict):
    region: str
    secret_name: str
    secret_type: int         # 2: an SSH key pair secret; 0: a user-defined one (seeded by the admin API only)
    key_id: str              # the key pair it holds ('' for type 0)
    key_name: str            # the key pair's name when it was made (the key pair's own name is answered)
    status: str              # Enabled, Disabled, PendingDelete
    description: str
    kms_key_id: str          # '' when EncryptType is 1 (a software key)
    encrypt_type: int
    project_id: int
    tags: list[Tag]
    create_time: int
    delete_time: int


class Secret(_SecretColumns, total=False):
    """A row of secrets (tags decoded). `sealed` (the private key, encrypted under the row's KMS key) is read only by
    the action that answers the key (cvm_emulator.secrets); listings leave it out."""
    sealed: str
    seq: int


class State(TypedDict):
    """What the admin API's /_emulator/state answers."""
    key_pairs: list[KeyPair]
    instances: list[Instance]
    images: list[Image]
    secrets: list[Secret]
    settings: dict[str, JSON]


SCHEMA = """
CREATE TABLE IF NOT EXISTS key_pairs (
    key_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    key_name TEXT NOT NULL,
    project_id INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    public_key TEXT NOT NULL,
    key_blob TEXT NOT NULL,
    created_time TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    seq INTEGER NOT NULL,
    UNIQUE (region, key_name)
);
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'STOPPED',
    os TEXT NOT NULL DEFAULT 'linux',
    key_ids TEXT NOT NULL DEFAULT '[]',
    terminated_at REAL
);
CREATE TABLE IF NOT EXISTS images (
    image_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    key_ids TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS secrets (
    region TEXT NOT NULL,
    secret_name TEXT NOT NULL,
    secret_type INTEGER NOT NULL,
    key_id TEXT NOT NULL DEFAULT '',
    key_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    kms_key_id TEXT NOT NULL DEFAULT '',
    encrypt_type INTEGER NOT NULL DEFAULT 0,
    project_id INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]',
    create_time INTEGER NOT NULL,
    delete_time INTEGER NOT NULL DEFAULT 0,
    sealed TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL,
    PRIMARY KEY (region, secret_name)
);
CREATE TABLE IF NOT EXISTS kms_keys (
    key_id TEXT PRIMARY KEY,
    material TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# Instance columns added since the first release (name, SQL type and default); older --db files get them by
# ALTER TABLE. `operation` is the JSON of the asynchronous operation in progress (cvm_emulator.instances).
INSTANCE_COLUMNS: tuple[tuple[str, str, JSON], ...] = (
    ("terminated_at", "REAL", None),
    ("os_name", "TEXT", None),
    ("login_user", "TEXT", None),
    ("private_ip", "TEXT", None),
    ("public_ip", "TEXT", None),
    ("ssh", "INTEGER NOT NULL DEFAULT 0", 0),
    ("ssh_port", "INTEGER", None),
    ("guest_agent", "INTEGER NOT NULL DEFAULT 1", 1),
    ("authorized_keys", "TEXT NOT NULL DEFAULT ''", ""),
    ("created_time", "TEXT", None),
    ("latest_operation", "TEXT", None),
    ("latest_operation_state", "TEXT", None),
    ("latest_operation_request_id", "TEXT", None),
    ("latest_operation_error_msg", "TEXT", None),
    ("operation", "TEXT", None),
    # what an inventory reads: name, zone, project, type, image, VPC, subnet, security groups, tags, charge type,
    # IPv6 addresses (JSON; see cvm_emulator.admin.INSTANCE_ATTRS)
    ("attrs", "TEXT NOT NULL DEFAULT '{}'", "{}"),
)

# The instance fields an inventory reads, kept in the `attrs` column (JSON).
InstanceAttr = Literal["instance_name", "zone", "project_id", "instance_type", "image_id", "vpc_id", "subnet_id",
                       "security_group_ids", "tags", "charge_type", "ipv6_addresses"]
INSTANCE_ATTRS: tuple[InstanceAttr, ...] = get_args(InstanceAttr)

DEFAULT_SETTINGS: dict[str, JSON] = {
    "quota": 100,                   # key pairs per account (all regions)
    "projects": [0, 1000, 1001, 1002],
    "clock_offset": 0,
    "error_codes": "current",       # or "seed": the dedicated name codes and InvalidKeyPair.NotSupported
    "empty_description": "clear",   # or "missing": Description "" counts as not given
    "binding_linger": 0,            # seconds a terminated instance keeps its key bindings; -1: for ever
    "operation_delay": 0.5,         # seconds an Associate/Disassociate operation takes (asynchronous)
    "operation_report": "request_id",  # or "lagging": no LatestOperationRequestId, the previous state shown a while
    "associate_mode": "add",        # or "replace": AssociateInstancesKeyPairs drops the instance's other keys
    # Secrets Manager (cvm_emulator.secrets): KMS key IDs accepted besides the default one; the codes no public
    # source settles (CVM DeleteKeyPairs on a key pair a secret holds; an unknown KmsKeyId); how GetSSHKeyPairValue
    # writes PublicKey ("openssh": the OpenSSH line; "base64": base64 of that line)
    "kms_keys": [],
    "held_key_pair_code": "InvalidParameterValue.KeyPairNotSupported",
    "kms_key_missing_code": "FailedOperation.AccessKmsError",
    "ssh_public_key_format": "openssh",
}


class Store:
    """A single connection guarded by one lock: every action runs as one serialised transaction,
    which is what makes duplicate-name checks race-free under concurrent clients."""

    def __init__(self, path: str = ":memory:", defaults: dict[str, JSON] | None = None) -> None:
        self.path = path
        self.defaults = dict(DEFAULT_SETTINGS, **(defaults or {}))  # what a setting is until set (and after reset)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        if path != ":memory:":
            self._execute("PRAGMA journal_mode=WAL")
            self._execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        have = {row["name"] for row in self.db.execute("PRAGMA table_info(instances)").fetchall()}
        for name, sql_type, _default in INSTANCE_COLUMNS:  # a --db file written by an older emulator
            if name not in have:
                self.db.execute("ALTER TABLE instances ADD COLUMN %s %s" % (name, sql_type))
        # what a lifecycle tick and DescribeInstances read, found without a scan of every instance
        self.db.executescript("CREATE INDEX IF NOT EXISTS instances_region ON instances(region, instance_id);"
                              "CREATE INDEX IF NOT EXISTS instances_busy ON instances(operation) "
                              "WHERE operation IS NOT NULL;"
                              "CREATE INDEX IF NOT EXISTS instances_ssh ON instances(ssh) WHERE ssh=1;")

    def _execute(self, sql: str, args: Sequence[object] = ()) -> _Rows:
        # One connection is shared by every handler thread: each statement (and each transaction, see
        # __enter__) runs under the lock, and rows are fetched before it is released.
        with self.lock:
            return _Rows(self.db.execute(sql, args).fetchall())

    # settings -----------------------------------------------------------------------------
    def setting(self, name: str) -> JSON:
        row = self._execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
        return json.loads(row["value"]) if row else self.defaults[name]

    def set_setting(self, name: str, value: JSON) -> None:
        self._execute(
            "INSERT INTO settings(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
            (name, json.dumps(value)),
        )

    # transactions -------------------------------------------------------------------------
    def __enter__(self) -> Store:
        self.lock.acquire()
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.lock.release()
        return False

    def reset(self) -> None:
        with self:
            for table in ("key_pairs", "instances", "images", "secrets", "kms_keys", "settings"):
                self._execute("DELETE FROM %s" % table)

    # key pairs ----------------------------------------------------------------------------
    def key_pairs(self, region: str | None = None, name_contains: Sequence[str] | None = None,
                  bindings: bool = True) -> list[KeyPair]:
        """Key pairs in creation order, with a name containing one of `name_contains` (a list) when given;
        bindings=False skips the instance/image lookups (add them per page)."""
        sql = "SELECT * FROM key_pairs WHERE 1=1"
        args: list[str] = []
        if region is not None:
            sql, args = sql + " AND region=?", args + [region]
        if name_contains:
            sql += " AND (%s)" % " OR ".join(["instr(key_name, ?) > 0"] * len(name_contains))
            args += list(name_contains)
        rows = self._execute(sql + " ORDER BY seq", tuple(args)).fetchall()
        return [self._key_pair(r, bindings) for r in rows]

    def with_bindings(self, kp: KeyPair) -> KeyPair:
        kp = kp.copy()
        kp["associated_instance_ids"] = self.bound_instances(kp["key_id"])
        kp["bound_images"] = self.bound_images(kp["key_id"])
        return kp

    def key_pair(self, key_id: str, region: str | None = None) -> KeyPair | None:
        row = self._execute("SELECT * FROM key_pairs WHERE key_id=?", (key_id,)).fetchone()
        if row is None or (region is not None and row["region"] != region):
            return None
        return self._key_pair(row)

    def _key_pair(self, row: sqlite3.Row, bindings: bool = True) -> KeyPair:
        columns = dict(row)
        columns["tags"] = json.loads(columns["tags"])
        kp = cast(KeyPair, columns)  # the table's columns (SCHEMA), tags decoded
        return self.with_bindings(kp) if bindings else kp

    def insert_key_pair(self, kp: KeyPair) -> None:
        seq = self._execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM key_pairs").scalar()
        self._execute(
            "INSERT INTO key_pairs(key_id, region, key_name, project_id, description, public_key, key_blob,"
            " created_time, tags, seq) VALUES(?,?,?,?,?,?,?,?,?,?)",
            (kp["key_id"], kp["region"], kp["key_name"], kp["project_id"], kp.get("description", ""),
             kp["public_key"], kp["key_blob"], kp["created_time"], json.dumps(kp.get("tags", [])), seq),
        )

    def update_key_pair(self, key_id: str, **fields: str) -> None:
        for name, value in fields.items():
            self._execute("UPDATE key_pairs SET %s=? WHERE key_id=?" % name, (value, key_id))

    def delete_key_pair(self, key_id: str) -> None:
        self._execute("DELETE FROM key_pairs WHERE key_id=?", (key_id,))

    def count_key_pairs(self, region: str | None = None) -> int:
        count: int
        if region is None:
            count = self._execute("SELECT COUNT(*) FROM key_pairs").scalar()
        else:
            count = self._execute("SELECT COUNT(*) FROM key_pairs WHERE region=?", (region,)).scalar()
        return count

    def name_taken(self, region: str, name: str) -> bool:
        return self._execute(
            "SELECT 1 FROM key_pairs WHERE region=? AND key_name=?", (region, name)).fetchone() is not None

    def blob_taken(self, region: str, blob: str) -> bool:
        return self._execute(
            "SELECT 1 FROM key_pairs WHERE region=? AND key_blob=?", (region, blob)).fetchone() is not None

    # secrets (Secrets Manager) -------------------------------------------------------------
    def secrets(self, region: str | None = None) -> list[Secret]:
        """Secrets in creation order, without their sealed keys."""
        if region is None:
            rows = self._execute("SELECT * FROM secrets ORDER BY seq").fetchall()
        else:
            rows = self._execute("SELECT * FROM secrets WHERE region=? ORDER BY seq", (region,)).fetchall()
        return [self._secret(r, sealed=False) for r in rows]

    def secret(self, region: str, name: str) -> Secret | None:
        """The secret, with its sealed key."""
        row = self._execute("SELECT * FROM secrets WHERE region=? AND secret_name=?", (region, name)).fetchone()
        return None if row is None else self._secret(row, sealed=True)

    def key_holder(self, key_id: str) -> Secret | None:
        """The secret that holds the key pair, if one does (with its sealed key)."""
        row = self._execute("SELECT * FROM secrets WHERE key_id=? AND key_id != ''", (key_id,)).fetchone()
        return None if row is None else self._secret(row, sealed=True)

    @staticmethod
    def _secret(row: sqlite3.Row, sealed: bool) -> Secret:
        columns = dict(row)
        columns["tags"] = json.loads(columns["tags"])
        if not sealed:
            del columns["sealed"]
        return cast(Secret, columns)  # the table's columns (SCHEMA), tags decoded

    def insert_secret(self, secret: Secret) -> None:
        seq = self._execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM secrets").scalar()
        self._execute(
            "INSERT INTO secrets(region, secret_name, secret_type, key_id, key_name, status, description, kms_key_id,"
            " encrypt_type, project_id, tags, create_time, delete_time, sealed, seq)"
            " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (secret["region"], secret["secret_name"], secret["secret_type"], secret["key_id"], secret["key_name"],
             secret["status"], secret["description"], secret["kms_key_id"], secret["encrypt_type"],
             secret["project_id"], json.dumps(secret["tags"]), secret["create_time"], secret["delete_time"],
             secret.get("sealed", ""), seq))

    def update_secret(self, region: str, name: str, **fields: str | int) -> None:
        for column, value in fields.items():
            self._execute("UPDATE secrets SET %s=? WHERE region=? AND secret_name=?" % column, (value, region, name))

    def delete_secret(self, region: str, name: str) -> None:
        self._execute("DELETE FROM secrets WHERE region=? AND secret_name=?", (region, name))

    def count_secrets(self, region: str) -> int:
        count: int = self._execute("SELECT COUNT(*) FROM secrets WHERE region=?", (region,)).scalar()
        return count

    def kms_material(self, kms_key_id: str) -> bytes:
        """The emulated KMS key's material (32 random bytes, made on first use): what seals the private keys that
        secrets hold, so that a --db file never holds one in the clear."""
        row = self._execute("SELECT material FROM kms_keys WHERE key_id=?", (kms_key_id,)).fetchone()
        if row is None:
            material = os.urandom(32)
            self._execute("INSERT INTO kms_keys(key_id, material) VALUES(?, ?)", (kms_key_id, material.hex()))
            return material
        return bytes.fromhex(row["material"])

    # instances and images -----------------------------------------------------------------
    def bound_instances(self, key_id: str) -> list[str]:
        rows = self._execute("SELECT instance_id, key_ids FROM instances ORDER BY instance_id").fetchall()
        return [r["instance_id"] for r in rows if key_id in json.loads(r["key_ids"])]

    def bound_images(self, key_id: str) -> list[str]:
        rows = self._execute("SELECT image_id, key_ids FROM images ORDER BY image_id").fetchall()
        return [r["image_id"] for r in rows if key_id in json.loads(r["key_ids"])]

    @staticmethod
    def _instance(row: sqlite3.Row) -> Instance:
        columns = dict(row)
        columns["key_ids"] = json.loads(columns["key_ids"])
        columns["operation"] = json.loads(columns["operation"]) if columns.get("operation") else None
        columns.update(json.loads(columns.pop("attrs", None) or "{}"))
        return cast(Instance, columns)  # the table's columns (SCHEMA, INSTANCE_COLUMNS), decoded

    def instance(self, instance_id: str) -> Instance | None:
        row = self._execute("SELECT * FROM instances WHERE instance_id=?", (instance_id,)).fetchone()
        return None if row is None else self._instance(row)

    def instances(self, region: str | None = None) -> list[Instance]:
        if region is None:
            rows = self._execute("SELECT * FROM instances ORDER BY instance_id").fetchall()
        else:
            rows = self._execute("SELECT * FROM instances WHERE region=? ORDER BY instance_id", (region,)).fetchall()
        return [self._instance(r) for r in rows]

    def busy_instances(self) -> list[Instance]:
        """The instances with an operation in progress: all the lifecycle has to advance."""
        rows = self._execute("SELECT * FROM instances WHERE operation IS NOT NULL").fetchall()
        return [self._instance(r) for r in rows]

    def ssh_instances(self) -> list[Instance]:
        """The instances whose sshd the lifecycle keeps in step (the others are records only)."""
        rows = self._execute("SELECT * FROM instances WHERE ssh=1").fetchall()
        return [self._instance(r) for r in rows]

    def terminate_instance(self, instance_id: str, now: float) -> None:
        """TERMINATING now; gone (with its key bindings) once purge_terminated finds it past the linger time."""
        self._execute("UPDATE instances SET state='TERMINATING', terminated_at=? WHERE instance_id=?",
                      (now, instance_id))

    def purge_terminated(self, now: float, linger: JSON) -> None:
        if linger is not None and float(linger) >= 0:
            self._execute("DELETE FROM instances WHERE terminated_at IS NOT NULL AND terminated_at + ? <= ?",
                          (float(linger), now))

    def put_instance(self, inst: Instance) -> None:
        """Inserts or replaces the instance: every column, from `inst` or its default."""
        self.put_instances([inst])

    def put_instances(self, instances: Iterable[Instance]) -> None:
        """Inserts or replaces the instances (one statement for all); INSTANCE_ATTRS are kept as JSON."""
        rows = []
        for inst in instances:
            values: dict[str, JSON]
            values = {"instance_id": inst["instance_id"], "region": inst["region"],
                      "state": inst.get("state", "STOPPED"), "os": inst.get("os", "linux"),
                      "key_ids": json.dumps(list(inst.get("key_ids", [])))}
            for name, _sql_type, default in INSTANCE_COLUMNS:
                values[name] = inst.get(name, default)
            if values["operation"] is not None:
                values["operation"] = json.dumps(values["operation"])
            values["attrs"] = json.dumps({k: inst[k] for k in INSTANCE_ATTRS if inst.get(k) is not None})
            rows.append(values)
        if not rows:
            return
        names = list(rows[0])
        with self.lock:
            self.db.executemany(
                "INSERT OR REPLACE INTO instances(%s) VALUES(%s)" % (", ".join(names), ", ".join("?" * len(names))),
                [tuple(values[n] for n in names) for values in rows])

    def put_image(self, image: Image) -> None:
        self._execute(
            "INSERT INTO images(image_id, region, key_ids) VALUES(?,?,?)"
            " ON CONFLICT(image_id) DO UPDATE SET region=excluded.region, key_ids=excluded.key_ids",
            (image["image_id"], image["region"], json.dumps(image.get("key_ids", []))),
        )

    def dump(self) -> State:
        with self:
            self.purge_terminated(time.time(), self.setting("binding_linger"))
            instances = self.instances()
            rows = [dict(r) for r in self._execute("SELECT * FROM images ORDER BY image_id")]
            for item in rows:
                item["key_ids"] = json.loads(item["key_ids"])
            images = cast("list[Image]", rows)  # the table's columns (SCHEMA), key_ids decoded
            key_pairs = self.key_pairs()
            for kp in key_pairs:
                kp.pop("seq", None)
            secrets = self.secrets()
            for secret in secrets:
                secret.pop("seq", None)
            return {
                "key_pairs": key_pairs,
                "instances": instances,
                "images": images,
                "secrets": secrets,
                "settings": {name: self.setting(name) for name in DEFAULT_SETTINGS},
            }


class _Rows(list[sqlite3.Row]):
    """Fetched rows with the cursor methods the store uses."""

    def fetchall(self) -> list[sqlite3.Row]:
        return list(self)

    def fetchone(self) -> sqlite3.Row | None:
        return self[0] if self else None

    def scalar(self) -> JSON:
        """The first column of the first row: what an aggregate (COUNT, MAX) answers, always one row."""
        return self[0][0]
