// aio::to_thread: asyncio.to_thread — a blocking call on the loop's default executor.
#pragma once
#include <utility>

#include "run_in_executor.hpp"

namespace aio {

/// co_await aio::to_thread(fn, args...) -> R: runs the blocking fn(args...) on the running
/// loop's default executor while the loop goes on. fn and args are decay-copied (std::ref
/// for a reference). Exceptions come back with their type; cancelling the awaiting task
/// cancels the wait at once (a call already running runs on, its result dropped).
template <class F, class... A>
  requires std::invocable<std::decay_t<F>, std::decay_t<A>...>
Future<detail::call_result_t<F, A...>> to_thread(F&& fn, A&&... args) {
  EventLoop& loop = get_running_loop();
  return run_in_executor(loop, nullptr, std::forward<F>(fn), std::forward<A>(args)...);
}

}  // namespace aio
