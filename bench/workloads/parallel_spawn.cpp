// parallel-spawn: the spawn workload (shared/peers W1) split over aio::run_parallel(L) loops
// on L threads (L = 2 unless given as the second argument). N tasks in all, shard k creates
// the tasks of indices k, k+L, k+2L...; each task `co_await aio::sleep(0)` once and returns
// its index; each shard gathers its tasks and sums them; the total must be N(N-1)/2.
// Each side runs in a forked child of its own, one after the other: a fresh address space
// whose frames come from cold memory, as in a new `aio_bench spawn` process (measured in one
// process, the second side would fault in a second 200 MiB and look slower than it is).
//   ns_per_task:          wall time of run_parallel(L) (loops included) / N;
//   ns_per_task_one_loop: the same N tasks on one loop (aio::run);
//   speedup:              ns_per_task_one_loop / ns_per_task;
//   *_warm:               the same, run a second time in the same child: every thread reuses
//                         the frames it recycled (no page faults), run_parallel its threads.
#include <aio/aio.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
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

/// Runs `measure` (two figures, or -1 for a wrong result) in a forked child and returns them
/// (-1 too when the child could not be started or died before answering).
template <class Measure>
std::array<double, 2> in_fresh_child(Measure measure) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1, -1};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::array<double, 2> figures = measure();
    bool written = ::write(fds[1], figures.data(), sizeof figures) == sizeof figures;
    ::_exit(written ? 0 : 1);
  }
  ::close(fds[1]);
  std::array<double, 2> figures{-1, -1};
  if (pid < 0 || ::read(fds[0], figures.data(), sizeof figures) != sizeof figures) figures = {-1, -1};
  ::close(fds[0]);
  int status = 0;
  if (pid > 0) ::waitpid(pid, &status, 0);
  return figures;
}

}  // namespace

AIO_BENCH_WORKLOAD("parallel-spawn", args) {
  const long n = aio::bench::count_arg(args, 0, 1000000);
  const long loops = aio::bench::count_arg(args, 1, 2);
  const long expected = n * (n - 1) / 2;

  auto one_loop = [&] {
    auto t0 = aio::bench::Clock::now();
    if (aio::run(shard_body(n, 0, 1)) != expected) return -1.0;
    return aio::bench::ns_since(t0) / double(n);
  };
  auto parallel = [&] {
    auto t0 = aio::bench::Clock::now();
    std::vector<long> sums =
        aio::run_parallel(static_cast<int>(loops), [n, loops](int shard) { return shard_body(n, shard, loops); });
    double ns = aio::bench::ns_since(t0);
    return std::accumulate(sums.begin(), sums.end(), 0L) == expected ? ns / double(n) : -1.0;
  };
  auto cold_then_warm = [](auto measure) {
    return [measure]() -> std::array<double, 2> { return {measure(), measure()}; };
  };
  // No thread has started yet, so forking is safe.
  auto [one_cold, one_warm] = in_fresh_child(cold_then_warm(one_loop));
  auto [cold, warm] = in_fresh_child(cold_then_warm(parallel));

  if (one_cold < 0 || one_warm < 0 || cold < 0 || warm < 0) {
    std::fprintf(stderr, "parallel-spawn: a wrong sum, or a measuring child that failed\n");
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
