// The aio_bench harness: every workload registers itself by name and prints
// "<workload> aio <metric> <value> <unit>" lines; a wrong result exits non-zero.
#pragma once
#include <chrono>
#include <cstdio>
#include <span>
#include <string_view>

namespace aio::bench {

using Args = std::span<char* const>;  // the arguments after the workload name
using WorkloadFn = int (*)(Args);

struct Registrar {
  Registrar(std::string_view name, WorkloadFn fn);
};

/// Prints one metric line in the harness format.
inline void report(std::string_view workload, std::string_view metric, double value, std::string_view unit) {
  std::printf("%.*s aio %.*s %.1f %.*s\n", int(workload.size()), workload.data(), int(metric.size()), metric.data(),
              value, int(unit.size()), unit.data());
  std::fflush(stdout);
}

/// Reads argument i as a count, or returns fallback when absent.
long count_arg(Args args, std::size_t i, long fallback);

using Clock = std::chrono::steady_clock;
inline double ns_since(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

}  // namespace aio::bench

#define AIO_BENCH_CONCAT2(a, b) a##b
#define AIO_BENCH_CONCAT(a, b) AIO_BENCH_CONCAT2(a, b)
/// Defines and registers a workload: AIO_BENCH_WORKLOAD("spawn", args) { ...; return 0; }
#define AIO_BENCH_WORKLOAD(name, args)                                                          \
  static int AIO_BENCH_CONCAT(aio_bench_fn_, __LINE__)(::aio::bench::Args);                    \
  static ::aio::bench::Registrar AIO_BENCH_CONCAT(aio_bench_reg_, __LINE__){                   \
      name, &AIO_BENCH_CONCAT(aio_bench_fn_, __LINE__)};                                         \
  static int AIO_BENCH_CONCAT(aio_bench_fn_, __LINE__)([[maybe_unused]] ::aio::bench::Args args)
