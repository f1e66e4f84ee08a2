#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run): dependencies, then
#   normal   build/       Release, every test (ctest -j2)
#   asan     build-asan/  ASan+UBSan, Debug at -O1, every test
#   tsan     build-tsan/  ThreadSanitizer, only the tests about threads (see TSAN_TESTS_REGEX)
#   examples build/examples/<core examples> run and exit 0
#   consumer tests/consumer built against aio through add_subdirectory and through
#            find_package after `cmake --install build`, run and output compared
# Redis and MariaDB run on loopback in a temporary directory for the whole run
# (AIO_REDIS_URL, AIO_MYSQL_*), and are stopped on exit, whatever happens.
# Prints ctest's summary lines; exits non-zero when anything failed.
#
# Knobs (environment): AIO_TEST_PHASES="normal asan tsan examples consumer" (a subset
# runs only those), AIO_JOBS (default 2), AIO_CTEST_ARGS (extra ctest arguments).
set -euo pipefail

# Tests that run under ThreadSanitizer: ctest names matching this, plus every test
# carrying the ctest label "tsan" (set_tests_properties(... PROPERTIES LABELS tsan)).
TSAN_TESTS_REGEX='[Ee]xec|[Tt]hread'  # ctest -R is case-sensitive: Thread, Threadsafe, exec_tests, Executor

PHASES=${AIO_TEST_PHASES:-normal asan tsan examples consumer}
JOBS=${AIO_JOBS:-2}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

"$ROOT/scripts/setup.sh"

started_at=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aio-test.XXXXXX")
REDIS_PID=""
MYSQL_PID=""
CHILD=""  # the long step running now (its own process group), killed when we are stopped

# run CMD...: runs a long step so that a signal stops it at once (a trapped signal
# interrupts `wait`, and cleanup() kills the step's whole process group).
run() {
  setsid "$@" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}

