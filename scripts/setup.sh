#!/usr/bin/env bash
# Set up a fresh Debian machine for pybpf: the reference tools the tests compare against
# (clang, llvm-objdump, bpftool, libbpf headers) and a virtualenv in .venv with pybpf
# installed in editable mode plus the test dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(clang llvm bpftool bpftrace libbpf-dev linux-libc-dev tcpdump iproute2 gcc librsvg2-bin python3-venv
          systemtap-sdt-dev prometheus libssl3 openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: not root, skipping apt-get install of: ${missing[*]}" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/pip install -q -e '.[test]'
