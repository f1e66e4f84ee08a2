#!/usr/bin/env bash
# The demo: seed 001's crawler with simulated latencies, one page after another and
# then one task per page (examples/core/crawl_sim.cpp).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

"$ROOT/scripts/setup.sh"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
echo
exec build/examples/crawl_sim
