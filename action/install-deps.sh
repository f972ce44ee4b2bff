#!/usr/bin/env bash
# The GitHub Action's first step: install what building memgate needs,
# only what is missing (hosted runners have most of it).
set -euo pipefail
missing=()
for p in build-essential pkg-config libjansson-dev libcurl4-openssl-dev; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
