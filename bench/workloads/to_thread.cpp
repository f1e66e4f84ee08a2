// to_thread (bench/peers/README.md): N round trips of a trivial function through the loop's
// default executor, awaited one at a time; the sum is checked. One untimed call first starts
// the worker thread, as the Python peers do.
//   ns_per_call: wall time of the N awaited calls / N.
#include <aio/aio.hpp>

#include <cstdio>

#include "bench.hpp"

namespace {
long one() { return 1; }
}  // namespace

AIO_BENCH_WORKLOAD("to_thread", args) {
  long n = aio::bench::count_arg(args, 0, 100000);
  double ns = 0;
  long sum = aio::run([](long n, double& ns) -> aio::Task<long> {
    co_await aio::to_thread(one);
    long s = 0;
    auto start = aio::bench::Clock::now();
    for (long i = 0; i < n; ++i) s += co_await aio::to_thread(one);
    ns = aio::bench::ns_since(start);
    co_return s;
  }(n, ns));
  if (sum != n) {
    std::fprintf(stderr, "to_thread: sum %ld != %ld\n", sum, n);
    return 1;
  }
  aio::bench::report("to_thread", "ns_per_call", ns / double(n), "ns");
  return 0;
}
