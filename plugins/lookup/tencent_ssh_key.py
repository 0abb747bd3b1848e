# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_ssh_key: the private key of a Secrets Manager SSH-key secret, as text or into the run's ssh-agent."""

from __future__ import annotations

DOCUMENTATION = r"""
name: tencent_ssh_key
short_description: The private key a Secrets Manager SSH-key secret holds, as text or into the run's ssh-agent
version_added: 0.3.0
description:
  - Reads the private key of a CVM key pair that Tencent Cloud Secrets Manager holds (an SSH-key secret, made by
    M(tencentcloud.cvm.tencent_keypair) with O(tencentcloud.cvm.tencent_keypair#module:private_key_secret)), through
    C(GetSSHKeyPairValue).
  - With O(deliver=text) it returns the key's text, in OpenSSH format by default (what ansible-core's
    C(ansible_ssh_private_key) takes), marked unsafe. Each evaluation reads the secret once.
  - With O(deliver=agent) the key goes into the ssh-agent of the run (ansible-core 2.19 or later with
    C(ANSIBLE_SSH_AGENT=auto) or a socket) with a lifetime, and the lookup returns the path of the key's B(public)
    half in the run's private temporary directory, for C(ansible_ssh_private_key_file); ssh then uses the agent's
    key. The private key is never written anywhere and is never the value of a variable. Each key is read at most
    once per run, whatever the number of hosts, tasks and forks (a lock per key, and the agent's own list).
  - The inventory plugin P(tencentcloud.cvm.tencent_cvm#inventory) with O(tencentcloud.cvm.tencent_cvm#inventory:private_key_source=secrets_manager)
    sets this up for every host; see the guide "Keys without files".
author:
  - Tencent Cloud CVM collection maintainers (@tencentcloud-cvm)
extends_documentation_fragment:
  - tencentcloud.cvm.tencentcloud
  - tencentcloud.cvm.tencentcloud.lookup
options:
  _terms:
    description: Names of SSH-key secrets. Leave empty when O(key_id) is given.
    type: list
    elements: str
  key_id:
    description: The ID of a key pair a secret holds (C(skey-...)), instead of a secret name.
    type: str
  deliver:
    description:
      - V(text) returns the private key's text; V(agent) adds it to the run's ssh-agent and returns the path of its
        public key file.
    type: str
    choices: [text, agent]
    default: text
  format:
    description:
      - The text's format with O(deliver=text). V(openssh) is the OpenSSH private key format (ansible-core's key
        contents need it); V(pem) is the PKCS#1 PEM that Tencent Cloud hands out.
    type: str
    choices: [openssh, pem]
    default: openssh
  agent_key_lifetime:
    description:
      - Seconds the agent keeps a key it is given with O(deliver=agent).
      - Defaults to ansible-core's C(SSH_AGENT_KEY_LIFETIME) (E(ANSIBLE_SSH_AGENT_KEY_LIFETIME)) when that is set,
        else 3600.
    type: int
seealso:
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_keys_without_files
    description: "Keys without files: when to use Secrets Manager, the run's ssh-agent, the threat model.
      The guide also ships in the collection, as C(docs/docsite/rst/guide_keys_without_files.rst)."
notes:
  - O(endpoint) is taken as the modules take it, and a C(cvm.<rest>) endpoint becomes C(ssm.<rest>) (the emulator's
    address serves every service as it is).
  - Needs C(ssm:GetSSHKeyPairValue) on the secrets; see the guide "Keys without files" for a CAM policy.
  - A secret that does not exist, or that is not an SSH-key secret, fails the task of the host whose connection
    needed it, with a message naming the host and the secret; other hosts go on.
"""

EXAMPLES = r"""
# Each host with the key its secret holds, through the run's ssh-agent (ANSIBLE_SSH_AGENT=auto). The inventory
# plugin tencent_cvm with private_key_source: secrets_manager sets this variable for every host by itself.
- name: Reach the host with the key that secret web-key holds
  ansible.builtin.ping:
  vars:
    ansible_ssh_private_key_file: "{{ lookup('tencentcloud.cvm.tencent_ssh_key', 'web-key', deliver='agent') }}"

# The key's text, for a tool that needs it: kept in memory for this play, never shown (no_log)
- name: Read the private key that secret deploy-key holds
  ansible.builtin.set_fact:
    deploy_key: "{{ lookup('tencentcloud.cvm.tencent_ssh_key', 'deploy-key', region='ap-guangzhou') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - With O(deliver=text), the private key text of each secret (unsafe); with O(deliver=agent), the path of each
      key's public key file in the run's temporary directory.
  type: list
  elements: str
"""

