// pingpong M: a producer puts 0..M-1 into one Queue<int>(1), a consumer gets and sums
// them; ns per message. Same shape as the peers' (Go chan of 1, Tokio mpsc(1), asyncio Queue(1)).
#include <aio/aio.hpp>

#include <cstdio>

#include "bench.hpp"

namespace {
aio::Task<> produce(aio::Queue<int>& q, long m) {
  for (long i = 0; i < m; ++i) co_await q.put(static_cast<int>(i));
}

aio::Task<> consume(aio::Queue<int>& q, long m, long long& sum) {
  for (long i = 0; i < m; ++i) sum += co_await q.get();
}

aio::Task<double> pingpong(long m, long long& sum) {
  aio::Queue<int> q(1);
  auto started = aio::bench::Clock::now();
  co_await aio::gather(produce(q, m), consume(q, m, sum));
  co_return aio::bench::ns_since(started);
}
}  // namespace

AIO_BENCH_WORKLOAD("pingpong", args) {
  long m = aio::bench::count_arg(args, 0, 1000000);
  long long sum = 0;
  double ns = aio::run(pingpong(m, sum));
  if (sum != static_cast<long long>(m) * (m - 1) / 2) {
    std::fprintf(stderr, "pingpong: wrong sum %lld\n", sum);
    return 1;
  }
  aio::bench::report("pingpong", "ns_per_msg", ns / double(m), "ns");
  return 0;
}
