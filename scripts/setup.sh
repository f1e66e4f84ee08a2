#!/usr/bin/env bash
# Installs every Debian 12 package aio needs to build, test and benchmark.
# Idempotent: when everything is already installed, apt is not touched at all.
# Runs as root (or through sudo when available) on a bare Debian 12.
set -euo pipefail

PACKAGES=(
  # build tools
  cmake ninja-build g++ clang-14 libclang-rt-14-dev pkg-config make
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # networking, TLS, DNS, compression
  liburing-dev libssl-dev openssl libc-ares-dev zlib1g-dev
  # formatting, JSON
  libfmt-dev nlohmann-json3-dev
  # Boost 1.81 (not libboost-dev / libboost-context-dev: those are 1.74 and conflict)
  libboost1.81-dev libboost-context1.81-dev
  # HTTP parser, Redis, MariaDB clients, HTML parser
  node-llhttp libhiredis-dev libmariadb-dev libgumbo-dev
  # servers the integration tests talk to
  redis-server mariadb-server
  # /usr/bin/time for peak RSS, ps/pgrep
  time procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup.sh: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null; then SUDO=(sudo); else
    echo "setup.sh: missing packages (${missing[*]}) and not root" >&2
    exit 1
  fi
fi

echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
