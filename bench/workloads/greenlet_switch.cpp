// greenlet-switch (bench/peers/README.md): the main greenlet and one child switch back and forth,
// N switches in all (each switch_to() counts as one, N rounded down to even).
//   ns_per_switch:      the value passed along is incremented on every switch and checked, as in
//                       the Python greenlet peer (so std::any's cost is included);
//   ns_per_bare_switch: no value, a counter checked, as in the raw Boost.Context floor-fcontext.
#include <aio/green.hpp>

#include <any>
#include <cstdio>

#include "bench.hpp"

AIO_BENCH_WORKLOAD("greenlet-switch", args) {
  long n = aio::bench::count_arg(args, 0, 1000000);
  long rounds = n / 2;
  if (rounds <= 0) {
    std::fprintf(stderr, "greenlet-switch: N must be at least 2\n");
    return 2;
  }
  aio::green::Greenlet& main = aio::green::getcurrent();

  aio::green::Greenlet child([&](std::any v) {
    for (;;) v = main.switch_to(std::any_cast<long>(v) + 1);
  });
  long v = 0;
  auto start = aio::bench::Clock::now();
  for (long i = 0; i < rounds; ++i) v = std::any_cast<long>(child.switch_to(v + 1));
  double ns = aio::bench::ns_since(start);
  if (v != 2 * rounds) {
    std::fprintf(stderr, "greenlet-switch: bad value %ld != %ld\n", v, 2 * rounds);
    return 1;
  }
  aio::bench::report("greenlet-switch", "ns_per_switch", ns / double(2 * rounds), "ns");

  long count = 0;
  aio::green::Greenlet bare([&] {
    for (;;) {
      ++count;
      main.switch_to();
    }
  });
  start = aio::bench::Clock::now();
  for (long i = 0; i < rounds; ++i) bare.switch_to();
  ns = aio::bench::ns_since(start);
  if (count != rounds) {
    std::fprintf(stderr, "greenlet-switch: count %ld != %ld\n", count, rounds);
    return 1;
  }
  aio::bench::report("greenlet-switch", "ns_per_bare_switch", ns / double(2 * rounds), "ns");
  return 0;
}
