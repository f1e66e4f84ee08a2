"""semaphore: N tasks created at once, each passes one asyncio.Semaphore(10)
once (`async with sem:` around one `await asyncio.sleep(0)`, so tasks really
wait for the semaphore); gather; the count and the peak occupancy are checked."""
import asyncio
import time

import _common


async def main(n, loop):
    sem = asyncio.Semaphore(10)
    inside = peak = 0

    async def worker():
        nonlocal inside, peak
        async with sem:
            inside += 1
            if inside > peak:
                peak = inside
            await asyncio.sleep(0)
            inside -= 1
        return 1

    t0 = time.perf_counter()
    results = await asyncio.gather(*[worker() for _ in range(n)])
    count = sum(results)
    el = time.perf_counter() - t0
    if count != n or peak != min(n, 10):
        _common.fail(f"semaphore: count {count} != {n} or peak {peak} != {min(n, 10)}")
    print(f"semaphore {loop} ns_per_task {el * 1e9 / n:.1f} ns")


_common.run(main, *_common.args(1_000_000))
