# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The private key file of a host: the first private_key_paths template, for the first key pair bound to it, that
names a usable file (files.py judges it). A template sees the key pair (key_id, key_name: both of the service's
patterns), the host's variables and the inventory's directory; a value from the cloud that holds / or .. becomes
NOT_IN_A_PATH, so a path that uses one is refused: the cloud never chooses which directory a key is taken from. The
plugin renders templates (a RenderPath); nothing here knows Ansible."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
import os

from .._core.files import KeyFileError
from .files import LocalFileJudge
from .hosts import Host, path_safe_vars
from .spec import InventorySpec

# What a cloud value holding / or .. becomes in a private_key_paths template: no path can hold it.
NOT_IN_A_PATH = "\x00"
# The variables a template may use and still be host-independent (rendered once per key pair, not once per host).
HOST_INDEPENDENT_VARIABLES = frozenset(["key_name", "key_id", "inventory_dir", "inventory_file"])

# The plugin's rendering of a private_key_paths template with these variables (~ not yet expanded).
RenderPath = Callable[[str, Mapping[str, object]], str]


class KeyFileFinder:
    """Finds the key file of each host of one inventory run; keeps the files refused on the way (path, or template,
    -> why), for one warning at the end."""

    def __init__(self, spec: InventorySpec, files: LocalFileJudge, render: RenderPath,
                 host_independent: Collection[str]) -> None:
        """`host_independent`: the templates that use only HOST_INDEPENDENT_VARIABLES."""
        self._templates = spec.private_key_paths
        self._prefix = spec.hostvars_prefix
        self._files = files
        self._render = render
        self._host_independent = frozenset(host_independent)
        self._shared: dict[tuple[str, str], str] = {}  # (template, KeyId) -> what a host-independent one found
        self._refused: dict[str, str] = {}

    @property
    def refused(self) -> Mapping[str, str]:
        """The files refused so far (a path, or a template that used a value holding / or ..) -> why."""
        return dict(self._refused)

    def find(self, host: Host, hostvars: Mapping[str, object]) -> str | None:
        """The path of the first template, for the first bound key pair, that names a usable private key file; None
        if there is none. `hostvars`: the host's variables in the inventory (its own, inventory_dir, ...)."""
        path_vars: dict[str, object] | None = None  # hostvars with the cloud's values made path-safe, once a host
        for key_id in host.instance.key_ids:  # KeyIds of the service's pattern only (Instance.from_api)
            key_vars = {"key_id": key_id, "key_name": host.key_names.get(key_id) or key_id}
            for template in self._templates:
                if template in self._host_independent:
                    found = self._shared_candidate(template, key_id, dict(hostvars, **key_vars))
                else:
                    path_vars = path_vars or dict(hostvars, **path_safe_vars(host.variables(self._prefix),
                                                                             NOT_IN_A_PATH))
                    found = self._candidate(template, dict(path_vars, **key_vars))
                if found:
                    return found
        return None

    def _shared_candidate(self, template: str, key_id: str, variables: Mapping[str, object]) -> str:
        """_candidate of a host-independent template, rendered and judged once per key pair."""
        if (template, key_id) not in self._shared:
            self._shared[(template, key_id)] = self._candidate(template, variables)
        return self._shared[(template, key_id)]

    def _candidate(self, template: str, variables: Mapping[str, object]) -> str:
        """The path `template` renders to when a usable key file is there, else "" (a file that is there but refused
        is kept in `refused`)."""
        path = os.path.expanduser(self._render(template, variables))
        if NOT_IN_A_PATH in path:
            self._refused[template] = "it uses a value from the cloud that holds / or .."
            return ""
        try:
            return path if self._files.usable(path) else ""
        except KeyFileError as exc:
            self._refused[path] = str(exc)
            return ""


def host_independent(templates: Collection[str]) -> set[str]:
    """The templates that use nothing but key_name, key_id, inventory_dir and inventory_file: rendered and judged
    once per key pair, not once per host."""
    import jinja2  # ansible-core's own dependency; imported here, where the plugin needs it (not at import checks)
    import jinja2.meta

    independent = set()
    for template in templates:
        try:
            used = jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(template))
        except jinja2.TemplateSyntaxError:
            continue
        if used <= HOST_INDEPENDENT_VARIABLES:
            independent.add(template)
    return independent
