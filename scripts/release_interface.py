# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's interface at each release, and the checks that keep versions honest.

The interface is every plugin and role entry point with its options (nested: `a.b`) and their version_added, as
ansible-doc reads them (doc fragments included; options that come from ansible-core's fragments, such as the
inventory cache options, are not the collection's and carry no version of its own). tests/release/<version>.json
records it for each release in changelogs/changelog.yaml.

  python scripts/release_interface.py record   # after `antsibull-changelog release`: record this release
  python scripts/release_interface.py check    # what tests/integration/test_release.py checks

Rules (problems()): whatever is new since the last release says version_added: <the version being prepared>;
what was already released says a version no later than that release; and galaxy.yml's version, once released in
changelog.yaml, cannot change its content (plugins, options, or unreleased changelog fragments)."""

import json
import os
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDS = os.path.join(ROOT, "tests", "release")
COLLECTION = "tencentcloud.cvm"
KINDS = (("module", "modules"), ("inventory", "inventory"))


def version_key(version):
    return tuple(int(part) for part in str(version).split("."))


def _options(prefix, options, into):
    for name, spec in sorted((options or {}).items()):
        path = prefix + name
        own = spec.get("version_added_collection", COLLECTION) == COLLECTION
        into[path] = str(spec.get("version_added", "")) if own else None
        _options(path + ".", spec.get("suboptions") or spec.get("options"), into)


def _ansible_doc(env, *args):
    out = subprocess.run(["ansible-doc", "--json"] + list(args), env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def interface(root=ROOT):
    """{"<kind> <name>": {"version_added": str, "options": {path: str, or None when not the collection's}}}"""
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "ansible_collections", "tencentcloud"))
        os.symlink(os.path.abspath(root), os.path.join(tmp, "ansible_collections", "tencentcloud", "cvm"))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=tmp, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
        found = {}
        for kind, folder in KINDS:
            folder = os.path.join(root, "plugins", folder)
            names = sorted("%s.%s" % (COLLECTION, f[:-3]) for f in (os.listdir(folder) if os.path.isdir(folder) else ())
                           if f.endswith(".py") and not f.startswith("_"))
            for name, doc in (_ansible_doc(env, "-t", kind, *names) if names else {}).items():
                options = {}
                _options("", doc["doc"].get("options"), options)
                found["%s %s" % (kind, name)] = {"version_added": str(doc["doc"].get("version_added", "")),
                                                 "options": options}
        for role in sorted(os.listdir(os.path.join(root, "roles"))):
            for name, doc in _ansible_doc(env, "-t", "role", "%s.%s" % (COLLECTION, role)).items():
                for entry, spec in doc.get("entry_points", {}).items():
                    options = {}
                    _options("", spec.get("options"), options)
                    found["role %s:%s" % (name, entry)] = {"version_added": str(spec.get("version_added", "")),
                                                           "options": options}
        return found


def problems(version, released, records, current, fragments):
    """What is wrong with preparing (or having released) `version`.

    released: the versions in changelog.yaml; records: {version: interface} of tests/release; current: the
    interface now; fragments: the changelog fragments not yet released."""
    found = []
    missing = sorted(set(released) - set(records), key=version_key)
    if missing:
        found.append("no interface recorded for the released version(s) %s: run `python scripts/release_interface.py "
                     "record` right after the release" % ", ".join(missing))
    if version in released:
        if fragments:
            found.append("galaxy.yml's version %s is already released, but changelogs/fragments has unreleased "
                         "changes (%s): raise the version in galaxy.yml" % (version, ", ".join(sorted(fragments))))
        if version in records and records[version] != current:
            found.append("galaxy.yml's version %s is already released with other plugins, options or "
                         "version_added: raise the version in galaxy.yml" % version)
    elif released and version_key(version) <= version_key(max(released, key=version_key)):
        found.append("galaxy.yml's version %s is not newer than the last release %s"
                     % (version, max(released, key=version_key)))
    if found:  # without the records or a sensible version, comparing version_added would only add noise
        return found
    earlier = [v for v in released if version_key(v) < version_key(version)]
    baseline = records.get(max(earlier, key=version_key)) if earlier else {}
    last = max(earlier, key=version_key) if earlier else None
    for thing, doc in sorted(current.items()):
        before = (baseline or {}).get(thing)
        if before is None:
            if doc["version_added"] != version:
                found.append("%s is new since %s: it needs version_added: %s (has %r)"
                             % (thing, last or "the start", version, doc["version_added"]))
            continue
        if doc["version_added"] and version_key(doc["version_added"]) > version_key(last):
            found.append("%s was released in %s but says version_added: %s" % (thing, last, doc["version_added"]))
        for option, added in sorted(doc["options"].items()):
            if added is None:
                continue
            if option not in before["options"]:
                if added != version:
                    found.append("%s option %s is new since %s: it needs version_added: %s (has %r)"
                                 % (thing, option, last, version, added))
            elif added and version_key(added) > version_key(last):
                found.append("%s option %s was released in %s but says version_added: %s"
                             % (thing, option, last, added))
    return found


def state(root=ROOT):
    """(galaxy version, released versions, records, unreleased fragments) of a checkout."""
    with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as handle:
        version = str(yaml.safe_load(handle)["version"])
    with open(os.path.join(root, "changelogs", "changelog.yaml"), encoding="utf-8") as handle:
        released = sorted(str(v) for v in (yaml.safe_load(handle).get("releases") or {}))
    records = {}
    if os.path.isdir(RECORDS):
        for name in os.listdir(RECORDS):
            if name.endswith(".json"):
                with open(os.path.join(RECORDS, name), encoding="utf-8") as handle:
                    records[name[:-5]] = json.load(handle)
    fragments_dir = os.path.join(root, "changelogs", "fragments")
    fragments = [f for f in os.listdir(fragments_dir) if f.endswith((".yml", ".yaml"))] \
        if os.path.isdir(fragments_dir) else []
    return version, released, records, fragments


def main(argv):
    version, released, records, fragments = state()
    current = interface()
    if argv[1:] == ["record"]:
        if version not in released:
            raise SystemExit("%s is not released in changelogs/changelog.yaml yet: run antsibull-changelog release "
                             "first" % version)
        os.makedirs(RECORDS, exist_ok=True)
        with open(os.path.join(RECORDS, version + ".json"), "w", encoding="utf-8") as handle:
            json.dump(current, handle, indent=1, sort_keys=True)
            handle.write("\n")
        print("recorded the interface of %s" % version)
        return 0
    if argv[1:] == ["check"]:
        found = problems(version, released, records, current, fragments)
        print("\n".join(found) or "version %s: version_added and releases agree" % version)
        return 1 if found else 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
