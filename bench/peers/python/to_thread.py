"""to_thread: N sequential `await asyncio.to_thread(f)` round trips of a trivial
function through the loop's default ThreadPoolExecutor; the sum is checked."""
import asyncio
import time

import _common


def f():
    return 1


async def main(n, loop):
    to_thread = asyncio.to_thread
    await to_thread(f)  # start the default executor's first worker thread (not timed)
    s = 0
    t0 = time.perf_counter()
    for _ in range(n):
        s += await to_thread(f)
    el = time.perf_counter() - t0
    if s != n:
        _common.fail(f"to_thread: bad sum {s} != {n}")
    print(f"to_thread {loop} ns_per_call {el * 1e9 / n:.1f} ns")


_common.run(main, *_common.args(100_000))
