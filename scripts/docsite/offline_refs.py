# SPDX-License-Identifier: GPL-3.0-or-later
"""Sphinx extension for building the collection's docs site without a network (scripts/docs.sh, the default).

antsibull-docs' pages link into Ansible's own documentation through intersphinx, which needs
docs.ansible.com's objects.inv; these machines cannot fetch it. Offline, intersphinx is left out and the few
targets the generated pages use (listed below, nothing else) become plain links to docs.ansible.com. Every other
unresolved reference stays a warning, and the build treats warnings as errors. DOCS_ONLINE=1 builds with
intersphinx instead."""

from docutils import nodes

ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
# label -> page, for the labels antsibull-docs' templates put on module, plugin and index pages
LABELS = {
    "action_plugins": "plugins/action.html",
    "common_return_values": "reference_appendices/common_return_values.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
}
ENVVARS = "reference_appendices/config.html#envvar-%s"  # ansible-core's configuration variables (ANSIBLE_*)


def external(app, _env, node, contnode):
    if node.get("refdomain") != "std":
        return None
    target = node.get("reftarget", "")
    if node.get("reftype") == "ref" and target in LABELS:
        url = ANSIBLE_DOCS + LABELS[target]
    elif node.get("reftype") == "envvar" and target.startswith("ANSIBLE_"):
        url = ANSIBLE_DOCS + ENVVARS % target
    else:
        return None
    app.env.offline_links = getattr(app.env, "offline_links", 0) + 1
    reference = nodes.reference("", "", internal=False, refuri=url, reftitle="Ansible documentation (offline build)")
    reference += contnode
    return reference


def report(app, exception):
    if exception is None:
        print("offline build: intersphinx left out; %d references into Ansible's documentation linked directly to "
              "%s" % (getattr(app.env, "offline_links", 0), ANSIBLE_DOCS))


def setup(app):
    app.connect("missing-reference", external)
    app.connect("build-finished", report)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
