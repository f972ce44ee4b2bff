#!/usr/bin/env bash
# The Action's first step: the cache key of its built memgate (build/static,
# see `make static`), written to the step's outputs as key=...
#
# What the binary is made of: memgate's sources and the Makefile, hashed by
# content. Not github.action_ref: that is a tag or branch name when the
# action is used as @v1 (it moves, and would hand out a stale binary) and
# empty for `uses: ./`; a downloaded action has no .git to ask for a commit.
# What it runs on: the runner image (hosted runners set ImageOS and
# ImageVersion; a new image, a new build against its libc), or elsewhere the
# distribution and its C library. The binary needs only libc at run time.
set -euo pipefail
cd "${GITHUB_ACTION_PATH:?}"
src=$(find gate Makefile -name __pycache__ -prune -o -type f -print0 | LC_ALL=C sort -z |
	xargs -0 sha256sum | sha256sum | cut -c1-32)
if [ -n "${ImageOS:-}" ]; then
	image="$ImageOS-${ImageVersion:-}"
else
	id=$(. /etc/os-release 2>/dev/null && echo "${ID:-linux}${VERSION_ID:-}")
	image="${id:-linux}-glibc$(getconf GNU_LIBC_VERSION 2>/dev/null | cut -d' ' -f2)"
fi
key="memgate-static-1-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$image-$src"
echo "key=$key" >>"${GITHUB_OUTPUT:?}"
echo "cache key: $key"
