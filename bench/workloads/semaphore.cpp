// semaphore N: N tasks each pass one Semaphore(10) once, yielding to the loop inside the
// critical section (so 10 are inside and the rest queue); all gathered; ns per task.
// The count and the peak occupancy (10) are checked, as the peers do.
#include <aio/aio.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench.hpp"

namespace {
struct Shared {
  aio::Semaphore sem{10};
  long inside = 0;
  long peak = 0;
  long passed = 0;
};

aio::Task<> pass(Shared& s) {
  auto held = co_await s.sem.hold();
  s.peak = std::max(s.peak, ++s.inside);
  co_await aio::sleep(0);
  --s.inside;
  ++s.passed;
}

aio::Task<double> run_all(long n, Shared& s) {
  auto started = aio::bench::Clock::now();
  std::vector<aio::TaskHandle<>> tasks;
  tasks.reserve(n);
  for (long i = 0; i < n; ++i) tasks.push_back(aio::create_task(pass(s)));
  co_await aio::gather(std::move(tasks));
  co_return aio::bench::ns_since(started);
}
}  // namespace

AIO_BENCH_WORKLOAD("semaphore", args) {
  long n = aio::bench::count_arg(args, 0, 1000000);
  Shared s;
  double ns = aio::run(run_all(n, s));
  if (s.passed != n || s.peak != 10) {
    std::fprintf(stderr, "semaphore: passed %ld of %ld, peak %ld (want 10)\n", s.passed, n, s.peak);
    return 1;
  }
  aio::bench::report("semaphore", "ns_per_task", ns / double(n), "ns");
  return 0;
}
