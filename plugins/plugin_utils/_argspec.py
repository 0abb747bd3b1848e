# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument specs built from the modules' DOCUMENTATION: the docs are the single source of truth."""

from __future__ import annotations

import yaml

_Loader: type[yaml.CSafeLoader | yaml.SafeLoader]
try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

# An option of a DOCUMENTATION block, as YAML gives it (type, required, default, choices, aliases, elements,
# description, ...), and an argument_spec entry made of it.
Option = dict[str, object]

# Secrets are masked in logs and results; the docs cannot say no_log, so it is declared here once.
NO_LOG = frozenset(["secret_key", "security_token", "passphrase"])
# Options documented as octal strings that keep a YAML number as a number (the runner puts it back after Ansible
# converts it to text): unquoted 0400 is the number 256, and as the text '256' it would be another mode.
OCTAL_STRINGS = frozenset(["private_key_mode"])
_KEYS = ("type", "required", "default", "choices", "aliases", "elements")


_COLLECTION = "tencentcloud.cvm."


def _options(doc_yaml: str) -> dict[str, Option]:
    options = _doc(doc_yaml).get("options")
    return options if isinstance(options, dict) else {}


def _doc(doc_yaml: str) -> dict[str, object]:
    doc = yaml.load(doc_yaml, Loader=_Loader)
    return doc if isinstance(doc, dict) else {}


def _extended_fragments(module_doc: str) -> tuple[str, ...]:
    """The DOCUMENTATION of each of the collection's doc fragments the module extends, in order:
    tencentcloud.cvm.<file> is <file>'s ModuleDocFragment.DOCUMENTATION, tencentcloud.cvm.<file>.<section> its
    <SECTION> (as Ansible's fragment loader reads them). Fragments of other collections hold no options here."""
    import importlib

    names = _doc(module_doc).get("extends_documentation_fragment") or []
    docs: list[str] = []
    for name in [names] if isinstance(names, str) else names if isinstance(names, list) else []:
        if not name.startswith(_COLLECTION):
            continue
        file_name, _dot, section = name[len(_COLLECTION):].partition(".")
        fragment = importlib.import_module("ansible_collections.tencentcloud.cvm.plugins.doc_fragments." + file_name)
        docs.append(getattr(fragment.ModuleDocFragment, section.upper() or "DOCUMENTATION"))
    return tuple(docs)


def argument_spec_from_docs(module_doc: str, *fragment_docs: str) -> dict[str, Option]:
    """Merge the options of the module's DOCUMENTATION, the collection's doc fragments it extends and any
    `fragment_docs` given into an argument_spec."""
    merged: dict[str, Option] = {}
    for doc in fragment_docs + _extended_fragments(module_doc) + (module_doc,):
        merged.update(_options(doc))
    spec: dict[str, Option] = {}
    for name, option in merged.items():
        entry = {key: option[key] for key in _KEYS if key in option}
        entry.setdefault("type", "str")
        if name in NO_LOG:
            entry["no_log"] = True
        spec[name] = entry
    return spec
