// loop.run_in_executor(executor, fn, args...) and the loop's default executor.
#pragma once
#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../core/event_loop.hpp"
#include "detail/job.hpp"
#include "thread_pool.hpp"

namespace aio {

/// Something run_in_executor() can hand work to: ThreadPoolExecutor, ProcessPoolExecutor,
/// or any type with the same submit_on(loop, fn, args...) -> Future<R>.
template <class E, class F, class... A>
concept ExecutorFor = requires(E& executor, EventLoop& loop, F&& fn, A&&... args) {
  executor.submit_on(loop, std::forward<F>(fn), std::forward<A>(args)...);
};

/// The loop's default executor: a ThreadPoolExecutor created on first use and shut down
/// (waiting for its jobs) when run() or close() shuts the loop down. Loop thread only.
inline ThreadPoolExecutor& default_executor(EventLoop& loop) { return detail::LoopLink::of(loop).get()->default_executor(); }

/// asyncio's loop.run_in_executor(executor, fn, *args): runs fn(args...) on `executor` (a
/// pointer; nullptr: the loop's default executor) and returns a Future of `loop` for its
/// result. Call it on the loop's thread. Same as loop.run_in_executor(executor, fn, args...).
template <class F, class... A>
  requires std::invocable<std::decay_t<F>, std::decay_t<A>...>
Future<detail::call_result_t<F, A...>> run_in_executor(EventLoop& loop, std::nullptr_t, F&& fn, A&&... args) {
  return default_executor(loop).submit_on(loop, std::forward<F>(fn), std::forward<A>(args)...);
}
template <class E, class F, class... A>
  requires ExecutorFor<E, F, A...>
auto run_in_executor(EventLoop& loop, E* executor, F&& fn, A&&... args) {
  if (!executor) return run_in_executor(loop, nullptr, std::forward<F>(fn), std::forward<A>(args)...);
  return executor->submit_on(loop, std::forward<F>(fn), std::forward<A>(args)...);
}

template <class E, class F, class... A>
auto EventLoop::run_in_executor(E executor, F&& fn, A&&... args) {
  static_assert(std::is_null_pointer_v<E> || std::is_pointer_v<E>,
                "run_in_executor: pass a pointer to an executor, or nullptr for the default one");
  return aio::run_in_executor(*this, executor, std::forward<F>(fn), std::forward<A>(args)...);
}

}  // namespace aio
