#!/usr/bin/env bash
# Peer programs for the workloads the shared harness (shared/peers) lacks.  See README.md.
#
#   ./run.sh WORKLOAD [--reps K] [--n N] [--peers REGEX]
#   WORKLOAD: timeout-churn | semaphore | to_thread | greenlet-switch
#
# Prints one line per peer and metric:   WORKLOAD PEER METRIC VALUE UNIT
# VALUE is the median of K repetitions (default 3); the individual values go to
# stderr on "# reps:" lines.  A failing peer prints  WORKLOAD PEER status FAIL <why>,
# one that cannot run here  WORKLOAD PEER status SKIP <why>.
# aio itself takes part when AIO_BIN points at its aio_bench binary
# ("$AIO_BIN" WORKLOAD N prints lines in the same format, peer name aio).
# Builds (g++-12 -std=c++20 -O2, go build) and logs go to build/ (git-ignored).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=$HERE/build
LOGS=$B/logs
mkdir -p "$LOGS"
PY=/usr/bin/python3                 # Debian's python3 (uvloop, greenlet), not the pyenv one on PATH
CXX=${CXX:-g++-12}
CXXFLAGS="-std=c++20 -O2 -DNDEBUG -pthread"
# shared/peers is checked out next to the repo: <parent>/main/bench/peers -> <parent>/shared/peers
SHARED=${SHARED_PEERS:-$HERE/../../../shared/peers}

usage() { sed -n '2,13p' "$0" >&2; exit 2; }
REPS=3; N=; PEER_RE=.; WL=
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=${2:?}; shift ;;
    --n) N=${2:?}; shift ;;
    --peers) PEER_RE=${2:?}; shift ;;
    --reps=*) REPS=${1#*=} ;;
    --n=*) N=${1#*=} ;;
    --peers=*) PEER_RE=${1#*=} ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [ -z "$WL" ] || usage; WL=$1 ;;
  esac
  shift
done
[ -n "$WL" ] || usage

case "$WL" in
  timeout-churn)   : "${N:=1000000}"; PEERS=(asyncio uvloop asio aio) ;;
  semaphore)       : "${N:=1000000}"; PEERS=(asyncio uvloop asio aio) ;;
  to_thread)       : "${N:=100000}";  PEERS=(asyncio uvloop go-handoff aio) ;;
  greenlet-switch) : "${N:=1000000}"; PEERS=(greenlet floor-fcontext aio) ;;
  *) echo "unknown workload $WL" >&2; usage ;;
esac
PYSCRIPT=$HERE/python/${WL//-/_}.py

log() { printf '# %s\n' "$*" >&2; }

# ---- builds (idempotent: rebuild only when the source is newer) -------------
build_cxx() {  # build_cxx NAME SOURCE -> build/NAME
  local out=$B/$1 src=$HERE/$2
  [ -x "$out" ] && [ "$out" -nt "$src" ] && return 0
  command -v "$CXX" >/dev/null || { echo "$CXX not installed"; return 1; }
  [ -f /usr/include/boost/asio/experimental/awaitable_operators.hpp ] ||
    { echo "Boost.Asio >= 1.77 headers missing (apt-get install libboost1.81-dev)"; return 1; }
  $CXX $CXXFLAGS -o "$out" "$src" >"$LOGS/build-$1.log" 2>&1 || { echo "build failed (see build/logs/build-$1.log)"; return 1; }
}
build_go() {  # build_go NAME PKGDIR -> build/NAME
  local out=$B/$1
  command -v go >/dev/null || { echo "go not installed"; return 1; }
  [ -x "$out" ] && [ "$out" -nt "$HERE/go/$2/main.go" ] && return 0
  (cd "$HERE/go" && GOFLAGS=-mod=mod GOPROXY=off GOCACHE=$B/gocache GOPATH=$B/gopath \
     go build -trimpath -o "$out" "./$2") >"$LOGS/build-$1.log" 2>&1 || { echo "build failed (see build/logs/build-$1.log)"; return 1; }
}
build_fcontext() {
  [ -f "$SHARED/Makefile" ] || { echo "shared/peers not found at $SHARED (set SHARED_PEERS)"; return 1; }
  make -s -C "$SHARED" fcontext >"$LOGS/build-floor-fcontext.log" 2>&1 ||
    { echo "make fcontext failed (see build/logs/build-floor-fcontext.log)"; return 1; }
}

# ---- peers: prepare PEER (prints a reason and fails to SKIP), command PEER --
prepare() {
  case "$1" in
    asyncio) [ -x "$PY" ] || { echo "$PY missing"; return 1; } ;;
    uvloop) "$PY" -c 'import uvloop' 2>/dev/null || { echo "python3-uvloop not installed"; return 1; } ;;
    greenlet) "$PY" -c 'import greenlet' 2>/dev/null || { echo "python3-greenlet not installed"; return 1; } ;;
    asio) build_cxx "asio-$WL" "asio/${WL//-/_}.cpp" ;;
    go-handoff) build_go go-handoff handoff ;;
    floor-fcontext) build_fcontext ;;
    aio) [ -n "${AIO_BIN:-}" ] && [ -x "$AIO_BIN" ] || { echo "aio_bench not built"; return 1; } ;;
  esac
}
cmd() {  # sets CMD
  case "$1" in
    asyncio|uvloop) CMD=("$PY" "$PYSCRIPT" "$N" "$1") ;;
    greenlet) CMD=("$PY" "$PYSCRIPT" "$N") ;;
    asio) CMD=("$B/asio-$WL" "$N") ;;
    go-handoff) CMD=("$B/go-handoff" "$N") ;;
    floor-fcontext) CMD=("$SHARED/build/bin/floor-fcontext" "$N") ;;
    aio) CMD=("$AIO_BIN" "$WL" "$N") ;;
  esac
}

