#!/usr/bin/python
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This file holds documentation only: the work is done on the control node by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
module: tencent_keypair
short_description: Manage Tencent Cloud CVM SSH key pairs and keep their private keys on the control node
version_added: 0.1.0
description:
  - Ensures that a CVM SSH key pair exists (or not) in a Tencent Cloud region.
  - When Tencent Cloud generates the key pair, its private key is returned exactly once; this module writes it
    atomically to O(private_key_path) on the control node (mode O(private_key_mode)), with the public key beside
    it in C(<private_key_path>.pub). If the file cannot be written, the new key pair is deleted again.
  - An existing key pair with the same name is never re-created by default. The task is C(ok) and reports whether
    the local private key matches it (RV(private_key_matches)).
  - On an existing key pair every option takes effect too (file mode, encryption, C(.pub) file, description,
    tags, project and key through O(regenerate)).
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
      - V(present) ensures the key pair exists; V(absent) deletes it by exact name. Local files are never
        removed by V(absent).
    type: str
    choices: [present, absent]
    default: present
  project_id:
    description:
      - ID of the project of the key pair. V(0) is the default project.
      - When omitted, a new key pair goes to project V(0), and an existing key pair is accepted in any project.
      - When given and an existing key pair is in another project, that is a mismatch handled by O(regenerate)
        (Tencent Cloud cannot move a key pair to another project; only a replacement can).
    type: int
  public_key:
    description:
      - Import this OpenSSH RSA public key (C(ssh-rsa AAAA... comment), at least 2048 bits) instead of letting
        Tencent Cloud generate a key pair.
      - Cannot be combined with O(private_key_path), O(passphrase) or O(return_private_key).
    type: str
  private_key_path:
    description:
      - Where the generated private key is written on the control node. The public key goes to
        C(<private_key_path>.pub) (mode C(0644)); it is restored from the private key when missing or different.
      - With O(state=absent) the files are neither read nor removed; the paths are only returned.
      - Checked before any API call. The directory must exist; the path must not be a directory, a dangling
        symbolic link or a link to a file owned by someone else. An existing file there must hold the private key
        of the existing key pair, unless O(backup=true) or O(regenerate) allows replacing it.
      - Before a key pair is created, the files its private key and public key go into are reserved in the
        directory (created, space allocated, beside a record C(.<file>.reservation) of the creation), so that a
        destination that cannot be written fails the task before any API write.
      - Required when the key pair is generated, unless O(return_private_key=true).
      - During a replacement the new private key waits in C(<private_key_path>.new) until the new key pair has
        taken over the name.
    type: path
  private_key_mode:
    description:
      - File mode of the private key, an octal string. Group and others get no access (ssh refuses such keys).
      - Quote it in YAML, as in V('0400'). Unquoted, C(0400) is read as the number 256, and the task fails saying so.
      - Enforced on an existing key file too (the task reports C(changed)).
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
      - Write the private key file encrypted with this passphrase, at least 8 characters. The file is PKCS#8 PEM
        (PBES2 with PBKDF2-HMAC-SHA256 at 600,000 iterations and AES-256-CBC), which C(ssh) and C(ssh-keygen) read.
        Also used to read an existing encrypted key file.
      - An existing unencrypted key file is encrypted with it, and so is one encrypted more weakly (PBKDF2 with
        fewer iterations, as version 0.1.0 wrote them, or OpenSSL's traditional PEM encryption). The task reports
        C(changed); with O(backup=true) the old copy is kept, which you may not want.
      - A key file encrypted with another passphrase cannot be read, and the task fails.
    type: str
  regenerate:
    description:
      - What to do when the key pair exists but differs from what the task asks for, that is when the local
        private key (or O(public_key)) does not match it, the private key file is missing, or O(project_id) is
        given and differs.
      - V(never) keeps the key pair and warns (Tencent Cloud cannot return its private key again).
      - V(fail) fails the task.
      - V(mismatch) replaces the key pair only when it differs.
      - V(always) replaces the key pair on every run.
      - A replacement is make-before-break. The new key pair is created under a temporary name and its private
        key written to C(<private_key_path>.new); then the old key pair is deleted, the new one renamed, and
        the key moved into place. If the creation fails, the old key pair and its file are untouched; if a later
        step fails, the task fails with C(changed=true), names every key pair created, deleted or renamed, and
        the next run finishes the replacement. One exception is an import (O(public_key)) whose public key does not
        change. Tencent Cloud refuses a second key pair with the same public key, so the old key pair is deleted
        first (its private key is yours and stays with you).
      - A replacement keeps the old key pair's project, description and tags unless O(project_id),
        O(description) or O(tags) say otherwise.
      - A key pair bound to instances is never deleted implicitly; the task fails with their IDs.
    type: str
    choices: [never, fail, mismatch, always]
    default: never
  description:
    description:
      - Description of the key pair, at most 60 characters, set with C(ModifyKeyPairAttribute) when it differs,
        on an existing key pair too. When omitted, the description is left as it is.
      - An empty string clears it. Whether Tencent Cloud accepts an empty description is not documented; if it
        refuses, the task fails saying that the description cannot be removed through the API.
    type: str
  tags:
    description:
      - Tags of the key pair, a dictionary of strings. When omitted, the tags are left as they are.
      - A new key pair is created with them. On an existing key pair they are changed through the Tag API
        (C(ModifyResourceTags), service C(tag)), reported as C(changed) and shown in the diff.
      - "Checked before any API call, by Tencent Cloud's rules. At most 50 tags; a key of 1 to 127 and a value of
        1 to 255 characters (an empty value is refused), made of letters, digits, spaces and C(+ - = . _ : / @ ( )
        [ ] , ; > <), neither starting nor ending with a space; keys starting with C(qcs:), C(qcloud),
        C(tencent), C(project) or C(项目) are reserved."
    type: dict
  purge_tags:
    description:
      - With O(tags), remove the tags of the key pair that O(tags) does not list. V(false) only adds and
        changes tags. Ignored when O(tags) is omitted.
    type: bool
    default: true
    version_added: 0.2.0
  tag_endpoint:
    description:
      - Endpoint of the Tag API, used only to change the tags of an existing key pair.
      - Defaults to E(TENCENTCLOUD_TAG_ENDPOINT); else, when O(endpoint) (or E(TENCENTCLOUD_ENDPOINT)) is given,
        the same host with C(cvm.) replaced by C(tag.) (C(cvm.intl.tencentcloudapi.com) gives
        C(tag.intl.tencentcloudapi.com)), or the very same endpoint when it does not start with C(cvm.) (the
        bundled emulator serves both); else C(tag.tencentcloudapi.com).
      - An C(http://) tag endpoint on another machine is refused like O(endpoint), unless
        O(allow_insecure_http=true).
    type: str
    version_added: 0.2.0
  wait_timeout:
    description:
      - With O(state=absent), how many seconds to wait for the key pair's bindings to instances that are being
        terminated to clear. Tencent Cloud keeps such bindings for a while after the instances are gone, and
        refuses the deletion until then (C(InvalidParameterValue.KeyPairNotSupported)).
      - A key pair bound to an instance that is not being terminated fails the task at once, naming it.
    type: int
    default: 300
    version_added: 0.2.0
  backup:
    description:
      - Keep a timestamped copy (C(<path>.<pid>.<date>@<time>~)) of a private key file before it is replaced or
        re-encrypted.
    type: bool
    default: false
  return_private_key:
    description:
      - "Also return a private key generated by this task in RV(private_key). Off by default so that it does not
        reach logs or callbacks; set C(no_log: true) on the task when you turn it on."
      - Only a key pair generated by this task has a private key to return. For a key pair that already exists,
        RV(private_key) is not returned (Tencent Cloud keeps no private key).
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
    details: The diff shows the key pair and, with O(private_key_path), the mode, encryption and C(.pub) file.
  idempotent:
    support: partial
    details: With O(regenerate=always) every run replaces the key pair.
  safe_file_operations:
    description: Uses Ansible's strict file operation functions to ensure proper permissions and avoid data
      corruption.
    support: partial
    details:
      - Key files are written with this collection's own atomic write, not Ansible's C(atomic_move). A temporary
        file is created with C(O_EXCL) and mode C(0600) in the same directory, written, synced, renamed into
        place, and the directory synced.
      - SELinux contexts are not copied and there is no C(unsafe_writes) fallback.
notes:
  - The guides linked below also ship in the collection, under C(docs/docsite/rst/).
  - B(Lost answers.) C(CreateKeyPair) and C(ImportKeyPair) are never retried blindly. When one gets no answer
    (timeout, reset connection, HTTP 5xx, unreadable body), the module looks the name up. A generated key pair
    that now exists, matches no local key and is bound to nothing is one whose private key was lost in transit, so
    it is deleted and created once more, with a warning. No key pair is left whose private key nobody holds.
  - B(Interrupts.) From sending C(CreateKeyPair) until the private key is on disk, SIGINT and SIGTERM (Ctrl-C, a
    cancelled job) wait; the play stops right after. After a hard kill, the next run finds the reservation record,
    and moves a written key into place or deletes the key pair whose key was lost (with a warning) and creates it
    again.
  - B(Concurrency.) Tasks writing key files into the same directory (for example several hosts with the same
    O(private_key_path)) take a lock on that directory, so that exactly one of them creates the key pair.
  - B(API calls.) A converged run makes one call (C(DescribeKeyPairs)); a creation two, plus one to set
    O(description); a replacement four (describe, create, delete, rename with the description); a change of
    tags one C(ModifyResourceTags) per 10 tags added and 10 removed.
  - "Every failure is returned in RV(failure) with a non-empty C(code). A failure that Tencent Cloud answered reads
    C(<what failed>: <why> (<Code>, RequestId <id>)), with the API's code and RequestId. A failure found on the
    control node (bad input, a key file, credentials, a connection that failed or timed out, O(wait_timeout)) has
    no RequestId: its RV(failure.code) is one of the collection's own codes, listed in the troubleshooting guide.
    A failure after something was changed reports C(changed=true) and says what was changed."
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
      R(tencentcloud.cvm.keypair,ansible_collections.tencentcloud.cvm.keypair_role) (this module, and the key pair's
      ID as a fact) and the verified rotation of
      R(tencentcloud.cvm.keypair_rotation,ansible_collections.tencentcloud.cvm.keypair_rotation_role).
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

- name: Use the key pair ID in the next task
  ansible.builtin.debug:
    msg: "Key pair {{ deploy_key.key_pair.key_id }} ({{ deploy_key.key_pair.fingerprint }})"

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
      (C(key_id), C(public_key), C(fingerprint), C(created_time)) is V(null).
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
    - Absolute path of the private key file on the control node.
    - With O(state=absent) the file is left where it is; the path is returned so that a later task can remove it.
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
      another key or is missing although the key pair exists, V(null) when there is no file to compare
      (O(public_key), or O(return_private_key) without O(private_key_path)).
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
    - The private key generated by this task (PKCS#1 PEM). V(null) in check mode.
    - Also returned by a failed task when the new key pair's private key exists nowhere else (a replacement
      without O(private_key_path) whose rename failed).
  returned: when O(return_private_key=true) and this task generated a key pair
  type: str
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
