# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the inventory tells its user about a source: each finding is a Finding, the warnings it gives and the error
that strict: true fails with instead (None: it is a warning even then). The plugin says them (prefixed with
"tencent_cvm: ", credentials masked); values from the cloud are shown quoted and cut short, and a long list of hosts
is cut to SHOWN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import json

from .hosts import Clash, Host
from .naming import NameRefusal
from .spec import unknown_keys, unknown_keys_text

SHOWN = 10  # hosts named in one warning


@dataclass(frozen=True)
class Finding:
    warnings: tuple[str, ...] = ()
    error: str | None = None  # what strict: true fails with instead of the warnings; None: warnings even then


NOTHING = Finding()


@dataclass(frozen=True)
class MissingKey:
    """A host for which no private_key_paths template named a usable key file, and the key pairs tried."""

    host_name: str
    key_names: tuple[str, ...]


def with_code(message: str, code: str) -> str:
    """`message` ending with its code as the modules' API failures do: " (<Code>)" appended unless it already ends
    with "(<Code>)" or holds "(<Code>, RequestId <id>)"."""
    if message.endswith("(%s)" % code) or "(%s, RequestId " % code in message:
        return message
    return "%s (%s)" % (message, code)


def shown(value: str, most: int = 80) -> str:
    """A value from the cloud as a message shows it: quoted, control characters escaped, cut to `most`."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= most else text[:most] + '..."'


def some(items: Sequence[str]) -> str:
    """The first SHOWN of `items`, and how many more there are."""
    return "; ".join(items[:SHOWN]) + ("; and %d more" % (len(items) - SHOWN) if len(items) > SHOWN else "")


def unknown_keys_finding(path: str, config: Mapping[object, object], definitions: Mapping[str, object]) -> Finding:
    """A key of the file that is no option (a typo: `filter:` for `filters:`) is a warning, with strict an error
    before anything is read; ansible-core itself ignores it."""
    found = unknown_keys(config, definitions)
    if not found:
        return NOTHING
    warning = "%s: %s (with strict: true it is an error)" % (path, unknown_keys_text(found, ignored=True))
    return Finding(warnings=(warning,), error="%s: %s (strict: true)" % (path, unknown_keys_text(found)))


def refused_names_finding(refusals: Sequence[NameRefusal]) -> Finding:
    """The host names from the cloud that were refused (the next hostnames preference was used)."""
    if not refusals:
        return NOTHING
    said = ["%s: %s gave %s, refused: %s" % (refusal.instance_id, refusal.preference, shown(refusal.value),
                                             refusal.reason) for refusal in refusals]
    return Finding(warnings=("%d host name(s) from the cloud refused, the next hostnames preference used: %s"
                             % (len(said), some(said)),),
                   error="a host name from the cloud cannot name a host (strict): " + said[0])


def clashes_finding(clashes: Sequence[Clash]) -> Finding:
    """Names several instances wanted: they are named by their instance IDs (a warning, strict or not)."""
    if not clashes:
        return NOTHING
    return Finding(warnings=("%s named by instance ID: %s" % (
        "hosts" if len(clashes) > 1 else "a host name shared by several instances, the instances",
        "; ".join("%s wanted by %s" % (clash.name, ", ".join(clash.instance_ids)) for clash in clashes)),))


FILELESS = "no private key file found for %d host(s) (key pairs tried): %s"
SECRETLESS = "no key pair bound to %d host(s) is held by an enabled SSH-key secret (key pairs bound): %s"


def host_problems_finding(left_out: Sequence[Host], refused_files: Mapping[str, str],
                          missing: Sequence[MissingKey], from_secrets: bool = False) -> Finding:
    """Instances left out (no address), key files refused (path -> why) and hosts without a key file: one warning
    each; with strict: true one error that says them all."""
    problems = []
    if left_out:
        problems.append("%d instance(s) left out: no address to connect to (never their names): %s"
                        % (len(left_out), some([host.instance.instance_id for host in left_out])))
    if refused_files:
        refused = ["%s (%s)" % (path, why) for path, why in refused_files.items()]
        problems.append("private key files refused: %s" % some(refused))
    if missing:
        problems.append((SECRETLESS if from_secrets else FILELESS) % (
            len(missing), "; ".join("%s (%s)" % (m.host_name, ", ".join(m.key_names) or "no key pair bound")
                                    for m in missing)))
    return Finding(warnings=tuple(problems), error="; ".join(problems) if problems else None)


def other_address_kinds_finding(hosts: Sequence[Host], connect_with: str) -> Finding:
    """Hosts that connect to another kind of address than connect_with (a warning, strict or not), except public_ip
    falling back to the private address, which is documented."""
    other = [host for host in hosts if host.address_kind != connect_with
             and (connect_with, host.address_kind) != ("public_ip", "private_ip")]
    if not other:
        return NOTHING
    kinds = ["%s (%s)" % (host.instance.instance_id, host.address_kind) for host in other]
    return Finding(warnings=("%d host(s) have no %s address and connect to another kind: %s"
                             % (len(other), connect_with, some(kinds)),))
