# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The options every tencentcloud.cvm plugin shares (credentials, endpoint, transport), in texts that hold for
    # all four of them: tencentcloud.cvm.tencentcloud. What differs from one plugin to the next (the region, where the
    # plugin runs) is in the small sections below, which each plugin adds by name:
    # tencentcloud.cvm.tencentcloud.key_pairs, .instances or .inventory. The modules' argument specs are built from
    # these same texts (plugin_utils/_argspec.py follows extends_documentation_fragment).
    DOCUMENTATION = r"""
options:
  secret_id:
    description:
      - Tencent Cloud API SecretId.
      - When neither O(secret_id) nor O(secret_key) is given, the first of these wins
        E(TENCENTCLOUD_SECRET_ID)/E(TENCENTCLOUD_SECRET_KEY) (not consulted when O(profile) is set),
        C(~/.tencentcloud/credentials) section O(profile) (keys C(secret_id), C(secret_key), C(token)),
        then the tccli file C(~/.tccli/<profile>.credential).
    type: str
  secret_key:
    description:
      - Tencent Cloud API SecretKey, paired with O(secret_id). Never logged or returned.
    type: str
  security_token:
    description:
      - Session token of temporary (STS or role) credentials.
      - Defaults to the first of E(TENCENTCLOUD_SECURITY_TOKEN), E(TENCENTCLOUD_TOKEN) and
        E(TENCENTCLOUD_SESSION_TOKEN) when the keys come from the environment.
    type: str
    aliases: [token]
  profile:
    description:
      - Profile name in C(~/.tencentcloud/credentials) and C(~/.tccli/<profile>.credential)/C(.configure).
      - Defaults to E(TENCENTCLOUD_PROFILE), then E(TCCLI_PROFILE), then C(default).
    type: str
  endpoint:
    description:
      - API endpoint, a host name (C(cvm.ap-guangzhou.tencentcloudapi.com)) or a base URL
        (V(http://127.0.0.1:8080) for the bundled emulator).
      - Defaults to E(TENCENTCLOUD_ENDPOINT), then C(cvm.tencentcloudapi.com), or C(cvm.api.qcloud.com) with
        O(api_style=legacy).
      - An C(http://) endpoint on another machine is refused before any request, unless O(allow_insecure_http=true),
        because the signed requests and the answers (a created key pair's private key among them) would cross the
        network in clear text. Loopback addresses (the emulator) are not the network.
    type: str
  allow_insecure_http:
    description:
      - Allow an C(http://) endpoint that is not on this machine, for a test endpoint you trust on a network you
        trust. The plugin then warns.
    type: bool
    default: false
    version_added: 0.2.0
  api_style:
    description:
      - V(tc3) sends API 3.0 POST JSON requests signed with TC3-HMAC-SHA256 (recommended).
      - V(v1) sends API 3.0 POST form requests with the older HmacSHA256 signature.
      - V(legacy) sends the old gateway's C(GET /v2/index.php?Action=...) requests with the HmacSHA256
        signature. Tencent Cloud says that gateway may stop being maintained.
    type: str
    choices: [tc3, v1, legacy]
    default: tc3
  validate_certs:
    description:
      - Verify the endpoint's TLS certificate. Turn off only for test endpoints.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM CA bundle to verify the endpoint's certificate with, instead of the system's.
    type: path
  timeout:
    description:
      - Seconds a call may take in all, from connecting to the last byte of the answer (an answer that trickles
        in is cut off then). Answers larger than 4 MiB are refused.
    type: float
    default: 30
  retries:
    description:
      - How often to retry a call that is safe to repeat (reads; deletes and renames where the plugin makes them)
        after an internal error, an HTTP 5xx, a reset or refused connection or a timeout, with exponential backoff
        and jitter.
      - Throttled answers (C(RequestLimitExceeded)) are not counted here; see O(throttle_timeout).
      - HTTP 4xx, TLS, DNS and proxy failures are not retried; another attempt would meet them again.
      - Creating and importing a key pair are never retried blindly (see M(tencentcloud.cvm.tencent_keypair)).
    type: int
    default: 4
  retry_max_delay:
    description:
      - Upper bound in seconds of one backoff sleep between retries.
    type: float
    default: 20
  throttle_timeout:
    description:
      - Seconds, from a call's first attempt, during which a throttled answer (C(RequestLimitExceeded), which
        says that nothing was done) is tried again, with exponential backoff and jitter up to O(retry_max_delay).
        Throttling does not count against O(retries), so many forks need no higher O(retries).
      - V(0) fails at the first throttled answer. Creating a key pair or a secret is also tried again when
        throttled, and only then.
    type: float
    default: 60
    version_added: 0.3.0
notes:
  - E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) are honoured, except for loopback endpoints. Credentials in
    the proxy URL (C(http://user:password@proxy:3128), special characters percent-encoded) are sent as Basic
    C(Proxy-Authorization) and never shown. An C(https://) proxy URL gets TLS to the proxy itself (verified like the
    endpoint, with O(validate_certs) and O(ca_path)), so its credentials do not cross the network in clear text.
  - What the API answers is checked before it is used (its size, its shape, the fields read); an answer that is
    not a Tencent Cloud answer fails with C(InvalidResponse).
  - Needs only ansible-core on the control node (HTTP goes through the Python standard library).
"""

    # tencent_keypair, tencent_keypair_info
    KEY_PAIRS = r"""
options:
  region:
    description:
      - Region of the key pairs, for example C(ap-guangzhou). Key pairs are regional.
      - Defaults to E(TENCENTCLOUD_REGION), then C(_sys_param.region) of the tccli profile's C(.configure) file.
    type: str
notes:
  - Runs on the Ansible control node (an action plugin); the target host is never contacted.
"""

    # tencent_instance_keypairs
    INSTANCES = r"""
options:
  region:
    description:
      - Region of the instances, for example C(ap-guangzhou). Key pairs are regional, so those of O(key_pairs) are
        looked up in this region too.
      - Defaults to E(TENCENTCLOUD_REGION), then C(_sys_param.region) of the tccli profile's C(.configure) file.
    type: str
notes:
  - Runs on the Ansible control node (an action plugin); the target host is never contacted, and instances are
    changed only through the Tencent Cloud API.
"""

    # the inventory plugin tencent_cvm
    INVENTORY = r"""
options:
  region:
    description:
      - The region whose instances are listed when O(regions) is empty, for example C(ap-guangzhou).
      - Defaults to E(TENCENTCLOUD_REGION), then C(_sys_param.region) of the tccli profile's C(.configure) file.
      - Optional with O(regions=[all]) (when given, the list of regions is asked for in it); not used when
        O(regions) names the regions.
    type: str
notes:
  - Runs on the Ansible control node whenever the inventory is parsed (C(ansible-playbook), C(ansible-inventory));
    it calls the Tencent Cloud API only and never connects to the instances it lists.
"""

    # the lookup plugin tencent_ssh_key
    LOOKUP = r"""
options:
  region:
    description:
      - Region of the secrets, for example C(ap-guangzhou). Secrets and key pairs are regional.
      - Defaults to E(TENCENTCLOUD_REGION), then C(_sys_param.region) of the tccli profile's C(.configure) file.
    type: str
notes:
  - Runs on the Ansible control node, where the template is rendered; it calls the Secrets Manager API only.
"""
