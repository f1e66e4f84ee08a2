// spawn N: N tasks each yield once (sleep(0)) and return their index; all gathered.
// "spawn" passes the coroutines to gather, as asyncio.gather(*[work(i) for i in range(n)])
// does; "spawn-handles" creates every task first and gathers their handles.
#include <aio/aio.hpp>

#include <cstddef>

#include "bench.hpp"

namespace {
aio::Task<long> work(long i) {
  co_await aio::sleep(0);
  co_return i;
}

/// work(0) .. work(n-1), each coroutine made as gather takes it (std::views::iota |
/// transform would do, but clang 14 cannot compile libstdc++'s views).
class Coroutines {
 public:
  struct Iterator {
    using value_type = aio::Task<long>;
    using difference_type = std::ptrdiff_t;
    long i;
    aio::Task<long> operator*() const { return work(i); }
    Iterator& operator++() {
      ++i;
      return *this;
    }
    void operator++(int) { ++i; }
    bool operator==(const Iterator&) const = default;
  };
  explicit Coroutines(long n) : n_(n) {}
  Iterator begin() const { return {0}; }
  Iterator end() const { return {n_}; }
  std::size_t size() const { return static_cast<std::size_t>(n_); }

 private:
  long n_;
};

/// Awaits the gathered results; the time since `started`, or -1 when the sum is wrong.
template <class Gathering>
aio::Task<double> sum_checked(Gathering gathering, aio::bench::Clock::time_point started, long n) {
  auto results = co_await std::move(gathering);
  double ns = aio::bench::ns_since(started);
  long sum = 0;
  for (long v : results) sum += v;
  co_return sum == n * (n - 1) / 2 ? ns : -1;
}

aio::Task<double> gather_coroutines(long n) {
  auto started = aio::bench::Clock::now();
  auto gathering = aio::gather(Coroutines(n));
  co_return co_await sum_checked(std::move(gathering), started, n);
}

aio::Task<double> gather_handles(long n) {
  auto started = aio::bench::Clock::now();
  std::vector<aio::TaskHandle<long>> tasks;
  tasks.reserve(n);
  for (long i = 0; i < n; ++i) tasks.push_back(aio::create_task(work(i)));
  auto gathering = aio::gather(std::move(tasks));
  co_return co_await sum_checked(std::move(gathering), started, n);
}

int spawn_workload(const char* name, aio::Task<double> (*body)(long), long n) {
  double ns = aio::run(body(n));
  if (ns < 0) {
    std::fprintf(stderr, "%s: wrong sum\n", name);
    return 1;
  }
  aio::bench::report(name, "ns_per_task", ns / double(n), "ns");
  return 0;
}
}  // namespace

AIO_BENCH_WORKLOAD("spawn", args) { return spawn_workload("spawn", gather_coroutines, aio::bench::count_arg(args, 0, 1000000)); }

AIO_BENCH_WORKLOAD("spawn-handles", args) {
  return spawn_workload("spawn-handles", gather_handles, aio::bench::count_arg(args, 0, 1000000));
}
