#!/usr/bin/env bash
# The GitHub Action's install step, on a cache miss only: what compiling
# memgate needs (a C compiler, jansson, curl's headers), only what is
# missing (hosted runners have most of it), without recommended packages.
# One list for the Action and `make`: tests/install-deps.
set -euo pipefail
exec "$(dirname "$0")/../tests/install-deps" build
