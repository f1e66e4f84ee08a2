// timers N [MAXMS SEED EXPECTED_SUM_US]: N tasks sleep d_i µs (splitmix64 stream, as every
// peer) and record their lateness; a wake-up more than 1 ms early fails the run.
#include <aio/aio.hpp>
#include <cstdint>
#include <cstdlib>

#include "bench.hpp"

namespace {
std::uint64_t splitmix64(std::uint64_t& s) {
  s += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = s;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

aio::Task<> sleeper(std::uint64_t micros, std::int64_t* lateness_ns) {
  auto start = aio::bench::Clock::now();
  co_await aio::sleep(std::chrono::microseconds(micros));
  auto woke = aio::bench::Clock::now();
  *lateness_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(woke - start).count() -
                 static_cast<std::int64_t>(micros) * 1000;
}

aio::Task<double> run_timers(const std::vector<std::uint64_t>& durations, std::vector<std::int64_t>& lateness) {
  auto started = aio::bench::Clock::now();
  std::vector<aio::TaskHandle<>> tasks;
  tasks.reserve(durations.size());
  for (std::size_t i = 0; i < durations.size(); ++i) tasks.push_back(aio::create_task(sleeper(durations[i], &lateness[i])));
  co_await aio::gather(std::move(tasks));
  co_return aio::bench::ns_since(started);
}
}  // namespace

AIO_BENCH_WORKLOAD("timers", args) {
  long n = aio::bench::count_arg(args, 0, 100000);
  std::uint64_t max_ms = args.size() > 1 ? std::strtoull(args[1], nullptr, 10) : 100;
  std::uint64_t seed = args.size() > 2 ? std::strtoull(args[2], nullptr, 10) : 42;
  std::uint64_t expected = args.size() > 3 ? std::strtoull(args[3], nullptr, 10) : (n == 100000 ? 4996451601ull : 0);
  std::vector<std::uint64_t> durations(n);
  std::uint64_t total = 0;
  for (auto& d : durations) total += d = splitmix64(seed) % (max_ms * 1000 + 1);
  if (expected && total != expected) {
    std::fprintf(stderr, "timers: duration stream mismatch %llu\n", static_cast<unsigned long long>(total));
    return 1;
  }
  std::vector<std::int64_t> lateness(n);
  double wall_ns = aio::run(run_timers(durations, lateness));
  double sum = 0;
  for (auto l : lateness) {
    if (l < -1000000) {
      std::fprintf(stderr, "timers: a task woke %lld ns early\n", static_cast<long long>(-l));
      return 1;
    }
    sum += double(l);
  }
  aio::bench::report("timers", "wall_ms", wall_ns / 1e6, "ms");
  aio::bench::report("timers", "mean_lateness_us", sum / double(n) / 1e3, "us");
  return 0;
}
