// parallel-spawn: the spawn workload (shared/peers W1) split over aio::run_parallel(L) loops
// on L threads (L = 2 unless given as the second argument). N tasks in all, shard k creates
// the tasks of indices k, k+L, k+2L...; each task `co_await aio::sleep(0)` once and returns
// its index; each shard gathers its tasks and sums them; the total must be N(N-1)/2.
//   ns_per_task:          wall time of run_parallel(L) (loops included) / N, run first, so that
//                         its frames come from cold memory, as in `aio_bench spawn`;
//   ns_per_task_one_loop: the same N tasks on one loop (aio::run on a new thread, whose frame
//                         cache is cold too), measured afterwards in the same process;
//   speedup:              ns_per_task_one_loop / ns_per_task;
//   *_warm:               the same, run a second time: run_parallel reuses its shard threads,
//                         every thread reuses the frames it recycled (no page faults).
#include <aio/aio.hpp>

#include <cstdio>
#include <numeric>
#include <thread>
#include <vector>

#include "bench.hpp"

namespace {

aio::Task<long> child(long i) {
  co_await aio::sleep(0);
  co_return i;
}

aio::Task<long> shard_body(long n, long first, long step) {
  std::vector<aio::TaskHandle<long>> tasks;
  tasks.reserve(static_cast<std::size_t>((n - first + step - 1) / step));
  for (long i = first; i < n; i += step) tasks.push_back(aio::create_task(child(i)));
  std::vector<long> results = co_await aio::gather(std::move(tasks));
  co_return std::accumulate(results.begin(), results.end(), 0L);
}

}  // namespace

AIO_BENCH_WORKLOAD("parallel-spawn", args) {
  long n = aio::bench::count_arg(args, 0, 1000000);
  long loops = aio::bench::count_arg(args, 1, 2);
  const long expected = n * (n - 1) / 2;
  bool ok = true;

  auto parallel = [&] {
    auto t0 = aio::bench::Clock::now();
    std::vector<long> sums =
        aio::run_parallel(static_cast<int>(loops), [n, loops](int shard) { return shard_body(n, shard, loops); });
    double ns = aio::bench::ns_since(t0);
    ok = ok && std::accumulate(sums.begin(), sums.end(), 0L) == expected;
    return ns / double(n);
  };
  // First, in a fresh process, as `aio_bench spawn` runs: every frame from cold memory.
  double cold = parallel();
  // Again: the shard threads are reused, and so are the frames they recycled.
  double warm = parallel();

  // The reference on one loop, on a new thread (its frame cache is cold), then again on it.
  double one_cold = 0, one_warm = 0;
  std::thread([&] {
    for (double* out : {&one_cold, &one_warm}) {
      auto t0 = aio::bench::Clock::now();
      ok = ok && aio::run(shard_body(n, 0, 1)) == expected;
      *out = aio::bench::ns_since(t0) / double(n);
    }
  }).join();

  if (!ok) {
    std::fprintf(stderr, "parallel-spawn: wrong sum\n");
    return 1;
  }
  aio::bench::report("parallel-spawn", "ns_per_task", cold, "ns");
  aio::bench::report("parallel-spawn", "ns_per_task_one_loop", one_cold, "ns");
  aio::bench::report("parallel-spawn", "speedup", one_cold / cold, "x");
  aio::bench::report("parallel-spawn", "ns_per_task_warm", warm, "ns");
  aio::bench::report("parallel-spawn", "ns_per_task_one_loop_warm", one_warm, "ns");
  aio::bench::report("parallel-spawn", "speedup_warm", one_warm / warm, "x");
  return 0;
}
