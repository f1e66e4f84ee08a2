// The exception types of aio's synchronisation primitives and generators, as asyncio's.
#pragma once
#include <stdexcept>

namespace aio {

/// put_nowait() on a full queue.
class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("") {}
  using std::runtime_error::runtime_error;
};

/// get_nowait() on an empty queue.
class QueueEmpty : public std::runtime_error {
 public:
  QueueEmpty() : std::runtime_error("") {}
  using std::runtime_error::runtime_error;
};

/// put() or get() on a queue that was shut down (get() only once it is empty, unless
/// the shutdown was immediate).
class QueueShutDown : public std::runtime_error {
 public:
  QueueShutDown() : std::runtime_error("") {}
  using std::runtime_error::runtime_error;
};

/// Barrier::wait() on a barrier that is reset or aborted (Python's RuntimeError subclass).
class BrokenBarrierError : public std::runtime_error {
 public:
  BrokenBarrierError() : std::runtime_error("") {}
  using std::runtime_error::runtime_error;
};

/// Thrown at a generator's co_yield by close()/aclose(). Like Python's GeneratorExit (a
/// BaseException) it does not derive from std::exception, so `catch (const std::exception&)`
/// in a generator body does not swallow it.
class GeneratorExit {
 public:
  const char* what() const noexcept { return "GeneratorExit"; }
};

}  // namespace aio
