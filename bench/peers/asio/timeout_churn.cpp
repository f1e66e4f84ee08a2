// timeout-churn, Boost.Asio 1.81 C++20 awaitables, one io_context on one thread:
// N sequential wait_for(op(), 10 s), written the idiomatic Asio way: a steady_timer
// raced against the operation with experimental::awaitable_operators `||` (the
// loser is cancelled and awaited; the result is std::variant<int, std::monostate>).
// op() is a trivial awaitable coroutine, `co_return 1;`, that never suspends --
// the same as Python's `async def op(): return 1`.  The sum is checked.
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

static asio::awaitable<int> op() { co_return 1; }

template <class T>
static asio::awaitable<T> wait_for(asio::awaitable<T> a, std::chrono::steady_clock::duration timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto r = co_await (std::move(a) || timer.async_wait(asio::use_awaitable));
  if (r.index() != 0) throw boost::system::system_error(asio::error::timed_out);
  co_return std::get<0>(std::move(r));
}

static asio::awaitable<uint64_t> churn(uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; i++) s += co_await wait_for(op(), 10s);
  co_return s;
}

int main(int argc, char** argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], nullptr, 10) : 1000000;
  asio::io_context ctx(1);
  uint64_t sum = 0;
  auto t0 = std::chrono::steady_clock::now();
  asio::co_spawn(ctx, churn(n), [&](std::exception_ptr e, uint64_t s) {
    if (e) std::rethrow_exception(e);
    sum = s;
  });
  ctx.run();
  auto t1 = std::chrono::steady_clock::now();
  if (n == 0 || sum != n) {
    fprintf(stderr, "asio timeout-churn: bad sum %llu\n", (unsigned long long)sum);
    return 1;
  }
  printf("timeout-churn asio ns_per_op %.1f ns\n", std::chrono::duration<double, std::nano>(t1 - t0).count() / double(n));
  return 0;
}
