// aio::testing: run coroutine tests on a loop with a virtual clock — sleeps, timeouts
// and wait() finish instantly and in a deterministic order.
#pragma once
#include <gtest/gtest.h>

#include "aio.hpp"

namespace aio::testing {

/// aio::run on a virtual clock: when nothing is ready, time jumps to the next timer.
template <class T>
T run(Task<T> main, RunOptions options = {}) {
  options.virtual_time = true;
  return aio::run(std::move(main), options);
}

}  // namespace aio::testing

/// A GoogleTest test whose body is a coroutine run by aio::testing::run:
///   AIO_TEST(Sleep, Zero) { co_await aio::sleep(0); EXPECT_TRUE(...); }
/// Use EXPECT_* (ASSERT_* returns, which a coroutine cannot).
#define AIO_TEST(Suite, Name)                                                 \
  static ::aio::Task<> Suite##_##Name##_aio_body();                          \
  TEST(Suite, Name) { ::aio::testing::run(Suite##_##Name##_aio_body()); }    \
  static ::aio::Task<> Suite##_##Name##_aio_body()
