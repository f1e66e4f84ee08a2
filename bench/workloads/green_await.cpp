// green-await N: one green task does N `green::await_(aio::sleep(0))`; each is a yield to the loop
// and back through the task's greenlet (two greenlet switches and one loop iteration).
//   ns_per_await:      the green task;
//   ns_per_co_await:   the same loop in a coroutine task (`co_await aio::sleep(0)`), for scale;
//   ns_per_green_task: spawn's workload with greenlets: rounds of 10 green tasks (16 KiB stacks),
//                      each doing one await_(sleep(0)) and returning its index, gathered; the
//                      stacks come from the per-thread cache of freed stacks;
//   ns_per_green_task_fresh: the same in rounds of 1000, more than the cache holds: every
//                      stack is mmapped (plus a guard page) and unmapped again.
#include <aio/aio.hpp>
#include <aio/green.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench.hpp"

namespace {

aio::Task<long> coroutine_loop(long n) {
  long count = 0;
  for (long i = 0; i < n; ++i) {
    co_await aio::sleep(0);
    ++count;
  }
  co_return count;
}

aio::Task<double> green_tasks(long n, long batch_size) {
  auto started = aio::bench::Clock::now();
  long sum = 0;
  long expected = 0;
  for (long done = 0; done < n; done += batch_size) {
    long batch = std::min(batch_size, n - done);
    std::vector<aio::TaskHandle<long>> tasks;
    tasks.reserve(batch);
    for (long i = 0; i < batch; ++i) {
      tasks.push_back(aio::green::spawn(
          [i] {
            aio::green::await_(aio::sleep(0));
            return i;
          },
          {.stack_size = 16 * 1024}));
      expected += i;
    }
    for (long v : co_await aio::gather(std::move(tasks))) sum += v;
  }
  double ns = aio::bench::ns_since(started);
  co_return sum == expected ? ns : -1;
}

}  // namespace

AIO_BENCH_WORKLOAD("green-await", args) {
  long n = aio::bench::count_arg(args, 0, 1000000);
  if (n <= 0) {
    std::fprintf(stderr, "green-await: N must be positive\n");
    return 2;
  }

  auto started = aio::bench::Clock::now();
  long count = aio::run(aio::green::task([n] {
    long c = 0;
    for (long i = 0; i < n; ++i) {
      aio::green::await_(aio::sleep(0));
      ++c;
    }
    return c;
  }));
  double ns = aio::bench::ns_since(started);
  if (count != n) {
    std::fprintf(stderr, "green-await: count %ld != %ld\n", count, n);
    return 1;
  }
  aio::bench::report("green-await", "ns_per_await", ns / double(n), "ns");

  started = aio::bench::Clock::now();
  count = aio::run(coroutine_loop(n));
  ns = aio::bench::ns_since(started);
  if (count != n) {
    std::fprintf(stderr, "green-await: coroutine count %ld != %ld\n", count, n);
    return 1;
  }
  aio::bench::report("green-await", "ns_per_co_await", ns / double(n), "ns");

  for (long batch : {10L, 1000L}) {
    double task_ns = aio::run(green_tasks(n, batch));
    if (task_ns < 0) {
      std::fprintf(stderr, "green-await: wrong sum of green task results\n");
      return 1;
    }
    aio::bench::report("green-await", batch == 10 ? "ns_per_green_task" : "ns_per_green_task_fresh",
                       task_ns / double(n), "ns");
  }
  return 0;
}
