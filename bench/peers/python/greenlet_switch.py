"""greenlet-switch: two greenlets (main and one child) switch back and forth,
N switches in all (each switch() counts as one, N rounded down to even); the
value passed along is incremented on every switch and checked at the end."""
import sys
import time

from greenlet import getcurrent, greenlet

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rounds = n // 2
if rounds <= 0:
    raise SystemExit(f"bad N {n}")
main = getcurrent()


def child(v):
    while True:
        v = main.switch(v + 1)


g = greenlet(child)
switch = g.switch
v = 0
t0 = time.perf_counter()
for _ in range(rounds):
    v = switch(v + 1)
el = time.perf_counter() - t0
if v != 2 * rounds:
    print(f"greenlet-switch: bad value {v} != {2 * rounds}", file=sys.stderr)
    sys.exit(1)
print(f"greenlet-switch greenlet ns_per_switch {el * 1e9 / (2 * rounds):.1f} ns")
