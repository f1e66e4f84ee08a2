// green-await N: one green task does N `green::await_(aio::sleep(0))`; each is a yield to the loop
// and back through the task's greenlet (two greenlet switches and one loop iteration).
//   ns_per_await:      the green task;
//   ns_per_co_await:   the same loop in a coroutine task (`co_await aio::sleep(0)`), for scale;
//   ns_per_green_task: N/1000 rounds of 1000 green tasks each doing one await_(sleep(0)),
//                      gathered: spawn's workload with greenlets (stack from the per-thread cache
//                      or mmap, first switch, the driver coroutine).
#include <aio/aio.hpp>
#include <aio/green.hpp>

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

aio::Task<double> green_tasks(long n) {
  constexpr long kBatch = 1000;
  auto started = aio::bench::Clock::now();
  long sum = 0;
  long expected = 0;
  for (long done = 0; done < n; done += kBatch) {
    long batch = std::min(kBatch, n - done);
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

  double task_ns = aio::run(green_tasks(n));
  if (task_ns < 0) {
    std::fprintf(stderr, "green-await: wrong sum of green task results\n");
    return 1;
  }
  aio::bench::report("green-await", "ns_per_green_task", task_ns / double(n), "ns");
  return 0;
}
