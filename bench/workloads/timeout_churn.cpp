// timeout-churn N: N sequential wait_for(op, 10 s) where op completes at once: the timer
// armed and disarmed around nearly every I/O in real code.
#include <aio/aio.hpp>

#include "bench.hpp"

namespace {
aio::Task<long> op(long i) { co_return i; }

aio::Task<double> churn(long n, long* sum) {
  auto started = aio::bench::Clock::now();
  for (long i = 0; i < n; ++i) *sum += co_await aio::wait_for(op(i), std::chrono::seconds(10));
  co_return aio::bench::ns_since(started);
}
}  // namespace

AIO_BENCH_WORKLOAD("timeout-churn", args) {
  long n = aio::bench::count_arg(args, 0, 1000000);
  long sum = 0;
  double ns = aio::run(churn(n, &sum));
  if (sum != n * (n - 1) / 2) {
    std::fprintf(stderr, "timeout-churn: wrong sum\n");
    return 1;
  }
  aio::bench::report("timeout-churn", "ns_per_op", ns / double(n), "ns");
  return 0;
}
