#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Copy the collection as git would test it (tracked files, deleted ones skipped, and untracked-not-ignored ones) into
# DEST, emptied first, as a git repository of its own (ansible-test and ansible-lint find files through git; a copy
# under the checkout's ignored .build/ would otherwise hide every file).
#
#   scripts/collection-copy.sh DEST [--repository]
#
# --repository: Galaxy requires `repository` in galaxy.yml, and the project's public repository URL is not known
# yet, so galaxy.yml leaves it out. The copy gets `repository` from $GALAXY_REPOSITORY or, when that is unset, a
# reserved .invalid name, and says so. RELEASE=1 (for a build to publish) refuses to run without $GALAXY_REPOSITORY.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$1"
rm -rf "$dest" && mkdir -p "$dest"
(cd "$root" && git ls-files -z -c -o --exclude-standard | perl -0 -ne 'chomp; print "$_\0" if -e $_ || -l $_' \
    | tar --null -T - -cf -) | (cd "$dest" && tar -xf -)
if [ "${2:-}" = "--repository" ] && ! grep -q "^repository:" "$dest/galaxy.yml"; then
    if [ -z "${GALAXY_REPOSITORY:-}" ] && [ "${RELEASE:-0}" = "1" ]; then
        echo "RELEASE=1: set GALAXY_REPOSITORY to the collection's public repository URL" >&2
        exit 1
    fi
    repository="${GALAXY_REPOSITORY:-https://repository-unknown.invalid/tencentcloud/cvm}"
    echo "note: galaxy.yml has no repository (not known yet; Galaxy requires one to publish); checked with $repository"
    echo "repository: $repository" >> "$dest/galaxy.yml"
fi
cd "$dest"
git init -q . && git add -A && git -c user.name=collection-copy -c user.email=copy@localhost commit -qm copy
