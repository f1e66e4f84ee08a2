// aio_bench <workload> [args...]: runs one benchmark workload (see bench/README.md).
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "bench.hpp"

namespace aio::bench {
namespace {
std::map<std::string, WorkloadFn, std::less<>>& registry() {
  static std::map<std::string, WorkloadFn, std::less<>> workloads;
  return workloads;
}
}  // namespace

Registrar::Registrar(std::string_view name, WorkloadFn fn) { registry().emplace(std::string(name), fn); }

long count_arg(Args args, std::size_t i, long fallback) {
  if (i >= args.size()) return fallback;
  char* end = nullptr;
  long v = std::strtol(args[i], &end, 10);
  if (*end != '\0' || v <= 0) {
    std::fprintf(stderr, "aio_bench: '%s' is not a positive count\n", args[i]);
    std::exit(2);
  }
  return v;
}
}  // namespace aio::bench

int main(int argc, char** argv) {
  auto& workloads = aio::bench::registry();
  if (argc < 2 || !workloads.contains(std::string_view(argv[1]))) {
    std::fprintf(stderr, "usage: aio_bench <workload> [args...]\nworkloads:");
    for (auto& [name, fn] : workloads) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  return workloads.find(std::string_view(argv[1]))->second(aio::bench::Args(argv + 2, argv + argc));
}