# Median per metric of "WL PEER METRIC VALUE UNIT" (or "METRIC VALUE UNIT") lines;
# prints "WL PEER METRIC MEDIAN UNIT" and "# reps: ..." on stderr.  Status lines pass through.
aggregate() {
  awk -v w="$1" -v p="$2" '
    function max(a, b) { return a > b ? a : b }
    NF == 5 && $3 == "status" { print w, p, $3, $4, substr($0, index($0, $5)); next }
    NF == 5 { m = $3; v = $4; u = $5 }
    NF == 3 { m = $1; v = $2; u = $3 }
    (NF == 5 || NF == 3) && v ~ /^[-0-9.eE+]+$/ {
      if (!(m in cnt)) { order[++n] = m; unit[m] = u }
      vals[m, ++cnt[m]] = v; raw[m] = raw[m] " " v
    }
    END {
      for (i = 1; i <= n; i++) {
        m = order[i]; k = cnt[m]
        for (a = 1; a <= k; a++) x[a] = vals[m, a]
        for (a = 2; a <= k; a++) { v = x[a]; b = a - 1; while (b >= 1 && x[b] + 0 > v + 0) { x[b + 1] = x[b]; b-- } x[b + 1] = v }
        if (k % 2) med = x[(k + 1) / 2]
        else {  # mean of the middle two, with as many decimals as the inputs
          d = 0; for (a = k / 2; a <= k / 2 + 1; a++) if (index(x[a], ".")) d = max(d, length(x[a]) - index(x[a], "."))
          med = sprintf("%.*f", d, (x[k / 2] + x[k / 2 + 1]) / 2)
        }
        printf "%s %s %s %s %s\n", w, p, m, med, unit[m]
        printf "# reps: %s %s %s%s\n", w, p, m, raw[m] > "/dev/stderr"
      }
    }'
}

run_peer() {
  local p=$1 why out=$LOGS/$WL-$1.out err=$LOGS/$WL-$1.err rc r
  if ! why=$(prepare "$p" 2>&1); then
    echo "$WL $p status SKIP ${why//$'\n'/ }"
    return
  fi
  : >"$out.all"
  local CMD=()
  for r in $(seq 1 "$REPS"); do
    cmd "$p"
    "${CMD[@]}" >"$out" 2>"$err"
    rc=$?
    if [ "$p" = aio ] && [ $rc -eq 2 ] && grep -q '^usage: aio_bench' "$err"; then
      echo "$WL aio status SKIP workload not in aio_bench"; return
    fi
    if [ $rc -ne 0 ] || ! grep -q . "$out"; then
      echo "$WL $p status FAIL exit=$rc $(tail -1 "$err" | cut -c1-120) (see build/logs/$WL-$p.err)"; return
    fi
    cat "$out" >>"$out.all"
  done
  aggregate "$WL" "$p" <"$out.all"
}

log "$WL: N=$N, $REPS reps (median printed), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
for p in "${PEERS[@]}"; do
  [[ $p =~ $PEER_RE ]] || continue
  run_peer "$p"
done
