#!/usr/bin/env bash
# The shared harness's echo workload (W4) at other message sizes.  See README.md.
#
#   ./echo-sizes.sh [--sizes "100 1024 16384"] [--reps K] [--seconds D] [--peers REGEX]
#
# shared/peers/run.sh echo hardcodes 1 KiB messages; this script drives the same servers
# (the echo_server functions of shared/peers/peers.d/*.sh, so AIO_BIN picks aio's binary as
# there) with the same client (shared/peers/build/bin/echo_client: 100 connections, ping-pong,
# every byte checked) and the same method: a 1 s unmeasured warm-up run, then K runs of D s
# (first 0.2 s skipped), server CPU (user+sys of the server and its children, from /proc)
# divided by all round trips of the run.  Prints, per size and peer,
#   echo-SIZE PEER requests_per_sec MEDIAN req/s
#   echo-SIZE PEER server_cpu_us_per_req MEDIAN us
# with every repetition on "# reps:" lines (stderr).  Run shared/peers/run.sh echo once
# first: it builds the client and the peers.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shared/peers is checked out next to the repo (or next to the main checkout of a git worktree).
SHARED=${SHARED_PEERS:-$HERE/../../../shared/peers}
if [ -z "${SHARED_PEERS:-}" ] && [ ! -d "$SHARED" ]; then
  SHARED=$(git -C "$HERE" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/peers
fi
SHARED=$(cd "$SHARED" 2>/dev/null && pwd) || { echo "shared/peers not found (set SHARED_PEERS)" >&2; exit 2; }
LOGS=$HERE/build/logs
mkdir -p "$LOGS"

SIZES="100 1024 16384"; REPS=3; SECONDS_PER_RUN=10; PEER_RE='^(c-epoll|tokio-ct|asio|aio|aio-uring)$'
CONNS=100; WARMUP_S=1
usage() { sed -n '2,16p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES=${2:?}; shift ;;
    --reps) REPS=${2:?}; shift ;;
    --seconds) SECONDS_PER_RUN=${2:?}; shift ;;
    --peers) PEER_RE=${2:?}; shift ;;
    *) usage ;;
  esac
  shift
done

# The environment shared/peers gives its peer functions.
export ROOT=$SHARED BIN=$SHARED/build/bin RUSTBIN=$SHARED/build/rust/release SRC=$SHARED/src CONF=$SHARED/conf
export RUN=$HERE/build/run PY=/usr/bin/python3 PORT=${PEERS_PORT:-18080}
mkdir -p "$RUN"
CLIENT=$BIN/echo_client
[ -x "$CLIENT" ] || { echo "$CLIENT missing: run shared/peers/run.sh echo once" >&2; exit 2; }

log() { printf '# %s\n' "$*" >&2; }
port_busy() { ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .; }

# CPU clock ticks (user+system) of a process and its descendants, as shared/peers/run.sh counts them.
proc_tree_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
    { pid = $1; line = $0; sub(/^.*\) /, "", line); split(line, f, " "); pp[pid] = f[2]; t[pid] = f[12] + f[13] }
    END { tot = 0
          for (p in t) { q = p; while (q != root && (q in pp) && q > 1) q = pp[q]; if (q == root) tot += t[p] }
          print tot }'
}
CLK_TCK=$(getconf CLK_TCK)

SERVER_PID=
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
  for _ in $(seq 1 50); do port_busy || break; sleep 0.1; done
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

# Median of the values on stdin, one a line.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run_one() {  # run_one SIZE PEERFILE NAME
  local size=$1 f=$2 name=$3 wl=echo-$1 err=$LOGS/echo-$1-$3.err why r t0 rt rps
  if bash -c 'source "$1"; declare -F requires >/dev/null' _ "$f" &&
     ! why=$(bash -c 'source "$1"; requires' _ "$f" 2>&1); then
    echo "$wl $name status SKIP ${why//$'\n'/ }"; return
  fi
  if port_busy; then echo "$wl $name status FAIL port $PORT already in use"; return; fi
  bash -c 'source "$1"; echo_server "$PORT"' _ "$f" >"$LOGS/echo-$size-$name.server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 150); do port_busy && break; kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if ! port_busy; then echo "$wl $name status FAIL server did not listen"; stop_server; return; fi
  if ! "$CLIENT" 127.0.0.1 "$PORT" "$CONNS" "$size" "$WARMUP_S" 0 >/dev/null 2>"$err"; then
    echo "$wl $name status FAIL warm-up client (see $err)"; stop_server; return
  fi
  local rps_all=() cpu_all=()
  for r in $(seq 1 "$REPS"); do
    t0=$(proc_tree_ticks "$SERVER_PID")
    if ! rps=$("$CLIENT" 127.0.0.1 "$PORT" "$CONNS" "$size" "$SECONDS_PER_RUN" 0.2 2>"$err" | awk '{print $2}'); then
      echo "$wl $name status FAIL client (see $err)"; stop_server; return
    fi
    rt=$(sed -n 's/.*total_round_trips \([0-9]*\).*/\1/p' "$err")
    rps_all+=("$rps")
    cpu_all+=("$(awk -v b="$t0" -v a="$(proc_tree_ticks "$SERVER_PID")" -v n="$rt" -v hz="$CLK_TCK" \
                   'BEGIN { printf "%.2f", (a - b) / hz * 1e6 / n }')")
  done
  stop_server
  echo "$wl $name requests_per_sec $(printf '%s\n' "${rps_all[@]}" | median) req/s"
  echo "$wl $name server_cpu_us_per_req $(printf '%s\n' "${cpu_all[@]}" | median) us"
  log "reps: $wl $name requests_per_sec ${rps_all[*]}"
  log "reps: $wl $name server_cpu_us_per_req ${cpu_all[*]}"
}

log "echo: $CONNS conns, sizes $SIZES B, ${SECONDS_PER_RUN}s x $REPS (after a ${WARMUP_S}s warm-up run), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
for size in $SIZES; do
  for f in "$SHARED"/peers.d/*.sh; do
    bash -c 'source "$1"; declare -F echo_server >/dev/null' _ "$f" || continue
    name=$(bash -c 'source "$1"; echo "$PEER"' _ "$f")
    [[ $name =~ $PEER_RE ]] || continue
    run_one "$size" "$f" "$name"
  done
done
