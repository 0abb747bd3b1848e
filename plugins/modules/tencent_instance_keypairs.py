#!/usr/bin/python
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This file holds documentation only: the work is done on the control node by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
module: tencent_instance_keypairs
short_description: Bind and unbind Tencent Cloud CVM key pairs on instances
version_added: 0.2.0
description:
  - Ensures that key pairs are bound to (O(state=present)) or unbound from (O(state=absent)) CVM instances, with
    C(AssociateInstancesKeyPairs) and C(DisassociateInstancesKeyPairs).
  - Binding adds to the key pairs an instance already has; O(exclusive=true) also unbinds every other one. New key
    pairs are always bound before others are unbound, so that an instance never goes without the key pairs it
    keeps.
  - Tencent Cloud changes key pairs only on STOPPED Linux instances. A RUNNING instance fails the task before any
    change, naming it, unless O(force_stop=true); Tencent Cloud then powers it off, changes the key pairs and
    starts it again.
  - The operations are asynchronous; with O(wait=true) the task waits until every instance is done (RUNNING or
    STOPPED again, the operation no longer in progress). An instance that is busy with another operation when
    the task starts is waited for first, within O(wait_timeout).
  - Runs entirely on the control node.
author:
  - Tencent Cloud CVM collection maintainers (@tencentcloud-cvm)
options:
  instance_ids:
    description:
      - IDs of the instances (C(ins-xxxxxxxx)), in the region of the task. Must not be empty.
      - Every instance must exist and run Linux; the task fails before any change otherwise.
    type: list
    elements: str
    required: true
  key_pairs:
    description:
      - The key pairs, by name or by ID (C(skey-xxxxxxxx)). Must not be empty.
      - With O(state=present) every key pair must exist. With O(state=absent) a key pair that does not exist is
        bound to nothing, so there is nothing to unbind.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) binds the key pairs to every instance; V(absent) unbinds them.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), also unbind every key pair not in O(key_pairs), after the new ones are bound.
    type: bool
    default: false
  force_stop:
    description:
      - Let Tencent Cloud force RUNNING instances off to change their key pairs, and start them again afterwards.
        A forced power-off is like pulling the plug; unsaved data can be lost.
      - Without it, a RUNNING instance whose key pairs must change fails the task before anything is changed.
        STOPPED instances are never started.
      - Binding and unbinding are separate operations, so O(exclusive=true) can restart an instance twice.
    type: bool
    default: false
  wait:
    description:
      - Wait for the operations to finish before the task returns.
      - With V(false) the task returns once the last call was accepted. When it has to unbind after binding
        (O(exclusive=true)) it still waits between the two, since Tencent Cloud refuses a second operation on an
        instance while the first is in progress.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait, in all, for instances that are busy when the task starts and for this task's operations.
        A forced stop and start takes from tens of seconds to a few minutes.
    type: int
    default: 600
extends_documentation_fragment:
  - tencentcloud.cvm.tencentcloud
  - tencentcloud.cvm.tencentcloud.instances
  - tencentcloud.cvm.attributes
attributes:
  diff_mode:
    support: full
    details: The diff shows the KeyIds bound to each instance, before and after.
notes:
  - B(What binding does on the instance.) Tencent Cloud's agent in the image (cloud-init) writes the public keys of
    the bound key pairs into the login user's C(~/.ssh/authorized_keys) when the instance boots. An image without
    it never sees the change. When the last key pair is unbound, password login comes back if the instance has a
    password; the task warns when it leaves an instance with no key pair.
  - B(API calls.) A converged run reads only, C(DescribeInstances) (one per 100 instances) and, for key pairs given
    by name or not bound yet, C(DescribeKeyPairs). Changes are one call per group of instances that need the same
    key pairs, then C(DescribeInstances) about every 0.25 to 3 seconds while waiting.
  - B(Interrupted runs.) An operation that was sent goes on without the task. The next run waits for it (an
    instance with an operation in progress is waited for first) and finishes what is left.
  - "Every failure is returned in RV(failure) with a non-empty C(code). A failure that Tencent Cloud answered reads
    C(<what failed>: <why> (<Code>, RequestId <id>)), with the API's code and RequestId. A failure found on the
    control node (bad input, a key file, credentials, a connection that failed or timed out, O(wait_timeout)) has
    no RequestId: its RV(failure.code) is one of the collection's own codes, listed in the troubleshooting guide.
    A failure after something was sent reports C(changed=true) and lists what was sent."
