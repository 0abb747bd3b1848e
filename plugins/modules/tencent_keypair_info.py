#!/usr/bin/python
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This file holds documentation only: the work is done on the control node by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
module: tencent_keypair_info
short_description: List Tencent Cloud CVM SSH key pairs
version_added: 0.1.0
description:
  - Lists the key pairs of a region that match every criterion given, reading all pages.
  - Names are compared exactly (the API's name filter may match loosely). Private keys are never returned;
    Tencent Cloud does not keep them.
author:
  - Tencent Cloud CVM collection maintainers (@tencentcloud-cvm)
options:
  names:
    description:
      - Only key pairs with one of these names.
      - An empty list matches nothing (and makes no API call), so that an empty templated list never lists
        every key pair of the region.
    type: list
    elements: str
  key_ids:
    description:
      - Only key pairs with one of these IDs (C(skey-xxxxxxxx)).
      - An empty list matches nothing (and makes no API call).
    type: list
    elements: str
  project_id:
    description:
      - Only key pairs of this project.
    type: int
  tags:
    description:
      - Only key pairs carrying all of these tags with these values.
      - At most 8 tags. The API takes at most 10 filters, and O(project_id) and a name may need two of them; more
        tags fail the task before any API call. To match more, filter the result (for example with
        C(selectattr)).
    type: dict
extends_documentation_fragment:
  - tencentcloud.cvm.tencentcloud
  - tencentcloud.cvm.tencentcloud.key_pairs
  - tencentcloud.cvm.attributes
attributes:
  diff_mode:
    support: N/A
    details: The module only reads; there is nothing to diff.
requirements:
  - cryptography (on the control node; ansible-core already depends on it)
seealso:
  - module: tencentcloud.cvm.tencent_keypair
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_credentials
    description: "Credentials and regions: every place the modules look, in order.
      The guide also ships in the collection, as C(docs/docsite/rst/guide_credentials.rst)."
  - ref: ansible_collections.tencentcloud.cvm.docsite.guide_troubleshooting
    description: Every error code, what it means and what to do.
      The guide also ships in the collection, as C(docs/docsite/rst/guide_troubleshooting.rst).
  - name: DescribeKeyPairs API
    description: Tencent Cloud API documentation of DescribeKeyPairs.
    link: https://www.tencentcloud.com/document/api/213/33229
"""

EXAMPLES = r"""
- name: List every key pair of the region
  tencentcloud.cvm.tencent_keypair_info:
    region: ap-guangzhou
  register: all_key_pairs

- name: Look two key pairs up by name
  tencentcloud.cvm.tencent_keypair_info:
    region: ap-guangzhou
    names: [deploy_key, ci_key]
  register: found

- name: Key pairs of a team in the default project
  tencentcloud.cvm.tencent_keypair_info:
    region: ap-guangzhou
    project_id: 0
    tags:
      team: platform
  register: team_keys

- name: Show their IDs
  ansible.builtin.debug:
    msg: "{{ team_keys.key_pairs | map(attribute='key_id') | list }}"
"""

RETURN = r"""
key_pairs:
  description: The matching key pairs, in the API's order. Never contains private keys.
  returned: success
  type: list
  elements: dict
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
