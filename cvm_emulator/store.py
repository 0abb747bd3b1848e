# SPDX-License-Identifier: GPL-3.0-or-later
"""Emulator state in SQLite: in memory by default, a file with --db (survives a restart)."""

import json
import sqlite3
import threading
import time

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
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# Instance columns added since the first release (name, SQL type and default); older --db files get them by
# ALTER TABLE. `operation` is the JSON of the asynchronous operation in progress (cvm_emulator.instances).
INSTANCE_COLUMNS = (
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
INSTANCE_ATTRS = ("instance_name", "zone", "project_id", "instance_type", "image_id", "vpc_id", "subnet_id",
                  "security_group_ids", "tags", "charge_type", "ipv6_addresses")

DEFAULT_SETTINGS = {
    "quota": 100,                   # key pairs per account (all regions)
    "projects": [0, 1000, 1001, 1002],
    "clock_offset": 0,
    "error_codes": "current",       # or "seed": the dedicated name codes and InvalidKeyPair.NotSupported
    "empty_description": "clear",   # or "missing": Description "" counts as not given
    "binding_linger": 0,            # seconds a terminated instance keeps its key bindings; -1: for ever
    "operation_delay": 0.5,         # seconds an Associate/Disassociate operation takes (asynchronous)
    "operation_report": "request_id",  # or "lagging": no LatestOperationRequestId, the previous state shown a while
    "associate_mode": "add",        # or "replace": AssociateInstancesKeyPairs drops the instance's other keys
}


class Store:
    """A single connection guarded by one lock: every action runs as one serialised transaction,
    which is what makes duplicate-name checks race-free under concurrent clients."""

    def __init__(self, path=":memory:", defaults=None):
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

    def _execute(self, sql, args=()):
        # One connection is shared by every handler thread: each statement (and each transaction, see
        # __enter__) runs under the lock, and rows are fetched before it is released.
        with self.lock:
            return _Rows(self.db.execute(sql, args).fetchall())

    # settings -----------------------------------------------------------------------------
    def setting(self, name):
        row = self._execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
        return json.loads(row["value"]) if row else self.defaults[name]

    def set_setting(self, name, value):
        self._execute(
            "INSERT INTO settings(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
            (name, json.dumps(value)),
        )

    # transactions -------------------------------------------------------------------------
    def __enter__(self):
        self.lock.acquire()
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.lock.release()
        return False

    def reset(self):
        with self:
            for table in ("key_pairs", "instances", "images", "settings"):
                self._execute("DELETE FROM %s" % table)

    # key pairs ----------------------------------------------------------------------------
    def key_pairs(self, region=None, name_contains=None, bindings=True):
        """Key pairs in creation order, with a name containing one of `name_contains` (a list) when given;
        bindings=False skips the instance/image lookups (add them per page)."""
        sql, args = "SELECT * FROM key_pairs WHERE 1=1", []
        if region is not None:
            sql, args = sql + " AND region=?", args + [region]
        if name_contains:
            sql += " AND (%s)" % " OR ".join(["instr(key_name, ?) > 0"] * len(name_contains))
            args += list(name_contains)
        rows = self._execute(sql + " ORDER BY seq", tuple(args)).fetchall()
        return [self._key_pair(r, bindings) for r in rows]

    def with_bindings(self, kp):
        kp = dict(kp)
        kp["associated_instance_ids"] = self.bound_instances(kp["key_id"])
        kp["bound_images"] = self.bound_images(kp["key_id"])
        return kp

    def key_pair(self, key_id, region=None):
        row = self._execute("SELECT * FROM key_pairs WHERE key_id=?", (key_id,)).fetchone()
        if row is None or (region is not None and row["region"] != region):
            return None
        return self._key_pair(row)

    def _key_pair(self, row, bindings=True):
        kp = dict(row)
        kp["tags"] = json.loads(kp["tags"])
        return self.with_bindings(kp) if bindings else kp

    def insert_key_pair(self, kp):
        seq = self._execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM key_pairs").fetchone()[0]
        self._execute(
            "INSERT INTO key_pairs(key_id, region, key_name, project_id, description, public_key, key_blob,"
            " created_time, tags, seq) VALUES(?,?,?,?,?,?,?,?,?,?)",
            (kp["key_id"], kp["region"], kp["key_name"], kp["project_id"], kp.get("description", ""),
             kp["public_key"], kp["key_blob"], kp["created_time"], json.dumps(kp.get("tags", [])), seq),
        )

    def update_key_pair(self, key_id, **fields):
        for name, value in fields.items():
            self._execute("UPDATE key_pairs SET %s=? WHERE key_id=?" % name, (value, key_id))

    def delete_key_pair(self, key_id):
        self._execute("DELETE FROM key_pairs WHERE key_id=?", (key_id,))

    def count_key_pairs(self, region=None):
        if region is None:
            return self._execute("SELECT COUNT(*) FROM key_pairs").fetchone()[0]
        return self._execute("SELECT COUNT(*) FROM key_pairs WHERE region=?", (region,)).fetchone()[0]

    def name_taken(self, region, name):
        return self._execute(
            "SELECT 1 FROM key_pairs WHERE region=? AND key_name=?", (region, name)).fetchone() is not None

    def blob_taken(self, region, blob):
        return self._execute(
            "SELECT 1 FROM key_pairs WHERE region=? AND key_blob=?", (region, blob)).fetchone() is not None

    # instances and images -----------------------------------------------------------------
    def bound_instances(self, key_id):
        rows = self._execute("SELECT instance_id, key_ids FROM instances ORDER BY instance_id").fetchall()
        return [r["instance_id"] for r in rows if key_id in json.loads(r["key_ids"])]

    def bound_images(self, key_id):
        rows = self._execute("SELECT image_id, key_ids FROM images ORDER BY image_id").fetchall()
        return [r["image_id"] for r in rows if key_id in json.loads(r["key_ids"])]

    @staticmethod
    def _instance(row):
        inst = dict(row)
        inst["key_ids"] = json.loads(inst["key_ids"])
        inst["operation"] = json.loads(inst["operation"]) if inst.get("operation") else None
        inst.update(json.loads(inst.pop("attrs", None) or "{}"))
        return inst

    def instance(self, instance_id):
        row = self._execute("SELECT * FROM instances WHERE instance_id=?", (instance_id,)).fetchone()
        return None if row is None else self._instance(row)

    def instances(self, region=None):
        if region is None:
            rows = self._execute("SELECT * FROM instances ORDER BY instance_id").fetchall()
        else:
            rows = self._execute("SELECT * FROM instances WHERE region=? ORDER BY instance_id", (region,)).fetchall()
        return [self._instance(r) for r in rows]

    def busy_instances(self):
        """The instances with an operation in progress: all the lifecycle has to advance."""
        rows = self._execute("SELECT * FROM instances WHERE operation IS NOT NULL").fetchall()
        return [self._instance(r) for r in rows]

    def ssh_instances(self):
        """The instances whose sshd the lifecycle keeps in step (the others are records only)."""
        rows = self._execute("SELECT * FROM instances WHERE ssh=1").fetchall()
        return [self._instance(r) for r in rows]

    def terminate_instance(self, instance_id, now):
        """TERMINATING now; gone (with its key bindings) once purge_terminated finds it past the linger time."""
        self._execute("UPDATE instances SET state='TERMINATING', terminated_at=? WHERE instance_id=?",
                      (now, instance_id))

    def purge_terminated(self, now, linger):
        if linger is not None and float(linger) >= 0:
            self._execute("DELETE FROM instances WHERE terminated_at IS NOT NULL AND terminated_at + ? <= ?",
                          (float(linger), now))

    def put_instance(self, inst):
        """Inserts or replaces the instance: every column, from `inst` or its default."""
        self.put_instances([inst])

    def put_instances(self, instances):
        """Inserts or replaces the instances (one statement for all); INSTANCE_ATTRS are kept as JSON."""
        rows = []
        for inst in instances:
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

    def put_image(self, image):
        self._execute(
            "INSERT INTO images(image_id, region, key_ids) VALUES(?,?,?)"
            " ON CONFLICT(image_id) DO UPDATE SET region=excluded.region, key_ids=excluded.key_ids",
            (image["image_id"], image["region"], json.dumps(image.get("key_ids", []))),
        )

    def dump(self):
        with self:
            self.purge_terminated(time.time(), self.setting("binding_linger"))
            instances = self.instances()
            images = [dict(r) for r in self._execute("SELECT * FROM images ORDER BY image_id")]
            for item in images:
                item["key_ids"] = json.loads(item["key_ids"])
            key_pairs = self.key_pairs()
            for kp in key_pairs:
                kp.pop("seq", None)
            return {
                "key_pairs": key_pairs,
                "instances": instances,
                "images": images,
                "settings": {name: self.setting(name) for name in DEFAULT_SETTINGS},
            }


class _Rows(list):
    """Fetched rows with the cursor methods the store uses."""

    def fetchall(self):
        return list(self)

    def fetchone(self):
        return self[0] if self else None
