// aio::testing: run coroutine tests on a loop with a virtual clock — sleeps, timeouts
// and wait() finish instantly and in a deterministic order.
#pragma once
#include <gtest/gtest.h>

#include <optional>

#include "aio.hpp"

namespace aio::testing {

/// aio::run on a virtual clock: when nothing is ready, time jumps to the next timer.
template <class T>
T run(Task<T> main, RunOptions options = {}) {
  options.virtual_time = true;
  return aio::run(std::move(main), options);
}

/// The exception of type E that awaiting `aw` raises, or nullopt when it raises none
/// (another type propagates). A temporary awaitable lives through the co_await.
template <class E, class A>
Task<std::optional<E>> error_of(A&& aw) {
  try {
    co_await std::forward<A>(aw);
  } catch (const E& e) {
    co_return e;
  }
  co_return std::nullopt;
}

/// The same for an awaitable that cannot move (wait_for's): `make()` builds it inside the co_await.
template <class E, class F>
Task<std::optional<E>> error_from(F make) {
  try {
    co_await make();
  } catch (const E& e) {
    co_return e;
  }
  co_return std::nullopt;
}

}  // namespace aio::testing

/// A GoogleTest test whose body is a coroutine run by aio::testing::run:
///   AIO_TEST(Sleep, Zero) { co_await aio::sleep(0); EXPECT_TRUE(...); }
/// Use EXPECT_* (ASSERT_* returns, which a coroutine cannot).
#define AIO_TEST(Suite, Name)                                                 \
  static ::aio::Task<> Suite##_##Name##_aio_body();                          \
  TEST(Suite, Name) { ::aio::testing::run(Suite##_##Name##_aio_body()); }    \
  static ::aio::Task<> Suite##_##Name##_aio_body()
