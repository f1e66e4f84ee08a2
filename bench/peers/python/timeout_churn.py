"""timeout-churn: N sequential `await asyncio.wait_for(op(), 10)` where op()
completes at once; the sum of the results is checked."""
import asyncio
import time

import _common


async def op():
    return 1


async def main(n, loop):
    wait_for = asyncio.wait_for
    s = 0
    t0 = time.perf_counter()
    for _ in range(n):
        s += await wait_for(op(), 10)
    el = time.perf_counter() - t0
    if s != n:
        _common.fail(f"timeout-churn: bad sum {s} != {n}")
    print(f"timeout-churn {loop} ns_per_op {el * 1e9 / n:.1f} ns")


_common.run(main, *_common.args(1_000_000))
