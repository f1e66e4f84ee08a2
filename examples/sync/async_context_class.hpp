// Seed 003: an asynchronous context manager class — __aenter__/__aexit__ become
// Task<T&> aenter() and Task<> aexit(std::exception_ptr), used with aio::with().
#pragma once
#include <aio/aio.hpp>

#include <exception>
#include <ostream>

namespace async_context_class {

class AsyncContextManager {
 public:
  /// async def do_something(self): return 666   (a database call in the seed)
  aio::Task<int> do_something() { co_return 666; }
  /// async def __aenter__(self): self.conn = await asyncio.sleep(1); return self
  aio::Task<AsyncContextManager&> aenter() {
    co_await aio::sleep(0.1);  // connect
    connected_ = true;
    co_return *this;
  }
  /// async def __aexit__(self, exc_type, exc, tb): await asyncio.sleep(1)
  aio::Task<> aexit(std::exception_ptr) {
    co_await aio::sleep(0.1);  // disconnect
    connected_ = false;
  }
  bool connected() const noexcept { return connected_; }

 private:
  bool connected_ = false;
};

/// async def func(): async with AsyncContextManager() as f: result = await f.do_something(); print(result)
inline aio::Task<> func(std::ostream& out) {
  AsyncContextManager manager;
  co_await aio::with(manager, [&](AsyncContextManager& f) -> aio::Task<> {
    int result = co_await f.do_something();
    out << result << '\n';
  });
}

}  // namespace async_context_class
