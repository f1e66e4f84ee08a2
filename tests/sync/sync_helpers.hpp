// Shared helpers of the sync tests.
#pragma once
#include <aio/testing.hpp>

#include <sstream>
#include <string>

namespace sync_test {

/// What `os << x` prints.
template <class T>
std::string repr(const T& x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

/// Lets every task that is ready run once (asyncio's `await asyncio.sleep(0)`).
inline auto tick() { return aio::sleep(0); }

/// True when `co_await make()` throws E: `co_await throws<aio::QueueEmpty>([&] { return q.get(); })`.
template <class E, class F>
aio::Task<bool> throws(F make) {
  try {
    co_await make();
  } catch (const E&) {
    co_return true;
  } catch (...) {
    co_return false;
  }
  co_return false;
}

}  // namespace sync_test
