# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# Sourced by the scripts: the project's virtualenv, the working tree as the collection, emulator credentials.
root="${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export VIRTUAL_ENV="$root/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
# The emulator's documented default credential (cvm_emulator/__init__.py), unless the caller set others.
export TENCENTCLOUD_SECRET_ID="${TENCENTCLOUD_SECRET_ID:-AKIDEMULATOR0000000000000000000000000}"
export TENCENTCLOUD_SECRET_KEY="${TENCENTCLOUD_SECRET_KEY:-EmulatorSecretKey0000000000000000}"
