// semaphore, Boost.Asio 1.81 C++20 awaitables, one io_context on one thread:
// N coroutines are co_spawn'ed at once; each passes a semaphore of 10 once, with one
// `co_await post(executor)` (= asyncio.sleep(0)) inside the critical section.
// Asio has no semaphore; the usual stand-in, used here, is an
// experimental::channel<void(error_code)> of capacity 10: acquire = async_send of a
// token (suspends while the buffer holds 10), release = try_receive of one token
// (which moves the oldest waiting sender's token into the buffer and resumes it).
// Joined like the shared asio spawn peer: each completion handler counts.
// The count and the peak occupancy (must be 10) are checked.
#include <boost/asio.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace asio = boost::asio;
using semaphore_t = asio::experimental::channel<void(boost::system::error_code)>;

static int inside = 0, peak = 0;

static asio::awaitable<void> worker(semaphore_t& sem) {
  co_await sem.async_send(boost::system::error_code{}, asio::use_awaitable);  // acquire
  peak = std::max(peak, ++inside);
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  --inside;
  sem.try_receive([](boost::system::error_code) {});  // release
}

int main(int argc, char** argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], nullptr, 10) : 1000000;
  asio::io_context ctx(1);
  semaphore_t sem(ctx, 10);
  uint64_t done = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n; i++)
    asio::co_spawn(ctx, worker(sem), [&done](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      ++done;
    });
  ctx.run();
  auto t1 = std::chrono::steady_clock::now();
  if (n == 0 || done != n || peak != int(std::min<uint64_t>(n, 10))) {
    fprintf(stderr, "asio semaphore: done %llu peak %d\n", (unsigned long long)done, peak);
    return 1;
  }
  printf("semaphore asio ns_per_task %.1f ns\n", std::chrono::duration<double, std::nano>(t1 - t0).count() / double(n));
  return 0;
}
