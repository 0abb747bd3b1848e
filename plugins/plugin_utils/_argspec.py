# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument specs built from the modules' DOCUMENTATION: the docs are the single source of truth."""

from __future__ import annotations

import yaml

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

# Secrets are masked in logs and results; the docs cannot say no_log, so it is declared here once.
NO_LOG = frozenset(["secret_key", "security_token", "passphrase"])
_KEYS = ("type", "required", "default", "choices", "aliases", "elements")


def _options(doc_yaml):
    return (yaml.load(doc_yaml, Loader=_Loader) or {}).get("options") or {}


def argument_spec_from_docs(module_doc, *fragment_docs):
    """Merge the options of the module's DOCUMENTATION and its doc fragments into an argument_spec."""
    merged = {}
    for doc in fragment_docs + (module_doc,):
        merged.update(_options(doc))
    spec = {}
    for name, option in merged.items():
        entry = {key: option[key] for key in _KEYS if key in option}
        entry.setdefault("type", "str")
        if name in NO_LOG:
            entry["no_log"] = True
        spec[name] = entry
    return spec
