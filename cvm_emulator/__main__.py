# SPDX-License-Identifier: GPL-3.0-or-later
"""python -m cvm_emulator: run the local emulator of the CVM and Tag APIs until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from . import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, __version__
from .server import ADMIN_TOKEN_ENV, Emulator, EmulatorServer
from .store import Store


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m cvm_emulator",
        description="Local emulator of the Tencent Cloud CVM (2017-03-12: key pairs, instances, regions) API, "
                    "the Tag API, the Region API and Secrets Manager (SSH key pair secrets). Prints its URL, "
                    "then serves until stopped (Ctrl-C or SIGTERM).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    parser.add_argument("--db", default=":memory:", help="SQLite file to keep state across restarts")
    parser.add_argument("--secret-id", action="append", default=[], help="accepted SecretId (repeatable)")
    parser.add_argument("--secret-key", action="append", default=[], help="its SecretKey (same order)")
    parser.add_argument("--credential", action="append", default=[], metavar="ID:KEY[:TOKEN]",
                        help="an accepted credential, with a session token it requires (repeatable)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="private key of --tls-cert")
    parser.add_argument("--seed", type=int, help="seed for probabilistic faults")
    parser.add_argument("--rate-limits", choices=("off", "realistic"), default="off",
                        help="realistic: the real service's limits (10 requests/s per key-pair action, 20/s for "
                             "Tag writes and per Secrets Manager action); off (default): none")
    parser.add_argument("--operation-delay", type=float, default=None, metavar="SECONDS",
                        help="how long an AssociateInstancesKeyPairs/DisassociateInstancesKeyPairs operation takes "
                             "(asynchronous, as on the real service; default 0.5)")
    parser.add_argument("--admin-token", metavar="TOKEN",
                        help="the secret the admin API (/_emulator/) requires as `Authorization: Bearer TOKEN` "
                             "(default: $%s, else a random one). Printed after the URL as `admin-token: TOKEN`. "
                             "A command line is visible to other local users (ps): prefer the environment "
                             "variable" % ADMIN_TOKEN_ENV)
    parser.add_argument("--ssh", action="store_true",
                        help="allow instances with a real sshd (admin API, `\"ssh\": true`); each logs in as the "
                             "user running the emulator, with the key pairs bound to it")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--version", action="version", version=__version__)
    args = parser.parse_args(argv)
    if len(args.secret_id) != len(args.secret_key):
        parser.error("give --secret-id and --secret-key the same number of times")
    creds: list[dict[str, str | None]] = [{"secret_id": i, "secret_key": k}
                                          for i, k in zip(args.secret_id, args.secret_key)]
    for item in args.credential:
        parts = item.split(":", 2)
        if len(parts) < 2:
            parser.error("--credential wants ID:KEY[:TOKEN]")
        creds.append({"secret_id": parts[0], "secret_key": parts[1], "token": parts[2] if len(parts) > 2 else None})
    if not creds:
        creds = [{"secret_id": DEFAULT_SECRET_ID, "secret_key": DEFAULT_SECRET_KEY}]
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    args.credentials = creds
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.operation_delay is not None and not 0 <= args.operation_delay <= 600:
        raise SystemExit("--operation-delay must be 0 to 600 seconds")
    defaults = {} if args.operation_delay is None else {"operation_delay": args.operation_delay}
    token = args.admin_token or os.environ.get(ADMIN_TOKEN_ENV) or None
    try:
        emulator = Emulator(Store(args.db, defaults), args.credentials, args.seed, args.verbose, token, args.ssh)
    except ValueError as exc:
        raise SystemExit("cvm_emulator: %s" % exc)
    if args.rate_limits != "off":
        emulator.set_rate_limits(args.rate_limits, default=True)
    server = EmulatorServer(emulator, args.host, args.port, args.tls_cert, args.tls_key)

    def stop(signum: int, frame: FrameType | None) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(server.url, flush=True)
    print("admin-token: %s" % emulator.admin_token, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
