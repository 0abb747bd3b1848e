# SPDX-License-Identifier: GPL-3.0-or-later
"""A local emulator of the Tencent Cloud APIs the collection calls: CVM (2017-03-12) key pairs, instances and
regions, the Tag API (2018-08-13), the Region API (2022-06-27) and Secrets Manager's SSH key pair secrets
(2019-09-23).

It is a test peer of the tencentcloud.cvm collection and never imports it:
signatures are verified by this package's own code so that a signing bug in
the client cannot hide by agreeing with itself.
"""

__version__ = "0.3.0"

DEFAULT_SECRET_ID = "AKIDEMULATOR0000000000000000000000000"
DEFAULT_SECRET_KEY = "EmulatorSecretKey0000000000000000"
