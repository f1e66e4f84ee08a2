// Crossing threads: wrap_future (a std::future awaited by a loop) and
// run_coroutine_threadsafe (a coroutine handed to another thread's loop).
#pragma once
#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include "../core/event_loop.hpp"
#include "../core/task.hpp"
#include "../core/task_handle.hpp"
#include "detail/job.hpp"

namespace aio {
namespace detail {

/// The threads that wait on std::futures for wrap_future(): a process-wide pool, separate
/// from the default executors so that a future that never becomes ready does not hold
/// up the shutdown of a loop.
ThreadPoolExecutor& future_waiters();
/// Queues a job on future_waiters() (defined where ThreadPoolExecutor is complete).
void enqueue_future_waiter(ExecJob* job);

template <class R, class Fut>
Future<R> wrap_future_on(EventLoop& loop, Fut fut) {
  if (!fut.valid()) throw std::invalid_argument("wrap_future() needs a valid std::future");
  auto future = Future<R>::create(loop);
  if (fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    try {
      if constexpr (std::is_void_v<R>) {
        fut.get();
        future.set_result();
      } else {
        future.set_result(fut.get());
      }
    } catch (const CancelledError& e) {
      future.cancel(e.what());
    } catch (...) {
      future.set_exception(std::current_exception());
    }
    return future;
  }
  auto get = [fut = std::move(fut)]() mutable -> R {
    if constexpr (std::is_void_v<R>) fut.get();
    else return fut.get();
  };
  auto link = LoopLink::of(loop);
  auto* job = new ThreadJob<R, decltype(get)>(future, std::move(get));
  link->track_and_enqueue(job, enqueue_future_waiter);
  return future;
}

}  // namespace detail

/// asyncio.wrap_future for std::future: co_await aio::wrap_future(std::move(f)) -> R, with
/// the producer's exception rethrown with its type. The Future belongs to the running loop
/// (else this thread's loop). A ready future completes at once; otherwise a helper thread
/// waits for it. Cancelling the Future stops waiting, not the producer.
template <class R>
Future<R> wrap_future(std::future<R> fut) {
  return detail::wrap_future_on<R>(get_event_loop(), std::move(fut));
}
template <class R>
Future<R> wrap_future(std::shared_future<R> fut) {
  return detail::wrap_future_on<R>(get_event_loop(), std::move(fut));
}

/// asyncio.run_coroutine_threadsafe: schedules `task` on `loop` (running in another thread)
/// and returns a std::future of its outcome. Callable from any thread; the loop must not
/// be closed meanwhile. If the loop closes before the task ran, the future reports
/// std::future_error (broken promise); a task cancelled there gives CancelledError.
template <class T>
std::future<T> run_coroutine_threadsafe(Task<T> task, EventLoop& loop) {
  struct Shared {
    std::promise<T> promise;
    Task<T> task;
  };
  auto shared = std::make_shared<Shared>();
  shared->task = std::move(task);
  std::future<T> result = shared->promise.get_future();
  loop.call_soon_threadsafe([shared, &loop] {
    TaskHandle<T> handle;
    try {
      handle = loop.create_task(std::move(shared->task));
    } catch (...) {
      shared->promise.set_exception(std::current_exception());
      return;
    }
    handle.add_done_callback([shared](TaskHandle<T>& done) {
      try {
        if constexpr (std::is_void_v<T>) {
          done.result();
          shared->promise.set_value();
        } else {
          shared->promise.set_value(done.result());
        }
      } catch (...) {
        shared->promise.set_exception(std::current_exception());
      }
    });
  });
  return result;
}

}  // namespace aio
