# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host names: for each host, the first hostnames preference whose value may name a host (host_name_problem; the
values refused are kept, for one warning), else its instance ID; then no two instances merged into one host
(unique_names). A Jinja preference is evaluated by the plugin (an Evaluate), everything else here."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from .hosts import Clash, Host, field_value, host_name_problem, unique_names
from .spec import InventorySpec

# The plugin's evaluation of a Jinja hostnames preference: (expression, the host's variables, its instance ID) ->
# the value; None when it cannot be evaluated for this host (with strict: true the plugin raises instead).
Evaluate = Callable[[str, Mapping[str, object], str], object]


@dataclass(frozen=True)
class NameRefusal:
    """A value from the cloud that a hostnames preference gave and that cannot name a host, and why."""

    instance_id: str
    preference: str
    value: str
    reason: str


@dataclass(frozen=True)
class WantedName:
    name: str
    refusals: tuple[NameRefusal, ...]


@dataclass(frozen=True)
class HostNames:
    """The name of each host (by instance ID), the values refused on the way, and the names several instances
    wanted (they are named by their instance IDs instead)."""

    by_instance: Mapping[str, str]
    refusals: tuple[NameRefusal, ...]
    clashes: tuple[Clash, ...]

    def of(self, host: Host) -> str:
        return self.by_instance[host.instance.instance_id]


def wanted_name(host: Host, spec: InventorySpec, evaluate: Evaluate, controller: Collection[str]) -> WantedName:
    """The first hostnames preference whose value may name a host (`controller`: the names Ansible takes for the
    control node); else the instance ID (which matches its pattern)."""
    refusals: list[NameRefusal] = []
    variables: dict[str, object] | None = None
    for preference in spec.hostnames:
        value: object = field_value(host.instance, preference)
        if value is NotImplemented:
            variables = variables or host.variables(spec.hostvars_prefix)
            value = evaluate(preference, variables, host.instance.instance_id)
        if not value:
            continue
        problem = host_name_problem(str(value), controller)
        if problem is None:
            return WantedName(str(value), tuple(refusals))
        refusals.append(NameRefusal(host.instance.instance_id, preference, str(value), problem))
    return WantedName(host.instance.instance_id, tuple(refusals))


def name_hosts(hosts: Sequence[Host], spec: InventorySpec, evaluate: Evaluate,
               controller: Collection[str]) -> HostNames:
    """The names of `hosts`: each one's wanted name unless another instance wants it too (unique_names)."""
    wanted = [(host, wanted_name(host, spec, evaluate, controller)) for host in hosts]
    final, clashes = unique_names([(host.instance, choice.name) for host, choice in wanted])
    return HostNames(by_instance=final, refusals=tuple(r for _host, choice in wanted for r in choice.refusals),
                     clashes=tuple(clashes))
