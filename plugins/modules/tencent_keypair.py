#!/usr/bin/python
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This file holds documentation only: the work is done on the control node by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
module: tencent_keypair
short_description: Manage Tencent Cloud CVM SSH key pairs, their private keys on the control node or in Secrets Manager
version_added: 0.1.0
description:
  - Ensures that a CVM SSH key pair exists (or not) in a Tencent Cloud region.
  - When Tencent Cloud generates the key pair, its private key is returned exactly once; this module writes it
    atomically to O(private_key_path) on the control node (mode O(private_key_mode)), with the public key beside
    it in C(<private_key_path>.pub). If the file cannot be written, the new key pair is deleted again. With
    O(private_key_secret) Tencent Cloud keeps it in a Secrets Manager secret instead, and it never reaches Ansible.
  - An existing key pair with the same name is never re-created by default. The task is C(ok), and every option
    takes effect on it too (file mode, encryption, C(.pub) file, description, tags, project and key through
    O(regenerate)); RV(private_key_matches) says whether the local private key is its.
  - Runs entirely on the control node; the private key never leaves the Ansible controller process.
author:
  - Tencent Cloud CVM collection maintainers (@tencentcloud-cvm)
options:
  name:
    description:
      - Name of the key pair, unique in its region. 1 to 25 letters, digits or underscores.
    type: str
    required: true
  state:
    description:
      - V(present) ensures the key pair exists; V(absent) deletes it by exact name (local files are never removed).
    type: str
    choices: [present, absent]
    default: present
  project_id:
    description:
      - ID of the project of the key pair. When omitted, a new key pair goes to project V(0) (the default project),
        and an existing key pair is accepted in any project.
      - When given and an existing key pair is in another project, that is a mismatch handled by O(regenerate)
        (Tencent Cloud cannot move a key pair to another project; only a replacement can).
    type: int
  public_key:
    description:
      - Import this OpenSSH RSA public key (C(ssh-rsa AAAA... comment), at least 2048 bits) instead of letting
        Tencent Cloud generate a key pair. Not with O(private_key_path), O(passphrase) or O(return_private_key).
    type: str
  private_key_secret:
    description:
      - Keep the private key in this Secrets Manager secret (1 to 128 letters, digits, C(-) or C(_), the first a letter
        or digit), never on the control node. A missing key pair is made by C(CreateSSHKeyPairSecret), which keeps its
        private key KMS-encrypted in the secret. Read it with the lookup P(tencentcloud.cvm.tencent_ssh_key#lookup).
      - C(ok) when the secret holds the key pair O(name). Tencent Cloud cannot put an existing key pair into a
        secret, so a key pair O(name) without this secret, a secret holding another key pair or one whose key pair is
        gone fail the task, changing nothing (the role keypair_rotation moves instances to a new key pair).
      - O(state=absent) disables the secret and deletes it with its key pair (C(CleanSSHKey)), failing first if the
        key pair is bound to instances; without the secret, it deletes the key pair O(name) as usual.
      - Not with O(private_key_path), O(public_key), O(passphrase), O(return_private_key), O(backup), O(regenerate)
        V(mismatch) or V(always).
    type: str
    version_added: 0.3.0
  kms_key_id:
    description:
      - The KMS key that encrypts a secret O(private_key_secret) creates (default Secrets Manager's own); on an existing
        secret encrypted with another key, a difference that O(regenerate) handles (V(never) warns).
    type: str
    version_added: 0.3.0
  private_key_path:
    description:
      - Where the generated private key is written on the control node (required for a generated key pair, unless
        O(return_private_key=true) or O(private_key_secret)). The public key goes to C(<private_key_path>.pub)
        (mode C(0644)); it is restored from the private key when missing or different. With O(state=absent) the
        files are neither read nor removed; the paths are only returned.
      - Checked before any API call. The directory must exist; the path must not be a directory, a dangling symbolic
        link or a link to a file owned by someone else. An existing file there must hold the private key of the
        existing key pair, unless O(backup=true) or O(regenerate) allows replacing it. The key's files are reserved
        (with a record C(.<file>.reservation)) before the key pair is created, so that a destination that cannot be
        written fails the task before any API write; a replacement's new key waits in C(<private_key_path>.new).
    type: path
  private_key_mode:
    description:
      - File mode of the private key, an octal string, enforced on an existing key file too. Group and others get no
        access (ssh refuses such keys). Quote it in YAML, as in V('0400'); unquoted, C(0400) is the number 256, refused.
    type: str
    default: '0600'
  public_key_comment:
    description:
      - The comment in C(<private_key_path>.pub) (C(ssh-keygen -C)); default the key pair's name. Printable, at most 255
        characters. Given, it is enforced on an existing C(.pub) file too; not given, an existing comment stays.
    type: str
    version_added: 0.3.0
  passphrase:
    description:
      - Write the private key file encrypted with this passphrase (at least 8 characters; also used to read an
        existing one), as PKCS#8 PEM (PBES2, PBKDF2-HMAC-SHA256 at 600,000 iterations, AES-256-CBC), as ssh reads it.
      - An existing unencrypted key file is encrypted with it, and so is one encrypted more weakly (PBKDF2 with
        fewer iterations, as version 0.1.0 wrote them, or OpenSSL's traditional PEM encryption), reported as
        C(changed) (O(backup=true) keeps the old copy). A file encrypted with another passphrase fails the task.
    type: str
  regenerate:
    description:
      - What to do when the key pair exists but differs from what the task asks for, that is when the local
        private key (or O(public_key)) does not match it, the private key file is missing, or O(project_id) (or
        O(kms_key_id)) is given and differs. V(never) keeps the key pair and warns (Tencent Cloud cannot return its
        private key again); V(fail) fails the task; V(mismatch) replaces the key pair when it differs; V(always)
        replaces it on every run.
      - A replacement is make-before-break (the new key pair is created under a temporary name, then the old one
        deleted and the new one renamed; the next run finishes an interrupted one), except an import of the same
        public key, whose old key pair goes first
        (R(the steps,ansible_collections.tencentcloud.cvm.docsite.guide_existing_key_pairs)).
      - A replacement keeps the old key pair's project, description and tags unless the task gives them. A key pair
        bound to instances is never deleted implicitly; the task fails with their IDs.
    type: str
    choices: [never, fail, mismatch, always]
    default: never
  description:
    description:
      - Description of the key pair, at most 60 characters, set with C(ModifyKeyPairAttribute) when it differs, on an
        existing key pair too; when omitted, left as it is. An empty string clears it (whether Tencent Cloud accepts
        that is not documented; if it refuses, the task fails saying so). A new O(private_key_secret) gets it too.
    type: str
  tags:
    description:
      - Tags of the key pair, a dictionary of strings. When omitted, the tags are left as they are. A new key pair
        is created with them (and a new O(private_key_secret) too); on an existing key pair they are changed through
        the Tag API (C(ModifyResourceTags), service C(tag)), reported as C(changed) and shown in the diff.
      - "Checked before any API call, by Tencent Cloud's rules. At most 50 tags; a key of 1 to 127 and a value of 1 to 255
        characters (an empty value is refused), made of letters, digits, spaces and C(+ - = . _ : / @ ( ) [ ] , ; > <),
        neither starting nor ending with a space; keys starting with C(qcs:), C(qcloud), C(tencent), C(project) or
        C(项目) are reserved."
    type: dict
  purge_tags:
    description:
      - With O(tags), remove the tags of the key pair that O(tags) does not list (V(false) only adds and changes).
    type: bool
    default: true
    version_added: 0.2.0
  tag_endpoint:
    description:
      - Endpoint of the Tag API, used only to change the tags of an existing key pair.
      - Defaults to E(TENCENTCLOUD_TAG_ENDPOINT); else, when O(endpoint) (or E(TENCENTCLOUD_ENDPOINT)) is given,
        the same host with C(cvm.) replaced by C(tag.), or the very same endpoint when it does not start with
        C(cvm.) (the bundled emulator serves both); else C(tag.tencentcloudapi.com). An C(http://) tag endpoint on
        another machine is refused like O(endpoint), unless O(allow_insecure_http=true).
    type: str
    version_added: 0.2.0
  wait_timeout:
    description:
      - With O(state=absent), how many seconds to wait for the bindings to instances that are being terminated to
        clear (Tencent Cloud refuses the deletion until then, C(InvalidParameterValue.KeyPairNotSupported)). A key
        pair bound to an instance that is not being terminated fails the task at once, naming it.
    type: int
    default: 300
    version_added: 0.2.0
  backup:
    description: Keep a timestamped copy (C(<path>.<pid>.<date>@<time>~)) of a key file it replaces or re-encrypts.
    type: bool
    default: false
  return_private_key:
    description:
      - "Also return a private key generated by this task in RV(private_key) (a key pair that already exists has
        none to return). Off by default so that it does not reach logs or callbacks; set C(no_log: true) on the task."
    type: bool
    default: false
extends_documentation_fragment:
  - tencentcloud.cvm.tencentcloud
  - tencentcloud.cvm.tencentcloud.key_pairs
  - tencentcloud.cvm.attributes
requirements:
  - cryptography (on the control node; ansible-core already depends on it)
attributes:
  diff_mode:
    support: full
    details: The diff shows the key pair and, with O(private_key_path), the mode, encryption and C(.pub) file; with
      O(private_key_secret), the secret's name.
  idempotent:
    support: partial
    details: With O(regenerate=always) every run replaces the key pair.
  safe_file_operations:
    description: Uses Ansible's strict file operation functions to ensure proper permissions and avoid data corruption.
    support: partial
    details: Key files are written with the collection's own atomic write (C(O_EXCL), mode C(0600), synced, renamed
      into place, the directory synced), not C(atomic_move); SELinux contexts are not copied, no C(unsafe_writes).
notes:
  - The guides linked below also ship in the collection, under C(docs/docsite/rst/).
  - B(Lost answers, interrupts, concurrency.) A creation is never repeated blindly, SIGINT and SIGTERM wait while
    a key is on its way to disk, forks share a directory's lock; R(how,ansible_collections.tencentcloud.cvm.docsite.guide_private_keys).
  - B(API calls.) Converged one (C(DescribeKeyPairs)), a creation two (plus one to set O(description)), a replacement
    four (describe, create, delete, rename), a change of tags one C(ModifyResourceTags) per 10 added and 10 removed.
    With O(private_key_secret), converged two (and C(DescribeSecret)), a creation three (C(CreateSSHKeyPairSecret))
    plus one each for O(description) and O(tags), O(state=absent) four (C(DisableSecret), C(DeleteSecret)).
  - "Every failure is returned in RV(failure) with a non-empty C(code). A failure that Tencent Cloud answered reads
    C(<what failed>: <why> (<Code>, RequestId <id>)). A failure found on the control node (bad input, a key file,
    credentials, a connection that failed or timed out, O(wait_timeout)) has no RequestId and one of the
    collection's own codes (troubleshooting guide). One after something was changed has C(changed=true) and says what."
seealso:
  - module: tencentcloud.cvm.tencent_keypair_info
  - module: tencentcloud.cvm.tencent_instance_keypairs
  - plugin: tencentcloud.cvm.tencent_cvm
    plugin_type: inventory
    description: The instances as an inventory, each with the private key this module wrote for its key pair.
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_private_keys
    description: "Private keys and O(regenerate): where the key lives, encryption, replacements."
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_existing_key_pairs
    description: What each option does to a key pair that already exists.
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_credentials
    description: "Credentials and regions: every place the modules look, in order."
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_troubleshooting
    description: Every error code, what it means and what to do.
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_provisioning
    description: From the key pair to instances, with the role
      R(tencentcloud.cvm.keypair,ansible_collections.tencentcloud.cvm.keypair_role) and the verified rotation of
      R(tencentcloud.cvm.keypair_rotation,ansible_collections.tencentcloud.cvm.keypair_rotation_role).
  - plugin: tencentcloud.cvm.tencent_ssh_key
    plugin_type: lookup
    description: The private key a secret of O(private_key_secret) holds, as text or into the run's ssh-agent.
  - name: CreateKeyPair API
    description: Tencent Cloud API documentation of CreateKeyPair.
    link: https://www.tencentcloud.com/document/api/213/33231
"""

EXAMPLES = r"""
- name: Ensure a key pair exists and its private key is on the control node
  tencentcloud.cvm.tencent_keypair:
    name: deploy_key
    region: ap-guangzhou
    private_key_path: "{{ playbook_dir }}/deploy_key"
  register: deploy_key

- name: Encrypt the private key file, describe and tag the key pair
  tencentcloud.cvm.tencent_keypair:
    name: ci_key
    region: ap-guangzhou
    private_key_path: "{{ playbook_dir }}/ci_key"
    passphrase: "{{ ci_key_passphrase }}"
    description: Key for CI runners
    tags:
      team: platform

- name: Replace the key pair when the local private key is missing or different
  tencentcloud.cvm.tencent_keypair:
    name: deploy_key
    region: ap-guangzhou
    private_key_path: "{{ playbook_dir }}/deploy_key"
    regenerate: mismatch
    backup: true

- name: Make a key pair locally (the private key never leaves this machine)
  ansible.builtin.command:
    cmd: ssh-keygen -q -t rsa -b 3072 -N '' -C laptop_key -f {{ playbook_dir }}/laptop_key
    creates: "{{ playbook_dir }}/laptop_key"

- name: Import its public key
  tencentcloud.cvm.tencent_keypair:
    name: laptop_key
    region: ap-guangzhou
    public_key: "{{ lookup('ansible.builtin.file', playbook_dir + '/laptop_key.pub') }}"
    regenerate: mismatch

- name: Generate a key pair and keep its private key only in a variable (for example to put it in a vault)
  tencentcloud.cvm.tencent_keypair:
    name: vaulted_key
    region: ap-guangzhou
    return_private_key: true
  no_log: true
  register: vaulted_key

- name: Create a key pair whose private key only Secrets Manager holds
  tencentcloud.cvm.tencent_keypair:
    name: web_2027
    region: ap-guangzhou
    private_key_secret: web-2027

- name: Bind it to a stopped instance; the lookup tencentcloud.cvm.tencent_ssh_key reads its key for ssh
  tencentcloud.cvm.tencent_instance_keypairs:
    instance_ids: [ins-web00001]
    key_pairs: [web_2027]
    region: ap-guangzhou

- name: Delete a key pair (local files stay)
  tencentcloud.cvm.tencent_keypair:
    name: ci_key
    region: ap-guangzhou
    state: absent
"""

RETURN = r"""
key_pair:
  description:
    - The key pair as Tencent Cloud describes it (after the task). Never contains the private key.
    - In check mode, the key pair the task would leave; what is not known before the key pair is created
      (C(key_id), C(public_key), C(fingerprint), C(created_time)) is V(null), and so are the last three right after
      a creation into O(private_key_secret) (C(CreateSSHKeyPairSecret) does not answer them; the next run shows them).
  returned: when O(state=present) and the task succeeded, also when unchanged
  type: dict
  contains:
    key_id:
      description: ID of the key pair.
      type: str
      sample: skey-mv9yzyjj
    key_name:
      description: Name of the key pair.
      type: str
      sample: deploy_key
    project_id:
      description: Project ID.
      type: int
      sample: 0
    public_key:
      description: OpenSSH public key as Tencent Cloud stores it.
      type: str
      sample: ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ... skey-mv9yzyjj
    fingerprint:
      description: SHA256 fingerprint of the public key, as C(ssh-keygen -lf) prints it.
      type: str
      sample: SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU
    description:
      description: Description of the key pair.
      type: str
      sample: Key for CI runners
    associated_instance_ids:
      description: IDs of the instances the key pair is bound to.
      type: list
      elements: str
      sample: []
    created_time:
      description: Creation time, ISO 8601 UTC.
      type: str
      sample: "2026-11-28T12:00:00Z"
    tags:
      description: Tags of the key pair.
      type: dict
      sample: {team: platform}
private_key_path:
  description:
    - Absolute path of the private key file on the control node. With O(state=absent) the file is left where it
      is; the path is returned so that a later task can remove it.
  returned: when O(private_key_path) is given and the task succeeded, with O(state=absent) too
  type: str
  sample: /home/user/deploy/deploy_key
public_key_path:
  description: Path of the public key file beside the private key.
  returned: when O(private_key_path) is given and the task succeeded, with O(state=absent) too
  type: str
  sample: /home/user/deploy/deploy_key.pub
private_key_matches:
  description:
    - V(true) when the private key file holds the key of the key pair (after the task), V(false) when it holds
      another key or is missing although the key pair exists, V(null) when there is no file (no O(private_key_path)).
  returned: when O(state=present) and the task succeeded
  type: bool
  sample: true
backup_file:
  description: The copy of the private key file that was replaced or re-encrypted. V(null) in check mode.
  returned: when O(backup=true) and a private key file was (or, in check mode, would be) replaced
  type: str
  sample: /home/user/deploy/deploy_key.4242.2026-11-28@12:00:00~
private_key:
  description:
    - The private key generated by this task (PKCS#1 PEM). V(null) in check mode. Also returned by a failed task
      when the new key exists nowhere else (a replacement without O(private_key_path) whose rename failed).
  returned: when O(return_private_key=true) and this task generated a key pair
  type: str
private_key_secret:
  description: The name of the secret that holds (or, with O(state=absent), held) the private key.
  returned: when O(private_key_secret) is given and the task succeeded
  type: str
  sample: web-2027
request_ids:
  description:
    - The RequestId of every API call of the task, in order. Give them to Tencent Cloud support.
    - Empty when the task failed before any call (bad options, no credentials, an unusable destination).
  returned: always
  type: list
  elements: str
  sample: [6EF60BEC-0242-43AF-BB20-270359FB54A7]
failure:
  description: The error behind a failed task.
  returned: on failure
  type: dict
  contains:
    code:
      description:
        - The Tencent Cloud error code (for example C(InvalidKeyPair.LimitExceeded)), or one of the client-side
          codes of the collection's
          R(troubleshooting guide,ansible_collections.tencentcloud.cvm.docsite.guide_troubleshooting) (for example
          C(InvalidArgument)). Never empty.
      type: str
      sample: InvalidKeyPair.LimitExceeded
    message:
      description: The message that came with it.
      type: str
    request_id:
      description: The RequestId of the failed call, when the API answered; V(null) otherwise.
      type: str
      sample: 6EF60BEC-0242-43AF-BB20-270359FB54A7
"""
