// Networking tests run on both backends: NET_TEST(Suite, Name) { ... } registers the body
// twice, as Suite_epoll.Name and Suite_io_uring.Name, each on the virtual clock of
// aio::testing::run (sleeps and timeouts jump; finished I/O is taken before the clock moves)
// with RunOptions.backend set. NET_REAL_TEST does the same on the real clock.
#pragma once
#include <sys/resource.h>

#include <aio/net.hpp>
#include <aio/testing.hpp>
#include <string>

namespace net_test {

/// Awaits `body` after checking that the loop really runs on `backend` (no silent fallback).
inline aio::Task<> on_backend(aio::Backend backend, aio::Task<> body) {
  EXPECT_EQ(aio::get_running_loop().poller().backend(), backend) << "the requested backend is not the one running";
  co_await body;
}

inline void run_on(aio::Backend backend, aio::Task<> (*body)(), bool virtual_clock) {
  aio::RunOptions options;
  options.backend = backend;
  if (virtual_clock) aio::testing::run(on_backend(backend, body()), options);
  else aio::run(on_backend(backend, body()), options);
}

/// A payload whose bytes depend on their position (so reordering or loss shows).
inline std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  std::uint32_t x = 2463534242u ^ seed;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>('a' + x % 26);
  }
  return s;
}

/// An echo handler: reads chunks and writes them back until EOF.
inline aio::Task<> echo_handler(aio::StreamReader reader, aio::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(65536);
    if (data.empty()) break;
    writer.write(std::move(data));
    co_await writer.drain();
  }
  writer.close();
}

/// Raises RLIMIT_NOFILE to `want` (raising the hard limit too when allowed: root); the limit
/// in force afterwards.
inline rlim_t raise_fd_limit(rlim_t want) {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur >= want) return r.rlim_cur;
  rlimit wanted{want, r.rlim_max < want ? want : r.rlim_max};
  if (::setrlimit(RLIMIT_NOFILE, &wanted) == 0) return want;
  wanted = {r.rlim_max, r.rlim_max};
  ::setrlimit(RLIMIT_NOFILE, &wanted);
  ::getrlimit(RLIMIT_NOFILE, &r);
  return r.rlim_cur;
}

}  // namespace net_test

#define NET_TEST_IMPL(Suite, Name, Virtual)                                                             \
  static ::aio::Task<> Suite##_##Name##_net_body();                                                   \
  TEST(Suite##_epoll, Name) { ::net_test::run_on(::aio::Backend::epoll, &Suite##_##Name##_net_body, Virtual); } \
  TEST(Suite##_io_uring, Name) {                                                                       \
    ::net_test::run_on(::aio::Backend::io_uring, &Suite##_##Name##_net_body, Virtual);                 \
  }                                                                                                    \
  static ::aio::Task<> Suite##_##Name##_net_body()

/// A coroutine test run once per backend on the virtual clock (use EXPECT_*, not ASSERT_*).
#define NET_TEST(Suite, Name) NET_TEST_IMPL(Suite, Name, true)
/// The same on the real clock.
#define NET_REAL_TEST(Suite, Name) NET_TEST_IMPL(Suite, Name, false)
