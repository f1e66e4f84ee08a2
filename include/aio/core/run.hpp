// aio::run: asyncio.run — a fresh loop for one main coroutine, cleaned up afterwards.
#pragma once
#include "event_loop.hpp"

namespace aio {
namespace detail {

/// What run() does around the main task: a new loop made current, SIGINT turned into
/// cancellation of main, and on the way out the leftover tasks cancelled and awaited,
/// the shutdown hooks run (default executor) and the loop closed.
class Runner {
 public:
  explicit Runner(RunOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  EventLoop& loop() noexcept { return loop_; }
  /// Runs until main is done; KeyboardInterrupt when SIGINT cancelled it.
  void run_main(TaskHandle<> main);

 private:
  void cancel_leftovers() noexcept;
  EventLoop loop_;
  bool sigint_installed_ = false;
};

}  // namespace detail

/// Runs `main` on a new event loop and returns its result (or rethrows its exception).
/// Afterwards the thread has no loop set (asyncio's set_event_loop(None)): get_event_loop()
/// makes a new one. std::runtime_error when called while a loop runs on this thread.
template <class T>
T run(Task<T> main, RunOptions options = {}) {
  detail::Runner runner(options);
  auto handle = runner.loop().create_task(std::move(main));
  runner.run_main(handle);
  return handle.result();
}

}  // namespace aio
