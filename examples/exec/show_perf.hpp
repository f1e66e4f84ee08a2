// Seed 002 §6 ("running synchronous code"): a blocking function in the loop's default
// executor and a coroutine's sleep overlap, so c1 costs about one of them (1 s in the seed,
// 0.1 s here), not their sum.
#pragma once
#include <aio/aio.hpp>

#include <chrono>
#include <ostream>
#include <string>
#include <thread>

namespace show_perf {

/// def a(): time.sleep(1); return 'A'  — blocking: it must not run on the loop.
inline std::string a() {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return "A";
}

/// async def b(): await asyncio.sleep(1); return 'B'
inline aio::Task<std::string> b() {
  co_await aio::sleep(0.1);
  co_return "B";
}

/// async def c1(): await asyncio.gather(loop.run_in_executor(None, a), b())
inline aio::Task<> c1() {
  aio::EventLoop& loop = aio::get_running_loop();
  co_await aio::gather(loop.run_in_executor(nullptr, a), b());
}

/// def show_perf(func): prints stars, runs func in asyncio.run(), prints the cost.
inline void show_perf(aio::Task<> (*func)(), const char* name, std::ostream& out) {
  out << std::string(20, '*') << '\n';
  auto start = std::chrono::steady_clock::now();
  aio::run(func());
  std::chrono::duration<double> cost = std::chrono::steady_clock::now() - start;
  out << name << " Cost: " << cost.count() << '\n';
}

inline void main(std::ostream& out) { show_perf(c1, "c1", out); }

}  // namespace show_perf