seealso:
  - module: tencentcloud.cvm.tencent_keypair
  - module: tencentcloud.cvm.tencent_keypair_info
  - plugin: tencentcloud.cvm.tencent_cvm
    plugin_type: inventory
    description: The instances as an inventory, each with the private key of a key pair bound to it.
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_instance_key_pairs
    description: What Tencent Cloud does when key pairs are bound and unbound, with sources.
      The guide also ships in the collection, as C(docs/docsite/rst/guide_instance_key_pairs.rst).
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_provisioning
    description: From key pair to instances, and the rotation with the role
      R(tencentcloud.cvm.keypair_rotation,ansible_collections.tencentcloud.cvm.keypair_rotation_role).
      The guide also ships in the collection, as C(docs/docsite/rst/guide_provisioning.rst).
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_troubleshooting
    description: Every error code, what it means and what to do.
      The guide also ships in the collection, as C(docs/docsite/rst/guide_troubleshooting.rst).
  - name: AssociateInstancesKeyPairs API
    description: Tencent Cloud API documentation of AssociateInstancesKeyPairs.
    link: https://www.tencentcloud.com/document/api/213/33232
  - name: DisassociateInstancesKeyPairs API
    description: Tencent Cloud API documentation of DisassociateInstancesKeyPairs.
    link: https://www.tencentcloud.com/document/api/213/33228
"""

EXAMPLES = r"""
- name: Bind deploy_key to two stopped instances
  tencentcloud.cvm.tencent_instance_keypairs:
    region: ap-guangzhou
    instance_ids: [ins-a1b2c3d4, ins-e5f6g7h8]
    key_pairs: [deploy_key]

- name: Make deploy_key_2027 the only key pair of running instances (restarts them)
  tencentcloud.cvm.tencent_instance_keypairs:
    region: ap-guangzhou
    instance_ids: "{{ web_instance_ids }}"
    key_pairs: [deploy_key_2027]
    exclusive: true
    force_stop: true
  register: bound

- name: Where to log in
  ansible.builtin.debug:
    msg: "ssh -p {{ item.default_login_port }} {{ item.default_login_user }}@{{ (item.public_ip_addresses
      + item.private_ip_addresses) | first }}"
  loop: "{{ bound.instances }}"

- name: Unbind an old key pair by ID
  tencentcloud.cvm.tencent_instance_keypairs:
    region: ap-guangzhou
    instance_ids: [ins-a1b2c3d4]
    key_pairs: [skey-mv9yzyjj]
    state: absent
"""

RETURN = r"""
key_ids:
  description: The IDs of the key pairs of O(key_pairs) that exist.
  returned: success
  type: list
  elements: str
  sample: [skey-mv9yzyjj]
instances:
  description:
    - The instances of O(instance_ids), as read at the end of the task (in check mode, before it; a change then
      shows in the diff only).
  returned: success
  type: list
  elements: dict
  contains:
    instance_id:
      description: ID of the instance.
      type: str
      sample: ins-a1b2c3d4
    state:
      description: Its state (C(InstanceState)), for example C(RUNNING) or C(STOPPED).
      type: str
      sample: RUNNING
    key_ids:
      description: IDs of the key pairs bound to it.
      type: list
      elements: str
      sample: [skey-mv9yzyjj]
    os_name:
      description: Its operating system, as Tencent Cloud names it.
      type: str
      sample: TencentOS Server 3.1 (TK4)
    private_ip_addresses:
      description: Its private addresses.
      type: list
      elements: str
      sample: [10.0.0.12]
    public_ip_addresses:
      description: Its public addresses (empty when it has none).
      type: list
      elements: str
      sample: [203.0.113.7]
    default_login_user:
      description: The user to log in as (C(DefaultLoginUser)), for example C(root) or C(ubuntu).
      type: str
      sample: root
    default_login_port:
      description: The SSH port (C(DefaultLoginPort)).
      type: int
      sample: 22
    latest_operation:
      description: The latest operation on the instance (C(LatestOperation)).
      type: str
      sample: AssociateInstancesKeyPairs
    latest_operation_state:
      description: Its state, C(OPERATING), C(SUCCESS) or C(FAILED).
      type: str
      sample: SUCCESS
request_ids:
  description:
    - The RequestId of every API call of the task, in order. Give them to Tencent Cloud support.
    - Empty when the task failed before any call (bad options, no credentials).
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
        - The Tencent Cloud error code (for example C(UnsupportedOperation.InstanceStateRunning)), or one of the
          client-side codes of the collection's
          R(troubleshooting guide,ansible_collections.tencentcloud.cvm.docsite.guide_troubleshooting) (for example
          C(InstanceRunning)). Never empty.
      type: str
      sample: InstanceRunning
    message:
      description: The message that came with it.
      type: str
    request_id:
      description: The RequestId of the failed call, when the API answered; V(null) otherwise.
      type: str
      sample: 6EF60BEC-0242-43AF-BB20-270359FB54A7
"""