stop_pid() {  # stop_pid PID NAME: SIGTERM, then SIGKILL after 15 s
  local pid=$1 name=$2 i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "test.sh: $name did not stop, killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CHILD" ]]; then
    kill -TERM -- "-$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  stop_pid "$REDIS_PID" redis-server
  stop_pid "$MYSQL_PID" mariadbd
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A TCP port nobody listens on (bash's /dev/tcp: no python or ss needed).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

start_redis() {
  local attempt port
  mkdir -p "$WORK/redis"
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" \
      --unixsocket "$WORK/redis/redis.sock" --daemonize no --logfile "$WORK/redis/redis.log" &
    REDIS_PID=$!
    for _ in $(seq 50); do
      if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        export AIO_REDIS_URL="redis://127.0.0.1:$port/0"
        echo "test.sh: redis-server on 127.0.0.1:$port (pid $REDIS_PID)"
        return 0
      fi
      kill -0 "$REDIS_PID" 2>/dev/null || break
      sleep 0.1
    done
    stop_pid "$REDIS_PID" redis-server
    REDIS_PID=""
  done
  echo "test.sh: redis-server did not start" >&2
  tail -20 "$WORK/redis/redis.log" >&2 || true
  return 1
}

start_mariadb() {
  local dir=$WORK/mysql attempt port user
  user=$(id -un)
  mkdir -p "$dir"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
    --auth-root-authentication-method=normal --skip-test-db \
    --skip-name-resolve >"$dir/install.log" 2>&1 || {
    echo "test.sh: mariadb-install-db failed" >&2
    tail -20 "$dir/install.log" >&2
    return 1
  }
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/mysql.sock" --port="$port" \
      --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
      --user="$user" --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=64M \
      --innodb-log-file-size=16M --max-connections=500 --character-set-server=utf8mb4 \
      --collation-server=utf8mb4_general_ci >/dev/null 2>&1 &
    MYSQL_PID=$!
    for _ in $(seq 300); do
      if mariadb-admin --no-defaults --socket="$dir/mysql.sock" -uroot ping >/dev/null 2>&1; then
        mariadb --no-defaults --socket="$dir/mysql.sock" -uroot <<'SQL'
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS aio_test CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'aio'@'%' IDENTIFIED BY 'aio';
CREATE USER IF NOT EXISTS 'aio'@'localhost' IDENTIFIED BY 'aio';
GRANT ALL PRIVILEGES ON aio_test.* TO 'aio'@'%', 'aio'@'localhost';
GRANT ALL PRIVILEGES ON `aio\_test\_%`.* TO 'aio'@'%', 'aio'@'localhost';
FLUSH PRIVILEGES;
SQL
        if ! mariadb --no-defaults -h 127.0.0.1 -P "$port" -uaio -paio aio_test -e 'SELECT 1' >/dev/null; then
          echo "test.sh: mariadbd is up but user aio cannot connect over TCP" >&2
          return 1
        fi
        export AIO_MYSQL_HOST=127.0.0.1 AIO_MYSQL_PORT=$port AIO_MYSQL_USER=aio \
          AIO_MYSQL_PASSWORD=aio AIO_MYSQL_DB=aio_test AIO_MYSQL_SOCKET=$dir/mysql.sock
        echo "test.sh: mariadbd on 127.0.0.1:$port (pid $MYSQL_PID), user aio, database aio_test"
        return 0
      fi
      kill -0 "$MYSQL_PID" 2>/dev/null || break
      sleep 0.1
    done
    stop_pid "$MYSQL_PID" mariadbd
    MYSQL_PID=""
  done
  echo "test.sh: mariadbd did not start" >&2
  tail -20 "$dir/error.log" >&2 || true
  return 1
}

# --- bookkeeping -------------------------------------------------------------------
FAILED=()
SUMMARY=()
fail() {
  FAILED+=("$1")
  SUMMARY+=("$1: FAILED${2:+ ($2)}")
  echo "test.sh: FAILED: $1${2:+ ($2)}" >&2
}
has_phase() { [[ " $PHASES " == *" $1 "* ]]; }
banner() { printf '\n===== %s =====\n' "$*"; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
export CTEST_OUTPUT_ON_FAILURE=1

configure_and_build() {  # configure_and_build PHASE DIR cmake-args...
  local phase=$1 dir=$2
  shift 2
  banner "$phase: configure and build $dir"
  local t0=$SECONDS
  if ! run cmake -S . -B "$dir" -G Ninja "$@"; then
    fail "$phase" "cmake configure"
    return 1
  fi
  if ! run cmake --build "$dir" -j"$JOBS"; then
    fail "$phase" "build"
    return 1
  fi
  echo "test.sh: $phase built in $((SECONDS - t0)) s"
}

run_ctest() {  # run_ctest PHASE DIR ctest-args...
  local phase=$1 dir=$2 log rc=0 t0=$SECONDS
  shift 2
  log="$WORK/ctest-$phase-$RANDOM.log"
  banner "$phase: ctest $*"
  # shellcheck disable=SC2086
  run ctest --test-dir "$dir" --output-on-failure -j"$JOBS" --timeout 600 -O "$log" "$@" ${AIO_CTEST_ARGS:-} || rc=$?
  local line
  line=$(grep -E 'tests passed|No tests were found' "$log" | tail -1 || true)
  SUMMARY+=("$phase: ${line:-no test matched} [$((SECONDS - t0)) s]")
  if ((rc != 0)); then
    local failed
    failed=$(sed -n '/The following tests FAILED:/,$p' "$log" | grep -E '^\s+[0-9]+ - ' | sed -E 's/^\s+//' || true)
    [[ -n "$failed" ]] && while IFS= read -r l; do SUMMARY+=("    $l"); done <<<"$failed"
    FAILED+=("$phase")
  fi
  return "$rc"
}

# --- services ----------------------------------------------------------------------
banner "services"
start_redis || fail services "redis-server"
start_mariadb || fail services "mariadbd"

# --- normal build: Release, the one demo.sh uses too ---------------------------------
normal_ok=0
if has_phase normal || has_phase examples || has_phase consumer; then
  if configure_and_build normal build -DCMAKE_BUILD_TYPE=Release -DAIO_SANITIZE=; then
    normal_ok=1
    if has_phase normal; then run_ctest normal build --no-tests=error || true; fi
  fi
fi

# --- examples: every core example runs to the end -----------------------------------
if has_phase examples && ((normal_ok)); then
  banner "examples"
  ex_fail=0
  for src in examples/core/*.cpp; do
    [[ -e "$src" ]] || continue
    name=$(basename "$src" .cpp)
    if run timeout 60 "build/examples/$name" >"$WORK/example-$name.out" 2>&1; then
      echo "example $name: ok"
    else
      echo "example $name: FAILED (exit $?)"
      cat "$WORK/example-$name.out"
      ex_fail=1
    fi
  done
  if ((ex_fail)); then fail examples; else SUMMARY+=("examples: all core examples ran"); fi
fi

# --- consumer: add_subdirectory and find_package ------------------------------------
if has_phase consumer && ((normal_ok)); then
  banner "consumer"
  expected=$'squares 1 4 9\npair 16 25\nsum 55'
  check_consumer() {  # check_consumer HOW BUILD_DIR cmake-args...
    local how=$1 dir=$2 out
    shift 2
    if ! run cmake -S tests/consumer -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" ||
      ! run cmake --build "$dir" -j"$JOBS"; then
      fail "consumer ($how)" "build"
      return
    fi
    if out=$("$dir/consumer" 2>&1) && [[ "$out" == "$expected" ]]; then
      echo "consumer ($how): ok"
      SUMMARY+=("consumer ($how): ok")
    else
      printf 'consumer (%s) printed:\n%s\nexpected:\n%s\n' "$how" "$out" "$expected"
      fail "consumer ($how)" "wrong output"
    fi
  }
  check_consumer add_subdirectory build-consumer/subdir -DAIO_SOURCE_DIR="$ROOT"
  rm -rf build-consumer/prefix
  if cmake --install build --prefix "$ROOT/build-consumer/prefix" >"$WORK/install.log" 2>&1; then
    rm -rf build-consumer/installed  # a fresh configure: find_package must work from scratch
    check_consumer find_package build-consumer/installed -DCMAKE_PREFIX_PATH="$ROOT/build-consumer/prefix"
  else
    cat "$WORK/install.log"
    fail "consumer (find_package)" "cmake --install build"
  fi
fi

# --- ASan + UBSan: every test --------------------------------------------------------
SAN_FLAGS=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1" "-DCMAKE_C_FLAGS_DEBUG=-g -O1"
  -DAIO_BUILD_BENCH=OFF -DAIO_BUILD_EXAMPLES=OFF)
if has_phase asan; then
  if configure_and_build asan build-asan "${SAN_FLAGS[@]}" -DAIO_SANITIZE=address,undefined; then
    run_ctest asan build-asan --no-tests=error || true
  fi
fi

# --- TSan: the tests about threads ---------------------------------------------------
if has_phase tsan; then
  if configure_and_build tsan build-tsan "${SAN_FLAGS[@]}" -DAIO_SANITIZE=thread; then
    run_ctest tsan build-tsan --no-tests=ignore -R "$TSAN_TESTS_REGEX" || true
    if ctest --test-dir build-tsan -N -L '^tsan$' 2>/dev/null | grep -qE 'Total Tests: [1-9]'; then
      run_ctest tsan-label build-tsan --no-tests=ignore -L '^tsan$' -E "$TSAN_TESTS_REGEX" || true
    fi
  fi
fi

# --- summary -------------------------------------------------------------------------
banner "summary"
printf '%s\n' "${SUMMARY[@]}"
elapsed=$((SECONDS - started_at))
printf 'test.sh: %d min %02d s\n' $((elapsed / 60)) $((elapsed % 60))
if ((${#FAILED[@]})); then
  echo "test.sh: FAILED: ${FAILED[*]}"
  exit 1
fi
echo "test.sh: all passed"
