// spawn N: N tasks each yield once (sleep(0)) and return their index; all gathered.
#include <aio/aio.hpp>

#include "bench.hpp"

namespace {
aio::Task<long> work(long i) {
  co_await aio::sleep(0);
  co_return i;
}

aio::Task<double> spawn_all(long n) {
  auto started = aio::bench::Clock::now();
  std::vector<aio::TaskHandle<long>> tasks;
  tasks.reserve(n);
  for (long i = 0; i < n; ++i) tasks.push_back(aio::create_task(work(i)));
  auto results = co_await aio::gather(std::move(tasks));
  double ns = aio::bench::ns_since(started);
  long sum = 0;
  for (long v : results) sum += v;
  if (sum != n * (n - 1) / 2) co_return -1;
  co_return ns;
}
}  // namespace

AIO_BENCH_WORKLOAD("spawn", args) {
  long n = aio::bench::count_arg(args, 0, 1000000);
  double ns = aio::run(spawn_all(n));
  if (ns < 0) {
    std::fprintf(stderr, "spawn: wrong sum\n");
    return 1;
  }
  aio::bench::report("spawn", "ns_per_task", ns / double(n), "ns");
  return 0;
}
