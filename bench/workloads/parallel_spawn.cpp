// parallel-spawn: the spawn workload (shared/peers W1) split over aio::run_parallel(L) loops
// on L threads (L = 2 unless given as the second argument). N tasks in all, shard k creates
// the tasks of indices k, k+L, k+2L...; each task `co_await aio::sleep(0)` once and returns
// its index; each shard gathers its tasks and sums them; the total must be N(N-1)/2.
//   ns_per_task:          wall time of run_parallel(L) (threads and loops included) / N;
//   ns_per_task_one_loop: the same N tasks on one loop (aio::run), measured in the same process;
//   speedup:              ns_per_task_one_loop / ns_per_task.
#include <aio/aio.hpp>

#include <cstdio>
#include <numeric>
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

  auto start = aio::bench::Clock::now();
  long one = aio::run(shard_body(n, 0, 1));
  double ns_one = aio::bench::ns_since(start);

  start = aio::bench::Clock::now();
  std::vector<long> sums =
      aio::run_parallel(static_cast<int>(loops), [n, loops](int shard) { return shard_body(n, shard, loops); });
  double ns_par = aio::bench::ns_since(start);
  long total = std::accumulate(sums.begin(), sums.end(), 0L);

  if (one != expected || total != expected) {
    std::fprintf(stderr, "parallel-spawn: sums %ld, %ld != %ld\n", one, total, expected);
    return 1;
  }
  aio::bench::report("parallel-spawn", "ns_per_task", ns_par / double(n), "ns");
  aio::bench::report("parallel-spawn", "ns_per_task_one_loop", ns_one / double(n), "ns");
  aio::bench::report("parallel-spawn", "speedup", ns_one / ns_par, "x");
  return 0;
}