import os
from collections.abc import Callable

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.compat.version import LooseVersion
from ansible.plugins.lookup import LookupBase
from ansible.release import __version__ as core_version
from ansible.utils.unsafe_proxy import wrap_var
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import (
    CredentialsError, resolve_credentials, resolve_region,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError, TencentCloudAPIError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.files import KeyFileError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.agent import Agent, AgentError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import Secrets
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.delivery import Wanted, deliver, wanted
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.keys import KeyFormatError, LoadedKey
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._trust import masked

CLIENT_OPTIONS = ("secret_id", "secret_key", "security_token", "profile", "region", "endpoint", "allow_insecure_http",
                  "api_style", "validate_certs", "ca_path", "timeout", "retries", "retry_max_delay",
                  "throttle_timeout")
HAS_SSH_AGENT = LooseVersion(core_version) >= LooseVersion("2.19")  # SSH_AGENT and key contents came in 2.19
DEFAULT_LIFETIME = 3600
FAILURES = (CredentialsError, TaskError, TencentCloudAPIError, KeyFileError, KeyFormatError, AgentError, ValueError)


class LookupModule(LookupBase):

    def run(self, terms: list[object], variables: dict[str, object] | None = None, **kwargs: object) -> list[str]:
        self.set_options(var_options=variables, direct=kwargs)
        host = str((variables or {}).get("inventory_hostname") or "")
        args = {name: self.get_option(name) for name in CLIENT_OPTIONS}
        failure = Failure("tencent_ssh_key%s" % (": host %s" % host if host else ""),
                          {str(args[name]) for name in ("secret_key", "security_token") if args.get(name)})
        try:
            asked = self._asked(terms)
        except ValueError as exc:
            raise failure.of(exc) from None
        made: list[Client] = []

        def client() -> Client:  # one client, made only when a key is read (the agent may hold them all)
            if not made:
                made.append(Client(resolve_credentials(args, origin="lookup options"),
                                   Settings.from_args(args).in_region(resolve_region(args))))
                failure.secrets.update(v for v in (made[0].credentials.secret_key, made[0].credentials.token) if v)
            return made[0]

        found = []
        for which in asked:
            try:
                found.append(self._into_agent(which, client) if self.get_option("deliver") == "agent"
                             else self._text(which, client))
            except FAILURES as exc:
                raise failure.of(exc, which) from None
        return found

    def _asked(self, terms: list[object]) -> list[Wanted]:
        key_id = self.get_option("key_id")
        if key_id and terms:
            raise ValueError("give secret names or key_id, not both")
        asked = [wanted("", str(key_id))] if key_id else [wanted(str(term)) for term in terms]
        if not asked:
            raise ValueError("give a secret name, or key_id")
        return asked

    def _text(self, which: Wanted, client: Callable[[], Client]) -> str:
        value = Secrets(client()).value(name=which.secret, key_id=which.key_id)
        key = LoadedKey.from_pem(value.private_key)
        text: str = wrap_var(key.openssh() if self.get_option("format") == "openssh" else key.pem())
        return text

    def _into_agent(self, which: Wanted, client: Callable[[], Client]) -> str:
        if not HAS_SSH_AGENT:
            raise ValueError("deliver=agent needs ansible-core 2.19 or later (its SSH_AGENT setting); this is "
                             "ansible-core %s. Use deliver=text, or private_key_source: files" % core_version)
        socket_path = os.environ.get("ANSIBLE_SSH_AGENT", "")
        if not socket_path.startswith("/"):
            raise ValueError("deliver=agent needs the run's ssh-agent: set ANSIBLE_SSH_AGENT=auto (or "
                             "ssh_agent=auto in the [connection] section of ansible.cfg)")
        lifetime = self.get_option("agent_key_lifetime") or C.config.get_config_value("SSH_AGENT_KEY_LIFETIME") \
            or DEFAULT_LIFETIME
        delivered = deliver(which, str(getattr(C, "DEFAULT_LOCAL_TMP")), Agent(socket_path), int(lifetime),
                            lambda: Secrets(client()))
        return delivered.public_key_file


class Failure:
    """What a failed lookup says: where (the host whose template asked), which key, why, the code; with the
    credentials in use masked."""

    def __init__(self, where: str, secrets: set[str]) -> None:
        self.where, self.secrets = where, secrets

    def of(self, exc: Exception, which: Wanted | None = None) -> AnsibleError:
        kind = "InvalidArgument" if isinstance(exc, ValueError) else exc.__class__.__name__
        code = getattr(exc, "code", None) or kind
        said = str(exc) if code in str(exc) else "%s (%s)" % (exc, code)  # a TaskError's message ends with its code
        named = ": %s" % which if which is not None and str(which).split(" ", 1)[1] not in said else ""
        text = masked("%s%s: %s" % (self.where, named, said), self.secrets)
        # before 2.19 only an AnsibleLookupError is shown as it is (any other error becomes "An unhandled exception
        # occurred while running the lookup plugin ...", with the message twice); 2.19+ wrap every error alike
        return AnsibleError(text) if HAS_SSH_AGENT else AnsibleLookupError(text)
